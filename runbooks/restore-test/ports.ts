/**
 * The restore-test runbook's ports: everything it touches in the world. The real adapters (./deps.ts), the sandbox
 * and test fakes implement these, so the same steps run in Lambda, in tests and in the drill.
 */
import type { CreateVolumeRequest } from "../../adapters/restore-ebs.ts";
import type { RestoreDbClusterRequest, RestoreDbInstanceRequest, SnapshotFacts, ThrowawayState } from "../../adapters/restore.ts";
import type { SmokeCheckResult } from "../../adapters/pg-smoke.ts";
import type { DataApiSmokePort } from "../../adapters/rds-data.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { RestoreTestLeftover } from "../../core/restore-test.ts";
import type { RestoreTestTrendEntry } from "../../core/restore-test-trend.ts";
import type { SmokeCheck, SmokeContext } from "../../core/smoke.ts";
import type { ResourceKind, Snapshot } from "../../core/types.ts";
import type { DurableStore } from "../lib/durable.ts";
import type { RestoreTestRun } from "./steps/shared.ts";

export type { CreateVolumeRequest, DataApiSmokePort, RestoreDbClusterRequest, RestoreDbInstanceRequest, SnapshotFacts, SmokeCheckResult, ThrowawayState };

/** The throwaways: create, observe, delete; and the region's listing for the janitor. */
export interface ThrowawayPort {
  restoreDbInstance(req: RestoreDbInstanceRequest): Promise<void>;
  describeDbInstance(region: string, id: string): Promise<ThrowawayState | undefined>;
  describeDbSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts>;
  deleteDbInstance(region: string, id: string): Promise<"deleting" | "gone">;
  restoreDbCluster(req: RestoreDbClusterRequest): Promise<void>;
  createClusterInstance(req: {
    region: string;
    clusterId: string;
    instanceId: string;
    instanceClass: string;
    engine: string;
    tags: Record<string, string>;
  }): Promise<void>;
  describeDbCluster(region: string, id: string): Promise<ThrowawayState | undefined>;
  /** Turn on the RDS Data API of a throwaway cluster (its ARN); idempotent. */
  enableHttpEndpoint(region: string, clusterArn: string): Promise<void>;
  /** The ARN of a source database's RDS-managed master user secret, or undefined when it has none. */
  sourceMasterSecret(region: string, kind: "rds-instance" | "aurora-cluster", id: string): Promise<string | undefined>;
  describeClusterSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts>;
  deleteDbCluster(region: string, id: string): Promise<"deleting" | "gone">;
  createVolume(req: CreateVolumeRequest): Promise<ThrowawayState>;
  describeVolume(region: string, id: string): Promise<ThrowawayState | undefined>;
  /** Volumes carrying our name tag `name` (a create whose answer was lost). */
  findVolumesByName(region: string, name: string): Promise<ThrowawayState[]>;
  describeEbsSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts>;
  deleteVolume(region: string, id: string): Promise<"deleting" | "gone">;
  listLeftovers(region: string): Promise<RestoreTestLeftover[]>;
}

export interface SnapshotsPort {
  /** The snapshots of `kind` in `region` (core decides which are ours and which to restore). */
  list(region: string, kind: ResourceKind): Promise<Snapshot[]>;
}

/** SQL smoke checks against a restored RDS instance: the VPC checker function (pg) in production. */
export interface SqlSmokePort {
  run(input: {
    region: string;
    instanceId: string;
    endpoint?: { host: string; port: number };
    database: string;
    /** Secrets Manager secret with the database's username and password (read by the checker, never passed on). */
    secretArn: string;
    timeoutMs: number;
    checks: readonly SmokeCheck[];
    context: SmokeContext;
  }): Promise<SmokeCheckResult[]>;
}

export interface RestoreTestReportPort {
  /** The run's report (judgment, proven RTO, cost) kept as a trend in the reports bucket; critical alerts go out here. */
  report(run: RestoreTestRun): Promise<void>;
  /** Append the run's entry to the resource's proven-RTO trend (`restore-test/trend/<kind>/<id>.json`). */
  trend?(target: { kind: ResourceKind; resourceId: string }, entry: RestoreTestTrendEntry): Promise<void>;
  /** Post the run's summary (core/report/restore-test.ts) to Slack. */
  notify?(message: SlackMessage): Promise<void>;
}

export interface RestoreTestClock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface RestoreTestDeps {
  aws: ThrowawayPort;
  snapshots: SnapshotsPort;
  sql: SqlSmokePort;
  /** SQL smoke checks against a restored Aurora cluster through the RDS Data API (adapters/rds-data.ts). */
  dataApi: DataApiSmokePort;
  reports: RestoreTestReportPort;
  /** The run's checkpoint (S3 with If-Match in production). */
  store: DurableStore<RestoreTestRun> & { create(record: RestoreTestRun): Promise<boolean> };
  clock: RestoreTestClock;
  log?: (message: string, data?: Record<string, unknown>) => void;
}
