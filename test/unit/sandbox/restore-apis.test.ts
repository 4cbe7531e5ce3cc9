/**
 * The sandbox's restore APIs: RDS instance and Aurora cluster restores, instances in a cluster, the deletes, EBS
 * volumes from snapshots and the RDS Data API, each with its states over simulated time and AWS's documented refusals.
 * Each test names the reference page it follows; sandbox/README.md lists the rules with the same sources.
 */
import {
  CreateDBInstanceCommand,
  DBInstanceAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  EnableHttpEndpointCommand,
  InsufficientDBInstanceCapacityFault,
  ListTagsForResourceCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  StorageQuotaExceededFault,
} from "@aws-sdk/client-rds";
import { CreateVolumeCommand, DeleteVolumeCommand, DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  HttpEndpointNotEnabledException,
  RDSDataClient,
  RollbackTransactionCommand,
} from "@aws-sdk/client-rds-data";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, DAY, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/aws/index.ts";
import { rejection } from "./rejection.ts";

const REGION = "eu-central-1";
const ACCOUNT = "123456789012";
const API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference";
const EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference";
const DATA_API = "https://docs.aws.amazon.com/rdsdataservice/latest/APIReference";
const OURS = { "ops-autopilot:managed-by": "app:prod", "ops-autopilot:restore-test": "true" };
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const arn = (type: string, id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${type}:${id}`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`;

let sb: Sandbox;
let rds: RDSClient;
let ec2: EC2Client;
let data: RDSDataClient;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T04:00:00Z"), regions: ["eu-west-1", REGION] });
  rds = new RDSClient({ region: REGION });
  ec2 = new EC2Client({ region: REGION });
  data = new RDSDataClient({ region: REGION });
  sb.rds.addInstance(REGION, { id: "app-db", allocatedStorage: 50, tags: { team: "shop" } });
  sb.rds.addSnapshot(REGION, { id: "oa-app-db-20250301", sourceId: "app-db", tags: { "ops-autopilot:managed-by": "app:prod" } });
  sb.rds.addSubnetGroup(REGION, "restore-tests");
});
afterEach(() => sb.restore());

/** The instance's status now, through the API. */
async function instanceStatus(id: string): Promise<string | undefined> {
  return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]?.DBInstanceStatus;
}
async function clusterStatus(id: string): Promise<string | undefined> {
  return (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0]?.Status;
}
/** Status at each offset from now (the clock moves forward to each). */
async function timeline(offsets: number[], read: () => Promise<string | undefined>): Promise<Array<[number, string | undefined]>> {
  const start = sb.clock.nowMs();
  const out: Array<[number, string | undefined]> = [];
  for (const off of offsets) {
    sb.clock.set(start + off);
    out.push([off / MINUTE, await read()]);
  }
  return out;
}

const restoreInput = {
  DBInstanceIdentifier: "oa-restore-app-db",
  DBSnapshotIdentifier: "oa-app-db-20250301",
  DBInstanceClass: "db.t4g.micro",
  PubliclyAccessible: false,
  DBSubnetGroupName: "restore-tests",
  VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
  MultiAZ: false,
  DeletionProtection: false,
  Tags: tagList(OURS),
};

describe(`RestoreDBInstanceFromDBSnapshot (${API}/API_RestoreDBInstanceFromDBSnapshot.html)`, () => {
  it("restores a private single-AZ instance of the asked class: creating for 20 min, backing-up for 2, then available, with its tags", async () => {
    const out = await rds.send(new RestoreDBInstanceFromDBSnapshotCommand(restoreInput));

    expect(out.DBInstance).toMatchObject({
      DBInstanceIdentifier: "oa-restore-app-db",
      DBInstanceStatus: "creating",
      DBInstanceClass: "db.t4g.micro",
      Engine: "postgres",
      AllocatedStorage: 50,
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      DBSubnetGroup: { DBSubnetGroupName: "restore-tests" },
      VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-0123456789abcdef0", Status: "active" }],
      TagList: tagList(OURS),
    });
    expect(await timeline([0, 20 * MINUTE - 1, 20 * MINUTE, 22 * MINUTE - 1, 22 * MINUTE], () => instanceStatus("oa-restore-app-db"))).toEqual([
      [0, "creating"],
      [(20 * MINUTE - 1) / MINUTE, "creating"],
      [20, "backing-up"],
      [(22 * MINUTE - 1) / MINUTE, "backing-up"],
      [22, "available"],
    ]);
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn("db", "oa-restore-app-db") }));
    expect(tags.TagList).toEqual(tagList(OURS));
  });

  it("DBInstanceClass defaults to the source instance's; the identifier is case-insensitive and stored lowercase", async () => {
    const out = await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "OA-Restore-2", DBSnapshotIdentifier: "oa-app-db-20250301" }),
    );
    expect([out.DBInstance?.DBInstanceIdentifier, out.DBInstance?.DBInstanceClass, out.DBInstance?.DBSubnetGroup?.DBSubnetGroupName]).toEqual([
      "oa-restore-2",
      "db.t4g.medium",
      "default",
    ]);
  });

  it("documented errors: DBSnapshotNotFound (404), DBInstanceAlreadyExists, InvalidDBSnapshotState, identifier rules (1–63)", async () => {
    const missing = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBSnapshotIdentifier: "nope" })));
    sb.rds.addInstance(REGION, { id: "taken" });
    const exists = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBInstanceIdentifier: "Taken" })));
    sb.rds.addSnapshot(REGION, { id: "in-progress", sourceId: "app-db", status: "creating" });
    const creating = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBSnapshotIdentifier: "in-progress" })));
    const long = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBInstanceIdentifier: `a${"b".repeat(63)}` })));
    const dashes = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBInstanceIdentifier: "a--b" })));

    expect(missing).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect([missing.name, missing.$metadata?.httpStatusCode, missing.message]).toEqual(["DBSnapshotNotFoundFault", 404, "DBSnapshot not found: nope"]);
    expect(exists).toBeInstanceOf(DBInstanceAlreadyExistsFault);
    expect([exists.name, exists.Code, exists.$metadata?.httpStatusCode, exists.message]).toEqual([
      "DBInstanceAlreadyExistsFault",
      "DBInstanceAlreadyExists",
      400,
      "DB instance already exists",
    ]);
    expect([creating.name, creating.$metadata?.httpStatusCode, creating.message]).toEqual([
      "InvalidDBSnapshotStateFault",
      400,
      "Snapshot in-progress is not in the available state.",
    ]);
    expect([long.name, dashes.name]).toEqual(["InvalidParameterValue", "InvalidParameterValue"]);
    expect(long.message).toMatch(/^The parameter DBInstanceIdentifier is not a valid identifier\..*must be 1 to 63 characters long/);
  });

  it("classes the engine does not support are refused; a class without capacity is InsufficientDBInstanceCapacity (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html)", async () => {
    const unsupported = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBInstanceClass: "db.t2.nano" })));
    sb.rds.setCapacity(REGION, "db.t4g.micro", false);
    const capacity = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand(restoreInput)));
    sb.rds.setCapacity(REGION, "db.t4g.micro", true);

    expect([unsupported.name, unsupported.message]).toEqual([
      "InvalidParameterCombination",
      "RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.t2.nano, Engine=postgres, EngineVersion=16.4. For supported combinations of instance class and database engine version, see the documentation.",
    ]);
    expect(capacity).toBeInstanceOf(InsufficientDBInstanceCapacityFault);
    expect([capacity.Code, capacity.$metadata?.httpStatusCode]).toEqual(["InsufficientDBInstanceCapacity", 400]);
    expect((await rds.send(new RestoreDBInstanceFromDBSnapshotCommand(restoreInput))).DBInstance?.DBInstanceStatus).toBe("creating");
  });

  it("an unknown DBSubnetGroupName is DBSubnetGroupNotFoundFault (404); storage past 100,000 GiB is StorageQuotaExceeded (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html)", async () => {
    const subnet = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restoreInput, DBSubnetGroupName: "elsewhere" })));
    sb.rds.addInstance(REGION, { id: "huge", allocatedStorage: 99_960 });
    const storage = await rejection(rds.send(new RestoreDBInstanceFromDBSnapshotCommand(restoreInput)));

    expect([subnet.name, subnet.$metadata?.httpStatusCode, subnet.message]).toEqual(["DBSubnetGroupNotFoundFault", 404, "DBSubnetGroup elsewhere not found."]);
    expect(storage).toBeInstanceOf(StorageQuotaExceededFault);
    expect([storage.Code, storage.message]).toEqual([
      "StorageQuotaExceeded",
      "The request would result in the user exceeding the allowed amount of storage available across all DB instances (100000 GiB).",
    ]);
  });
});

describe("injected restore failures (sb.rds.failRestores)", () => {
  it("failed / incompatible-restore / storage-full after the restore's 20 min; stuck stays creating", async () => {
    const outcomes = ["failed", "incompatible-restore", "storage-full", "stuck"] as const;
    for (const outcome of outcomes) {
      sb.rds.failRestores({ outcome, match: (id) => id === `r-${outcome}` });
      await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: `r-${outcome}`, DBSnapshotIdentifier: "oa-app-db-20250301" }));
    }
    const at = async () => Promise.all(outcomes.map((o) => instanceStatus(`r-${o}`)));

    expect(await at()).toEqual(["creating", "creating", "creating", "creating"]);
    sb.clock.advance(20 * MINUTE);
    expect(await at()).toEqual(["failed", "incompatible-restore", "storage-full", "creating"]);
    sb.clock.advance(DAY);
    expect(await at()).toEqual(["failed", "incompatible-restore", "storage-full", "creating"]);
  });

  it("the handle counts hits and times; unmatched restores are unaffected", async () => {
    const h = sb.rds.failRestores({ outcome: "failed", region: REGION, times: 1 });
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "first", DBSnapshotIdentifier: "oa-app-db-20250301" }));
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "second", DBSnapshotIdentifier: "oa-app-db-20250301" }));
    sb.clock.advance(22 * MINUTE);
    expect([h.hits, await instanceStatus("first"), await instanceStatus("second")]).toEqual([1, "failed", "available"]);
  });
});

describe(`RestoreDBClusterFromSnapshot and CreateDBInstance in the cluster (${API}/API_RestoreDBClusterFromSnapshot.html, ${API}/API_CreateDBInstance.html)`, () => {
  beforeEach(() => {
    sb.rds.addCluster(REGION, { id: "app-aurora", members: [] });
    sb.rds.addSnapshot(REGION, { id: "oa-app-aurora-20250301", kind: "cluster", sourceId: "app-aurora", tags: { "ops-autopilot:managed-by": "app:prod" } });
  });

  const clusterInput = {
    DBClusterIdentifier: "oa-restore-aurora",
    SnapshotIdentifier: "oa-app-aurora-20250301",
    Engine: "aurora-postgresql",
    DBSubnetGroupName: "restore-tests",
    VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
    DeletionProtection: false,
    Tags: tagList(OURS),
  };
  const memberInput = {
    DBInstanceIdentifier: "oa-restore-aurora-1",
    DBClusterIdentifier: "oa-restore-aurora",
    DBInstanceClass: "db.t4g.medium",
    Engine: "aurora-postgresql",
    Tags: tagList(OURS),
  };

  it("the cluster is creating for 15 min with no instances; then an instance is creating for 10 min; the cluster lists it", async () => {
    const out = await rds.send(new RestoreDBClusterFromSnapshotCommand(clusterInput));
    expect(out.DBCluster).toMatchObject({
      DBClusterIdentifier: "oa-restore-aurora",
      Status: "creating",
      Engine: "aurora-postgresql",
      DBClusterMembers: [],
      DeletionProtection: false,
      HttpEndpointEnabled: false,
      DBSubnetGroup: "restore-tests",
      TagList: tagList(OURS),
    });
    const early = await rejection(rds.send(new CreateDBInstanceCommand(memberInput)));
    expect([early.name, early.message]).toEqual(["InvalidDBClusterStateFault", "DB cluster oa-restore-aurora is not in the available state (it is creating)."]);

    expect(await timeline([0, 15 * MINUTE - 1, 15 * MINUTE], () => clusterStatus("oa-restore-aurora"))).toEqual([
      [0, "creating"],
      [(15 * MINUTE - 1) / MINUTE, "creating"],
      [15, "available"],
    ]);
    const member = await rds.send(new CreateDBInstanceCommand(memberInput));
    expect(member.DBInstance).toMatchObject({ DBInstanceStatus: "creating", DBClusterIdentifier: "oa-restore-aurora", DBInstanceClass: "db.t4g.medium" });
    expect(await timeline([0, 10 * MINUTE - 1, 10 * MINUTE], () => instanceStatus("oa-restore-aurora-1"))).toEqual([
      [0, "creating"],
      [(10 * MINUTE - 1) / MINUTE, "creating"],
      [10, "available"],
    ]);
    const cluster = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: "oa-restore-aurora" }))).DBClusters?.[0];
    expect(cluster?.DBClusterMembers).toEqual([{ DBInstanceIdentifier: "oa-restore-aurora-1", IsClusterWriter: true }]);
    expect((await rds.send(new ListTagsForResourceCommand({ ResourceName: arn("cluster", "oa-restore-aurora") }))).TagList).toEqual(tagList(OURS));
  });

  it("Engine is required and must be the snapshot's; unknown snapshot (404), existing cluster, snapshot not available", async () => {
    // A request missing a required field, as a caller ignoring the SDK's types would send it.
    const { Engine: _, ...noEngine } = clusterInput;
    const missingEngine = await rejection(rds.send(new RestoreDBClusterFromSnapshotCommand(noEngine as typeof clusterInput)));
    const otherEngine = await rejection(rds.send(new RestoreDBClusterFromSnapshotCommand({ ...clusterInput, Engine: "aurora-mysql" })));
    const missing = await rejection(rds.send(new RestoreDBClusterFromSnapshotCommand({ ...clusterInput, SnapshotIdentifier: "nope" })));
    const exists = await rejection(rds.send(new RestoreDBClusterFromSnapshotCommand({ ...clusterInput, DBClusterIdentifier: "app-aurora" })));
    sb.rds.addSnapshot(REGION, { id: "aurora-creating", kind: "cluster", sourceId: "app-aurora", status: "creating" });
    const creating = await rejection(rds.send(new RestoreDBClusterFromSnapshotCommand({ ...clusterInput, SnapshotIdentifier: "aurora-creating" })));

    expect([missingEngine.name, missingEngine.message]).toEqual(["InvalidParameterValue", "The parameter Engine must be provided and must not be blank."]);
    expect(otherEngine.name).toBe("InvalidParameterCombination");
    expect([missing.name, missing.$metadata?.httpStatusCode]).toEqual(["DBClusterSnapshotNotFoundFault", 404]);
    expect([exists.name, exists.$metadata?.httpStatusCode]).toEqual(["DBClusterAlreadyExistsFault", 400]);
    expect(creating.name).toBe("InvalidDBClusterSnapshotStateFault");
  });

  it("CreateDBInstance: DBInstanceClass and Engine required, Engine the cluster's, an Aurora class, an existing cluster (404)", async () => {
    sb.rds.addCluster(REGION, { id: "oa-restore-aurora" });
    const { DBInstanceClass: _, ...noClass } = memberInput;
    const errors = await Promise.all([
      rejection(rds.send(new CreateDBInstanceCommand(noClass as typeof memberInput))),
      rejection(rds.send(new CreateDBInstanceCommand({ ...memberInput, Engine: "postgres" }))),
      rejection(rds.send(new CreateDBInstanceCommand({ ...memberInput, DBInstanceClass: "db.t3.micro" }))),
      rejection(rds.send(new CreateDBInstanceCommand({ ...memberInput, DBClusterIdentifier: "nope" }))),
    ]);
    expect(errors.map((e) => [e.name, e.$metadata?.httpStatusCode])).toEqual([
      ["InvalidParameterValue", 400],
      ["InvalidParameterCombination", 400],
      ["InvalidParameterCombination", 400],
      ["DBClusterNotFoundFault", 404],
    ]);
    expect(errors[0]?.message).toBe("The parameter DBInstanceClass must be provided and must not be blank.");
  });
});

describe(`DeleteDBInstance and DeleteDBCluster (${API}/API_DeleteDBInstance.html, ${API}/API_DeleteDBCluster.html)`, () => {
  it("SkipFinalSnapshot: deleting for 5 min, then gone (DBInstanceNotFound 404)", async () => {
    sb.rds.addInstance(REGION, { id: "throwaway" });
    const out = await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "throwaway", SkipFinalSnapshot: true }));
    expect(out.DBInstance?.DBInstanceStatus).toBe("deleting");
    sb.clock.advance(5 * MINUTE - 1);
    expect(await instanceStatus("throwaway")).toBe("deleting");
    sb.clock.advance(1);
    const gone = await rejection(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "throwaway" })));
    expect([gone.name, gone.$metadata?.httpStatusCode, gone.message]).toEqual(["DBInstanceNotFoundFault", 404, "DBInstance throwaway not found."]);
  });

  it("a final snapshot or SkipFinalSnapshot, not both, not neither; deletion protection refuses; deleting twice is InvalidDBInstanceState", async () => {
    sb.rds.addInstance(REGION, { id: "guarded", deletionProtection: true });
    sb.rds.addInstance(REGION, { id: "plain" });
    const neither = await rejection(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "plain" })));
    const both = await rejection(
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "plain", SkipFinalSnapshot: true, FinalDBSnapshotIdentifier: "plain-final" })),
    );
    const guarded = await rejection(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "guarded", SkipFinalSnapshot: true })));
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "plain", FinalDBSnapshotIdentifier: "plain-final" }));
    const twice = await rejection(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "plain", SkipFinalSnapshot: true })));

    expect([neither.name, neither.message]).toEqual([
      "InvalidParameterCombination",
      "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
    ]);
    expect([both.name, both.message]).toEqual(["InvalidParameterCombination", "Cannot specify FinalDBSnapshotIdentifier when SkipFinalSnapshot is true."]);
    expect([guarded.name, guarded.message]).toEqual([
      "InvalidParameterCombination",
      "Cannot delete protected DB Instance, please disable deletion protection and try again.",
    ]);
    expect([twice.name, twice.message]).toEqual(["InvalidDBInstanceStateFault", "Instance plain is already being deleted."]);
    // The final snapshot is taken first (10 min), then the instance is deleted (5 min).
    expect(sb.rds.snapshot(REGION, "plain-final")).toMatchObject({ status: "creating", type: "manual" });
    sb.clock.advance(15 * MINUTE - 1);
    expect([await instanceStatus("plain"), sb.rds.snapshot(REGION, "plain-final")?.status]).toEqual(["deleting", "available"]);
    sb.clock.advance(1);
    expect((await rejection(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "plain" })))).name).toBe("DBInstanceNotFoundFault");
  });

  it("an instance that failed to restore can only be deleted with SkipFinalSnapshot", async () => {
    sb.rds.failRestores({ outcome: "incompatible-restore" });
    await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "broken", DBSnapshotIdentifier: "oa-app-db-20250301" }));
    sb.clock.advance(20 * MINUTE);
    const withFinal = await rejection(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "broken", FinalDBSnapshotIdentifier: "broken-final" })));
    expect([withFinal.name, withFinal.message]).toEqual([
      "InvalidDBInstanceStateFault",
      "Instance broken is in the incompatible-restore state: it can only be deleted with SkipFinalSnapshot.",
    ]);
    expect((await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "broken", SkipFinalSnapshot: true }))).DBInstance?.DBInstanceStatus).toBe(
      "deleting",
    );
  });

  it("a cluster with instances not being deleted is refused (InvalidDBClusterStateFault); its instances take no final snapshot; then the cluster goes", async () => {
    sb.rds.addCluster(REGION, { id: "oa-restore-aurora", members: ["oa-restore-aurora-1"] });
    sb.rds.addInstance(REGION, { id: "oa-restore-aurora-1", clusterId: "oa-restore-aurora", engine: "aurora-postgresql" });
    const withMembers = await rejection(rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: "oa-restore-aurora", SkipFinalSnapshot: true })));
    const memberFinal = await rejection(
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "oa-restore-aurora-1", FinalDBSnapshotIdentifier: "x-final" })),
    );
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "oa-restore-aurora-1" }));
    const out = await rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: "oa-restore-aurora", SkipFinalSnapshot: true }));

    expect([withMembers.name, withMembers.$metadata?.httpStatusCode, withMembers.message]).toEqual([
      "InvalidDBClusterStateFault",
      400,
      "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
    ]);
    expect([memberFinal.name, memberFinal.message]).toEqual([
      "InvalidParameterCombination",
      "FinalDBSnapshotIdentifier can not be specified when deleting a cluster instance",
    ]);
    expect(out.DBCluster?.Status).toBe("deleting");
    sb.clock.advance(10 * MINUTE - 1);
    expect(await clusterStatus("oa-restore-aurora")).toBe("deleting");
    sb.clock.advance(1);
    expect((await rejection(rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: "oa-restore-aurora" })))).name).toBe("DBClusterNotFoundFault");
  });

  it("a cluster under deletion protection is refused; a throttled delete surfaces Throttling after the SDK's attempts", async () => {
    sb.rds.addCluster(REGION, { id: "prod-aurora", deletionProtection: true });
    const guarded = await rejection(rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: "prod-aurora", SkipFinalSnapshot: true })));
    expect([guarded.name, guarded.message]).toEqual([
      "InvalidParameterCombination",
      "Cannot delete protected Cluster, please disable deletion protection and try again.",
    ]);

    sb.rds.addInstance(REGION, { id: "throwaway" });
    const h = sb.inject({ service: "rds", command: "DeleteDBInstance", error: "throttling", times: Number.POSITIVE_INFINITY });
    const throttled = await rejection(
      new RDSClient({ region: REGION, maxAttempts: 6 }).send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "throwaway", SkipFinalSnapshot: true })),
    );
    h.clear();
    expect([throttled.name, throttled.$metadata?.httpStatusCode, throttled.$metadata?.attempts, await instanceStatus("throwaway")]).toEqual([
      "Throttling",
      400,
      6,
      "available",
    ]);
  });
});

describe(`EC2 CreateVolume and DeleteVolume (${EC2_API}/API_CreateVolume.html, ${EC2_API}/API_DeleteVolume.html)`, () => {
  let snapId: string;
  beforeEach(() => {
    const vol = sb.ec2.addVolume(REGION, { size: 100 });
    snapId = sb.ec2.addSnapshot(REGION, { volumeId: vol, tags: { "ops-autopilot:managed-by": "app:prod" } }).id;
  });

  it("a volume from a snapshot in an AZ: the snapshot's size by default, creating for 2 min then available, tagged, encrypted like the snapshot", async () => {
    const out = await ec2.send(
      new CreateVolumeCommand({ SnapshotId: snapId, AvailabilityZone: `${REGION}b`, TagSpecifications: [{ ResourceType: "volume", Tags: tagList(OURS) }] }),
    );
    expect(out).toMatchObject({
      State: "creating",
      Size: 100,
      SnapshotId: snapId,
      AvailabilityZone: `${REGION}b`,
      VolumeType: "gp2",
      Encrypted: true,
      Tags: tagList(OURS),
    });
    const id = out.VolumeId!;
    const state = async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0]?.State;
    expect(await timeline([0, 2 * MINUTE - 1, 2 * MINUTE], state)).toEqual([
      [0, "creating"],
      [(2 * MINUTE - 1) / MINUTE, "creating"],
      [2, "available"],
    ]);
    expect(sb.ec2.volume(REGION, id)).toEqual({ id, status: "available", size: 100, tags: OURS, snapshotId: snapId, availabilityZone: `${REGION}b` });
  });

  it("errors: size below the snapshot's, an AZ of another region, a pending or unknown snapshot, neither snapshot nor size", async () => {
    const pendingId = sb.ec2.addSnapshot(REGION, { volumeId: sb.ec2.addVolume(REGION), state: "pending" }).id;
    const errors = await Promise.all([
      rejection(ec2.send(new CreateVolumeCommand({ SnapshotId: snapId, AvailabilityZone: `${REGION}a`, Size: 50 }))),
      rejection(ec2.send(new CreateVolumeCommand({ SnapshotId: snapId, AvailabilityZone: "eu-west-1a" }))),
      rejection(ec2.send(new CreateVolumeCommand({ SnapshotId: pendingId, AvailabilityZone: `${REGION}a` }))),
      rejection(ec2.send(new CreateVolumeCommand({ SnapshotId: "snap-0123456789abcdef0", AvailabilityZone: `${REGION}a` }))),
      rejection(ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a` }))),
    ]);
    expect(errors.map((e) => [e.name, e.message])).toEqual([
      ["InvalidParameterValue", `Volume of size 50GB is smaller than snapshot '${snapId}', expect size >= 100GB`],
      ["InvalidZone.NotFound", "The zone 'eu-west-1a' does not exist."],
      ["IncorrectState", `Snapshot '${pendingId}' is in the 'pending' state.`],
      ["InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist."],
      ["MissingParameter", "The request must contain the parameter size or snapshotId"],
    ]);
  });

  it("an injected kms fault is accepted and the volume turns error after a minute, as EBS does", async () => {
    sb.inject({ service: "ec2", command: "CreateVolume", error: "kms" });
    const out = await ec2.send(new CreateVolumeCommand({ SnapshotId: snapId, AvailabilityZone: `${REGION}a` }));
    sb.clock.advance(MINUTE);
    expect([out.State, sb.ec2.volume(REGION, out.VolumeId!)?.status]).toEqual(["creating", "error"]);
  });

  it("DeleteVolume: in-use → VolumeInUse, creating → IncorrectState, available → deleting for a minute, then InvalidVolume.NotFound", async () => {
    const attached = sb.ec2.addVolume(REGION, { status: "in-use" });
    const id = (await ec2.send(new CreateVolumeCommand({ SnapshotId: snapId, AvailabilityZone: `${REGION}a` }))).VolumeId!;
    const inUse = await rejection(ec2.send(new DeleteVolumeCommand({ VolumeId: attached })));
    const creating = await rejection(ec2.send(new DeleteVolumeCommand({ VolumeId: id })));
    sb.clock.advance(2 * MINUTE);
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    const state = sb.ec2.volume(REGION, id)?.status;
    sb.clock.advance(MINUTE);
    const gone = await rejection(ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })));

    expect([inUse.name, inUse.$metadata?.httpStatusCode, inUse.message]).toEqual([
      "VolumeInUse",
      400,
      `Volume ${attached} is currently attached to i-${attached.slice(4)}`,
    ]);
    expect([creating.name, creating.message]).toEqual(["IncorrectState", `The volume '${id}' is 'creating'`]);
    expect(state).toBe("deleting");
    expect([gone.name, gone.message]).toEqual(["InvalidVolume.NotFound", `The volume '${id}' does not exist.`]);
  });
});

describe(`RDS Data API ExecuteStatement (${DATA_API}/API_ExecuteStatement.html)`, () => {
  const statement = { resourceArn: arn("cluster", "oa-restore-aurora"), secretArn: SECRET, database: "app", sql: "select count(*) from orders" };
  beforeEach(() => {
    sb.rds.addCluster(REGION, { id: "oa-restore-aurora", members: ["oa-restore-aurora-1"], masterUsername: "app_admin", masterPassword: "s3cret-Pa55" });
    sb.rds.addInstance(REGION, { id: "oa-restore-aurora-1", clusterId: "oa-restore-aurora", engine: "aurora-postgresql", instanceClass: "db.r6g.large" });
    statement.secretArn = sb.secretsManager.put(REGION, "orders-aurora-master", { username: "app_admin", password: "s3cret-Pa55" });
  });

  it("refuses a cluster whose HTTP endpoint is not enabled (HttpEndpointNotEnabledException, 400); after EnableHttpEndpoint returns the registered records", async () => {
    const off = await rejection(data.send(new ExecuteStatementCommand(statement)));
    expect(off).toBeInstanceOf(HttpEndpointNotEnabledException);
    expect([off.name, off.$metadata?.httpStatusCode]).toEqual(["HttpEndpointNotEnabledException", 400]);

    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: arn("cluster", "oa-restore-aurora") }));
    sb.rdsData.answer("SELECT count(*)   FROM orders", [[1234]]);
    sb.rdsData.answer(/max\(created_at\)/, { rows: [[new Date("2025-03-01T03:58:00Z"), null, "ok", true, 1.5]], columns: ["max", "n", "s", "b", "d"] });
    const count = await data.send(new ExecuteStatementCommand(statement));
    const latest = await data.send(new ExecuteStatementCommand({ ...statement, sql: "select max(created_at) from orders", includeResultMetadata: true }));

    expect(count.records).toEqual([[{ longValue: 1234 }]]);
    expect(latest.records).toEqual([
      [{ stringValue: "2025-03-01 03:58:00.000" }, { isNull: true }, { stringValue: "ok" }, { booleanValue: true }, { doubleValue: 1.5 }],
    ]);
    expect(latest.columnMetadata?.map((c) => c.name)).toEqual(["max", "n", "s", "b", "d"]);
    expect(sb.rdsData.statements().map((s) => [s.database, s.sql])).toEqual([
      ["app", "select count(*) from orders"],
      ["app", "select max(created_at) from orders"],
    ]);
  });

  it("a failing smoke query: a registered database error, a timeout, an unregistered statement; no available writer; another region's cluster", async () => {
    sb.rds.addCluster(REGION, { id: "empty", httpEndpoint: true });
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: arn("cluster", "oa-restore-aurora") }));
    sb.rdsData.answer(/from missing/, { error: 'ERROR: relation "missing" does not exist; SQLState: 42P01' });
    sb.rdsData.answer(/pg_sleep/, { timeout: true });
    const errors = await Promise.all([
      rejection(data.send(new ExecuteStatementCommand({ ...statement, sql: "select 1 from missing" }))),
      rejection(data.send(new ExecuteStatementCommand({ ...statement, sql: "select pg_sleep(600)" }))),
      rejection(data.send(new ExecuteStatementCommand({ ...statement, sql: "select 42" }))),
      rejection(data.send(new ExecuteStatementCommand({ ...statement, resourceArn: arn("cluster", "empty") }))),
      rejection(data.send(new ExecuteStatementCommand({ ...statement, resourceArn: statement.resourceArn.replace(REGION, "eu-west-1") }))),
    ]);
    expect(errors.map((e) => [e.name, e.$metadata?.httpStatusCode, e.message])).toEqual([
      ["DatabaseErrorException", 400, 'ERROR: relation "missing" does not exist; SQLState: 42P01'],
      ["StatementTimeoutException", 400, "The statement timed out."],
      ["DatabaseErrorException", 400, "ERROR: the sandbox has no answer registered for: select 42"],
      ["DatabaseUnavailableException", 504, "The writer instance in the DB cluster isn't available."],
      ["NotFoundException", 404, `DB cluster not found: ${statement.resourceArn.replace(REGION, "eu-west-1")}`],
    ]);
  });

  it("an injected fault on ExecuteStatement fails the smoke query with the Data API's error", async () => {
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: arn("cluster", "oa-restore-aurora") }));
    sb.rdsData.answer(statement.sql, [[1]]);
    sb.inject({ service: "rdsData", command: "ExecuteStatement", error: "accessDenied" });
    const denied = await rejection(data.send(new ExecuteStatementCommand(statement)));
    expect([denied.name, denied.$metadata?.httpStatusCode]).toEqual(["AccessDeniedException", 403]);
    expect((await data.send(new ExecuteStatementCommand(statement))).records).toEqual([[{ longValue: 1 }]]);
  });
  it(`transactions (${DATA_API}/API_BeginTransaction.html): statements carrying the id run in it; after RollbackTransaction, an unknown id or three idle minutes the id is NotFoundException`, async () => {
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: statement.resourceArn }));
    sb.rdsData.answer(statement.sql, [[7]]);
    const common = { resourceArn: statement.resourceArn, secretArn: statement.secretArn };
    const { transactionId } = await data.send(new BeginTransactionCommand({ ...common, database: "app" }));
    expect(transactionId).toMatch(/^[A-Za-z0-9+/=]+$/);
    await data.send(new ExecuteStatementCommand({ ...statement, transactionId, sql: "SET TRANSACTION READ ONLY" }));
    expect((await data.send(new ExecuteStatementCommand({ ...statement, transactionId }))).records).toEqual([[{ longValue: 7 }]]);
    expect(await data.send(new RollbackTransactionCommand({ ...common, transactionId }))).toMatchObject({ transactionStatus: "Rollback Complete" });
    expect(sb.rdsData.statements().map((x) => [x.transactionId, x.sql])).toEqual([
      [transactionId, "SET TRANSACTION READ ONLY"],
      [transactionId, statement.sql],
    ]);

    const idle = (await data.send(new BeginTransactionCommand(common))).transactionId;
    sb.clock.advance(3 * MINUTE + 1000);
    const errors = await Promise.all([
      rejection(data.send(new ExecuteStatementCommand({ ...statement, transactionId }))),
      rejection(data.send(new RollbackTransactionCommand({ ...common, transactionId: "bm8tc3VjaC10eA==" }))),
      rejection(data.send(new ExecuteStatementCommand({ ...statement, transactionId: idle }))),
    ]);
    expect(errors.map((e) => [e.name, e.$metadata?.httpStatusCode, e.message])).toEqual([
      ["NotFoundException", 404, `Transaction ${transactionId} is not found`],
      ["NotFoundException", 404, "Transaction bm8tc3VjaC10eA== is not found"],
      ["NotFoundException", 404, `Transaction ${idle} is not found`],
    ]);
    expect(sb.rdsData.transactions().map((t) => t.state)).toEqual(["rolled-back", "expired"]);
  });

  it("in a transaction: a failed statement aborts it (SQLSTATE 25P02 until it ends; a commit then rolls back); SET LOCAL statement_timeout under 45 s makes a slow query Postgres' 57014", async () => {
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: statement.resourceArn }));
    sb.rdsData.answer(/from missing/, { error: 'ERROR: relation "missing" does not exist; SQLState: 42P01' });
    sb.rdsData.answer(/pg_sleep/, { timeout: true });
    sb.rdsData.answer(statement.sql, [[7]]);
    const common = { resourceArn: statement.resourceArn, secretArn: statement.secretArn };
    const a = (await data.send(new BeginTransactionCommand(common))).transactionId;
    const failed = await rejection(data.send(new ExecuteStatementCommand({ ...statement, transactionId: a, sql: "select 1 from missing" })));
    const next = await rejection(data.send(new ExecuteStatementCommand({ ...statement, transactionId: a })));
    expect([failed.message, next.name, next.message]).toEqual([
      'ERROR: relation "missing" does not exist; SQLState: 42P01',
      "DatabaseErrorException",
      "ERROR: current transaction is aborted, commands ignored until end of transaction block; SQLState: 25P02",
    ]);
    expect(await data.send(new CommitTransactionCommand({ ...common, transactionId: a }))).toMatchObject({ transactionStatus: "Rollback Complete" });

    const b = (await data.send(new BeginTransactionCommand(common))).transactionId;
    await data.send(new ExecuteStatementCommand({ ...statement, transactionId: b, sql: "SET LOCAL statement_timeout = 2000" }));
    const cancelled = await rejection(data.send(new ExecuteStatementCommand({ ...statement, transactionId: b, sql: "select pg_sleep(600)" })));
    const callTimeout = await rejection(data.send(new ExecuteStatementCommand({ ...statement, sql: "select pg_sleep(600)" })));
    expect([cancelled.name, cancelled.message, callTimeout.name]).toEqual([
      "DatabaseErrorException",
      "ERROR: canceling statement due to statement timeout; SQLState: 57014",
      "StatementTimeoutException",
    ]);
  });

  it(`a writer of a T class is refused: "Data API isn't supported on T DB instance classes" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html; the error class unconfirmed)`, async () => {
    sb.rds.addCluster(REGION, { id: "small", members: ["small-1"], httpEndpoint: true, masterUsername: "app_admin", masterPassword: "s3cret-Pa55" });
    sb.rds.addInstance(REGION, { id: "small-1", clusterId: "small", engine: "aurora-postgresql", instanceClass: "db.t4g.medium" });
    const refused = await rejection(data.send(new BeginTransactionCommand({ resourceArn: arn("cluster", "small"), secretArn: statement.secretArn })));
    expect([refused.name, refused.$metadata?.httpStatusCode, refused.message]).toEqual([
      "BadRequestException",
      400,
      "Data API isn't supported on T DB instance classes (the writer is db.t4g.medium).",
    ]);
  });

  it("the secret is read for the caller in the cluster's region: missing there (SecretsErrorException), without a password (InvalidSecretException), another password (Postgres' 28P01 text, the password not in it)", async () => {
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: statement.resourceArn }));
    sb.rdsData.answer(statement.sql, [[7]]);
    const elsewhere = sb.secretsManager.put("eu-west-1", "orders-aurora-master", { username: "app_admin", password: "s3cret-Pa55" });
    const noPassword = sb.secretsManager.put(REGION, "half", { username: "app_admin" });
    const wrong = sb.secretsManager.put(REGION, "wrong", { username: "app_admin", password: "not-the-Pa55" });
    const errors = await Promise.all(
      [elsewhere, noPassword, wrong].map((secretArn) => rejection(data.send(new BeginTransactionCommand({ resourceArn: statement.resourceArn, secretArn })))),
    );
    expect(errors.map((e) => [e.name, e.$metadata?.httpStatusCode, e.message])).toEqual([
      ["SecretsErrorException", 400, "The secret provided wasn't found."],
      ["InvalidSecretException", 400, "The Secrets Manager secret used with the request isn't valid."],
      ["DatabaseErrorException", 400, 'FATAL: password authentication failed for user "app_admin"'],
    ]);
    expect(errors.map((e) => e.message).join(" ")).not.toContain("Pa55");
  });

  it(`master credentials: a managed master secret (MasterUserSecret, ${"https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html"}) opens the cluster; a snapshot and its restore keep the password, so a rotation since fails the restore's login`, async () => {
    sb.rds.addCluster(REGION, { id: "orders", members: ["orders-1"], manageMasterUserPassword: true, httpEndpoint: true });
    sb.rds.addInstance(REGION, { id: "orders-1", clusterId: "orders", engine: "aurora-postgresql", instanceClass: "db.r6g.large" });
    const described = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: "orders" }))).DBClusters![0]!;
    const managed = described.MasterUserSecret!.SecretArn!;
    expect([described.MasterUsername, described.MasterUserSecret?.SecretStatus]).toEqual(["postgres", "active"]);
    expect(managed).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!cluster-[0-9a-f-]{36}-[a-z0-9]{6}$`));
    expect(JSON.parse(sb.secretsManager.currentValue(REGION, managed)!)).toEqual({ username: "postgres", password: "sandbox-orders-password" });
    sb.rdsData.answer("select 1", [[1]]);
    const source = { resourceArn: arn("cluster", "orders"), secretArn: managed, sql: "select 1" };
    expect((await data.send(new ExecuteStatementCommand(source))).records).toEqual([[{ longValue: 1 }]]);

    sb.rds.takeSnapshot(REGION, { dbId: "orders", id: "orders-snap", kind: "cluster" });
    sb.clock.advance(DAY);
    await rds.send(
      new RestoreDBClusterFromSnapshotCommand({ DBClusterIdentifier: "orders-copy", SnapshotIdentifier: "orders-snap", Engine: "aurora-postgresql" }),
    );
    sb.clock.advance(DAY);
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: "orders-copy-1",
        DBClusterIdentifier: "orders-copy",
        DBInstanceClass: "db.r6g.large",
        Engine: "aurora-postgresql",
      }),
    );
    sb.clock.advance(DAY);
    await rds.send(new EnableHttpEndpointCommand({ ResourceArn: arn("cluster", "orders-copy") }));
    const restored = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: "orders-copy" }))).DBClusters![0]!;
    expect([restored.MasterUsername, restored.MasterUserSecret]).toEqual(["postgres", undefined]);
    const copy = { ...source, resourceArn: arn("cluster", "orders-copy") };
    expect((await data.send(new ExecuteStatementCommand(copy))).records).toEqual([[{ longValue: 1 }]]);

    sb.secretsManager.put(REGION, managed.split(":secret:")[1]!.slice(0, -7), { username: "postgres", password: "rotated" });
    const refused = await rejection(data.send(new ExecuteStatementCommand(copy)));
    expect([refused.name, refused.message]).toEqual(["DatabaseErrorException", 'FATAL: password authentication failed for user "postgres"']);
  });
});
