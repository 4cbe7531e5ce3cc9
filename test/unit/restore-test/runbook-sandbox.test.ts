/**
 * The restore-test runbook on the sandbox, through the real adapters (adapters/restore.ts, adapters/restore-ebs.ts):
 * the exact commands of the RDS-instance and EBS paths, delete on every path (failed restore, stuck restore, failed
 * smoke check), and the janitor deleting a crashed run's leftover and nothing else.
 *
 * IAM enforcement is on: every call the runbook makes is authorized against the restore-test role stacks/iam.ts derives
 * (runbooks/lib/calls.ts FUNCTION_CALLS, stacks/iam-scopes.ts), as the sandbox's default role, and none is denied.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { snapshotName, restoreTestName } from "../../../core/ownership.ts";
import { TAG, managedByValue, type Owner } from "../../../core/types.ts";
import { realRestoreTestDeps, throwawayAdapters } from "../../../runbooks/restore-test/deps.ts";
import { advanceRestoreTest, startRestoreTest, type RestoreTestRequest } from "../../../runbooks/restore-test/index.ts";
import type { RestoreTestDeps, SmokeCheckResult } from "../../../runbooks/restore-test/ports.ts";
import type { RestoreTestRun } from "../../../runbooks/restore-test/steps/index.ts";
import { rdsDataSmoke } from "../../../adapters/rds-data.ts";
import type { RestoreTestInput } from "../../../schemas/config-restore-test.ts";
import { ConfigSchema, type Config } from "../../../schemas/config.ts";
import { createSandbox, FakeClock, HOUR, MINUTE, type Sandbox } from "../../../sandbox/index.ts";

const REGION = "eu-west-1";
const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
const MB = managedByValue(OWNER);
const SG = "sg-0123456789abcdef0";
const CHECKER = { subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0fedcba9876543210"] };
const DB_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf";
const AZ = `${REGION}b`;
const RUN = "rt-2026-12-01";
/** The primary region's customer key the backups are encrypted with (config backup.sourceKmsKeyIds). */
const SOURCE_KEY = `arn:aws:kms:${REGION}:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;

class MemoryStore {
  record: RestoreTestRun | undefined;
  etag = 0;
  async create(r: RestoreTestRun) {
    if (this.record) return false;
    this.record = structuredClone(r);
    this.etag++;
    return true;
  }
  async read() {
    return this.record ? { record: structuredClone(this.record), etag: String(this.etag) } : undefined;
  }
  async replace(r: RestoreTestRun, etag: string) {
    if (etag !== String(this.etag)) return undefined;
    this.record = structuredClone(r);
    return String(++this.etag);
  }
}

/** A resource of each kind the block can test, so the block is valid (each test gives the runbook its target). */
const selection = (restoreTest: RestoreTestInput) => [
  { kind: "rds-instance", id: "orders-db" },
  { kind: "aurora-cluster", id: "orders" },
  ...(restoreTest.ebs ? [{ kind: "ebs-volume", id: "vol-0123456789abcdef0" }] : []),
];

/** A whole stage configuration: the sandbox derives the restore-test role from it. */
function config(restoreTest: RestoreTestInput): Config {
  return ConfigSchema.parse({
    app: OWNER.app,
    stage: OWNER.stage,
    primaryRegion: REGION,
    failover: {},
    warm: {},
    cost: {},
    observe: false,
    backup: { sourceKmsKeyIds: [SOURCE_KEY], policies: [{ name: "db", copyToDr: false, selection: { ids: selection(restoreTest) }, restoreTest }] },
  });
}

/** A 30 min target: the sandbox's instance restore takes 22 min (20 creating + 2 backing-up). */
const CONFIG = config({
  region: "primary",
  rtoTargetMinutes: 30,
  rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG], checker: CHECKER },
  ebs: { availabilityZone: AZ },
  smoke: { sql: [{ name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } }], secretArn: DB_SECRET },
});

let sb: Sandbox;
let store: MemoryStore;
let sqlAnswers: SmokeCheckResult[];
let sqlRuns: { instanceId: string; database: string; checks: string[]; secretArn: string }[];
let reported: RestoreTestRun[];

function deps(): RestoreTestDeps {
  return {
    aws: throwawayAdapters,
    // The runbook's own lister (its role holds no ec2:DescribeImages: it never needs AMI usage).
    snapshots: realRestoreTestDeps({ bucket: { bucket: "reports", region: REGION }, runId: RUN, owner: OWNER, sql: { run: async () => [] } }).snapshots,
    sql: {
      run: async (input) => {
        sqlRuns.push({ instanceId: input.instanceId, database: input.database, checks: input.checks.map((c) => c.name), secretArn: input.secretArn });
        return sqlAnswers;
      },
    },
    dataApi: rdsDataSmoke({ now: () => 0 }),
    reports: { report: async (run) => void reported.push(run) },
    store,
    clock: { now: () => sb.clock.now(), sleep: async () => undefined },
  };
}

function request(kind: "rds-instance" | "ebs-volume", resourceId: string, cfg = CONFIG): RestoreTestRequest {
  return { runId: RUN, owner: OWNER, target: { policy: "db", kind, resourceId, region: REGION }, config: cfg };
}

/** The executor dies once, on the first checkpoint write after `sent()` turns true: what it sent is not recorded. */
function crashOnceAfter(sent: () => boolean): void {
  const replace = store.replace.bind(store);
  let crashed = false;
  store.replace = async (r, etag) => {
    if (!crashed && sent()) {
      crashed = true;
      throw Object.assign(new Error("Lambda runtime exited"), { name: "Runtime.ExitError" });
    }
    return replace(r, etag);
  };
}

/** Drive the run as the state machine does: advance, Wait the seconds asked, advance again. */
async function drive(req: RestoreTestRequest): Promise<{ next: string; waits: number; crashes: number }> {
  let crashes = 0;
  let r = await startRestoreTest(deps(), req).catch((err: Error) => {
    if (err.name !== "Runtime.ExitError") throw err;
    crashes++;
    // Step Functions retries the Task: the next invocation advances from the checkpoint.
    return advanceRestoreTest(deps(), req);
  });
  let waits = 0;
  while (r.next === "wait") {
    if (++waits > 500) throw new Error("the run never ended");
    sb.clock.advance((r.waitSeconds ?? 1) * 1000);
    r = await advanceRestoreTest(deps(), req);
  }
  return { next: r.next, waits, crashes };
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const mutating = () => sb.calls.filter((c) => /^(Restore|Create|Delete)/.test(c.command) && c.command !== "CreateTags").map((c) => c.command);
const stepResults = () => store.record!.steps.map((s) => `${s.name}:${s.status}${s.result ? `:${s.result}` : ""}`);

function seedRdsSnapshot(dbId: string): string {
  sb.rds.addInstance(REGION, { id: dbId, engine: "postgres", engineVersion: "16.4", allocatedStorage: 50 });
  const id = snapshotName(OWNER, dbId, "2026-11-30");
  sb.rds.addSnapshot(REGION, {
    id,
    sourceId: dbId,
    createdAt: new Date("2026-11-30T02:00:00Z"),
    tags: { [TAG.managedBy]: MB, [TAG.name]: id, [TAG.source]: dbId, [TAG.sourceRegion]: REGION },
  });
  return id;
}

function seedEbsSnapshot(kmsKeyId?: string): { snapshotId: string; volumeId: string } {
  const volumeId = sb.ec2.addVolume(REGION, { size: 40, ...(kmsKeyId ? { kmsKeyId } : {}) });
  const name = snapshotName(OWNER, volumeId, "2026-11-30");
  const snap = sb.ec2.addSnapshot(REGION, {
    volumeId,
    description: name,
    createdAt: new Date("2026-11-30T02:00:00Z"),
    tags: { [TAG.managedBy]: MB, [TAG.name]: name, [TAG.source]: volumeId, [TAG.sourceRegion]: REGION },
  });
  return { snapshotId: snap.id, volumeId };
}

/** A new sandbox whose restore-test role is derived from `cfg`. */
function fresh(cfg: Config = CONFIG): void {
  sb = createSandbox({
    clock: new FakeClock("2026-12-01T06:00:00Z"),
    regions: [REGION, "eu-central-1"],
    iam: { defaultRole: { name: "restore-test", config: cfg } },
  });
  sb.rds.addSubnetGroup(REGION, "restore-tests");
  resetClients();
  store = new MemoryStore();
  sqlAnswers = [{ name: "orders", passed: true, observed: "1200", reason: "1200 is at least 1", ms: 40 }];
  sqlRuns = [];
  reported = [];
}
beforeEach(() => fresh());
afterEach(() => {
  // Every call of every test was authorized against the derived role.
  const denials = sb.iam?.denials ?? [];
  sb.restore();
  expect(denials).toEqual([]);
});

describe("restore-test runbook on the sandbox: RDS instance", () => {
  it("restores with the exact command (private, single-AZ, unprotected, our tags), waits durably, smoke-checks, deletes with the exact command, reports the proven RTO", async () => {
    const snap = seedRdsSnapshot("orders-db");
    const name = restoreTestName(OWNER, "rds-instance", "orders-db", RUN);

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html
    expect(sb.callsTo("rds", "RestoreDBInstanceFromDBSnapshot").map((c) => c.input)).toEqual([
      {
        DBInstanceIdentifier: name,
        DBSnapshotIdentifier: snap,
        DBInstanceClass: "db.t4g.micro",
        DBSubnetGroupName: "restore-tests",
        VpcSecurityGroupIds: [SG],
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        Tags: tagList({
          [TAG.managedBy]: MB,
          [TAG.name]: name,
          [TAG.policy]: "db",
          [TAG.source]: "orders-db",
          [TAG.restoreTest]: RUN,
          [TAG.restoreTestAt]: "2026-12-01T06:00:00.000Z",
        }),
      },
    ]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
    expect(sb.callsTo("rds", "DeleteDBInstance").map((c) => c.input)).toEqual([
      { DBInstanceIdentifier: name, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
    ]);
    expect(sb.callsTo("rds", "DescribeDBSnapshots").some((c) => (c.input as { DBSnapshotIdentifier?: string }).DBSnapshotIdentifier === snap)).toBe(true);
    expect(
      sb.callsTo("rds", "DescribeDBInstances").filter((c) => (c.input as { DBInstanceIdentifier?: string }).DBInstanceIdentifier === name).length,
    ).toBeGreaterThan(1);
    expect(stepResults()).toEqual([
      "janitor:done:0 deleted",
      `pick:done:${snap}`,
      "restore:done:restore requested",
      "wait-available:done:available",
      "smoke:done:smoke passed",
      "delete:done:deleting",
      "report:done:passed",
    ]);
    expect(sqlRuns).toEqual([{ instanceId: name, database: "postgres", checks: ["orders"], secretArn: DB_SECRET }]);
    // Restore 20 min + backing-up 2 min in the sandbox, seen at the next 60 s look.
    const run = store.record!;
    expect(run.judgment).toMatchObject({ verdict: "passed", restoreSeconds: 1320, smokeSeconds: 0, provenRtoSeconds: 1320, alert: "none" });
    expect(reported.map((x) => x.judgment?.verdict)).toEqual(["passed"]);
    expect(run.cost?.lines[0]).toMatchObject({ item: "db.t4g.micro instance", unit: "hour" });
    expect(r.waits).toBe(22);
  });

  it("a failed restore (sb.rds.failRestores) is reported critically and its throwaway is still deleted", async () => {
    seedRdsSnapshot("orders-db");
    sb.rds.failRestores({ outcome: "incompatible-restore" });

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    expect(stepResults().slice(3)).toEqual(["wait-available:done:restore failed", "smoke:skipped", "delete:done:deleting", "report:done:restore-failed"]);
    expect(store.record!.judgment).toMatchObject({ verdict: "restore-failed", alert: "critical" });
    expect(store.record!.judgment!.reason).toMatch(/^restore failed: oa-ops-autopilot-prod-rt-orders-db-[0-9a-f]{10} ended incompatible-restore$/);
    expect(sqlRuns).toEqual([]);
  });

  it("a restore stuck in creating times out (half of maxAgeHours) and is deleted", async () => {
    seedRdsSnapshot("orders-db");
    sb.rds.failRestores({ outcome: "stuck" });

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    expect(store.record!.judgment).toMatchObject({ verdict: "restore-failed", alert: "critical" });
    expect(store.record!.judgment!.reason).toContain("still creating 180 min after the request (limit 180 min): stuck");
    const deleted = sb.callsTo("rds", "DeleteDBInstance")[0]!;
    expect(new Date(deleted.at).getTime() - Date.parse("2026-12-01T06:00:00Z")).toBe(3 * HOUR);
  });

  it("a failing smoke check is reported critically and the throwaway is still deleted", async () => {
    seedRdsSnapshot("orders-db");
    sqlAnswers = [{ name: "orders", passed: false, observed: "0", reason: "0 is less than 1", ms: 40 }];

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    expect(store.record!.judgment).toEqual({
      verdict: "smoke-failed",
      restoreSeconds: 1320,
      alert: "critical",
      reason: "smoke check failed after a 22.0 min restore: orders: 0 is less than 1",
    });
    expect(reported.map((x) => x.judgment?.alert)).toEqual(["critical"]);
  });

  it("a refused restore (snapshot gone) records the failure; nothing was created, so the delete finds nothing", async () => {
    seedRdsSnapshot("orders-db");
    sb.inject({ service: "rds", command: "RestoreDBInstanceFromDBSnapshot", error: "notFound" });

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot"]);
    expect(stepResults().slice(2)).toEqual([
      "restore:done:restore refused",
      "wait-available:skipped",
      "smoke:skipped",
      "delete:done:gone",
      "report:done:restore-failed",
    ]);
  });
});

describe("restore-test runbook on the sandbox: EBS volume", () => {
  it("creates the volume with the exact command (configured AZ, tags on create), waits, checks its size, deletes it with the exact command", async () => {
    const { snapshotId, volumeId } = seedEbsSnapshot();
    const name = restoreTestName(OWNER, "ebs-volume", volumeId, RUN);

    const r = await drive(request("ebs-volume", volumeId));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["CreateVolume", "DeleteVolume"]);
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html
    expect(sb.callsTo("ec2", "CreateVolume").map((c) => c.input)).toEqual([
      {
        SnapshotId: snapshotId,
        AvailabilityZone: AZ,
        TagSpecifications: [
          {
            ResourceType: "volume",
            Tags: tagList({
              [TAG.managedBy]: MB,
              [TAG.name]: name,
              [TAG.policy]: "db",
              [TAG.source]: volumeId,
              [TAG.restoreTest]: RUN,
              [TAG.restoreTestAt]: "2026-12-01T06:00:00.000Z",
              Name: name,
            }),
          },
        ],
      },
    ]);
    const created = store.record!.throwaway!.volumeId!;
    expect(sb.callsTo("ec2", "DeleteVolume").map((c) => c.input)).toEqual([{ VolumeId: created }]);
    expect(sb.callsTo("ec2", "DescribeVolumes").filter((c) => JSON.stringify(c.input).includes(created)).length).toBeGreaterThan(1);
    expect(store.record!.smoke).toEqual([
      { name: "available", passed: true, observed: "available", reason: "the volume is available with the snapshot's size", ms: 0 },
    ]);
    expect(store.record!.judgment).toMatchObject({ verdict: "passed", restoreSeconds: 120, provenRtoSeconds: 120 });
    expect(sqlRuns).toEqual([]);
  });
});

describe("restore-test runbook on the sandbox: encrypted EBS source", () => {
  // https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html
  it("creates a volume from a snapshot under the configured source key: EBS's KMS calls on that key are authorized by the role", async () => {
    const { volumeId } = seedEbsSnapshot(SOURCE_KEY);

    const r = await drive(request("ebs-volume", volumeId));

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["CreateVolume", "DeleteVolume"]);
    expect(store.record!.steps.find((s) => s.name === "smoke")?.status).toBe("done");
  });
});

describe("restore-test janitor on the sandbox", () => {
  it("deletes a crashed run's leftover older than maxAgeHours, and keeps a look-alike without our restore-test tag, a young throwaway and the source", async () => {
    seedRdsSnapshot("orders-db");
    const old = restoreTestName(OWNER, "rds-instance", "orders-db", "crashed-run");
    const young = restoreTestName(OWNER, "rds-instance", "orders-db", "other-run");
    const lookAlike = restoreTestName(OWNER, "rds-instance", "orders-db", "look-alike");
    const ours = (run: string, at: string, name: string) => ({
      [TAG.managedBy]: MB,
      [TAG.name]: name,
      [TAG.policy]: "db",
      [TAG.source]: "orders-db",
      [TAG.restoreTest]: run,
      [TAG.restoreTestAt]: at,
    });
    sb.rds.addInstance(REGION, { id: old, tags: ours("crashed-run", "2026-12-01T00:00:00.000Z", old) });
    sb.rds.addInstance(REGION, { id: young, tags: ours("other-run", "2026-12-01T05:00:00.000Z", young) });
    const { [TAG.restoreTest]: _, ...noRestoreTag } = ours("look-alike", "2026-11-01T00:00:00.000Z", lookAlike);
    sb.rds.addInstance(REGION, { id: lookAlike, tags: noRestoreTag });

    await drive(request("rds-instance", "orders-db"));

    const janitorDeletes = sb.callsTo("rds", "DeleteDBInstance").map((c) => (c.input as { DBInstanceIdentifier: string }).DBInstanceIdentifier);
    // The janitor's one delete, then the run's own throwaway's.
    expect(janitorDeletes).toEqual([old, restoreTestName(OWNER, "rds-instance", "orders-db", RUN)]);
    expect(store.record!.janitor).toEqual({ deleted: [old], kept: 3, errors: [] });
    const status = async (id: string) => (await throwawayAdapters.describeDbInstance(REGION, id))?.status;
    sb.clock.advance(10 * MINUTE);
    expect(await status(old)).toBeUndefined();
    expect(await status(lookAlike)).toBe("available");
    expect(await status(young)).toBe("available");
    expect(await status("orders-db")).toBe("available");
  });
});

describe("restore-test judgment on the sandbox's durations", () => {
  it("a 22 min restore against the default 15 min target is proven but over target, and alerts critically", async () => {
    seedRdsSnapshot("orders-db");
    const cfg = config({ region: "primary", rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG] } });

    await drive(request("rds-instance", "orders-db", cfg));

    expect(store.record!.judgment).toEqual({
      verdict: "rto-over-target",
      restoreSeconds: 1320,
      smokeSeconds: 0,
      provenRtoSeconds: 1320,
      alert: "critical",
      reason: "proven RTO 22.0 min (restore 22.0 min + smoke 0.0 min), over the 15 min target",
    });
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
  });
});

describe("restore-test janitor on the sandbox: volumes", () => {
  it("deletes a crashed run's leftover volume and keeps a look-alike volume without our restore-test tag", async () => {
    const { volumeId } = seedEbsSnapshot();
    const name = restoreTestName(OWNER, "ebs-volume", volumeId, "crashed-run");
    const tags = {
      [TAG.managedBy]: MB,
      [TAG.name]: name,
      [TAG.policy]: "db",
      [TAG.source]: volumeId,
      [TAG.restoreTest]: "crashed-run",
      [TAG.restoreTestAt]: "2026-11-30T20:00:00.000Z",
      Name: name,
    };
    const leftover = sb.ec2.addVolume(REGION, { status: "available", size: 40, tags });
    const { [TAG.restoreTest]: _, ...untagged } = tags;
    const lookAlike = sb.ec2.addVolume(REGION, { status: "available", size: 40, tags: untagged });

    await drive(request("ebs-volume", volumeId));

    const created = store.record!.throwaway!.volumeId!;
    expect(sb.callsTo("ec2", "DeleteVolume").map((c) => c.input)).toEqual([{ VolumeId: leftover }, { VolumeId: created }]);
    expect(store.record!.janitor).toEqual({ deleted: [leftover], kept: 2, errors: [] });
    sb.clock.advance(10 * MINUTE);
    expect(sb.ec2.volume(REGION, lookAlike)?.status).toBe("available");
    expect(sb.ec2.volume(REGION, volumeId)?.status).toBe("in-use");
  });
});

describe("restore-test runbook survives crashes and throttling", () => {
  it("a crash right after RDS accepted the restore: the retry finds the throwaway by its name and sends no second restore", async () => {
    seedRdsSnapshot("orders-db");
    crashOnceAfter(() => sb.callsTo("rds", "RestoreDBInstanceFromDBSnapshot").length > 0);

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r).toMatchObject({ next: "done", crashes: 1 });
    expect(mutating()).toEqual(["RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance"]);
    const restore = store.record!.steps.find((s) => s.name === "restore")!;
    expect(restore.reason).toMatch(/^oa-ops-autopilot-prod-rt-orders-db-[0-9a-f]{10} exists \(creating\): the earlier request arrived$/);
  });

  it("a crash right after EC2 created the volume (its id never recorded): the retry finds it by its name tag, and deletes that one volume", async () => {
    const { volumeId } = seedEbsSnapshot();
    crashOnceAfter(() => sb.callsTo("ec2", "CreateVolume").length > 0);

    const r = await drive(request("ebs-volume", volumeId));

    expect(r).toMatchObject({ next: "done", crashes: 1 });
    expect(mutating()).toEqual(["CreateVolume", "DeleteVolume"]);
    const created = store.record!.throwaway!.volumeId!;
    expect(sb.callsTo("ec2", "DeleteVolume").map((c) => c.input)).toEqual([{ VolumeId: created }]);
    expect(store.record!.judgment?.verdict).toBe("passed");
  });

  it("a delete refused for an hour fails the run with the manual step and reports it; the throwaway is left to the janitor", async () => {
    seedRdsSnapshot("orders-db");
    sb.inject({ service: "rds", command: "DeleteDBInstance", error: "throttling", times: Infinity });

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("failed");
    expect(store.record!.failure).toEqual({
      step: "delete",
      message: "the throwaway could not be deleted in 60 min",
      manualSteps: ["the janitor deletes it once it is older than maxAgeHours (6 h); or delete it by hand"],
    });
    const name = restoreTestName(OWNER, "rds-instance", "orders-db", RUN);
    expect((await throwawayAdapters.describeDbInstance(REGION, name))?.status).toBe("available");
    expect(store.record!.steps.find((s) => s.name === "report")?.status).toBe("pending");
    // The failed run is still reported (the report port alerts on the failure).
    expect(reported.map((x) => [x.state, x.failure?.step])).toEqual([["failed", "delete"]]);
  });

  it("a delete throttled past the SDK's 6 attempts waits and tries again", async () => {
    seedRdsSnapshot("orders-db");
    sb.inject({ service: "rds", command: "DeleteDBInstance", error: "throttling", times: 6 });

    const r = await drive(request("rds-instance", "orders-db"));

    expect(r.next).toBe("done");
    expect(sb.callsTo("rds", "DeleteDBInstance").map((c) => c.error?.name ?? "ok")).toEqual([...Array(6).fill("Throttling"), "ok"]);
    expect(store.record!.steps.find((s) => s.name === "delete")).toMatchObject({ status: "done", result: "deleting" });
  });
});

describe("restore-test runbook on the sandbox: Aurora cluster", () => {
  it("restores the cluster, adds its one instance once the cluster is available, checks it, and deletes the instance then the cluster with the exact commands", async () => {
    sb.rds.addCluster(REGION, { id: "orders-aurora", engine: "aurora-postgresql", members: ["orders-aurora-a"] });
    const snap = snapshotName(OWNER, "orders-aurora", "2026-11-30");
    sb.rds.addSnapshot(REGION, {
      id: snap,
      kind: "cluster",
      sourceId: "orders-aurora",
      createdAt: new Date("2026-11-30T02:00:00Z"),
      tags: { [TAG.managedBy]: MB, [TAG.name]: snap, [TAG.source]: "orders-aurora", [TAG.sourceRegion]: REGION },
    });
    const cfg = config({ region: "primary", rtoTargetMinutes: 30, rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG] } });
    const name = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", RUN);
    const tags = tagList({
      [TAG.managedBy]: MB,
      [TAG.name]: name,
      [TAG.policy]: "db",
      [TAG.source]: "orders-aurora",
      [TAG.restoreTest]: RUN,
      [TAG.restoreTestAt]: "2026-12-01T06:00:00.000Z",
    });

    const r = await drive({
      ...request("rds-instance", "orders-aurora", cfg),
      target: { policy: "db", kind: "aurora-cluster", resourceId: "orders-aurora", region: REGION },
    });

    expect(r.next).toBe("done");
    expect(mutating()).toEqual(["RestoreDBClusterFromSnapshot", "CreateDBInstance", "DeleteDBInstance", "DeleteDBCluster"]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html
    expect(sb.callsTo("rds", "RestoreDBClusterFromSnapshot").map((c) => c.input)).toEqual([
      {
        DBClusterIdentifier: name,
        SnapshotIdentifier: snap,
        Engine: "aurora-postgresql",
        DBSubnetGroupName: "restore-tests",
        VpcSecurityGroupIds: [SG],
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        Tags: tags,
      },
    ]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
    expect(sb.callsTo("rds", "CreateDBInstance").map((c) => c.input)).toEqual([
      {
        DBInstanceIdentifier: `${name}-1`,
        DBClusterIdentifier: name,
        DBInstanceClass: "db.t4g.medium",
        Engine: "aurora-postgresql",
        PubliclyAccessible: false,
        Tags: tags,
      },
    ]);
    expect(sb.callsTo("rds", "DeleteDBInstance").map((c) => c.input)).toEqual([
      { DBInstanceIdentifier: `${name}-1`, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
    ]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html
    expect(sb.callsTo("rds", "DeleteDBCluster").map((c) => c.input)).toEqual([{ DBClusterIdentifier: name, SkipFinalSnapshot: true }]);
    // Cluster 15 min, then its instance 10 min.
    expect(store.record!.judgment).toMatchObject({ verdict: "passed", restoreSeconds: 1500, provenRtoSeconds: 1500, alert: "none" });
  });
});

/** The source cluster `orders-aurora` (its managed master secret unless `managed: false`) and our snapshot of it. */
function seedAurora(cfg: Config, managed = true): { snap: string; secret?: string } {
  sb.restore();
  fresh(cfg);
  sb.rds.addCluster(REGION, { id: "orders-aurora", engine: "aurora-postgresql", members: ["orders-aurora-a"], manageMasterUserPassword: managed });
  sb.rds.addInstance(REGION, { id: "orders-aurora-a", clusterId: "orders-aurora", engine: "aurora-postgresql" });
  const snap = snapshotName(OWNER, "orders-aurora", "2026-11-30");
  sb.rds.addSnapshot(REGION, {
    id: snap,
    kind: "cluster",
    sourceId: "orders-aurora",
    createdAt: new Date("2026-11-30T02:00:00Z"),
    tags: { [TAG.managedBy]: MB, [TAG.name]: snap, [TAG.source]: "orders-aurora", [TAG.sourceRegion]: REGION },
  });
  const secret = sb.rds.masterSecretOf(REGION, "orders-aurora", "cluster");
  return { snap, ...(secret ? { secret } : {}) };
}

const ORDERS_CHECK = { name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } } as const;
const auroraConfig = (smoke: RestoreTestInput["smoke"] = { sql: [ORDERS_CHECK] }) =>
  config({ region: "primary", rtoTargetMinutes: 30, rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG], checker: CHECKER }, smoke });
const auroraRequest = (cfg: Config): RestoreTestRequest => ({
  runId: RUN,
  owner: OWNER,
  target: { policy: "db", kind: "aurora-cluster", resourceId: "orders-aurora", region: REGION },
  config: cfg,
});
const dataApiCalls = () =>
  sb.calls.filter((c) => c.service === "rdsData").map((c) => ({ command: c.command, input: c.input as Record<string, unknown>, error: c.error?.name }));

describe("restore-test runbook on the sandbox: Aurora sql checks through the RDS Data API", () => {
  it("enables the Data API on the throwaway once it is available, finds the source's managed master secret, and runs the check read-only in a transaction it rolls back: exact commands", async () => {
    const cfg = auroraConfig();
    const { secret } = seedAurora(cfg);
    sb.rdsData.answer("select count(*) from orders", [[1200]]);
    const name = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", RUN);
    const clusterArn = `arn:aws:rds:${REGION}:${sb.accountId}:cluster:${name}`;

    const r = await drive(auroraRequest(cfg));

    expect(r.next).toBe("done");
    // The source's MasterUserSecret, described in the primary region (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html).
    expect(
      sb
        .callsTo("rds", "DescribeDBClusters")
        .filter((c) => (c.input as { DBClusterIdentifier?: string }).DBClusterIdentifier === "orders-aurora")
        .map((c) => c.region),
    ).toEqual([REGION]);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_EnableHttpEndpoint.html: once, as soon as the cluster is available.
    expect(sb.callsTo("rds", "EnableHttpEndpoint").map((c) => c.input)).toEqual([{ ResourceArn: clusterArn }]);
    expect(mutating()).toEqual(["RestoreDBClusterFromSnapshot", "CreateDBInstance", "DeleteDBInstance", "DeleteDBCluster"]);
    // "Data API isn't supported on T DB instance classes" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html)
    expect(sb.callsTo("rds", "CreateDBInstance").map((c) => (c.input as { DBInstanceClass: string }).DBInstanceClass)).toEqual(["db.r6g.large"]);
    const calls = dataApiCalls();
    const tx = sb.rdsData.transactions()[0]!.id;
    const common = { resourceArn: clusterArn, secretArn: secret, database: "postgres", transactionId: tx };
    // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html, …/API_ExecuteStatement.html, …/API_RollbackTransaction.html
    expect(calls).toEqual([
      { command: "BeginTransaction", input: { resourceArn: clusterArn, secretArn: secret, database: "postgres" }, error: undefined },
      { command: "ExecuteStatement", input: { ...common, sql: "SET TRANSACTION READ ONLY" }, error: undefined },
      { command: "ExecuteStatement", input: { ...common, sql: "SET LOCAL statement_timeout = 30000" }, error: undefined },
      { command: "ExecuteStatement", input: { ...common, sql: "SET LOCAL TimeZone = 'UTC'" }, error: undefined },
      {
        command: "ExecuteStatement",
        input: {
          ...common,
          sql: "select count(*) from orders",
          includeResultMetadata: true,
          resultSetOptions: { longReturnType: "STRING", decimalReturnType: "STRING" },
        },
        error: undefined,
      },
      { command: "RollbackTransaction", input: { resourceArn: clusterArn, secretArn: secret, transactionId: tx }, error: undefined },
    ]);
    expect(sb.rdsData.transactions().map((t) => t.state)).toEqual(["rolled-back"]);
    expect(store.record!.smoke).toEqual([
      { name: "available", passed: true, observed: "available", reason: "status available, the snapshot's engine and version, its storage", ms: 0 },
      { name: "orders", passed: true, observed: "1200", reason: 'check "orders" passed: observed 1200, expected at least 1', ms: 0 },
    ]);
    expect(store.record!.judgment).toMatchObject({ verdict: "passed", restoreSeconds: 1500, smokeSeconds: 0, provenRtoSeconds: 1500, alert: "none" });
    expect(sqlRuns).toEqual([]);
  });

  it("a failing expectation: the check fails naming the value, the transaction is rolled back, the throwaway deleted, the alert critical", async () => {
    const cfg = auroraConfig();
    seedAurora(cfg);
    sb.rdsData.answer("select count(*) from orders", [[0]]);

    await drive(auroraRequest(cfg));

    expect(store.record!.judgment).toMatchObject({ verdict: "smoke-failed", alert: "critical" });
    expect(store.record!.judgment!.reason).toBe('smoke check failed after a 25.0 min restore: orders: check "orders" failed: observed 0, expected at least 1');
    expect(dataApiCalls().map((c) => c.command)).toEqual([
      "BeginTransaction",
      "ExecuteStatement",
      "ExecuteStatement",
      "ExecuteStatement",
      "ExecuteStatement",
      "RollbackTransaction",
    ]);
    expect(mutating().slice(-2)).toEqual(["DeleteDBInstance", "DeleteDBCluster"]);
  });

  it("a statement timeout (smoke.timeoutSeconds 5): Postgres cancels the query (57014), the check fails as timed out, and the transaction is rolled back", async () => {
    const cfg = auroraConfig({ sql: [ORDERS_CHECK], timeoutSeconds: 5 });
    seedAurora(cfg);
    sb.rdsData.answer("select count(*) from orders", { timeout: true });

    await drive(auroraRequest(cfg));

    expect(store.record!.smoke?.[1]).toEqual({
      name: "orders",
      passed: false,
      observed: null,
      reason: 'check "orders" failed: timed out after 5000 ms; the query was cancelled and its transaction rolled back',
      ms: 0,
    });
    expect(dataApiCalls().map((c) => `${c.command}${c.error ? ` !${c.error}` : ""}`)).toEqual([
      "BeginTransaction",
      "ExecuteStatement",
      "ExecuteStatement",
      "ExecuteStatement",
      "ExecuteStatement !DatabaseErrorException",
      "RollbackTransaction",
    ]);
    expect(sb.rdsData.statements()[1]!.sql).toBe("SET LOCAL statement_timeout = 5000");
  });

  it("rolls back even when a statement fails (a query error), and the next check runs in a fresh transaction", async () => {
    const cfg = auroraConfig({ sql: [ORDERS_CHECK, { name: "alive", query: "select 1", expect: { equals: 1 } }] });
    seedAurora(cfg);
    sb.rdsData.answer("select count(*) from orders", { error: 'ERROR: relation "orders" does not exist; SQLState: 42P01' });
    sb.rdsData.answer("select 1", [[1]]);

    await drive(auroraRequest(cfg));

    expect(store.record!.smoke?.slice(1).map((x) => [x.name, x.passed, x.reason])).toEqual([
      ["orders", false, 'check "orders" failed: query error DatabaseErrorException: ERROR: relation "orders" does not exist; SQLState: 42P01'],
      ["alive", true, 'check "alive" passed: observed 1, expected equal to 1'],
    ]);
    expect(sb.rdsData.transactions().map((t) => [t.state, t.aborted])).toEqual([
      ["rolled-back", true],
      ["rolled-back", false],
    ]);
    expect(dataApiCalls().filter((c) => c.command === "RollbackTransaction")).toHaveLength(2);
  });

  it("a wrong secret (smoke.secretArn with another password): the check fails with Postgres' refusal, naming the check, and no password appears in the record, the reports or the log", async () => {
    const wrong = `arn:aws:secretsmanager:${REGION}:123456789012:secret:orders-readonly-Xy12Zw`;
    const cfg = auroraConfig({ sql: [ORDERS_CHECK], secretArn: wrong });
    seedAurora(cfg);
    sb.secretsManager.put(REGION, "orders-readonly", { username: "postgres", password: "Wr0ng-Pa55word" }, { suffix: "Xy12Zw" });
    sb.rdsData.answer("select count(*) from orders", [[1200]]);
    const logs: string[] = [];

    const d = deps();
    const req = auroraRequest(cfg);
    let res = await startRestoreTest({ ...d, log: (m, data) => void logs.push(`${m} ${JSON.stringify(data ?? {})}`) }, req);
    while (res.next === "wait") {
      sb.clock.advance((res.waitSeconds ?? 1) * 1000);
      res = await advanceRestoreTest({ ...deps(), log: (m, data) => void logs.push(`${m} ${JSON.stringify(data ?? {})}`) }, req);
    }

    const name = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", RUN);
    const clusterArn = `arn:aws:rds:${REGION}:${sb.accountId}:cluster:${name}`;
    expect(store.record!.smoke?.[1]?.reason).toBe(
      `check "orders" not run: could not begin a transaction on postgres on ${clusterArn}: DatabaseErrorException: FATAL: password authentication failed for user "postgres"`,
    );
    expect(store.record!.judgment).toMatchObject({ verdict: "smoke-failed", alert: "critical" });
    expect(dataApiCalls().map((c) => `${c.command}${c.error ? ` !${c.error}` : ""}`)).toEqual(["BeginTransaction !DatabaseErrorException"]);
    const everything = JSON.stringify([store.record, reported, logs, sb.calls.map((c) => [c.input, c.error?.message])]);
    expect(everything).not.toContain("Wr0ng-Pa55word");
    expect(everything).not.toContain("sandbox-orders-aurora-password");
  });

  it("a source without an RDS-managed master secret and no smoke.secretArn: the check fails with what to set; nothing is sent to the Data API; the throwaway is deleted", async () => {
    const cfg = auroraConfig();
    seedAurora(cfg, false);

    await drive(auroraRequest(cfg));

    expect(store.record!.smoke?.[1]).toEqual({
      name: "orders",
      passed: false,
      observed: null,
      reason: "no secret: orders-aurora has no RDS-managed master user secret; set smoke.secretArn",
      ms: 0,
    });
    expect(store.record!.judgment!.reason).toBe(
      "smoke check failed after a 25.0 min restore: orders: no secret: orders-aurora has no RDS-managed master user secret; set smoke.secretArn",
    );
    expect(dataApiCalls()).toEqual([]);
    expect(mutating().slice(-2)).toEqual(["DeleteDBInstance", "DeleteDBCluster"]);
  });
});

describe("restore-test runbook on the sandbox: an Aurora restore test in the DR region", () => {
  it("the source's managed secret is in the primary region; the Data API reads secrets in the cluster's region, so the check fails saying where each is", async () => {
    const DR = "eu-central-1";
    const cfg = ConfigSchema.parse({
      app: OWNER.app,
      stage: OWNER.stage,
      primaryRegion: REGION,
      drRegions: [{ region: DR, kmsKeyId: `arn:aws:kms:${DR}:123456789012:key/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0` }],
      observe: false,
      backup: {
        sourceKmsKeyIds: [SOURCE_KEY],
        policies: [
          {
            name: "aurora",
            selection: { ids: [{ kind: "aurora-cluster", id: "orders-aurora" }] },
            restoreTest: { rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG] }, smoke: { sql: [ORDERS_CHECK] } },
          },
        ],
      },
    });
    sb.restore();
    fresh(cfg);
    sb.rds.addSubnetGroup(DR, "restore-tests");
    sb.rds.addCluster(REGION, { id: "orders-aurora", engine: "aurora-postgresql", manageMasterUserPassword: true });
    const copy = snapshotName(OWNER, "orders-aurora", "2026-11-30");
    sb.rds.addSnapshot(DR, {
      id: copy,
      kind: "cluster",
      sourceId: "orders-aurora",
      encrypted: false,
      createdAt: new Date("2026-11-30T02:00:00Z"),
      tags: { [TAG.managedBy]: MB, [TAG.name]: copy, [TAG.source]: "orders-aurora", [TAG.sourceRegion]: REGION, [TAG.copyOf]: copy },
    });
    sb.rdsData.answer("select count(*) from orders", [[1200]]);
    const managed = sb.rds.masterSecretOf(REGION, "orders-aurora", "cluster")!;

    await drive({ runId: RUN, owner: OWNER, target: { policy: "aurora", kind: "aurora-cluster", resourceId: "orders-aurora", region: DR }, config: cfg });

    const name = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", RUN);
    expect(store.record!.smoke?.[1]?.reason).toBe(
      `check "orders" not run: could not begin a transaction on postgres on arn:aws:rds:${DR}:123456789012:cluster:${name}: ` +
        `SecretsErrorException: The secret provided wasn't found. (the secret is in ${REGION}, the cluster in ${DR})`,
    );
    expect(dataApiCalls().map((c) => [c.command, c.input.secretArn, c.error])).toEqual([["BeginTransaction", managed, "SecretsErrorException"]]);
  });
});

describe("restore-test role on the sandbox: the Data API on throwaways only", () => {
  it("EnableHttpEndpoint and ExecuteStatement on the source cluster (not a restore-test throwaway) are denied to the restore-test role", async () => {
    const cfg = auroraConfig();
    const { secret } = seedAurora(cfg);
    const source = `arn:aws:rds:${REGION}:${sb.accountId}:cluster:orders-aurora`;
    sb.iam!.expectDenial("restore-test", "rds:EnableHttpEndpoint");
    sb.iam!.expectDenial("restore-test", "rds-data:BeginTransaction");

    const enable = await throwawayAdapters.enableHttpEndpoint(REGION, source).catch((e: Error) => e);
    const [check] = await rdsDataSmoke({ now: () => 0 }).run({
      region: REGION,
      clusterArn: source,
      database: "postgres",
      secretArn: secret!,
      timeoutMs: 1000,
      checks: [ORDERS_CHECK],
      context: { snapshotTime: new Date("2026-11-30T02:00:00Z") },
    });

    expect((enable as Error).name).toBe("AccessDenied");
    expect(check!.reason).toMatch(
      /^check "orders" not run: could not begin a transaction on postgres on arn:aws:rds:eu-west-1:123456789012:cluster:orders-aurora: AccessDeniedException: /,
    );
    const denied = sb.iam!.denials.map((d) => `${d.request.action} ${d.request.resource}`);
    expect(denied).toEqual([`rds:EnableHttpEndpoint ${source}`, `rds-data:BeginTransaction ${source}`]);
    sb.iam!.denials.length = 0;
  });
});

describe("restore-test runbook on the sandbox: the default secret of the pg path", () => {
  it("an RDS instance without smoke.secretArn: the checker is given the source's MasterUserSecret ARN (DescribeDBInstances in the primary region)", async () => {
    const cfg = config({
      region: "primary",
      rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG], checker: CHECKER },
      smoke: { sql: [ORDERS_CHECK] },
    });
    sb.restore();
    fresh(cfg);
    sb.rds.addInstance(REGION, { id: "orders-db", engine: "postgres", engineVersion: "16.4", allocatedStorage: 50, manageMasterUserPassword: true });
    const id = snapshotName(OWNER, "orders-db", "2026-11-30");
    sb.rds.addSnapshot(REGION, {
      id,
      sourceId: "orders-db",
      createdAt: new Date("2026-11-30T02:00:00Z"),
      tags: { [TAG.managedBy]: MB, [TAG.name]: id, [TAG.source]: "orders-db", [TAG.sourceRegion]: REGION },
    });
    const managed = sb.rds.masterSecretOf(REGION, "orders-db", "instance")!;

    await drive(request("rds-instance", "orders-db", cfg));

    expect(managed).toMatch(/:secret:rds!db-/);
    expect(sqlRuns.map((x) => x.secretArn)).toEqual([managed]);
    expect(sb.callsTo("rds", "DescribeDBInstances").some((c) => (c.input as { DBInstanceIdentifier?: string }).DBInstanceIdentifier === "orders-db")).toBe(
      true,
    );
  });

  it("an RDS instance whose source has no managed secret: the check fails with what to set, and the checker is not asked", async () => {
    const cfg = config({
      region: "primary",
      rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG], checker: CHECKER },
      smoke: { sql: [ORDERS_CHECK] },
    });
    sb.restore();
    fresh(cfg);
    seedRdsSnapshot("orders-db");

    await drive(request("rds-instance", "orders-db", cfg));

    expect(store.record!.smoke?.[1]?.reason).toBe("no secret: orders-db has no RDS-managed master user secret; set smoke.secretArn");
    expect(sqlRuns).toEqual([]);
  });
});

describe("restore-test janitor on the sandbox: Aurora", () => {
  it("deletes a crashed run's leftover cluster after its instance, and keeps a look-alike cluster without our restore-test tag", async () => {
    seedRdsSnapshot("orders-db");
    const name = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", "crashed-run");
    const tags = {
      [TAG.managedBy]: MB,
      [TAG.name]: name,
      [TAG.policy]: "db",
      [TAG.source]: "orders-aurora",
      [TAG.restoreTest]: "crashed-run",
      [TAG.restoreTestAt]: "2026-11-30T20:00:00.000Z",
    };
    sb.rds.addCluster(REGION, { id: name, members: [`${name}-1`], tags });
    sb.rds.addInstance(REGION, { id: `${name}-1`, clusterId: name, engine: "aurora-postgresql", tags });
    const lookAlike = restoreTestName(OWNER, "aurora-cluster", "orders-aurora", "look-alike");
    const { [TAG.restoreTest]: _, ...untagged } = tags;
    sb.rds.addCluster(REGION, { id: lookAlike, members: [], tags: untagged });

    await drive(request("rds-instance", "orders-db"));

    const deletes = sb.calls.filter((c) => c.command === "DeleteDBInstance" || c.command === "DeleteDBCluster");
    expect(deletes.map((c) => `${c.command} ${Object.values(c.input as object)[0]}${c.error ? ` !${c.error.name}` : ""}`)).toEqual([
      `DeleteDBInstance ${name}-1`,
      `DeleteDBCluster ${name}`,
      `DeleteDBInstance ${restoreTestName(OWNER, "rds-instance", "orders-db", RUN)}`,
    ]);
    expect(store.record!.janitor).toEqual({ deleted: [`${name}-1`, name], kept: 2, errors: [] });
    expect(store.record!.janitor?.errors).toEqual([]);
  });
});

describe("property: whatever fails, no throwaway outlives the janitor, and nothing else is deleted", () => {
  const FAULTS = ["none", "restore-failed", "stuck", "smoke-failed", "delete-refused", "crash-after-create"] as const;
  const KINDS = ["rds-instance", "ebs-volume", "aurora-cluster"] as const;

  it("a run with any one fault, then a run maxAgeHours later, leaves no restore-test resource; the source and a look-alike survive", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), fc.constantFrom(...FAULTS), async (kind, fault) => {
        sb.restore();
        fresh();
        let resourceId: string;
        if (kind === "rds-instance") {
          seedRdsSnapshot("orders-db");
          resourceId = "orders-db";
        } else if (kind === "ebs-volume") resourceId = seedEbsSnapshot().volumeId;
        else {
          resourceId = "orders-aurora";
          sb.rds.addCluster(REGION, { id: resourceId, engine: "aurora-postgresql" });
          const snap = snapshotName(OWNER, resourceId, "2026-11-30");
          sb.rds.addSnapshot(REGION, {
            id: snap,
            kind: "cluster",
            sourceId: resourceId,
            tags: { [TAG.managedBy]: MB, [TAG.name]: snap, [TAG.source]: resourceId, [TAG.sourceRegion]: REGION },
          });
        }
        const lookAlike = restoreTestName(OWNER, "rds-instance", "orders-db", "look-alike");
        sb.rds.addInstance(REGION, { id: lookAlike, tags: { [TAG.managedBy]: MB, [TAG.restoreTestAt]: "2026-11-01T00:00:00.000Z" } });
        const cfg = kind === "aurora-cluster" ? config({ region: "primary", rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG] } }) : CONFIG;
        const req = (runId: string): RestoreTestRequest => ({ runId, owner: OWNER, target: { policy: "db", kind, resourceId, region: REGION }, config: cfg });

        if (fault === "restore-failed" && kind !== "ebs-volume") sb.rds.failRestores({ outcome: "failed" });
        if (fault === "stuck" && kind !== "ebs-volume") sb.rds.failRestores({ outcome: "stuck" });
        if (fault === "smoke-failed") sqlAnswers = [{ name: "orders", passed: false, observed: "0", reason: "0 is less than 1", ms: 1 }];
        if (fault === "delete-refused") {
          for (const command of ["DeleteDBInstance", "DeleteDBCluster"]) sb.inject({ service: "rds", command, error: "throttling", times: Infinity });
          sb.inject({ service: "ec2", command: "DeleteVolume", error: "throttling", times: Infinity });
        }
        if (fault === "crash-after-create") crashOnceAfter(() => sb.calls.some((c) => /^(RestoreDB|CreateVolume)/.test(c.command)));

        await drive(req("rt-first"));
        sb.clearInjections();
        sb.clock.advance(7 * HOUR);
        store = new MemoryStore();
        sqlAnswers = [{ name: "orders", passed: true, observed: "1", reason: "ok", ms: 1 }];
        expect((await drive(req("rt-second"))).next).toBe("done");
        sb.clock.advance(HOUR);

        const left = await throwawayAdapters.listLeftovers(REGION);
        expect(left.filter((r) => r.tags[TAG.restoreTest] !== undefined).map((r) => `${r.type} ${r.id} ${r.status}`)).toEqual([]);
        const ids = left.map((r) => r.id);
        expect(ids).toContain(lookAlike);
        if (kind !== "ebs-volume") expect(ids).toContain(resourceId);
        else expect(sb.ec2.volume(REGION, resourceId)?.status).toBe("in-use");
      }),
      { numRuns: 30 },
    );
  });
});
