import type { JobEvent } from "../../schemas/events-backup.ts";
import { TAG, managedByValue, type ItemFailure, type Resource } from "../../core/types.ts";
import { selectResources } from "../../core/selection.ts";
import { planBackups, type BackupDecision } from "../../core/backup-plan.ts";
import { classifyStatus } from "../../core/resource-status.ts";
import { backupSummary, type BackupRunView } from "../../core/report/backup.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import { claimKey } from "../../adapters/claims.ts";
import { interleave } from "../../core/interleave.ts";
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

/**
 * The backup runbook: the selected resources of the primary region → today's backup decisions (core) → one
 * snapshot per decision to create, under a name claim where AWS does not enforce names.
 *
 * A fleet item (`event.target`) does the same in the member account (deps bound to its member role) when its region
 * is the primary region; an item of another region is an empty run whose report says why: backups are made in the
 * primary region and reach the DR regions as the copy job's copies.
 */

export async function runBackup(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const target = fleetTargetOf(config, event);
  const region = config.primaryRegion;
  if (target && target.region !== region) {
    const reason = `backups are made in the primary region ${region}; ${target.region} gets the copy job's copies`;
    ctx.logger.info("nothing to back up in this region", { account: target.account, region: target.region, reason });
    const fleet = fleetReport(target, { created: 0 });
    return {
      report: { trigger: event.trigger, dryRun: false, skipped: reason, decisions: [], results: [], counts: {}, ...fleet.report },
      message: null,
      changed: false,
      failures: [],
      ...(fleet.response ? { response: fleet.response } : {}),
    };
  }
  const policies = policiesFor(config, event);
  const now = ctx.now();
  const kinds = kindsInUse(policies);
  const [resources, existing] = await Promise.all([
    deps.inventory.listCandidateResources(region, policies),
    deps.inventory.listRegionSnapshots(region, managedByValue(owner(config)), kinds, { amis: false }),
  ]);
  const selection = selectResources(resources, policies);
  const failures: ItemFailure[] = [];
  for (const c of selection.conflicts) failures.push({ item: c.resource.id, region, kind: "fatal", message: c.reason });
  for (const m of selection.missing) {
    if (matchesResource(event, m.kind, m.id)) failures.push({ item: m.id, region, kind: "fatal", message: m.reason });
  }
  const chosen = selection.selected.filter((s) => matchesResource(event, s.resource.kind, s.resource.id));
  if (event.resource && chosen.length === 0 && !selection.missing.some((m) => m.id === event.resource!.id)) {
    failures.push({
      item: event.resource.id,
      region,
      kind: "fatal",
      message: `${event.resource.kind} ${event.resource.id} is not selected by any policy in ${region}`,
    });
  }

  const decisions: BackupDecision[] = [];
  for (const policy of policies) {
    const mine = chosen.filter((s) => s.policy === policy).map((s) => s.resource);
    if (mine.length) decisions.push(...planBackups({ resources: mine, policy, owner: owner(config), now, existing, timeZone: backupTimeZone(config) }));
  }
  logDecisions(ctx, decisions, (i) => `${decisions[i]!.target.resource.id} → ${decisions[i]!.target.name}`);
  for (const d of decisions.filter((x) => x.action === "name-taken")) failures.push({ item: d.target.resource.id, region, kind: "fatal", message: d.reason });

  // A resource in a state that passes (backing-up, modifying, …) fails the run as retryable: Lambda retries the
  // invocation and a later run the same day takes it. One in a state that stays (stopped) is only reported.
  if (!event.dryRun) {
    for (const d of decisions) {
      if (d.action !== "skip-state") continue;
      const { kind, id, status } = d.target.resource;
      const verdict = classifyStatus(kind, id, status);
      if (verdict.class === "passing") failures.push({ item: id, region, kind: "retryable", message: verdict.reason });
    }
  }

  // In turn by kind: RDS and EBS throttle on separate buckets, which then drain side by side (core/interleave.ts).
  const creates = interleave(
    decisions.filter((d) => d.action === "create"),
    (d) => d.target.resource.kind,
  );
  const claims = claimsFor(deps, ctx);
  const results = event.dryRun
    ? []
    : await executeAll(creates, (d) => createSnapshot(deps, d.target.resource, d.target.name, d.target.tags, claims, target?.account), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: d.target.resource.id, region }),
        facts: ["exists"],
      });
  failures.push(...failuresOf(results));

  const view: BackupRunView = {
    dryRun: event.dryRun,
    region,
    decisions: decisions.map((d) => ({
      action: d.action,
      resource: d.target.resource.id,
      kind: d.target.resource.kind,
      name: d.target.name,
      tiers: d.target.tiers,
      reason: d.reason,
    })),
    results: results.map((r) => ({ resource: r.item.target.resource.id, name: r.item.target.name, status: r.status, detail: r.detail, ms: r.ms })),
    failures: [...failures],
  };
  const fleet = fleetReport(target, { created: results.filter((r) => r.status === "done").length });
  return {
    report: { trigger: event.trigger, note: event.note, ...view, counts: countBy(decisions, (d) => d.action), ...fleet.report },
    message: backupSummary(view, config),
    // Quiet run summaries (notifications.runSummaries.quiet) skip a run that made nothing and failed nothing.
    changed: results.some((r) => r.status === "done"),
    failures,
    ...(fleet.response ? { response: fleet.response } : {}),
  };
}

async function createSnapshot(
  deps: BackupDeps,
  resource: Resource,
  name: string,
  tags: Record<string, string>,
  claims: Claims,
  account?: string,
): Promise<string | undefined | AlreadyDone> {
  const adapter = deps.snapshots[resource.kind];
  const act = async () => {
    const id = await adapter.create(resource, name, tags);
    return id ? `created ${id}` : undefined;
  };
  if (!adapter.claimsNames) return act();
  // AWS assigns the id: without a claim two concurrent runs would both create one.
  return claims.underClaim({
    key: claimKey("backup", resource.region, name, account),
    what: `create snapshot ${name} of ${resource.id}`,
    look: () => findOurSnapshot(deps, resource.kind, resource.region, tags[TAG.managedBy]!, (s) => s.tags[TAG.name] === name),
    act,
  });
}
