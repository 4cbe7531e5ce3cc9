/**
 * Failed runs as alert-lifecycle conditions (core/alert-lifecycle.ts): one incident per function, under the key
 * `run-failed:<function>`. It holds while the function's runs throw or finish with item failures and ends with the
 * first run that finishes without failures.
 *
 * Why per function: a function's runs share their code, schedule, role, configuration and the APIs they call, so a
 * failing function usually fails on every run for one cause (an IAM change, an API outage, a bad config value), and
 * the fix is one change to that function. One incident per failed item would page once per database for that one
 * cause (the run summary and the run report already list every item); one per error name or message would open a
 * new incident, and page again, each time the same outage surfaces with another error (throttling, then access
 * denied); one for all functions would hide a second broken function behind the first. What failed on the latest
 * run travels in the incident's detail, so reminders say what is failing now.
 */
import { decideAlerts, type AlertDecision, type AlertLifecycleResult, type AlertLifecycleState, type Condition } from "./alert-lifecycle.ts";
import type { ItemFailure } from "./types.ts";

/** What a failed-run incident carries between runs (the latest failed run's). */
export interface RunFailureDetail {
  /** The latest failed run. */
  runId: string;
  /** When it finished (ISO time). */
  failedAt: string;
  /** True when the run threw (nothing after the failure ran); false when it finished with item failures. */
  threw: boolean;
  /** Short: the error's name, or `3 items failed`. Already redacted. */
  headline: string;
  /** The error, or the failed items, redacted and bounded. */
  message: string;
  /** Failed runs since the incident opened, this one included. */
  failedRuns: number;
}

/** What one run tells the lifecycle: its failure, or none. */
export interface RunResult {
  runId: string;
  /** When the run finished. */
  at: Date;
  failure?: { threw: boolean; headline: string; message: string };
}

/** Longest list of failed items kept in an incident's detail. */
export const FAILURE_TEXT_LIMIT = 500;

/** The key of a function's failed runs. */
export function runFailedKey(functionName: string): string {
  return `run-failed:${functionName}`;
}

/**
 * The headline and text of a run that finished with item failures, the first items first, bounded to
 * {@link FAILURE_TEXT_LIMIT} characters.
 *
 * @example
 *   describeItemFailures([{ item: "app-db", region: "eu-west-1", kind: "fatal", message: "AccessDenied" }])
 *   // { headline: "1 item failed", message: "app-db (eu-west-1): fatal: AccessDenied" }
 */
export function describeItemFailures(failures: readonly ItemFailure[]): { headline: string; message: string } {
  const headline = `${failures.length} ${failures.length === 1 ? "item" : "items"} failed`;
  const all = failures.map((f) => `${f.item}${f.region ? ` (${f.region})` : ""}: ${f.kind}: ${f.message}`).join("; ");
  return { headline, message: all.length <= FAILURE_TEXT_LIMIT ? all : `${all.slice(0, FAILURE_TEXT_LIMIT - 1)}…` };
}

/** This run's condition: none for a run without failures, else the failure with the count carried over from the open incident. */
export function runConditions(state: AlertLifecycleState<RunFailureDetail>, functionName: string, run: RunResult): Condition<RunFailureDetail>[] {
  if (!run.failure) return [];
  const key = runFailedKey(functionName);
  const before = state.incidents[key]?.detail.failedRuns ?? 0;
  return [{ key, detail: { runId: run.runId, failedAt: run.at.toISOString(), ...run.failure, failedRuns: before + 1 } }];
}

/**
 * The lifecycle decision for one run of `functionName` against its stored state: `started` for the first failed run,
 * `reminder` for a failed run at least `remindEveryMs` after the last message, `hold` for the failed runs in between
 * (and Lambda's retries of a failed run), `resolved` for the first run without failures. Other keys in the document
 * are ignored (one document per function).
 *
 * @example
 *   decideRunAlert({ state: emptyAlertState(), functionName: "backup", run: { runId: "r1", at, failure }, remindEveryMs: 6 * HOUR_MS })
 *   // → decisions [{ kind: "started", key: "run-failed:backup", ... }]
 */
export function decideRunAlert(input: {
  state: AlertLifecycleState<RunFailureDetail>;
  functionName: string;
  run: RunResult;
  remindEveryMs: number;
}): AlertLifecycleResult<RunFailureDetail> {
  const key = runFailedKey(input.functionName);
  const open = input.state.incidents[key];
  const own: AlertLifecycleState<RunFailureDetail> = { incidents: open ? { [key]: open } : {} };
  return decideAlerts({ state: own, conditions: runConditions(own, input.functionName, input.run), now: input.run.at, remindEveryMs: input.remindEveryMs });
}

/**
 * The decision sent when the state cannot be read or stored: the failure as a new incident (`started`), so a broken
 * state document can never stop an alert; at worst an open incident pages again.
 */
export function startedWithoutState(
  functionName: string,
  run: RunResult & { failure: NonNullable<RunResult["failure"]> },
  why: string,
): AlertDecision<RunFailureDetail> & { kind: "started" } {
  const at = run.at.toISOString();
  const [condition] = runConditions({ incidents: {} }, functionName, run) as [Condition<RunFailureDetail>];
  return {
    kind: "started",
    key: condition.key,
    incident: { openedAt: at, lastNotifiedAt: at, reminders: 0, detail: condition.detail },
    reason: `${condition.key} holds; the alert state is unavailable (${why}), so it is sent as new`,
  };
}
