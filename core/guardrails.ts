/**
 * Circuit breakers for destructive runs. Retention decides what is expired; these caps bound how much may be
 * deleted per day, so a bug, a bad clock, a wrong config or a storm of retries deletes a little and alerts instead
 * of emptying a region.
 * Floors and freezes are enforced in core/retention.ts, where the per-snapshot facts are.
 */
import { newestFirst } from "./retention.ts";
import type { PruneDecision, PrunePlan } from "./retention.ts";

/** Thrown when a run hits a guardrail that must stop it and alert (e.g. deletes deferred by a cap). */
export class GuardrailError extends Error {
  override name = "GuardrailError";
  readonly details: unknown;
  constructor(message: string, details?: unknown) {
    super(message);
    this.details = details;
  }
}

export interface DeleteCaps {
  /** At most this many deletes per policy per day (the prune schedule's day), across every invocation of that day. */
  maxDeletesPerRun: number;
  /** At most this share (%) of our snapshots of one resource in one region, per day. */
  maxDeletePercent: number;
}

export interface CappedEntry {
  resourceId: string;
  region: string;
  deferred: number;
  reason: string;
}

/**
 * The deletes of one resource in one region reserved earlier the same day: snapshot id → the run (Lambda request
 * id) that reserved it. Ids, not counts: a retry that deletes what it reserved before crashing is not counted
 * twice. The run, because only that run (or Lambda's retry of it, which keeps the request id) sends the delete:
 * a concurrent run that re-sent it would race a delete already in flight.
 */
export type Reservations = Readonly<Record<string, string>>;

/** {@link Reservations} per resource and region (key: {@link capKey}). */
export type DeletesToday = Record<string, Reservations>;

/**
 * The day's delete reservations of every policy, kept in the reports bucket (`state/prune/<day>.json`).
 * `day` is the prune schedule's calendar day in `timeZone`, so the budget resets when the schedule's day does.
 */
export interface PruneLedger {
  day: string;
  timeZone: string;
  policies: Record<string, DeletesToday>;
}

/** The ledger key of a plan's resource and region: `capKey({ region: "eu-west-1", kind: "rds-instance", resourceId: "app-db" })` → "eu-west-1/rds-instance/app-db". */
export function capKey(p: { region: string; kind: string; resourceId: string }): string {
  return `${p.region}/${p.kind}/${p.resourceId}`;
}

/** Oldest first, across resources and regions; ties broken by region, resource and id so the cut is deterministic. */
function oldestFirst(a: { plan: PrunePlan; d: PruneDecision }, b: { plan: PrunePlan; d: PruneDecision }): number {
  const c = newestFirst(b.d.target, a.d.target);
  if (c !== 0) return c;
  const ka = `${a.plan.region}\u0000${a.plan.resourceId}\u0000${a.plan.kind}`;
  const kb = `${b.plan.region}\u0000${b.plan.resourceId}\u0000${b.plan.kind}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Apply the per-resource percent cap, then the total cap, both per day: `today` holds what earlier invocations of
 * the same day reserved (Lambda retries a failed scheduled run twice, and people re-run prune by hand, so a
 * per-invocation cap would be multiplied). A delete this run (`runId`) reserved earlier is free: it is Lambda's
 * retry finishing what it started. A delete another run reserved is left to that run (reason "reserved today by
 * run …"). A new delete needs room under both caps. Deletes beyond a cap move to `keep` with a reason starting
 * "cap: " and are counted in `capped` (one entry per plan), so the handler can alert; the oldest snapshots go
 * first and the rest wait for the next day. `reserve` lists, per {@link capKey}, the new ids this plan deletes:
 * the caller records them before sending any delete. The input is not modified.
 * Example: 10 of ours seen for a resource, 6 expired, maxDeletePercent 50, nothing deleted today → 5 deleted,
 * 1 kept ("cap: at most 50% of 10 snapshots per resource and region per day (5)"); a manual re-run after those
 * 5 were deleted sees 5 and deletes none ("… of 10 … (5; 5 already deleted today)").
 */
export function applyDeleteCaps(
  plans: PrunePlan[],
  caps: DeleteCaps,
  today: DeletesToday = {},
  runId?: string,
): { plans: PrunePlan[]; capped: CappedEntry[]; reserve: Record<string, string[]> } {
  const out = plans.map((p) => ({ ...p, keep: [...p.keep], delete: [...p.delete] }));
  const deferredBy = new Map<PrunePlan, string[]>();
  const deferCount = new Map<PrunePlan, number>();
  const defer = (plan: PrunePlan, d: PruneDecision, why: string) => {
    plan.keep.push({ action: "keep", target: d.target, reason: `${why}; otherwise ${d.reason}` });
    deferCount.set(plan, (deferCount.get(plan) ?? 0) + 1);
    const reasons = deferredBy.get(plan) ?? [];
    if (!reasons.includes(why)) reasons.push(why);
    deferredBy.set(plan, reasons);
  };
  const reservedOf = (plan: PrunePlan): Reservations => today[capKey(plan)] ?? {};
  const isFresh = (reserved: Reservations) => (d: PruneDecision) => !Object.hasOwn(reserved, d.target.id);
  let resorted = false;

  for (const plan of out) {
    const reserved = reservedOf(plan);
    // Another run's reservation is that run's to send.
    const theirs = plan.delete.filter((d) => Object.hasOwn(reserved, d.target.id) && reserved[d.target.id] !== runId);
    if (theirs.length) {
      const left = new Set(theirs);
      plan.delete = plan.delete.filter((d) => !left.has(d));
      for (const d of theirs)
        plan.keep.push({
          action: "keep",
          target: d.target,
          reason: `delete reserved today by run ${reserved[d.target.id]}: left to it; otherwise ${d.reason}`,
        });
      resorted = true;
    }
    const used = Object.keys(reserved).length;
    const seenIds = new Set([...plan.keep, ...plan.delete].map((d) => d.target.id));
    // What the day started with: what is seen now plus what was deleted earlier today.
    const seen = seenIds.size + Object.keys(reserved).filter((id) => !seenIds.has(id)).length;
    const allowed = Math.max(0, Math.floor((seen * caps.maxDeletePercent) / 100));
    const room = Math.max(0, allowed - used);
    const fresh = plan.delete.filter(isFresh(reserved));
    if (fresh.length <= room) continue;
    const sorted = [...fresh].sort((a, b) => newestFirst(b.target, a.target));
    const drop = new Set(sorted.slice(room));
    plan.delete = plan.delete.filter((d) => !drop.has(d));
    const already = used ? `; ${used} already deleted today` : "";
    const why = `cap: at most ${caps.maxDeletePercent}% of ${seen} snapshots per resource and region per day (${allowed}${already})`;
    for (const d of sorted.slice(room)) defer(plan, d, why);
  }

  const all = out.flatMap((plan) => {
    const fresh = isFresh(reservedOf(plan));
    return plan.delete.filter(fresh).map((d) => ({ plan, d }));
  });
  const total = Math.max(0, Math.floor(caps.maxDeletesPerRun));
  const usedToday = Object.values(today).reduce((n, r) => n + Object.keys(r).length, 0);
  const room = Math.max(0, total - usedToday);
  if (all.length > room) {
    all.sort(oldestFirst);
    const over = all.slice(room);
    const drop = new Set(over.map((x) => x.d));
    for (const plan of out) plan.delete = plan.delete.filter((d) => !drop.has(d));
    const why = `cap: at most ${total} deletes per day${usedToday ? ` (${usedToday} already today)` : ""}`;
    for (const { plan, d } of over) defer(plan, d, why);
  }

  const capped: CappedEntry[] = [];
  const reserve: Record<string, string[]> = {};
  for (const plan of out) {
    const fresh = plan.delete.filter(isFresh(reservedOf(plan))).map((d) => d.target.id);
    if (fresh.length) reserve[capKey(plan)] = [...(reserve[capKey(plan)] ?? []), ...fresh];
    const n = deferCount.get(plan);
    if (resorted || n) plan.keep.sort((a, b) => newestFirst(a.target, b.target));
    if (!n) continue;
    capped.push({ resourceId: plan.resourceId, region: plan.region, deferred: n, reason: (deferredBy.get(plan) ?? []).join("; ") });
  }
  return { plans: out, capped, reserve };
}

/**
 * The ledger with `reserve` added to `policy`'s reservations in the name of `runId`, or `undefined` when `reserve`
 * adds nothing, so a retry that only finishes its earlier reservations writes nothing.
 * Example: `reserveDeletes(empty, "db", { "eu-west-1/rds-instance/app-db": ["b", "a"] }, "r-1")`
 * → policies `{ db: { "eu-west-1/rds-instance/app-db": { a: "r-1", b: "r-1" } } }`.
 */
export function reserveDeletes(ledger: PruneLedger, policy: string, reserve: Record<string, readonly string[]>, runId: string): PruneLedger | undefined {
  const mine: Record<string, Reservations> = { ...(ledger.policies[policy] ?? {}) };
  let changed = false;
  for (const [key, ids] of Object.entries(reserve)) {
    const had = mine[key] ?? {};
    const added = ids.filter((id) => !Object.hasOwn(had, id));
    if (!added.length) continue;
    const next: Record<string, string> = { ...had };
    for (const id of added) next[id] = runId;
    mine[key] = Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    changed = true;
  }
  return changed ? { ...ledger, policies: { ...ledger.policies, [policy]: mine } } : undefined;
}
