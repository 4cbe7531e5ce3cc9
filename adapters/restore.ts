import {
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DeleteDBClusterCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  paginateDescribeDBClusters,
  RestoreDBClusterFromSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  EnableHttpEndpointCommand,
  paginateDescribeDBInstances,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { rds } from "./clients.ts";
import { listVolumeLeftovers } from "./restore-ebs.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import type { RestoreTestLeftover } from "../core/restore-test.ts";

/**
 * Restore tests' throwaways (issue 11): an RDS instance restored from a snapshot (EBS volumes: ./restore-ebs.ts),
 * its describe and delete, and the listing the janitor judges (core/restore-test.ts janitor). Decisions (names,
 * tags, classes, what to delete) are core's; this module only sends them.
 */

/** RDS allows 20–100 records per page. */
const RDS_PAGE = { pageSize: 100 } as const;

/** What the runbook observes of a throwaway (an instance or a volume). */
export interface ThrowawayState {
  id: string;
  status: string;
  engine?: string;
  engineVersion?: string;
  storageGb?: number;
  instanceClass?: string;
  endpoint?: { host: string; port: number };
  /** A cluster's ARN (the Data API's `resourceArn`, EnableHttpEndpoint's `ResourceArn`). */
  arn?: string;
  /** A cluster's RDS Data API endpoint is enabled. */
  httpEndpointEnabled?: boolean;
  tags: Record<string, string>;
}

/** What the `available` smoke check compares the throwaway with. */
export interface SnapshotFacts {
  engine?: string;
  engineVersion?: string;
  storageGb?: number;
}

export interface RestoreDbInstanceRequest {
  region: string;
  snapshotId: string;
  instanceId: string;
  instanceClass: string;
  dbSubnetGroupName: string;
  vpcSecurityGroupIds: readonly string[];
  tags: Record<string, string>;
}

/**
 * RestoreDBInstanceFromDBSnapshot into a private, single-AZ, unprotected throwaway carrying our tags (Tags given,
 * so the snapshot's tags are not copied; CopyTagsToSnapshot off so nothing it might snapshot looks like a backup).
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html
 */
export async function restoreDbInstance(req: RestoreDbInstanceRequest): Promise<void> {
  await rds(req.region).send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: req.instanceId,
      DBSnapshotIdentifier: req.snapshotId,
      DBInstanceClass: req.instanceClass,
      DBSubnetGroupName: req.dbSubnetGroupName,
      VpcSecurityGroupIds: [...req.vpcSecurityGroupIds],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: recordToTags(req.tags),
    }),
  );
}

function instanceState(db: DBInstance): ThrowawayState {
  return {
    id: db.DBInstanceIdentifier ?? "",
    status: db.DBInstanceStatus ?? "unknown",
    ...(db.Engine ? { engine: db.Engine } : {}),
    ...(db.EngineVersion ? { engineVersion: db.EngineVersion } : {}),
    ...(db.AllocatedStorage !== undefined ? { storageGb: db.AllocatedStorage } : {}),
    ...(db.DBInstanceClass ? { instanceClass: db.DBInstanceClass } : {}),
    ...(db.Endpoint?.Address && db.Endpoint.Port !== undefined ? { endpoint: { host: db.Endpoint.Address, port: db.Endpoint.Port } } : {}),
    tags: tagsToRecord(db.TagList),
  };
}

/** The instance now; undefined once it is gone (DBInstanceNotFound). */
export async function describeDbInstance(region: string, instanceId: string): Promise<ThrowawayState | undefined> {
  try {
    const out = await rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
    const db = out.DBInstances?.[0];
    return db ? instanceState(db) : undefined;
  } catch (err) {
    if (err instanceof DBInstanceNotFoundFault || (err as { name?: string }).name === "DBInstanceNotFound") return undefined;
    throw err;
  }
}

/** Engine, version, storage and database name of a DB snapshot, for the `available` check. */
export async function describeDbSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts> {
  const out = await rds(region).send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
  const s = out.DBSnapshots?.[0];
  return {
    ...(s?.Engine ? { engine: s.Engine } : {}),
    ...(s?.EngineVersion ? { engineVersion: s.EngineVersion } : {}),
    ...(s?.AllocatedStorage !== undefined ? { storageGb: s.AllocatedStorage } : {}),
  };
}

/**
 * Delete a throwaway instance: no final snapshot (it is a copy of a backup we keep), its automated backups with it.
 * Already gone counts as deleted. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
 */
export async function deleteDbInstance(region: string, instanceId: string): Promise<"deleting" | "gone"> {
  try {
    await rds(region).send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: instanceId, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
    return "deleting";
  } catch (err) {
    if (err instanceof DBInstanceNotFoundFault || (err as { name?: string }).name === "DBInstanceNotFound") return "gone";
    throw err;
  }
}

export interface RestoreDbClusterRequest {
  region: string;
  snapshotId: string;
  clusterId: string;
  /** The snapshot's engine: RestoreDBClusterFromSnapshot requires it. */
  engine: string;
  dbSubnetGroupName: string;
  vpcSecurityGroupIds: readonly string[];
  tags: Record<string, string>;
}

/**
 * RestoreDBClusterFromSnapshot into an unprotected throwaway cluster with our tags; it has no instance until
 * {@link createClusterInstance}. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html
 */
export async function restoreDbCluster(req: RestoreDbClusterRequest): Promise<void> {
  await rds(req.region).send(
    new RestoreDBClusterFromSnapshotCommand({
      DBClusterIdentifier: req.clusterId,
      SnapshotIdentifier: req.snapshotId,
      Engine: req.engine,
      DBSubnetGroupName: req.dbSubnetGroupName,
      VpcSecurityGroupIds: [...req.vpcSecurityGroupIds],
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: recordToTags(req.tags),
    }),
  );
}

/**
 * The throwaway cluster's one instance (CreateDBInstance in the cluster), private, with our tags.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
 */
export async function createClusterInstance(req: {
  region: string;
  clusterId: string;
  instanceId: string;
  instanceClass: string;
  engine: string;
  tags: Record<string, string>;
}): Promise<void> {
  await rds(req.region).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: req.instanceId,
      DBClusterIdentifier: req.clusterId,
      DBInstanceClass: req.instanceClass,
      Engine: req.engine,
      PubliclyAccessible: false,
      Tags: recordToTags(req.tags),
    }),
  );
}

/** The cluster now; undefined once it is gone. */
export async function describeDbCluster(region: string, clusterId: string): Promise<ThrowawayState | undefined> {
  try {
    const c = (await rds(region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }))).DBClusters?.[0];
    if (!c) return undefined;
    return {
      id: c.DBClusterIdentifier ?? clusterId,
      status: c.Status ?? "unknown",
      ...(c.Engine ? { engine: c.Engine } : {}),
      ...(c.EngineVersion ? { engineVersion: c.EngineVersion } : {}),
      ...(c.DBClusterArn ? { arn: c.DBClusterArn } : {}),
      httpEndpointEnabled: c.HttpEndpointEnabled === true,
      tags: tagsToRecord(c.TagList),
    };
  } catch (err) {
    if (err instanceof DBClusterNotFoundFault || (err as { name?: string }).name === "DBClusterNotFoundFault") return undefined;
    throw err;
  }
}

/**
 * Turn on the RDS Data API of a throwaway cluster (the role allows it only on restore-test-tagged clusters). Enabling
 * an enabled endpoint changes nothing. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_EnableHttpEndpoint.html
 */
export async function enableHttpEndpoint(region: string, clusterArn: string): Promise<void> {
  await rds(region).send(new EnableHttpEndpointCommand({ ResourceArn: clusterArn }));
}

/**
 * The ARN of the RDS-managed master user secret of a source instance or cluster (`MasterUserSecret.SecretArn`), or
 * undefined when its password is not managed by RDS in Secrets Manager.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html
 */
export async function sourceMasterSecret(region: string, kind: "rds-instance" | "aurora-cluster", id: string): Promise<string | undefined> {
  if (kind === "rds-instance") {
    const db = (await rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
    return db?.MasterUserSecret?.SecretArn;
  }
  const c = (await rds(region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0];
  return c?.MasterUserSecret?.SecretArn;
}

/** Engine and version of a cluster snapshot, for the restore and the `available` check. */
export async function describeClusterSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts> {
  const s = (await rds(region).send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }))).DBClusterSnapshots?.[0];
  return { ...(s?.Engine ? { engine: s.Engine } : {}), ...(s?.EngineVersion ? { engineVersion: s.EngineVersion } : {}) };
}

/**
 * Delete a throwaway cluster, no final snapshot; RDS refuses while an instance of it is not being deleted, so its
 * instance is deleted first. Already gone counts as deleted. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html
 */
export async function deleteDbCluster(region: string, clusterId: string): Promise<"deleting" | "gone"> {
  try {
    await rds(region).send(new DeleteDBClusterCommand({ DBClusterIdentifier: clusterId, SkipFinalSnapshot: true }));
    return "deleting";
  } catch (err) {
    if (err instanceof DBClusterNotFoundFault || (err as { name?: string }).name === "DBClusterNotFoundFault") return "gone";
    throw err;
  }
}

/**
 * Every DB instance, DB cluster and volume of the region as the janitor judges them (core/restore-test.ts janitor decides, from
 * the tags, the name and the age, which are ours). Listed whole and filtered in core, so a look-alike is seen and kept
 * with its reason rather than never considered.
 */
export async function listRestoreTestLeftovers(region: string): Promise<RestoreTestLeftover[]> {
  const out: RestoreTestLeftover[] = [];
  for await (const page of paginateDescribeDBInstances({ client: rds(region), ...RDS_PAGE }, {})) {
    for (const db of page.DBInstances ?? []) {
      if (!db.DBInstanceIdentifier) continue;
      out.push({
        type: "db-instance",
        id: db.DBInstanceIdentifier,
        region,
        status: db.DBInstanceStatus ?? "unknown",
        ...(db.InstanceCreateTime ? { createdAt: db.InstanceCreateTime } : {}),
        tags: tagsToRecord(db.TagList),
        ...(db.DBClusterIdentifier ? { clusterId: db.DBClusterIdentifier } : {}),
      });
    }
  }
  for await (const page of paginateDescribeDBClusters({ client: rds(region), ...RDS_PAGE }, {})) {
    for (const c of page.DBClusters ?? []) {
      if (!c.DBClusterIdentifier) continue;
      out.push({
        type: "db-cluster",
        id: c.DBClusterIdentifier,
        region,
        status: c.Status ?? "unknown",
        ...(c.ClusterCreateTime ? { createdAt: c.ClusterCreateTime } : {}),
        tags: tagsToRecord(c.TagList),
      });
    }
  }
  return [...out, ...(await listVolumeLeftovers(region))];
}
