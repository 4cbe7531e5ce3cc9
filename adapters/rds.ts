import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  paginateDescribeDBSnapshots,
  type DBClusterSnapshot,
  type DBSnapshot,
} from "@aws-sdk/client-rds";
import { rds } from "./clients.ts";
import type { TargetCredentials } from "./assume-role.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import { TAG, type Resource, type Snapshot, type SnapshotStatus } from "../core/types.ts";

/**
 * RDS instances, Aurora clusters and their manual snapshots.
 * Describe calls return tags with each item (TagList), so no per-snapshot ListTagsForResource is ever made:
 * that call is what throttled other snapshot tools at a few hundred snapshots.
 *
 * Every call takes an optional `creds`: a fleet member's role (adapters/assume-role.ts memberCredentials), so the call
 * acts in that account; without it, the function's own account.
 */

/** RDS allows 20–100 records per page; 100 keeps the number of calls minimal. */
const PAGE = { pageSize: 100 } as const;

export function rdsStatus(status: string | undefined): SnapshotStatus {
  switch (status) {
    case "available":
      return "available";
    case "deleting":
      return "deleting";
    case "failed":
    case "error":
    case "incompatible-restore":
      return "error";
    default:
      // creating, copying, pending, modifying, upgrading...
      return "pending";
  }
}

/** When the data in a snapshot was captured: our captured-at tag (copies), else the original creation time. */
export function capturedAt(tags: Record<string, string>, ...times: (Date | undefined)[]): Date {
  const tagged = tags[TAG.capturedAt];
  if (tagged && !Number.isNaN(Date.parse(tagged))) return new Date(tagged);
  for (const t of times) if (t) return t;
  const day = tags[TAG.backupDate];
  return day && !Number.isNaN(Date.parse(day)) ? new Date(`${day}T00:00:00Z`) : new Date(0);
}

export async function listDbInstances(region: string, creds?: TargetCredentials): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const page of paginateDescribeDBInstances({ client: rds(region, creds), ...PAGE }, {})) {
    for (const db of page.DBInstances ?? []) {
      // Aurora members are snapshotted through their cluster.
      if (!db.DBInstanceIdentifier || db.DBClusterIdentifier) continue;
      out.push({
        kind: "rds-instance",
        id: db.DBInstanceIdentifier,
        ...(db.DBInstanceArn ? { arn: db.DBInstanceArn } : {}),
        region,
        status: db.DBInstanceStatus ?? "unknown",
        tags: tagsToRecord(db.TagList),
      });
    }
  }
  return out;
}

export async function listDbClusters(region: string, creds?: TargetCredentials): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const page of paginateDescribeDBClusters({ client: rds(region, creds), ...PAGE }, {})) {
    for (const c of page.DBClusters ?? []) {
      if (!c.DBClusterIdentifier) continue;
      out.push({
        kind: "aurora-cluster",
        id: c.DBClusterIdentifier,
        ...(c.DBClusterArn ? { arn: c.DBClusterArn } : {}),
        region,
        status: c.Status ?? "unknown",
        tags: tagsToRecord(c.TagList),
      });
    }
  }
  return out;
}

function fromDbSnapshot(s: DBSnapshot, region: string): Snapshot {
  const tags = tagsToRecord(s.TagList);
  return {
    kind: "rds-instance",
    id: s.DBSnapshotIdentifier ?? "",
    ...(s.DBSnapshotArn ? { arn: s.DBSnapshotArn } : {}),
    region,
    resourceId: tags[TAG.source] ?? s.DBInstanceIdentifier ?? "",
    status: rdsStatus(s.Status),
    createdAt: capturedAt(tags, s.OriginalSnapshotCreateTime, s.SnapshotCreateTime),
    tags,
    automated: s.SnapshotType !== "manual",
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
  };
}

function fromClusterSnapshot(s: DBClusterSnapshot, region: string): Snapshot {
  const tags = tagsToRecord(s.TagList);
  return {
    kind: "aurora-cluster",
    id: s.DBClusterSnapshotIdentifier ?? "",
    ...(s.DBClusterSnapshotArn ? { arn: s.DBClusterSnapshotArn } : {}),
    region,
    resourceId: tags[TAG.source] ?? s.DBClusterIdentifier ?? "",
    status: rdsStatus(s.Status),
    createdAt: capturedAt(tags, s.SnapshotCreateTime),
    tags,
    automated: s.SnapshotType !== "manual",
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
  };
}

/** Manual DB instance snapshots (copies included) in a region: one call per 100 snapshots. */
export async function listDbSnapshots(region: string, creds?: TargetCredentials): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  const pages = paginateDescribeDBSnapshots({ client: rds(region, creds), ...PAGE }, { SnapshotType: "manual" });
  for await (const page of pages) for (const s of page.DBSnapshots ?? []) out.push(fromDbSnapshot(s, region));
  return out;
}

/** Manual Aurora cluster snapshots in a region. */
export async function listClusterSnapshots(region: string, creds?: TargetCredentials): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  const pages = paginateDescribeDBClusterSnapshots({ client: rds(region, creds), ...PAGE }, { SnapshotType: "manual" });
  for await (const page of pages) for (const s of page.DBClusterSnapshots ?? []) out.push(fromClusterSnapshot(s, region));
  return out;
}

export async function createDbSnapshot(
  region: string,
  resourceId: string,
  name: string,
  tags: Record<string, string>,
  creds?: TargetCredentials,
): Promise<void> {
  await rds(region, creds).send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: name, DBInstanceIdentifier: resourceId, Tags: recordToTags(tags) }));
}

export async function createClusterSnapshot(
  region: string,
  resourceId: string,
  name: string,
  tags: Record<string, string>,
  creds?: TargetCredentials,
): Promise<void> {
  await rds(region, creds).send(
    new CreateDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: name, DBClusterIdentifier: resourceId, Tags: recordToTags(tags) }),
  );
}

export interface CopyRequest {
  source: Snapshot;
  sourceRegion: string;
  targetRegion: string;
  name: string;
  kmsKeyId: string;
  tags: Record<string, string>;
}

/**
 * Cross-region copy, sent to the destination region. The source is named by ARN: the SDK's RDS
 * middleware reads the source region from it and signs the pre-signed URL encrypted cross-region
 * copies need (the v3 input has no `SourceRegion` field; `sourceRegion` is checked against the ARN).
 *
 * KmsKeyId (the DR region's key): an encrypted source needs it across regions. For an unencrypted
 * source, CopyDBSnapshot encrypts the copy with it, but CopyDBClusterSnapshot returns an error
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html), so an
 * unencrypted cluster snapshot is copied without one. A listed snapshot has `kmsKeyId` exactly when RDS
 * reports a KmsKeyId, i.e. when it is encrypted.
 */
export async function copyDbSnapshot(req: CopyRequest, creds?: TargetCredentials): Promise<void> {
  if (!req.source.arn) throw new Error(`snapshot ${req.source.id} has no ARN: cannot copy across regions`);
  if (req.source.arn.split(":")[3] !== req.sourceRegion) {
    throw new Error(`snapshot ARN ${req.source.arn} is not in the source region ${req.sourceRegion}`);
  }
  const common = { Tags: recordToTags(req.tags), CopyTags: false };
  if (req.source.kind === "aurora-cluster") {
    const encrypted = req.source.kmsKeyId !== undefined;
    await rds(req.targetRegion, creds).send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: req.source.arn,
        TargetDBClusterSnapshotIdentifier: req.name,
        ...(encrypted ? { KmsKeyId: req.kmsKeyId } : {}),
        ...common,
      }),
    );
  } else {
    await rds(req.targetRegion, creds).send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: req.source.arn,
        TargetDBSnapshotIdentifier: req.name,
        KmsKeyId: req.kmsKeyId,
        ...common,
      }),
    );
  }
}

export async function deleteRdsSnapshot(snapshot: Snapshot, creds?: TargetCredentials): Promise<void> {
  if (snapshot.kind === "aurora-cluster") {
    await rds(snapshot.region, creds).send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshot.id }));
  } else {
    await rds(snapshot.region, creds).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshot.id }));
  }
}
