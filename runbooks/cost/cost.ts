import type { CostEvent } from "../../schemas/events-cost.ts";
import type { ItemFailure } from "../../core/types.ts";
import { reportDateFor } from "../../core/cost.ts";
import { buildCostRun } from "../../core/report/cost.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { CostExplorerError, type FetchCostsRequest, type FetchCostsResult } from "../../adapters/cost-explorer.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The cost run: Cost Explorer → findings (core) → immediate alert for new critical findings → digest.
 *
 * The alert is posted here, the digest by the shared handler after the report is saved. A failed
 * alert post is collected as a failure, so the report is still saved and the digest still posted
 * before the handler throws (DLQ, error alarm).
 */

/** Finding ids already alerted for one UTC day, with the S3 ETag for conditional updates. */
export interface AlertState {
  sent: string[];
  etag?: string;
  exists: boolean;
}

export interface AlertStateStore {
  load(date: string): Promise<AlertState>;
  /** Record `ids` as alerted; false when another run changed the state first (it alerts, we do not). */
  claim(date: string, ids: string[], previous: AlertState): Promise<AlertState | false>;
  /** Undo a claim whose post failed, so the next run alerts again. */
  release(date: string, ids: string[], claimed: AlertState): Promise<void>;
}

export interface CostDeps {
  fetch: (req: FetchCostsRequest) => Promise<FetchCostsResult>;
  /** Opened only when the run is not a dry-run. */
  state: () => AlertStateStore;
  postAlert: (message: SlackMessage) => Promise<void>;
}

export async function runCost(event: CostEvent, ctx: RunContext, d: CostDeps): Promise<RunOutcome> {
  const cfg = ctx.config.cost;
  const now = ctx.now();
  const reportDate = event.date ?? reportDateFor(now);
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
    });
  } catch (err) {
    if (!(err instanceof CostExplorerError)) throw err;
    // No data, no digest: report the failure and let the handler fail the run.
    return {
      report: { ...base, costExplorerCalls: err.calls },
      message: null,
      failures: [{ item: "cost-explorer", kind: err.kind, message: err.message }],
    };
  }

  const store = event.dryRun ? undefined : d.state();
  const state = store ? await store.load(reportDate) : { sent: [], exists: false };
  const run = buildCostRun({
    days: data.days,
    reportDate,
    forecast: data.forecast,
    currency: data.currency,
    config: cfg,
    now,
    apiCalls: data.calls,
    alreadyAlerted: state.sent,
  });
  for (const f of run.findings) ctx.logger.info("decision", { action: f.action, target: f.target, kind: f.kind, reason: f.reason });
  if (run.summary.missingDays.length) ctx.logger.warn("days missing from Cost Explorer's answer", { missingDays: run.summary.missingDays });
  if (data.forecast.kind === "unavailable") ctx.logger.warn("forecast unavailable", { reason: data.forecast.reason });

  const failures: ItemFailure[] = [];
  let alerted: string[] = [];
  const ids = run.toAlert.map((f) => f.id);
  if (event.dryRun) {
    ctx.logger.info("dry-run: cost digest not posted", { digest: renderText(run.digest), ...(run.alert ? { alert: renderText(run.alert) } : {}) });
  } else if (run.alert && store) {
    const claimed = await store.claim(reportDate, ids, state);
    if (!claimed) {
      ctx.logger.info("alert skipped: another run recorded alerts for this day first", { ids });
    } else {
      try {
        await d.postAlert(run.alert);
        alerted = ids;
      } catch (err) {
        // SlackDeliveryError messages never contain the webhook URL.
        failures.push({ item: "slack-alert", kind: "retryable", message: (err as Error).message });
        await store.release(reportDate, ids, claimed).catch((e: Error) => ctx.logger.error("alert claim not released", { error: e.message }));
      }
    }
  }

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
      alerted,
      alreadyAlerted: run.findings.filter((f) => f.action === "alert" && state.sent.includes(f.id)).map((f) => f.id),
      ...(event.dryRun ? { digestText: renderText(run.digest), ...(run.alert ? { alertText: renderText(run.alert) } : {}) } : {}),
    },
    message: run.digest,
    failures,
  };
}
