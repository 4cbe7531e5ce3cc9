/**
 * Circuit breakers for destructive runs. Retention decides what is expired; these caps bound how much one run
 * may delete, so a bug, a bad clock or a wrong config deletes a little and alerts instead of emptying a region.
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
  /** At most this many deletes in the whole run. */
  maxDeletesPerRun: number;
  /** At most this share (%) of our snapshots seen for one resource in one region. */
  maxDeletePercent: number;
}

export interface CappedEntry {
  resourceId: string;
  region: string;
  deferred: number;
  reason: string;
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
 * Apply the per-resource percent cap, then the per-run total cap. Deletes beyond a cap move to `keep` with a
 * reason starting "cap: " and are counted in `capped` (one entry per plan), so the handler can alert; the
 * oldest snapshots are deleted first and the rest wait for the next run. The input is not modified.
 * Example: 10 of ours seen for a resource, 6 expired, maxDeletePercent 50 → 5 deleted, 1 kept
 * ("cap: at most 50% of 10 snapshots per resource and region per run (5)").
 */
export function applyDeleteCaps(plans: PrunePlan[], caps: DeleteCaps): { plans: PrunePlan[]; capped: CappedEntry[] } {
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

  for (const plan of out) {
    const seen = plan.keep.length + plan.delete.length;
    const allowed = Math.max(0, Math.floor((seen * caps.maxDeletePercent) / 100));
    if (plan.delete.length <= allowed) continue;
    const sorted = [...plan.delete].sort((a, b) => newestFirst(b.target, a.target));
    plan.delete = sorted.slice(0, allowed);
    const why = `cap: at most ${caps.maxDeletePercent}% of ${seen} snapshots per resource and region per run (${allowed})`;
    for (const d of sorted.slice(allowed)) defer(plan, d, why);
  }

  const all = out.flatMap((plan) => plan.delete.map((d) => ({ plan, d })));
  const total = Math.max(0, Math.floor(caps.maxDeletesPerRun));
  if (all.length > total) {
    all.sort(oldestFirst);
    const over = all.slice(total);
    const drop = new Set(over.map((x) => x.d));
    for (const plan of out) plan.delete = plan.delete.filter((d) => !drop.has(d));
    const why = `cap: at most ${total} deletes per run`;
    for (const { plan, d } of over) defer(plan, d, why);
  }

  const capped: CappedEntry[] = [];
  for (const plan of out) {
    const n = deferCount.get(plan);
    if (!n) continue;
    plan.keep.sort((a, b) => newestFirst(a.target, b.target));
    capped.push({ resourceId: plan.resourceId, region: plan.region, deferred: n, reason: (deferredBy.get(plan) ?? []).join("; ") });
  }
  return { plans: out, capped };
}
