/**
 * Which resources get a snapshot now, under which deterministic name and with which tags.
 *
 * Idempotency rests on the name: EventBridge delivers at least once and a timed-out Lambda is retried,
 * so a rerun for the same UTC day must find its own snapshot ("exists") instead of creating a second one.
 */
import { dayOfMonth, isDay, utcDay, weekday } from "./calendar.ts";
import type { BackupPolicy } from "../schemas/config.ts";
import { TAG, managedByValue } from "./types.ts";
import type { Decision, Owner, Resource, ResourceKind, Snapshot, TierName } from "./types.ts";

export type BackupAction = "create" | "exists" | "skip-state";

export interface BackupTarget {
  resource: Resource;
  name: string;
  day: string;
  tiers: TierName[];
  tags: Record<string, string>;
}

export type BackupDecision = Decision<BackupAction, BackupTarget>;

/** Longest RDS snapshot identifier (DBSnapshotIdentifier / DBClusterSnapshotIdentifier). */
export const MAX_SNAPSHOT_NAME = 255;

/** Statuses in which each kind of resource accepts a snapshot request. */
export const SNAPSHOTTABLE_STATUS: Record<ResourceKind, readonly string[]> = {
  "rds-instance": ["available"],
  "aurora-cluster": ["available"],
  "ebs-volume": ["in-use", "available"],
};

const CLEAN_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** 64-bit FNV-1a style digest as 16 hex digits: only letters and digits, so it is safe inside an identifier. */
function digest(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 = (h2 ^ (h2 >>> 13)) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

/**
 * The deterministic snapshot name of `resourceId` for UTC `day`, valid as an RDS snapshot identifier
 * (1–255 letters, digits and hyphens, starting with a letter, no "--", no trailing hyphen; RDS stores
 * identifiers lowercase, so names are lowercase too). Ids that are already clean keep their spelling:
 * `snapshotName("app-db", "2026-11-21")` → "oa-app-db-20261121". Any other id is sanitised and, so two
 * ids that sanitise alike still get different names, prefixed with a digest of the original:
 * `snapshotName("App_DB", "2026-11-21")` → "ox-<16 hex>-app-db-20261121". The two prefixes never overlap.
 */
export function snapshotName(resourceId: string, day: string): string {
  if (!isDay(day)) throw new RangeError(`snapshotName: not a calendar day (yyyy-mm-dd): "${day}"`);
  const ymd = day.replaceAll("-", "");
  const plain = `oa-${resourceId}-${ymd}`;
  if (CLEAN_ID.test(resourceId) && plain.length <= MAX_SNAPSHOT_NAME) return plain;
  const prefix = `ox-${digest(resourceId)}-`;
  const room = MAX_SNAPSHOT_NAME - prefix.length - ymd.length - 1;
  const body = resourceId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, room)
    .replace(/^-+|-+$/g, "");
  return body ? `${prefix}${body}-${ymd}` : `${prefix}${ymd}`;
}

/**
 * The tiers a backup taken on UTC `day` belongs to under `policy`: daily always (when configured),
 * weekly when the weekday matches, monthly when the day of the month matches.
 * With the runbook defaults, `tiersFor("2026-11-01", policy)` (a Sunday and the 1st) → ["daily", "weekly", "monthly"].
 */
export function tiersFor(day: string, policy: BackupPolicy): TierName[] {
  const tiers: TierName[] = [];
  const t = policy.tiers;
  if (t.daily) tiers.push("daily");
  if (t.weekly && weekday(day) === t.weekly.weekday) tiers.push("weekly");
  if (t.monthly && dayOfMonth(day) === t.monthly.dayOfMonth) tiers.push("monthly");
  return tiers;
}

/** The tags written on a backup (and, plus TAG.copyOf, on its DR copies). */
export function backupTags(resource: Resource, policy: BackupPolicy, owner: Owner, day: string, name: string): Record<string, string> {
  return {
    [TAG.managedBy]: managedByValue(owner),
    [TAG.policy]: policy.name,
    [TAG.tiers]: tiersFor(day, policy).join("+"),
    [TAG.source]: resource.id,
    [TAG.sourceRegion]: resource.region,
    [TAG.backupDate]: day,
    [TAG.name]: name,
  };
}

/** The existing snapshot standing for `name`: same kind, and the RDS identifier or (EBS) our name tag equals it. */
function findExisting(existing: readonly Snapshot[], kind: ResourceKind, name: string): Snapshot | undefined {
  return existing.find(
    (s) => s.kind === kind && (s.id.toLowerCase() === name || s.tags[TAG.name] === name),
  );
}

/**
 * Decide, for each resource, whether to create today's snapshot. `now` fixes the UTC day; `existing` are the
 * snapshots already in the resource's region (any owner). Returns one decision per distinct resource, in input
 * order: "create" with the name and tags to write, "exists" when today's snapshot is already there (success,
 * nothing to do), or "skip-state" when the resource is in a state that refuses snapshots (reported, with the
 * status). Example: an available RDS instance "app-db" on 2026-11-21 with no snapshot yet →
 * `{ action: "create", target: { name: "oa-app-db-20261121", tiers: ["daily"], ... }, reason: "..." }`.
 */
export function planBackups(input: {
  resources: Resource[];
  policy: BackupPolicy;
  owner: Owner;
  now: Date;
  existing: Snapshot[];
}): BackupDecision[] {
  const { policy, owner, existing } = input;
  const day = utcDay(input.now);
  const seen = new Set<string>();
  const out: BackupDecision[] = [];
  for (const resource of input.resources) {
    // The same resource selected twice (by tag and by id) is still one backup.
    const key = `${resource.kind}\u0000${resource.region}\u0000${resource.id}`;
    if (seen.has(key)) continue;
    seen.add(key);

    const name = snapshotName(resource.id, day);
    const tiers = tiersFor(day, policy);
    const tags = backupTags(resource, policy, owner, day, name);
    const target: BackupTarget = { resource, name, day, tiers, tags };
    const found = findExisting(existing, resource.kind, name);
    if (found) {
      const where = found.id === name ? name : `${found.id} (${TAG.name}=${name})`;
      out.push({ action: "exists", target, reason: `already exists for ${day}: ${where}, status ${found.status}` });
      continue;
    }
    const ok = SNAPSHOTTABLE_STATUS[resource.kind];
    if (!ok.includes(resource.status)) {
      out.push({
        action: "skip-state",
        target,
        reason: `${resource.kind} ${resource.id} is "${resource.status}"; a snapshot needs ${ok.map((s) => `"${s}"`).join(" or ")}`,
      });
      continue;
    }
    out.push({ action: "create", target, reason: `no backup for ${day} yet; tiers ${tiers.join("+") || "none"}` });
  }
  return out;
}
