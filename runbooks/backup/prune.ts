import { scheduleTimezone, type Config } from "../../schemas/config.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import { managedByValue, type ItemFailure, type Snapshot } from "../../core/types.ts";
import { planPrune, type PrunePlan } from "../../core/retention.ts";
import { applyVaultHolds } from "../../core/vault-plan.ts";
import { vaultHolds } from "../vault/coverage.ts";
import { localDay } from "../../core/calendar.ts";
import { applyDeleteCaps, reserveDeletes, type CappedEntry, type PruneLedger } from "../../core/guardrails.ts";
import { pruneSummary, type PruneRunView } from "../../core/report/backup.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import { pruneLedgerKey, type PruneLedgerPort } from "../../adapters/prune-ledger.ts";
import { classifyError, describeError } from "../../adapters/errors.ts";
import { interleave } from "../../core/interleave.ts";
import { executeAll } from "../lib/execute.ts";
import { resolveObserve } from "../lib/observe.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { backupTimeZone, failuresOf, fleetReport, fleetTargetOf, matchesResource, memberRegions, owner, policiesFor, regions } from "./common.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * The prune runbook: our snapshots in every region → what each policy keeps and deletes (core) → the day's caps,
 * reserved in the day's ledger before any delete is sent → the deletes.
 *
 * While observe mode is on (core/observe.ts) a scheduled run stops before the deletes: it plans exactly what it
 * would have sent, caps of the day included, and reports it. A manual `"dryRun": false` is refused then, unless it
 * says `"overrideObserve": true`.
 *
 * A fleet item (`event.target`) prunes the item's region of the member account (deps bound to its member role; the
 * day's ledger and the observe marker are the account's own, so the caps count per account). Its primary region is
 * judged with the account's DR copies, as the stage's is with its own.
 */

export async function runPrune(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const target = fleetTargetOf(config, event);
  const policies = policiesFor(config, event);
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const now = ctx.now();
  const acts = !event.dryRun && (event.trigger === "schedule" || event.overrideObserve === true);
  const observe = await resolveObserve({
    setting: config.observe,
    timeZone: config.timezone,
    now,
    marker: deps.observeMarker,
    record: acts,
    by: "prune",
    runId: ctx.runId,
  });
  if (observe.observing && event.trigger === "manual" && !event.dryRun && !event.overrideObserve) {
    throw new Error(
      `${observe.reason}: a manual prune with "dryRun": false is refused while the stage is observed. ` +
        'Send it with "dryRun": true to see the plan, add "overrideObserve": true to delete anyway, or set "observe": false in the config.',
    );
  }
  // Observed: the whole plan, caps included, and nothing sent (the day's ledger is read, never written).
  const observed = observe.observing && !event.dryRun && !event.overrideObserve;
  const planOnly = event.dryRun || observed;
  if (observe.until) ctx.logger.info("observe mode", { observing: observe.observing, until: observe.until, reason: observe.reason });
  // The regions listed (the primary's plan weighs the DR copies) and the ones pruned.
  const accountDr = target ? memberRegions(config, target).filter((r) => r !== config.primaryRegion) : [];
  const all = !target ? regions(config) : target.region === config.primaryRegion ? [target.region, ...accountDr] : [target.region];
  const pruned = target ? [target.region] : all;
  const drRegions = target ? accountDr : config.drRegions.map((d) => d.region);
  // AMI usage (a snapshot an AMI uses is never deleted) only where it deletes: a listed-only region's copies are weighed, not pruned.
  const lists = await Promise.all(all.map((r) => deps.inventory.listRegionSnapshots(r, managedBy, kinds, { amis: pruned.includes(r) })));
  const drCopies = all.flatMap((r, i) => (r === config.primaryRegion ? [] : (lists[i] ?? [])));

  let plans: PrunePlan[] = [];
  all.forEach((region, i) => {
    if (!pruned.includes(region)) return;
    plans.push(
      ...planPrune({
        snapshots: lists[i] ?? [],
        region,
        primaryRegion: config.primaryRegion,
        // Every policy judges its own snapshots; a snapshot of a policy outside a manual filter is kept.
        policies: config.backup.policies,
        owner: owner(config),
        now,
        timeZone: backupTimeZone(config),
        ...(region === config.primaryRegion ? { drCopies, drRegions } : {}),
      }),
    );
  });
  plans = plans.filter((p) => matchesResource(event, p.kind, p.resourceId) && (!event.policy || policies.some((pol) => pol.name === p.policy)));
  // The backup account (config.vault) counts as a DR region does: a resource without a fresh vault copy is frozen, and
  // what is newer than its vault copy is kept (runbooks/vault/coverage.ts).
  const vault =
    config.vault && deps.vaultCopies
      ? await vaultHolds(ctx, deps.vaultCopies, lists.flat(), target?.account ?? config.vault.centralAccountId ?? "")
      : undefined;
  if (vault) plans = applyVaultHolds(plans, vault.guard);

  // Caps are per policy and per day (the prune schedule's day in its timezone), across invocations.
  const timeZone = scheduleTimezone(config, "prune");
  const ledger = plans.some((p) => p.delete.length > 0) ? deps.pruneLedger() : undefined;
  const {
    plans: cappedPlans,
    capped,
    failure: reservation,
  } = await capForTheDay(plans, config, {
    day: localDay(now, timeZone),
    timeZone,
    dryRun: planOnly,
    ledger,
    runId: ctx.runId,
    account: target?.account,
  });

  for (const p of cappedPlans) {
    if (p.frozen) ctx.logger.warn("pruning frozen", { resource: p.resourceId, region: p.region, reason: p.frozen });
    for (const d of [...p.keep, ...p.delete]) ctx.logger.info("decision", { action: d.action, target: `${d.target.id} (${p.region})`, reason: d.reason });
  }
  // In turn by kind: RDS and EBS throttle on separate buckets, which then drain side by side (core/interleave.ts).
  const deletes = interleave(
    cappedPlans.flatMap((p) => p.delete),
    (d) => d.target.kind,
  );
  const results = planOnly
    ? []
    : await executeAll(deletes, (d) => deleteSnapshot(deps, d.target), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: d.target.id, region: d.target.region }),
        facts: ["not-found"],
      });
  const failures = [...(reservation ? [reservation] : []), ...failuresOf(results), ...(vault?.failures ?? [])];
  const view: PruneRunView = {
    dryRun: event.dryRun,
    ...(observe.until
      ? {
          observe: {
            observed,
            until: observe.until,
            timeZone: observe.timeZone,
            reason: observe.reason,
            ...(event.overrideObserve && observe.observing ? { overridden: true as const } : {}),
          },
        }
      : {}),
    plans: cappedPlans.map((p) => ({
      resource: p.resourceId,
      kind: p.kind,
      region: p.region,
      policy: p.policy,
      frozen: p.frozen,
      foreign: p.foreign,
      lookAlikes: p.lookAlikes ?? [],
      keep: p.keep.map((d) => ({ id: d.target.id, reason: d.reason })),
      delete: p.delete.map((d) => ({ id: d.target.id, reason: d.reason })),
    })),
    capped,
    results: results.map((r) => ({ id: r.item.target.id, region: r.item.target.region, status: r.status, detail: r.detail, ms: r.ms })),
    failures,
  };
  const fleet = fleetReport(target, { pruned: results.filter((r) => r.status === "done").length });
  return {
    report: { trigger: event.trigger, note: event.note, ...view, ...fleet.report },
    message: pruneSummary(view, config),
    // Quiet run summaries (notifications.runSummaries.quiet) skip a run that made nothing and failed nothing.
    changed: results.some((r) => r.status === "done"),
    failures,
    ...(fleet.response ? { response: fleet.response } : {}),
  };
}

/** Attempts at reserving the day's deletes when other prune runs keep writing the ledger first. */
const LEDGER_ATTEMPTS = 5;

/**
 * Cap every policy's plans for the day and reserve the new deletes in the day's ledger before any is sent.
 * The ledger is read, the caps decided in core from (what the day already deleted, this plan), and the
 * reservation written conditionally; a write that another run won (412/409) starts over from a fresh read,
 * so nothing is lost or counted twice. A dry-run reads the day's count and writes nothing. When the
 * reservation cannot be made, no delete is sent and the run fails as retryable.
 */
async function capForTheDay(
  plans: PrunePlan[],
  config: Config,
  opts: { day: string; timeZone: string; dryRun: boolean; ledger: PruneLedgerPort | undefined; runId: string; account?: string | undefined },
): Promise<{ plans: PrunePlan[]; capped: CappedEntry[]; failure?: ItemFailure }> {
  const unmanaged = plans.filter((p) => !p.policy || !config.backup.policies.some((pol) => pol.name === p.policy));
  const item = pruneLedgerKey(opts.day, opts.account);
  try {
    for (let attempt = 1; ; attempt++) {
      const read = opts.ledger ? await opts.ledger.read(opts.day) : undefined;
      const today: PruneLedger = read?.ledger ?? { day: opts.day, timeZone: opts.timeZone, policies: {} };
      let next: PruneLedger | undefined;
      const capped: CappedEntry[] = [];
      const out: PrunePlan[] = [];
      for (const policy of config.backup.policies) {
        const mine = plans.filter((p) => p.policy === policy.name);
        if (!mine.length) continue;
        const caps = { maxDeletesPerRun: policy.maxDeletesPerRun, maxDeletePercent: policy.maxDeletePercent };
        const decided = applyDeleteCaps(mine, caps, today.policies[policy.name] ?? {}, opts.runId);
        out.push(...decided.plans);
        capped.push(...decided.capped);
        next = reserveDeletes(next ?? today, policy.name, decided.reserve, opts.runId) ?? next;
      }
      out.push(...unmanaged);
      if (opts.dryRun || !opts.ledger || !next) return { plans: out, capped };
      if (await opts.ledger.write(next, read?.etag)) return { plans: out, capped };
      if (attempt >= LEDGER_ATTEMPTS) {
        const why = `the prune ledger changed under this run ${LEDGER_ATTEMPTS} times in a row`;
        return { plans: withoutDeletes(out, why), capped, failure: { item, kind: "retryable", message: `deletes not reserved, none sent: ${why}` } };
      }
    }
  } catch (err) {
    const cls = classifyError(err);
    const message = `deletes not reserved, none sent: ${describeError(err)}`;
    return {
      plans: withoutDeletes([...plans], "the day's deletes could not be reserved"),
      capped: [],
      failure: { item, kind: cls === "exists" || cls === "not-found" ? "fatal" : cls, message },
    };
  }
}

/** The plans with every delete turned into a keep that says why. */
function withoutDeletes(plans: PrunePlan[], why: string): PrunePlan[] {
  return plans.map((p) => ({
    ...p,
    keep: [...p.keep, ...p.delete.map((d) => ({ action: "keep" as const, target: d.target, reason: `not deleted: ${why}; otherwise ${d.reason}` }))],
    delete: [],
  }));
}

async function deleteSnapshot(deps: BackupDeps, s: Snapshot): Promise<undefined> {
  await deps.snapshots[s.kind].delete(s);
}
