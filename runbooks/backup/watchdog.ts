import type { JobEvent } from "../../schemas/events-backup.ts";
import type { ItemFailure } from "../../core/types.ts";
import { managedByValue } from "../../core/types.ts";
import { selectResources } from "../../core/selection.ts";
import { assessFreshness, type FreshnessFinding } from "../../core/freshness.ts";
import { decideAlerts, emptyAlertState, HOUR_MS, withUndelivered, type AlertLifecycleResult } from "../../core/alert-lifecycle.ts";
import { staleConditions, staleKey, type StaleGroupDetail } from "../../core/stale-alerts.ts";
import { alertSeverity } from "../../core/notify-routing.ts";
import { staleAlertMessage } from "../../core/report/stale-alerts.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import { kindsInUse } from "../../adapters/inventory.ts";
import type { AlertStatePort, StoredAlertState } from "../../adapters/alert-state.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { fleetReport, fleetTargetOf, owner, regions } from "./common.ts";
import type { BackupDeps } from "./ports.ts";
import { vaultCoverage } from "../vault/coverage.ts";

/**
 * The freshness watchdog: the selected resources and our snapshots in every region → how old each one's newest
 * backup is (core) → metrics (with the heartbeat its alarm needs), the run report listing every stale resource,
 * and the alert lifecycle's messages per policy and region (core/alert-lifecycle.ts, core/stale-alerts.ts): a
 * critical when backups go stale, a reminder every `alerts.remindEveryHours` while they stay stale, "resolved"
 * when they are fresh again. Hourly runs of a long outage thus post a few messages, not one critical an hour.
 *
 * A resource with no backup at all on a stage deployed less than its freshness limit ago is pending, not stale
 * (core/freshness.ts): a new stage's watchdog runs hourly from the deploy, before the first nightly backup, and
 * must not page for a backup that is not due yet. The deploy's own marker dates the stage; without it, missing.
 *
 * A fleet item (`event.target`) checks the item's region of the member account (deps bound to its member role): the
 * resources of the primary region there, our backups in the item's region. Its incidents are the account and
 * region's own (deps: one alert state document per account × region) and its messages name the account.
 */

/** Decide-and-store attempts when other runs keep changing the alert state first. */
const MAX_ATTEMPTS = 3;

/** One lifecycle decision as the run report shows it. */
interface AlertEntry {
  key: string;
  kind: string;
  reason: string;
  text?: string;
  delivered?: boolean;
}

export async function runWatchdog(event: JobEvent, ctx: RunContext, deps: BackupDeps): Promise<RunOutcome> {
  const { config } = ctx;
  const target = fleetTargetOf(config, event);
  const policies = config.backup.policies;
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const all = target ? [target.region] : regions(config);
  const now = ctx.now();
  const [resources, ...lists] = await Promise.all([
    deps.inventory.listCandidateResources(config.primaryRegion, policies),
    ...all.map((r) => deps.inventory.listRegionSnapshots(r, managedBy, kinds, { amis: false })),
  ]);
  const selected = selectResources(resources, policies).selected;
  const assess = (watchedSince?: Date): FreshnessFinding[] =>
    assessFreshness({
      snapshots: lists.flat(),
      resources: selected.map((s) => ({ resourceId: s.resource.id, kind: s.resource.kind, policy: s.policy })),
      regions: all,
      owner: owner(config),
      now,
      primaryRegion: config.primaryRegion,
      ...(watchedSince ? { watchedSince } : {}),
    });
  let findings = assess();
  let stageDeployedAt: Date | undefined;
  if (deps.stageDeployedAt && findings.some((f) => f.status === "missing")) {
    // A resource with no backup at all: on a new stage's first night that is expected, not stale.
    try {
      stageDeployedAt = await deps.stageDeployedAt();
    } catch (err) {
      // Unknown is not "new": without the deploy's date every missing backup stays missing.
      ctx.logger.warn("stage deploy time not read: resources without a backup count as missing", { error: (err as Error).message });
    }
    if (stageDeployedAt) findings = assess(stageDeployedAt);
  }
  const bad = findings.filter((f) => f.status === "stale" || f.status === "missing");
  const pending = findings.filter((f) => f.status === "pending");
  for (const f of findings) (f.status === "ok" || f.status === "pending" ? ctx.logger.info : ctx.logger.error).call(ctx.logger, "freshness", { ...f });
  ctx.emitMetrics([
    // The heartbeat: an alarm with TreatMissingData=breaching fires when the watchdog itself stops running.
    { name: "WatchdogHeartbeat", unit: "Count", value: 1 },
    { name: "StaleBackups", unit: "Count", value: bad.length },
    ...findings.map((f) => ({
      name: "BackupAgeHours",
      unit: "None" as const,
      // A resource with no backup yet (pending) is as old as the stage, so its line crosses the freshness line when it
      // turns stale; one with no backup at all otherwise reports the age as "infinitely" old, capped to stay plottable.
      value: f.ageHours ?? (f.status === "pending" && stageDeployedAt ? (now.getTime() - stageDeployedAt.getTime()) / HOUR_MS : 24 * 400),
      dimensions: { resource: f.resourceId, region: f.region, ...(target ? { account: target.account } : {}) },
    })),
  ]);

  const policyOf = new Map(selected.map((s) => [`${s.resource.kind}\u0000${s.resource.id}`, s.policy.name]));
  const policyName = (f: FreshnessFinding) => policyOf.get(`${f.kind}\u0000${f.resourceId}`) ?? "?";
  const conditions = staleConditions(bad, policyName);
  const remindEveryMs = config.alerts.remindEveryHours * HOUR_MS;
  const render = (d: Parameters<typeof staleAlertMessage>[0]): SlackMessage =>
    staleAlertMessage(
      d,
      bad.filter((f) => staleKey(policyName(f), f.region) === d.key),
      config,
      now,
      target,
    );

  const failures: ItemFailure[] = [];
  let alerts: AlertEntry[];
  if (event.dryRun || !deps.alertState) {
    // The read-only plan: what this run would send against the stored incidents (none without a store); nothing is stored or posted.
    const state = deps.alertState ? (await deps.alertState().load()).state : emptyAlertState<StaleGroupDetail>();
    const decided = decideAlerts({ state, conditions, now, remindEveryMs });
    alerts = decided.decisions.map((d) => ({
      key: d.key,
      kind: d.kind,
      reason: d.reason,
      ...(d.kind !== "hold" ? { text: render({ ...d, kind: d.kind }).text } : {}),
    }));
  } else {
    alerts = await alertLifecycle(ctx, deps.alertState(), conditions, now, remindEveryMs, render, failures);
  }
  // The backup account (config.vault): the age of each resource's newest vault copy (runbooks/vault/coverage.ts).
  const vault =
    config.vault && deps.vaultCopies
      ? await vaultCoverage(ctx, deps.vaultCopies, lists.flat(), target?.account ?? config.vault.centralAccountId ?? "")
      : undefined;
  if (vault) failures.push(...vault.failures);
  const fleet = fleetReport(target, { stale: bad.length });
  return {
    ...(fleet.response ? { response: fleet.response } : {}),
    report: {
      ...fleet.report,
      trigger: event.trigger,
      note: event.note,
      findings: findings.map((f) => ({ ...f, newestAt: f.newestAt?.toISOString() })),
      stale: bad.length,
      ...(pending.length ? { pending: pending.length, stageDeployedAt: stageDeployedAt?.toISOString() } : {}),
      remindEveryHours: config.alerts.remindEveryHours,
      alerts,
      ...(vault ? { vault: vault.report } : {}),
    },
    // Alerts are the lifecycle's, posted above once their state is stored; the report lists every stale resource.
    message: null,
    failures,
  };
}

/**
 * Decide against the stored state, store the new state with a conditional write, then post. A run that loses
 * the write to an overlapping one re-reads and decides again, so only one of them sends a `started`. A message
 * that cannot be posted is a failure of the run, and its incident goes back to what it was so the next run
 * sends it again.
 */
async function alertLifecycle(
  ctx: RunContext,
  store: AlertStatePort<StaleGroupDetail>,
  conditions: ReturnType<typeof staleConditions>,
  now: Date,
  remindEveryMs: number,
  render: (d: Parameters<typeof staleAlertMessage>[0]) => SlackMessage,
  failures: ItemFailure[],
): Promise<AlertEntry[]> {
  let before: StoredAlertState<StaleGroupDetail> | undefined;
  let decided: AlertLifecycleResult<StaleGroupDetail> | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && !decided; attempt++) {
    const stored = await store.load();
    const next = decideAlerts({ state: stored.state, conditions, now, remindEveryMs });
    // A quiet run (nothing open, nothing holding; or an open incident with nothing due and nothing changed) writes nothing.
    if (JSON.stringify(next.state) === JSON.stringify(stored.state) || (await store.save(next.state, stored))) {
      before = stored;
      decided = next;
    } else {
      ctx.logger.info("alert state changed by another run: reading it again", { attempt });
    }
  }
  if (!decided || !before) {
    failures.push({
      item: "alert-state",
      kind: "retryable",
      message: `the alert state changed under ${MAX_ATTEMPTS} attempts in a row; nothing posted (the next run decides again)`,
    });
    return [];
  }
  const entries: AlertEntry[] = [];
  const undelivered: string[] = [];
  for (const d of decided.decisions) {
    ctx.logger.info("alert decision", { key: d.key, kind: d.kind, reason: d.reason });
    if (d.kind === "hold") {
      entries.push({ key: d.key, kind: d.kind, reason: d.reason });
      continue;
    }
    const message = render({ ...d, kind: d.kind });
    try {
      if (!ctx.post) throw new Error("no Slack poster outside the handler chain");
      await ctx.post(message, { kind: "alert", severity: alertSeverity(d.kind) });
      entries.push({ key: d.key, kind: d.kind, reason: d.reason, text: message.text, delivered: true });
    } catch (err) {
      // SlackDeliveryError messages never contain the webhook URL.
      failures.push({ item: `alert ${d.key}`, kind: "retryable", message: `${d.kind} not delivered: ${(err as Error).message}` });
      entries.push({ key: d.key, kind: d.kind, reason: d.reason, text: message.text, delivered: false });
      undelivered.push(d.key);
    }
  }
  if (undelivered.length) {
    let restored: StoredAlertState<StaleGroupDetail> | false = false;
    try {
      const current = await store.load();
      restored = await store.save(withUndelivered(current.state, before.state, undelivered), current);
    } catch (err) {
      ctx.logger.error("alert state not read or written", { error: (err as Error).message });
    }
    if (!restored) ctx.logger.error("undelivered alerts not given back: the next run will not resend them", { keys: undelivered });
  }
  return entries;
}
