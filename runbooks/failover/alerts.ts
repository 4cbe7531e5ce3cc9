/**
 * The failover groups' incidents on the alert lifecycle: one incident per group (`failover:<group>`), its state one
 * JSON document next to the group's latch in the failover state bucket, replaced only with conditional writes.
 *
 * When reminders can happen: the failover function has no schedule. It runs on an alarm transition (through the state
 * machine), on each Advance of a run, and on a human's invoke. A failed run reminds when such an invocation finds the latch
 * holding it (an alarm going to ALARM again, a human's execute) and the last message is `alerts.remindEveryHours` old;
 * with no invocation there is no reminder. The failed latch stays visible meanwhile: `status`, the dashboard's failed
 * executions and the state machine's ExecutionsFailed alarm.
 *
 * The state never stands between a failover and its messages: a state that cannot be read or written is logged and
 * the message goes out as if no incident were open (a start or a failure then pages again rather than not at all).
 */
import { decideFailoverAlert, failoverIncidentKey, type FailoverAlertDecision, type FailoverAlertEvent } from "../../core/failover.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { Severity } from "../../core/notify-routing.ts";
import type { FailoverDeps } from "./ports.ts";
import { errorText } from "./steps/shared.ts";

/** Conditional writes lost in a row before the decision is taken from the last read and not stored. */
const STATE_ATTEMPTS = 3;

/**
 * Decide the group's incident step for `event` and store it. Returns the decision (its `severity` is what the message
 * goes out with; undefined: hold, nothing sent).
 */
export async function incidentStep(deps: FailoverDeps, group: string, event: FailoverAlertEvent): Promise<FailoverAlertDecision> {
  const log = deps.log ?? (() => {});
  const key = failoverIncidentKey(group);
  const alerts = deps.alerts;
  if (!alerts) return decideFailoverAlert(undefined, event, deps.clock.now(), 6 * 3_600_000);
  const port = alerts.state(group);
  let decision: FailoverAlertDecision | undefined;
  try {
    for (let attempt = 1; attempt <= STATE_ATTEMPTS; attempt++) {
      const stored = await port.load();
      const open = stored.state.incidents[key];
      decision = decideFailoverAlert(open, event, deps.clock.now(), alerts.remindEveryMs);
      if (decision.kind === "hold" && decision.next === open) break;
      const incidents = { ...stored.state.incidents };
      if (decision.next) incidents[key] = decision.next;
      else delete incidents[key];
      if (!decision.next && !open) break;
      if (await port.save({ incidents }, stored)) break;
      log("failover alert state changed under us: deciding again", { group, attempt });
      if (attempt === STATE_ATTEMPTS)
        log("failover alert state not stored after lost races: the message goes out all the same", { group, kind: decision.kind });
    }
  } catch (err) {
    // Unwritable: send what was decided from the state read. Unreadable: decide as if nothing were open, so a
    // critical still pages.
    decision ??= decideFailoverAlert(undefined, event, deps.clock.now(), alerts.remindEveryMs);
    log("failover alert state unavailable: message decided without storing it", { group, error: errorText(err), kind: decision.kind });
  }
  log("failover alert decision", { group, key, kind: decision!.kind, severity: decision!.severity ?? "none", reason: decision!.reason });
  return decision!;
}

/** Send, never throw (NotifyPort's contract, enforced here too: a notifier that throws must not stop a failover). */
export async function send(deps: FailoverDeps, message: SlackMessage, severity: Severity | undefined): Promise<void> {
  if (!severity) return;
  try {
    await deps.notify.notify(message, severity);
  } catch (err) {
    (deps.log ?? (() => {}))("failover message not delivered", { error: errorText(err), text: message.text.split("\n")[0] });
  }
}
