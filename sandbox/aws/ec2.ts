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
 */
import {
  CopySnapshotCommand,
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
import { ec2Error, type FaultKind } from "./errors.ts";
import type { Durations, Limits, SandboxSnapshot } from "./types.ts";
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

interface EbsSnap {
  id: string;
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
  /** One volume now (tags, status, size), or undefined. */
  volume(region: string, id: string): { id: string; status: string; size: number; tags: Tags; snapshotId?: string; availabilityZone: string } | undefined;
}

export function createEc2Sim(core: SandboxCore, durations: Durations, limits: Limits): Ec2Sim {
  const regions = new Map<string, RegionStore>();
  const ids = new IdSource(0xec2);
  let seq = 0;

  function store(region: string): RegionStore {
    let s = regions.get(region);
    if (!s) {
      s = { volumes: new Map(), snaps: new Map(), images: new Map(), inflightCopies: new Set() };
      regions.set(region, s);
    }
    return s;
  }

  const defaultKey = (region: string) => `arn:aws:kms:${region}:${core.accountId}:key/aws-ebs-default`;

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
    const visible = (snap: EbsSnap) => (owners ? owners.includes(snap.ownerId) : snap.ownerId === core.accountId || snap.isPublic);
    let snaps = [...s.snaps.values()].filter(visible);
    if (input.SnapshotIds?.length) {
      const wanted = new Set(input.SnapshotIds);
      for (const id of wanted) {
        const snap = s.snaps.get(id);
        if (!snap || !(snap.ownerId === core.accountId || snap.isPublic)) throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
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
    const src = store(input.SourceRegion).snaps.get(wellFormedId("snap", input.SourceSnapshotId));
    if (!src || !(src.ownerId === core.accountId || src.isPublic)) {
      throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${input.SourceSnapshotId}' does not exist.`);
    }
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
    const kmsKeyId = encrypted ? (input.KmsKeyId ?? (crossRegion ? defaultKey(region) : (src.kmsKeyId ?? defaultKey(region)))) : undefined;
    const keyRegion = kmsKeyId?.startsWith("arn:") ? kmsKeyId.split(":")[3] : region;
    const kmsBroken =
      ctx.deferredFault === "kms" || (encrypted && (core.kms.isDenied(kmsKeyId) || keyRegion !== region || (src.encrypted && core.kms.isDenied(src.kmsKeyId))));
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
      ...(kmsBroken ? { stateMessage: kmsFailure(kmsKeyId) } : {}),
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
    const img = usedBy(s, snap.id);
    if (img) throw ec2Error("InvalidSnapshot.InUse", `The snapshot ${snap.id} is currently in use by ${img.id}`);
    s.snaps.delete(snap.id);
    s.inflightCopies.delete(snap);
    return {};
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

  return {
    service: "ec2",
    clientClass: EC2Client,
    commands,
    faultFor,

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
}
