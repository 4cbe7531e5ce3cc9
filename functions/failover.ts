import { createHandler, type RunContext, type Runtime } from "../runbooks/lib/handler.ts";
import { parseFailoverEvent, type ParsedFailoverEvent } from "../schemas/events-failover.ts";
import { directInvokeRefusal, dispatchFailoverEvent, type FailoverDeps, type StateMachineRef } from "../runbooks/failover/index.ts";
import { putJson } from "../adapters/s3.ts";
import { failoverStateBucket, realFailoverDeps } from "../runbooks/failover/deps.ts";

/** Keep this much of the invocation for writing the checkpoint, the report and returning to the state machine. */
const DEADLINE_MARGIN_MS = 20_000;

/** The state machine of stacks/failover.ts and the stack output with its ARN (stacks/main.ts). */
export const FAILOVER_STATE_MACHINE: StateMachineRef = { name: "FailoverStateMachine", output: "failoverStateMachine" };

/**
 * Failover runbook. Triggered by the FailoverRunbook state machine (alarm events, `execute`, `advance`) and
 * invoked directly for plan / status / failback-plan / reset. Samples: events/failover-*.json.
 * The runbook posts its own Slack messages (start, each step, end), so the chain's summary post is off.
 * Under the state machine a failed run is returned as `next: "failed"` (its Fail state alarms) rather than
 * thrown, so Task retries do not repeat the alert; direct invokes rethrow it.
 * A direct invoke that would start or advance a run (execute, advance, an ALARM) is refused with the command
 * that starts the state machine instead: one invocation cannot wait out a promotion, and nothing would resume it.
 */
export function makeFailoverHandler(options: { deps?: (ctx: RunContext) => FailoverDeps; runtime?: Runtime } = {}) {
  const run = async (parsed: ParsedFailoverEvent, ctx: RunContext) => {
    const refusal = parsed.viaStateMachine ? undefined : directInvokeRefusal(ctx.config.failover, parsed.event, FAILOVER_STATE_MACHINE);
    if (refusal) {
      const group = "group" in parsed.event ? parsed.event.group : undefined;
      return {
        report: { next: "failed", action: "refuse", reason: refusal, viaStateMachine: false, ...(group ? { group } : {}) },
        message: null,
        failures: [{ item: group ?? "failover", kind: "fatal" as const, message: refusal }],
      };
    }
    const deps = options.deps?.(ctx) ?? realFailoverDeps(ctx.config, ctx.logger, ctx.remainingMs);
    const left = ctx.remainingMs();
    const result = await dispatchFailoverEvent(deps, ctx.config.failover, parsed.event, {
      inlineWaits: !parsed.viaStateMachine,
      ...(parsed.execution ? { execution: parsed.execution } : {}),
      ...(Number.isFinite(left) ? { deadlineMs: ctx.now().getTime() + left - DEADLINE_MARGIN_MS } : {}),
    });
    const { message: _message, ...report } = result;
    const failed = result.next === "failed" && !parsed.viaStateMachine;
    return {
      report: { ...report, viaStateMachine: parsed.viaStateMachine },
      message: null,
      failures: failed ? [{ item: result.group ?? "failover", kind: "fatal" as const, message: result.reason }] : [],
      // OK / INSUFFICIENT_DATA and alarms of no group: one S3 object per flapping alarm would be noise.
      ...(result.action === "ignore" ? { nothingToReport: result.reason } : {}),
    };
  };
  const saveReport = async (key: string, report: unknown) => putJson(failoverStateBucket(), key, report).then(() => undefined);
  return createHandler({ name: "failover", parse: parseFailoverEvent, run, posts: false }, { saveReport, ...options.runtime });
}

export const handler = makeFailoverHandler();
