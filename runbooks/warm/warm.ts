import type { WarmEvent } from "../../schemas/events-warm.ts";
import type { WarmTargetSet } from "../../schemas/config-warm.ts";
import type { ItemFailure } from "../../core/types.ts";
import { selectTargetSets } from "../../core/warm/plan.ts";
import type { WarmReport } from "../../core/warm/report.ts";
import { warmMessage } from "../../core/report/warm.ts";
import type { HttpDeps } from "../../adapters/http-warm.ts";
import type { RunWarmInput } from "./engine.ts";
import { warmDeps } from "./deps.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The warm run: pick the target sets → for each, `runWarm` (plan, pace, verdicts in core; the engine in
 * ./engine.ts; HTTP in adapters/http-warm.ts) → one report and one Slack summary for all of them.
 *
 * URLs a run could not start before its deadline are saved (`state/warm/<set>/leftover.json`) and
 * warmed first by the next run, so a target set too big for one invocation is covered over several.
 */

export interface LeftoverStore {
  load(targetSet: string): Promise<string[]>;
  save(targetSet: string, urls: string[]): Promise<void>;
}

/** The warm run's ports; the real ones are wired in ./deps.ts. */
export interface WarmDeps {
  runWarm: (input: RunWarmInput) => Promise<WarmReport>;
  /** The HTTP transport for one target set's run, closed when that run ends. */
  http: (targets: WarmTargetSet) => HttpDeps;
  leftovers: (ctx: RunContext) => LeftoverStore;
}

export function createWarmRun(deps: Partial<WarmDeps> = {}) {
  const d = { ...warmDeps, ...deps };
  return async (event: WarmEvent, ctx: RunContext): Promise<RunOutcome> => {
    const sets = selectTargetSets(ctx.config.warm.targets, event);
    const store = d.leftovers(ctx);
    const reports: WarmReport[] = [];
    for (const targets of sets) {
      const resumeFirst = event.dryRun ? [] : await store.load(targets.name);
      const http = d.http(targets);
      let report: WarmReport;
      try {
        report = await d.runWarm({
          targets,
          http,
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
      } finally {
        http.close();
      }
      if (!event.dryRun && (report.leftover.length > 0 || resumeFirst.length > 0)) await store.save(targets.name, report.leftover);
      if (!event.dryRun && report.first) {
        const dimensions = { targetSet: targets.name };
        ctx.emitMetrics([
          { name: "WarmUrls", unit: "Count", value: report.first.requested, dimensions },
          { name: "WarmSuccessPercent", unit: "None", value: report.first.successPct, dimensions },
          { name: "WarmLatencyP95", unit: "Milliseconds", value: report.first.latencyMs.p95, dimensions },
          { name: "WarmStopped", unit: "Count", value: report.stopped ? 1 : 0, dimensions },
          ...(report.verify?.cache.hitRatio != null
            ? [{ name: "WarmHitRatioAfter", unit: "None" as const, value: report.verify.cache.hitRatio, dimensions }]
            : []),
        ]);
      }
      reports.push(report);
    }
    return {
      report: {
        trigger: event.trigger,
        dryRun: event.dryRun,
        ...(event.group ? { group: event.group } : {}),
        ...(event.note ? { note: event.note } : {}),
        targets: reports,
      },
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
