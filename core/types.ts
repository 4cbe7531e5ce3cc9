/**
 * Shared domain types for the backup, copy, retention and watchdog logic.
 *
 * These are the shapes adapters map AWS responses into and the shapes `core/` decides on.
 * Nothing here knows about the AWS SDK: dates are `Date`, tags are plain records.
 */

import type { ResourceKind } from "./resource-kinds.ts";

/** The kinds of resource we back up (core/resource-kinds.ts lists them; core/resource-types.ts describes them). */
export type { ResourceKind } from "./resource-kinds.ts";

/** A resource selected for backup, as seen in one region. */
export interface Resource {
  kind: ResourceKind;
  /** DBInstanceIdentifier, DBClusterIdentifier or VolumeId. */
  id: string;
  arn?: string;
  region: string;
  /** Provider status: `available`, `stopped`, `in-use`, `backing-up`, ... */
  status: string;
  tags: Record<string, string>;
}

/**
 * A snapshot as core sees it, whatever the service.
 * `createdAt` is the provider's creation time; the backup-date tag is the calendar day (yyyy-mm-dd, in the
 * backup schedule's timezone) the snapshot stands for, when it carries our tags. Whether it is ours at all is
 * decided by core/ownership.ts, never by a tag alone.
 */
export interface Snapshot {
  kind: ResourceKind;
  /** DBSnapshotIdentifier, DBClusterSnapshotIdentifier or SnapshotId. */
  id: string;
  arn?: string;
  region: string;
  /** The resource the snapshot was taken from (for DR copies: the primary resource). */
  resourceId: string;
  /** `available`, `creating`, `copying`, `pending`, `completed` (EBS), `error`, ... normalised by the adapter. */
  status: SnapshotStatus;
  createdAt: Date;
  tags: Record<string, string>;
  /** True for RDS automated / AWS Backup snapshots: never ours, never pruned. */
  automated: boolean;
  /** EBS only: snapshot is referenced by a registered AMI. */
  usedByImage?: boolean;
  /** KMS key the snapshot is encrypted with, when known. */
  kmsKeyId?: string;
  /** Why the provider put the snapshot in `error` (EBS StateMessage), when it says. */
  statusMessage?: string;
  /**
   * EBS only: the snapshot's Description, which cannot be changed after creation. Backup and copy set it to the
   * snapshot's name, so it is what an EBS snapshot's ownership is checked against (its id is AWS-assigned).
   */
  description?: string;
}

/** Snapshot status normalised across RDS (`available`) and EBS (`completed`). */
export type SnapshotStatus = "available" | "pending" | "error" | "deleting";

/** The tag keys ops-autopilot writes on everything it creates. */
export const TAG = {
  managedBy: "ops-autopilot:managed-by",
  policy: "ops-autopilot:policy",
  tiers: "ops-autopilot:tiers",
  source: "ops-autopilot:source",
  sourceRegion: "ops-autopilot:source-region",
  backupDate: "ops-autopilot:backup-date",
  /** Deterministic name: equals the RDS identifier, or the EBS description (EBS ids are AWS-assigned). */
  name: "ops-autopilot:name",
  /** On DR copies: the id of the snapshot in the primary region. */
  copyOf: "ops-autopilot:copy-of",
  /** ISO time the data was captured (the source snapshot's creation time), carried onto DR copies. */
  capturedAt: "ops-autopilot:captured-at",
  /** On restore-test throwaways (core/restore-test.ts): the run id; the janitor deletes only what carries it. */
  restoreTest: "ops-autopilot:restore-test",
  /** On restore-test throwaways: ISO time the restore was requested (an instance has no create time until available). */
  restoreTestAt: "ops-autopilot:restore-test-at",
} as const;

/** The keys a snapshot or a DR copy of ours may carry: every tag key but the restore-test throwaways' own. */
export const SNAPSHOT_TAG_KEYS: readonly string[] = Object.values(TAG).filter((k) => k !== TAG.restoreTest && k !== TAG.restoreTestAt);

export type TierName = "daily" | "weekly" | "monthly";

/** Who we are: the managed-by value `${app}:${stage}` and the name prefix `oa-${app}-${stage}-` (core/ownership.ts). */
export interface Owner {
  app: string;
  stage: string;
}

export function managedByValue(owner: Owner): string {
  return `${owner.app}:${owner.stage}`;
}

/** Every decision core makes is data with a reason an operator can read. */
export interface Decision<A extends string, T> {
  action: A;
  target: T;
  reason: string;
}

/** A per-item failure collected during a run and reported once. */
export interface ItemFailure {
  item: string;
  region?: string;
  /** `retryable` (throttling, transient), `state` (wrong resource state), `quota`, `kms`, `fatal`. */
  kind: FailureKind;
  message: string;
}

export type FailureKind = "retryable" | "state" | "quota" | "kms" | "fatal";
