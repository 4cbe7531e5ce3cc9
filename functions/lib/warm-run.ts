import type { WarmEvent } from "../../schemas/events-warm.ts";
import type { ItemFailure } from "../../core/types.ts";
import { selectTargetSets, type WarmReport } from "../../core/warm.ts";
import { warmMessage } from "../../core/report/warm.ts";
import { runWarm, type RunWarmInput } from "../../adapters/http-warm.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import { linkedBucket } from "./resources.ts";
import type { RunContext, RunOutcome } from "./handler.ts";

/**
 * The warm run: pick the target sets → for each, `runWarm` (plan, pace, verdicts in core; HTTP in
 * adapters/http-warm.ts) → one report and one Slack summary for all of them.
 *
 * URLs a run could not start before its deadline are saved (`state/warm/<set>/leftover.json`) and
 * warmed first by the next run, so a target set too big for one invocation is covered over several.
 */

export interface LeftoverStore {
  load(targetSet: string): Promise<string[]>;
  save(targetSet: string, urls: string[]): Promise<void>;
}

export interface WarmDeps {
  runWarm: (input: RunWarmInput) => Promise<WarmReport>;
  leftovers: (ctx: RunContext) => LeftoverStore;
}

function s3Leftovers(ctx: RunContext): LeftoverStore {
  const docs = jsonDocuments(linkedBucket(ctx.config));
  const key = (set: string) => `state/warm/${set}/leftover.json`;
  // Unconditional (last writer wins): a leftover list another run overwrote only means those URLs wait for a later run.
  return {
    load: async (set) => (await docs.get<{ urls: string[] }>(key(set)))?.body.urls ?? [],
    save: async (set, urls) => docs.put(key(set), { urls, savedAt: ctx.now().toISOString() }),
  };
}

export const defaultWarmDeps: WarmDeps = { runWarm, leftovers: s3Leftovers };

export function createWarmRun(deps: Partial<WarmDeps> = {}) {
  const d = { ...defaultWarmDeps, ...deps };
  return async (event: WarmEvent, ctx: RunContext): Promise<RunOutcome> => {
    const sets = selectTargetSets(ctx.config.warm.targets, event);
    const store = d.leftovers(ctx);
    const reports: WarmReport[] = [];
    for (const targets of sets) {
      const resumeFirst = event.dryRun ? [] : await store.load(targets.name);
      const report = await d.runWarm({
        targets,
        // Real time, not ctx.now(): the token bucket refills with it, and scenario clocks may be frozen.
        now: Date.now,
        deadline: ctx.remainingMs,
        deadlineMarginMs: ctx.config.warm.deadlineMarginMs,
        dryRun: event.dryRun,
        ...(event.verify !== undefined ? { verify: event.verify } : {}),
        ...(resumeFirst.length ? { resumeFirst } : {}),
        // Per-URL "warm" decisions are in the report's plan; the log gets the exceptions.
        log: (decision) => {
          if (decision.action !== "warm") ctx.logger.info("warm decision", { targetSet: targets.name, ...decision });
        },
      });
      if (!event.dryRun && (report.leftover.length > 0 || resumeFirst.length > 0)) await store.save(targets.name, report.leftover);
      if (!event.dryRun && report.first) {
        const dimensions = { targetSet: targets.name };
        ctx.emitMetrics([
          { name: "WarmUrls", unit: "Count", value: report.first.requested, dimensions },
          { name: "WarmSuccessPercent", unit: "None", value: report.first.successPct, dimensions },
          { name: "WarmLatencyP95", unit: "Milliseconds", value: report.first.latencyMs.p95, dimensions },
          { name: "WarmStopped", unit: "Count", value: report.stopped ? 1 : 0, dimensions },
          ...(report.verify?.cache.hitRatio != null ? [{ name: "WarmHitRatioAfter", unit: "None" as const, value: report.verify.cache.hitRatio, dimensions }] : []),
        ]);
      }
      reports.push(report);
    }
    return {
      report: { trigger: event.trigger, dryRun: event.dryRun, ...(event.group ? { group: event.group } : {}), ...(event.note ? { note: event.note } : {}), targets: reports },
      message: sets.length ? warmMessage(reports, { app: ctx.config.app, stage: ctx.config.stage, trigger: event.trigger }) : null,
      failures: warmFailures(reports),
    };
  };
}

/** Run errors (unreadable sitemap, refused host, origin struggling) and failed URLs, for the aggregate error. */
export function warmFailures(reports: readonly WarmReport[]): ItemFailure[] {
  return reports.flatMap((r) => [
    ...r.errors.map((message): ItemFailure => ({ item: `warm:${r.targetSet}`, kind: "fatal", message })),
    ...r.failed.map(
      (f): ItemFailure => ({
        item: f.url,
        kind: f.outcome === "timeout" || (f.status !== undefined && (f.status === 429 || f.status >= 500)) ? "retryable" : "fatal",
        message: `${f.status !== undefined ? `HTTP ${f.status}` : f.outcome}${f.message ? `: ${f.message}` : ""}`,
      }),
    ),
  ]);
}

export const runWarmFunction = createWarmRun();
