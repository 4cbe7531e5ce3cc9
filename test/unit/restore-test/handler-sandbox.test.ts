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
import { makeRestoreTestHandler, restoreTestRunId, trendHistory } from "../../../runbooks/restore-test/handler.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { restoreTestRole } from "../../../sandbox/scenarios/restore-scenarios.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-reports";
const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
const MB = managedByValue(OWNER);
const SOURCE_KEY = `arn:aws:kms:${REGION}:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;

const CONFIG = ConfigSchema.parse({
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
        selection: { ids: [{ kind: "rds-instance", id: "orders-db" }] },
        restoreTest: { region: "primary", rtoTargetMinutes: 30, rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] } },
      },
    ],
  },
});

const bucket = { bucket: BUCKET, region: REGION };
let sb: Sandbox;
let posted: SlackMessage[];

function handler() {
  return makeRestoreTestHandler({
    deps: (_ctx, runId) => {
      const d = realRestoreTestDeps({ bucket, runId, owner: OWNER, sql: { run: async () => [] }, notify: async (m) => void posted.push(m) });
      d.clock = { now: () => sb.clock.now(), sleep: async () => undefined };
      return d;
    },
    plan: () => ({ listResources: listCandidateResources, history: trendHistory(bucket) }),
    runtime: quietRuntime(CONFIG, sb.clock),
  });
}

type Out = { next: string; reason: string; waitSeconds?: number; advance?: unknown; plan?: unknown; runs?: { runId: string; next: string }[] };

/** What the state machine does: Advance, then Wait `waitSeconds` and Advance with `advance`, until not `wait`. */
async function execute(input: unknown): Promise<{ outs: Out[] }> {
  const h = handler();
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
  sb.rds.addInstance(REGION, { id: "orders-db", engine: "postgres", engineVersion: "16.4", allocatedStorage: 50 });
  const id = snapshotName(OWNER, "orders-db", "2026-11-30");
  sb.rds.addSnapshot(REGION, {
    id,
    sourceId: "orders-db",
    createdAt: new Date("2026-11-30T02:00:00Z"),
    tags: { [TAG.managedBy]: MB, [TAG.name]: id, [TAG.source]: "orders-db", [TAG.sourceRegion]: REGION },
  });
});
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
