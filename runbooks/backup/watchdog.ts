import type { JobEvent } from "../../schemas/events-backup.ts";
import { managedByValue } from "../../core/types.ts";
import { selectResources } from "../../core/selection.ts";
import { assessFreshness, type FreshnessFinding } from "../../core/freshness.ts";
import { watchdogAlert } from "../../core/report/backup.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { owner, regions } from "./common.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * The freshness watchdog: the selected resources and our snapshots in every region → how old each one's newest
 * backup is (core) → metrics (with the heartbeat its alarm needs) and an alert when any is stale.
 */

export async function runWatchdog(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const policies = config.backup.policies;
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const all = regions(config);
  const [resources, ...lists] = await Promise.all([
    deps.inventory.listCandidateResources(config.primaryRegion, policies),
    ...all.map((r) => deps.inventory.listRegionSnapshots(r, managedBy, kinds)),
  ]);
  const selected = selectResources(resources, policies).selected;
  const findings: FreshnessFinding[] = assessFreshness({
    snapshots: lists.flat(),
    resources: selected.map((s) => ({ resourceId: s.resource.id, kind: s.resource.kind, policy: s.policy })),
    regions: all,
    owner: owner(config),
    now: ctx.now(),
    primaryRegion: config.primaryRegion,
  });
  const bad = findings.filter((f) => f.status !== "ok");
  for (const f of findings) (f.status === "ok" ? ctx.logger.info : ctx.logger.error).call(ctx.logger, "freshness", { ...f });
  ctx.emitMetrics([
    // The heartbeat: an alarm with TreatMissingData=breaching fires when the watchdog itself stops running.
    { name: "WatchdogHeartbeat", unit: "Count", value: 1 },
    { name: "StaleBackups", unit: "Count", value: bad.length },
    ...findings.map((f) => ({
      name: "BackupAgeHours",
      unit: "None" as const,
      // A resource with no backup at all reports the age as "infinitely" old, capped to stay a plottable number.
      value: f.ageHours ?? 24 * 400,
      dimensions: { resource: f.resourceId, region: f.region },
    })),
  ]);
  return {
    report: {
      trigger: event.trigger,
      note: event.note,
      findings: findings.map((f) => ({ ...f, newestAt: f.newestAt?.toISOString() })),
      stale: bad.length,
    },
    message: bad.length ? watchdogAlert(bad, config) : null,
    failures: [],
  };
}
