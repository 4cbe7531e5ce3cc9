/** Inspection shapes and options shared by the service simulations. */
import type { Duration, Tags } from "./util.ts";

/** The snapshot families the fake AWS holds. Kept here (not imported) so sandbox/aws/ needs no app code; sandbox/index.ts checks at compile time that the app's RESOURCE_KINDS are among them. */
export type SandboxSnapshotKind = "rds-instance" | "aurora-cluster" | "ebs-volume";

/** A snapshot as the sandbox holds it, at the clock's current time (for assertions, not for adapters). */
export interface SandboxSnapshot {
  kind: SandboxSnapshotKind;
  region: string;
  /** DBSnapshotIdentifier, DBClusterSnapshotIdentifier or SnapshotId. */
  id: string;
  arn?: string;
  /** DBInstanceIdentifier, DBClusterIdentifier or VolumeId (`vol-ffffffff` for EBS copies, as AWS reports). */
  sourceId: string;
  /** Native status now: creating/pending/copying/available (RDS), pending/completed/error (EBS). */
  status: string;
  /** True once usable: RDS `available`, EBS `completed`. */
  ready: boolean;
  type: "manual" | "automated" | "awsbackup";
  createdAt: Date;
  /** When it became (or will become) ready; undefined if it never will (error). */
  readyAt?: Date;
  tags: Tags;
  encrypted: boolean;
  kmsKeyId?: string;
  /** For copies: where it was copied from. */
  copiedFrom?: { region: string; id: string };
  /** EBS: referenced by a registered AMI. */
  usedByImage?: boolean;
  /** EBS: the owner account (other accounts' public/shared snapshots can be seeded). */
  ownerId?: string;
}

export interface SnapshotInfo {
  region: string;
  id: string;
  sourceId: string;
}

/** Simulated durations, in milliseconds of the fake clock. */
export interface Durations {
  /** RDS instance snapshot creating → available. Default 10 min. */
  rdsSnapshot: Duration<SnapshotInfo>;
  /** Aurora cluster snapshot creating → available. Default 5 min. */
  rdsClusterSnapshot: Duration<SnapshotInfo>;
  /** RDS cross-region copy (instance or cluster) pending/copying → available. Default 40 min. */
  rdsCopy: Duration<SnapshotInfo>;
  /** RDS copy within a region. Default 5 min. */
  rdsSameRegionCopy: Duration<SnapshotInfo>;
  /** EBS snapshot pending → completed. Default 15 min. */
  ebsSnapshot: Duration<SnapshotInfo>;
  /** EBS cross-region copy pending → completed. Default 30 min (AWS: 15 min to 48 h for time-based copies). */
  ebsCopy: Duration<SnapshotInfo>;
  /** RestoreDBInstanceFromDBSnapshot creating → available (then a short backing-up). Default 20 min. */
  rdsRestore: Duration<SnapshotInfo>;
  /** RestoreDBClusterFromSnapshot creating → available. Default 15 min. */
  rdsClusterRestore: Duration<SnapshotInfo>;
  /** CreateDBInstance in an Aurora cluster creating → available. Default 10 min. */
  rdsClusterInstance: Duration<SnapshotInfo>;
  /** DeleteDBInstance / DeleteDBCluster: `deleting` until gone. Default 5 min. */
  rdsDelete: Duration<SnapshotInfo>;
  /** CreateVolume from a snapshot creating → available. Default 2 min. */
  ebsVolumeCreate: Duration<SnapshotInfo>;
  /** DeleteVolume: `deleting` until gone. Default 1 min. */
  ebsVolumeDelete: Duration<SnapshotInfo>;
}

export const DEFAULT_DURATIONS: Durations = {
  rdsSnapshot: 10 * 60_000,
  rdsClusterSnapshot: 5 * 60_000,
  rdsCopy: 40 * 60_000,
  rdsSameRegionCopy: 5 * 60_000,
  ebsSnapshot: 15 * 60_000,
  ebsCopy: 30 * 60_000,
  rdsRestore: 20 * 60_000,
  rdsClusterRestore: 15 * 60_000,
  rdsClusterInstance: 10 * 60_000,
  rdsDelete: 5 * 60_000,
  ebsVolumeCreate: 2 * 60_000,
  ebsVolumeDelete: 60_000,
};

/** Service quotas, defaults as documented by AWS (see shared/REFERENCE.md §3). */
export interface Limits {
  /** Manual DB instance snapshots per region; the same number again for manual cluster snapshots. Automated ones don't count. */
  rdsManualSnapshotsPerRegion: number;
  /** RDS cross-region snapshot copies in flight per destination region (instance and cluster together). */
  rdsCopiesInFlightPerRegion: number;
  /** EBS snapshots per region (account quota). */
  ebsSnapshotsPerRegion: number;
  /** EBS snapshot copies in flight per destination region. */
  ebsCopiesInFlightPerRegion: number;
  /** EBS snapshots pending per volume. */
  ebsPendingSnapshotsPerVolume: number;
}

export const DEFAULT_LIMITS: Limits = {
  rdsManualSnapshotsPerRegion: 100,
  rdsCopiesInFlightPerRegion: 20,
  ebsSnapshotsPerRegion: 100_000,
  ebsCopiesInFlightPerRegion: 20,
  ebsPendingSnapshotsPerVolume: 5,
};
