/**
 * The end of a restore-test run: its proven-RTO trend entry appended in the reports bucket and its Slack summary
 * (core/report/restore-test.ts) posted, through the report port.
 */
import type { JsonDocuments } from "../../adapters/json-document.ts";
import { restoreTestSummary, restoreTestSummaryRow } from "../../core/report/restore-test.ts";
import { appendTrend, restoreTestTrendKey, TREND_KEEP, trendEntry, type RestoreTestTrend, type RestoreTestTrendEntry } from "../../core/restore-test-trend.ts";
import type { ResourceKind } from "../../core/types.ts";
import type { RestoreTestDeps } from "./ports.ts";
import { errorText, type RestoreTestRun } from "./steps/shared.ts";

/** Compare-and-set attempts before the trend write gives up (two runs of one resource hardly ever end together). */
const TREND_ATTEMPTS = 5;

/**
 * Append `entry` to the resource's trend document: created if absent (`If-None-Match`), else replaced at the ETag it
 * was read at (`If-Match`); a lost race re-reads and retries.
 */
export async function appendTrendDocument(
  docs: JsonDocuments,
  target: { kind: ResourceKind; resourceId: string },
  entry: RestoreTestTrendEntry,
  keep = TREND_KEEP,
): Promise<RestoreTestTrend> {
  const key = restoreTestTrendKey(target.kind, target.resourceId);
  for (let attempt = 1; attempt <= TREND_ATTEMPTS; attempt++) {
    const held = await docs.get<RestoreTestTrend>(key);
    const next = appendTrend(held?.body, target, entry, keep);
    const written = held ? (await docs.replace(key, next, held.etag)).replaced : (await docs.create(key, next)).created;
    if (written) return next;
  }
  throw new Error(`${key}: ${TREND_ATTEMPTS} concurrent writes in a row, trend entry of run ${entry.runId} not written`);
}

/**
 * Called once when the run ends (done or failed): post the summary first (a critical alert matters most), then the
 * trend entry. Neither failure throws: the run is already recorded as ended, a retry would not come back here.
 */
export async function reportRunEnd(deps: RestoreTestDeps, run: RestoreTestRun, rtoTargetMinutes: number): Promise<void> {
  const row = restoreTestSummaryRow(run, rtoTargetMinutes);
  const log = deps.log ?? (() => {});
  try {
    await deps.reports.notify?.(restoreTestSummary(run.runId, [row]));
  } catch (err) {
    log("restore-test summary not posted", { runId: run.runId, error: errorText(err) });
  }
  try {
    await deps.reports.trend?.(run.target, trendEntry(row, run.runId, run.requestedAt ?? run.endedAt ?? deps.clock.now().toISOString()));
  } catch (err) {
    log("restore-test trend not written", { runId: run.runId, error: errorText(err) });
  }
}
