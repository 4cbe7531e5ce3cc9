/**
 * Freshness watchdog: how old the newest available backup of ours is, per resource and region.
 *
 * Age is measured from the provider's creation time (for a DR copy: when the copy was made), because a
 * backup that exists only as a pending snapshot cannot be restored from.
 */
import type { BackupPolicy } from "../schemas/config.ts";
import { partitionByOwner } from "./ownership.ts";
import type { Owner, ResourceKind, Snapshot } from "./types.ts";

export interface FreshnessFinding {
  resourceId: string;
  kind: ResourceKind;
  region: string;
  /** Creation time of the newest available backup of ours, when there is one. */
  newestAt?: Date;
  newestId?: string;
  ageHours?: number;
  limitHours: number;
  /**
   * `pending`: no backup yet, but the stage has been watched for less than the freshness limit, so none is due yet
   * (a new stage's first night); `missing`: no backup, and one is overdue or nothing says since when it is due.
   */
  status: "ok" | "pending" | "stale" | "missing";
  reason: string;
}

export interface FreshnessInput {
  snapshots: Snapshot[];
  resources: { resourceId: string; kind: ResourceKind; policy: BackupPolicy }[];
  regions: string[];
  owner: Owner;
  now: Date;
  /**
   * When given, resources whose policy has `copyToDr: false` are only checked here: their DR regions
   * are expected to be empty and must not raise alerts.
   */
  primaryRegion?: string;
  /**
   * Since when the stage has been watched: its first deploy (the deploy-time marker, stacks/observe-start.ts). A
   * resource without any backup is `pending` until more than the freshness limit has passed since then (as a backup
   * turns stale when older than it), `missing` after; when unknown (no marker, one a run wrote instead of the deploy,
   * or one more than an hour in the future) it is `missing` at once: never silence.
   */
  watchedSince?: Date;
}

/** The available snapshot with the latest creation time, if any (ties: the greater id, so the choice is stable). */
export function newestAvailable(snapshots: readonly Snapshot[]): Snapshot | undefined {
  let best: Snapshot | undefined;
  for (const s of snapshots) {
    if (s.status !== "available") continue;
    if (!best || s.createdAt.getTime() > best.createdAt.getTime() || (s.createdAt.getTime() === best.createdAt.getTime() && s.id > best.id)) best = s;
  }
  return best;
}

/**
 * One finding per resource per region: "ok", "stale" (newest available backup of ours older than the policy's
 * `freshnessHours`), "missing" (none at all) or "pending" (none yet, on a stage watched for less than the limit). Only our own backups count (core/ownership.ts: a copy or a
 * restored instance's snapshot carrying our tags is not a backup of ours). Example: limit 25 h, newest available backup made 26 h ago →
 * `{ status: "stale", ageHours: 26, reason: "newest available backup oa-ops-autopilot-prod-app-db-20261120 is 26.0 h old (limit 25 h)" }`.
 */
export function assessFreshness(input: FreshnessInput): FreshnessFinding[] {
  const nowMs = input.now.getTime();
  const byKey = new Map<string, Snapshot[]>();
  for (const s of partitionByOwner(input.snapshots, input.owner).ours) {
    const key = `${s.region}\u0000${s.kind}\u0000${s.resourceId}`;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  const out: FreshnessFinding[] = [];
  for (const r of input.resources) {
    const limitHours = r.policy.freshnessHours;
    for (const region of input.regions) {
      if (input.primaryRegion !== undefined && region !== input.primaryRegion && !r.policy.copyToDr) continue;
      const base = { resourceId: r.resourceId, kind: r.kind, region, limitHours };
      const newest = newestAvailable(byKey.get(`${region}\u0000${r.kind}\u0000${r.resourceId}`) ?? []);
      if (!newest) {
        const watchedHours = input.watchedSince ? (nowMs - input.watchedSince.getTime()) / 3_600_000 : undefined;
        // A deploy time up to an hour ahead is the deployer's clock running fast; one further ahead dates nothing.
        if (watchedHours !== undefined && watchedHours >= -1 && watchedHours <= limitHours) {
          out.push({
            ...base,
            status: "pending",
            reason: `no backup of ${r.resourceId} in ${region} yet: the stage was deployed ${Math.max(0, watchedHours).toFixed(1)} h ago, the first is due within ${limitHours} h of it`,
          });
          continue;
        }
        const since = watchedHours !== undefined ? ` (the stage was deployed ${watchedHours.toFixed(1)} h ago, limit ${limitHours} h)` : "";
        out.push({ ...base, status: "missing", reason: `no available backup of ${r.resourceId} in ${region}${since}` });
        continue;
      }
      const ageHours = (nowMs - newest.createdAt.getTime()) / 3_600_000;
      const stale = ageHours > limitHours;
      out.push({
        ...base,
        newestAt: newest.createdAt,
        newestId: newest.id,
        ageHours,
        status: stale ? "stale" : "ok",
        reason: `newest available backup ${newest.id} is ${ageHours.toFixed(1)} h old (limit ${limitHours} h)`,
      });
    }
  }
  return out;
}
