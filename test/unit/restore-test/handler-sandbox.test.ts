/**
 * The restore-test handler (functions/restore-test.ts) on the sandbox, driven as the state machine drives it
 * (`{ source: "sfn", event }`, Advance → Wait → Advance): a scheduled start plans from what the policies select and
 * the trend history, runs the durable runbook to its end and leaves the trend entry; a second start within the
 * schedule's period finds the resource not due. IAM is enforced: every call is authorized against the restore-test
 * role stacks/iam.ts derives, linked to the Reports bucket.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { listCandidateResources } from "../../../adapters/inventory.ts";
import { snapshotName } from "../../../core/ownership.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import { TAG, managedByValue, type Owner } from "../../../core/types.ts";
import { realRestoreTestDeps } from "../../../runbooks/restore-test/deps.ts";
import { makeRestoreTestHandler, restoreTestRunId, throwawaysInFlight, trendHistory } from "../../../runbooks/restore-test/handler.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { restoreTestRole } from "../../../sandbox/scenarios/restore-scenarios.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-reports";
const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
const MB = managedByValue(OWNER);
const SOURCE_KEY = `arn:aws:kms:${REGION}:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;

const config = (ids: string[]) =>
  ConfigSchema.parse({
    app: OWNER.app,
    stage: OWNER.stage,
    primaryRegion: REGION,
    failover: {},
    warm: {},
    cost: {},
    observe: false,
    backup: {
      sourceKmsKeyIds: [SOURCE_KEY],
      policies: [
        {
          name: "db",
          copyToDr: false,
          selection: { ids: ids.map((id) => ({ kind: "rds-instance", id })) },
          restoreTest: { region: "primary", rtoTargetMinutes: 30, rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] } },
        },
      ],
    },
  });

const bucket = { bucket: BUCKET, region: REGION };
let sb: Sandbox;
let posted: SlackMessage[];

const CONFIG = config(["orders-db"]);
/** Two databases in one policy, one restore test at a time (maxConcurrentRestores 1, the default). */
const TWO = config(["orders-db", "billing-db"]);

function handler(cfg = CONFIG) {
  return makeRestoreTestHandler({
    deps: (_ctx, runId) => {
      const d = realRestoreTestDeps({ bucket, runId, owner: OWNER, sql: { run: async () => [] }, notify: async (m) => void posted.push(m) });
      d.clock = { now: () => sb.clock.now(), sleep: async () => undefined };
      return d;
    },
    plan: () => ({ listResources: listCandidateResources, history: trendHistory(bucket), inFlight: throwawaysInFlight(cfg) }),
    runtime: quietRuntime(cfg, sb.clock),
  });
}

type Out = { next: string; reason: string; waitSeconds?: number; advance?: unknown; plan?: unknown; runs?: { runId: string; next: string }[] };

/** What the state machine does: Advance, then Wait `waitSeconds` and Advance with `advance`, until not `wait`. */
async function execute(input: unknown, cfg = CONFIG): Promise<{ outs: Out[] }> {
  const h = handler(cfg);
  const outs: Out[] = [(await h({ source: "sfn", event: input }, lambdaContext("req-0", 900_000))) as Out];
  for (let i = 1; outs.at(-1)!.next === "wait" && i < 100; i++) {
    sb.clock.advance(outs.at(-1)!.waitSeconds! * 1000);
    outs.push((await h({ source: "sfn", event: outs.at(-1)!.advance }, lambdaContext(`req-${i}`, 900_000))) as Out);
  }
  return { outs };
}

beforeEach(() => {
  sb = createSandbox({
    clock: new FakeClock("2026-12-01T06:00:00Z"),
    regions: [REGION],
    buckets: [BUCKET],
    iam: { principal: () => restoreTestRole(CONFIG, BUCKET) },
  });
  sb.rds.addSubnetGroup(REGION, "restore-tests");
  resetClients();
  posted = [];
  seedDb("orders-db");
});

/** A Postgres instance and last night's snapshot of it. */
function seedDb(db: string) {
  sb.rds.addInstance(REGION, { id: db, engine: "postgres", engineVersion: "16.4", allocatedStorage: 50 });
  const id = snapshotName(OWNER, db, "2026-11-30");
  sb.rds.addSnapshot(REGION, {
    id,
    sourceId: db,
    createdAt: new Date("2026-11-30T02:00:00Z"),
    tags: { [TAG.managedBy]: MB, [TAG.name]: id, [TAG.source]: db, [TAG.sourceRegion]: REGION },
  });
}
afterEach(() => sb.restore());

describe("restore-test handler on the sandbox (IAM enforced)", () => {
  it("a scheduled start plans orders-db as never tested, runs it to done through Advance/Wait, writes its trend; a second start a day later finds it not due", async () => {
    const runId = restoreTestRunId({ kind: "rds-instance", resourceId: "orders-db" }, new Date("2026-12-01T06:00:00Z"));
    expect(runId).toBe("rds-instance-orders-db-20261201T0600Z");

    const first = await execute({ trigger: "schedule", policies: ["db"] });
    expect(first.outs[0]).toMatchObject({
      next: "wait",
      plan: [{ action: "start", policy: "db", kind: "rds-instance", resourceId: "orders-db", region: REGION }],
      advance: { mode: "advance", runs: [{ runId, policy: "db", kind: "rds-instance", resourceId: "orders-db", region: REGION }], failed: [] },
    });
    expect((first.outs[0]!.plan as { reason: string }[])[0]!.reason).toMatch(/^due: never restore-tested/);
    expect(first.outs.at(-1)).toMatchObject({ next: "done", reason: "1 run(s) ended", runs: [{ runId, next: "done" }] });
    expect(sb.s3.json(BUCKET, "restore-test/trend/rds-instance/orders-db.json")).toMatchObject({
      entries: [{ runId, verdict: "passed", provenRtoSeconds: 1320 }],
    });
    expect(posted).toHaveLength(1);
    expect(sb.iam?.denials).toEqual([]);

    sb.clock.advance(24 * 3600_000);
    const second = await execute({ trigger: "schedule" });
    expect(second.outs).toHaveLength(1);
    expect(second.outs[0]).toMatchObject({ next: "done", reason: "no resource due", runs: [], plan: [{ action: "not-due", resourceId: "orders-db" }] });
    expect(sb.iam?.denials).toEqual([]);
  });

  it("a manual start naming orders-db tests it again the next day, whatever its history; a resource no policy tests is refused and fails the execution", async () => {
    await execute({ trigger: "schedule" });
    sb.clock.advance(24 * 3600_000);
    const manual = await execute({ mode: "start", resources: [{ kind: "rds-instance", id: "orders-db" }] });
    expect(manual.outs[0]).toMatchObject({ next: "wait", plan: [{ action: "start", reason: expect.stringMatching(/^requested \(manual run\)/) }] });
    expect(manual.outs.at(-1)).toMatchObject({ next: "done" });

    const wrong = await execute({ mode: "start", resources: [{ kind: "rds-instance", id: "billing-db" }] });
    expect(wrong.outs).toEqual([
      expect.objectContaining({
        next: "failed",
        reason: "restore-test run(s) failed: rds-instance billing-db (see restore-test/runs/<runId>.json)",
        refused: [{ item: "rds-instance billing-db", kind: "fatal", message: "not selected by any policy with a restoreTest block" }],
      }),
    ]);
    expect(sb.iam?.denials).toEqual([]);
  });

  it("one execution tests two due databases one at a time: the second waits in the queue and starts once the first throwaway is deleted", async () => {
    seedDb("billing-db");
    const { outs } = await execute({ trigger: "schedule" }, TWO);
    expect(outs[0]).toMatchObject({
      next: "wait",
      reason: "1 run(s) waiting, 1 queued for a free slot",
      plan: [
        { action: "start", resourceId: "billing-db" },
        { action: "capped", resourceId: "orders-db" },
      ],
      advance: { queue: [{ policy: "db", kind: "rds-instance", resourceId: "orders-db", region: REGION }] },
    });
    expect(outs.at(-1)).toMatchObject({ next: "done", reason: "1 run(s) ended", runs: [{ resourceId: "orders-db", next: "done" }] });
    const calls = sb.calls.filter((c) => c.command === "RestoreDBInstanceFromDBSnapshot" || c.command === "DeleteDBInstance").map((c) => c.command);
    expect(calls).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance", "RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    for (const id of ["orders-db", "billing-db"])
      expect(sb.s3.json(BUCKET, `restore-test/trend/rds-instance/${id}.json`)).toMatchObject({ entries: [{ verdict: "passed" }] });
    expect(sb.iam?.denials).toEqual([]);
  });

  it("overlapping executions share the cap: a manual start while a scheduled test runs does not restore the same database twice, and queues the other until the slot frees", async () => {
    seedDb("billing-db");
    const h = handler(TWO);
    const call = async (event: unknown, i: string) => (await h({ source: "sfn", event }, lambdaContext(i, 900_000))) as Out;
    const a0 = await call({ mode: "start", resources: [{ kind: "rds-instance", id: "orders-db" }] }, "a0");
    expect(a0).toMatchObject({ next: "wait", plan: [{ action: "start", resourceId: "orders-db" }] });
    const runA = restoreTestRunId({ kind: "rds-instance", resourceId: "orders-db" }, sb.clock.now());
    sb.clock.advance(60_000);

    const b0 = await call(
      {
        mode: "start",
        resources: [
          { kind: "rds-instance", id: "orders-db" },
          { kind: "rds-instance", id: "billing-db" },
        ],
      },
      "b0",
    );
    expect(b0.plan).toEqual([
      expect.objectContaining({ action: "in-flight", resourceId: "orders-db", reason: `in flight: run ${runA} started 2026-12-01T06:00:00.000Z in ${REGION}` }),
      expect.objectContaining({
        action: "capped",
        resourceId: "billing-db",
        reason: `requested (manual run); waits: 1 restore test in flight in ${REGION}, maxConcurrentRestores is 1 (1 due there, oldest test first)`,
      }),
    ]);
    expect(b0).toMatchObject({
      next: "wait",
      waitSeconds: 60,
      runs: [],
      advance: { mode: "advance", runs: [], queue: [{ policy: "db", kind: "rds-instance", resourceId: "billing-db", region: REGION }], failed: [] },
    });

    // B looks again while A's throwaway still exists: still queued, nothing restored.
    const b1 = await call(b0.advance, "b1");
    expect(b1).toMatchObject({ next: "wait", waitSeconds: 60, advance: { runs: [], queue: [{ resourceId: "billing-db" }] } });

    let a = a0;
    for (let i = 1; a.next === "wait"; i++) {
      sb.clock.advance(a.waitSeconds! * 1000);
      a = await call(a.advance, `a${i}`);
    }
    expect(a).toMatchObject({ next: "done" });
    let b = await call(b1.advance, "b2");
    expect(b).toMatchObject({ next: "wait", reason: "1 run(s) waiting", runs: [{ resourceId: "billing-db", next: "wait" }], advance: { queue: [] } });
    for (let i = 3; b.next === "wait"; i++) {
      sb.clock.advance(b.waitSeconds! * 1000);
      b = await call(b.advance, `b${i}`);
    }
    expect(b).toMatchObject({ next: "done" });
    const restored = sb.calls
      .filter((c) => c.command === "RestoreDBInstanceFromDBSnapshot")
      .map((c) => (c.input as { DBSnapshotIdentifier: string }).DBSnapshotIdentifier);
    expect(restored).toEqual([snapshotName(OWNER, "orders-db", "2026-11-30"), snapshotName(OWNER, "billing-db", "2026-11-30")]);
    expect(sb.iam?.denials).toEqual([]);
  });

  it("an advance with neither runs nor queue is refused, naming the field", async () => {
    await expect(handler()({ source: "sfn", event: { mode: "advance", runs: [], queue: [] } }, lambdaContext("req-q", 900_000))).rejects.toThrow(
      "runs: an advance resumes runs or starts queued ones: both runs and queue are empty",
    );
  });

  it("a direct invoke only plans (nothing restored); a direct advance is refused", async () => {
    const h = handler();
    const out = (await h({ trigger: "schedule" }, lambdaContext("req-d", 900_000))) as Out;
    expect(out).toMatchObject({ next: "planned", plan: [{ action: "start", resourceId: "orders-db" }] });
    expect(out.reason).toContain("start the RestoreTestStateMachine state machine with this event");
    expect(sb.s3.objects(BUCKET, "restore-test/")).toEqual([]);
    expect(sb.rds.status(REGION, "orders-db")).toBe("available");
    await expect(
      h(
        { mode: "advance", runs: [{ runId: "x", policy: "db", kind: "rds-instance", resourceId: "orders-db", region: REGION }] },
        lambdaContext("req-e", 900_000),
      ),
    ).rejects.toThrow("an advance resumes runs of the RestoreTestStateMachine execution: only the state machine sends it");
  });

  it("a bad event names the field before any AWS call", async () => {
    await expect(handler()({ mode: "start", resources: [] }, lambdaContext("req-f", 900_000))).rejects.toThrow(
      "resources: name at least one resource to restore-test",
    );
    await expect(handler()({ trigger: "schedule", policies: "db" }, lambdaContext("req-g", 900_000))).rejects.toThrow("policies");
  });
});
