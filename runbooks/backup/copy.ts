import type { JobEvent } from "../../schemas/events-backup.ts";
import { TAG, managedByValue, type ItemFailure } from "../../core/types.ts";
import { planCopies, type CopyDecision } from "../../core/copy-plan.ts";
import { copySummary, type CopyRunView } from "../../core/report/backup.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import { claimKey } from "../../adapters/claims.ts";
import { type AlreadyDone, executeAll } from "../lib/execute.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { backupTimeZone, claimsFor, countBy, failuresOf, findOurSnapshot, logDecisions, matchesResource, owner, policiesFor, type Claims } from "./common.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * The copy runbook: our primary snapshots and the DR copies there are → the copies to start (core) → one
 * cross-Region copy per decision, under a name claim where AWS does not enforce names.
 */

export async function runCopy(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const policies = policiesFor(config, event);
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const primary = config.primaryRegion;
  const [sourcesAll, ...drLists] = await Promise.all([
    deps.inventory.listRegionSnapshots(primary, managedBy, kinds),
    ...config.drRegions.map((d) => deps.inventory.listRegionSnapshots(d.region, managedBy, kinds)),
  ]);
  const sources = sourcesAll.filter(
    (s) => s.tags[TAG.managedBy] === managedBy && !s.automated && !s.tags[TAG.copyOf] && matchesResource(event, s.kind, s.resourceId),
  );
  const copies = drLists.flat();
  const inFlight: Record<string, number> = {};
  config.drRegions.forEach((d, i) => {
    inFlight[d.region] = (drLists[i] ?? []).filter((s) => s.status === "pending").length;
  });

  const decisions = planCopies({
    sources,
    copies,
    drRegions: config.drRegions,
    inFlight,
    maxInFlight: config.backup.maxCopiesInFlight,
    owner: owner(config),
    policies,
    now: ctx.now(),
    timeZone: backupTimeZone(config),
  });
  logDecisions(ctx, decisions, (i) => `${decisions[i]!.target.source.id} → ${decisions[i]!.target.region}`);

  const todo = decisions.filter((d) => d.action === "copy");
  // A copy that ended in `error` is a failure of its own, reported with the key it tried. The copy function cannot
  // delete (IAM keeps tagging and deleting in different roles); prune removes the failed copy, then a copy run retries.
  const earlier: ItemFailure[] = decisions
    .filter((d) => d.action === "failed")
    .map((d) => {
      const why = d.target.failedCopy?.statusMessage ?? "status error";
      return {
        item: `${d.target.source.id} → ${d.target.region}`,
        region: d.target.region,
        kind: /kms|key/i.test(why) ? ("kms" as const) : ("fatal" as const),
        message: `copy ${d.target.failedCopy?.id} failed: ${why} (KMS key tried: ${d.target.kmsKeyId})`,
      };
    });
  const claims = claimsFor(deps, ctx);
  const results = event.dryRun
    ? []
    : await executeAll(todo, (d) => copySnapshot(deps, d, primary, claims), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: `${d.target.source.id} → ${d.target.region}`, region: d.target.region }),
        explain: (d, cls) => (cls === "kms" ? `KMS key tried: ${d.target.kmsKeyId}` : undefined),
        facts: ["exists"],
      });
  const failures = [...earlier, ...failuresOf(results)];
  const view: CopyRunView = {
    dryRun: event.dryRun,
    inFlight,
    decisions: decisions.map((d) => ({ action: d.action, source: d.target.source.id, region: d.target.region, name: d.target.name, reason: d.reason })),
    results: results.map((r) => ({ source: r.item.target.source.id, region: r.item.target.region, status: r.status, detail: r.detail, ms: r.ms })),
    failures,
  };
  return {
    report: { trigger: event.trigger, note: event.note, ...view, counts: countBy(decisions, (d) => d.action) },
    message: copySummary(view, config),
    // Quiet run summaries (notifications.runSummaries.quiet) skip a run that made nothing and failed nothing.
    changed: results.some((r) => r.status === "done"),
    failures,
  };
}

async function copySnapshot(deps: BackupDeps, d: CopyDecision, sourceRegion: string, claims: Claims): Promise<string | undefined | AlreadyDone> {
  const source = d.target.source;
  const req = {
    source,
    sourceRegion,
    targetRegion: d.target.region,
    name: d.target.name,
    kmsKeyId: d.target.kmsKeyId,
    tags: { ...d.target.tags, [TAG.capturedAt]: source.createdAt.toISOString() },
  };
  const adapter = deps.snapshots[source.kind];
  const act = async () => {
    const id = await adapter.copy(req);
    return id ? `copy ${id} started` : undefined;
  };
  if (!adapter.claimsNames) return act();
  return claims.underClaim({
    key: claimKey("copy", d.target.region, d.target.name),
    what: `copy ${source.id} to ${d.target.region} as ${d.target.name}`,
    look: () =>
      findOurSnapshot(
        deps,
        source.kind,
        d.target.region,
        d.target.tags[TAG.managedBy]!,
        (s) => s.tags[TAG.copyOf] === source.id || s.tags[TAG.name] === d.target.name,
      ),
    act,
  });
}
