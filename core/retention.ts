/**
 * Grandfather-father-son retention: which of our snapshots to keep and which to delete, per resource
 * and region, each with a reason an operator can read.
 *
 * Every safety rule of the design is enforced here, not in the handler: ownership (core/ownership.ts: our
 * managed-by value, identity equal to our name tag, our naming scheme; never a tag alone), floors (newest N, newest available), never deleting a snapshot that is
 * not `available`, freezing a resource whose backups are stale or whose DR copy is missing, and keeping
 * a primary snapshot until its DR copy is usable. Caps are applied afterwards by core/guardrails.ts.
 */
import { daysBetween, isDay, localDay, weekdayName } from "./calendar.ts";
import { tiersFor } from "./backup-plan.ts";
import { newestAvailable } from "./freshness.ts";
import { classifyByOwner, looksLikeOurs } from "./ownership.ts";
import type { BackupPolicy, Keep } from "../schemas/config.ts";
import { TAG } from "./types.ts";
import type { Decision, Owner, ResourceKind, Snapshot, TierName } from "./types.ts";

export type PruneDecision = Decision<"keep" | "delete", Snapshot>;

/** The retention plan of one resource in one region. */
export interface PrunePlan {
  resourceId: string;
  kind: ResourceKind;
  region: string;
  /** The policy the snapshots were judged by (that of the newest of our snapshots). */
  policy?: string;
  /** Why nothing of this resource may be deleted in this region right now, when so. */
  frozen?: string;
  /** Ours, kept; newest first. */
  keep: PruneDecision[];
  /** Ours, to delete; oldest first. */
  delete: PruneDecision[];
  /** Snapshots of this resource in this region that are not ours (other stages, people, automated): ignored. */
  foreign: number;
  /**
   * Of those, the ones that look like ours (our managed-by value, or our name prefix) and why they are not:
   * copies that inherited our tags, snapshots of restored instances, name squatters. Never deleted.
   */
  lookAlikes?: { id: string; reason: string }[];
}

export interface PruneInput {
  /** Everything seen in ONE region, including snapshots that are not ours. */
  snapshots: Snapshot[];
  region: string;
  primaryRegion: string;
  policies: BackupPolicy[];
  owner: Owner;
  now: Date;
  /** For the primary region: the snapshots seen in the DR regions. */
  drCopies?: Snapshot[];
  /** For the primary region: the DR regions copies are expected in. Without it no DR check is made. */
  drRegions?: string[];
  /** The backup schedule's IANA timezone, whose calendar days backup dates are; default "UTC". */
  timeZone?: string;
}

/** The backup day our tag says a snapshot stands for, when it is a real calendar day. */
export function backupDay(s: Snapshot): string | undefined {
  const d = s.tags[TAG.backupDate];
  return isDay(d) ? d : undefined;
}

/**
 * Newest first: by backup day, then creation time, then id (so the order is total and deterministic).
 * Snapshots without a backup day sort last.
 */
export function newestFirst(a: Snapshot, b: Snapshot): number {
  const da = backupDay(a) ?? "";
  const db = backupDay(b) ?? "";
  if (da !== db) return da < db ? 1 : -1;
  const ta = a.createdAt.getTime();
  const tb = b.createdAt.getTime();
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function tierLabel(tier: TierName, policy: BackupPolicy): string {
  if (tier === "weekly" && policy.tiers.weekly) return `weekly (${weekdayName(policy.tiers.weekly.weekday)})`;
  if (tier === "monthly" && policy.tiers.monthly) return `monthly (day ${policy.tiers.monthly.dayOfMonth})`;
  return tier;
}

function keepOf(tier: TierName, policy: BackupPolicy): Keep | undefined {
  return policy.tiers[tier]?.keep;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

/** How the policy (without floors) judges one snapshot. */
export interface PolicyVerdict {
  /** Reasons the policy keeps it; empty when it has expired. */
  keep: string[];
  /** Why it expired, when `keep` is empty. */
  expired: string;
}

/**
 * Judge snapshots of ONE resource (all with a backup day) under `policy` as of `today` (the backup schedule's local day).
 * A snapshot's tiers are recomputed from its backup day with the current policy; the tiers tag is ignored.
 * Keep by days: while `daysBetween(day, today) < days`. Keep by count: among the newest `count` snapshots of
 * the tier. Example: a Wednesday backup 9 days old with daily keep 7 days →
 * `{ keep: [], expired: "expired: daily 9 days old ≥ 7 days; not a weekly (Sunday) or monthly (day 1) backup" }`.
 */
export function judgeByPolicy(
  snapshots: readonly Snapshot[],
  policy: BackupPolicy,
  today: string,
  /** Verdicts shared between resources judged by the same policy on the same day (100k snapshots, few distinct days). */
  cache: Map<string, PolicyVerdict> = new Map(),
): Map<Snapshot, PolicyVerdict> {
  const sorted = [...snapshots].sort(newestFirst);
  const counters: Record<TierName, number> = { daily: 0, weekly: 0, monthly: 0 };
  const out = new Map<Snapshot, PolicyVerdict>();
  for (const s of sorted) {
    const day = backupDay(s) ?? today;
    const tiers = tiersFor(day, policy);
    // Rank of the snapshot among the snapshots of each tier, newest = 1; only count rules read it.
    let key = `${policy.name}\u0000${day}`;
    const rank: Partial<Record<TierName, number>> = {};
    for (const t of tiers) {
      rank[t] = ++counters[t];
      const k = keepOf(t, policy);
      if (k && "count" in k) key += `\u0000${t}${rank[t]}`;
    }
    let v = cache.get(key);
    if (!v) {
      v = verdict(day, tiers, rank, policy, today);
      cache.set(key, v);
    }
    out.set(s, v);
  }
  return out;
}

function verdict(day: string, tiers: TierName[], rank: Partial<Record<TierName, number>>, policy: BackupPolicy, today: string): PolicyVerdict {
  const age = daysBetween(day, today);
  const keep: string[] = [];
  const expiredBy: string[] = [];
  for (const t of tiers) {
    const k = keepOf(t, policy);
    if (!k) continue;
    const label = tierLabel(t, policy);
    if ("days" in k) {
      if (age < k.days) keep.push(`${label}: ${plural(age, "day")} old, keep ${plural(k.days, "day")}`);
      else expiredBy.push(`${label} ${plural(age, "day")} old ≥ ${plural(k.days, "day")}`);
    } else {
      const n = rank[t] ?? Number.POSITIVE_INFINITY;
      if (n <= k.count) keep.push(`${label}: #${n} of the newest ${k.count}`);
      else expiredBy.push(`${label} #${n}, beyond the newest ${k.count}`);
    }
  }
  const missing: string[] = [];
  if (policy.tiers.weekly && !tiers.includes("weekly")) missing.push(tierLabel("weekly", policy));
  if (policy.tiers.monthly && !tiers.includes("monthly")) missing.push(tierLabel("monthly", policy));
  const parts = [...expiredBy];
  if (missing.length) parts.push(`not a ${missing.join(" or ")} backup`);
  return { keep, expired: `expired: ${parts.join("; ") || "no tier keeps it"}` };
}

/**
 * The snapshots (of ONE resource, all with a backup day) retention would keep by policy or by the newest-N floor,
 * ignoring states, freezes and DR checks. The copy planner uses it so it never copies to DR what DR would prune.
 */
export function retainedByPolicy(snapshots: readonly Snapshot[], policy: BackupPolicy, today: string): Set<Snapshot> {
  const verdicts = judgeByPolicy(snapshots, policy, today);
  const kept = new Set<Snapshot>();
  [...snapshots].sort(newestFirst).forEach((s, i) => {
    if (i < policy.keepNewest || (verdicts.get(s)?.keep.length ?? 0) > 0) kept.add(s);
  });
  return kept;
}

interface Group {
  kind: ResourceKind;
  resourceId: string;
  ours: Snapshot[];
  foreign: number;
  lookAlikes: { id: string; reason: string }[];
}

const HOUR_MS = 3_600_000;

function hours(ms: number): string {
  return `${(ms / HOUR_MS).toFixed(1)} h`;
}

/**
 * Plan retention for every resource seen in one region: one {@link PrunePlan} per (resource, region), with a
 * reason for every snapshot of ours and a count of the others (with the reason for those that look like ours).
 * Only snapshots that are ours (core/ownership.ts), not used by an AMI, with a parseable backup date and a known
 * policy are candidates; the rest is kept (ours) or only counted (not ours). Ages are counted in days of the
 * backup schedule's timezone (`timeZone`). Deleting what the plan says and planning again yields
 * no further deletes. Example, runbook policy, now 2026-11-21T03:00Z (UTC): a daily backup of 2026-11-12 (a
 * Thursday) → delete, "expired: daily 9 days old ≥ 7 days; not a weekly (Sunday) or monthly (day 1) backup";
 * the backup of 2026-11-01 (a Sunday and the 1st) → keep, "weekly (Sunday): 20 days old, keep 30 days; …".
 */
export function planPrune(input: PruneInput): PrunePlan[] {
  const { region, owner, now } = input;
  const today = localDay(now, input.timeZone);
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const groups = new Map<string, Group>();
  const here = input.snapshots.filter((s) => s.region === region);
  const owned = classifyByOwner(here, owner);
  here.forEach((s, i) => {
    const v = owned[i]!;
    const key = `${s.kind}\u0000${s.resourceId}`;
    let g = groups.get(key);
    if (!g) {
      g = { kind: s.kind, resourceId: s.resourceId, ours: [], foreign: 0, lookAlikes: [] };
      groups.set(key, g);
    }
    if (v.ours) g.ours.push(s);
    else {
      g.foreign++;
      if (looksLikeOurs(s, owner)) g.lookAlikes.push({ id: s.id, reason: v.reason });
    }
  });

  // DR copies of ours, indexed by resource once: a region can hold 100k snapshots.
  const drByResource = new Map<string, Snapshot[]>();
  const drAll = input.drCopies ?? [];
  const drVerdicts = classifyByOwner(drAll, owner);
  for (const [i, c] of drAll.entries()) {
    if (!drVerdicts[i]!.ours) continue;
    const key = `${c.kind}\u0000${c.resourceId}`;
    const list = drByResource.get(key);
    if (list) list.push(c);
    else drByResource.set(key, [c]);
  }

  const plans: PrunePlan[] = [];
  const verdicts = new Map<string, PolicyVerdict>();
  for (const [key, g] of groups) plans.push(planGroup(g, input, policies, today, drByResource.get(key) ?? [], verdicts));
  plans.sort((a, b) => (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return plans;
}

function planGroup(
  g: Group,
  input: PruneInput,
  policies: Map<string, BackupPolicy>,
  today: string,
  drOurs: Snapshot[],
  verdictCache: Map<string, PolicyVerdict>,
): PrunePlan {
  const { region, now } = input;
  const keep: PruneDecision[] = [];
  const del: PruneDecision[] = [];
  const candidates: Snapshot[] = [];
  const unknownPolicies = new Set<string>();

  for (const s of g.ours) {
    if (s.usedByImage) keep.push({ action: "keep", target: s, reason: "used by an AMI: never pruned" });
    else if (s.status === "error") {
      // A failed snapshot or copy of ours holds no data, counts against the quota and blocks the copy's retry
      // (same name): it goes even while the resource is frozen, because the freeze protects data, not failures.
      del.push({
        action: "delete",
        target: s,
        reason: `failed snapshot${s.statusMessage ? ` (${s.statusMessage})` : ""}: holds no data; removed so it can be made again`,
      });
    } else if (!backupDay(s)) keep.push({ action: "keep", target: s, reason: `no parseable ${TAG.backupDate} tag: never pruned` });
    else {
      const p = s.tags[TAG.policy];
      if (p === undefined || !policies.has(p)) unknownPolicies.add(p ?? "(none)");
      candidates.push(s);
    }
  }
  candidates.sort(newestFirst);
  const plan: PrunePlan = { resourceId: g.resourceId, kind: g.kind, region, keep, delete: del, foreign: g.foreign, lookAlikes: g.lookAlikes };

  if (unknownPolicies.size > 0) {
    const names = [...unknownPolicies]
      .sort()
      .map((n) => `"${n}"`)
      .join(", ");
    plan.frozen = `unknown policy ${names}: every backup of this resource is kept, retention is never guessed`;
    for (const s of candidates) keep.push({ action: "keep", target: s, reason: plan.frozen });
    finish(plan);
    return plan;
  }
  if (candidates.length === 0) {
    finish(plan);
    return plan;
  }

  // The newest backup says which policy the resource is under now.
  const newest = candidates[0]!;
  const policy = policies.get(newest.tags[TAG.policy]!)!;
  plan.policy = policy.name;
  const verdicts = judgeByPolicy(candidates, policy, today, verdictCache);
  const newestAvail = candidates.find((s) => s.status === "available");
  const limitMs = policy.freshnessHours * HOUR_MS;

  // Freeze conditions.
  const freezes: string[] = [];
  // Freshness counts every restorable backup of ours, AMI-pinned ones included: they are backups too.
  const freshest = newestAvailable(g.ours);
  const latestCandidate = newestAvailable(candidates);
  if (!freshest) freezes.push("no available backup");
  else if (now.getTime() - freshest.createdAt.getTime() > limitMs) {
    freezes.push(`newest available backup ${freshest.id} is ${hours(now.getTime() - freshest.createdAt.getTime())} old (limit ${policy.freshnessHours} h)`);
  }
  const drChecks = region === input.primaryRegion && policy.copyToDr ? (input.drRegions ?? []) : [];
  for (const r of drChecks) {
    const fresh = drOurs.some((c) => c.region === r && c.status === "available" && now.getTime() - c.createdAt.getTime() <= limitMs);
    if (!fresh) freezes.push(`no available DR copy in ${r} newer than ${policy.freshnessHours} h`);
  }
  if (freezes.length) plan.frozen = freezes.join("; ");
  const drIndex = indexDr(drChecks, drOurs);

  candidates.forEach((s, i) => {
    const v = verdicts.get(s)!;
    const day = backupDay(s)!;
    let reason: string | undefined;
    if (s.status !== "available") reason = `status ${s.status}: only available snapshots are ever deleted`;
    else if (v.keep.length) reason = v.keep.join("; ");
    else if (i < policy.keepNewest) reason = `floor: among newest ${policy.keepNewest}`;
    // Both readings of "newest available": by backup day (floors) and by creation time (what freshness measures).
    else if (s === newestAvail || s === latestCandidate) reason = "newest available";
    else reason = drHold(s, day, drIndex) ?? (plan.frozen ? `frozen (${plan.frozen}); otherwise ${v.expired}` : undefined);
    if (reason) keep.push({ action: "keep", target: s, reason });
    else del.push({ action: "delete", target: s, reason: v.expired });
  });
  finish(plan);
  return plan;
}

interface DrRegionIndex {
  region: string;
  /** Copies by TAG.copyOf (the primary snapshot id). */
  byCopyOf: Map<string, Snapshot[]>;
  /** The newest backup day with an available copy in the region. */
  newestAvailableDay: string;
}

function indexDr(regions: readonly string[], drOurs: readonly Snapshot[]): DrRegionIndex[] {
  return regions.map((region) => {
    const byCopyOf = new Map<string, Snapshot[]>();
    let newestAvailableDay = "";
    for (const c of drOurs) {
      if (c.region !== region) continue;
      const of = c.tags[TAG.copyOf];
      if (of !== undefined) {
        const list = byCopyOf.get(of);
        if (list) list.push(c);
        else byCopyOf.set(of, [c]);
      }
      const d = backupDay(c);
      if (c.status === "available" && d && d > newestAvailableDay) newestAvailableDay = d;
    }
    return { region, byCopyOf, newestAvailableDay };
  });
}

/**
 * Why a primary snapshot must wait for its DR copies, if it must: a copy still in flight needs its source
 * (RDS and EBS copies fail when the source disappears), and a snapshot not copied yet would never reach DR.
 * A DR region that already holds an available copy of a newer backup has moved past this one (copies run
 * oldest first; the older copy was pruned there or never needed), so it no longer holds the source back.
 */
function drHold(s: Snapshot, day: string, index: readonly DrRegionIndex[]): string | undefined {
  for (const r of index) {
    const copies = r.byCopyOf.get(s.id) ?? [];
    if (copies.some((c) => c.status === "available")) continue;
    if (copies.length) return `DR copy in ${r.region} is ${copies[0]!.status}: source kept until it is available`;
    if (r.newestAvailableDay <= day) return `not yet copied to ${r.region}: kept until its DR copy is available`;
  }
  return undefined;
}

function finish(plan: PrunePlan): void {
  plan.keep.sort((a, b) => newestFirst(a.target, b.target));
  plan.delete.sort((a, b) => newestFirst(b.target, a.target));
}
