import type { CostEvent } from "../../schemas/events-cost.ts";
import type { ItemFailure } from "../../core/types.ts";
import { reportDateFor } from "../../core/cost.ts";
import { buildCostRun } from "../../core/report/cost.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { CostExplorerError, fetchCosts, type FetchCostsRequest, type FetchCostsResult } from "../../adapters/cost-explorer.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { linkedBucket, linkedSlackUrl } from "./resources.ts";
import type { RunContext, RunOutcome } from "./handler.ts";

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
  state: (ctx: RunContext) => AlertStateStore;
  postAlert: (message: SlackMessage) => Promise<void>;
}

interface StateDoc {
  date: string;
  alerts: Record<string, string>;
}

/** Alert state in the reports bucket: `state/cost/alerts/<date>.json`, updated with If-Match / If-None-Match. */
export function s3AlertState(ref: BucketRef, now: () => Date): AlertStateStore {
  const docs = jsonDocuments(ref);
  const key = (date: string) => `state/cost/alerts/${date}.json`;
  const write = async (date: string, alerts: Record<string, string>, prev: AlertState): Promise<AlertState | false> => {
    const doc = { date, alerts } satisfies StateDoc;
    // A state that exists without an ETag is one whose write S3 confirmed without one: nothing to compare against.
    const out = !prev.exists
      ? await docs.create(key(date), doc)
      : prev.etag
        ? await docs.replace(key(date), doc, prev.etag)
        : await docs.put(key(date), doc).then(() => ({ replaced: true as const }));
    const written = "created" in out ? out.created : out.replaced;
    return written ? { sent: Object.keys(alerts), exists: true, ...("etag" in out && out.etag ? { etag: out.etag } : {}) } : false;
  };
  const load = async (date: string): Promise<AlertState & { alerts: Record<string, string> }> => {
    const doc = await docs.get<StateDoc>(key(date));
    const alerts = doc?.body.alerts ?? {};
    return { sent: Object.keys(alerts), exists: doc !== undefined, alerts, ...(doc?.etag ? { etag: doc.etag } : {}) };
  };
  return {
    load,
    async claim(date, ids, previous) {
      const current = await load(date);
      if (current.etag !== previous.etag || current.exists !== previous.exists) return false;
      const at = now().toISOString();
      return write(date, { ...current.alerts, ...Object.fromEntries(ids.map((id) => [id, at])) }, current);
    },
    async release(date, ids, claimed) {
      const current = await load(date);
      const alerts = Object.fromEntries(Object.entries(current.alerts).filter(([id]) => !ids.includes(id)));
      await write(date, alerts, { ...claimed, ...(current.etag ? { etag: current.etag } : {}) });
    },
  };
}

export const defaultCostDeps: CostDeps = {
  fetch: (req) => fetchCosts(req),
  state: (ctx) => s3AlertState(linkedBucket(ctx.config), ctx.now),
  postAlert: async (message) => void (await postToSlack(linkedSlackUrl(), message)),
};

export function createCostRun(deps: Partial<CostDeps> = {}) {
  const d: CostDeps = { ...defaultCostDeps, ...deps };
  return async function runCost(event: CostEvent, ctx: RunContext): Promise<RunOutcome> {
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

    const store = event.dryRun ? undefined : d.state(ctx);
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
  };
}

export const runCost = createCostRun();
