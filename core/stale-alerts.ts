/**
 * Stale backups as alert-lifecycle conditions (core/alert-lifecycle.ts), one per backup policy and region.
 *
 * Why that grouping: a policy's resources share one backup job (schedule, selection, tag, IAM) and a region's
 * copies share one copy job, so a broken job makes a whole policy/region stale at once. One incident per
 * resource would page once per database for one cause; one per policy would fold a broken DR copy into a
 * broken backup, which need different fixes. Resources joining or leaving an open incident change what its
 * next message lists, not the incident.
 */
import type { Condition } from "./alert-lifecycle.ts";
import type { FreshnessFinding } from "./freshness.ts";
import type { ResourceKind } from "./types.ts";

/** What a stale-backup incident carries between runs (ages are not stored: they change every run). */
export interface StaleGroupDetail {
  policy: string;
  region: string;
  resources: { resourceId: string; kind: ResourceKind; status: "stale" | "missing"; newestAt?: string; newestId?: string; limitHours: number }[];
}

/** The key of a policy's stale backups in a region. */
export function staleKey(policy: string, region: string): string {
  return `stale:${policy}:${region}`;
}

/**
 * One condition per policy and region with a stale or missing backup, its resources sorted by id.
 *
 * @example
 *   staleConditions([{ ...finding, resourceId: "app-db", region: "eu-west-1", status: "stale" }], () => "db")
 *   // → [{ key: "stale:db:eu-west-1", detail: { policy: "db", region: "eu-west-1", resources: [{ resourceId: "app-db", ... }] } }]
 */
export function staleConditions(findings: readonly FreshnessFinding[], policyOf: (f: FreshnessFinding) => string): Condition<StaleGroupDetail>[] {
  const groups = new Map<string, StaleGroupDetail>();
  for (const f of findings) {
    // A pending resource (a new stage's first night) has no backup due yet: nothing to alert on.
    if (f.status !== "stale" && f.status !== "missing") continue;
    const policy = policyOf(f);
    const key = staleKey(policy, f.region);
    const group = groups.get(key) ?? { policy, region: f.region, resources: [] };
    groups.set(key, group);
    group.resources.push({
      resourceId: f.resourceId,
      kind: f.kind,
      status: f.status,
      ...(f.newestAt ? { newestAt: f.newestAt.toISOString() } : {}),
      ...(f.newestId ? { newestId: f.newestId } : {}),
      limitHours: f.limitHours,
    });
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, detail]) => ({ key, detail: { ...detail, resources: detail.resources.sort((a, b) => (a.resourceId < b.resourceId ? -1 : 1)) } }));
}
