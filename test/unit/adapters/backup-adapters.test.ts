import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { resetClients } from "../../../adapters/clients.ts";
import {
  copyDbSnapshot,
  createClusterSnapshot,
  createDbSnapshot,
  deleteRdsSnapshot,
  listClusterSnapshots,
  listDbInstances,
  listDbSnapshots,
} from "../../../adapters/rds.ts";
import { copyEbsSnapshot, createEbsSnapshot, deleteEbsSnapshot, listAmiSnapshotIds, listEbsSnapshots, listVolumes } from "../../../adapters/ec2.ts";
import { classifyError } from "../../../adapters/errors.ts";
import { TAG, type Snapshot } from "../../../core/types.ts";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);

beforeEach(() => {
  rds.reset();
  ec2.reset();
  resetClients();
});
afterEach(() => resetClients());

const tags = { [TAG.managedBy]: "ops-autopilot:prod", [TAG.policy]: "db", [TAG.backupDate]: "2026-11-21" };

function snap(over: Partial<Snapshot>): Snapshot {
  return {
    kind: "rds-instance",
    id: "oa-app-db-20261121",
    arn: "arn:aws:rds:eu-west-1:123456789012:snapshot:oa-app-db-20261121",
    region: "eu-west-1",
    resourceId: "app-db",
    status: "available",
    createdAt: new Date("2026-11-21T02:05:00Z"),
    tags,
    automated: false,
    ...over,
  };
}

describe("RDS adapter", () => {
  it("creates an instance snapshot with its deterministic name and our tags", async () => {
    rds.on(CreateDBSnapshotCommand).resolves({});
    await createDbSnapshot("eu-west-1", "app-db", "oa-app-db-20261121", tags);
    expect(rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBSnapshotIdentifier: "oa-app-db-20261121",
      DBInstanceIdentifier: "app-db",
      Tags: [
        { Key: TAG.managedBy, Value: "ops-autopilot:prod" },
        { Key: TAG.policy, Value: "db" },
        { Key: TAG.backupDate, Value: "2026-11-21" },
      ],
    });
  });

  it("creates an Aurora cluster snapshot through the cluster API", async () => {
    rds.on(CreateDBClusterSnapshotCommand).resolves({});
    await createClusterSnapshot("eu-west-1", "orders", "oa-orders-20261121", tags);
    expect(rds).toHaveReceivedCommandWith(CreateDBClusterSnapshotCommand, {
      DBClusterSnapshotIdentifier: "oa-orders-20261121",
      DBClusterIdentifier: "orders",
    });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
  });

  it("copies to the DR region by source ARN (which carries the source region) with the region's KMS key and explicit tags", async () => {
    rds.on(CopyDBSnapshotCommand).resolves({});
    const copyTags = { ...tags, [TAG.copyOf]: "oa-app-db-20261121" };
    await copyDbSnapshot({
      source: snap({}),
      sourceRegion: "eu-west-1",
      targetRegion: "eu-central-1",
      name: "oa-app-db-20261121",
      kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr",
      tags: copyTags,
    });
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: "arn:aws:rds:eu-west-1:123456789012:snapshot:oa-app-db-20261121",
      TargetDBSnapshotIdentifier: "oa-app-db-20261121",
      KmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr",
      CopyTags: false,
      Tags: Object.entries(copyTags).map(([Key, Value]) => ({ Key, Value })),
    });
    // The command went to a client of the destination region.
    const call = rds.commandCalls(CopyDBSnapshotCommand)[0]!;
    expect(await call.thisValue.config.region()).toBe("eu-central-1");
  });

  it("copies an Aurora cluster snapshot with CopyDBClusterSnapshot", async () => {
    rds.on(CopyDBClusterSnapshotCommand).resolves({});
    await copyDbSnapshot({
      source: snap({
        kind: "aurora-cluster",
        id: "oa-orders-20261121",
        arn: "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:oa-orders-20261121",
        kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/aws-rds-default",
      }),
      sourceRegion: "eu-west-1",
      targetRegion: "eu-central-1",
      name: "oa-orders-20261121",
      kmsKeyId: "alias/dr",
      tags,
    });
    expect(rds).toHaveReceivedCommandWith(CopyDBClusterSnapshotCommand, {
      SourceDBClusterSnapshotIdentifier: "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:oa-orders-20261121",
      TargetDBClusterSnapshotIdentifier: "oa-orders-20261121",
      KmsKeyId: "alias/dr",
    });
  });

  it("copies an unencrypted Aurora cluster snapshot without KmsKeyId: CopyDBClusterSnapshot rejects KmsKeyId for an unencrypted source (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html)", async () => {
    rds.on(CopyDBClusterSnapshotCommand).resolves({});
    const arn = "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:oa-orders-20261121";
    // Listed snapshots carry kmsKeyId exactly when RDS reports one, i.e. when they are encrypted.
    await copyDbSnapshot({
      source: snap({ kind: "aurora-cluster", id: "oa-orders-20261121", arn }),
      sourceRegion: "eu-west-1",
      targetRegion: "eu-central-1",
      name: "oa-orders-20261121",
      kmsKeyId: "alias/dr",
      tags,
    });
    const input = rds.commandCalls(CopyDBClusterSnapshotCommand)[0]!.args[0].input;
    expect(input).toEqual({
      SourceDBClusterSnapshotIdentifier: arn,
      TargetDBClusterSnapshotIdentifier: "oa-orders-20261121",
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      CopyTags: false,
    });
  });

  it("encrypts the DR copy of an unencrypted DB snapshot with the region's key: CopyDBSnapshot accepts KmsKeyId then (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html)", async () => {
    rds.on(CopyDBSnapshotCommand).resolves({});
    await copyDbSnapshot({ source: snap({}), sourceRegion: "eu-west-1", targetRegion: "eu-central-1", name: "oa-app-db-20261121", kmsKeyId: "alias/dr", tags });
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, { KmsKeyId: "alias/dr" });
  });

  it("refuses a copy whose source ARN is not in the source region", async () => {
    await expect(copyDbSnapshot({ source: snap({}), sourceRegion: "us-east-1", targetRegion: "eu-central-1", name: "x", kmsKeyId: "k", tags })).rejects.toThrow(
      /not in the source region us-east-1/,
    );
    expect(rds).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
  });

  it("deletes instance and cluster snapshots with their own APIs", async () => {
    rds.on(DeleteDBSnapshotCommand).resolves({});
    rds.on(DeleteDBClusterSnapshotCommand).resolves({});
    await deleteRdsSnapshot(snap({}));
    await deleteRdsSnapshot(snap({ kind: "aurora-cluster", id: "oa-orders-20261101" }));
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: "oa-app-db-20261121" });
    expect(rds).toHaveReceivedCommandWith(DeleteDBClusterSnapshotCommand, { DBClusterSnapshotIdentifier: "oa-orders-20261101" });
  });

  it("lists manual snapshots across pages, tags included, with no per-snapshot tag call", async () => {
    rds
      .on(DescribeDBSnapshotsCommand, { SnapshotType: "manual", Marker: undefined })
      .resolves({
        Marker: "p2",
        DBSnapshots: [
          {
            DBSnapshotIdentifier: "a",
            DBInstanceIdentifier: "app-db",
            Status: "available",
            SnapshotType: "manual",
            SnapshotCreateTime: new Date("2026-11-20T02:00:00Z"),
            TagList: [{ Key: TAG.source, Value: "app-db" }],
          },
        ],
      })
      .on(DescribeDBSnapshotsCommand, { SnapshotType: "manual", Marker: "p2" })
      .resolves({
        DBSnapshots: [{ DBSnapshotIdentifier: "b", DBInstanceIdentifier: "app-db", Status: "creating", SnapshotType: "manual" }],
      });
    const out = await listDbSnapshots("eu-west-1");
    expect(out.map((s) => [s.id, s.status, s.resourceId])).toEqual([
      ["a", "available", "app-db"],
      ["b", "pending", "app-db"],
    ]);
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(rds).toHaveReceivedNthCommandWith(DescribeDBSnapshotsCommand, 1, { SnapshotType: "manual", MaxRecords: 100 });
    expect(rds).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it("a DR copy's age is that of the data it holds (captured-at tag), not of the copy", async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: "c",
          Status: "available",
          SnapshotType: "manual",
          SnapshotCreateTime: new Date("2026-11-21T09:00:00Z"),
          TagList: [{ Key: TAG.capturedAt, Value: "2026-11-21T02:05:00.000Z" }],
        },
      ],
    });
    const [s] = await listDbSnapshots("eu-central-1");
    expect(s!.createdAt.toISOString()).toBe("2026-11-21T02:05:00.000Z");
  });

  it("skips Aurora member instances (they are backed up through their cluster)", async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: "app-db", DBInstanceStatus: "available" },
        { DBInstanceIdentifier: "orders-1", DBClusterIdentifier: "orders", DBInstanceStatus: "available" },
      ],
    });
    expect((await listDbInstances("eu-west-1")).map((r) => r.id)).toEqual(["app-db"]);
  });
});

describe("EC2 adapter", () => {
  it("creates an EBS snapshot tagged at creation (no separate CreateTags call)", async () => {
    ec2.on(CreateSnapshotCommand).resolves({ SnapshotId: "snap-1" });
    expect(await createEbsSnapshot("eu-west-1", "vol-1", "oa-vol-1-20261121", tags)).toBe("snap-1");
    expect(ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      VolumeId: "vol-1",
      Description: "oa-vol-1-20261121",
      TagSpecifications: [{ ResourceType: "snapshot", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    });
  });

  it("copies an EBS snapshot encrypted with the DR key, from the source region", async () => {
    ec2.on(CopySnapshotCommand).resolves({ SnapshotId: "snap-dr" });
    await copyEbsSnapshot({
      source: snap({ kind: "ebs-volume", id: "snap-1", arn: undefined }),
      sourceRegion: "eu-west-1",
      targetRegion: "eu-central-1",
      name: "oa-vol-1-20261121",
      kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr",
      tags,
    });
    expect(ec2).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceRegion: "eu-west-1",
      SourceSnapshotId: "snap-1",
      Encrypted: true,
      KmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/dr",
      TagSpecifications: [{ ResourceType: "snapshot", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    });
    expect(await ec2.commandCalls(CopySnapshotCommand)[0]!.thisValue.config.region()).toBe("eu-central-1");
  });

  it("deletes by snapshot id", async () => {
    ec2.on(DeleteSnapshotCommand).resolves({});
    await deleteEbsSnapshot(snap({ kind: "ebs-volume", id: "snap-9" }));
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: "snap-9" });
  });

  it("lists only our snapshots (server-side tag filter), across pages, marking AMI-used ones", async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: "ami-1", BlockDeviceMappings: [{ Ebs: { SnapshotId: "snap-2" } }] }] });
    ec2
      .on(DescribeSnapshotsCommand, { NextToken: undefined })
      .resolves({ NextToken: "t2", Snapshots: [{ SnapshotId: "snap-1", VolumeId: "vol-1", State: "completed", StartTime: new Date("2026-11-20T02:00:00Z") }] })
      .on(DescribeSnapshotsCommand, { NextToken: "t2" })
      .resolves({ Snapshots: [{ SnapshotId: "snap-2", VolumeId: "vol-1", State: "pending" }] });
    const ami = await listAmiSnapshotIds("eu-west-1");
    const out = await listEbsSnapshots("eu-west-1", "ops-autopilot:prod", ami);
    expect(out.map((s) => [s.id, s.status, s.usedByImage])).toEqual([
      ["snap-1", "available", false],
      ["snap-2", "pending", true],
    ]);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeSnapshotsCommand, 1, {
      OwnerIds: ["self"],
      Filters: [{ Name: `tag:${TAG.managedBy}`, Values: ["ops-autopilot:prod"] }],
      MaxResults: 1000,
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeImagesCommand, { Owners: ["self"] });
  });

  it("selects volumes by tag key and by id with filters (VolumeIds cannot be paginated)", async () => {
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: "vol-1", State: "in-use" }] });
    await listVolumes("eu-west-1", { tag: { key: "ops-autopilot:backup" } });
    await listVolumes("eu-west-1", { ids: ["vol-1"] });
    expect(ec2).toHaveReceivedNthCommandWith(DescribeVolumesCommand, 1, { Filters: [{ Name: "tag-key", Values: ["ops-autopilot:backup"] }] });
    expect(ec2).toHaveReceivedNthCommandWith(DescribeVolumesCommand, 2, { Filters: [{ Name: "volume-id", Values: ["vol-1"] }] });
  });
});

describe("error classification", () => {
  it.each([
    ["DBSnapshotAlreadyExistsFault", "", "exists"],
    ["DBSnapshotNotFoundFault", "", "not-found"],
    ["InvalidSnapshot.NotFound", "", "not-found"],
    ["Throttling", "Rate exceeded", "retryable"],
    ["RequestLimitExceeded", "", "retryable"],
    ["KMSKeyNotAccessibleFault", "", "kms"],
    ["InvalidParameterValue", "The KMS key alias/x does not exist", "kms"],
    ["SnapshotQuotaExceededFault", "", "quota"],
    ["SnapshotLimitExceeded", "", "quota"],
    ["ResourceLimitExceeded", "", "quota"],
    ["InvalidDBInstanceStateFault", "", "state"],
    ["IncorrectState", "", "state"],
    ["InvalidSnapshot.InUse", "used by ami-1", "state"],
    ["AccessDenied", "", "fatal"],
  ])("%s → %s", (name, message, expected) => {
    expect(classifyError(Object.assign(new Error(message), { name }))).toBe(expected);
  });
});

// Last in the file: the sandbox replaces this file's module-level mocks, and restoring it leaves them unset.
describe("the adapters' requests against the sandbox's API rules", () => {
  const PRIMARY = "eu-west-1";
  const DR = "eu-central-1";
  const DR_KEY = "arn:aws:kms:eu-central-1:123456789012:key/dr";
  let sb: Sandbox;
  beforeEach(() => {
    sb = createSandbox({ clock: new FakeClock("2026-11-21T02:00:00Z"), regions: [PRIMARY, DR] });
  });
  afterEach(() => sb.restore());

  const copyAll = async (list: Snapshot[]) => {
    for (const source of list) {
      await copyDbSnapshot({ source, sourceRegion: PRIMARY, targetRegion: DR, name: source.id, kmsKeyId: DR_KEY, tags: { ...tags, [TAG.copyOf]: source.id } });
    }
  };

  it("copies encrypted and unencrypted Aurora cluster snapshots listed by the adapter (an unencrypted one stays unencrypted)", async () => {
    sb.rds.addCluster(PRIMARY, { id: "orders", encrypted: false });
    sb.rds.addCluster(PRIMARY, { id: "billing" });
    await createClusterSnapshot(PRIMARY, "orders", "oa-orders-20261121", tags);
    await createClusterSnapshot(PRIMARY, "billing", "oa-billing-20261121", tags);
    sb.clock.advance(10 * MINUTE);

    await copyAll(await listClusterSnapshots(PRIMARY));

    const dr = Object.fromEntries(sb.rds.snapshots(DR).map((s) => [s.id, [s.encrypted, s.kmsKeyId]]));
    expect(dr).toEqual({ "oa-orders-20261121": [false, undefined], "oa-billing-20261121": [true, DR_KEY] });
  });

  it("copies an unencrypted DB snapshot encrypted with the DR key", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", encrypted: false });
    await createDbSnapshot(PRIMARY, "app-db", "oa-app-db-20261121", tags);
    sb.clock.advance(15 * MINUTE);

    await copyAll(await listDbSnapshots(PRIMARY));

    expect(sb.rds.snapshots(DR).map((s) => [s.id, s.encrypted, s.kmsKeyId])).toEqual([["oa-app-db-20261121", true, DR_KEY]]);
  });

  it("copies an unencrypted EBS snapshot encrypted with the DR key", async () => {
    const vol = sb.ec2.addVolume(PRIMARY, { encrypted: false });
    const id = await createEbsSnapshot(PRIMARY, vol, "oa-vol-20261121", tags);
    sb.clock.advance(20 * MINUTE);
    const [source] = await listEbsSnapshots(PRIMARY, "ops-autopilot:prod");

    await copyEbsSnapshot({ source: source!, sourceRegion: PRIMARY, targetRegion: DR, name: "oa-vol-20261121", kmsKeyId: DR_KEY, tags });

    expect(source!.id).toBe(id);
    expect(sb.ec2.snapshots(DR).map((s) => [s.encrypted, s.kmsKeyId])).toEqual([[true, DR_KEY]]);
  });
});
