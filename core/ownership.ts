/**
 * Which snapshots are ours: the one predicate every job decides ownership with (prune candidates, copy
 * sources and targets, freshness, backup "already exists").
 *
 * A tag alone cannot say so: RDS copies tags onto a person's "copy snapshot" when CopyTags is ticked, gives an
 * instance restored from our snapshot the snapshot's tags, and with CopyTagsToSnapshot that instance's snapshots
 * carry them too (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags).
 * So a snapshot is ours only when ALL of these hold:
 * - it is a manual snapshot whose managed-by tag is exactly `<app>:<stage>`;
 * - its identity is its name tag: for RDS and Aurora the snapshot identifier (unique per region; compared
 *   case-insensitively because RDS stores identifiers lowercase), for EBS (whose ids AWS assigns) the
 *   description, which cannot be changed after creation and which backup and copy set to the name;
 * - the name is of our naming scheme for this app and stage, `oa-<app>-<stage>-<resource>-<yyyymmdd>[-<n>]`;
 * - it is where it says it is: a backup (no copy-of tag) in its source region, a DR copy elsewhere;
 * - no other snapshot of the same kind in the same region claims the same name (EBS descriptions are not unique:
 *   when two claim one name, neither is ours until a person resolves it).
 * Inherited tags fail the identity test (a copy or a restored instance's snapshot has another id, or for EBS
 * another description), so such snapshots are never pruned, never copied, and never count as a backup.
 */
import { isDay } from "./calendar.ts";
import { RESOURCE_TYPES, byKind } from "./resource-types.ts";
import { TAG, managedByValue } from "./types.ts";
import type { Owner, ResourceKind, Snapshot } from "./types.ts";

/** Longest RDS snapshot identifier (DBSnapshotIdentifier: 1–255 characters). */
export const MAX_SNAPSHOT_NAME = 255;

/**
 * Longest name per kind (core/resource-types.ts): a DBClusterSnapshotIdentifier "must contain from 1 to 63 letters,
 * numbers, or hyphens" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html);
 * EBS names are a Description and a tag value (256), bounded like RDS instance ids.
 */
export const MAX_NAME_LENGTH: Record<ResourceKind, number> = byKind((t) => t.maxNameLength);

/**
 * Longest `oa-<app>-<stage>-` prefix that still leaves an Aurora name room for a digest marker, the date and an
 * alternative's suffix (`x<16 hex>-yyyymmdd-20`): the configuration refuses longer app and stage names.
 */
export const MAX_NAME_PREFIX = 63 - "x0123456789abcdef-20261121-20".length;

/**
 * Alternatives tried when a name is held by a snapshot that is not ours: `<name>-2` … `<name>-20`.
 * More squatted names than that on one resource and day is not an accident; the backup reports it instead.
 */
export const MAX_NAME_ATTEMPTS = 20;

/** Room kept at the end of every name for the `-<n>` suffix of an alternative. */
const SUFFIX_ROOM = `-${MAX_NAME_ATTEMPTS}`.length;

/** What RDS accepts and keeps as written: lowercase letters and digits in hyphen-separated runs, first a letter. */
export const OWNER_PART = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const CLEAN_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** The first run of a sanitised name: `x` and a 16-hex digest. A clean id starting so is sanitised too, so the two never meet. */
const DIGEST_RUN = /^x[0-9a-f]{16}(-|$)/;

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

function checkOwner(owner: Owner): void {
  for (const [field, value] of [
    ["app", owner.app],
    ["stage", owner.stage],
  ] as const) {
    if (!OWNER_PART.test(value)) {
      throw new RangeError(`${field} "${value}" cannot be part of a snapshot name: use lowercase letters, digits and single hyphens, starting with a letter`);
    }
  }
}

/**
 * The start of every name of ours, `oa-<app>-<stage>-`: what IAM can limit deletes to.
 * `namePrefix({ app: "ops-autopilot", stage: "prod" })` → "oa-ops-autopilot-prod-".
 */
export function namePrefix(owner: Owner): string {
  checkOwner(owner);
  return `oa-${owner.app}-${owner.stage}-`;
}

/**
 * The deterministic snapshot name of `resourceId` for `day` (the backup schedule's local day), valid as an RDS
 * snapshot identifier (1–255 letters, digits and hyphens, first a letter, no "--", no trailing hyphen; lowercase,
 * as RDS stores it; https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html).
 * `attempt` > 1 gives the alternatives used when the name is held by a snapshot that is not ours.
 * Ids that are already clean keep their spelling:
 * `snapshotName({ app: "ops-autopilot", stage: "prod" }, "app-db", "2026-11-21")` → "oa-ops-autopilot-prod-app-db-20261121",
 * attempt 2 → "oa-ops-autopilot-prod-app-db-20261121-2". Any other id is sanitised and, so two ids that sanitise
 * alike still get different names, starts with a digest of the original: "App_DB" → "oa-ops-autopilot-prod-x<16 hex>-app-db-20261121".
 */
export function snapshotName(owner: Owner, resourceId: string, day: string, attempt = 1, maxLength = MAX_SNAPSHOT_NAME): string {
  if (!isDay(day)) throw new RangeError(`snapshotName: not a calendar day (yyyy-mm-dd): "${day}"`);
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > MAX_NAME_ATTEMPTS) {
    throw new RangeError(`snapshotName: attempt must be 1 to ${MAX_NAME_ATTEMPTS}, not ${attempt}`);
  }
  const prefix = namePrefix(owner);
  const ymd = day.replaceAll("-", "");
  const suffix = attempt > 1 ? `-${attempt}` : "";
  const max = maxLength - SUFFIX_ROOM;
  const plain = `${prefix}${resourceId}-${ymd}`;
  if (CLEAN_ID.test(resourceId) && !DIGEST_RUN.test(resourceId) && plain.length <= max) return plain + suffix;
  const marker = `x${digest(resourceId)}`;
  const room = max - prefix.length - marker.length - ymd.length - 2;
  const body = resourceId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, Math.max(0, room))
    .replace(/^-+|-+$/g, "");
  return `${prefix}${marker}-${body ? `${body}-` : ""}${ymd}${suffix}`;
}

/**
 * The names to try, in order, for a copy or backup whose first choice is `name`: the name itself, then the next
 * alternatives (`-2`, `-3`, … up to {@link MAX_NAME_ATTEMPTS}; a name that is already an alternative continues
 * from its own number). `nameAlternatives("oa-a-p-db-20261121-2")` → ["oa-a-p-db-20261121-2", "…-3", …, "…-20"].
 */
export function nameAlternatives(name: string): string[] {
  const m = /^(.*-\d{8})(?:-(\d{1,2}))?$/.exec(name);
  if (!m) return [name];
  const base = m[1]!;
  const from = m[2] ? Number(m[2]) : 1;
  const out = [name];
  for (let k = from + 1; k <= MAX_NAME_ATTEMPTS; k++) out.push(`${base}-${k}`);
  return out;
}

/**
 * The start of every restore-test throwaway's name, `oa-<app>-<stage>-rt-`: what IAM limits the restore-test role's
 * creates and deletes to, and what the janitor requires. Snapshot names of ours never start so unless a resource id
 * starts with `rt-`; the janitor lists instances, clusters and volumes, never snapshots.
 * `restoreTestPrefix({ app: "ops-autopilot", stage: "prod" })` → "oa-ops-autopilot-prod-rt-".
 */
export function restoreTestPrefix(owner: Owner): string {
  return `${namePrefix(owner)}rt-`;
}

/**
 * Longest restore-test throwaway name: a DBInstanceIdentifier or DBClusterIdentifier "must contain from 1 to 63
 * numbers, letters, or hyphens" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html),
 * less the `-1` of an Aurora throwaway's instance.
 */
export const MAX_RESTORE_TEST_NAME = 63 - "-1".length;

/**
 * The deterministic name of the throwaway `runId` restores `resourceId` into: a retried step asks for the same name,
 * so "already exists" can be confirmed as ours instead of making a second one. A valid RDS identifier (letters,
 * digits and hyphens, first a letter, no "--", no trailing hyphen, lowercase) within {@link MAX_RESTORE_TEST_NAME}
 * and the kind's {@link MAX_NAME_LENGTH}; the resource id is kept readable when there is room, the digest of kind,
 * resource and run keeps two throwaways apart.
 * `restoreTestName({ app: "ops-autopilot", stage: "prod" }, "rds-instance", "orders-db", "run-1")` → "oa-ops-autopilot-prod-rt-orders-db-<10 hex>".
 */
export function restoreTestName(owner: Owner, kind: ResourceKind, resourceId: string, runId: string): string {
  const prefix = restoreTestPrefix(owner);
  const mark = digest(`${kind}\u0000${resourceId}\u0000${runId}`).slice(0, 10);
  const max = Math.min(MAX_RESTORE_TEST_NAME, MAX_NAME_LENGTH[kind]);
  const room = max - prefix.length - mark.length - 1;
  const body = resourceId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, Math.max(0, room))
    .replace(/-+$/, "");
  return `${prefix}${body ? `${body}-` : ""}${mark}`;
}

/** The compiled checks of one owner: prune plans over 100k snapshots ask for every one of them. */
interface Checker {
  prefix: string;
  managedBy: string;
  matches(name: string): boolean;
}

const checkers = new Map<string, Checker>();

function checkerFor(owner: Owner): Checker {
  const key = `${owner.app}\u0000${owner.stage}`;
  let c = checkers.get(key);
  if (c) return c;
  const prefix = namePrefix(owner);
  // Sticky, started right after the prefix: no copy of the name per check.
  const rest = /[a-z0-9]+(?:-[a-z0-9]+)*?-(\d{4})(\d{2})(\d{2})(?:-([1-9]\d?))?$/y;
  c = {
    prefix,
    managedBy: managedByValue(owner),
    matches(name) {
      if (!name.startsWith(prefix) || name.length > MAX_SNAPSHOT_NAME) return false;
      rest.lastIndex = prefix.length;
      const m = rest.exec(name);
      if (!m) return false;
      if (m[4] !== undefined && (Number(m[4]) < 2 || Number(m[4]) > MAX_NAME_ATTEMPTS)) return false;
      return isDay(`${m[1]}-${m[2]}-${m[3]}`);
    },
  };
  if (checkers.size > 100) checkers.clear();
  checkers.set(key, c);
  return c;
}

/**
 * True when `name` is of our naming scheme for `owner`: `oa-<app>-<stage>-<resource>-<yyyymmdd>` with a real
 * calendar day, optionally `-2` … `-20`, lowercase, at most 255 characters.
 */
export function matchesNameScheme(owner: Owner, name: string): boolean {
  return checkerFor(owner).matches(name);
}

/** What a snapshot calls itself: the RDS identifier, or the EBS description (AWS assigns EBS ids). */
export function identityOf(s: Snapshot): string | undefined {
  return RESOURCE_TYPES[s.kind].ownership.identity === "description" ? s.description : s.id;
}

/** The identity compared as the service compares it: RDS identifiers are case-insensitive. */
export function identityKey(s: Snapshot): string | undefined {
  const id = identityOf(s);
  return id === undefined || !RESOURCE_TYPES[s.kind].ownership.caseInsensitive ? id : id.toLowerCase();
}

/** A name compared as `kind`'s identities are. */
export function nameKey(kind: Snapshot["kind"], name: string): string {
  return RESOURCE_TYPES[kind].ownership.caseInsensitive ? name.toLowerCase() : name;
}

export type Ownership = { ours: true } | { ours: false; reason: string };

const OURS: Ownership = Object.freeze({ ours: true });
const not = (why: string): Ownership => ({ ours: false, reason: `not ours: ${why}` });

/**
 * Whether ONE snapshot, on its own, is ours, and if not, why (see the module comment). Duplicate claims are only
 * seen over a whole region: use {@link partitionByOwner} for lists.
 * Example: a copy made with CopyTags → `{ ours: false, reason: "not ours: id my-copy differs from name tag oa-ops-autopilot-prod-app-db-20261121" }`.
 */
export function ownership(s: Snapshot, owner: Owner): Ownership {
  if (s.automated) return not("an automated snapshot (made by AWS)");
  const checker = checkerFor(owner);
  const want = checker.managedBy;
  const mb = s.tags[TAG.managedBy];
  if (mb === undefined) return not(`no ${TAG.managedBy} tag`);
  if (mb !== want) return not(`${TAG.managedBy} is ${mb}, not ${want}`);
  const name = s.tags[TAG.name];
  if (!name) return not(`no ${TAG.name} tag`);
  const proof = RESOURCE_TYPES[s.kind].ownership;
  if (proof.identity === "description") {
    if (!s.description) return not(`no description; ours carry their name tag ${name} there`);
    if (s.description !== name) return not(`description ${s.description} differs from name tag ${name}`);
  } else if (s.id !== name && !(proof.caseInsensitive && s.id.toLowerCase() === name.toLowerCase())) {
    return not(`id ${s.id} differs from name tag ${name}`);
  }
  if (!checker.matches(name)) return not(`name ${name} is not of the form ${checker.prefix}<resource>-<yyyymmdd>`);
  const sourceRegion = s.tags[TAG.sourceRegion];
  if (s.tags[TAG.copyOf] !== undefined) {
    if (sourceRegion === s.region) return not(`a copy (${TAG.copyOf}) inside its source region ${s.region}`);
  } else if (sourceRegion !== s.region) {
    return not(`a backup of ${sourceRegion ?? "no region"} found in ${s.region} without ${TAG.copyOf}`);
  }
  return OURS;
}

/** True when {@link ownership} says the snapshot, on its own, is ours. */
export function isOurs(s: Snapshot, owner: Owner): boolean {
  return ownership(s, owner).ours;
}

export interface Partition {
  ours: Snapshot[];
  /** Everything else, each with why it is not ours. */
  notOurs: { snapshot: Snapshot; reason: string }[];
  /** Lookup of the verdict per snapshot (same objects as given). */
  verdict: Map<Snapshot, Ownership>;
}

/**
 * Split snapshots (of any regions) into ours and not ours with {@link ownership}, then un-own every snapshot whose
 * name another snapshot of the same kind and region also claims: which one we made cannot be told, so neither is
 * pruned, copied or counted until a person resolves it.
 */
export function partitionByOwner(snapshots: readonly Snapshot[], owner: Owner): Partition {
  const verdicts = classifyByOwner(snapshots, owner);
  const verdict = new Map<Snapshot, Ownership>();
  const ours: Snapshot[] = [];
  const notOurs: Partition["notOurs"] = [];
  snapshots.forEach((s, i) => {
    const v = verdicts[i]!;
    if (verdict.has(s)) return;
    verdict.set(s, v);
    if (v.ours) ours.push(s);
    else notOurs.push({ snapshot: s, reason: v.reason });
  });
  return { ours, notOurs, verdict };
}

/**
 * The verdicts of {@link partitionByOwner}, as an array aligned with `snapshots` (no map: prune plans over 100k
 * snapshots ask for it).
 */
export function classifyByOwner(snapshots: readonly Snapshot[], owner: Owner): Ownership[] {
  const verdicts = snapshots.map((s) => ownership(s, owner));
  // Only names the service does not keep unique (EBS descriptions) can be claimed twice: an RDS snapshot of ours
  // has its name as identifier, unique per region.
  const claims = new Map<string, number[]>();
  snapshots.forEach((s, i) => {
    if (RESOURCE_TYPES[s.kind].ownership.uniqueName || !verdicts[i]!.ours) return;
    const key = `${s.region}\u0000${s.tags[TAG.name]}`;
    const list = claims.get(key);
    if (list) list.push(i);
    else claims.set(key, [i]);
  });
  for (const list of claims.values()) {
    if (list.length < 2) continue;
    // The same snapshot listed twice is one snapshot.
    const ids = [...new Set(list.map((i) => snapshots[i]!.id))].sort();
    if (ids.length < 2) continue;
    for (const i of list) {
      const s = snapshots[i]!;
      verdicts[i] = not(
        `${ids.length} snapshots in ${s.region} claim the name ${s.tags[TAG.name]} (${ids.join(", ")}); none is treated as ours until the others are removed`,
      );
    }
  }
  return verdicts;
}

/**
 * A snapshot that is not ours but looks like it (carries our managed-by value, or a name or id with our prefix):
 * worth naming in a report, unlike the thousands of snapshots that have nothing to do with us.
 */
export function looksLikeOurs(s: Snapshot, owner: Owner): boolean {
  const { prefix, managedBy } = checkerFor(owner);
  return s.tags[TAG.managedBy] === managedBy || s.id.toLowerCase().startsWith(prefix) || (s.tags[TAG.name] ?? "").startsWith(prefix);
}
