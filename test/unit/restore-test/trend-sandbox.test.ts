/**
 * The end of a restore-test run on the sandbox, through its real dependencies (runbooks/restore-test/deps.ts
 * realRestoreTestDeps: checkpoint, report and trend in the sandbox's S3 via adapters/json-document.ts): one Slack
 * summary per run, one trend entry per run appended to `restore-test/trend/<kind>/<id>.json` with conditional writes.
 * IAM is enforced: the restore-test role stacks/iam.ts derives, linked to the Reports bucket (no denial).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { jsonDocuments } from "../../../adapters/json-document.ts";
import { snapshotName } from "../../../core/ownership.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import type { RestoreTestTrendEntry } from "../../../core/restore-test-trend.ts";
import { TAG, managedByValue, type Owner } from "../../../core/types.ts";
import { realRestoreTestDeps } from "../../../runbooks/restore-test/deps.ts";
import { advanceRestoreTest, startRestoreTest, type RestoreTestRequest } from "../../../runbooks/restore-test/index.ts";
import type { RestoreTestDeps } from "../../../runbooks/restore-test/ports.ts";
import { appendTrendDocument } from "../../../runbooks/restore-test/summary.ts";
import { restoreTestRole } from "../../../sandbox/scenarios/restore-scenarios.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-reports";
const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
const MB = managedByValue(OWNER);
const KEY = "restore-test/trend/rds-instance/orders-db.json";

const SOURCE_KEY = `arn:aws:kms:${REGION}:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;

/** A whole stage configuration: the restore-test role is derived from it. */
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

let sb: Sandbox;
let posted: SlackMessage[];

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

async function runOnce(runId: string): Promise<void> {
  const deps: RestoreTestDeps = realRestoreTestDeps({
    bucket: { bucket: BUCKET, region: REGION },
    runId,
    owner: OWNER,
    sql: { run: async () => [] },
    notify: async (m) => void posted.push(m),
  });
  deps.clock = { now: () => sb.clock.now(), sleep: async () => undefined };
  const req: RestoreTestRequest = {
    runId,
    owner: OWNER,
    target: { policy: "db", kind: "rds-instance", resourceId: "orders-db", region: REGION },
    config: CONFIG,
  };
  let r = await startRestoreTest(deps, req);
  while (r.next === "wait") {
    sb.clock.advance((r.waitSeconds ?? 1) * 1000);
    r = await advanceRestoreTest(deps, req);
  }
  expect(r.next).toBe("done");
}

describe("restore-test trend and summary on the sandbox", () => {
  it("two runs: the trend document holds one entry per run (created, then replaced at its ETag), and each run posts exactly one summary", async () => {
    await runOnce("rt-2026-12-01");
    sb.clock.advance(3 * 3600_000);
    await runOnce("rt-2026-12-01b");

    const snap = snapshotName(OWNER, "orders-db", "2026-11-30");
    expect(sb.s3.json(BUCKET, KEY)).toEqual({
      kind: "rds-instance",
      resourceId: "orders-db",
      entries: [
        {
          runId: "rt-2026-12-01",
          at: "2026-12-01T06:00:00.000Z",
          region: REGION,
          snapshotId: snap,
          verdict: "passed",
          restoreSeconds: 1320,
          provenRtoSeconds: 1320,
          rtoTargetMinutes: 30,
          costUsd: 0.008754794520547945,
        },
        {
          runId: "rt-2026-12-01b",
          at: "2026-12-01T09:22:00.000Z",
          region: REGION,
          snapshotId: snap,
          verdict: "passed",
          restoreSeconds: 1320,
          provenRtoSeconds: 1320,
          rtoTargetMinutes: 30,
          costUsd: 0.008754794520547945,
        },
      ],
    });
    const trendPuts = sb
      .callsTo("s3", "PutObject")
      .filter((c) => (c.input as { Key: string }).Key === KEY)
      .map((c) => c.input as { IfNoneMatch?: string; IfMatch?: string });
    expect(trendPuts.map((p) => (p.IfNoneMatch ? "If-None-Match" : p.IfMatch ? "If-Match" : "unconditional"))).toEqual(["If-None-Match", "If-Match"]);
    expect(sb.iam?.denials).toEqual([]);
    expect(posted.map((m) => m.text)).toEqual([
      "Restore test rt-2026-12-01: 1 of 1 proven within target",
      "Restore test rt-2026-12-01b: 1 of 1 proven within target",
    ]);
  });

  it("a lost compare-and-set race (another run's write between this one's read and write: 412) re-reads and appends to the winner's document", async () => {
    const docs = jsonDocuments({ bucket: BUCKET, region: REGION });
    const target = { kind: "rds-instance" as const, resourceId: "orders-db" };
    const entry = (runId: string, at: string): RestoreTestTrendEntry => ({ runId, at, region: REGION, verdict: "passed", rtoTargetMinutes: 30 });
    await appendTrendDocument(docs, target, entry("r1", "2026-11-01T06:00:00Z"));
    let raced = false;
    const racing = {
      ...docs,
      replace: async (key: string, body: unknown, etag: string) => {
        if (!raced) {
          raced = true;
          await appendTrendDocument(docs, target, entry("r-other", "2026-11-15T06:00:00Z"));
        }
        return docs.replace(key, body, etag);
      },
    };
    await appendTrendDocument(racing, target, entry("r2", "2026-12-01T06:00:00Z"));
    expect((sb.s3.json(BUCKET, KEY) as { entries: { runId: string }[] }).entries.map((e) => e.runId)).toEqual(["r1", "r-other", "r2"]);
    expect(sb.callsTo("s3", "PutObject").map((c) => c.error?.name ?? "ok")).toEqual(["ok", "ok", "PreconditionFailed", "ok"]);
    expect(sb.iam?.denials).toEqual([]);
  });
});
