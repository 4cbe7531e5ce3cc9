/**
 * Observe mode: whether a stage only plans and reports what scheduled prune and alarm-triggered failover would
 * do, and until when.
 *
 * Pure: the setting, the recorded start of the stage and `now` come in; the answer goes out with its reason.
 * Days are local calendar days of the given timezone, so a nightly prune observes exactly `days` runs whatever
 * the hour its first run recorded the start at (24-hour arithmetic would give a 15th observed night to a run
 * that fires a few seconds earlier than the first one did).
 */
import { addDays, localDay } from "./calendar.ts";

/** The config's `observe` (schemas/config-observe.ts): off, N local days from the stage's first run, or through a day. */
export type ObserveSetting = false | { days: number } | { until: string };

export interface ObserveState {
  observing: boolean;
  /** The last local day of the window (inclusive), when there is a window. */
  until?: string;
  timeZone: string;
  reason: string;
  /**
   * The window counts from the stage's recorded first run and none is recorded yet: this run is the first, and
   * the caller records `now` (a dry-run or a read-only plan records nothing and is answered as if it had).
   */
  recordStart: boolean;
}

/**
 * What observe mode says at `now`.
 *
 * - `false` or `{ days: 0 }`: off.
 * - `{ days: N }`: on for the local days [first run's day, first run's day + N - 1]; `start` undefined means no run
 *   recorded the start yet, so `now` is the first run.
 * - `{ until: "yyyy-mm-dd" }`: on through the end of that local day; no start is needed.
 *
 * @example
 *   observeState({ setting: { days: 14 }, start: new Date("2026-11-30T04:30:00Z"), now: new Date("2026-12-13T23:59:00Z"), timeZone: "UTC" })
 *   // { observing: true, until: "2026-12-13", timeZone: "UTC", recordStart: false,
 *   //   reason: "observe mode until the end of 2026-12-13 (UTC): 14 days from the stage's first run on 2026-11-30" }
 */
export function observeState(input: { setting: ObserveSetting; start: Date | undefined; now: Date; timeZone: string }): ObserveState {
  const { setting, now, timeZone } = input;
  const today = localDay(now, timeZone);
  if (setting === false) return { observing: false, timeZone, recordStart: false, reason: "observe mode is off (observe: false)" };
  if ("until" in setting) {
    const observing = today <= setting.until;
    return {
      observing,
      until: setting.until,
      timeZone,
      recordStart: false,
      reason: observing
        ? `${observeLabel(setting.until, timeZone)}, as configured (observe.until)`
        : `observe mode ended with ${setting.until} (${timeZone}), as configured (observe.until)`,
    };
  }
  if (setting.days <= 0) return { observing: false, timeZone, recordStart: false, reason: "observe mode is off (observe.days: 0)" };
  const first = input.start ? localDay(input.start, timeZone) : today;
  const until = addDays(first, setting.days - 1);
  const from = input.start ? `the stage's first run on ${first}` : "the stage's first run, none recorded yet (counted from today)";
  const observing = today <= until;
  return {
    observing,
    until,
    timeZone,
    recordStart: input.start === undefined,
    reason: observing
      ? `${observeLabel(until, timeZone)}: ${setting.days} day${setting.days === 1 ? "" : "s"} from ${from}`
      : `observe mode ended with ${until} (${timeZone}): ${setting.days} day${setting.days === 1 ? "" : "s"} from ${from}`,
  };
}

/** "observe mode until the end of 2026-12-13 (Europe/Paris)": the headline of every observed report. */
export function observeLabel(until: string, timeZone: string): string {
  return `observe mode until the end of ${until} (${timeZone})`;
}

/** The marker a stage's first run records (adapters/observe-marker.ts keeps it next to the runbook's state). */
/** Where each runbook's window start is kept: prune's in the reports bucket, failover's in its DR-region state bucket. */
export const PRUNE_OBSERVE_KEY = "state/observe.json";
export const FAILOVER_OBSERVE_KEY = "failover/observe.json";

export interface ObserveMarker {
  version: 1;
  /** The first run's instant: the window's first local day is this instant's day. */
  startedAt: string;
  /** Which function recorded it, and in which run (for people reading the bucket). */
  by: string;
  runId: string;
}

export function observeMarker(now: Date, by: string, runId: string): ObserveMarker {
  return { version: 1, startedAt: now.toISOString(), by, runId };
}
