/**
 * `npm run drill -- --html`: turns what the drill's sections return into out/drill-report.html with the pure
 * renderer in core/report/html. The backup calendar needs every simulated day, so the drill hands
 * {@link DrillHtml.onDay} to `runBackupYear`; the other sections' results are enough as they are.
 */
import { writeFileSync } from "node:fs";
import { tiersFor } from "../core/backup-plan.ts";
import type { CostDay } from "../core/cost.ts";
import type { buildCostRun } from "../core/report/cost.ts";
import { type BackupDayInput, backupCalendarCollector, type KeptTier } from "../core/report/html/backup-calendar.ts";
import { renderDrillHtml } from "../core/report/html/document.ts";
import type { GanttInput } from "../core/report/html/failover-gantt.ts";
import type { WarmPassInput } from "../core/report/html/warm-histogram.ts";
import type { WarmReport } from "../core/warm/report.ts";
import type { BackupYearResult } from "../sandbox/scenarios/backup-scenarios.ts";
import { DR, FLEET, PRIMARY, SCENARIO_CONFIG } from "../sandbox/scenarios/backup-scenarios.ts";
import type { FailoverScenarioResult } from "../sandbox/scenarios/failover-scenarios.ts";
import { parseConfig } from "../schemas/config.ts";
import { CostConfigSchema } from "../schemas/config-cost.ts";

/**
 * The failover's RTO target: the team's runbook gives "Database: 15 minutes" (the restore-test default
 * `rtoTargetMinutes`, schemas/config-restore-test.ts); the failover config has no target of its own.
 */
export const FAILOVER_RTO_TARGET_SECONDS = 15 * 60;

export interface DrillHtmlSections {
  year?: BackupYearResult;
  failover?: { outage: FailoverScenarioResult; lag: FailoverScenarioResult; warm?: WarmReport };
  cost?: ReturnType<typeof buildCostRun> & { days: readonly CostDay[] };
}

export interface DrillHtml {
  onDay(day: BackupDayInput): void;
  /** Renders and writes the file; returns its size in bytes. */
  write(file: string, sections: DrillHtmlSections): number;
}

export function drillHtml(): DrillHtml {
  const keys = [PRIMARY, DR].flatMap((region) => FLEET.map((r) => `${region}/${r.id}`));
  const calendar = backupCalendarCollector({ primaryRegion: PRIMARY, keys });
  let days = 0;
  const policies = new Map(parseConfig(SCENARIO_CONFIG).backup.policies.map((p) => [p.name, p]));
  // The tier a kept backup day counts in, as the year's summary counts it: monthly over weekly over daily.
  const tierOf = (key: string, day: string): KeptTier | undefined => {
    const resource = FLEET.find((r) => key.endsWith(`/${r.id}`));
    const policy = resource && policies.get(resource.policy);
    if (!policy) return undefined;
    const tiers = tiersFor(day, policy);
    return tiers.includes("monthly") ? "monthly" : tiers.includes("weekly") ? "weekly" : "daily";
  };
  return {
    onDay(day) {
      days++;
      calendar.add(day);
    },
    write(file, s) {
      const gantt = (r: FailoverScenarioResult, title: string): GanttInput => ({
        title: `${title}: ${r.result}`,
        timeline: r.timeline,
        rtoTargetSeconds: FAILOVER_RTO_TARGET_SECONDS,
        ...(r.rtoSeconds !== undefined ? { rtoSeconds: r.rtoSeconds } : {}),
        calls: r.mutatingCalls,
      });
      const pass = (p: "first" | "verify", w: WarmReport): WarmPassInput[] => {
        const stats = p === "first" ? w.first : w.verify;
        return stats
          ? [{ pass: p, hitRatio: stats.cache.hitRatio, requests: stats.requested, latencyMs: stats.latencyMs, histogram: stats.latencyHistogram }]
          : [];
      };
      const warm = s.failover?.warm;
      const html = renderDrillHtml({
        title: "ops-autopilot drill report",
        generatedAt: new Date().toISOString(),
        ...(s.year && days ? { backup: calendar.finish(tierOf) } : {}),
        ...(s.failover ? { failover: [gantt(s.failover.outage, "Region outage"), gantt(s.failover.lag, "Replica lagging too far")] } : {}),
        ...(warm ? { warm: [...pass("first", warm), ...pass("verify", warm)] } : {}),
        ...(s.cost
          ? {
              spend: {
                days: s.cost.days,
                reportDate: s.cost.reportDate,
                currency: s.cost.summary.currency,
                // The drill's cost section runs with the default cost config.
                dailyThreshold: CostConfigSchema.parse({}).dailyThreshold,
                monthToDate: s.cost.summary.monthToDate,
                forecast: s.cost.summary.forecast,
              },
            }
          : {}),
        facts: [
          ...(s.year
            ? ([
                [
                  "Backup year",
                  `${s.year.start} → ${s.year.end}: ${s.year.totals.created} created, ${s.year.totals.copies} copied, ${s.year.totals.deleted} pruned, ${s.year.totals.failedRuns} failed runs, ${s.year.totals.frozenDays} days frozen`,
                ],
              ] as [string, string][])
            : []),
          ...(s.failover?.outage.rtoSeconds !== undefined
            ? ([["Failover RTO", `${Math.round(s.failover.outage.rtoSeconds)} s against a target of ${FAILOVER_RTO_TARGET_SECONDS} s`]] as [string, string][])
            : []),
        ],
      });
      writeFileSync(file, html);
      return Buffer.byteLength(html);
    },
  };
}
