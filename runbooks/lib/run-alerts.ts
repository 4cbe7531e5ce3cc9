import type { Logger } from "@aws-lambda-powertools/logger";
import { withUndelivered, type AlertDecision, type AlertLifecycleResult, type AlertMessageKind } from "../../core/alert-lifecycle.ts";
import { decideRunAlert, startedWithoutState, type RunFailureDetail, type RunResult } from "../../core/run-alerts.ts";
import type { AlertStatePort, StoredAlertState } from "../../adapters/alert-state.ts";

/**
 * The failed-run lifecycle of one run, on the handler chain (runbooks/lib/handler.ts): decide against the function's
 * stored state (core/run-alerts.ts), store the new state with a conditional write, and hand back the message due,
 * which the chain sends once the run report is saved (so the message can link it). A run that loses the write to an
 * overlapping one (a Lambda retry, the next schedule) re-reads and decides again, so only one of them sends a
 * `started`. The state never stops an alert: when it cannot be read or stored, a failed run's alert goes out as
 * `started` and the reason is logged; a run without failures then sends nothing and the next one resolves.
 */

/** Decide-and-store attempts when other runs keep changing the state first (as the watchdog's). */
const MAX_ATTEMPTS = 3;

/** The lifecycle's answer for one run, as the run report shows it. */
export interface RunAlertEntry {
  key: string;
  kind: AlertMessageKind | "hold" | "none";
  reason: string;
  /** Why the stored state was not used (the message then goes out as `started`). */
  stateUnavailable?: string;
}

export interface RunAlertPlan {
  entry: RunAlertEntry;
  /** The message due, if any. */
  decision?: AlertDecision<RunFailureDetail> & { kind: AlertMessageKind };
  /**
   * Give the message back after it could not be sent: the incident returns to what it was before this run, so the
   * next run sends it again. Absent when nothing was stored.
   */
  giveBack?: () => Promise<void>;
}

/** Decide this run's message and store the state; never throws. */
export async function planRunAlert(input: {
  functionName: string;
  run: RunResult;
  remindEveryMs: number;
  /** Opens the function's state document; may throw (bucket not linked). */
  store: () => AlertStatePort<RunFailureDetail>;
  logger: Logger;
}): Promise<RunAlertPlan> {
  const { functionName, run, remindEveryMs, logger } = input;
  let store: AlertStatePort<RunFailureDetail>;
  let before: StoredAlertState<RunFailureDetail> | undefined;
  let decided: AlertLifecycleResult<RunFailureDetail> | undefined;
  let unavailable: string | undefined;
  try {
    store = input.store();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !decided; attempt++) {
      const stored = await store.load();
      const next = decideRunAlert({ state: stored.state, functionName, run, remindEveryMs });
      // A run with nothing open and nothing failing writes nothing: the common case costs one read.
      if (JSON.stringify(next.state) === JSON.stringify(stored.state) || (await store.save(next.state, stored))) {
        before = stored;
        decided = next;
      } else {
        logger.info("run alert state changed by another run: reading it again", { attempt });
      }
    }
    if (!decided) unavailable = `the state changed under ${MAX_ATTEMPTS} attempts in a row`;
  } catch (err) {
    unavailable = `state not read or stored: ${(err as Error).message}`;
  }

  if (!decided || !before) {
    const why = unavailable ?? "no state";
    if (!run.failure) {
      logger.error("run alert state unavailable: a run without failures resolves nothing this time", { reason: why });
      return {
        entry: { key: `run-failed:${functionName}`, kind: "none", reason: "no failure; the next run resolves an open incident", stateUnavailable: why },
      };
    }
    logger.error("run alert state unavailable: the failure is alerted as new", { reason: why });
    const decision = startedWithoutState(functionName, { ...run, failure: run.failure }, why);
    return { entry: { key: decision.key, kind: decision.kind, reason: decision.reason, stateUnavailable: why }, decision };
  }

  const [d] = decided.decisions;
  if (!d) return { entry: { key: `run-failed:${functionName}`, kind: "none", reason: "no failure and no open incident" } };
  logger.info("run alert decision", { key: d.key, kind: d.kind, reason: d.reason });
  if (d.kind === "hold") return { entry: { key: d.key, kind: d.kind, reason: d.reason } };
  const previous = before;
  const openedStore = store!;
  return {
    entry: { key: d.key, kind: d.kind, reason: d.reason },
    decision: { ...d, kind: d.kind },
    giveBack: async () => {
      let restored: StoredAlertState<RunFailureDetail> | false = false;
      try {
        const current = await openedStore.load();
        restored = await openedStore.save(withUndelivered(current.state, previous.state, [d.key]), current);
      } catch (err) {
        logger.error("run alert state not read or written", { error: (err as Error).message });
      }
      if (!restored) logger.error("undelivered run alert not given back: the next run will not resend it", { key: d.key });
    },
  };
}
