import pLimit from "p-limit";
import type { WeeklyReportEvent } from "../../schemas/events-weekly-report.ts";
import { renderDrillHtml } from "../../core/report/html/document.ts";
import { renderText } from "../../core/report/blocks.ts";
import {
  keysToRead,
  previousWeek,
  type SavedReport,
  type WeeklySource,
  weeklyHtmlKey,
  weeklyMessage,
  weeklyPrefixes,
  weeklyReport,
} from "../../core/report/weekly.ts";
import { s3ObjectConsoleUrl } from "../../core/console-urls.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The weekly report: list the week's saved run reports (one ListObjectsV2 per function and UTC day, paged) → read
 * them (at most `maxObjects`; what the cap leaves out is counted in the report and the HTML) → the drill's renderer
 * (core/report/weekly.ts maps the reports to its input) → `reports/weekly/<yyyy>-W<ww>.html` in the Reports bucket →
 * one run summary linking it (S3 console URL). A dry run renders and reports the key, the size and the message, and
 * writes and posts nothing.
 */

/** The Reports bucket as the weekly report uses it: list, read, write its HTML. Real ones in ./deps.ts. */
export interface WeeklyReportDeps {
  bucket: () => BucketRef;
  list: (prefix: string) => Promise<{ keys: string[]; pages: number; truncated: boolean }>;
  read: (key: string) => Promise<{ text: string; bytes: number }>;
  write: (key: string, html: string) => Promise<void>;
}

/**
 * Objects read at most. A week of the example's fleet is about 550 run reports (the copy every 30 min and the hourly
 * watchdog are most of them, ~20 KB each), well inside the function's memory and time at this cap.
 */
export const MAX_OBJECTS = 2000;
/** Requests in flight to S3 at once: far below S3's per-prefix rates, enough to read a week in seconds. */
const CONCURRENCY = 16;

export async function runWeeklyReport(
  event: WeeklyReportEvent,
  ctx: RunContext,
  deps: WeeklyReportDeps,
  options: { maxObjects?: number } = {},
): Promise<RunOutcome> {
  const { config } = ctx;
  const week = event.week ?? previousWeek(ctx.now());
  const limit = pLimit(CONCURRENCY);
  const prefixes = weeklyPrefixes(week);
  const maxObjects = options.maxObjects ?? MAX_OBJECTS;

  // Each prefix lists at most the cap: one day of one function beyond it would be cut anyway.
  let listCalls = 0;
  const listed: { source: WeeklySource; day: string; key: string }[] = [];
  let listTruncated = 0;
  await Promise.all(
    prefixes.map((p) =>
      limit(async () => {
        const out = await deps.list(p.prefix);
        listCalls += out.pages;
        if (out.truncated) listTruncated++;
        for (const key of out.keys) if (key.endsWith(".json")) listed.push({ source: p.source, day: p.day, key });
      }),
    ),
  );
  const bySource = new Map(listed.map((l) => [l.key, l]));
  const { read: toRead, leftOut: overCap } = keysToRead(listed, maxObjects);

  const reports: SavedReport[] = [];
  const unreadable: { key: string; message: string }[] = [];
  let bytesRead = 0;
  let stoppedAtDeadline = 0;
  await Promise.all(
    toRead.map((key) =>
      limit(async () => {
        if (ctx.nearDeadline()) {
          stoppedAtDeadline++;
          return;
        }
        const l = bySource.get(key)!;
        try {
          const { text, bytes } = await deps.read(key);
          bytesRead += bytes;
          const body = JSON.parse(text) as unknown;
          if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not a JSON object");
          reports.push({ key, source: l.source, day: l.day, body: body as Record<string, unknown> });
        } catch (err) {
          unreadable.push({ key, message: (err as Error).message });
        }
      }),
    ),
  );
  reports.sort((a, b) => (a.key < b.key ? -1 : 1));
  unreadable.sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const u of unreadable) ctx.logger.warn("run report not readable", { ...u });
  const leftOut = overCap + stoppedAtDeadline;

  const { html: input, summary } = weeklyReport({
    week,
    reports,
    owner: { app: config.app, stage: config.stage },
    primaryRegion: config.primaryRegion,
    drRegions: config.drRegions.map((d) => d.region),
    policies: config.backup.policies,
    dailyThreshold: config.cost.dailyThreshold,
    generatedAt: ctx.now().toISOString(),
    reading: { listed: listed.length, read: reports.length, leftOut, unreadable: unreadable.map((u) => u.key) },
  });
  const html = renderDrillHtml(input);
  const htmlKey = weeklyHtmlKey(week);
  const bytes = Buffer.byteLength(html);
  const url = s3ObjectConsoleUrl(deps.bucket(), htmlKey);
  if (!event.dryRun) await deps.write(htmlKey, html);
  const message = weeklyMessage(summary, { app: config.app, stage: config.stage, key: htmlKey, url, bytes, leftOut });
  ctx.logger.info("weekly report", { week, htmlKey, bytes, listed: listed.length, read: reports.length, leftOut, dryRun: event.dryRun });

  return {
    report: {
      trigger: event.trigger,
      dryRun: event.dryRun,
      ...(event.note ? { note: event.note } : {}),
      week,
      htmlKey,
      htmlUrl: url,
      htmlBytes: bytes,
      written: !event.dryRun,
      objects: {
        prefixes: prefixes.length,
        listCalls,
        listed: listed.length,
        read: reports.length,
        bytesRead,
        leftOut,
        ...(stoppedAtDeadline ? { leftAtDeadline: stoppedAtDeadline } : {}),
        ...(listTruncated ? { prefixesCut: listTruncated } : {}),
        maxObjects,
      },
      unreadable,
      summary,
      ...(event.dryRun ? { messageText: renderText(message) } : {}),
    },
    message,
    failures: [],
    // It wrote the week's report: quiet run summaries still send it.
    changed: true,
  };
}
