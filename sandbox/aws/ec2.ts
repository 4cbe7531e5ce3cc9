/**
 * EC2 (EBS) simulation: volumes, snapshots, cross-region copies and AMIs that pin snapshots.
 *
 * AWS behaviours reproduced on purpose:
 * - DescribeSnapshots without OwnerIds also returns other accounts' public snapshots (seed some
 *   with `addSnapshot({ ownerId, public: true })` to catch a missing `OwnerIds: ["self"]`);
 * - MaxResults 5–1000 for snapshots and images (5–500 for volumes; larger values are capped);
 *   without MaxResults everything comes back in one page; MaxResults with explicit ids is an error;
 * - filter values accept `*` and `?` wildcards; `tag:<key>`, `tag-key`, `status`, `volume-id`...;
 * - copies report VolumeId `vol-ffffffff`, get the description `[Copied snap-… from <region>]` and
 *   no tags unless TagSpecifications carries them (EBS has no CopyTags);
 * - a copy whose KMS key is unusable is accepted and then goes to `error` with a StateMessage
 *   (encrypted EBS copies fail asynchronously);
 * - 5 pending snapshots per volume (SnapshotCreationPerVolumeRateExceeded), 20 copies in flight
 *   per destination region (ResourceLimitExceeded), DeleteSnapshot of a snapshot used by a
 *   registered AMI → InvalidSnapshot.InUse.
 *
 * Across accounts (accounts.ts), with the API references cited where each rule is enforced:
 * - sharing: ModifySnapshotAttribute `createVolumePermission` adds or removes account ids (or `all`); an encrypted
 *   snapshot cannot be made public, one encrypted with the AWS managed key cannot be shared at all; DescribeSnapshots
 *   shows snapshots shared with the caller (and filters by `RestorableByUserIds`), DescribeSnapshotAttribute lists them;
 * - a shared snapshot can be copied (CopySnapshot in the receiving account); an encrypted one needs the source key's
 *   policy to let the receiving account use it (kms.ts), else the copy is accepted and goes to `error`, as every EBS KMS
 *   failure does here;
 * - Snapshot Lock: LockSnapshot (governance; compliance with an optional cooling-off period), UnlockSnapshot,
 *   DescribeLockedSnapshots; DeleteSnapshot is refused while the lock holds.
 */
import {
  CopySnapshotCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotAttributeCommand,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  UnlockSnapshotCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { MINUTE, Timeline } from "./clock.ts";
import type { CommandClass, CommandContext, CommandHandler, SandboxCore, ServiceSim } from "./engine.ts";
import { ec2Error, SandboxUnsupportedError, type FaultKind } from "./errors.ts";
import type { Durations, Limits, SandboxSnapshot } from "./types.ts";
import { isAwsManagedKey, type KmsKeys } from "./kms.ts";
import { decodeToken, durationOf, ec2Glob, encodeToken, fromTagList, IdSource, pageAfter, toTagList, type AwsTag, type Tags } from "./util.ts";

/**
 * EC2 resource ids are a prefix and 8 or 17 lowercase hex digits
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html); anything else is refused before any
 * lookup with `Invalid<Kind>ID.Malformed` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
const ID_SHAPE: Record<"vol" | "snap" | "ami", { re: RegExp; code: string }> = {
  vol: { re: /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/, code: "InvalidVolumeID.Malformed" },
  snap: { re: /^snap-([0-9a-f]{8}|[0-9a-f]{17})$/, code: "InvalidSnapshotID.Malformed" },
  ami: { re: /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, code: "InvalidAMIID.Malformed" },
};

/** What EBS needs of the source snapshot's key, and of the copy's key (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html). */
const EBS_SOURCE_KEY_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"];
const EBS_DEST_KEY_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo"];

/** Throws AWS's Malformed error when `id` is not a well-formed id of that kind. */
export function wellFormedId(kind: keyof typeof ID_SHAPE, id: string): string {
  const shape = ID_SHAPE[kind];
  if (!shape.re.test(id)) throw ec2Error(shape.code, `Invalid id: "${id}" (expecting "${kind}-...")`);
  return id;
}

/**
 * EC2 tag rules (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions): at most 50
 * user tags per resource, key 1–128 and value 0–256 characters (any characters), keys may not start with `aws:`.
 */
export const MAX_EC2_TAGS = 50;

export interface AddVolume {
  /** Default: a generated `vol-…` id. */
  id?: string;
  /** Default `in-use`. */
  status?: string;
  tags?: Tags;
  size?: number;
  encrypted?: boolean;
  kmsKeyId?: string;
}

export interface AddImage {
  id?: string;
  snapshotIds: string[];
  name?: string;
  state?: string;
  tags?: Tags;
}

export interface SeedEbsSnapshot {
  id?: string;
  volumeId: string;
  /** Default `completed`. */
  state?: string;
  /** For a snapshot seeded `pending`: when it completes. */
  readyAt?: Date;
  createdAt?: Date;
  tags?: Tags;
  description?: string;
  encrypted?: boolean;
  kmsKeyId?: string;
  /** Another account's snapshot (default: ours). */
  ownerId?: string;
  /** Visible to everyone (with an ownerId other than ours: shows up when OwnerIds is omitted). */
  public?: boolean;
  size?: number;
}

interface Volume {
  id: string;
  region: string;
  status: Timeline<string>;
  size: number;
  encrypted: boolean;
  kmsKeyId?: string;
  tags: Tags;
  createdMs: number;
  /** Default `<region>a`. */
  zone?: string;
  /** Default gp3 for seeded volumes. */
  type?: string;
  snapshotId?: string;
  /** Deleted: `deleting` until then, gone from then on. */
  goneAtMs?: number;
  seq: number;
}

/** A snapshot lock (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html). */
interface SnapLock {
  mode: "governance" | "compliance";
  createdMs: number;
  startMs: number;
  expiresMs: number;
  durationDays?: number;
  coolOffHours?: number;
  coolOffExpiresMs?: number;
}

interface EbsSnap {
  id: string;
  /** Accounts given createVolumePermission (ModifySnapshotAttribute). */
  sharedWith?: Set<string>;
  lock?: SnapLock;
  region: string;
  volumeId: string;
  ownerId: string;
  isPublic: boolean;
  state: Timeline<string>;
  stateMessage?: string;
  startMs: number;
  readyMs?: number;
  tags: Tags;
  description: string;
  encrypted: boolean;
  kmsKeyId?: string;
  size: number;
  copy?: { region: string; id: string };
  seq: number;
}

interface Image {
  id: string;
  region: string;
  name: string;
  state: string;
  ownerId: string;
  snapshotIds: string[];
  tags: Tags;
  createdMs: number;
  seq: number;
}

interface RegionStore {
  volumes: Map<string, Volume>;
  snaps: Map<string, EbsSnap>;
  images: Map<string, Image>;
  inflightCopies: Set<EbsSnap>;
}

type Filter = { Name?: string; Values?: string[] };

/** What an EC2 simulation sees of the other accounts (accounts.ts); absent: a sandbox of one account. */
export interface Ec2World {
  readonly defaultAccount: string;
  readonly keys: KmsKeys;
  /** Every account's EC2 simulation, this one's included. */
  ec2Sims(): Iterable<Ec2Sim>;
  /** The caller's role ARN (a role session's role, a function's role), for key policies that name a role. */
  callerRole(ctx: CommandContext): string | undefined;
}

/** Each simulation's stores, for the other accounts' simulations (sharing, cross-account copies). */
const storesOf = new WeakMap<object, { account: string; store: (region: string) => RegionStore }>();
/** One order across accounts, so paging over own and shared snapshots together stays consistent. */
let seq = 0;

export interface Ec2Sim extends ServiceSim {
  addVolume(region: string, spec?: AddVolume): string;
  setVolumeStatus(region: string, id: string, status: string, options?: { at?: Date }): void;
  addImage(region: string, spec: AddImage): string;
  removeImage(region: string, id: string): void;
  addSnapshot(region: string, spec: SeedEbsSnapshot): SandboxSnapshot;
  removeSnapshot(region: string, id: string): void;
  snapshots(region?: string, filter?: { volumeId?: string; ownedOnly?: boolean }): SandboxSnapshot[];
  /** One snapshot by id, or undefined. */
  snapshot(region: string, id: string): SandboxSnapshot | undefined;
  copiesInFlight(region: string): number;
  /** A snapshot this account can see: its own, or another account's shared with it or public (what IAM mapping reads). */
  visibleSnapshot(region: string, id: string): SandboxSnapshot | undefined;
  /** The accounts a snapshot is shared with (createVolumePermission), `all` when public. */
  sharedWith(region: string, id: string): string[];
  /** One volume now (tags, status, size), or undefined. */
  volume(region: string, id: string): { id: string; status: string; size: number; tags: Tags; snapshotId?: string; availabilityZone: string } | undefined;
}

export function createEc2Sim(core: SandboxCore, durations: Durations, limits: Limits, world?: Ec2World): Ec2Sim {
  const regions = new Map<string, RegionStore>();
  // Another account's ids differ from the default account's, as AWS's are unique across accounts.
  const ids = new IdSource(world && core.accountId !== world.defaultAccount ? 0xec2 ^ Number(core.accountId.slice(-9)) : 0xec2);

  function store(region: string): RegionStore {
    let s = regions.get(region);
    if (!s) {
      s = { volumes: new Map(), snaps: new Map(), images: new Map(), inflightCopies: new Set() };
      regions.set(region, s);
    }
    return s;
  }

  const defaultKey = (region: string) => `arn:aws:kms:${region}:${core.accountId}:key/aws-ebs-default`;

  /** Other accounts' snapshots in a region that this account may use: shared with it, or public. */
  function foreign(region: string, account: string): EbsSnap[] {
    const out: EbsSnap[] = [];
    if (!world) return out;
    for (const sim of world.ec2Sims()) {
      const other = storesOf.get(sim);
      if (!other || other.account === account) continue;
      for (const snap of other.store(region).snaps.values()) {
        if (snap.ownerId === other.account && (snap.isPublic || snap.sharedWith?.has(account))) out.push(snap);
      }
    }
    return out;
  }

  /** A snapshot by id as this account sees it: its own store (own or seeded public), else another account's, shared. */
  function visible(region: string, id: string, account: string): EbsSnap | undefined {
    const own = store(region).snaps.get(id);
    if (own && (own.ownerId === account || own.isPublic)) return own;
    return foreign(region, account).find((x) => x.id === id);
  }

  /** Lock state now (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockedSnapshotsInfo.html, lockState). */
  function lockState(lock: SnapLock, now: number): "governance" | "compliance" | "compliance-cooloff" | "expired" {
    if (now >= lock.expiresMs) return "expired";
    if (lock.mode === "governance") return "governance";
    return lock.coolOffExpiresMs !== undefined && now < lock.coolOffExpiresMs ? "compliance-cooloff" : "compliance";
  }

  function lockView(snap: EbsSnap, now: number) {
    const l = snap.lock!;
    const v: Record<string, unknown> = { OwnerId: snap.ownerId, SnapshotId: snap.id, LockState: lockState(l, now) };
    if (l.durationDays !== undefined) v.LockDuration = l.durationDays;
    if (l.coolOffHours !== undefined) {
      v.CoolOffPeriod = l.coolOffHours;
      v.CoolOffPeriodExpiresOn = new Date(l.coolOffExpiresMs!);
    }
    v.LockCreatedOn = new Date(l.createdMs);
    v.LockDurationStartTime = new Date(l.startMs);
    v.LockExpiresOn = new Date(l.expiresMs);
    return v;
  }

  /** Seeds get AWS-shaped ids too, so a test cannot build an account AWS could not hold. */
  function seedId(kind: keyof typeof ID_SHAPE, id: string): string {
    if (!ID_SHAPE[kind].re.test(id)) throw new Error(`sandbox.ec2: ${id} is not a well-formed ${kind} id (${kind}- and 8 or 17 lowercase hex digits)`);
    return id;
  }

  function validTags(specs: Array<{ ResourceType?: string; Tags?: AwsTag[] }> | undefined, resourceType: string): Tags {
    const out: Tags = {};
    for (const spec of specs ?? []) {
      if (spec.ResourceType !== resourceType) {
        throw ec2Error("InvalidParameterValue", `'${spec.ResourceType ?? ""}' is not a valid taggable resource type for this operation.`);
      }
      Object.assign(out, checkTags(spec.Tags));
    }
    return out;
  }

  function checkTags(list: AwsTag[] | undefined): Tags {
    const tags = fromTagList(list);
    for (const k of Object.keys(tags)) {
      if (k.toLowerCase().startsWith("aws:")) throw ec2Error("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
      if (k.length < 1 || k.length > 128) throw ec2Error("InvalidParameterValue", `Tag key "${k.slice(0, 40)}" must be 1 to 128 characters long.`);
      if (tags[k]!.length > 256) throw ec2Error("InvalidParameterValue", `The value of tag "${k}" must be at most 256 characters long.`);
    }
    withinTagLimit(tags);
    return tags;
  }

  function withinTagLimit(tags: Tags): void {
    if (Object.keys(tags).length > MAX_EC2_TAGS) throw ec2Error("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.");
  }

  // ---- paging and filters ----
  function pageSize(max: unknown, upper: number, withIds: boolean): number {
    if (max === undefined) return Number.POSITIVE_INFINITY;
    if (withIds) throw ec2Error("InvalidParameterCombination", "The parameter MaxResults cannot be used with the parameter with explicit ids.");
    if (typeof max !== "number" || !Number.isInteger(max) || max < 5) {
      throw ec2Error("InvalidParameterValue", `Value (${String(max)}) for parameter maxResults is invalid. Expecting a value greater than 5.`);
    }
    return Math.min(max, upper);
  }

  function page<T extends { seq: number }>(items: T[], input: { MaxResults?: number; NextToken?: string }, upper: number, withIds: boolean, kind: string) {
    const size = pageSize(input.MaxResults, upper, withIds);
    let after: number | undefined;
    if (input.NextToken !== undefined) {
      after = decodeToken(kind, input.NextToken);
      if (after === undefined) throw ec2Error("InvalidPaginationToken", `Invalid pagination token: ${input.NextToken}`);
    }
    items.sort((a, b) => a.seq - b.seq);
    const { page: out, lastSeq } = pageAfter(items, size, after);
    return { items: out, ...(lastSeq !== undefined ? { NextToken: encodeToken(kind, lastSeq) } : {}) };
  }

  /** AND across filters, OR across a filter's values; `fields` gives a resource's value(s) for a filter name. */
  function matcher<T extends { tags: Tags }>(filters: Filter[] | undefined, fields: Record<string, (r: T) => string | string[] | undefined>) {
    const checks: Array<(r: T) => boolean> = [];
    for (const f of filters ?? []) {
      const name = f.Name ?? "";
      const patterns = (f.Values ?? []).map(ec2Glob);
      const any = (vals: Array<string | undefined>) => vals.some((v) => v !== undefined && patterns.some((p) => p.test(v)));
      if (name.startsWith("tag:")) {
        const key = name.slice(4);
        checks.push((r) => any([r.tags[key]]));
      } else if (name === "tag-key") {
        checks.push((r) => any(Object.keys(r.tags)));
      } else if (name === "tag-value") {
        checks.push((r) => any(Object.values(r.tags)));
      } else {
        const get = fields[name];
        if (!get) throw ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`);
        checks.push((r) => {
          const v = get(r);
          return any(Array.isArray(v) ? v : [v]);
        });
      }
    }
    return (r: T) => checks.every((c) => c(r));
  }

  // ---- views ----
  function snapState(snap: EbsSnap, now: number): string {
    return snap.state.valueAt(now);
  }

  // Plain assignments, no spreads: describe calls build thousands of these per simulated day.
  function snapshotView(snap: EbsSnap, now: number) {
    const state = snapState(snap, now);
    const pct =
      state === "completed"
        ? 100
        : snap.readyMs === undefined
          ? 0
          : Math.max(0, Math.floor((100 * (now - snap.startMs)) / Math.max(1, snap.readyMs - snap.startMs)));
    const v: Record<string, unknown> = { SnapshotId: snap.id, VolumeId: snap.volumeId, State: state };
    if (state === "error" && snap.stateMessage) v.StateMessage = snap.stateMessage;
    v.StartTime = new Date(snap.startMs);
    v.Progress = `${Math.min(100, pct)}%`;
    v.OwnerId = snap.ownerId;
    v.Description = snap.description;
    v.VolumeSize = snap.size;
    v.Encrypted = snap.encrypted;
    if (snap.kmsKeyId) v.KmsKeyId = snap.kmsKeyId;
    v.StorageTier = "standard";
    for (const _ in snap.tags) {
      v.Tags = toTagList(snap.tags);
      break;
    }
    return v;
  }

  function volumeView(v: Volume, now: number) {
    const state = v.status.valueAt(now);
    const tags = toTagList(v.tags);
    return {
      VolumeId: v.id,
      Size: v.size,
      State: state,
      VolumeType: v.type ?? "gp3",
      AvailabilityZone: v.zone ?? `${v.region}a`,
      ...(v.snapshotId ? { SnapshotId: v.snapshotId } : {}),
      CreateTime: new Date(v.createdMs),
      Encrypted: v.encrypted,
      ...(v.kmsKeyId ? { KmsKeyId: v.kmsKeyId } : {}),
      Attachments:
        state === "in-use" ? [{ VolumeId: v.id, InstanceId: `i-${v.id.slice(4)}`, Device: "/dev/xvdf", State: "attached", DeleteOnTermination: false }] : [],
      ...(tags.length ? { Tags: tags } : {}),
    };
  }

  function imageView(img: Image, encryptedOf: (snapId: string) => boolean) {
    const tags = toTagList(img.tags);
    return {
      ImageId: img.id,
      Name: img.name,
      State: img.state,
      OwnerId: img.ownerId,
      CreationDate: new Date(img.createdMs).toISOString(),
      RootDeviceName: "/dev/xvda",
      RootDeviceType: "ebs",
      BlockDeviceMappings: img.snapshotIds.map((snapshotId, i) => ({
        DeviceName: i === 0 ? "/dev/xvda" : `/dev/sd${"bcdefghijklmnop"[i - 1] ?? "z"}`,
        Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true, VolumeType: "gp3", Encrypted: encryptedOf(snapshotId) },
      })),
      ...(tags.length ? { Tags: tags } : {}),
    };
  }

  function inflight(s: RegionStore, now: number): number {
    for (const snap of s.inflightCopies) {
      if (snapState(snap, now) !== "pending" || s.snaps.get(snap.id) !== snap) s.inflightCopies.delete(snap);
    }
    return s.inflightCopies.size;
  }

  function ownedCount(s: RegionStore): number {
    let n = 0;
    for (const snap of s.snaps.values()) if (snap.ownerId === core.accountId) n++;
    return n;
  }

  function usedBy(s: RegionStore, snapId: string): Image | undefined {
    for (const img of s.images.values()) if (img.state !== "deregistered" && img.snapshotIds.includes(snapId)) return img;
    return undefined;
  }

  function insert(s: RegionStore, snap: EbsSnap): EbsSnap {
    snap.seq = ++seq;
    s.snaps.set(snap.id, snap);
    return snap;
  }

  const kmsFailure = (key: string | undefined) => `Given key ID is not accessible. You must have DescribeKey permissions on the key${key ? ` ${key}` : ""}.`;

  // ---- commands ----
  const describeSnapshots = (
    input: { OwnerIds?: string[]; SnapshotIds?: string[]; RestorableByUserIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
    ctx: CommandContext,
  ) => {
    const s = store(ctx.region);
    const now = ctx.nowMs;
    const owners = input.OwnerIds?.map((o) => (o === "self" ? core.accountId : o));
    const shown = (snap: EbsSnap) => (owners ? owners.includes(snap.ownerId) : snap.ownerId === core.accountId || snap.isPublic);
    // Shared with this account: listed with the rest ("all snapshots available to you",
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html).
    const shared = foreign(ctx.region, core.accountId);
    let snaps = [...[...s.snaps.values()].filter(shown), ...shared.filter((x) => !owners || owners.includes(x.ownerId))];
    // Tags belong to the account that set them: another account's snapshot (shared or public) is listed, and filtered by
    // `tag:` filters, without its owner's tags ("When you share an AMI, your user-defined tags are not available to any
    // AWS account that the AMI is shared with", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html;
    // snapshots alike).
    snaps = snaps.map((x) => (x.ownerId === core.accountId ? x : { ...x, tags: {} }));
    if (input.RestorableByUserIds?.length) {
      // "The IDs of the Amazon Web Services accounts that can create volumes from the snapshot": the owner, an account it
      // is shared with, anyone for a public snapshot.
      const users = input.RestorableByUserIds.map((u) => (u === "self" ? core.accountId : u));
      snaps = snaps.filter((x) => x.isPublic || users.some((u) => u === x.ownerId || x.sharedWith?.has(u)));
    }
    if (input.SnapshotIds?.length) {
      const wanted = new Set(input.SnapshotIds);
      for (const id of wanted) {
        if (!visible(ctx.region, id, core.accountId)) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
      }
      snaps = snaps.filter((x) => wanted.has(x.id));
    }
    const match = matcher<EbsSnap>(input.Filters, {
      "snapshot-id": (x) => x.id,
      "volume-id": (x) => x.volumeId,
      status: (x) => snapState(x, now),
      "owner-id": (x) => x.ownerId,
      "owner-alias": () => undefined,
      description: (x) => x.description,
      encrypted: (x) => String(x.encrypted),
      "volume-size": (x) => String(x.size),
      "start-time": (x) => new Date(x.startMs).toISOString(),
      progress: (x) => snapshotView(x, now).Progress as string,
      "storage-tier": () => "standard",
    });
    snaps = snaps.filter(match);
    const { items, ...token } = page(snaps, input, 1000, !!input.SnapshotIds?.length, "snapshots");
    return { Snapshots: items.map((x) => snapshotView(x, now)), ...token };
  };

  const describeVolumes = (input: { VolumeIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }, ctx: CommandContext) => {
    const s = store(ctx.region);
    const now = ctx.nowMs;
    purgeVolumes(s, now);
    let vols = [...s.volumes.values()];
    if (input.VolumeIds?.length) {
      const wanted = new Set(input.VolumeIds);
      for (const id of wanted) if (!s.volumes.has(id)) throw ec2Error("InvalidVolume.NotFound", `The volume '${id}' does not exist.`);
      vols = vols.filter((v) => wanted.has(v.id));
    }
    const match = matcher<Volume>(input.Filters, {
      "volume-id": (v) => v.id,
      status: (v) => v.status.valueAt(now),
      size: (v) => String(v.size),
      encrypted: (v) => String(v.encrypted),
      "volume-type": (v) => v.type ?? "gp3",
      "snapshot-id": (v) => v.snapshotId,
      "availability-zone": (v) => v.zone ?? `${v.region}a`,
      "attachment.status": (v) => (v.status.valueAt(now) === "in-use" ? "attached" : undefined),
    });
    vols = vols.filter(match);
    const { items, ...token } = page(vols, input, 500, !!input.VolumeIds?.length, "volumes");
    return { Volumes: items.map((v) => volumeView(v, now)), ...token };
  };

  const createSnapshot = (
    input: { VolumeId?: string; Description?: string; TagSpecifications?: Array<{ ResourceType?: string; Tags?: AwsTag[] }> },
    ctx: CommandContext,
  ) => {
    const { region, nowMs: now } = ctx;
    const s = store(region);
    if (!input.VolumeId) throw ec2Error("MissingParameter", "The request must contain the parameter VolumeId");
    const vol = s.volumes.get(wellFormedId("vol", input.VolumeId));
    if (!vol) throw ec2Error("InvalidVolume.NotFound", `The volume '${input.VolumeId}' does not exist.`);
    const tags = validTags(input.TagSpecifications, "snapshot");
    const state = vol.status.valueAt(now);
    if (state !== "available" && state !== "in-use") {
      throw ec2Error("IncorrectState", `The volume '${vol.id}' is in the '${state}' state and cannot be snapshotted.`);
    }
    let pending = 0;
    for (const snap of s.snaps.values()) if (snap.volumeId === vol.id && snapState(snap, now) === "pending") pending++;
    if (pending >= limits.ebsPendingSnapshotsPerVolume) {
      throw ec2Error(
        "SnapshotCreationPerVolumeRateExceeded",
        "The maximum per volume CreateSnapshot request rate has been exceeded. Use an increasing or variable sleep interval between requests.",
      );
    }
    if (ownedCount(s) >= limits.ebsSnapshotsPerRegion) throw ec2Error("SnapshotLimitExceeded", "The maximum number of snapshots has been reached.");
    const id = ids.ec2("snap");
    const kmsBroken = ctx.deferredFault === "kms" || (vol.encrypted && core.kms.isDenied(vol.kmsKeyId));
    const dur = durationOf(durations.ebsSnapshot, { region, id, sourceId: vol.id });
    const timeline = kmsBroken ? new Timeline("pending", now).andThen("error", now + MINUTE) : new Timeline("pending", now).andThen("completed", now + dur);
    const snap = insert(s, {
      id,
      region,
      volumeId: vol.id,
      ownerId: core.accountId,
      isPublic: false,
      state: timeline,
      ...(kmsBroken ? { stateMessage: kmsFailure(vol.kmsKeyId) } : {}),
      startMs: now,
      ...(kmsBroken ? {} : { readyMs: now + dur }),
      tags,
      description: input.Description ?? "",
      encrypted: vol.encrypted,
      ...(vol.kmsKeyId ? { kmsKeyId: vol.kmsKeyId } : {}),
      size: vol.size,
      seq: 0,
    });
    return snapshotView(snap, now);
  };

  const copySnapshot = (
    input: {
      SourceRegion?: string;
      SourceSnapshotId?: string;
      Description?: string;
      Encrypted?: boolean;
      KmsKeyId?: string;
      TagSpecifications?: Array<{ ResourceType?: string; Tags?: AwsTag[] }>;
    },
    ctx: CommandContext,
  ) => {
    const { region, nowMs: now } = ctx;
    if (!input.SourceRegion) throw ec2Error("MissingParameter", "The request must contain the parameter SourceRegion");
    if (!input.SourceSnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SourceSnapshotId");
    const src = visible(input.SourceRegion, wellFormedId("snap", input.SourceSnapshotId), core.accountId);
    if (!src) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    const tags = validTags(input.TagSpecifications, "snapshot");
    if (input.KmsKeyId !== undefined && input.Encrypted !== true) {
      throw ec2Error("InvalidParameterCombination", "KmsKeyId requires Encrypted to be set to true.");
    }
    const srcState = snapState(src, now);
    if (srcState !== "completed")
      throw ec2Error("IncorrectState", `Snapshot '${src.id}' is in the '${srcState}' state; only completed snapshots can be copied.`);
    const dest = store(region);
    // "Each account can have up to 20 concurrent snapshot copy requests to a single destination Region"
    // (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html): every copy into this region counts.
    if (inflight(dest, now) >= limits.ebsCopiesInFlightPerRegion) {
      throw ec2Error(
        "ResourceLimitExceeded",
        `Too many snapshot copies in progress. The limit is ${limits.ebsCopiesInFlightPerRegion} for this destination region.`,
      );
    }
    if (ownedCount(dest) >= limits.ebsSnapshotsPerRegion) throw ec2Error("SnapshotLimitExceeded", "The maximum number of snapshots has been reached.");
    const encrypted = src.encrypted || input.Encrypted === true;
    const crossRegion = input.SourceRegion !== region;
    // Another account's snapshot is re-encrypted with a key of this account: the given one, else this account's aws/ebs.
    const crossAccount = src.ownerId !== core.accountId;
    const kmsKeyId = encrypted ? (input.KmsKeyId ?? (crossRegion || crossAccount ? defaultKey(region) : (src.kmsKeyId ?? defaultKey(region)))) : undefined;
    const keyRegion = kmsKeyId?.startsWith("arn:") ? kmsKeyId.split(":")[3] : region;
    // Key policies (kms.ts): the source key must let this account decrypt and grant
    // (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html, "copy a shared snapshot";
    // https://docs.aws.amazon.com/ebs/latest/userguide/share-kms-key.html), and the destination key must be usable by it.
    const role = world?.callerRole(ctx);
    const sourceKeyRefused =
      world !== undefined &&
      src.encrypted &&
      src.kmsKeyId !== undefined &&
      world.keys.refused(src.kmsKeyId, core.accountId, role, EBS_SOURCE_KEY_ACTIONS) !== undefined;
    const keyRefused =
      sourceKeyRefused ||
      (world !== undefined &&
        encrypted &&
        kmsKeyId?.startsWith("arn:") === true &&
        world.keys.refused(kmsKeyId, core.accountId, role, EBS_DEST_KEY_ACTIONS) !== undefined);
    const kmsBroken =
      ctx.deferredFault === "kms" ||
      keyRefused ||
      (encrypted && (core.kms.isDenied(kmsKeyId) || keyRegion !== region || (src.encrypted && core.kms.isDenied(src.kmsKeyId))));
    const id = ids.ec2("snap");
    const dur = durationOf(durations.ebsCopy, { region, id, sourceId: src.volumeId });
    const snap = insert(dest, {
      id,
      region,
      // AWS reports this placeholder for every copied snapshot: the source volume is not in this region.
      volumeId: "vol-ffffffff",
      ownerId: core.accountId,
      isPublic: false,
      state: kmsBroken ? new Timeline("pending", now).andThen("error", now + MINUTE) : new Timeline("pending", now).andThen("completed", now + dur),
      ...(kmsBroken ? { stateMessage: kmsFailure(sourceKeyRefused ? src.kmsKeyId : kmsKeyId) } : {}),
      startMs: now,
      ...(kmsBroken ? {} : { readyMs: now + dur }),
      tags,
      description: input.Description ?? `[Copied ${src.id} from ${input.SourceRegion}]`,
      encrypted,
      ...(kmsKeyId ? { kmsKeyId } : {}),
      size: src.size,
      copy: { region: input.SourceRegion, id: src.id },
      seq: 0,
    });
    dest.inflightCopies.add(snap);
    const tagList = toTagList(snap.tags);
    return { SnapshotId: snap.id, ...(tagList.length ? { Tags: tagList } : {}) };
  };

  const deleteSnapshot = (input: { SnapshotId?: string }, ctx: CommandContext) => {
    const s = store(ctx.region);
    if (!input.SnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SnapshotId");
    const snap = s.snaps.get(wellFormedId("snap", input.SnapshotId));
    if (!snap || (snap.ownerId !== core.accountId && !snap.isPublic))
      throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
    if (snap.ownerId !== core.accountId) throw ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.");
    // "A locked snapshot can't be deleted" until its lock expires (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html).
    if (snap.lock && lockState(snap.lock, ctx.nowMs) !== "expired") {
      throw ec2Error("SnapshotLocked", `The snapshot '${snap.id}' is locked and can't be deleted. Its lock state is ${lockState(snap.lock, ctx.nowMs)}.`);
    }
    const img = usedBy(s, snap.id);
    if (img) throw ec2Error("InvalidSnapshot.InUse", `The snapshot ${snap.id} is currently in use by ${img.id}`);
    s.snaps.delete(snap.id);
    s.inflightCopies.delete(snap);
    return {};
  };

  /**
   * ModifySnapshotAttribute, createVolumePermission only
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html): add or remove account ids
   * (or the group `all`), not both in one call, at most 500 changes. "Encrypted snapshots ... cannot be made public.
   * Snapshots encrypted with your default KMS key cannot be shared with other accounts": EC2 answers
   * `OperationNotPermitted` "Encrypted snapshots with EBS default key cannot be shared" (as observed from
   * ModifySnapshotAttribute, https://github.com/hashicorp/packer/issues/7499).
   */
  const modifySnapshotAttribute = (
    input: {
      SnapshotId?: string;
      Attribute?: string;
      OperationType?: string;
      UserIds?: string[];
      GroupNames?: string[];
      CreateVolumePermission?: { Add?: Array<{ UserId?: string; Group?: string }>; Remove?: Array<{ UserId?: string; Group?: string }> };
    },
    ctx: CommandContext,
  ) => {
    if (!input.SnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SnapshotId");
    const snap = store(ctx.region).snaps.get(wellFormedId("snap", input.SnapshotId));
    if (!snap || snap.ownerId !== core.accountId) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
    if (input.Attribute !== undefined && input.Attribute !== "createVolumePermission") {
      throw ec2Error("InvalidParameterValue", `Value (${input.Attribute}) for parameter attribute is invalid. Only createVolumePermission can be modified.`);
    }
    const names = (list: Array<{ UserId?: string; Group?: string }> | undefined) => (list ?? []).map((p) => p.Group ?? p.UserId ?? "");
    let add = names(input.CreateVolumePermission?.Add);
    let remove = names(input.CreateVolumePermission?.Remove);
    const listed = [...(input.UserIds ?? []), ...(input.GroupNames ?? [])];
    if (listed.length) {
      if (input.OperationType === "add") add = [...add, ...listed];
      else if (input.OperationType === "remove") remove = [...remove, ...listed];
      else throw ec2Error("MissingParameter", "The request must contain the parameter operationType");
    }
    if (add.length && remove.length) {
      throw ec2Error(
        "InvalidParameterCombination",
        "You may add or remove account IDs from a snapshot's create volume permissions, but not both in a single operation.",
      );
    }
    if (add.length + remove.length > 500) throw ec2Error("InvalidParameterValue", "You can make up to 500 modifications to a snapshot in a single operation.");
    for (const id of [...add, ...remove]) {
      if (id !== "all" && !/^\d{12}$/.test(id)) throw ec2Error("InvalidUserID.Malformed", `Invalid user id: "${id}"`);
    }
    if (add.includes("all") && snap.encrypted) throw ec2Error("InvalidParameter", "Encrypted snapshots cannot be made public.");
    if (add.length && snap.encrypted && isAwsManagedKey(snap.kmsKeyId)) {
      throw ec2Error("OperationNotPermitted", "Encrypted snapshots with EBS default key cannot be shared");
    }
    snap.sharedWith ??= new Set();
    for (const id of add) {
      if (id === "all") snap.isPublic = true;
      else snap.sharedWith.add(id);
    }
    for (const id of remove) {
      if (id === "all") snap.isPublic = false;
      else snap.sharedWith.delete(id);
    }
    return {};
  };

  /** DescribeSnapshotAttribute createVolumePermission (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshotAttribute.html). */
  const describeSnapshotAttribute = (input: { SnapshotId?: string; Attribute?: string }, ctx: CommandContext) => {
    if (!input.SnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SnapshotId");
    if (input.Attribute !== "createVolumePermission") {
      throw new SandboxUnsupportedError(`sandbox does not simulate ec2:DescribeSnapshotAttribute ${String(input.Attribute)}`);
    }
    const snap = store(ctx.region).snaps.get(wellFormedId("snap", input.SnapshotId));
    if (!snap || snap.ownerId !== core.accountId) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
    return {
      SnapshotId: snap.id,
      CreateVolumePermissions: [...(snap.isPublic ? [{ Group: "all" }] : []), ...[...(snap.sharedWith ?? [])].map((UserId) => ({ UserId }))],
    };
  };

  /**
   * LockSnapshot (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html): LockMode governance or
   * compliance; LockDuration 1–36500 days or ExpirationDate (one of them); CoolOffPeriod 1–72 hours, compliance only.
   * A governance lock, or a compliance lock in its cooling-off period, may be changed in any way; once the cooling-off
   * period has lapsed a compliance lock can only be extended (no mode change, no CoolOffPeriod, no shorter expiry). The
   * lock duration of a pending snapshot starts when it completes.
   */
  const lockSnapshot = (
    input: { SnapshotId?: string; LockMode?: string; CoolOffPeriod?: number; LockDuration?: number; ExpirationDate?: Date | string },
    ctx: CommandContext,
  ) => {
    const now = ctx.nowMs;
    if (!input.SnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SnapshotId");
    if (!input.LockMode) throw ec2Error("MissingParameter", "The request must contain the parameter LockMode");
    const snap = store(ctx.region).snaps.get(wellFormedId("snap", input.SnapshotId));
    if (!snap || snap.ownerId !== core.accountId) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
    if (input.LockMode !== "governance" && input.LockMode !== "compliance") {
      throw ec2Error("InvalidParameterValue", `Value (${input.LockMode}) for parameter lockMode is invalid. Valid values: compliance, governance.`);
    }
    if ((input.LockDuration === undefined) === (input.ExpirationDate === undefined)) {
      throw ec2Error("InvalidParameterCombination", "You must specify either LockDuration or ExpirationDate, but not both.");
    }
    if (input.LockDuration !== undefined && (!Number.isInteger(input.LockDuration) || input.LockDuration < 1 || input.LockDuration > 36_500)) {
      throw ec2Error("InvalidParameterValue", `Value (${input.LockDuration}) for parameter lockDuration is invalid. Expecting a value between 1 and 36500.`);
    }
    if (input.CoolOffPeriod !== undefined) {
      if (input.LockMode === "governance") throw ec2Error("InvalidParameterCombination", "CoolOffPeriod can be specified only with LockMode compliance.");
      if (!Number.isInteger(input.CoolOffPeriod) || input.CoolOffPeriod < 1 || input.CoolOffPeriod > 72) {
        throw ec2Error("InvalidParameterValue", `Value (${input.CoolOffPeriod}) for parameter coolOffPeriod is invalid. Expecting a value between 1 and 72.`);
      }
    }
    const current = snap.lock && lockState(snap.lock, now) !== "expired" ? snap.lock : undefined;
    // A changed lock keeps its start: its LockDuration counts from LockDurationStartTime.
    const startMs = current?.startMs ?? Math.max(now, snap.readyMs ?? now);
    const expiresMs = input.LockDuration !== undefined ? startMs + input.LockDuration * 86_400_000 : new Date(input.ExpirationDate!).getTime();
    if (expiresMs <= now) throw ec2Error("InvalidParameterValue", "The ExpirationDate must be in the future.");
    if (current && lockState(current, now) === "compliance") {
      if (input.LockMode !== "compliance") {
        throw ec2Error(
          "InvalidParameterValue",
          `The snapshot '${snap.id}' is locked in compliance mode and its cooling-off period has expired; its lock mode can't be changed.`,
        );
      }
      if (input.CoolOffPeriod !== undefined) {
        throw ec2Error(
          "InvalidParameterCombination",
          `The snapshot '${snap.id}' is locked in compliance mode and its cooling-off period has expired; omit CoolOffPeriod.`,
        );
      }
      if (expiresMs < current.expiresMs) {
        throw ec2Error(
          "InvalidParameterValue",
          `The snapshot '${snap.id}' is locked in compliance mode and its cooling-off period has expired; its lock can only be extended.`,
        );
      }
      current.expiresMs = expiresMs;
      if (input.LockDuration !== undefined) current.durationDays = Math.round((expiresMs - current.startMs) / 86_400_000);
      return lockView(snap, now);
    }
    snap.lock = {
      mode: input.LockMode,
      createdMs: current?.createdMs ?? now,
      startMs,
      expiresMs,
      ...(input.LockDuration !== undefined ? { durationDays: input.LockDuration } : {}),
      ...(input.LockMode === "compliance" && input.CoolOffPeriod !== undefined
        ? { coolOffHours: input.CoolOffPeriod, coolOffExpiresMs: now + input.CoolOffPeriod * 3_600_000 }
        : {}),
    };
    return lockView(snap, now);
  };

  /**
   * UnlockSnapshot (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UnlockSnapshot.html): a governance lock, or a
   * compliance lock still in its cooling-off period; a compliance lock past it "can't be unlocked".
   */
  const unlockSnapshot = (input: { SnapshotId?: string }, ctx: CommandContext) => {
    if (!input.SnapshotId) throw ec2Error("MissingParameter", "The request must contain the parameter SnapshotId");
    const snap = store(ctx.region).snaps.get(wellFormedId("snap", input.SnapshotId));
    if (!snap || snap.ownerId !== core.accountId) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
    const state = snap.lock ? lockState(snap.lock, ctx.nowMs) : undefined;
    if (state === undefined || state === "expired") throw ec2Error("IncorrectState", `The snapshot '${snap.id}' is not locked.`);
    if (state === "compliance") {
      throw ec2Error("IncorrectState", `The snapshot '${snap.id}' is locked in compliance mode and its cooling-off period has expired. It can't be unlocked.`);
    }
    delete snap.lock;
    return { SnapshotId: snap.id };
  };

  /** DescribeLockedSnapshots (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLockedSnapshots.html): filter lock-state, MaxResults 5–1000. */
  const describeLockedSnapshots = (input: { SnapshotIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }, ctx: CommandContext) => {
    const now = ctx.nowMs;
    let snaps = [...store(ctx.region).snaps.values()].filter((x) => x.ownerId === core.accountId && x.lock);
    if (input.SnapshotIds?.length) {
      const wanted = new Set(input.SnapshotIds);
      snaps = snaps.filter((x) => wanted.has(x.id));
    }
    const match = matcher<EbsSnap>(input.Filters, { "lock-state": (x) => lockState(x.lock!, now) });
    const { items, ...token } = page(snaps.filter(match), input, 1000, !!input.SnapshotIds?.length, "locked-snapshots");
    return { Snapshots: items.map((x) => lockView(x, now)), ...token };
  };

  const describeImages = (
    input: { Owners?: string[]; ImageIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
    ctx: CommandContext,
  ) => {
    const s = store(ctx.region);
    const owners = input.Owners?.map((o) => (o === "self" ? core.accountId : o));
    let imgs = [...s.images.values()].filter((i) => i.state !== "deregistered" && (!owners || owners.includes(i.ownerId)));
    if (input.ImageIds?.length) {
      const wanted = new Set(input.ImageIds);
      for (const id of wanted) if (!s.images.has(id)) throw ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
      imgs = imgs.filter((i) => wanted.has(i.id));
    }
    const match = matcher<Image>(input.Filters, {
      "image-id": (i) => i.id,
      name: (i) => i.name,
      state: (i) => i.state,
      "owner-id": (i) => i.ownerId,
      "block-device-mapping.snapshot-id": (i) => i.snapshotIds,
    });
    imgs = imgs.filter(match);
    const { items, ...token } = page(imgs, input, 1000, !!input.ImageIds?.length, "images");
    const encryptedOf = (id: string) => s.snaps.get(id)?.encrypted ?? false;
    return { Images: items.map((i) => imageView(i, encryptedOf)), ...token };
  };

  const deregisterImage = (input: { ImageId?: string }, ctx: CommandContext) => {
    const s = store(ctx.region);
    const img = input.ImageId ? s.images.get(input.ImageId) : undefined;
    if (!img || img.state === "deregistered") throw ec2Error("InvalidAMIID.NotFound", `The image id '[${input.ImageId ?? ""}]' does not exist`);
    s.images.delete(img.id);
    return {};
  };

  // ---- volumes from snapshots (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html,
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVolume.html) ----

  /** Volumes whose `deleting` period is over are gone. */
  function purgeVolumes(s: RegionStore, now: number): void {
    for (const v of s.volumes.values()) if (v.goneAtMs !== undefined && v.goneAtMs <= now) s.volumes.delete(v.id);
  }

  /**
   * CreateVolume from a snapshot in an Availability Zone of the region: a snapshot or a size is required; the size is
   * at least the snapshot's ("equal to or larger than the snapshot size"), 1–16,384 GiB for gp2/gp3; a volume from an
   * encrypted snapshot is encrypted with its key. `creating`, then `available`; an inaccessible key (or an injected
   * `kms` fault) turns it to `error`, as EBS does asynchronously.
   */
  const createVolume = (
    input: {
      AvailabilityZone?: string;
      SnapshotId?: string;
      Size?: number;
      VolumeType?: string;
      Encrypted?: boolean;
      KmsKeyId?: string;
      TagSpecifications?: Array<{ ResourceType?: string; Tags?: AwsTag[] }>;
    },
    ctx: CommandContext,
  ) => {
    const { region, nowMs: now } = ctx;
    const s = store(region);
    purgeVolumes(s, now);
    if (!input.AvailabilityZone) throw ec2Error("MissingParameter", "The request must contain the parameter AvailabilityZone");
    if (!new RegExp(`^${region}[a-c]$`).test(input.AvailabilityZone)) {
      throw ec2Error("InvalidZone.NotFound", `The zone '${input.AvailabilityZone}' does not exist.`);
    }
    if (input.SnapshotId === undefined && input.Size === undefined)
      throw ec2Error("MissingParameter", "The request must contain the parameter size or snapshotId");
    let snap: EbsSnap | undefined;
    if (input.SnapshotId !== undefined) {
      snap = s.snaps.get(wellFormedId("snap", input.SnapshotId));
      if (!snap || !(snap.ownerId === core.accountId || snap.isPublic))
        throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
      const state = snapState(snap, now);
      if (state !== "completed") throw ec2Error("IncorrectState", `Snapshot '${snap.id}' is in the '${state}' state.`);
    }
    const type = input.VolumeType ?? "gp2";
    const size = input.Size ?? snap?.size ?? 0;
    if (!Number.isInteger(size) || size < 1 || ((type === "gp2" || type === "gp3") && size > 16_384)) {
      throw ec2Error("InvalidParameterValue", `Volume size ${size} is out of range for volume type ${type}.`);
    }
    if (snap && size < snap.size) {
      throw ec2Error("InvalidParameterValue", `Volume of size ${size}GB is smaller than snapshot '${snap.id}', expect size >= ${snap.size}GB`);
    }
    const tags = validTags(input.TagSpecifications, "volume");
    const encrypted = snap?.encrypted || input.Encrypted === true;
    const kmsKeyId = encrypted ? (input.KmsKeyId ?? snap?.kmsKeyId ?? defaultKey(region)) : undefined;
    const id = ids.ec2("vol");
    const broken = ctx.deferredFault === "kms" || (kmsKeyId !== undefined && core.kms.isDenied(kmsKeyId));
    const dur = durationOf(durations.ebsVolumeCreate, { region, id, sourceId: snap?.id ?? "" });
    const vol: Volume = {
      id,
      region,
      status: new Timeline("creating", now).andThen(broken ? "error" : "available", now + (broken ? Math.min(MINUTE, dur) : dur)),
      size,
      encrypted,
      ...(kmsKeyId ? { kmsKeyId } : {}),
      tags,
      createdMs: now,
      zone: input.AvailabilityZone,
      type,
      ...(snap ? { snapshotId: snap.id } : {}),
      seq: ++seq,
    };
    s.volumes.set(id, vol);
    return volumeView(vol, now);
  };

  /** DeleteVolume: only an `available` volume ("not attached to an instance"); `deleting`, then gone. */
  const deleteVolume = (input: { VolumeId?: string }, ctx: CommandContext) => {
    const { region, nowMs: now } = ctx;
    const s = store(region);
    purgeVolumes(s, now);
    if (!input.VolumeId) throw ec2Error("MissingParameter", "The request must contain the parameter VolumeId");
    const vol = s.volumes.get(wellFormedId("vol", input.VolumeId));
    if (!vol) throw ec2Error("InvalidVolume.NotFound", `The volume '${input.VolumeId}' does not exist.`);
    const state = vol.status.valueAt(now);
    if (state === "in-use") throw ec2Error("VolumeInUse", `Volume ${vol.id} is currently attached to i-${vol.id.slice(4)}`);
    if (state !== "available" && state !== "error") throw ec2Error("IncorrectState", `The volume '${vol.id}' is '${state}'`);
    vol.status.set("deleting", now);
    vol.goneAtMs = now + durationOf(durations.ebsVolumeDelete, { region, id: vol.id, sourceId: vol.snapshotId ?? "" });
    return {};
  };

  function taggable(s: RegionStore, id: string): { tags: Tags } {
    const r = s.snaps.get(id) ?? s.volumes.get(id) ?? s.images.get(id);
    if (r) return r;
    if (id.startsWith("snap-")) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${wellFormedId("snap", id)}' does not exist.`);
    if (id.startsWith("vol-")) throw ec2Error("InvalidVolume.NotFound", `The volume '${wellFormedId("vol", id)}' does not exist.`);
    if (id.startsWith("ami-")) throw ec2Error("InvalidAMIID.NotFound", `The image id '[${wellFormedId("ami", id)}]' does not exist`);
    throw ec2Error("InvalidID", `The ID '${id}' is not valid`);
  }

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [DescribeSnapshotsCommand, describeSnapshots],
    [DescribeVolumesCommand, describeVolumes],
    [CreateSnapshotCommand, createSnapshot],
    [CopySnapshotCommand, copySnapshot],
    [DeleteSnapshotCommand, deleteSnapshot],
    [CreateVolumeCommand, createVolume],
    [DeleteVolumeCommand, deleteVolume],
    [DescribeImagesCommand, describeImages],
    [DeregisterImageCommand, deregisterImage],
    [ModifySnapshotAttributeCommand, modifySnapshotAttribute],
    [DescribeSnapshotAttributeCommand, describeSnapshotAttribute],
    [LockSnapshotCommand, lockSnapshot],
    [UnlockSnapshotCommand, unlockSnapshot],
    [DescribeLockedSnapshotsCommand, describeLockedSnapshots],
    [
      CreateTagsCommand,
      (input: { Resources?: string[]; Tags?: AwsTag[] }, ctx: CommandContext) => {
        const s = store(ctx.region);
        const tags = checkTags(input.Tags);
        const targets = (input.Resources ?? []).map((id) => taggable(s, id));
        for (const t of targets) withinTagLimit({ ...t.tags, ...tags });
        for (const t of targets) Object.assign(t.tags, tags);
        return {};
      },
    ],
    [
      DeleteTagsCommand,
      (input: { Resources?: string[]; Tags?: AwsTag[] }, ctx: CommandContext) => {
        const s = store(ctx.region);
        for (const id of input.Resources ?? []) {
          const t = taggable(s, id);
          for (const tag of input.Tags ?? []) if (tag.Key !== undefined && (tag.Value === undefined || t.tags[tag.Key] === tag.Value)) delete t.tags[tag.Key];
        }
        return {};
      },
    ],
  ];

  function faultFor(kind: FaultKind, ctx: CommandContext): Error | "deferred" {
    const cmd = ctx.command;
    switch (kind) {
      case "throttling":
        return ec2Error("RequestLimitExceeded", "Request limit exceeded.");
      case "internal":
        return ec2Error("InternalError", "An internal error has occurred.");
      case "accessDenied":
        return ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.");
      case "quota":
        return cmd === "CreateSnapshot"
          ? ec2Error("SnapshotLimitExceeded", "The maximum number of snapshots has been reached.")
          : ec2Error(
              "ResourceLimitExceeded",
              `Too many snapshot copies in progress. The limit is ${limits.ebsCopiesInFlightPerRegion} for this destination region.`,
            );
      case "state":
        return ec2Error("IncorrectState", "The resource is in an incorrect state for the request.");
      case "kms":
        // Encrypted EBS snapshots and copies fail after being accepted: the snapshot goes to `error`.
        return cmd === "CopySnapshot" || cmd === "CreateSnapshot" || cmd === "CreateVolume"
          ? "deferred"
          : ec2Error("InvalidKMSKey.InvalidState", "The KMS key provided is in an incorrect state");
      case "notFound":
        return /Volume/.test(cmd)
          ? ec2Error("InvalidVolume.NotFound", "The volume does not exist.")
          : /Image/.test(cmd)
            ? ec2Error("InvalidAMIID.NotFound", "The image id does not exist")
            : ec2Error("InvalidSnapshot.NotFound", "The snapshot does not exist.");
      case "alreadyExists":
        return ec2Error("InvalidParameterValue", "The resource already exists.");
    }
  }

  function toSandboxSnapshot(snap: EbsSnap, s: RegionStore, now: number): SandboxSnapshot {
    const status = snapState(snap, now);
    return {
      kind: "ebs-volume",
      region: snap.region,
      id: snap.id,
      sourceId: snap.volumeId,
      status,
      ready: status === "completed",
      type: "manual",
      createdAt: new Date(snap.startMs),
      ...(snap.readyMs !== undefined ? { readyAt: new Date(snap.readyMs) } : {}),
      tags: { ...snap.tags },
      encrypted: snap.encrypted,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      ...(snap.copy ? { copiedFrom: { ...snap.copy } } : {}),
      usedByImage: usedBy(s, snap.id) !== undefined,
      ownerId: snap.ownerId,
    };
  }

  const sim: Ec2Sim = {
    service: "ec2",
    clientClass: EC2Client,
    commands,
    faultFor,

    visibleSnapshot(region, id) {
      const snap = visible(region, id, core.accountId);
      return snap ? toSandboxSnapshot(snap, store(region), core.clock.nowMs()) : undefined;
    },

    sharedWith(region, id) {
      const snap = store(region).snaps.get(id);
      if (!snap) throw new Error(`sandbox.ec2: no snapshot ${id} in ${region}`);
      return [...(snap.isPublic ? ["all"] : []), ...(snap.sharedWith ?? [])];
    },

    addVolume(region, spec = {}) {
      const s = store(region);
      const id = seedId("vol", spec.id ?? ids.ec2("vol"));
      if (s.volumes.has(id)) throw new Error(`sandbox.ec2: volume ${id} already exists in ${region}`);
      const encrypted = spec.encrypted ?? true;
      s.volumes.set(id, {
        id,
        region,
        status: new Timeline(spec.status ?? "in-use"),
        size: spec.size ?? 8,
        encrypted,
        ...(encrypted ? { kmsKeyId: spec.kmsKeyId ?? defaultKey(region) } : {}),
        tags: { ...(spec.tags ?? {}) },
        createdMs: core.clock.nowMs(),
        seq: ++seq,
      });
      return id;
    },

    setVolumeStatus(region, id, status, options = {}) {
      const vol = store(region).volumes.get(id);
      if (!vol) throw new Error(`sandbox.ec2: no volume ${id} in ${region}`);
      vol.status.set(status, options.at ? options.at.getTime() : core.clock.nowMs());
    },

    addImage(region, spec) {
      const s = store(region);
      const id = seedId("ami", spec.id ?? ids.ec2("ami"));
      if (s.images.has(id)) throw new Error(`sandbox.ec2: image ${id} already exists in ${region}`);
      s.images.set(id, {
        id,
        region,
        name: spec.name ?? id,
        state: spec.state ?? "available",
        ownerId: core.accountId,
        snapshotIds: [...spec.snapshotIds],
        tags: { ...(spec.tags ?? {}) },
        createdMs: core.clock.nowMs(),
        seq: ++seq,
      });
      return id;
    },

    removeImage(region, id) {
      if (!store(region).images.delete(id)) throw new Error(`sandbox.ec2: no image ${id} in ${region}`);
    },

    addSnapshot(region, spec) {
      const s = store(region);
      const id = seedId("snap", spec.id ?? ids.ec2("snap"));
      seedId("vol", spec.volumeId);
      if (s.snaps.has(id)) throw new Error(`sandbox.ec2: snapshot ${id} already exists in ${region}`);
      const now = core.clock.nowMs();
      const startMs = spec.createdAt ? spec.createdAt.getTime() : now;
      const state = spec.state ?? "completed";
      const timeline = new Timeline(state, startMs);
      if (spec.readyAt && state !== "completed") timeline.andThen("completed", spec.readyAt.getTime());
      const readyMs = spec.readyAt ? spec.readyAt.getTime() : state === "completed" ? startMs : undefined;
      const vol = s.volumes.get(spec.volumeId);
      const encrypted = spec.encrypted ?? vol?.encrypted ?? true;
      const kmsKeyId = spec.kmsKeyId ?? (encrypted ? (vol?.kmsKeyId ?? defaultKey(region)) : undefined);
      const snap = insert(s, {
        id,
        region,
        volumeId: spec.volumeId,
        ownerId: spec.ownerId ?? core.accountId,
        isPublic: spec.public ?? false,
        state: timeline,
        startMs,
        ...(readyMs !== undefined ? { readyMs } : {}),
        tags: { ...(spec.tags ?? {}) },
        description: spec.description ?? "",
        encrypted,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        size: spec.size ?? vol?.size ?? 8,
        seq: 0,
      });
      return toSandboxSnapshot(snap, s, now);
    },

    removeSnapshot(region, id) {
      const s = store(region);
      const snap = s.snaps.get(id);
      if (!snap) throw new Error(`sandbox.ec2: no snapshot ${id} in ${region}`);
      s.snaps.delete(id);
      s.inflightCopies.delete(snap);
    },

    snapshots(region, filter = {}) {
      const now = core.clock.nowMs();
      const names = region ? [region] : [...new Set([...core.regions, ...regions.keys()])];
      const out: SandboxSnapshot[] = [];
      for (const r of names) {
        const s = store(r);
        for (const snap of s.snaps.values()) {
          if (filter.volumeId && snap.volumeId !== filter.volumeId) continue;
          if (filter.ownedOnly !== false && snap.ownerId !== core.accountId) continue;
          out.push(toSandboxSnapshot(snap, s, now));
        }
      }
      return out;
    },

    snapshot(region, id) {
      const s = store(region);
      const snap = s.snaps.get(id);
      return snap ? toSandboxSnapshot(snap, s, core.clock.nowMs()) : undefined;
    },

    copiesInFlight: (region) => inflight(store(region), core.clock.nowMs()),

    volume(region, id) {
      const s = store(region);
      const now = core.clock.nowMs();
      purgeVolumes(s, now);
      const v = s.volumes.get(id);
      if (!v) return undefined;
      return {
        id: v.id,
        status: v.status.valueAt(now),
        size: v.size,
        tags: { ...v.tags },
        ...(v.snapshotId ? { snapshotId: v.snapshotId } : {}),
        availabilityZone: v.zone ?? `${v.region}a`,
      };
    },
  };
  storesOf.set(sim, { account: core.accountId, store });
  return sim;
}
