import type { CostEvent } from "../../schemas/events-cost.ts";
import type { ItemFailure } from "../../core/types.ts";
import { reportDateFor } from "../../core/cost.ts";
import { buildCostRun, type CostRun } from "../../core/report/cost.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { emptyAlertState, HOUR_MS, withUndelivered } from "../../core/alert-lifecycle.ts";
import type { CostIncidentDetail } from "../../core/cost-alerts.ts";
import type { Severity } from "../../core/notify-routing.ts";
import type { AlertStatePort, StoredAlertState } from "../../adapters/alert-state.ts";
import { CostExplorerError, type FetchCostsRequest, type FetchCostsResult } from "../../adapters/cost-explorer.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The cost run: Cost Explorer → findings (core) → the alert lifecycle's messages (core/cost-alerts.ts) → digest.
 *
 * A finding that lasts is one incident: an alert when it starts, a line in each morning's digest while it lasts
 * (its reminder: the digest is posted anyway, a separate message would say the same thing twice), a message when
 * it ends. The state is stored with a conditional write before anything is posted; a run that loses the write to
 * an overlapping one reads it again and decides again, so only one of them sends the alert. A message that is not
 * delivered is a failure of the run (the report is still saved and the digest still posted before the handler
 * throws), and its incidents go back to what they were so the next run sends it again.
 */

/** Decide-and-store attempts when other runs keep changing the alert state first. */
const MAX_ATTEMPTS = 3;

export interface CostDeps {
  fetch: (req: FetchCostsRequest) => Promise<FetchCostsResult>;
  /**
   * The cost incidents (`state/alerts/cost.json` in the reports bucket). Without it (the read-only plan) every
   * finding reads as a new incident and nothing is stored; a dry-run only reads it.
   */
  alertState?: () => AlertStatePort<CostIncidentDetail>;
}

/** One lifecycle decision as the run report shows it. */
interface AlertEntry {
  key: string;
  kind: string;
  reason: string;
}

export async function runCost(event: CostEvent, ctx: RunContext, d: CostDeps): Promise<RunOutcome> {
  const cfg = ctx.config.cost;
  const now = ctx.now();
  const latest = reportDateFor(now);
  const reportDate = event.date ?? latest;
  const base = { trigger: event.trigger, dryRun: event.dryRun, reportDate, ...(event.note ? { note: event.note } : {}) };

  let data: FetchCostsResult;
  try {
    data = await d.fetch({
      reportDate,
      today: now.toISOString().slice(0, 10),
      windowDays: cfg.windowDays,
      metric: cfg.metric,
      excludeRecordTypes: cfg.excludeRecordTypes,
      maxCalls: cfg.maxApiCalls,
      ...(cfg.accounts?.byAccount ? { byAccount: true } : {}),
    });
  } catch (err) {
    if (!(err instanceof CostExplorerError)) throw err;
    // No data, no digest: report the failure and let the handler fail the run. Open incidents stay open.
    return {
      report: { ...base, costExplorerCalls: err.calls },
      message: null,
      failures: [{ item: "cost-explorer", kind: err.kind, message: err.message }],
    };
  }

  const remindEveryMs = ctx.config.alerts.remindEveryHours * HOUR_MS;
  const build = (alerts: Parameters<typeof buildCostRun>[0]["alerts"]): CostRun =>
    buildCostRun({
      days: data.days,
      reportDate,
      forecast: data.forecast,
      currency: data.currency,
      ...(data.accountNames ? { accountNames: data.accountNames } : {}),
      config: cfg,
      now,
      apiCalls: data.calls,
      alerts,
    });

  const failures: ItemFailure[] = [];
  let run: CostRun;
  const delivered: string[] = [];
  if (reportDate !== latest) {
    // A past day reported again (a manual `date`) must neither start nor end today's incidents.
    ctx.logger.info("alert lifecycle skipped", { reason: `reports ${reportDate}, not the latest complete day ${latest}` });
    run = build("off");
  } else if (event.dryRun || !d.alertState) {
    // The read-only plan: what this run would send against the stored incidents (none without a store).
    const state = d.alertState ? (await d.alertState().load()).state : emptyAlertState<CostIncidentDetail>();
    run = build({ state, remindEveryMs });
  } else {
    const store = d.alertState();
    const decided = await decideAndStore(ctx, store, build, remindEveryMs);
    if (decided) {
      run = decided.run;
      await send(ctx, store, decided, cfg.page ? "critical" : "warning", failures, delivered);
    } else {
      failures.push({
        item: "alert-state",
        kind: "retryable",
        message: `the cost alert state changed under ${MAX_ATTEMPTS} attempts in a row; no alert sent (the next run decides again)`,
      });
      // The digest still goes out, without the verdicts this run could not store.
      run = build("off");
    }
  }

  for (const f of run.findings) ctx.logger.info("decision", { action: f.action, target: f.target, kind: f.kind, reason: f.reason });
  for (const a of run.decisions) ctx.logger.info("alert decision", { key: a.key, kind: a.kind, reason: a.reason });
  if (run.summary.missingDays.length) ctx.logger.warn("days missing from Cost Explorer's answer", { missingDays: run.summary.missingDays });
  if (data.forecast.kind === "unavailable") ctx.logger.warn("forecast unavailable", { reason: data.forecast.reason });
  if (event.dryRun) {
    ctx.logger.info("dry-run: cost digest not posted", {
      digest: renderText(run.digest),
      ...(run.alert ? { alert: renderText(run.alert) } : {}),
      ...(run.resolved ? { resolved: renderText(run.resolved) } : {}),
    });
  }

  const alerts: AlertEntry[] = run.decisions.map((a) => ({ key: a.key, kind: a.kind, reason: a.reason }));
  return {
    report: {
      ...base,
      metric: cfg.metric,
      currency: data.currency,
      excludedRecordTypes: cfg.excludeRecordTypes,
      costExplorerCalls: data.calls,
      costExplorerAttempts: data.attempts,
      period: data.period,
      summary: run.summary,
      findings: run.findings,
      remindEveryHours: ctx.config.alerts.remindEveryHours,
      alerts,
      /** Messages of the lifecycle that went out this run ("alert", "resolved"). */
      sent: delivered,
      ...(event.dryRun
        ? {
            digestText: renderText(run.digest),
            ...(run.alert ? { alertText: renderText(run.alert) } : {}),
            ...(run.resolved ? { resolvedText: renderText(run.resolved) } : {}),
          }
        : {}),
    },
    message: run.digest,
    failures,
  };
}

/**
 * Decide against the stored state and store the result with a conditional write; a lost write reads again and
 * decides again. A run with nothing to change writes nothing. Undefined when every attempt lost.
 */
async function decideAndStore(
  ctx: RunContext,
  store: AlertStatePort<CostIncidentDetail>,
  build: (alerts: { state: StoredAlertState<CostIncidentDetail>["state"]; remindEveryMs: number }) => CostRun,
  remindEveryMs: number,
): Promise<{ run: CostRun; before: StoredAlertState<CostIncidentDetail> } | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const stored = await store.load();
    const run = build({ state: stored.state, remindEveryMs });
    if (JSON.stringify(run.state) === JSON.stringify(stored.state) || (await store.save(run.state, stored))) return { run, before: stored };
    ctx.logger.info("alert state changed by another run: reading it again", { attempt });
  }
  return undefined;
}

/** Post the alert and the "ended" message; an undelivered one gives its incidents back to the next run. */
async function send(
  ctx: RunContext,
  store: AlertStatePort<CostIncidentDetail>,
  { run, before }: { run: CostRun; before: StoredAlertState<CostIncidentDetail> },
  severity: Severity,
  failures: ItemFailure[],
  delivered: string[],
): Promise<void> {
  const undelivered: string[] = [];
  const out: [string, SlackMessage | null, string[], Severity][] = [
    ["alert", run.alert, run.startedKeys, severity],
    ["resolved", run.resolved, run.resolvedKeys, "info"],
  ];
  for (const [name, message, keys, sev] of out) {
    if (!message) continue;
    try {
      if (!ctx.post) throw new Error("no poster outside the handler chain");
      // The cost channel (core/notify-routing.ts "cost-digest"); a critical (cost.page) also pages and reaches the alerts channel.
      await ctx.post(message, { kind: "cost-digest", severity: sev });
      delivered.push(name);
    } catch (err) {
      // SlackDeliveryError messages never contain the webhook URL.
      failures.push({ item: `cost ${name}`, kind: "retryable", message: `${name} not delivered: ${(err as Error).message}` });
      undelivered.push(...keys);
    }
  }
  if (!undelivered.length) return;
  let restored: StoredAlertState<CostIncidentDetail> | false = false;
  try {
    const current = await store.load();
    restored = await store.save(withUndelivered(current.state, before.state, undelivered), current);
  } catch (err) {
    ctx.logger.error("alert state not read or written", { error: (err as Error).message });
  }
  if (!restored) ctx.logger.error("undelivered cost alerts not given back: the next run will not resend them", { keys: undelivered });
}
