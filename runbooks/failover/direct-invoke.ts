/**
 * The refusal of a direct invoke that would start or advance a run outside the state machine.
 */
import { groupForAlarm } from "../../core/failover.ts";
import type { FailoverConfig, FailoverGroup } from "../../schemas/config-failover.ts";
import type { AlarmStateChangeEvent, FailoverInnerEvent, ManualEvent } from "../../schemas/events-failover.ts";

/** Where the state machine that drives runs is, for the refusal of a direct invoke. */
export interface StateMachineRef {
  /** Its name in the stack (`stacks/failover.ts`). */
  name: string;
  /** The stack output holding its ARN. */
  output: string;
}

/**
 * Whether `event`, invoked on the Lambda directly rather than through the state machine, must be refused, and
 * why. Anything that can start or advance a run (`execute`, `advance`, an ALARM of a configured group) is
 * refused: one invocation has minutes at most, a promotion alone can take longer, and nothing would call
 * `advance` after it, leaving a promoted database without its DNS change and the latch on "running". Read-only
 * modes, `reset` and alarms that would be ignored anyway run directly.
 *
 * @example
 *   directInvokeRefusal(cfg, { mode: "execute", group: "orders-db", reason: "drill", force: false }, sm)
 *   // 'mode "execute" runs only through the failover state machine: … aws stepfunctions start-execution …'
 */
export function directInvokeRefusal(cfg: FailoverConfig, event: FailoverInnerEvent, sm: StateMachineRef): string | undefined {
  let what: string;
  let group: FailoverGroup | undefined;
  let sample: string;
  if (isAlarmEvent(event)) {
    group = groupForAlarm(cfg, event.detail.alarmName);
    if (!group || event.detail.state.value !== "ALARM") return undefined;
    what = `an ALARM of ${event.detail.alarmName}`;
    sample = "events/failover-alarm.json";
  } else {
    const manual = event as ManualEvent;
    if (manual.mode !== "execute" && manual.mode !== "advance") return undefined;
    group = cfg.groups.find((g) => g.name === manual.group);
    what = `mode "${manual.mode}"`;
    sample = manual.mode === "execute" ? "events/failover-execute.json" : "events/failover-advance.json";
  }
  const region = group?.replica.region;
  return (
    `${what} runs only through the failover state machine: a direct invoke could promote ${group?.replica.id ?? "the replica"} and reach the Lambda timeout before DNS is switched, with nothing left to finish the run. ` +
    `Start the state machine ${sm.name} (stack output ${sm.output}${region ? `, region ${region}` : ""}) with this same event as input: ` +
    `aws stepfunctions start-execution${region ? ` --region ${region}` : ""} --state-machine-arn <${sm.output}> --input file://${sample}`
  );
}

/** A CloudWatch alarm state-change event (not one of our manual modes). */
export function isAlarmEvent(e: FailoverInnerEvent): e is AlarmStateChangeEvent {
  return !("mode" in e) && "detail" in e;
}
