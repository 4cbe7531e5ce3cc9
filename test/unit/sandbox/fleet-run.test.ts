import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runFleetSummary } from "../../../runbooks/fleet/summary.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { lambdaServiceError, lambdaTaskError, runFleetDefinition, type FleetInvoke } from "../../../sandbox/scenarios/fleet-run.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { parseFleetSummaryEvent, type FleetSummaryEvent } from "../../../schemas/events-fleet.ts";
import { type FleetItem, fleetFanoutDefinition, MAX_CAUSE_CHARS } from "../../../stacks/fleet-fanout-definition.ts";

/**
 * The fleet fan-out's definition (stacks/fleet-fanout-definition.ts) run by the sandbox's runner
 * (sandbox/scenarios/fleet-run.ts): its Map's items, MaxConcurrency, the child's Retry and Catch, its JSONata Output
 * expressions and the Summary task, with the real summary function behind the summary's ARN.
 */

const CENTRAL = "999988887777";
const JOB_FN = `arn:aws:lambda:eu-west-1:${CENTRAL}:function:ops-autopilot-test-backup`;
const SUMMARY_FN = `arn:aws:lambda:eu-west-1:${CENTRAL}:function:ops-autopilot-test-fleet-summary`;
const EXECUTION = `arn:aws:states:eu-west-1:${CENTRAL}:execution:ops-autopilot-test-fleet-backup:nightly`;

const item = (account: string, accountName: string, region: string): FleetItem => ({
  account,
  accountName,
  region,
  roleArn: `arn:aws:iam::${account}:role/ops-autopilot-test-member-backup`,
});
const PAYMENTS_WEST = item("111122223333", "payments", "eu-west-1");
const PAYMENTS_CENTRAL = item("111122223333", "payments", "eu-central-1");
const SEARCH_WEST = item("444455556666", "search", "eu-west-1");
const ITEMS = [PAYMENTS_WEST, PAYMENTS_CENTRAL, SEARCH_WEST];

const definition = (maxConcurrency?: number) =>
  fleetFanoutDefinition({ job: "backup", jobFunctionArn: JOB_FN, summaryFunctionArn: SUMMARY_FN, items: ITEMS, ...(maxConcurrency ? { maxConcurrency } : {}) });

const ref = ({ account, accountName, region }: FleetItem) => ({ account, accountName, region });
const reportKey = (t: FleetItem) => `reports/backup/2026-11-30/2026-11-30T02-00-00-000Z-${t.account}-${t.region}.json`;
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real summary function on the handler chain, its report and messages kept. */
function summaryFunction() {
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });
  const saved: Record<string, unknown>[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => new Date("2026-11-30T02:10:00Z"),
    saveReport: async (_key, report) => void saved.push(report as Record<string, unknown>),
    postSlack: async () => {},
    publish: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ serviceName: "fleet-run-test", logLevel: "SILENT" }),
  };
  const handler = createHandler({ name: "fleet-summary", parse: parseFleetSummaryEvent, run: runFleetSummary }, runtime);
  return {
    handler: (event: unknown) =>
      handler(
        event,
        lambdaContext("summary-1", () => 60_000),
      ),
    saved,
  };
}

/**
 * The functions behind the ARNs: the job answers each target after `delayMs` (as the job's handler does: counts and
 * its report's key) unless `fail` says otherwise, and the in-flight invocations of the job are counted here, apart
 * from the runner.
 */
function functions(fail: (target: FleetItem, attempt: number) => Error | undefined, delayMs = 5) {
  const summary = summaryFunction();
  const summaryEvents: unknown[] = [];
  const attemptsOf = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const invoke: FleetInvoke = async (name, payload) => {
    if (name === SUMMARY_FN) {
      summaryEvents.push(payload);
      return summary.handler(payload);
    }
    expect(name).toBe(JOB_FN);
    const { source, target } = payload as { source: string; target: FleetItem };
    expect(source).toBe("fleet");
    const key = `${target.account}/${target.region}`;
    const attempt = (attemptsOf.get(key) ?? 0) + 1;
    attemptsOf.set(key, attempt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await tick(delayMs);
      const error = fail(target, attempt);
      if (error) throw error;
      return { trigger: "fleet", counts: { created: target.region === "eu-west-1" ? 2 : 1 }, reportKey: reportKey(target) };
    } finally {
      inFlight--;
    }
  };
  return { invoke, summary, summaryEvents, attemptsOf, maxInFlight: () => maxInFlight };
}

describe("fleet fan-out definition on the sandbox runner", () => {
  it("shapes a failed item exactly as the definition's Catch does, runs the others, and hands every result to the summary", async () => {
    const jobError = new AggregateRunError("backup", [{ item: "orders-db", region: "eu-west-1", kind: "fatal", message: "AccessDenied: sts:AssumeRole" }]);
    const fns = functions((t) => (t.account === SEARCH_WEST.account ? jobError : undefined));
    const run = await runFleetDefinition({ definition: definition(), invoke: fns.invoke, executionArn: EXECUTION });

    // The runtime's JSON error (errorType, errorMessage, trace), cut to MAX_CAUSE_CHARS by the Catch's $substring.
    const cause = JSON.stringify({ errorType: "AggregateRunError", errorMessage: jobError.message, trace: jobError.stack!.split("\n") });
    expect(cause.length).toBeGreaterThan(MAX_CAUSE_CHARS);
    expect(run.itemResults).toEqual([
      { ...ref(PAYMENTS_WEST), ok: true, counts: { created: 2 }, reportKey: reportKey(PAYMENTS_WEST) },
      { ...ref(PAYMENTS_CENTRAL), ok: true, counts: { created: 1 }, reportKey: reportKey(PAYMENTS_CENTRAL) },
      { ...ref(SEARCH_WEST), ok: false, error: "AggregateRunError", cause: cause.slice(0, MAX_CAUSE_CHARS) },
    ]);
    expect(run.mapRun).toEqual({ items: 3, failed: 0, maxInFlight: 3 });

    // One summary event, parsed by the summary's own schema: the job, the execution, every target and result.
    expect(fns.summaryEvents).toHaveLength(1);
    const event: FleetSummaryEvent = parseFleetSummaryEvent(fns.summaryEvents[0]);
    expect(event).toEqual({ source: "fleet-summary", job: "backup", execution: EXECUTION, targets: ITEMS.map(ref), results: run.itemResults });

    // The summary saves one report naming the failed account, then fails the execution once (its Retry is for Lambda's
    // own errors only), which the ExecutionsFailed alarm sees.
    expect(fns.summary.saved).toHaveLength(1);
    expect(fns.summary.saved[0]!.failures).toEqual([
      { item: "search (444455556666)", region: "eu-west-1", kind: "fatal", message: `AggregateRunError: ${jobError.message}` },
    ]);
    expect(run.status).toBe("FAILED");
    expect(run.error!.Error).toBe("AggregateRunError");
    expect(run.attempts.filter((a) => a.state === "Summary").map((a) => [a.functionName, a.attempt, a.error])).toEqual([[SUMMARY_FN, 1, "AggregateRunError"]]);
  });

  it("succeeds with the summary's answer when every item ran", async () => {
    const fns = functions(() => undefined);
    const run = await runFleetDefinition({ definition: definition(), invoke: fns.invoke, executionArn: EXECUTION });
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatchObject({ job: "backup", ok: true, totals: { created: 5, accounts: 2, failedAccounts: 0, items: 3, failedItems: 0 } });
    expect((run.output as { reportKey: string }).reportKey).toMatch(/^reports\/fleet-summary\/2026-11-30\//);
  });

  it("keeps at most MaxConcurrency items in flight", async () => {
    const two = functions(() => undefined, 20);
    const run = await runFleetDefinition({ definition: definition(2), invoke: two.invoke, executionArn: EXECUTION });
    expect(definition(2).States.FanOut.MaxConcurrency).toBe(2);
    expect(two.maxInFlight()).toBe(2);
    expect(run.mapRun.maxInFlight).toBe(2);

    const one = functions(() => undefined, 5);
    await runFleetDefinition({ definition: definition(1), invoke: one.invoke, executionArn: EXECUTION });
    expect(one.maxInFlight()).toBe(1);
  });

  it("retries a Lambda.TooManyRequestsException per the Retry (2 s, backoff 2, FULL jitter), then runs the item", async () => {
    const fns = functions((t, attempt) =>
      t.region === "eu-central-1" && attempt <= 2 ? lambdaServiceError("TooManyRequestsException", "Rate exceeded") : undefined,
    );
    const waits: number[] = [];
    const run = await runFleetDefinition({
      definition: definition(),
      invoke: fns.invoke,
      executionArn: EXECUTION,
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
    });
    expect(fns.attemptsOf.get("111122223333/eu-central-1")).toBe(3);
    // IntervalSeconds 2 × BackoffRate 2^n, FULL jitter drawn at 0.5.
    expect(waits).toEqual([1000, 2000]);
    expect(run.attempts.filter((a) => a.state === "Run" && a.error).map((a) => [a.attempt, a.error])).toEqual([
      [1, "Lambda.TooManyRequestsException"],
      [2, "Lambda.TooManyRequestsException"],
    ]);
    expect(run.itemResults[1]).toEqual({ ...ref(PAYMENTS_CENTRAL), ok: true, counts: { created: 1 }, reportKey: reportKey(PAYMENTS_CENTRAL) });
    expect(run.status).toBe("SUCCEEDED");
  });

  it("after MaxAttempts retries the throttled item is caught as Lambda's error, and only that item", async () => {
    const fns = functions((t) => (t.region === "eu-central-1" ? lambdaServiceError("TooManyRequestsException", "Rate exceeded") : undefined));
    const waits: number[] = [];
    const run = await runFleetDefinition({ definition: definition(), invoke: fns.invoke, sleep: async (ms) => void waits.push(ms), random: () => 1 });
    // 1 try + MaxAttempts 6 retries; waits 2, 4, 8, 16, 32, 64 s at the jitter's top.
    expect(fns.attemptsOf.get("111122223333/eu-central-1")).toBe(7);
    expect(waits).toEqual([2000, 4000, 8000, 16000, 32000, 64000]);
    expect(run.itemResults[1]).toEqual({ ...ref(PAYMENTS_CENTRAL), ok: false, error: "Lambda.TooManyRequestsException", cause: "Rate exceeded" });
    expect(run.itemResults.filter((r) => (r as { ok: boolean }).ok)).toHaveLength(2);
  });

  it("fails the Map past ToleratedFailurePercentage (a definition without the Catch and with no tolerance)", async () => {
    const strict = definition();
    strict.States.FanOut.ToleratedFailurePercentage = 0;
    const { Catch: _none, ...run } = strict.States.FanOut.ItemProcessor.States.Run;
    (strict.States.FanOut.ItemProcessor.States as Record<string, unknown>).Run = run;
    const fns = functions((t) => (t.account === SEARCH_WEST.account ? new Error("boom") : undefined));
    const result = await runFleetDefinition({ definition: strict, invoke: fns.invoke });
    expect(result.status).toBe("FAILED");
    expect(result.error).toEqual({ Error: "States.ExceedToleratedFailureThreshold", Cause: "1 of 3 items failed, above the tolerated 0%" });
    expect(result.mapRun.failed).toBe(1);
    expect(fns.summaryEvents).toEqual([]);
  });

  it("names errors as the Lambda integration does: the function's errorType with its JSON error, or Lambda's own", () => {
    const e = Object.assign(new Error("no such role"), { name: "AccessDenied" });
    expect(lambdaTaskError(e)).toEqual({
      Error: "AccessDenied",
      Cause: JSON.stringify({ errorType: "AccessDenied", errorMessage: "no such role", trace: e.stack!.split("\n") }),
    });
    expect(lambdaTaskError(lambdaServiceError("ServiceException", "internal"))).toEqual({ Error: "Lambda.ServiceException", Cause: "internal" });
  });
});
