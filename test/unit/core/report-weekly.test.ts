import { describe, expect, it } from "vitest";
import { renderDrillHtml } from "../../../core/report/html/document.ts";
import {
  isoWeekOf,
  keysToRead,
  previousWeek,
  type SavedReport,
  weekDays,
  weeklyHtmlKey,
  weeklyPrefixes,
  weeklyReport,
  type WeeklyInput,
} from "../../../core/report/weekly.ts";
import { WEEKLY_REPORT_PREFIXES } from "../../../core/run-cost.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { all, hasClass, parseReport } from "../../support/html-report.ts";

const config = parseConfig({ stage: "prod", primaryRegion: "eu-west-1", drRegions: [{ region: "eu-central-1", kmsKeyId: "alias/dr" }] });

function input(reports: SavedReport[], reading: Partial<WeeklyInput["reading"]> = {}): WeeklyInput {
  return {
    week: "2025-W41",
    reports,
    owner: { app: config.app, stage: config.stage },
    primaryRegion: "eu-west-1",
    drRegions: ["eu-central-1"],
    policies: config.backup.policies,
    dailyThreshold: 100,
    generatedAt: "2025-10-13T06:00:00.000Z",
    reading: { listed: reports.length, read: reports.length, leftOut: 0, unreadable: [], ...reading },
  };
}

const report = (source: SavedReport["source"], day: string, body: Record<string, unknown>, n = 1): SavedReport => ({
  key: `reports/${source}/${day}/${day}T02-00-00-000Z-${source}-${n}.json`,
  source,
  day,
  body: { function: source, ...body },
});

describe("ISO weeks", () => {
  it.each([
    ["2025-10-06", "2025-W41"],
    ["2025-10-12", "2025-W41"],
    ["2025-12-29", "2026-W01"],
    ["2021-01-03", "2020-W53"],
    ["2026-12-31", "2026-W53"],
  ])("%s is in %s", (day, week) => {
    expect(isoWeekOf(day)).toBe(week);
    expect(weekDays(week)).toContain(day);
  });

  it("a week runs Monday to Sunday", () => {
    expect(weekDays("2026-W01")).toEqual(["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]);
  });

  it("refuses a week the year does not have", () => {
    expect(() => weekDays("2025-W53")).toThrow(new RangeError("2025 has no week 53"));
    expect(() => weekDays("2025-W00")).toThrow(new RangeError("2025 has no week 00"));
    expect(() => weekDays("2025-41")).toThrow(new RangeError('not an ISO week (yyyy-Www): "2025-41"'));
  });

  it("the Monday run reports the week that just ended, whatever the hour", () => {
    expect(previousWeek(new Date("2025-10-13T06:00:00Z"))).toBe("2025-W41");
    expect(previousWeek(new Date("2025-10-19T23:59:59Z"))).toBe("2025-W41");
    expect(previousWeek(new Date("2026-01-05T06:00:00Z"))).toBe("2026-W01");
  });
});

describe("where the weekly report reads and writes", () => {
  it("lists each function's day prefixes of the week, and 14 days of cost reports", () => {
    const prefixes = weeklyPrefixes("2025-W41");
    expect(prefixes.length).toBe(WEEKLY_REPORT_PREFIXES);
    expect(prefixes.filter((p) => p.source === "backup").map((p) => p.prefix)).toEqual(weekDays("2025-W41").map((d) => `reports/backup/${d}/`));
    expect(prefixes.filter((p) => p.source === "cost").map((p) => p.day)).toEqual([
      "2025-09-29",
      "2025-09-30",
      "2025-10-01",
      "2025-10-02",
      "2025-10-03",
      "2025-10-04",
      "2025-10-05",
      ...weekDays("2025-W41"),
    ]);
    expect(weeklyHtmlKey("2025-W41")).toBe("reports/weekly/2025-W41.html");
  });

  it("under a cap, keeps every function's newest reports and leaves out the oldest of the chattiest", () => {
    const listed = [
      ...Array.from({ length: 10 }, (_, i) => ({
        source: "watchdog" as const,
        key: `reports/watchdog/2025-10-0${i < 9 ? 6 : 7}/w${String(i).padStart(2, "0")}.json`,
      })),
      { source: "backup" as const, key: "reports/backup/2025-10-06/b.json" },
      { source: "prune" as const, key: "reports/prune/2025-10-06/p.json" },
    ];
    expect(keysToRead(listed, 20)).toEqual({ read: listed.map((l) => l.key).sort(), leftOut: 0 });
    const cut = keysToRead(listed, 5);
    expect(cut.leftOut).toBe(7);
    expect(cut.read).toEqual([
      "reports/backup/2025-10-06/b.json",
      "reports/prune/2025-10-06/p.json",
      "reports/watchdog/2025-10-06/w07.json",
      "reports/watchdog/2025-10-06/w08.json",
      "reports/watchdog/2025-10-07/w09.json",
    ]);
  });
});

describe("weekly report from run reports", () => {
  it("says what was left out over the cap and which reports could not be read, in the HTML's facts", () => {
    const { html } = weeklyReport(input([], { listed: 600, read: 500, leftOut: 100, unreadable: ["reports/copy/2025-10-06/x.json"] }));
    const doc = parseReport(renderDrillHtml(html));
    expect(all(doc, (n) => n.name === "dd").map((n) => n.text)).toContain("500 read of 600 listed; 100 left out (over the cap on objects read); 1 unreadable");
    expect(all(doc, (n) => hasClass(n, "missing")).map((n) => n.text)).toEqual([
      "No backup, copy or prune run reports this week.",
      "The failover keeps its run reports in its own state bucket in the DR region, so that it survives a primary outage; this report does not read them (see the failover's Step Functions executions).",
      "No cache warming run this week.",
      "No cost run reports in the 14 days.",
    ]);
  });

  it("builds a day's spend from its movers and the rest as other services, month and forecast from the newest report", () => {
    const summary = (reportDate: string, total: number, movers: { service: string; amount: number }[], mtd: number) => ({
      summary: {
        reportDate,
        currency: "EUR",
        total,
        estimated: false,
        movers,
        missingDays: [],
        monthToDate: { total: mtd, budget: 3000 },
        forecast: { kind: "projected", monthEnd: 3100, percentOfBudget: 103, monthComplete: false },
      },
    });
    const { html, summary: s } = weeklyReport(
      input([
        report("cost", "2025-10-11", summary("2025-10-10", 150, [{ service: "EC2", amount: 110 }], 1400)),
        report(
          "cost",
          "2025-10-12",
          summary(
            "2025-10-11",
            160.5,
            [
              { service: "EC2", amount: 120 },
              { service: "S3", amount: 30 },
            ],
            1560.5,
          ),
        ),
        // A dry run is left out.
        report("cost", "2025-10-12", { dryRun: true, ...summary("2025-10-11", 999, [], 9999) }, 2),
      ]),
    );
    expect(html.spend).toEqual({
      days: [
        { date: "2025-10-10", estimated: false, services: { EC2: 110, "other services": 40 } },
        { date: "2025-10-11", estimated: false, services: { EC2: 120, S3: 30, "other services": 10.5 } },
      ],
      reportDate: "2025-10-11",
      currency: "EUR",
      dailyThreshold: 100,
      monthToDate: { total: 1560.5, budget: 3000 },
      forecast: { kind: "projected", monthEnd: 3100, percentOfBudget: 103, monthComplete: false },
    });
    expect(s.costDays).toBe(2);
    expect(html.facts).toContainEqual(["Spend", "cost run reports keep each day's total and its movers, so the rest of a day is one segment (other services)"]);
  });

  it("counts a failed run, the watchdog's alerts by kind, and a backup that failed outright as failed cells", () => {
    const { summary } = weeklyReport(
      input([
        report("backup", "2025-10-06", {
          decisions: [{ action: "create", resource: "app-db", name: "oa-ops-autopilot-prod-app-db-20251006" }],
          results: [{ resource: "app-db", name: "oa-ops-autopilot-prod-app-db-20251006", status: "done" }],
          failures: [],
        }),
        report("backup", "2025-10-07", { status: "failed", failures: [{ item: "run", kind: "fatal", message: "AccessDenied" }] }),
        report("watchdog", "2025-10-07", {
          stale: 2,
          alerts: [
            { key: "stale:db:eu-west-1", kind: "started", delivered: true },
            { key: "x", kind: "hold" },
          ],
        }),
        report("watchdog", "2025-10-08", { stale: 0, alerts: [{ key: "stale:db:eu-west-1", kind: "resolved", delivered: true }] }, 2),
      ]),
    );
    expect(summary.failedRuns.backup).toBe(1);
    expect(summary.watchdog).toEqual({ staleRuns: 1, alerts: { started: 1, resolved: 1 } });
    expect(summary.backups).toEqual({ created: 1, copied: 0, failed: 1, missing: 12, pruned: 0, frozenCells: 0 });
  });
});
