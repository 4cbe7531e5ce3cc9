/**
 * RDS simulation: DB instances, Aurora clusters, their manual and automated snapshots,
 * cross-region copies, tags, quotas and states over simulated time.
 *
 * AWS behaviours reproduced on purpose (each one has bitten a backup tool):
 * - identifiers are case-insensitive and stored lowercase; invalid ones → InvalidParameterValue;
 * - DescribeDB* pages: MaxRecords default 100, allowed 20–100, opaque Marker;
 * - DescribeDBSnapshots without SnapshotType returns manual and automated snapshots together;
 * - SnapshotCreateTime is absent until the snapshot is available; copies keep the source's
 *   DBInstanceIdentifier and OriginalSnapshotCreateTime;
 * - an instance reports `backing-up` while one of its snapshots is being created, and a second
 *   CreateDBSnapshot then fails with InvalidDBInstanceState;
 * - 100 manual snapshots per region per kind (automated don't count; copies do, in the
 *   destination); 20 cross-region copies in flight per destination region;
 * - a cross-region copy is sent to the destination region with the source ARN (the JS SDK v3 has
 *   no SourceRegion input; it presigns from the ARN); an encrypted source needs a KmsKeyId of the
 *   destination region;
 * - automated snapshots cannot be deleted; a copy can be cancelled by deleting it while in flight.
 */
import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  EnableHttpEndpointCommand,
  ListTagsForResourceCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from "@aws-sdk/client-rds";
import { DAY, MINUTE, Timeline } from "./clock.ts";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import { rdsError, SandboxUnsupportedError, type FaultKind, type RdsErrorCode } from "./errors.ts";
import type { SecretsManagerSim } from "./secrets-manager.ts";
import type { Durations, Limits, SandboxSnapshot } from "./types.ts";
import { isAwsManagedKey, type KmsKeys } from "./kms.ts";
import { decodeToken, durationOf, encodeToken, fromTagList, pageAfter, toTagList, utcStamp, type AwsTag, type Tags } from "./util.ts";

type Kind = "instance" | "cluster";

export interface AutomatedBackups {
  /** Days automated snapshots are kept (BackupRetentionPeriod). */
  retentionDays: number;
  /** Daily backup window start, UTC `hh:mm`. Default 03:00. */
  windowStart?: string;
}

export interface AddInstance {
  id: string;
  /** Default `available`. */
  status?: string;
  tags?: Tags;
  /** Default `postgres`. */
  engine?: string;
  engineVersion?: string;
  /** Member of this Aurora cluster. */
  clusterId?: string;
  /** Default true (the RDS console default); the key defaults to the region's aws/rds key. */
  encrypted?: boolean;
  kmsKeyId?: string;
  allocatedStorage?: number;
  /** CopyTagsToSnapshot: instance tags go onto snapshots created without explicit Tags. */
  copyTagsToSnapshot?: boolean;
  /** Daily automated snapshots `rds:<id>-yyyy-mm-dd-hh-mm`, kept `retentionDays`. */
  automatedBackups?: AutomatedBackups;
  /** Cross-region read replica of this source instance ARN (for the failover extension). */
  replicaSourceArn?: string;
  /** Default `db.t4g.medium`. */
  instanceClass?: string;
  /** Default false. */
  deletionProtection?: boolean;
  /** Clusters: the RDS Data API's HTTP endpoint is enabled (default false, as AWS). */
  httpEndpoint?: boolean;
  /** Master user name (default `postgres`); carried by its snapshots and restores. */
  masterUsername?: string;
  /** Master password (default `sandbox-<id>-password`); a snapshot keeps it, and a restore from it has it. */
  masterPassword?: string;
  /**
   * The master password is managed by RDS in Secrets Manager: an `rds!db-…` / `rds!cluster-…` secret holding the master
   * credentials is created (sb.secretsManager.putRdsMasterSecret) and shown as MasterUserSecret.
   */
  manageMasterUserPassword?: boolean;
}

export interface AddCluster extends Omit<AddInstance, "clusterId" | "replicaSourceArn"> {
  /** Default `aurora-postgresql`. */
  engine?: string;
  members?: string[];
}

export interface SeedSnapshot {
  id: string;
  /** DBInstanceIdentifier / DBClusterIdentifier the snapshot is of (need not exist any more). */
  sourceId: string;
  kind?: Kind;
  /** Default `manual`. Automated ids are conventionally `rds:<db>-yyyy-mm-dd-hh-mm`. */
  type?: "manual" | "automated" | "awsbackup";
  /** Default `available`. A snapshot seeded `creating` becomes available after `readyAt` (if given). */
  status?: string;
  readyAt?: Date;
  createdAt?: Date;
  tags?: Tags;
  encrypted?: boolean;
  kmsKeyId?: string;
  engine?: string;
  /** The master credentials a restore from it has; default the source's (when it exists), else `postgres` / `sandbox-<sourceId>-password`. */
  masterUsername?: string;
  masterPassword?: string;
}

interface Db {
  kind: Kind;
  id: string;
  region: string;
  arn: string;
  status: Timeline<string>;
  engine: string;
  engineVersion: string;
  tags: Tags;
  clusterId?: string;
  members: string[];
  encrypted: boolean;
  kmsKeyId?: string;
  allocatedStorage: number;
  createdMs: number;
  copyTagsToSnapshot: boolean;
  automated?: { retentionDays: number; nextMs: number };
  replicaSourceArn?: string;
  instanceClass: string;
  publiclyAccessible: boolean;
  multiAZ: boolean;
  deletionProtection: boolean;
  subnetGroup: string;
  securityGroups: string[];
  httpEndpoint: boolean;
  master: MasterCredentials;
  /** MasterUserSecret.SecretArn when RDS manages the master password. */
  masterSecretArn?: string;
  /** Deleted: `deleting` until then, gone from then on. */
  goneAtMs?: number;
  resourceId: string;
  /** A snapshot of this instance is being created until then (status shows `backing-up`). */
  busyUntilMs: number;
  seq: number;
}

interface MasterCredentials {
  username: string;
  password: string;
}

interface Snap {
  kind: Kind;
  id: string;
  region: string;
  arn: string;
  sourceId: string;
  engine: string;
  type: "manual" | "automated" | "awsbackup";
  status: Timeline<string>;
  startMs: number;
  /** When it becomes available; undefined if it never will on its own. */
  readyMs?: number;
  originalCreateMs?: number;
  sourceCreateMs: number;
  tags: Tags;
  encrypted: boolean;
  kmsKeyId?: string;
  allocatedStorage: number;
  /** The source's master credentials when the snapshot was taken: what a restore from it logs in with. */
  master: MasterCredentials;
  copy?: { region: string; id: string; arn: string; crossRegion: boolean };
  /** Accounts allowed to copy or restore it (ModifyDBSnapshotAttribute `restore`). */
  sharedWith?: Set<string>;
  /** `restore` includes `all`. */
  isPublic?: boolean;
  seq: number;
}

/** What an RDS simulation sees of the other accounts (accounts.ts); absent: a sandbox of one account. */
export interface RdsWorld {
  readonly keys: KmsKeys;
  /** The caller's role ARN, for key policies that name a role. */
  callerRole(ctx: CommandContext): string | undefined;
}

/** Each account's RDS stores, per sandbox (its world), for sharing and cross-account copies. */
const rdsStores = new WeakMap<RdsWorld, Map<string, (region: string) => RegionStore>>();

/** What RDS needs of a copy's keys (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html#USER_ShareSnapshot.Encrypted). */
const RDS_KEY_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant"];

interface RegionStore {
  dbs: Record<Kind, Map<string, Db>>;
  snaps: Record<Kind, Map<string, Snap>>;
  inflightCopies: Set<Snap>;
}

const LABEL: Record<Kind, { db: string; snapshotArn: string; dbArn: string }> = {
  instance: { db: "DBInstance", snapshotArn: "snapshot", dbArn: "db" },
  cluster: { db: "DBCluster", snapshotArn: "cluster-snapshot", dbArn: "cluster" },
};

const CODES: Record<Kind, { dbNotFound: RdsErrorCode; dbState: RdsErrorCode; snapNotFound: RdsErrorCode; snapExists: RdsErrorCode; snapState: RdsErrorCode }> =
  {
    instance: {
      dbNotFound: "DBInstanceNotFound",
      dbState: "InvalidDBInstanceState",
      snapNotFound: "DBSnapshotNotFound",
      snapExists: "DBSnapshotAlreadyExists",
      snapState: "InvalidDBSnapshotState",
    },
    cluster: {
      dbNotFound: "DBClusterNotFoundFault",
      dbState: "InvalidDBClusterStateFault",
      snapNotFound: "DBClusterSnapshotNotFoundFault",
      snapExists: "DBClusterSnapshotAlreadyExistsFault",
      snapState: "InvalidDBClusterSnapshotStateFault",
    },
  };

const IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Longest snapshot identifier per kind: DB snapshots 1–255, DB cluster snapshots 1–63
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html).
 */
export const MAX_SNAPSHOT_ID: Record<Kind, number> = { instance: 255, cluster: 63 };

/**
 * RDS tag rules (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html): key 1–128 and
 * value 0–256 characters of Unicode letters, digits, white space and `_ . : / = + - @`, neither prefixed
 * with `aws:` or `rds:`; at most 50 user tags per resource
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html).
 */
export const RDS_TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * DB instance classes the sandbox accepts per engine: a subset of the supported combinations
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html); other
 * classes are refused like an unsupported combination. Engines not listed accept any class.
 */
export const INSTANCE_CLASSES: Record<string, readonly string[]> = {
  postgres: [
    "db.t3.micro",
    "db.t3.small",
    "db.t3.medium",
    "db.t3.large",
    "db.t4g.micro",
    "db.t4g.small",
    "db.t4g.medium",
    "db.t4g.large",
    "db.m5.large",
    "db.m6g.large",
    "db.m6i.large",
    "db.m7g.large",
    "db.r5.large",
    "db.r6g.large",
    "db.r6i.large",
    "db.r7g.large",
  ],
  "aurora-postgresql": ["db.t3.medium", "db.t4g.medium", "db.t4g.large", "db.r5.large", "db.r6g.large", "db.r6i.large", "db.r7g.large", "db.serverless"],
};

/** "Total storage for all DB instances": 100,000 GiB per region (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html). */
export const STORAGE_QUOTA_GIB = 100_000;

/** A restored instance takes its first backup before it is `available` (RDS events "Restored from snapshot", then "Backing up DB instance"). */
export const RESTORE_BACKING_UP_MS = 2 * MINUTE;

/**
 * How an injected restore ends: `failed` / `incompatible-restore` / `storage-full` after the restore's duration
 * (statuses from https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status),
 * or `stuck` in `creating`.
 */
export type RestoreOutcome = "failed" | "incompatible-restore" | "storage-full" | "stuck";

/** Error text and code when a resource would hold more than 50 user tags. */
const tooManyTags = (n: number) => rdsError("InvalidParameterValue", `Cannot add more than ${MAX_TAGS_PER_RESOURCE} tags to a resource: it would have ${n}.`);

/** CopyDBSnapshot / CopyDBClusterSnapshot input fields the sandbox reads. */
export interface CopyInput {
  SourceDBSnapshotIdentifier?: string;
  TargetDBSnapshotIdentifier?: string;
  SourceDBClusterSnapshotIdentifier?: string;
  TargetDBClusterSnapshotIdentifier?: string;
  KmsKeyId?: string;
  Tags?: AwsTag[];
  CopyTags?: boolean;
  PreSignedUrl?: string;
}

const ARN_SHAPE = /arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?/;

/**
 * The copy request as it reaches the wire. The JS SDK's RDS client adds `PreSignedUrl` in its serialize step
 * (@aws-sdk/middleware-sdk-rds crossRegionPresignedUrlMiddleware) when the source identifier is an ARN of a
 * region other than the client's and no PreSignedUrl is set; aws-sdk-client-mock replaces `send`, so that
 * middleware never runs in the sandbox and this reproduces what it adds: a URL for the same action in the
 * source region carrying `KmsKeyId`, `DestinationRegion` and the source ARN (unsigned here). Fields the
 * v3 model lacks (`SourceRegion`, `DestinationRegion`) are dropped by the serializer and so are here.
 */
export function copyOnTheWire(command: "CopyDBSnapshot" | "CopyDBClusterSnapshot", input: CopyInput, region: string): CopyInput {
  const srcField = command === "CopyDBSnapshot" ? "SourceDBSnapshotIdentifier" : "SourceDBClusterSnapshotIdentifier";
  const targetField = command === "CopyDBSnapshot" ? "TargetDBSnapshotIdentifier" : "TargetDBClusterSnapshotIdentifier";
  const wire: CopyInput = {};
  for (const k of [srcField, targetField, "KmsKeyId", "Tags", "CopyTags", "PreSignedUrl"] as const) {
    if (input[k] !== undefined) (wire as Record<string, unknown>)[k] = input[k];
  }
  const source = wire[srcField];
  if (!wire.PreSignedUrl && source && ARN_SHAPE.test(source)) {
    const sourceRegion = source.split(":")[3];
    if (sourceRegion !== undefined && sourceRegion !== region) {
      const q = new URLSearchParams({ Action: command, Version: "2014-10-31" });
      if (wire.KmsKeyId !== undefined) q.set("KmsKeyId", wire.KmsKeyId);
      q.set("DestinationRegion", region);
      q.set(srcField, source);
      wire.PreSignedUrl = `https://rds.${sourceRegion}.amazonaws.com/?${q.toString()}`;
    }
  }
  return wire;
}

export interface RdsSim extends ServiceSim {
  addInstance(region: string, spec: AddInstance): void;
  addCluster(region: string, spec: AddCluster): void;
  /** Set an instance's or cluster's status from now (or from `at`, which may be in the future). */
  setStatus(region: string, id: string, status: string, options?: { at?: Date; kind?: Kind }): void;
  /** Current status (instances show `backing-up` while a snapshot of them is being created). */
  status(region: string, id: string, kind?: Kind): string;
  addSnapshot(region: string, spec: SeedSnapshot): SandboxSnapshot;
  removeSnapshot(region: string, id: string, kind?: Kind): void;
  snapshots(region?: string, filter?: { kind?: Kind; sourceId?: string; type?: SandboxSnapshot["type"] }): SandboxSnapshot[];
  /** One snapshot by id (case-insensitive, as RDS ids), or undefined. */
  snapshot(region: string, id: string, kind?: Kind): SandboxSnapshot | undefined;
  /**
   * What people do in the account, applied with RDS's own rules (and errors) but not recorded as calls:
   * a manual snapshot (instance tags copied when the DB has CopyTagsToSnapshot and no tags are given), a copy
   * (`copyTags` copies the source's tags, merged under `tags`), a restore (the new instance gets the
   * snapshot's tags unless `tags` are given).
   */
  takeSnapshot(region: string, spec: { dbId: string; id: string; kind?: Kind; tags?: Tags }): SandboxSnapshot;
  copySnapshot(
    region: string,
    spec: { sourceId: string; sourceRegion?: string; id: string; kind?: Kind; copyTags?: boolean; tags?: Tags; kmsKeyId?: string },
  ): SandboxSnapshot;
  restoreInstance(region: string, spec: { id: string; snapshotId: string; tags?: Tags; copyTagsToSnapshot?: boolean }): void;
  /** An instance's or cluster's tags now. */
  tagsOf(region: string, id: string, kind?: Kind): Tags;
  /** The ARN of an instance's or cluster's RDS-managed master user secret (MasterUserSecret.SecretArn), if it has one. */
  masterSecretOf(region: string, id: string, kind?: Kind): string | undefined;
  /** Manual snapshots counted against the quota in a region. */
  manualCount(region: string, kind: Kind): number;
  /** Cross-region copies in flight into a region. */
  copiesInFlight(region: string): number;
  /**
   * The next `times` (default 1) restores or cluster instances accepted in `region` (any) whose new identifier
   * `match`es end as `outcome` instead of `available`; the handle counts hits.
   */
  failRestores(spec: { outcome: RestoreOutcome; region?: string; match?: (id: string) => boolean; times?: number }): { readonly hits: number; clear(): void };
  /** Make an instance class (un)available in a region: InsufficientDBInstanceCapacity while unavailable. */
  setCapacity(region: string, instanceClass: string, available: boolean): void;
  /** A DB subnet group that exists (`default` always does). */
  addSubnetGroup(region: string, name: string): void;
  /** What the RDS Data API needs to know of a cluster: undefined when there is none. */
  dataApiTarget(
    region: string,
    id: string,
  ):
    | { status: string; httpEndpoint: boolean; writerAvailable: boolean; writerClass?: string; tags: Tags; master: { username: string; password: string } }
    | undefined;
}

export function createRdsSim(core: SandboxCore, durations: Durations, limits: Limits, world?: RdsWorld): RdsSim {
  const regions = new Map<string, RegionStore>();
  let seq = 0;

  function store(region: string): RegionStore {
    let s = regions.get(region);
    if (!s) {
      s = {
        dbs: { instance: new Map(), cluster: new Map() },
        snaps: { instance: new Map(), cluster: new Map() },
        inflightCopies: new Set(),
      };
      regions.set(region, s);
    }
    return s;
  }

  const arnOf = (region: string, type: string, id: string) => `arn:aws:rds:${region}:${core.accountId}:${type}:${id}`;
  const defaultKey = (region: string) => `arn:aws:kms:${region}:${core.accountId}:key/aws-rds-default`;

  function parseArn(arn: string): { region: string; account: string; type: string; id: string } | undefined {
    const parts = arn.split(":");
    if (parts.length < 7 || parts[0] !== "arn" || parts[2] !== "rds") return undefined;
    return { region: parts[3]!, account: parts[4]!, type: parts[5]!, id: parts.slice(6).join(":") };
  }

  function validIdentifier(raw: unknown, field: string, max = 255): string {
    if (typeof raw !== "string" || raw === "") throw rdsError("InvalidParameterValue", `The parameter ${field} must be provided and must not be blank.`);
    const id = raw.toLowerCase();
    if (id.length > max || !IDENTIFIER.test(id)) {
      throw rdsError(
        "InvalidParameterValue",
        `The parameter ${field} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; must be 1 to ${max} characters long; and must not end with a hyphen or contain two consecutive hyphens.`,
      );
    }
    return id;
  }

  /** Tags of one request, checked against the RDS tag rules; the field named in errors is `Tags`. */
  function validTags(list: readonly AwsTag[] | undefined): Tags {
    const tags = fromTagList(list);
    const keys = Object.keys(tags);
    if (keys.length > MAX_TAGS_PER_RESOURCE) throw tooManyTags(keys.length);
    for (const k of keys) {
      const v = tags[k]!;
      if (k.length < 1 || k.length > 128) throw rdsError("InvalidParameterValue", `Tag key "${k.slice(0, 40)}" must be 1 to 128 characters long.`);
      if (v.length > 256) throw rdsError("InvalidParameterValue", `The value of tag "${k}" must be at most 256 characters long.`);
      for (const [what, text] of [
        ["key", k],
        ["value", v],
      ] as const) {
        if (/^(aws|rds):/i.test(text)) throw rdsError("InvalidParameterValue", `Tag ${what} "${text}" uses a reserved prefix (aws: or rds:).`);
        if (!RDS_TAG_CHARS.test(text))
          throw rdsError("InvalidParameterValue", `Tag ${what} "${text}" contains characters outside letters, digits, white space and _ . : / = + - @.`);
      }
    }
    return tags;
  }

  /** The tags a resource ends up with must stay within the per-resource limit too (copies, merges). */
  function withinLimit(tags: Tags): Tags {
    const n = Object.keys(tags).length;
    if (n > MAX_TAGS_PER_RESOURCE) throw tooManyTags(n);
    return tags;
  }

  function dbStatus(db: Db, now: number): string {
    const base = db.status.valueAt(now);
    return base === "available" && db.kind === "instance" && db.busyUntilMs > now ? "backing-up" : base;
  }

  // ---- automated backups, materialised lazily whenever the region is observed ----
  function materialize(region: string, now: number): void {
    const s = store(region);
    purge(s, now);
    for (const kind of ["instance", "cluster"] as const) {
      for (const db of s.dbs[kind].values()) {
        const auto = db.automated;
        if (!auto) continue;
        while (auto.nextMs <= now) {
          const at = auto.nextMs;
          auto.nextMs += DAY;
          if (db.status.valueAt(at) !== "available") continue; // stopped databases skip their window
          const id = `rds:${db.id}-${utcStamp(at)}`;
          insertSnap(s, snapshotOfDb(region, kind, db, id, "automated", at, db.copyTagsToSnapshot ? { ...db.tags } : {}));
        }
        const cutoff = now - auto.retentionDays * DAY;
        for (const snap of s.snaps[kind].values()) {
          if (snap.type === "automated" && snap.sourceId === db.id && snap.startMs < cutoff) s.snaps[kind].delete(snap.id);
        }
      }
    }
  }

  /** Deleted instances and clusters are gone once their `deleting` period is over. */
  function purge(s: RegionStore, now: number): void {
    for (const kind of ["instance", "cluster"] as const) {
      for (const db of s.dbs[kind].values()) {
        if (db.goneAtMs === undefined || db.goneAtMs > now) continue;
        s.dbs[kind].delete(db.id);
        if (kind === "instance" && db.clusterId) {
          const cl = s.dbs.cluster.get(db.clusterId);
          if (cl) cl.members = cl.members.filter((m) => m !== db.id);
        }
      }
    }
  }

  /** A snapshot of `db` started at `at`: `creating`, then `available` after the kind's simulated duration. */
  function snapshotOfDb(region: string, kind: Kind, db: Db, id: string, type: "manual" | "automated", at: number, tags: Tags): Snap {
    const dur = durationOf(kind === "instance" ? durations.rdsSnapshot : durations.rdsClusterSnapshot, { region, id, sourceId: db.id });
    return {
      kind,
      id,
      region,
      arn: arnOf(region, LABEL[kind].snapshotArn, id),
      sourceId: db.id,
      engine: db.engine,
      type,
      status: new Timeline("creating", at).andThen("available", at + dur),
      startMs: at,
      readyMs: at + dur,
      originalCreateMs: at,
      sourceCreateMs: db.createdMs,
      tags,
      encrypted: db.encrypted,
      ...(db.kmsKeyId ? { kmsKeyId: db.kmsKeyId } : {}),
      allocatedStorage: db.allocatedStorage,
      master: { ...db.master },
      seq: 0,
    };
  }

  function insertSnap(s: RegionStore, snap: Snap): Snap {
    snap.seq = ++seq;
    s.snaps[snap.kind].set(snap.id, snap);
    return snap;
  }

  function manualCount(s: RegionStore, kind: Kind): number {
    let n = 0;
    for (const snap of s.snaps[kind].values()) if (snap.type === "manual") n++;
    return n;
  }

  function inflight(s: RegionStore, now: number): number {
    for (const snap of s.inflightCopies) {
      const st = snap.status.valueAt(now);
      if (st !== "pending" && st !== "copying") s.inflightCopies.delete(snap);
      else if (s.snaps[snap.kind].get(snap.id) !== snap) s.inflightCopies.delete(snap);
    }
    return s.inflightCopies.size;
  }

  // ---- views (SDK output shapes) ----
  function progress(snap: Snap, now: number): number {
    if (snap.readyMs === undefined) return 0;
    if (now >= snap.readyMs) return 100;
    return Math.max(0, Math.floor((100 * (now - snap.startMs)) / Math.max(1, snap.readyMs - snap.startMs)));
  }

  // Views are built with plain assignments (no spreads): describe calls build thousands per
  // simulated day and allocation dominates the sandbox's run time.
  function instanceSnapshotView(snap: Snap, now: number) {
    const status = snap.status.valueAt(now);
    const available = status === "available";
    const v: Record<string, unknown> = {
      DBSnapshotIdentifier: snap.id,
      DBSnapshotArn: snap.arn,
      DBInstanceIdentifier: snap.sourceId,
    };
    if (available) v.SnapshotCreateTime = new Date(snap.readyMs ?? snap.startMs);
    if (snap.originalCreateMs !== undefined && (available || snap.copy)) v.OriginalSnapshotCreateTime = new Date(snap.originalCreateMs);
    v.InstanceCreateTime = new Date(snap.sourceCreateMs);
    v.Engine = snap.engine;
    v.AllocatedStorage = snap.allocatedStorage;
    v.Status = status;
    v.SnapshotType = snap.type;
    v.PercentProgress = progress(snap, now);
    v.Encrypted = snap.encrypted;
    if (snap.kmsKeyId) v.KmsKeyId = snap.kmsKeyId;
    if (snap.copy?.crossRegion) {
      v.SourceRegion = snap.copy.region;
      v.SourceDBSnapshotIdentifier = snap.copy.arn;
    }
    v.SnapshotTarget = "region";
    v.TagList = toTagList(snap.tags);
    return v;
  }

  function clusterSnapshotView(snap: Snap, now: number) {
    const status = snap.status.valueAt(now);
    const v: Record<string, unknown> = {
      DBClusterSnapshotIdentifier: snap.id,
      DBClusterSnapshotArn: snap.arn,
      DBClusterIdentifier: snap.sourceId,
    };
    if (status === "available") v.SnapshotCreateTime = new Date(snap.readyMs ?? snap.startMs);
    v.ClusterCreateTime = new Date(snap.sourceCreateMs);
    v.Engine = snap.engine;
    v.AllocatedStorage = snap.allocatedStorage;
    v.Status = status;
    v.SnapshotType = snap.type;
    v.PercentProgress = progress(snap, now);
    v.StorageEncrypted = snap.encrypted;
    if (snap.kmsKeyId) v.KmsKeyId = snap.kmsKeyId;
    if (snap.copy) v.SourceDBClusterSnapshotArn = snap.copy.arn;
    v.TagList = toTagList(snap.tags);
    return v;
  }

  const snapshotView = (snap: Snap, now: number) => (snap.kind === "instance" ? instanceSnapshotView(snap, now) : clusterSnapshotView(snap, now));

  function instanceView(db: Db, now: number) {
    return {
      DBInstanceIdentifier: db.id,
      DBInstanceArn: db.arn,
      DBInstanceStatus: dbStatus(db, now),
      DBInstanceClass: db.instanceClass,
      Engine: db.engine,
      EngineVersion: db.engineVersion,
      AllocatedStorage: db.allocatedStorage,
      InstanceCreateTime: new Date(db.createdMs),
      StorageEncrypted: db.encrypted,
      ...(db.kmsKeyId ? { KmsKeyId: db.kmsKeyId } : {}),
      ...(db.clusterId ? { DBClusterIdentifier: db.clusterId } : {}),
      ...(db.replicaSourceArn ? { ReadReplicaSourceDBInstanceIdentifier: db.replicaSourceArn } : {}),
      ReadReplicaDBInstanceIdentifiers: [],
      PubliclyAccessible: db.publiclyAccessible,
      MultiAZ: db.multiAZ,
      DeletionProtection: db.deletionProtection,
      DBSubnetGroup: { DBSubnetGroupName: db.subnetGroup },
      VpcSecurityGroups: db.securityGroups.map((id) => ({ VpcSecurityGroupId: id, Status: "active" })),
      BackupRetentionPeriod: db.automated?.retentionDays ?? 0,
      CopyTagsToSnapshot: db.copyTagsToSnapshot,
      DbiResourceId: db.resourceId,
      MasterUsername: db.master.username,
      ...masterSecretView(db),
      TagList: toTagList(db.tags),
    };
  }

  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html */
  function masterSecretView(db: Db) {
    return db.masterSecretArn
      ? {
          MasterUserSecret: {
            SecretArn: db.masterSecretArn,
            SecretStatus: "active",
            KmsKeyId: `arn:aws:kms:${db.region}:${core.accountId}:alias/aws/secretsmanager`,
          },
        }
      : {};
  }

  function clusterView(db: Db, now: number) {
    return {
      DBClusterIdentifier: db.id,
      DBClusterArn: db.arn,
      Status: dbStatus(db, now),
      Engine: db.engine,
      EngineVersion: db.engineVersion,
      AllocatedStorage: db.allocatedStorage,
      ClusterCreateTime: new Date(db.createdMs),
      StorageEncrypted: db.encrypted,
      ...(db.kmsKeyId ? { KmsKeyId: db.kmsKeyId } : {}),
      DBClusterMembers: db.members.map((m, i) => ({ DBInstanceIdentifier: m, IsClusterWriter: i === 0 })),
      DeletionProtection: db.deletionProtection,
      HttpEndpointEnabled: db.httpEndpoint,
      MultiAZ: db.multiAZ,
      DBSubnetGroup: db.subnetGroup,
      VpcSecurityGroups: db.securityGroups.map((id) => ({ VpcSecurityGroupId: id, Status: "active" })),
      BackupRetentionPeriod: db.automated?.retentionDays ?? 1,
      CopyTagsToSnapshot: db.copyTagsToSnapshot,
      DbClusterResourceId: db.resourceId,
      MasterUsername: db.master.username,
      ...masterSecretView(db),
      TagList: toTagList(db.tags),
    };
  }

  // ---- paging and filters ----
  function pageSize(maxRecords: unknown): number {
    if (maxRecords === undefined) return 100;
    if (typeof maxRecords !== "number" || !Number.isInteger(maxRecords) || maxRecords < 20 || maxRecords > 100) {
      throw rdsError("InvalidParameterValue", `Invalid value ${String(maxRecords)} for MaxRecords. Must be between 20 and 100`);
    }
    return maxRecords;
  }

  function page<T extends { seq: number }>(items: T[], input: { MaxRecords?: number; Marker?: string }, tokenKind: string) {
    const size = pageSize(input.MaxRecords);
    let after: number | undefined;
    if (input.Marker !== undefined) {
      after = decodeToken(tokenKind, input.Marker);
      if (after === undefined) throw rdsError("InvalidParameterValue", "The parameter Marker is not valid.");
    }
    items.sort((a, b) => a.seq - b.seq);
    const { page: out, lastSeq } = pageAfter(items, size, after);
    return { items: out, ...(lastSeq !== undefined ? { Marker: encodeToken(tokenKind, lastSeq) } : {}) };
  }

  type Filter = { Name?: string; Values?: string[] };
  function filtersOf(filters: Filter[] | undefined, allowed: readonly string[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const f of filters ?? []) {
      if (!f.Name || !allowed.includes(f.Name)) throw rdsError("InvalidParameterValue", `Unrecognized filter name: ${f.Name ?? ""}.`);
      out.set(f.Name, new Set((f.Values ?? []).map((v) => v)));
    }
    return out;
  }
  const passes = (filters: Map<string, Set<string>>, name: string, value: string | undefined) => {
    const set = filters.get(name);
    return !set || (value !== undefined && (set.has(value) || set.has(value.toLowerCase())));
  };

  /** `id` or ARN → lowercase id (ARNs of another region/type do not match). */
  function idFrom(raw: string, region: string, arnType: string): string {
    if (raw.startsWith("arn:")) {
      const arn = parseArn(raw);
      if (!arn || arn.region !== region || arn.type !== arnType) return "\u0000no-match";
      return arn.id.toLowerCase();
    }
    return raw.toLowerCase();
  }

  // ---- commands ----
  function describeDbs(kind: Kind) {
    return (
      input: { DBInstanceIdentifier?: string; DBClusterIdentifier?: string; Filters?: Filter[]; MaxRecords?: number; Marker?: string },
      ctx: CommandContext,
    ) => {
      materialize(ctx.region, ctx.nowMs);
      const s = store(ctx.region);
      const idInput = kind === "instance" ? input.DBInstanceIdentifier : input.DBClusterIdentifier;
      const filters = filtersOf(
        input.Filters,
        kind === "instance" ? ["db-instance-id", "db-cluster-id", "engine", "dbi-resource-id"] : ["db-cluster-id", "engine", "db-cluster-resource-id"],
      );
      let dbs = [...s.dbs[kind].values()];
      if (idInput !== undefined) {
        const id = idFrom(idInput, ctx.region, LABEL[kind].dbArn);
        const db = s.dbs[kind].get(id);
        if (!db) throw rdsError(CODES[kind].dbNotFound, `${LABEL[kind].db} ${idInput} not found.`);
        dbs = [db];
      }
      dbs = dbs.filter(
        (db) =>
          passes(filters, kind === "instance" ? "db-instance-id" : "db-cluster-id", db.id) &&
          (kind === "cluster" || passes(filters, "db-cluster-id", db.clusterId)) &&
          passes(filters, "engine", db.engine),
      );
      const { items, ...marker } = page(dbs, input, `${kind}s`);
      return kind === "instance"
        ? { DBInstances: items.map((d) => instanceView(d, ctx.nowMs)), ...marker }
        : { DBClusters: items.map((d) => clusterView(d, ctx.nowMs)), ...marker };
    };
  }

  function describeSnaps(kind: Kind) {
    return (
      input: {
        DBInstanceIdentifier?: string;
        DBClusterIdentifier?: string;
        DBSnapshotIdentifier?: string;
        DBClusterSnapshotIdentifier?: string;
        SnapshotType?: string;
        IncludeShared?: boolean;
        IncludePublic?: boolean;
        Filters?: Filter[];
        MaxRecords?: number;
        Marker?: string;
      },
      ctx: CommandContext,
    ) => {
      materialize(ctx.region, ctx.nowMs);
      // Shared snapshots come only with IncludeShared or SnapshotType shared, named by their ARN
      // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html, IncludeShared, SnapshotType).
      if (input.SnapshotType === "shared" || (input.IncludeShared === true && input.SnapshotType === undefined)) {
        const sharedViews = sharedWithMe(kind, ctx.region).map((x) => {
          const v = kind === "instance" ? instanceSnapshotView(x, ctx.nowMs) : clusterSnapshotView(x, ctx.nowMs);
          v[kind === "instance" ? "DBSnapshotIdentifier" : "DBClusterSnapshotIdentifier"] = x.arn;
          v.SnapshotType = "shared";
          v.TagList = [];
          return v;
        });
        if (input.SnapshotType === "shared") return kind === "instance" ? { DBSnapshots: sharedViews } : { DBClusterSnapshots: sharedViews };
        // Simplified: the shared ones come after the account's own, on the last page.
        const own = describeOwn(input, ctx) as unknown as Record<string, unknown>;
        const key = kind === "instance" ? "DBSnapshots" : "DBClusterSnapshots";
        return own.Marker === undefined ? { ...own, [key]: [...(own[key] as unknown[]), ...sharedViews] } : own;
      }
      return describeOwn(input, ctx);
    };
    function describeOwn(
      input: {
        DBInstanceIdentifier?: string;
        DBClusterIdentifier?: string;
        DBSnapshotIdentifier?: string;
        DBClusterSnapshotIdentifier?: string;
        SnapshotType?: string;
        Filters?: Filter[];
        MaxRecords?: number;
        Marker?: string;
      },
      ctx: CommandContext,
    ) {
      const s = store(ctx.region);
      const snapIdInput = kind === "instance" ? input.DBSnapshotIdentifier : input.DBClusterSnapshotIdentifier;
      const dbIdInput = kind === "instance" ? input.DBInstanceIdentifier : input.DBClusterIdentifier;
      const filters = filtersOf(
        input.Filters,
        kind === "instance"
          ? ["db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine"]
          : ["db-cluster-id", "db-cluster-snapshot-id", "snapshot-type", "engine"],
      );
      let snaps = [...s.snaps[kind].values()];
      if (snapIdInput !== undefined) {
        const id = idFrom(snapIdInput, ctx.region, LABEL[kind].snapshotArn);
        const snap = s.snaps[kind].get(id);
        if (!snap) throw rdsError(CODES[kind].snapNotFound, `${kind === "instance" ? "DBSnapshot" : "DBClusterSnapshot"} ${snapIdInput} not found.`);
        snaps = [snap];
      }
      const dbId = dbIdInput === undefined ? undefined : idFrom(dbIdInput, ctx.region, LABEL[kind].dbArn);
      const type = input.SnapshotType;
      if (type !== undefined && !["manual", "automated", "shared", "public", "awsbackup"].includes(type)) {
        throw rdsError("InvalidParameterValue", `Invalid snapshot type: ${type}`);
      }
      snaps = snaps.filter(
        (snap) =>
          (dbId === undefined || snap.sourceId === dbId) &&
          // Without SnapshotType AWS returns manual and automated ones (and AWS Backup ones) together.
          (type === undefined ? true : snap.type === type) &&
          passes(filters, kind === "instance" ? "db-instance-id" : "db-cluster-id", snap.sourceId) &&
          passes(filters, kind === "instance" ? "db-snapshot-id" : "db-cluster-snapshot-id", snap.id) &&
          passes(filters, "snapshot-type", snap.type) &&
          passes(filters, "engine", snap.engine),
      );
      const { items, ...marker } = page(snaps, input, `${kind}-snapshots`);
      return kind === "instance"
        ? { DBSnapshots: items.map((x) => instanceSnapshotView(x, ctx.nowMs)), ...marker }
        : { DBClusterSnapshots: items.map((x) => clusterSnapshotView(x, ctx.nowMs)), ...marker };
    }
  }

  function createSnap(kind: Kind) {
    return (
      input: {
        DBSnapshotIdentifier?: string;
        DBInstanceIdentifier?: string;
        DBClusterSnapshotIdentifier?: string;
        DBClusterIdentifier?: string;
        Tags?: AwsTag[];
      },
      ctx: CommandContext,
    ) => {
      const { region, nowMs: now } = ctx;
      materialize(region, now);
      const s = store(region);
      const c = CODES[kind];
      const snapField = kind === "instance" ? "DBSnapshotIdentifier" : "DBClusterSnapshotIdentifier";
      const dbField = kind === "instance" ? "DBInstanceIdentifier" : "DBClusterIdentifier";
      const id = validIdentifier(kind === "instance" ? input.DBSnapshotIdentifier : input.DBClusterSnapshotIdentifier, snapField, MAX_SNAPSHOT_ID[kind]);
      const dbRaw = kind === "instance" ? input.DBInstanceIdentifier : input.DBClusterIdentifier;
      if (!dbRaw) throw rdsError("InvalidParameterValue", `The parameter ${dbField} must be provided and must not be blank.`);
      const db = s.dbs[kind].get(dbRaw.toLowerCase());
      if (!db) throw rdsError(c.dbNotFound, `${LABEL[kind].db} ${dbRaw} not found.`);
      const tags = validTags(input.Tags);
      if (s.snaps[kind].has(id)) {
        throw rdsError(c.snapExists, `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`);
      }
      if (kind === "instance" && db.clusterId) {
        throw rdsError("InvalidParameterCombination", `The specified instance ${db.id} is a member of a cluster; create a DB cluster snapshot instead.`);
      }
      const status = dbStatus(db, now);
      if (status !== "available") {
        throw rdsError(
          c.dbState,
          kind === "instance"
            ? `Cannot create a snapshot because the database instance ${db.id} is not currently in the available state.`
            : `DbCluster ${db.id} is not currently in the available state.`,
        );
      }
      if (manualCount(s, kind) >= limits.rdsManualSnapshotsPerRegion) {
        throw rdsError("SnapshotQuotaExceeded", `Cannot create more than ${limits.rdsManualSnapshotsPerRegion} manual snapshots`);
      }
      // CopyTagsToSnapshot applies only when the request carries no tags of its own.
      const snapTags = Object.keys(tags).length === 0 && db.copyTagsToSnapshot ? { ...db.tags } : tags;
      const snap = insertSnap(s, snapshotOfDb(region, kind, db, id, "manual", now, snapTags));
      if (kind === "instance") db.busyUntilMs = Math.max(db.busyUntilMs, snap.readyMs ?? now);
      return kind === "instance" ? { DBSnapshot: instanceSnapshotView(snap, now) } : { DBClusterSnapshot: clusterSnapshotView(snap, now) };
    };
  }

  /** Another account's snapshot shared with this one (or public), by its ARN. */
  function sharedSnap(kind: Kind, arn: { region: string; account: string; id: string }): Snap | undefined {
    const other = world ? rdsStores.get(world)?.get(arn.account) : undefined;
    const snap = other?.(arn.region).snaps[kind].get(arn.id.toLowerCase());
    return snap && (snap.isPublic || snap.sharedWith?.has(core.accountId)) ? snap : undefined;
  }

  /** Snapshots of other accounts in a region shared with this one. */
  function sharedWithMe(kind: Kind, region: string): Snap[] {
    const out: Snap[] = [];
    for (const [account, other] of world ? (rdsStores.get(world) ?? []) : []) {
      if (account === core.accountId) continue;
      for (const snap of other(region).snaps[kind].values()) if (snap.isPublic || snap.sharedWith?.has(core.accountId)) out.push(snap);
    }
    return out;
  }

  /**
   * ModifyDBSnapshotAttribute / ModifyDBClusterSnapshotAttribute, AttributeName `restore`
   * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html): manual snapshots only;
   * "If the manual DB snapshot is encrypted, it can be shared, but only by specifying a list of authorized AWS account
   * IDs ... You can't use all"; a snapshot encrypted with the default `aws/rds` key cannot be shared at all
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html).
   */
  function modifySnapAttribute(kind: Kind) {
    return (
      input: { DBSnapshotIdentifier?: string; DBClusterSnapshotIdentifier?: string; AttributeName?: string; ValuesToAdd?: string[]; ValuesToRemove?: string[] },
      ctx: CommandContext,
    ) => {
      const snap = ownSnap(kind, ctx, kind === "instance" ? input.DBSnapshotIdentifier : input.DBClusterSnapshotIdentifier);
      if (input.AttributeName !== "restore")
        throw rdsError("InvalidParameterValue", `Invalid attribute name: ${String(input.AttributeName)}. Only restore can be modified.`);
      if (snap.type !== "manual") throw rdsError(CODES[kind].snapState, `Only manual snapshots can be shared; ${snap.id} is ${snap.type}.`);
      const add = input.ValuesToAdd ?? [];
      const remove = input.ValuesToRemove ?? [];
      for (const v of [...add, ...remove]) {
        if (v !== "all" && !/^\d{12}$/.test(v)) throw rdsError("InvalidParameterValue", `Invalid account id: ${v}`);
      }
      if (add.length && snap.encrypted && isAwsManagedKey(snap.kmsKeyId)) {
        throw rdsError(
          CODES[kind].snapState,
          `Snapshot ${snap.id} is encrypted with the default KMS key (aws/rds) and cannot be shared. Copy it with a customer managed key and share the copy.`,
        );
      }
      if (add.includes("all") && snap.encrypted) {
        throw rdsError(CODES[kind].snapState, `Snapshot ${snap.id} is encrypted and cannot be shared publicly; specify the account IDs to share it with.`);
      }
      snap.sharedWith ??= new Set();
      for (const v of add) v === "all" ? (snap.isPublic = true) : snap.sharedWith.add(v);
      for (const v of remove) v === "all" ? (snap.isPublic = false) : snap.sharedWith.delete(v);
      const result = { [kind === "instance" ? "DBSnapshotIdentifier" : "DBClusterSnapshotIdentifier"]: snap.id, ...attributesOf(kind, snap) };
      return kind === "instance" ? { DBSnapshotAttributesResult: result } : { DBClusterSnapshotAttributesResult: result };
    };
  }

  function attributesOf(kind: Kind, snap: Snap) {
    const values = [...(snap.isPublic ? ["all"] : []), ...(snap.sharedWith ?? [])];
    return { [kind === "instance" ? "DBSnapshotAttributes" : "DBClusterSnapshotAttributes"]: [{ AttributeName: "restore", AttributeValues: values }] };
  }

  function ownSnap(kind: Kind, ctx: CommandContext, raw: string | undefined): Snap {
    materialize(ctx.region, ctx.nowMs);
    const id = idFrom(raw ?? "", ctx.region, LABEL[kind].snapshotArn);
    const snap = store(ctx.region).snaps[kind].get(id);
    if (!snap) throw rdsError(CODES[kind].snapNotFound, `${kind === "instance" ? "DBSnapshot" : "DBClusterSnapshot"} ${raw ?? ""} not found.`);
    return snap;
  }

  /** DescribeDBSnapshotAttributes / DescribeDBClusterSnapshotAttributes (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshotAttributes.html). */
  function describeSnapAttributes(kind: Kind) {
    return (input: { DBSnapshotIdentifier?: string; DBClusterSnapshotIdentifier?: string }, ctx: CommandContext) => {
      const snap = ownSnap(kind, ctx, kind === "instance" ? input.DBSnapshotIdentifier : input.DBClusterSnapshotIdentifier);
      const result = { [kind === "instance" ? "DBSnapshotIdentifier" : "DBClusterSnapshotIdentifier"]: snap.id, ...attributesOf(kind, snap) };
      return kind === "instance" ? { DBSnapshotAttributesResult: result } : { DBClusterSnapshotAttributesResult: result };
    };
  }

  function kmsDenied(kind: Kind, which: "source snapshot" | "target", key: string): Error {
    void kind;
    return rdsError("KMSKeyNotAccessibleFault", `The ${which} KMS key [${key}] does not exist, is not enabled or you do not have permissions to access it.`);
  }

  function copySnap(kind: Kind) {
    return (input: CopyInput, ctx: CommandContext) => {
      const { region, nowMs: now } = ctx;
      const c = CODES[kind];
      // Judge the request that reaches the wire: the client's presign middleware (which the mock skips)
      // adds PreSignedUrl to a copy whose source is an ARN of another region.
      const wire = copyOnTheWire(kind === "instance" ? "CopyDBSnapshot" : "CopyDBClusterSnapshot", input, region);
      const srcField = kind === "instance" ? "SourceDBSnapshotIdentifier" : "SourceDBClusterSnapshotIdentifier";
      const srcRaw = wire[srcField];
      const targetField = kind === "instance" ? "TargetDBSnapshotIdentifier" : "TargetDBClusterSnapshotIdentifier";
      const id = validIdentifier(wire[targetField], targetField, MAX_SNAPSHOT_ID[kind]);
      if (!srcRaw) throw rdsError("InvalidParameterValue", `The parameter ${srcField} must be provided and must not be blank.`);
      let srcRegion = region;
      let srcId = srcRaw.toLowerCase();
      if (srcRaw.startsWith("arn:")) {
        const arn = parseArn(srcRaw);
        if (!arn || arn.type !== LABEL[kind].snapshotArn) throw rdsError("InvalidParameterValue", `Invalid source snapshot ARN: ${srcRaw}`);
        srcRegion = arn.region;
        srcId = arn.id.toLowerCase();
      }
      // A source in another region must be named by its ARN: a plain identifier is looked up in the
      // destination (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html).
      // The v3 input has no SourceRegion, so one set on the input object never reaches the wire.
      const crossRegion = srcRegion !== region;
      materialize(srcRegion, now);
      materialize(region, now);
      const srcArn = srcRaw.startsWith("arn:") ? parseArn(srcRaw) : undefined;
      const crossAccount = srcArn !== undefined && srcArn.account !== core.accountId;
      // Another account's snapshot is copied by its ARN once shared with this account
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html).
      const src = crossAccount ? sharedSnap(kind, srcArn) : store(srcRegion).snaps[kind].get(srcId);
      if (!src) throw rdsError(c.snapNotFound, `${kind === "instance" ? "DBSnapshot" : "DBClusterSnapshot"} not found: ${srcRaw}`);
      const dest = store(region);
      if (dest.snaps[kind].has(id)) {
        throw rdsError(c.snapExists, `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`);
      }
      if (src.status.valueAt(now) !== "available") {
        throw rdsError(c.snapState, `Snapshot ${src.id} is not in the available state; it is ${src.status.valueAt(now)}.`);
      }
      const tags = validTags(wire.Tags);
      let encrypted = src.encrypted;
      let kmsKeyId: string | undefined = src.kmsKeyId;
      const role = world?.callerRole(ctx);
      if (src.encrypted) {
        if (src.kmsKeyId && core.kms.isDenied(src.kmsKeyId)) throw kmsDenied(kind, "source snapshot", src.kmsKeyId);
        // The source key's policy must let this account use it (kms.ts); a shared encrypted snapshot is copied with a
        // key of this account: "you must specify a value for KmsKeyId" (API_CopyDBSnapshot, KmsKeyId).
        if (crossAccount && src.kmsKeyId && world?.keys.refused(src.kmsKeyId, core.accountId, role, RDS_KEY_ACTIONS)) {
          throw kmsDenied(kind, "source snapshot", src.kmsKeyId);
        }
        if (crossAccount && !wire.KmsKeyId)
          throw rdsError("InvalidParameterValue", "KmsKeyId must be specified to copy an encrypted snapshot shared from another account.");
        // "If you copy an encrypted snapshot to a different AWS Region, then you must specify a KMS key
        // identifier for the destination AWS Region." (API_CopyDBSnapshot / API_CopyDBClusterSnapshot, KmsKeyId)
        if (crossRegion && !wire.KmsKeyId) throw rdsError("InvalidParameterValue", "Must specify new KMS key for cross region encrypted snapshot copy.");
      } else if (wire.KmsKeyId !== undefined) {
        // CopyDBClusterSnapshot: "If you copy an unencrypted DB cluster snapshot and specify a value for the
        // KmsKeyId parameter, an error is returned." CopyDBSnapshot: "If you specify this parameter when you
        // copy an unencrypted snapshot, the copy is encrypted."
        if (kind === "cluster") {
          throw rdsError(
            "InvalidParameterCombination",
            `KmsKeyId cannot be specified: DB cluster snapshot ${src.id} is not encrypted, and an unencrypted DB cluster snapshot cannot be encrypted by copying it.`,
          );
        }
        encrypted = true;
      }
      if (wire.KmsKeyId !== undefined) {
        const keyRegion = wire.KmsKeyId.startsWith("arn:") ? wire.KmsKeyId.split(":")[3] : region;
        if (core.kms.isDenied(wire.KmsKeyId) || keyRegion !== region) throw kmsDenied(kind, "target", wire.KmsKeyId);
        if (wire.KmsKeyId.startsWith("arn:") && world?.keys.refused(wire.KmsKeyId, core.accountId, role, RDS_KEY_ACTIONS))
          throw kmsDenied(kind, "target", wire.KmsKeyId);
        kmsKeyId = wire.KmsKeyId;
      }
      checkPresignedUrl(wire, kind, region, srcRegion, srcRaw, crossRegion && encrypted);
      // "You can have up to 20 snapshot copy requests in progress to a single destination Region per account."
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html, Limitations)
      if (crossRegion && inflight(dest, now) >= limits.rdsCopiesInFlightPerRegion) {
        throw rdsError("SnapshotQuotaExceeded", `Cannot copy more than ${limits.rdsCopiesInFlightPerRegion} snapshots across regions`);
      }
      if (manualCount(dest, kind) >= limits.rdsManualSnapshotsPerRegion) {
        throw rdsError("SnapshotQuotaExceeded", `Cannot create more than ${limits.rdsManualSnapshotsPerRegion} manual snapshots`);
      }
      // CopyTags copies the source's tags; explicit Tags win over copied ones with the same key. The result
      // is one resource's tags, so it must stay within 50.
      const finalTags = withinLimit(wire.CopyTags ? { ...src.tags, ...tags } : tags);
      const dur = durationOf(crossRegion ? durations.rdsCopy : durations.rdsSameRegionCopy, { region, id, sourceId: src.sourceId });
      const pendingFor = Math.min(60_000, Math.floor(dur / 10));
      const snap = insertSnap(dest, {
        kind,
        id,
        region,
        arn: arnOf(region, LABEL[kind].snapshotArn, id),
        sourceId: src.sourceId,
        engine: src.engine,
        type: "manual",
        status: new Timeline("pending", now).andThen("copying", now + pendingFor).andThen("available", now + dur),
        startMs: now,
        readyMs: now + dur,
        ...(src.originalCreateMs !== undefined ? { originalCreateMs: src.originalCreateMs } : {}),
        sourceCreateMs: src.sourceCreateMs,
        tags: finalTags,
        encrypted,
        ...(encrypted && kmsKeyId ? { kmsKeyId } : {}),
        allocatedStorage: src.allocatedStorage,
        master: { ...src.master },
        copy: { region: srcRegion, id: src.id, arn: src.arn, crossRegion },
        seq: 0,
      });
      if (crossRegion) dest.inflightCopies.add(snap);
      return kind === "instance" ? { DBSnapshot: instanceSnapshotView(snap, now) } : { DBClusterSnapshot: clusterSnapshotView(snap, now) };
    };
  }

  /**
   * PreSignedUrl "applies only to AWS GovCloud (US) Regions. It's ignored in other AWS Regions"; there it must be a
   * request for the same copy in the source region, naming this region as DestinationRegion and the same
   * KmsKeyId and source ARN (API_CopyDBSnapshot / API_CopyDBClusterSnapshot, PreSignedUrl).
   */
  function checkPresignedUrl(wire: CopyInput, kind: Kind, region: string, srcRegion: string, srcRaw: string, needed: boolean): void {
    if (!region.startsWith("us-gov-")) return;
    const url = wire.PreSignedUrl;
    if (!url) {
      if (needed) throw rdsError("InvalidParameterValue", "PreSignedUrl must be provided for a cross-region copy of an encrypted snapshot.");
      return;
    }
    const action = kind === "instance" ? "CopyDBSnapshot" : "CopyDBClusterSnapshot";
    const srcField = kind === "instance" ? "SourceDBSnapshotIdentifier" : "SourceDBClusterSnapshotIdentifier";
    let q: URLSearchParams;
    let host: string;
    try {
      const u = new URL(url);
      q = u.searchParams;
      host = u.hostname;
    } catch {
      throw rdsError("InvalidParameterValue", "PreSignedUrl is not a valid URL.");
    }
    const mismatch =
      host !== `rds.${srcRegion}.amazonaws.com`
        ? `it is not addressed to ${srcRegion}`
        : q.get("Action") !== action
          ? `its Action is not ${action}`
          : q.get("DestinationRegion") !== region
            ? `its DestinationRegion is not ${region}`
            : q.get(srcField) !== srcRaw
              ? `its ${srcField} is not ${srcRaw}`
              : (q.get("KmsKeyId") ?? undefined) !== wire.KmsKeyId
                ? `its KmsKeyId is not ${wire.KmsKeyId ?? "absent"}`
                : undefined;
    if (mismatch) throw rdsError("InvalidParameterValue", `PreSignedUrl does not match the request: ${mismatch}.`);
  }

  function deleteSnap(kind: Kind) {
    return (input: { DBSnapshotIdentifier?: string; DBClusterSnapshotIdentifier?: string }, ctx: CommandContext) => {
      const { region, nowMs: now } = ctx;
      materialize(region, now);
      const s = store(region);
      const c = CODES[kind];
      const raw = kind === "instance" ? input.DBSnapshotIdentifier : input.DBClusterSnapshotIdentifier;
      const snap = raw === undefined ? undefined : s.snaps[kind].get(raw.toLowerCase());
      if (!snap) throw rdsError(c.snapNotFound, `${kind === "instance" ? "DBSnapshot" : "DBClusterSnapshot"} not found: ${raw ?? ""}`);
      if (snap.type !== "manual") {
        throw rdsError(c.snapState, kind === "instance" ? "automated snapshots cannot be deleted." : "Only manual snapshots may be deleted.");
      }
      const status = snap.status.valueAt(now);
      // A copy in flight can be cancelled by deleting it; a snapshot being created cannot be deleted.
      if (status !== "available" && status !== "pending" && status !== "copying" && status !== "failed") {
        throw rdsError(c.snapState, `Cannot delete the snapshot ${snap.id} because it is in the ${status} state.`);
      }
      const view = snapshotView(snap, now);
      s.snaps[kind].delete(snap.id);
      s.inflightCopies.delete(snap);
      const deleted = { ...view, Status: "deleted" };
      return kind === "instance" ? { DBSnapshot: deleted } : { DBClusterSnapshot: deleted };
    };
  }

  function resourceByArn(arnRaw: string | undefined, ctx: CommandContext): { tags: Tags } {
    const arn = arnRaw ? parseArn(arnRaw) : undefined;
    if (!arn || arn.region !== ctx.region) throw rdsError("InvalidParameterValue", `Invalid resource name: ${arnRaw ?? ""}`);
    materialize(ctx.region, ctx.nowMs);
    const s = store(ctx.region);
    const id = arn.id.toLowerCase();
    const found =
      arn.type === "db"
        ? s.dbs.instance.get(id)
        : arn.type === "cluster"
          ? s.dbs.cluster.get(id)
          : arn.type === "snapshot"
            ? s.snaps.instance.get(id)
            : arn.type === "cluster-snapshot"
              ? s.snaps.cluster.get(id)
              : undefined;
    if (found) return found;
    const code: RdsErrorCode =
      arn.type === "db"
        ? "DBInstanceNotFound"
        : arn.type === "cluster"
          ? "DBClusterNotFoundFault"
          : arn.type === "cluster-snapshot"
            ? "DBClusterSnapshotNotFoundFault"
            : "DBSnapshotNotFound";
    throw rdsError(code, `${arnRaw} not found.`);
  }

  // ---- restores, instances in clusters, deletes ----
  // Sources: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html,
  // …/API_RestoreDBClusterFromSnapshot.html, …/API_CreateDBInstance.html, …/API_DeleteDBInstance.html,
  // …/API_DeleteDBCluster.html, …/API_EnableHttpEndpoint.html.

  /** A restore (or a new cluster instance) accepted by the next matching call ends this way instead of `available`. */
  const outcomes: Array<{ outcome: RestoreOutcome; region?: string; match?: (id: string) => boolean; remaining: number; hits: number }> = [];
  /** Instance classes with no capacity now, per region (InsufficientDBInstanceCapacity). */
  const noCapacity = new Map<string, Set<string>>();
  const subnetGroups = new Map<string, Set<string>>();

  function takeOutcome(region: string, id: string): RestoreOutcome | undefined {
    const o = outcomes.find((x) => x.remaining > 0 && (x.region === undefined || x.region === region) && (!x.match || x.match(id)));
    if (!o) return undefined;
    o.remaining -= 1;
    o.hits += 1;
    return o.outcome;
  }

  /** `creating` from now; then `available` after `dur` (with `backing-up` first for a restored instance), or the injected outcome. */
  function creationTimeline(region: string, id: string, now: number, dur: number, backingUpMs: number): Timeline<string> {
    const t = new Timeline("creating", now);
    const outcome = takeOutcome(region, id);
    if (outcome === "stuck") return t;
    if (outcome) return t.andThen(outcome, now + dur);
    if (backingUpMs > 0) t.andThen("backing-up", now + dur);
    return t.andThen("available", now + dur + backingUpMs);
  }

  function requireField(value: unknown, field: string): string {
    if (typeof value !== "string" || value === "") throw rdsError("InvalidParameterValue", `The parameter ${field} must be provided and must not be blank.`);
    return value;
  }

  function checkClass(region: string, instanceClass: string, engine: string, engineVersion: string): void {
    const allowed = INSTANCE_CLASSES[engine];
    if (allowed && !allowed.includes(instanceClass)) {
      throw rdsError(
        "InvalidParameterCombination",
        `RDS does not support creating a DB instance with the following combination: DBInstanceClass=${instanceClass}, Engine=${engine}, EngineVersion=${engineVersion}. For supported combinations of instance class and database engine version, see the documentation.`,
      );
    }
    if (noCapacity.get(region)?.has(instanceClass)) {
      throw rdsError(
        "InsufficientDBInstanceCapacity",
        `Cannot create a database instance because there is not enough capacity available for the specified DB instance class: ${instanceClass}. Try again later, or use a different DB instance class.`,
      );
    }
  }

  function checkSubnetGroup(region: string, name: string | undefined): string {
    if (name === undefined) return "default";
    const lower = name.toLowerCase();
    if (lower !== "default" && !subnetGroups.get(region)?.has(lower)) throw rdsError("DBSubnetGroupNotFoundFault", `DBSubnetGroup ${name} not found.`);
    return lower;
  }

  function checkStorage(s: RegionStore, extra: number): void {
    let total = extra;
    for (const db of s.dbs.instance.values()) if (!db.clusterId) total += db.allocatedStorage;
    if (total > STORAGE_QUOTA_GIB) {
      throw rdsError(
        "StorageQuotaExceeded",
        `The request would result in the user exceeding the allowed amount of storage available across all DB instances (${STORAGE_QUOTA_GIB} GiB).`,
      );
    }
  }

  interface NetworkInput {
    DBSubnetGroupName?: string;
    VpcSecurityGroupIds?: string[];
    PubliclyAccessible?: boolean;
    MultiAZ?: boolean;
    DeletionProtection?: boolean;
    Tags?: AwsTag[];
    CopyTagsToSnapshot?: boolean;
  }

  function applyNetwork(db: Db, input: NetworkInput, subnetGroup: string): void {
    db.subnetGroup = subnetGroup;
    db.securityGroups = [...(input.VpcSecurityGroupIds ?? [])];
    db.publiclyAccessible = input.PubliclyAccessible ?? false;
    db.multiAZ = input.MultiAZ ?? false;
    db.deletionProtection = input.DeletionProtection ?? false;
  }

  /**
   * RestoreDBInstanceFromDBSnapshot: a new instance from an available DB snapshot. Without Tags the new
   * instance gets the snapshot's tags (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html),
   * which is how a restore of one of our snapshots carries our tags to the snapshots people take of it.
   * DBInstanceClass defaults to the source instance's; the identifier is 1–63 characters; an existing identifier
   * is DBInstanceAlreadyExists.
   */
  function restoreInstance(
    input: NetworkInput & { DBInstanceIdentifier?: string; DBSnapshotIdentifier?: string; DBInstanceClass?: string },
    ctx: CommandContext,
  ) {
    const { region, nowMs: now } = ctx;
    materialize(region, now);
    const s = store(region);
    const id = validIdentifier(input.DBInstanceIdentifier, "DBInstanceIdentifier", 63);
    const snapRaw = requireField(input.DBSnapshotIdentifier, "DBSnapshotIdentifier");
    const snap = s.snaps.instance.get(idFrom(snapRaw, region, "snapshot"));
    if (!snap) throw rdsError("DBSnapshotNotFound", `DBSnapshot not found: ${snapRaw}`);
    if (s.dbs.instance.has(id)) throw rdsError("DBInstanceAlreadyExists", `DB instance already exists`);
    if (snap.status.valueAt(now) !== "available") throw rdsError("InvalidDBSnapshotState", `Snapshot ${snap.id} is not in the available state.`);
    const given = validTags(input.Tags);
    const source = s.dbs.instance.get(snap.sourceId);
    const instanceClass = input.DBInstanceClass ?? source?.instanceClass ?? "db.t4g.medium";
    const engineVersion = source?.engineVersion ?? "16.4";
    checkClass(region, instanceClass, snap.engine, engineVersion);
    const subnetGroup = checkSubnetGroup(region, input.DBSubnetGroupName);
    checkStorage(s, snap.allocatedStorage);
    const tags = Object.keys(given).length ? given : { ...snap.tags };
    addDb(region, "instance", {
      id,
      tags,
      engine: snap.engine,
      engineVersion,
      instanceClass,
      encrypted: snap.encrypted,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      allocatedStorage: snap.allocatedStorage,
      masterUsername: snap.master.username,
      masterPassword: snap.master.password,
      ...(input.CopyTagsToSnapshot !== undefined ? { copyTagsToSnapshot: input.CopyTagsToSnapshot } : {}),
    });
    const db = s.dbs.instance.get(id)!;
    applyNetwork(db, input, subnetGroup);
    db.status = creationTimeline(region, id, now, durationOf(durations.rdsRestore, { region, id, sourceId: snap.id }), RESTORE_BACKING_UP_MS);
    return { DBInstance: instanceView(db, now) };
  }

  /**
   * RestoreDBClusterFromSnapshot: an Aurora cluster (no instances: CreateDBInstance adds them) from an available
   * cluster snapshot, named by id or ARN; Engine is required and must be the snapshot's engine family.
   */
  function restoreCluster(
    input: NetworkInput & { DBClusterIdentifier?: string; SnapshotIdentifier?: string; Engine?: string; EngineVersion?: string },
    ctx: CommandContext,
  ) {
    const { region, nowMs: now } = ctx;
    materialize(region, now);
    const s = store(region);
    const id = validIdentifier(input.DBClusterIdentifier, "DBClusterIdentifier", 63);
    const snapRaw = requireField(input.SnapshotIdentifier, "SnapshotIdentifier");
    const engine = requireField(input.Engine, "Engine").toLowerCase();
    const snap = s.snaps.cluster.get(idFrom(snapRaw, region, "cluster-snapshot"));
    if (!snap) throw rdsError("DBClusterSnapshotNotFoundFault", `DBClusterSnapshot not found: ${snapRaw}`);
    if (s.dbs.cluster.has(id)) throw rdsError("DBClusterAlreadyExistsFault", `DB Cluster already exists`);
    if (snap.status.valueAt(now) !== "available") {
      throw rdsError("InvalidDBClusterSnapshotStateFault", `Snapshot ${snap.id} is not in the available state.`);
    }
    if (engine !== snap.engine)
      throw rdsError("InvalidParameterCombination", `The engine ${engine} is not compatible with the snapshot's engine ${snap.engine}.`);
    const tags = validTags(input.Tags);
    const subnetGroup = checkSubnetGroup(region, input.DBSubnetGroupName);
    const source = s.dbs.cluster.get(snap.sourceId);
    addDb(region, "cluster", {
      id,
      tags: Object.keys(tags).length ? tags : { ...snap.tags },
      engine,
      engineVersion: input.EngineVersion ?? source?.engineVersion ?? "16.4",
      encrypted: snap.encrypted,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      allocatedStorage: snap.allocatedStorage,
      masterUsername: snap.master.username,
      masterPassword: snap.master.password,
      ...(input.CopyTagsToSnapshot !== undefined ? { copyTagsToSnapshot: input.CopyTagsToSnapshot } : {}),
    });
    const db = s.dbs.cluster.get(id)!;
    applyNetwork(db, input, subnetGroup);
    db.status = creationTimeline(region, id, now, durationOf(durations.rdsClusterRestore, { region, id, sourceId: snap.id }), 0);
    return { DBCluster: clusterView(db, now) };
  }

  /** CreateDBInstance, modelled for an instance in an Aurora cluster: DBInstanceClass and Engine are required. */
  function createInstance(
    input: NetworkInput & { DBInstanceIdentifier?: string; DBInstanceClass?: string; Engine?: string; DBClusterIdentifier?: string },
    ctx: CommandContext,
  ) {
    const { region, nowMs: now } = ctx;
    if (input.DBClusterIdentifier === undefined)
      throw new SandboxUnsupportedError("sandbox simulates rds:CreateDBInstance only for an instance in an Aurora cluster (DBClusterIdentifier)");
    materialize(region, now);
    const s = store(region);
    const id = validIdentifier(input.DBInstanceIdentifier, "DBInstanceIdentifier", 63);
    const instanceClass = requireField(input.DBInstanceClass, "DBInstanceClass");
    const engine = requireField(input.Engine, "Engine").toLowerCase();
    const cluster = s.dbs.cluster.get(input.DBClusterIdentifier.toLowerCase());
    if (!cluster) throw rdsError("DBClusterNotFoundFault", `DBCluster ${input.DBClusterIdentifier} not found.`);
    if (s.dbs.instance.has(id)) throw rdsError("DBInstanceAlreadyExists", `DB instance already exists`);
    if (engine !== cluster.engine)
      throw rdsError(
        "InvalidParameterCombination",
        `The engine name requested for your DB instance (${engine}) doesn't match the engine name of your DB cluster (${cluster.engine}).`,
      );
    const clusterStatus = cluster.status.valueAt(now);
    if (clusterStatus !== "available")
      throw rdsError("InvalidDBClusterStateFault", `DB cluster ${cluster.id} is not in the available state (it is ${clusterStatus}).`);
    checkClass(region, instanceClass, engine, cluster.engineVersion);
    const tags = validTags(input.Tags);
    addDb(region, "instance", {
      id,
      tags,
      engine,
      engineVersion: cluster.engineVersion,
      instanceClass,
      clusterId: cluster.id,
      masterUsername: cluster.master.username,
      masterPassword: cluster.master.password,
      encrypted: cluster.encrypted,
      ...(cluster.kmsKeyId ? { kmsKeyId: cluster.kmsKeyId } : {}),
      allocatedStorage: 1,
    });
    const db = s.dbs.instance.get(id)!;
    applyNetwork(db, { ...input, MultiAZ: false }, cluster.subnetGroup);
    db.status = creationTimeline(region, id, now, durationOf(durations.rdsClusterInstance, { region, id, sourceId: cluster.id }), 0);
    cluster.members.push(id);
    return { DBInstance: instanceView(db, now) };
  }

  const FAILED = new Set(["failed", "incompatible-restore", "incompatible-network"]);

  /**
   * DeleteDBInstance: refused under deletion protection; a standalone instance needs SkipFinalSnapshot or a
   * FinalDBSnapshotIdentifier (not both), and one in `failed`/`incompatible-restore`/`incompatible-network` can only be
   * deleted skipping it; an Aurora cluster's instance takes no final snapshot. `deleting`, then gone.
   */
  function deleteInstance(input: { DBInstanceIdentifier?: string; SkipFinalSnapshot?: boolean; FinalDBSnapshotIdentifier?: string }, ctx: CommandContext) {
    const { region, nowMs: now } = ctx;
    materialize(region, now);
    const s = store(region);
    const raw = requireField(input.DBInstanceIdentifier, "DBInstanceIdentifier");
    const db = s.dbs.instance.get(raw.toLowerCase());
    if (!db) throw rdsError("DBInstanceNotFound", `DBInstance ${raw} not found.`);
    const status = dbStatus(db, now);
    if (status === "deleting") throw rdsError("InvalidDBInstanceState", `Instance ${db.id} is already being deleted.`);
    if (db.deletionProtection)
      throw rdsError("InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.");
    let readyMs = now;
    if (db.clusterId) {
      if (input.FinalDBSnapshotIdentifier !== undefined) {
        throw rdsError("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when deleting a cluster instance");
      }
    } else {
      const final = finalSnapshotRule(input.SkipFinalSnapshot, input.FinalDBSnapshotIdentifier);
      if (final && FAILED.has(status)) {
        throw rdsError("InvalidDBInstanceState", `Instance ${db.id} is in the ${status} state: it can only be deleted with SkipFinalSnapshot.`);
      }
      if (final) readyMs = finalSnapshot(s, "instance", db, final, status, now);
    }
    db.status.set("deleting", now);
    db.goneAtMs = readyMs + durationOf(durations.rdsDelete, { region, id: db.id, sourceId: db.id });
    return { DBInstance: instanceView(db, now) };
  }

  /**
   * DeleteDBCluster: refused under deletion protection and while the cluster still has instances that are not being
   * deleted (InvalidDBClusterStateFault); the same final-snapshot rule as an instance, with a cluster snapshot.
   */
  function deleteCluster(input: { DBClusterIdentifier?: string; SkipFinalSnapshot?: boolean; FinalDBSnapshotIdentifier?: string }, ctx: CommandContext) {
    const { region, nowMs: now } = ctx;
    materialize(region, now);
    const s = store(region);
    const raw = requireField(input.DBClusterIdentifier, "DBClusterIdentifier");
    const db = s.dbs.cluster.get(raw.toLowerCase());
    if (!db) throw rdsError("DBClusterNotFoundFault", `DBCluster ${raw} not found.`);
    const status = dbStatus(db, now);
    if (status === "deleting") throw rdsError("InvalidDBClusterStateFault", `Cluster ${db.id} is already being deleted.`);
    if (db.deletionProtection)
      throw rdsError("InvalidParameterCombination", "Cannot delete protected Cluster, please disable deletion protection and try again.");
    const live = db.members.filter((m) => {
      const inst = s.dbs.instance.get(m);
      return inst !== undefined && dbStatus(inst, now) !== "deleting";
    });
    if (live.length) throw rdsError("InvalidDBClusterStateFault", "Cluster cannot be deleted, it still contains DB instances in non-deleting state.");
    const final = finalSnapshotRule(input.SkipFinalSnapshot, input.FinalDBSnapshotIdentifier);
    const readyMs = final ? finalSnapshot(s, "cluster", db, final, status, now) : now;
    db.status.set("deleting", now);
    db.goneAtMs =
      Math.max(readyMs, ...db.members.map((m) => s.dbs.instance.get(m)?.goneAtMs ?? now)) +
      durationOf(durations.rdsDelete, { region, id: db.id, sourceId: db.id });
    return { DBCluster: clusterView(db, now) };
  }

  /** The final snapshot's id, or undefined when skipped; "specifying this parameter and also skipping … results in an error". */
  function finalSnapshotRule(skip: boolean | undefined, finalId: string | undefined): string | undefined {
    if (skip === true) {
      if (finalId !== undefined) throw rdsError("InvalidParameterCombination", "Cannot specify FinalDBSnapshotIdentifier when SkipFinalSnapshot is true.");
      return undefined;
    }
    if (finalId === undefined) throw rdsError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
    return finalId;
  }

  function finalSnapshot(s: RegionStore, kind: Kind, db: Db, rawId: string, status: string, now: number): number {
    const id = validIdentifier(rawId, "FinalDBSnapshotIdentifier", 255);
    if (status !== "available") {
      throw rdsError(
        CODES[kind].dbState,
        `${kind === "instance" ? "Instance" : "Cluster"} ${db.id} is not in the available state, so no final snapshot can be taken (it is ${status}).`,
      );
    }
    if (s.snaps[kind].has(id))
      throw rdsError(CODES[kind].snapExists, `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`);
    if (manualCount(s, kind) >= limits.rdsManualSnapshotsPerRegion) {
      throw rdsError("SnapshotQuotaExceeded", `Cannot create more than ${limits.rdsManualSnapshotsPerRegion} manual snapshots`);
    }
    const snap = insertSnap(s, snapshotOfDb(db.region, kind, db, id, "manual", now, db.copyTagsToSnapshot ? { ...db.tags } : {}));
    return snap.readyMs ?? now;
  }

  /** EnableHttpEndpoint: turns on the RDS Data API for an Aurora cluster. */
  function enableHttpEndpoint(input: { ResourceArn?: string }, ctx: CommandContext) {
    materialize(ctx.region, ctx.nowMs);
    const raw = requireField(input.ResourceArn, "ResourceArn");
    const db = store(ctx.region).dbs.cluster.get(idFrom(raw, ctx.region, "cluster"));
    if (!db) throw rdsError("DBClusterNotFoundFault", `DBCluster ${raw} not found.`);
    db.httpEndpoint = true;
    return { ResourceArn: db.arn, HttpEndpointEnabled: true };
  }

  /** Run a command's handler as a person in the account would: same rules, no call recorded. */
  function asPerson<T>(command: string, region: string, handler: (input: never, ctx: CommandContext) => T, input: unknown): T {
    const ctx: CommandContext = { service: "rds", command, region, accountId: core.accountId, nowMs: core.clock.nowMs(), core };
    return handler(input as never, ctx);
  }

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [DescribeDBInstancesCommand, describeDbs("instance")],
    [DescribeDBClustersCommand, describeDbs("cluster")],
    [DescribeDBSnapshotsCommand, describeSnaps("instance")],
    [DescribeDBClusterSnapshotsCommand, describeSnaps("cluster")],
    [CreateDBSnapshotCommand, createSnap("instance")],
    [CreateDBClusterSnapshotCommand, createSnap("cluster")],
    [CopyDBSnapshotCommand, copySnap("instance")],
    [CopyDBClusterSnapshotCommand, copySnap("cluster")],
    [ModifyDBSnapshotAttributeCommand, modifySnapAttribute("instance")],
    [ModifyDBClusterSnapshotAttributeCommand, modifySnapAttribute("cluster")],
    [DescribeDBSnapshotAttributesCommand, describeSnapAttributes("instance")],
    [DescribeDBClusterSnapshotAttributesCommand, describeSnapAttributes("cluster")],
    [DeleteDBSnapshotCommand, deleteSnap("instance")],
    [DeleteDBClusterSnapshotCommand, deleteSnap("cluster")],
    [RestoreDBInstanceFromDBSnapshotCommand, restoreInstance],
    [RestoreDBClusterFromSnapshotCommand, restoreCluster],
    [CreateDBInstanceCommand, createInstance],
    [DeleteDBInstanceCommand, deleteInstance],
    [DeleteDBClusterCommand, deleteCluster],
    [EnableHttpEndpointCommand, enableHttpEndpoint],
    [
      ListTagsForResourceCommand,
      (input: { ResourceName?: string }, ctx: CommandContext) => ({ TagList: toTagList(resourceByArn(input.ResourceName, ctx).tags) }),
    ],
    [
      AddTagsToResourceCommand,
      (input: { ResourceName?: string; Tags?: AwsTag[] }, ctx: CommandContext) => {
        const r = resourceByArn(input.ResourceName, ctx);
        const tags = validTags(input.Tags);
        withinLimit({ ...r.tags, ...tags });
        Object.assign(r.tags, tags);
        return {};
      },
    ],
    [
      RemoveTagsFromResourceCommand,
      (input: { ResourceName?: string; TagKeys?: string[] }, ctx: CommandContext) => {
        const r = resourceByArn(input.ResourceName, ctx);
        for (const k of input.TagKeys ?? []) delete r.tags[k];
        return {};
      },
    ],
  ];

  function faultFor(kind: FaultKind, ctx: CommandContext, input: unknown): Error {
    const cmd = ctx.command;
    const k: Kind = /Cluster/.test(cmd) ? "cluster" : "instance";
    const c = CODES[k];
    const onSnapshot = /Snapshot/.test(cmd) && !cmd.startsWith("Create");
    switch (kind) {
      case "throttling":
        return rdsError("Throttling", "Rate exceeded");
      case "internal":
        return rdsError("InternalFailure", "An internal error has occurred. Please try your query again at a later time.");
      case "accessDenied":
        return rdsError("AccessDenied", `User: arn:aws:sts::${core.accountId}:assumed-role/sandbox/ops-autopilot is not authorized to perform: rds:${cmd}`);
      case "quota":
        if (/^(Restore|CreateDBInstance)/.test(cmd)) {
          return rdsError(
            "StorageQuotaExceeded",
            `The request would result in the user exceeding the allowed amount of storage available across all DB instances.`,
          );
        }
        return cmd.startsWith("Copy")
          ? rdsError("SnapshotQuotaExceeded", `Cannot copy more than ${limits.rdsCopiesInFlightPerRegion} snapshots across regions`)
          : rdsError("SnapshotQuotaExceeded", `Cannot create more than ${limits.rdsManualSnapshotsPerRegion} manual snapshots`);
      case "state":
        return onSnapshot
          ? rdsError(c.snapState, "The snapshot is not in a valid state for this operation.")
          : rdsError(c.dbState, `The ${k === "instance" ? "DB instance" : "DB cluster"} is not in the available state.`);
      case "kms": {
        const key = (input as { KmsKeyId?: string }).KmsKeyId ?? "None";
        return kmsDenied(k, "target", key);
      }
      case "notFound":
        return onSnapshot || cmd.startsWith("Describe")
          ? rdsError(cmd.includes("Snapshot") ? c.snapNotFound : c.dbNotFound, "Not found.")
          : rdsError(c.dbNotFound, "Not found.");
      case "alreadyExists":
        if (cmd === "RestoreDBClusterFromSnapshot") return rdsError("DBClusterAlreadyExistsFault", "DB Cluster already exists");
        if (/^(Restore|CreateDBInstance)/.test(cmd)) return rdsError("DBInstanceAlreadyExists", "DB instance already exists");
        return rdsError(c.snapExists, "Cannot create the snapshot because a snapshot with this identifier already exists.");
    }
  }

  function findDb(region: string, id: string, kind?: Kind): Db {
    const s = store(region);
    purge(s, core.clock.nowMs());
    const lower = id.toLowerCase();
    const inst = kind !== "cluster" ? s.dbs.instance.get(lower) : undefined;
    const cl = kind !== "instance" ? s.dbs.cluster.get(lower) : undefined;
    if (inst && cl) throw new Error(`sandbox.rds: ${id} is both an instance and a cluster in ${region}; pass kind`);
    const db = inst ?? cl;
    if (!db) throw new Error(`sandbox.rds: no instance or cluster ${id} in ${region}`);
    return db;
  }

  function addDb(region: string, kind: Kind, spec: AddInstance & { members?: string[] }): void {
    const s = store(region);
    const id = spec.id.toLowerCase();
    if (!IDENTIFIER.test(id)) throw new Error(`sandbox.rds: invalid identifier ${spec.id}`);
    if (s.dbs[kind].has(id)) throw new Error(`sandbox.rds: ${kind} ${id} already exists in ${region}`);
    const now = core.clock.nowMs();
    const encrypted = spec.encrypted ?? true;
    let automated: Db["automated"];
    if (spec.automatedBackups) {
      const [hh, mm] = (spec.automatedBackups.windowStart ?? "03:00").split(":").map(Number);
      const day = Math.floor(now / DAY) * DAY;
      let next = day + ((hh ?? 3) * 60 + (mm ?? 0)) * 60_000;
      if (next <= now) next += DAY;
      automated = { retentionDays: spec.automatedBackups.retentionDays, nextMs: next };
    }
    s.dbs[kind].set(id, {
      kind,
      id,
      region,
      arn: arnOf(region, LABEL[kind].dbArn, id),
      status: new Timeline(spec.status ?? "available"),
      engine: spec.engine ?? (kind === "instance" ? "postgres" : "aurora-postgresql"),
      engineVersion: spec.engineVersion ?? "16.4",
      tags: { ...(spec.tags ?? {}) },
      ...(spec.clusterId ? { clusterId: spec.clusterId.toLowerCase() } : {}),
      members: (spec.members ?? []).map((m) => m.toLowerCase()),
      encrypted,
      ...(encrypted ? { kmsKeyId: spec.kmsKeyId ?? defaultKey(region) } : {}),
      allocatedStorage: spec.allocatedStorage ?? 20,
      createdMs: now,
      copyTagsToSnapshot: spec.copyTagsToSnapshot ?? false,
      ...(automated ? { automated } : {}),
      ...(spec.replicaSourceArn ? { replicaSourceArn: spec.replicaSourceArn } : {}),
      instanceClass: spec.instanceClass ?? "db.t4g.medium",
      publiclyAccessible: false,
      multiAZ: false,
      deletionProtection: spec.deletionProtection ?? false,
      subnetGroup: "default",
      securityGroups: [],
      httpEndpoint: spec.httpEndpoint ?? false,
      master: { username: spec.masterUsername ?? "postgres", password: spec.masterPassword ?? `sandbox-${id}-password` },
      resourceId: `${kind === "instance" ? "db" : "cluster"}-${id
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, "")
        .slice(0, 20)
        .padEnd(20, "X")}`,
      busyUntilMs: Number.NEGATIVE_INFINITY,
      seq: ++seq,
    });
    if (spec.manageMasterUserPassword) {
      const db = s.dbs[kind].get(id)!;
      db.masterSecretArn = core.service<SecretsManagerSim>("secretsManager").putRdsMasterSecret(region, kind === "instance" ? "db" : "cluster", db.master);
    }
  }

  function toSandboxSnapshot(snap: Snap, now: number): SandboxSnapshot {
    const status = snap.status.valueAt(now);
    return {
      kind: snap.kind === "instance" ? "rds-instance" : "aurora-cluster",
      region: snap.region,
      id: snap.id,
      arn: snap.arn,
      sourceId: snap.sourceId,
      status,
      ready: status === "available",
      type: snap.type,
      createdAt: new Date(snap.startMs),
      ...(snap.readyMs !== undefined ? { readyAt: new Date(snap.readyMs) } : {}),
      tags: { ...snap.tags },
      encrypted: snap.encrypted,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      ...(snap.copy ? { copiedFrom: { region: snap.copy.region, id: snap.copy.id } } : {}),
    };
  }

  if (world) {
    let byAccount = rdsStores.get(world);
    if (!byAccount) rdsStores.set(world, (byAccount = new Map()));
    byAccount.set(core.accountId, store);
  }

  return {
    service: "rds",
    clientClass: RDSClient,
    commands,
    faultFor,

    addInstance: (region, spec) => addDb(region, "instance", spec),
    addCluster: (region, spec) => addDb(region, "cluster", spec),

    setStatus(region, id, status, options = {}) {
      const db = findDb(region, id, options.kind);
      const at = options.at ? options.at.getTime() : core.clock.nowMs();
      db.status.set(status, at);
    },

    status(region, id, kind) {
      const now = core.clock.nowMs();
      return dbStatus(findDb(region, id, kind), now);
    },

    addSnapshot(region, spec) {
      const s = store(region);
      const kind = spec.kind ?? "instance";
      const id = spec.id.toLowerCase();
      if (s.snaps[kind].has(id)) throw new Error(`sandbox.rds: snapshot ${id} already exists in ${region}`);
      const now = core.clock.nowMs();
      const createdMs = spec.createdAt ? spec.createdAt.getTime() : now;
      const status = spec.status ?? "available";
      const readyMs = spec.readyAt ? spec.readyAt.getTime() : status === "available" ? createdMs : undefined;
      const timeline = new Timeline(status, createdMs);
      if (spec.readyAt && status !== "available") timeline.andThen("available", spec.readyAt.getTime());
      const sourceId = spec.sourceId.toLowerCase();
      const db = s.dbs[kind].get(sourceId);
      const encrypted = spec.encrypted ?? db?.encrypted ?? true;
      const kmsKeyId = spec.kmsKeyId ?? (encrypted ? (db?.kmsKeyId ?? defaultKey(region)) : undefined);
      const snap = insertSnap(s, {
        kind,
        id,
        region,
        arn: arnOf(region, LABEL[kind].snapshotArn, id),
        sourceId,
        engine: spec.engine ?? db?.engine ?? (kind === "instance" ? "postgres" : "aurora-postgresql"),
        type: spec.type ?? "manual",
        status: timeline,
        startMs: createdMs,
        ...(readyMs !== undefined ? { readyMs } : {}),
        originalCreateMs: createdMs,
        sourceCreateMs: db?.createdMs ?? createdMs,
        tags: { ...(spec.tags ?? {}) },
        encrypted,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        allocatedStorage: db?.allocatedStorage ?? 20,
        master: db ? { ...db.master } : { username: spec.masterUsername ?? "postgres", password: spec.masterPassword ?? `sandbox-${sourceId}-password` },
        seq: 0,
      });
      return toSandboxSnapshot(snap, now);
    },

    removeSnapshot(region, id, kind = "instance") {
      const s = store(region);
      const snap = s.snaps[kind].get(id.toLowerCase());
      if (!snap) throw new Error(`sandbox.rds: no ${kind} snapshot ${id} in ${region}`);
      s.snaps[kind].delete(snap.id);
      s.inflightCopies.delete(snap);
    },

    snapshots(region, filter = {}) {
      const now = core.clock.nowMs();
      const out: SandboxSnapshot[] = [];
      const names = region ? [region] : [...new Set([...core.regions, ...regions.keys()])];
      for (const r of names) {
        materialize(r, now);
        const s = store(r);
        for (const kind of ["instance", "cluster"] as const) {
          if (filter.kind && filter.kind !== kind) continue;
          for (const snap of s.snaps[kind].values()) {
            if (filter.sourceId && snap.sourceId !== filter.sourceId.toLowerCase()) continue;
            if (filter.type && snap.type !== filter.type) continue;
            out.push(toSandboxSnapshot(snap, now));
          }
        }
      }
      return out;
    },

    snapshot(region, id, kind = "instance") {
      const now = core.clock.nowMs();
      materialize(region, now);
      const snap = store(region).snaps[kind].get(id.toLowerCase());
      return snap ? toSandboxSnapshot(snap, now) : undefined;
    },

    takeSnapshot(region, spec) {
      const kind = spec.kind ?? "instance";
      const input =
        kind === "instance"
          ? { DBInstanceIdentifier: spec.dbId, DBSnapshotIdentifier: spec.id, ...(spec.tags ? { Tags: toTagList(spec.tags) } : {}) }
          : { DBClusterIdentifier: spec.dbId, DBClusterSnapshotIdentifier: spec.id, ...(spec.tags ? { Tags: toTagList(spec.tags) } : {}) };
      asPerson(kind === "instance" ? "CreateDBSnapshot" : "CreateDBClusterSnapshot", region, createSnap(kind), input);
      return toSandboxSnapshot(store(region).snaps[kind].get(spec.id.toLowerCase())!, core.clock.nowMs());
    },

    copySnapshot(region, spec) {
      const kind = spec.kind ?? "instance";
      const from = spec.sourceRegion ?? region;
      const source = from === region ? spec.sourceId : arnOf(from, LABEL[kind].snapshotArn, spec.sourceId.toLowerCase());
      const common = {
        ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
        ...(spec.tags ? { Tags: toTagList(spec.tags) } : {}),
        ...(spec.copyTags !== undefined ? { CopyTags: spec.copyTags } : {}),
      };
      const input =
        kind === "instance"
          ? { SourceDBSnapshotIdentifier: source, TargetDBSnapshotIdentifier: spec.id, ...common }
          : { SourceDBClusterSnapshotIdentifier: source, TargetDBClusterSnapshotIdentifier: spec.id, ...common };
      asPerson(kind === "instance" ? "CopyDBSnapshot" : "CopyDBClusterSnapshot", region, copySnap(kind), input);
      return toSandboxSnapshot(store(region).snaps[kind].get(spec.id.toLowerCase())!, core.clock.nowMs());
    },

    restoreInstance(region, spec) {
      asPerson("RestoreDBInstanceFromDBSnapshot", region, restoreInstance, {
        DBInstanceIdentifier: spec.id,
        DBSnapshotIdentifier: spec.snapshotId,
        ...(spec.tags ? { Tags: toTagList(spec.tags) } : {}),
        ...(spec.copyTagsToSnapshot !== undefined ? { CopyTagsToSnapshot: spec.copyTagsToSnapshot } : {}),
      });
    },

    tagsOf: (region, id, kind) => ({ ...findDb(region, id, kind).tags }),
    masterSecretOf: (region, id, kind) => findDb(region, id, kind).masterSecretArn,

    failRestores(spec) {
      const o = { ...spec, remaining: spec.times ?? 1, hits: 0 };
      outcomes.push(o);
      return {
        get hits() {
          return o.hits;
        },
        clear() {
          o.remaining = 0;
        },
      };
    },

    setCapacity(region, instanceClass, available) {
      let set = noCapacity.get(region);
      if (!set) noCapacity.set(region, (set = new Set()));
      if (available) set.delete(instanceClass);
      else set.add(instanceClass);
    },

    addSubnetGroup(region, name) {
      let set = subnetGroups.get(region);
      if (!set) subnetGroups.set(region, (set = new Set()));
      set.add(name.toLowerCase());
    },

    dataApiTarget(region, id) {
      const now = core.clock.nowMs();
      materialize(region, now);
      const s = store(region);
      const cl = s.dbs.cluster.get(id.toLowerCase());
      if (!cl) return undefined;
      const writer = cl.members.map((m) => s.dbs.instance.get(m)).find((inst) => inst !== undefined && dbStatus(inst, now) === "available");
      return {
        status: dbStatus(cl, now),
        httpEndpoint: cl.httpEndpoint,
        writerAvailable: writer !== undefined,
        ...(writer ? { writerClass: writer.instanceClass } : {}),
        tags: { ...cl.tags },
        master: { ...cl.master },
      };
    },

    manualCount: (region, kind) => manualCount(store(region), kind),
    copiesInFlight: (region) => inflight(store(region), core.clock.nowMs()),
  };
}
