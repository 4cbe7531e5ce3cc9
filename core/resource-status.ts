/**
 * Whether a resource that refuses a snapshot now will accept one later today by itself.
 *
 * A state that passes (a backup, a modification, a reboot) is worth retrying within the day: the backup run
 * reports it as a retryable failure, so the invocation fails and is retried, and a later run the same day takes
 * it. A state that stays until someone acts (`stopped`, `storage-full`, a lost KMS key) is reported, never
 * failed: it would fail every night and teach people to ignore the alarm. A state not listed here is treated as
 * passing, so a status AWS adds is retried and seen, not skipped quietly until the watchdog fires.
 *
 * Sources: DB instance statuses https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status,
 * DB cluster statuses https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html,
 * EBS volume states https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Volume.html (creating, available,
 * in-use, deleting, deleted, error).
 */
import { SNAPSHOTTABLE_STATUS } from "./backup-plan.ts";
import type { ResourceKind } from "./types.ts";

/** States that stay until a person (or a week-long RDS auto-start) changes them. */
export const STAYING_STATUS: Record<ResourceKind, readonly string[]> = {
  "rds-instance": [
    "stopped",
    "stopping",
    "deleting",
    "delete-precheck",
    "failed",
    "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-parameters",
    "incompatible-restore",
    "insufficient-capacity",
    "restore-error",
    "storage-full",
  ],
  "aurora-cluster": [
    "stopped",
    "stopping",
    "deleting",
    "cloning-failed",
    "migration-failed",
    "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable",
  ],
  "ebs-volume": ["deleting", "deleted", "error"],
};

/** States that pass by themselves, listed so the report can say so (any other unlisted state is treated alike). */
export const PASSING_STATUS: Record<ResourceKind, readonly string[]> = {
  "rds-instance": [
    "backing-up",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
    "converting-to-vpc",
    "creating",
    "maintenance",
    "modifying",
    "moving-to-vpc",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "starting",
    "storage-config-upgrade",
    "storage-initialization",
    "storage-optimization",
    "upgrading",
  ],
  "aurora-cluster": [
    "backing-up",
    "backtracking",
    "creating",
    "failing-over",
    "maintenance",
    "migrating",
    "modifying",
    "promoting",
    "renaming",
    "resetting-master-credentials",
    "starting",
    "storage-optimization",
    "update-iam-db-auth",
    "upgrading",
  ],
  "ebs-volume": ["creating"],
};

export type StatusClass = "snapshottable" | "passing" | "staying";

export interface StatusVerdict {
  class: StatusClass;
  reason: string;
}

/**
 * What a resource's status means for tonight's backup.
 *
 * @example
 * classifyStatus("rds-instance", "app-db", "backing-up")
 * // → { class: "passing", reason: 'rds-instance app-db is "backing-up", a state that passes: not snapshotted yet; the retry or a later run today takes it' }
 * classifyStatus("rds-instance", "app-db", "stopped").class // → "staying"
 */
export function classifyStatus(kind: ResourceKind, id: string, status: string): StatusVerdict {
  const what = `${kind} ${id} is "${status}"`;
  if (SNAPSHOTTABLE_STATUS[kind].includes(status)) return { class: "snapshottable", reason: `${what}: a snapshot can be taken` };
  if (STAYING_STATUS[kind].includes(status)) return { class: "staying", reason: `${what}, a state that stays until someone acts: reported, not retried` };
  const known = PASSING_STATUS[kind].includes(status);
  return {
    class: "passing",
    reason: `${what}, ${known ? "a state that passes" : "a state not known to stay"}: not snapshotted yet; the retry or a later run today takes it`,
  };
}
