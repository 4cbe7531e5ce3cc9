/**
 * Which resources get a snapshot now, under which deterministic name and with which tags.
 *
 * Idempotency rests on the name: EventBridge delivers at least once and a timed-out Lambda is retried,
 * so a rerun for the same day (the backup schedule's local day) must find its own snapshot ("exists") instead of
 * creating a second one. Only a snapshot that is ours (core/ownership.ts) counts: one that merely has the name
 * or our tags never suppresses the night's backup, which then takes the next deterministic alternative name.
 */
import { dayOfMonth, localDay, weekday } from "./calendar.ts";
import type { BackupPolicy } from "../schemas/config.ts";
import { MAX_NAME_ATTEMPTS, MAX_NAME_LENGTH, identityKey, nameKey, partitionByOwner, snapshotName } from "./ownership.ts";
import { byKind } from "./resource-types.ts";
import { TAG, managedByValue } from "./types.ts";
import type { Decision, Owner, Resource, ResourceKind, Snapshot, TierName } from "./types.ts";

export { MAX_SNAPSHOT_NAME, snapshotName } from "./ownership.ts";

/** "name-taken": every alternative name of the night is held by a snapshot that is not ours (reported, never guessed). */
export type BackupAction = "create" | "exists" | "skip-state" | "name-taken";

export interface BackupTarget {
  resource: Resource;
  name: string;
  day: string;
  tiers: TierName[];
  tags: Record<string, string>;
}

export type BackupDecision = Decision<BackupAction, BackupTarget>;

/** Statuses in which each kind of resource accepts a snapshot request. */
export const SNAPSHOTTABLE_STATUS: Record<ResourceKind, readonly string[]> = byKind((t) => t.states.snapshottable);

/**
 * The tiers a backup taken on `day` (the backup schedule's local day) belongs to under `policy`: daily always (when configured),
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

/**
 * Decide, for each resource, whether to create the night's snapshot. `now` in `timeZone` (the backup schedule's
 * IANA zone, default UTC) fixes the day, so a 00:30 Sunday backup in Pacific/Auckland is Sunday's although it is
 * still Saturday in UTC, and DST never moves a night. `existing` are the snapshots already in the resources'
 * region (any owner). Returns one decision per distinct resource, in input order: "create" with the name and
 * tags to write, "exists" when the night's snapshot of ours is already there (success, nothing to do),
 * "skip-state" when the resource is in a state that refuses snapshots (reported, with the status), or
 * "name-taken" when every alternative name is held by snapshots that are not ours. A name held by a snapshot
 * that is not ours (RDS identifiers are unique per region; an EBS description claiming it would make ownership
 * ambiguous) moves the backup to the next alternative, `-2`, `-3`, …, and the reason says why.
 * Example: an available RDS instance "app-db" on 2026-11-21, owner ops-autopilot/prod, no snapshot yet →
 * `{ action: "create", target: { name: "oa-ops-autopilot-prod-app-db-20261121", tiers: ["daily"], ... }, reason: "..." }`.
 */
export function planBackups(input: {
  resources: Resource[];
  policy: BackupPolicy;
  owner: Owner;
  now: Date;
  existing: Snapshot[];
  /** The backup schedule's IANA timezone; default "UTC". */
  timeZone?: string;
}): BackupDecision[] {
  const { policy, owner } = input;
  const day = localDay(input.now, input.timeZone);
  const { verdict } = partitionByOwner(input.existing, owner);
  // Who holds each identity (RDS identifier, EBS description), per region and kind.
  const holders = new Map<string, Snapshot[]>();
  for (const s of input.existing) {
    const id = identityKey(s);
    if (id === undefined || id === "") continue;
    const key = `${s.region}\u0000${s.kind}\u0000${id}`;
    const list = holders.get(key);
    if (list) list.push(s);
    else holders.set(key, [s]);
  }
  const seen = new Set<string>();
  const out: BackupDecision[] = [];
  for (const resource of input.resources) {
    // The same resource selected twice (by tag and by id) is still one backup.
    const key = `${resource.kind}\u0000${resource.region}\u0000${resource.id}`;
    if (seen.has(key)) continue;
    seen.add(key);

    const tiers = tiersFor(day, policy);
    const names = Array.from({ length: MAX_NAME_ATTEMPTS }, (_, i) => snapshotName(owner, resource.id, day, i + 1, MAX_NAME_LENGTH[resource.kind]));
    const heldBy = (name: string) => holders.get(`${resource.region}\u0000${resource.kind}\u0000${nameKey(resource.kind, name)}`) ?? [];
    const make = (name: string): BackupTarget => ({ resource, name, day, tiers, tags: backupTags(resource, policy, owner, day, name) });

    // Ours under any of the night's names: a rerun, whichever alternative the first run had to take.
    const mine = names.flatMap((n) => heldBy(n).filter((s) => verdict.get(s)?.ours));
    if (mine[0]) {
      const found = mine[0];
      const name = found.tags[TAG.name]!;
      const where = found.id === name ? name : `${found.id} (${TAG.name}=${name})`;
      out.push({ action: "exists", target: make(name), reason: `already exists for ${day}: ${where}, status ${found.status}` });
      continue;
    }
    const taken: string[] = [];
    let chosen: string | undefined;
    for (const name of names) {
      const other = heldBy(name)[0];
      if (!other) {
        chosen = name;
        break;
      }
      const why = verdict.get(other);
      taken.push(`${name} is taken by a snapshot that is not ours (${why && !why.ours ? why.reason : "not ours"})`);
    }
    if (chosen === undefined) {
      out.push({
        action: "name-taken",
        target: make(names[0]!),
        reason: `all ${MAX_NAME_ATTEMPTS} names for ${day} are held by snapshots that are not ours (first: ${taken[0]}); no backup made`,
      });
      continue;
    }
    const target = make(chosen);
    const ok = SNAPSHOTTABLE_STATUS[resource.kind];
    if (!ok.includes(resource.status)) {
      out.push({
        action: "skip-state",
        target,
        reason: `${resource.kind} ${resource.id} is "${resource.status}"; a snapshot needs ${ok.map((s) => `"${s}"`).join(" or ")}`,
      });
      continue;
    }
    const note = taken.length ? `; ${taken.join("; ")}` : "";
    out.push({ action: "create", target, reason: `no backup for ${day} yet; tiers ${tiers.join("+") || "none"}${note}` });
  }
  return out;
}
