import type { JobEvent } from "../../schemas/events-backup.ts";
import { TAG, managedByValue, type ItemFailure } from "../../core/types.ts";
import { planCopies, type CopyDecision } from "../../core/copy-plan.ts";
import { copySummary, type CopyRunView } from "../../core/report/backup.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import { claimKey } from "../../adapters/claims.ts";
import { type AlreadyDone, executeAll } from "../lib/execute.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import {
  backupTimeZone,
  claimsFor,
  countBy,
  failuresOf,
  findOurSnapshot,
  fleetReport,
  fleetTargetOf,
  logDecisions,
  matchesResource,
  owner,
  policiesFor,
  type Claims,
} from "./common.ts";
import type { BackupDeps } from "./ports.ts";
import { shareWithVault } from "../vault/share.ts";

/**
 * The copy runbook: our primary snapshots and the DR copies there are → the copies to start (core) → one
 * cross-Region copy per decision, under a name claim where AWS does not enforce names.
 *
 * A fleet item (`event.target`) copies inside the member account (deps bound to its member role), from the primary
 * region to the item's region when that is a DR region, with the DR region's key alias as it resolves in the member
 * account (schemas/config-fleet.ts requires aliases with a fleet). The primary region's item is an empty run: nothing
 * is copied into the primary region.
 */

export async function runCopy(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const target = fleetTargetOf(config, event);
  const policies = policiesFor(config, event);
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const primary = config.primaryRegion;
  const drRegions = target ? config.drRegions.filter((d) => d.region === target.region) : config.drRegions;
  if (target && drRegions.length === 0) {
    const reason = `copies go from the primary region ${primary} to the DR regions (${config.drRegions.map((d) => d.region).join(", ") || "none"}); ${target.region} is not one`;
    ctx.logger.info("nothing to copy into this region", { account: target.account, region: target.region, reason });
    const fleet = fleetReport(target, { copied: 0 });
    return {
      report: { trigger: event.trigger, dryRun: false, skipped: reason, inFlight: {}, decisions: [], results: [], counts: {}, ...fleet.report },
      message: null,
      changed: false,
      failures: [],
      ...(fleet.response ? { response: fleet.response } : {}),
    };
  }
  const [sourcesAll, ...drLists] = await Promise.all([
    deps.inventory.listRegionSnapshots(primary, managedBy, kinds, { amis: false }),
    ...drRegions.map((d) => deps.inventory.listRegionSnapshots(d.region, managedBy, kinds, { amis: false })),
  ]);
  const sources = sourcesAll.filter(
    (s) => s.tags[TAG.managedBy] === managedBy && !s.automated && !s.tags[TAG.copyOf] && matchesResource(event, s.kind, s.resourceId),
  );
  const copies = drLists.flat();
  const inFlight: Record<string, number> = {};
  drRegions.forEach((d, i) => {
    inFlight[d.region] = (drLists[i] ?? []).filter((s) => s.status === "pending").length;
  });

  const decisions = planCopies({
    sources,
    copies,
    drRegions,
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
    : await executeAll(todo, (d) => copySnapshot(deps, d, primary, claims, target?.account), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: `${d.target.source.id} → ${d.target.region}`, region: d.target.region }),
        explain: (d, cls) => (cls === "kms" ? `KMS key tried: ${d.target.kmsKeyId}` : undefined),
        facts: ["exists"],
      });
  // The backup account (config.vault): our backups shared with it, after the DR copies (runbooks/vault/share.ts).
  const vault = config.vault && deps.vault ? await shareWithVault(event, ctx, deps.vault, sources, target?.account ?? "") : undefined;
  const failures = [...earlier, ...failuresOf(results), ...(vault?.failures ?? [])];
  const view: CopyRunView = {
    dryRun: event.dryRun,
    inFlight,
    decisions: decisions.map((d) => ({ action: d.action, source: d.target.source.id, region: d.target.region, name: d.target.name, reason: d.reason })),
    results: results.map((r) => ({ source: r.item.target.source.id, region: r.item.target.region, status: r.status, detail: r.detail, ms: r.ms })),
    failures,
  };
  const fleet = fleetReport(target, { copied: results.filter((r) => r.status === "done").length });
  return {
    report: {
      trigger: event.trigger,
      note: event.note,
      ...view,
      counts: countBy(decisions, (d) => d.action),
      ...fleet.report,
      ...(vault ? { vault: vault.report } : {}),
    },
    message: copySummary(view, config),
    // Quiet run summaries (notifications.runSummaries.quiet) skip a run that made nothing and failed nothing.
    changed: results.some((r) => r.status === "done") || (vault?.shared ?? 0) > 0,
    failures,
    ...(fleet.response ? { response: fleet.response } : {}),
  };
}

async function copySnapshot(
  deps: BackupDeps,
  d: CopyDecision,
  sourceRegion: string,
  claims: Claims,
  account?: string,
): Promise<string | undefined | AlreadyDone> {
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
    key: claimKey("copy", d.target.region, d.target.name, account),
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
