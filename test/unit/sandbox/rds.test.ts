import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBInstanceStateFault,
  InvalidDBSnapshotStateFault,
  KMSKeyNotAccessibleFault,
  ListTagsForResourceCommand,
  paginateDescribeDBSnapshots,
  RDSClient,
  RDSServiceException,
  SnapshotQuotaExceededFault,
} from "@aws-sdk/client-rds";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, DAY, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { rejection } from "./rejection.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/dr`;
const snapArn = (region: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;

let sb: Sandbox;
let rds: RDSClient;
let rdsDr: RDSClient;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T02:00:00Z"), regions: [PRIMARY, DR] });
  rds = new RDSClient({ region: PRIMARY, maxAttempts: 6, retryMode: "adaptive" });
  rdsDr = new RDSClient({ region: DR });
});
afterEach(() => sb.restore());

/** Seed `n` available manual snapshots of `db` in `region`. */
function seedManual(region: string, db: string, n: number, tags: Record<string, string> = {}): void {
  for (let i = 0; i < n; i++) sb.rds.addSnapshot(region, { id: `${db}-seed-${i}`, sourceId: db, tags });
}

describe("DescribeDBInstances / DescribeDBClusters", () => {
  it("returns tags with each instance and fails with DBInstanceNotFoundFault for an unknown id", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "default" } });
    sb.rds.addInstance(PRIMARY, { id: "other-db", status: "stopped" });

    const all = await rds.send(new DescribeDBInstancesCommand({}));
    const one = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "app-db" }));
    const missing = await rejection(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "nope" })));

    expect(all.DBInstances?.map((d) => [d.DBInstanceIdentifier, d.DBInstanceStatus])).toEqual([
      ["app-db", "available"],
      ["other-db", "stopped"],
    ]);
    expect(one.DBInstances?.[0]?.TagList).toEqual([{ Key: "ops-autopilot:backup", Value: "default" }]);
    expect(missing).toBeInstanceOf(DBInstanceNotFoundFault);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it("describes Aurora clusters with members and tags", async () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1", members: ["aurora-1-a"], tags: { team: "web" } });

    const out = await rds.send(new DescribeDBClustersCommand({}));

    expect(out.DBClusters?.[0]).toMatchObject({
      DBClusterIdentifier: "aurora-1",
      Status: "available",
      Engine: "aurora-postgresql",
      TagList: [{ Key: "team", Value: "web" }],
      DBClusterMembers: [{ DBInstanceIdentifier: "aurora-1-a", IsClusterWriter: true }],
    });
  });
});

describe("DescribeDBSnapshots pagination", () => {
  it("returns every snapshot across pages of the real default size (100)", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    seedManual(PRIMARY, "app-db", 250);

    const pages: number[] = [];
    const ids: string[] = [];
    for await (const page of paginateDescribeDBSnapshots({ client: rds }, { DBInstanceIdentifier: "app-db" })) {
      pages.push(page.DBSnapshots?.length ?? 0);
      ids.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!));
    }

    expect(pages).toEqual([100, 100, 50]);
    expect(new Set(ids).size).toBe(250);
  });

  it("honours MaxRecords 20 and rejects values outside 20–100", async () => {
    seedManual(PRIMARY, "app-db", 45);

    const first = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 20 }));
    const tooSmall = await rejection(rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 10 })));

    expect(first.DBSnapshots).toHaveLength(20);
    expect(first.Marker).toBeTypeOf("string");
    expect(tooSmall).toBeInstanceOf(RDSServiceException);
    expect(tooSmall.name).toBe("InvalidParameterValue");
  });

  it("keeps paging correctly when snapshots are deleted between pages", async () => {
    seedManual(PRIMARY, "app-db", 60);

    const first = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 20 }));
    for (const s of first.DBSnapshots ?? []) await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: s.DBSnapshotIdentifier }));
    const rest: string[] = [];
    let marker = first.Marker;
    while (marker) {
      const page = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 20, Marker: marker }));
      rest.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!));
      marker = page.Marker;
    }

    expect(rest).toHaveLength(40);
  });

  it("filters by SnapshotType; without it manual and automated come back together", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    seedManual(PRIMARY, "app-db", 2);
    sb.rds.addSnapshot(PRIMARY, { id: "rds:app-db-2025-02-28-03-00", sourceId: "app-db", type: "automated" });

    const all = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "app-db" }));
    const manual = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "app-db", SnapshotType: "manual" }));
    const automated = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "app-db", SnapshotType: "automated" }));

    expect(all.DBSnapshots).toHaveLength(3);
    expect(manual.DBSnapshots?.map((s) => s.SnapshotType)).toEqual(["manual", "manual"]);
    expect(automated.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toEqual(["rds:app-db-2025-02-28-03-00"]);
  });
});

describe("CreateDBSnapshot", () => {
  beforeEach(() => sb.rds.addInstance(PRIMARY, { id: "app-db" }));

  it("goes creating → available after the simulated duration, SnapshotCreateTime only once available", async () => {
    const created = await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "app-db-daily-20250301", Tags: [{ Key: "tier", Value: "daily" }] }),
    );
    sb.clock.advance(9 * MINUTE);
    const during = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: "app-db-daily-20250301" }));
    sb.clock.advance(1 * MINUTE);
    const after = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: "app-db-daily-20250301" }));

    expect(created.DBSnapshot).toMatchObject({ Status: "creating", SnapshotType: "manual", TagList: [{ Key: "tier", Value: "daily" }] });
    expect(created.DBSnapshot?.SnapshotCreateTime).toBeUndefined();
    expect(during.DBSnapshots?.[0]?.Status).toBe("creating");
    expect(after.DBSnapshots?.[0]).toMatchObject({ Status: "available", PercentProgress: 100, TagList: [{ Key: "tier", Value: "daily" }] });
    expect(after.DBSnapshots?.[0]?.SnapshotCreateTime).toEqual(new Date("2025-03-01T02:10:00Z"));
  });

  it("stores identifiers lowercase and rejects invalid ones", async () => {
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "App-DB", DBSnapshotIdentifier: "App-DB-Daily" }));
    const bad = await rejection(rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "app--db" })));

    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id)).toEqual(["app-db-daily"]);
    expect(bad.name).toBe("InvalidParameterValue");
  });

  it("reports DBSnapshotAlreadyExistsFault for a rerun of the same id", async () => {
    const input = { DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "app-db-daily-20250301" };
    await rds.send(new CreateDBSnapshotCommand(input));
    sb.clock.advance(20 * MINUTE);

    const again = await rejection(rds.send(new CreateDBSnapshotCommand(input)));

    expect(again).toBeInstanceOf(DBSnapshotAlreadyExistsFault);
    expect(again.Code).toBe("DBSnapshotAlreadyExists");
  });

  it("shows the instance backing-up while a snapshot is created, and refuses a second one meanwhile", async () => {
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "one" }));

    const status = sb.rds.status(PRIMARY, "app-db");
    const second = await rejection(rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "two" })));
    sb.clock.advance(10 * MINUTE);

    expect(status).toBe("backing-up");
    expect(second).toBeInstanceOf(InvalidDBInstanceStateFault);
    expect(sb.rds.status(PRIMARY, "app-db")).toBe("available");
  });

  it("fails with InvalidDBInstanceStateFault for a stopped instance, also when it stops at a scheduled time", async () => {
    sb.rds.setStatus(PRIMARY, "app-db", "stopped", { at: new Date("2025-03-01T03:00:00Z") });

    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "before-stop" }));
    sb.clock.set("2025-03-01T03:00:00Z");
    const err = await rejection(rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "after-stop" })));

    expect(err).toBeInstanceOf(InvalidDBInstanceStateFault);
    expect(err.message).toContain("not currently in the available state");
  });

  it("enforces 100 manual snapshots per region; automated ones do not count", async () => {
    seedManual(PRIMARY, "app-db", 99);
    for (let i = 0; i < 5; i++) sb.rds.addSnapshot(PRIMARY, { id: `rds:app-db-auto-${i}`, sourceId: "app-db", type: "automated" });

    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "number-100" }));
    sb.clock.advance(15 * MINUTE);
    const err = await rejection(rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "number-101" })));

    expect(sb.rds.manualCount(PRIMARY, "instance")).toBe(100);
    expect(err).toBeInstanceOf(SnapshotQuotaExceededFault);
    expect(err.message).toBe("Cannot create more than 100 manual snapshots");
  });

  it("copies instance tags only when CopyTagsToSnapshot is set and the request has no tags", async () => {
    sb.rds.addInstance(PRIMARY, { id: "tagged", tags: { team: "web" }, copyTagsToSnapshot: true });

    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "tagged", DBSnapshotIdentifier: "plain" }));
    sb.clock.advance(10 * MINUTE);
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "tagged", DBSnapshotIdentifier: "explicit", Tags: [{ Key: "k", Value: "v" }] }));

    const byId = Object.fromEntries(sb.rds.snapshots(PRIMARY).map((s) => [s.id, s.tags]));
    expect(byId).toEqual({ plain: { team: "web" }, explicit: { k: "v" } });
  });
});

describe("CopyDBSnapshot to the DR region", () => {
  beforeEach(() => sb.rds.addInstance(PRIMARY, { id: "app-db" }));

  const copy = (id: string, extra: Record<string, unknown> = {}) =>
    rdsDr.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: snapArn(PRIMARY, id),
        TargetDBSnapshotIdentifier: id,
        KmsKeyId: DR_KEY,
        CopyTags: true,
        ...extra,
      }),
    );

  it("refuses a source that is not available yet, then copies pending → copying → available", async () => {
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "s1", Tags: [{ Key: "tier", Value: "daily" }] }));

    const early = await rejection(copy("s1"));
    sb.clock.advance(10 * MINUTE);
    const started = await copy("s1");
    sb.clock.advance(5 * MINUTE);
    const midway = sb.rds.snapshots(DR)[0];
    sb.clock.advance(35 * MINUTE);
    const done = await rdsDr.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: "s1" }));

    expect(early).toBeInstanceOf(InvalidDBSnapshotStateFault);
    expect(started.DBSnapshot).toMatchObject({
      Status: "pending",
      DBInstanceIdentifier: "app-db",
      KmsKeyId: DR_KEY,
      SourceRegion: PRIMARY,
      SourceDBSnapshotIdentifier: snapArn(PRIMARY, "s1"),
      TagList: [{ Key: "tier", Value: "daily" }],
    });
    expect(midway?.status).toBe("copying");
    expect(done.DBSnapshots?.[0]?.Status).toBe("available");
  });

  it("allows 20 cross-region copies in flight per destination region, the 21st fails with AWS's message", async () => {
    seedManual(PRIMARY, "app-db", 21);

    for (let i = 0; i < 20; i++) await copy(`app-db-seed-${i}`);
    const err = await rejection(copy("app-db-seed-20"));
    sb.clock.advance(40 * MINUTE);
    const afterwards = await copy("app-db-seed-20");

    expect(sb.rds.copiesInFlight(DR)).toBe(1);
    expect(err).toBeInstanceOf(SnapshotQuotaExceededFault);
    expect(err.message).toBe("Cannot copy more than 20 snapshots across regions");
    expect(afterwards.DBSnapshot?.Status).toBe("pending");
  });

  it("counts copies against the destination's 100 manual snapshots", async () => {
    seedManual(DR, "app-db", 100);
    seedManual(PRIMARY, "app-db", 1);

    const err = await rejection(copy("app-db-seed-0", { TargetDBSnapshotIdentifier: "fresh" }));

    expect(err).toBeInstanceOf(SnapshotQuotaExceededFault);
    expect(err.message).toContain("100 manual snapshots");
  });

  it("fails with KMSKeyNotAccessibleFault naming the key when the DR key is denied or from another region", async () => {
    seedManual(PRIMARY, "app-db", 1);
    sb.kms.deny(DR_KEY);

    const denied = await rejection(copy("app-db-seed-0"));
    const wrongRegion = await rejection(copy("app-db-seed-0", { KmsKeyId: `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/primary` }));

    expect(denied).toBeInstanceOf(KMSKeyNotAccessibleFault);
    expect(denied.message).toContain(DR_KEY);
    expect(wrongRegion).toBeInstanceOf(KMSKeyNotAccessibleFault);
  });

  it("requires a KmsKeyId for an encrypted cross-region copy and the source ARN (a bare id is looked up in the destination)", async () => {
    seedManual(PRIMARY, "app-db", 1);

    const noKey = await rejection(copy("app-db-seed-0", { KmsKeyId: undefined }));
    const bareId = await rejection(copy("app-db-seed-0", { SourceDBSnapshotIdentifier: "app-db-seed-0" }));

    expect(noKey.name).toBe("InvalidParameterValue");
    expect(noKey.message).toBe("Must specify new KMS key for cross region encrypted snapshot copy.");
    expect(bareId).toBeInstanceOf(DBSnapshotNotFoundFault);
  });

  it("without CopyTags the copy carries only the tags passed", async () => {
    seedManual(PRIMARY, "app-db", 1, { tier: "daily" });

    const out = await copy("app-db-seed-0", { CopyTags: false, Tags: [{ Key: "copy-of", Value: "app-db-seed-0" }] });

    expect(out.DBSnapshot?.TagList).toEqual([{ Key: "copy-of", Value: "app-db-seed-0" }]);
  });
});

describe("DeleteDBSnapshot", () => {
  it("deletes a manual snapshot, refuses automated ones and unknown ids", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    seedManual(PRIMARY, "app-db", 1);
    sb.rds.addSnapshot(PRIMARY, { id: "rds:app-db-2025-02-28-03-00", sourceId: "app-db", type: "automated" });

    const deleted = await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "app-db-seed-0" }));
    const automated = await rejection(rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "rds:app-db-2025-02-28-03-00" })));
    const missing = await rejection(rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "app-db-seed-0" })));

    expect(deleted.DBSnapshot?.Status).toBe("deleted");
    expect(automated).toBeInstanceOf(InvalidDBSnapshotStateFault);
    expect(automated.message).toBe("automated snapshots cannot be deleted.");
    expect(missing).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id)).toEqual(["rds:app-db-2025-02-28-03-00"]);
  });

  it("refuses to delete a snapshot still being created", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "busy" }));

    const err = await rejection(rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "busy" })));

    expect(err).toBeInstanceOf(InvalidDBSnapshotStateFault);
  });
});

describe("Aurora cluster snapshots", () => {
  it("creates, copies and deletes cluster snapshots with the cluster faults", async () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    sb.rds.addSnapshot(PRIMARY, { id: "rds:aurora-1-2025-02-28-03-00", kind: "cluster", sourceId: "aurora-1", type: "automated" });

    await rds.send(
      new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: "aurora-1", DBClusterSnapshotIdentifier: "aurora-1-daily", Tags: [{ Key: "t", Value: "1" }] }),
    );
    sb.clock.advance(5 * MINUTE);
    const copy = await rdsDr.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:cluster-snapshot:aurora-1-daily`,
        TargetDBClusterSnapshotIdentifier: "aurora-1-daily",
        KmsKeyId: DR_KEY,
        CopyTags: true,
      }),
    );
    const listed = await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: "aurora-1", SnapshotType: "manual" }));
    const automated = await rejection(rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: "rds:aurora-1-2025-02-28-03-00" })));

    expect(copy.DBClusterSnapshot).toMatchObject({ Status: "pending", DBClusterIdentifier: "aurora-1", TagList: [{ Key: "t", Value: "1" }] });
    expect(listed.DBClusterSnapshots?.map((s) => [s.DBClusterSnapshotIdentifier, s.Status])).toEqual([["aurora-1-daily", "available"]]);
    expect(automated).toBeInstanceOf(InvalidDBClusterSnapshotStateFault);
    expect(automated.message).toBe("Only manual snapshots may be deleted.");
  });
});

describe("automated backups", () => {
  it("appear daily in the backup window and expire after the retention period", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", automatedBackups: { retentionDays: 3, windowStart: "03:00" } });

    sb.clock.advance(10 * DAY);
    const out = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "app-db", SnapshotType: "automated" }));

    expect(out.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toEqual([
      "rds:app-db-2025-03-08-03-00",
      "rds:app-db-2025-03-09-03-00",
      "rds:app-db-2025-03-10-03-00",
    ]);
  });

  it("are skipped while the instance is stopped", () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", status: "stopped", automatedBackups: { retentionDays: 7 } });

    sb.clock.advance(3 * DAY);

    expect(sb.rds.snapshots(PRIMARY, { type: "automated" })).toEqual([]);
  });
});

describe("tags by ARN", () => {
  it("serves ListTagsForResource and AddTagsToResource, and the calls are logged so tests can count them", async () => {
    seedManual(PRIMARY, "app-db", 1, { a: "1" });
    const arn = snapArn(PRIMARY, "app-db-seed-0");

    await rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: "b", Value: "2" }] }));
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));

    expect(tags.TagList).toEqual([
      { Key: "a", Value: "1" },
      { Key: "b", Value: "2" },
    ]);
    expect(sb.callsTo("rds", "ListTagsForResource")).toHaveLength(1);
    expect(sb.callsTo("rds", "AddTagsToResource")).toHaveLength(1);
  });
});
