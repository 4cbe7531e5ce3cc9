/**
 * What each kind of resource is, as data: the one place core/ reads per-kind facts from (states, naming,
 * ownership proof, name length, copying), so no decision branches on a kind's name.
 *
 * State sources: DB instance statuses https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status,
 * DB cluster statuses https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html,
 * EBS volume states https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Volume.html (creating, available,
 * in-use, deleting, deleted, error). How the states are used: core/resource-status.ts.
 */
import { RESOURCE_KINDS, type ResourceKind } from "./resource-kinds.ts";

export interface ResourceType {
  /** How people call the resource, for reports. */
  label: string;
  states: {
    /** Statuses in which the resource accepts a snapshot request. */
    snapshottable: readonly string[];
    /** States that pass by themselves, listed so the report can say so (any other unlisted state is treated alike). */
    passing: readonly string[];
    /** States that stay until a person (or a week-long RDS auto-start) changes them. */
    staying: readonly string[];
  };
  /**
   * Where a snapshot carries its name: `identifier` when we choose the snapshot's id (RDS, Aurora), so the service
   * itself refuses a second snapshot of one name; `name-tag-and-description` when AWS assigns the id (EBS), so the
   * name is written into the Description (unchangeable after creation) and the name tag.
   */
  naming: "identifier" | "name-tag-and-description";
  /** How a snapshot proves it is ours (core/ownership.ts): its identity must equal its name tag. */
  ownership: {
    /** What is compared with the name tag: the snapshot identifier or its description. */
    identity: "identifier" | "description";
    /** Compared case-insensitively: RDS stores identifiers lowercase. */
    caseInsensitive: boolean;
    /** The service keeps the identity unique per region; when it does not, two snapshots claiming one name are neither ours. */
    uniqueName: boolean;
  };
  /** Longest snapshot name the service accepts. */
  maxNameLength: number;
  /** Whether snapshots of this kind can be copied to another region (the copy job's DR copies). */
  crossRegionCopy: boolean;
}

export const RESOURCE_TYPES: Record<ResourceKind, ResourceType> = {
  "rds-instance": {
    label: "RDS DB instance",
    states: {
      snapshottable: ["available"],
      passing: [
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
      staying: [
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
    },
    naming: "identifier",
    ownership: { identity: "identifier", caseInsensitive: true, uniqueName: true },
    // DBSnapshotIdentifier: 1–255 characters (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html)
    maxNameLength: 255,
    crossRegionCopy: true,
  },
  "aurora-cluster": {
    label: "Aurora DB cluster",
    states: {
      snapshottable: ["available"],
      passing: [
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
      staying: [
        "stopped",
        "stopping",
        "deleting",
        "cloning-failed",
        "migration-failed",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
      ],
    },
    naming: "identifier",
    ownership: { identity: "identifier", caseInsensitive: true, uniqueName: true },
    // DBClusterSnapshotIdentifier: 1–63 letters, numbers or hyphens (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html)
    maxNameLength: 63,
    crossRegionCopy: true,
  },
  "ebs-volume": {
    label: "EBS volume",
    states: {
      snapshottable: ["in-use", "available"],
      passing: ["creating"],
      staying: ["deleting", "deleted", "error"],
    },
    naming: "name-tag-and-description",
    ownership: { identity: "description", caseInsensitive: false, uniqueName: false },
    // a Description and a tag value (256), bounded like RDS instance ids
    maxNameLength: 255,
    crossRegionCopy: true,
  },
};

/** One value per kind, in {@link RESOURCE_KINDS} order: `byKind((t) => t.maxNameLength)` → `{ "rds-instance": 255, … }`. */
export function byKind<T>(pick: (type: ResourceType, kind: ResourceKind) => T): Record<ResourceKind, T> {
  return Object.fromEntries(RESOURCE_KINDS.map((k) => [k, pick(RESOURCE_TYPES[k], k)])) as Record<ResourceKind, T>;
}
