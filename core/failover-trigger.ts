/**
 * The failover trigger kit's arithmetic: how the probe's CloudWatch alarm is tuned, when it fires, and how long
 * a real outage of the primary takes to reach the runbook.
 *
 * The probe (runbooks/probe/) runs in the DR region every `periodSeconds`, probes the primary (app health URL
 * and/or the database endpoint's TCP port) with a timeout, and publishes one datapoint per group:
 * `PrimaryProbeFailed` = 1 (a target failed) or 0. The alarm (stacks/failover.ts) uses the same period,
 * statistic `Minimum` (a period breaches only when every probe in it failed), threshold 1, and goes to ALARM
 * when `failuresToAlarm` (M) of the last `evaluationPeriods` (N) periods breach.
 *
 * Missing data is `notBreaching`: a probe that does not run (its Lambda throttled, the DR region's scheduler
 * down, a deployment in progress) must not by itself start a promotion; it delays detection instead, and the
 * probe's own silence alarm (`...-failover-probe-silent`, to Slack only) says the trigger is blind. The runbook
 * observes the primary again in its pre-checks, so the alarm is a trigger, never the only evidence.
 * (CloudWatch: `notBreaching` treats missing datapoints as within the threshold,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html.)
 *
 * Pure: no clock, no I/O. Times are seconds on one axis chosen by the caller.
 */

/** How the probe and its alarm are tuned (the `trigger` section of a failover group, defaults applied). */
export interface TriggerTuning {
  /** Probe interval = alarm period, a multiple of 60 (EventBridge Scheduler's finest rate is one minute). */
  periodSeconds: number;
  /** M: breaching periods needed among the last N. */
  failuresToAlarm: number;
  /** N: the alarm's evaluation window in periods. */
  evaluationPeriods: number;
  /** Probe timeout: a probe that has not answered by then counts as failed and is published then. */
  timeoutMs: number;
}

/**
 * CloudWatch evaluates a standard-resolution alarm once a minute, on the datapoints that have arrived by then.
 * A PutMetricData datapoint is readable within seconds; one evaluation interval bounds both.
 */
export const ALARM_EVALUATION_SECONDS = 60;

/** Time for a probe's datapoint to be published after the probe gave up or answered (PutMetricData round trip). */
export const PUBLISH_SECONDS = 2;

/** The alarm's name: ours (`<app>-<stage>-` routes it to Slack too) and unique per group. */
export function triggerAlarmName(prefix: string, group: string): string {
  return `${prefix}-failover-${group}-primary-down`;
}

/** The alarm on the probe's own silence (no invocation for a few minutes): to Slack, never to the runbook. */
export function probeSilentAlarmName(prefix: string): string {
  return `${prefix}-failover-probe-silent`;
}

/**
 * The CloudWatch namespace the probe publishes in: per app and stage, so the IAM condition
 * `cloudwatch:namespace` keeps one stage's probe from writing another stage's trigger metric.
 */
export function probeNamespace(prefix: string): string {
  return `${prefix}/failover-probe`;
}

export const PROBE_METRIC = "PrimaryProbeFailed";
export const PROBE_DIMENSION = "group";

/**
 * Worst and best case seconds from the start of a sustained outage of the primary to the alarm going to ALARM
 * (EventBridge then starts the runbook within seconds).
 *
 * Worst case: the outage starts just after a probe passed, so the first failing probe starts one period later;
 * M-1 more failing periods follow; the last probe gives up after its timeout T, publishes, and the next alarm
 * evaluation (at most a minute later) sees M breaching periods:
 *   worst = P + (M-1)·P + T + publish + 60 s = M·P + T + publish + 60 s
 * Best case: the outage starts just before a probe: (M-1)·P + T + publish.
 * Both hold for N ≥ M + 1 only: at an evaluation that falls in a new period before that period's probe has
 * published, the new period is still empty (not breaching); with N = M such an evaluation can never count M
 * (test/unit/core/failover-trigger.test.ts finds phases where an outage is never seen), so the schema refuses it.
 * A datapoint is stamped when it is published (PutMetricData without a Timestamp), so a probe that starts in
 * one period and gives up in the next counts for the period an evaluation can already see.
 *
 * @example
 * detectionDelay({ periodSeconds: 60, failuresToAlarm: 3, evaluationPeriods: 4, timeoutMs: 5000 })
 * // -> { worstSeconds: 247, bestSeconds: 127 }
 */
export function detectionDelay(t: TriggerTuning): { worstSeconds: number; bestSeconds: number } {
  const P = t.periodSeconds;
  const M = t.failuresToAlarm;
  const T = t.timeoutMs / 1000;
  return {
    worstSeconds: M * P + T + PUBLISH_SECONDS + ALARM_EVALUATION_SECONDS,
    bestSeconds: (M - 1) * P + T + PUBLISH_SECONDS,
  };
}

/**
 * The CloudWatch alarm a tuning deploys (PutMetricAlarm's fields): the probe's period, M of N, a period breaching
 * only when every probe in it failed (`Minimum` ≥ 1), missing data not breaching.
 *
 * @example
 * probeAlarm({ periodSeconds: 60, failuresToAlarm: 3, evaluationPeriods: 4, timeoutMs: 5000 })
 * // -> { period: 60, evaluationPeriods: 4, datapointsToAlarm: 3, statistic: "Minimum", threshold: 1, ... }
 */
export function probeAlarm(t: TriggerTuning) {
  return {
    period: t.periodSeconds,
    evaluationPeriods: t.evaluationPeriods,
    datapointsToAlarm: t.failuresToAlarm,
    statistic: "Minimum",
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  } as const;
}

/** The probe's EventBridge Scheduler expression: one run per period. */
export function probeSchedule(periodSeconds: number): string {
  const minutes = periodSeconds / 60;
  return `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`;
}

/** One probe's outcome, as the alarm sees it: published (and stamped) at `publishedAt`. */
export interface ProbeDatapoint {
  startedAt: number;
  publishedAt: number;
  failed: boolean;
}

/**
 * The alarm's state at evaluation time `at` (seconds): ALARM when at least M of the last N periods (the one
 * holding `at` and the N-1 before it) have datapoints published by `at` whose Minimum is 1. A period with no
 * datapoint yet is missing, which the alarm treats as not breaching. A model of CloudWatch at its least
 * forgiving: the period in progress counts even before its probe has run.
 */
export function alarmStateAt(t: TriggerTuning, datapoints: readonly ProbeDatapoint[], at: number): "ALARM" | "OK" {
  const P = t.periodSeconds;
  const current = Math.floor(at / P);
  const first = current - t.evaluationPeriods + 1;
  const minimum = new Map<number, number>();
  for (const d of datapoints) {
    if (d.publishedAt > at) continue;
    const period = Math.floor(d.publishedAt / P);
    if (period < first || period > current) continue;
    const v = d.failed ? 1 : 0;
    minimum.set(period, Math.min(minimum.get(period) ?? v, v));
  }
  let breaching = 0;
  for (const v of minimum.values()) if (v >= 1) breaching++;
  return breaching >= t.failuresToAlarm ? "ALARM" : "OK";
}

/**
 * When the alarm first goes to ALARM, evaluated once a minute from `from` to `until` (seconds), or undefined.
 * With `firstEvaluation` the phase of the minute ticks (CloudWatch's are not aligned to the probe's).
 */
export function firstAlarm(
  t: TriggerTuning,
  datapoints: readonly ProbeDatapoint[],
  range: { from: number; until: number; firstEvaluation?: number },
): number | undefined {
  const start = range.firstEvaluation ?? range.from;
  for (let at = start; at <= range.until; at += ALARM_EVALUATION_SECONDS) {
    if (at < range.from) continue;
    if (alarmStateAt(t, datapoints, at) === "ALARM") return at;
  }
  return undefined;
}

/**
 * The datapoints a probe running every period at `phase` seconds into it produces from `from` to `until`, given
 * whether the primary is down at a moment and whether the probe ran at all (a skipped run publishes nothing).
 * A failing probe publishes after its timeout; a passing one at once.
 */
export function probeRun(
  t: TriggerTuning,
  opts: { from: number; until: number; phase: number; down: (at: number) => boolean; ran?: (at: number) => boolean },
): ProbeDatapoint[] {
  const P = t.periodSeconds;
  const out: ProbeDatapoint[] = [];
  for (let s = Math.floor(opts.from / P) * P + opts.phase; s <= opts.until; s += P) {
    if (s < opts.from) continue;
    if (opts.ran && !opts.ran(s)) continue;
    const failed = opts.down(s);
    out.push({ startedAt: s, failed, publishedAt: s + (failed ? t.timeoutMs / 1000 : 0) + PUBLISH_SECONDS });
  }
  return out;
}

/** Why a tuning cannot meet its promises, per field, or [] (schemas/config-failover.ts reports these by name). */
export function tuningProblems(t: TriggerTuning, maxDetectionSeconds: number): { field: keyof TriggerTuning | "maxDetectionSeconds"; message: string }[] {
  const out: { field: keyof TriggerTuning | "maxDetectionSeconds"; message: string }[] = [];
  if (t.failuresToAlarm < 2) out.push({ field: "failuresToAlarm", message: "at least 2: one failed probe is a blip, not an outage" });
  if (t.evaluationPeriods < t.failuresToAlarm + 1) {
    out.push({
      field: "evaluationPeriods",
      message: `at least failuresToAlarm + 1 (${t.failuresToAlarm + 1}): the period in progress has no datapoint yet at some evaluations, so with N = M an outage can go unseen`,
    });
  }
  if (t.timeoutMs / 1000 + PUBLISH_SECONDS >= t.periodSeconds) {
    out.push({ field: "timeoutMs", message: `a probe must give up and publish within its period (${t.periodSeconds} s)` });
  }
  const { worstSeconds } = detectionDelay(t);
  if (out.length === 0 && worstSeconds > maxDetectionSeconds) {
    out.push({
      field: "maxDetectionSeconds",
      message:
        `this tuning detects an outage in up to ${worstSeconds} s (${t.failuresToAlarm} of ${t.evaluationPeriods} periods of ${t.periodSeconds} s, ` +
        `${t.timeoutMs} ms timeout), over the ${maxDetectionSeconds} s budget: lower failuresToAlarm or periodSeconds, or raise the budget`,
    });
  }
  return out;
}
