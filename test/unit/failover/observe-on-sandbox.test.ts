import { afterEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { FAILOVER_OBSERVE_KEY } from "../../../adapters/observe-marker.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
import { failoverObserve } from "../../../runbooks/failover/deps.ts";
import type { FailoverDeps } from "../../../runbooks/failover/index.ts";
import type { FakeClock, Sandbox } from "../../../sandbox/index.ts";
import { depsFor, driveStateMachine, failoverSandbox, scenarioConfig, scenarioStageConfig } from "../../../sandbox/scenarios/failover-scenarios.ts";
import type { ConfigInput } from "../../../schemas/config.ts";
import type { FailoverConfig } from "../../../schemas/config-failover.ts";

/**
 * Observe mode on the sandbox (the failover role's IAM enforced): a real primary-region outage raises the alarm of an
 * `automatic` group; while the stage is observed the runbook plans only, takes no latch, sends no promotion and no
 * DNS change, and Slack names what it would have done. A human's execute is not held back, and a `plan-only` group
 * answers as it always does.
 */

const DR = "eu-central-1";
const STATE = { bucket: "failover-state", region: DR };
const MUTATING = ["PromoteReadReplica", "SwitchoverGlobalCluster", "FailoverGlobalCluster", "ChangeResourceRecordSets"];

let world: { sb: Sandbox; clock: FakeClock } | undefined;
afterEach(() => {
  world?.sb.restore();
  resetClients();
  world = undefined;
});

/** The S3 console link of a report in the scenario's state bucket. */
const reportUrl = (id: string) => `https://s3.console.aws.amazon.com/s3/object/failover-state?region=eu-central-1&prefix=failover/orders-db/runs/${id}.json`;

function setUp(observe?: ConfigInput["observe"]) {
  world = failoverSandbox();
  const { sb, clock } = world;
  const texts: string[] = [];
  const posted: SlackMessage[] = [];
  const base = depsFor(sb, clock, {}, texts);
  const stage = { ...scenarioStageConfig(), ...(observe === undefined ? {} : { observe }) } as ReturnType<typeof scenarioStageConfig>;
  const deps: FailoverDeps = {
    ...base,
    notify: { notify: async (m) => void posted.push(m) },
    observe: failoverObserve(stage, STATE, base.clock),
  };
  return { sb, clock, deps, posted };
}

/** The primary region goes dark and the canary alarm goes to ALARM three minutes later (as in the outage scenario). */
function outage(sb: Sandbox, clock: FakeClock) {
  clock.advance(60_000);
  sb.inject({
    service: "rds",
    region: "eu-west-1",
    error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
    times: Infinity,
  });
  clock.advance(3 * 60_000);
  const event = sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "ALARM", "Threshold Crossed")!;
  clock.advance(20_000);
  return event;
}

const mutating = (sb: Sandbox) => sb.calls.filter((c) => MUTATING.includes(c.command)).map((c) => c.command);

const WOULD_HAVE =
  "1. PromoteReadReplica orders-dr in eu-central-1; 2. wait until orders-dr is available and no longer a replica (writable); 3. Route 53 UPSERT db.example.com CNAME in Z0123456789ABC: " +
  "orders-primary.abc.eu-west-1.rds.amazonaws.com → orders-dr.abc.eu-central-1.rds.amazonaws.com; 4. wait for the change to be INSYNC; " +
  '5. warm caches: target set "orders-dr"; 6. verify https://dr.example.com/health answers 2xx within 2000 ms, 3 times';

describe("failover in observe mode", () => {
  it("a new stage's first ALARM of an automatic group plans only: no PromoteReadReplica, no ChangeResourceRecordSets, no latch; Slack names the would-be actions", async () => {
    const { sb, clock, deps, posted } = setUp();
    const r = await driveStateMachine(deps, scenarioConfig(), clock, outage(sb, clock));

    expect(mutating(sb)).toEqual([]);
    expect(sb.iam?.denials ?? []).toEqual([]);
    expect(r.action).toBe("observe");
    expect(r.next).toBe("ignored");
    expect(await deps.latch.read("orders-db")).toBeUndefined();
    expect(r.reason).toBe(
      "observe mode until the end of 2025-03-17 (UTC): 14 days from the stage's first run on 2025-03-04; " +
        "group orders-db is automatic: pre-checks passed, it would have failed over now, planned only",
    );
    expect(posted.map((m) => m.text)).toEqual([
      `Failover orders-db — observe mode until the end of 2025-03-17 (UTC): would have failed over: ${WOULD_HAVE}; nothing was changed\n` +
        `Direct invocation: no Step Functions execution · <${reportUrl("observed-orders-db-20250304T100400Z")}|run report>`,
    ]);
    expect(sb.s3.json(STATE.bucket, FAILOVER_OBSERVE_KEY)).toMatchObject({ version: 1, startedAt: "2025-03-04T10:04:20.000Z", by: "failover" });
    // The marker and the observed run's report; no latch.
    expect(
      sb.s3
        .objects(STATE.bucket)
        .map((o) => o.key)
        .sort(),
    ).toEqual([FAILOVER_OBSERVE_KEY, "failover/orders-db/alerts.json", "failover/orders-db/runs/observed-orders-db-20250304T100400Z.json"]);
  });

  it("once the window has passed, the same outage fails over (PromoteReadReplica, then the DNS change)", async () => {
    const { sb, clock, deps } = setUp();
    // The stage's first run was 14 days ago: the window was 2025-02-18 … 2025-03-03.
    sb.s3.put(
      STATE.bucket,
      FAILOVER_OBSERVE_KEY,
      JSON.stringify({ version: 1, startedAt: "2025-02-18T09:00:00.000Z", by: "failover", runId: "first" }),
      "application/json",
    );
    const r = await driveStateMachine(deps, scenarioConfig(), clock, outage(sb, clock));
    expect(r.next).toBe("done");
    expect(mutating(sb)).toEqual(["PromoteReadReplica", "ChangeResourceRecordSets"]);
  });

  it('switched off ("observe": false) the first ALARM fails over and no marker is read or written', async () => {
    const { sb, clock, deps } = setUp(false);
    const r = await driveStateMachine(deps, scenarioConfig(), clock, outage(sb, clock));
    expect(r.next).toBe("done");
    expect(mutating(sb)).toEqual(["PromoteReadReplica", "ChangeResourceRecordSets"]);
    expect(sb.calls.filter((c) => (c.input as { Key?: string }).Key === FAILOVER_OBSERVE_KEY)).toEqual([]);
  });

  it("a plan-only group stays plan-only while observing (and after): the message is the plan-only one", async () => {
    const { sb, clock, deps, posted } = setUp();
    const cfg: FailoverConfig = { ...scenarioConfig(), groups: scenarioConfig().groups.map((g) => ({ ...g, execution: "plan-only" as const })) };
    const r = await driveStateMachine(deps, cfg, clock, outage(sb, clock));
    expect(r.action).toBe("plan-only");
    expect(mutating(sb)).toEqual([]);
    expect(posted.map((m) => m.text)).toEqual([
      "Failover plan for orders-db: group orders-db is plan-only: pre-checks passed, waiting for a manual execute\n" +
        "Direct invocation: no Step Functions execution · no run report written",
    ]);
    // The first ALARM still records the stage's start, so the window runs even before the group is made automatic.
    expect(sb.s3.json(STATE.bucket, FAILOVER_OBSERVE_KEY)).toMatchObject({ by: "failover" });
  });

  it("plan mode says an ALARM would only plan, and records no start (read only)", async () => {
    const { sb, deps, posted } = setUp();
    const r = await driveStateMachine(deps, scenarioConfig(), world!.clock, { mode: "plan", group: "orders-db" });
    expect(r.action).toBe("plan");
    expect(renderText(posted[0]!).split("\n").at(-1)).toBe(
      "Latch free. Dry-run: nothing was changed. An ALARM now would only plan: observe mode until the end of 2025-03-17 (UTC): 14 days from the stage's first run, none recorded yet (counted from today).",
    );
    expect(sb.calls.filter((c) => c.command === "PutObject")).toEqual([]);
  });

  it("a human's execute is not held back by observe mode", async () => {
    const { sb, clock, deps } = setUp({ until: "2099-12-31" });
    outage(sb, clock);
    const r = await driveStateMachine(deps, scenarioConfig(), clock, { mode: "execute", group: "orders-db", reason: "DR drill", force: false });
    expect(r.next).toBe("done");
    expect(mutating(sb)).toEqual(["PromoteReadReplica", "ChangeResourceRecordSets"]);
  });
});
