import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tiersFor } from "../../core/backup-plan.ts";
import type { CostDay } from "../../core/cost.ts";
import { addDays } from "../../core/calendar.ts";
import { s3ObjectConsoleUrl } from "../../core/console-urls.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { weekDays } from "../../core/report/weekly.ts";
import { createHandler, type Runtime } from "../../runbooks/lib/handler.ts";
import { runCost } from "../../runbooks/cost/cost.ts";
import { createWarmRun } from "../../runbooks/warm/warm.ts";
import { weeklyReportDeps } from "../../runbooks/weekly-report/deps.ts";
import { runWeeklyReport } from "../../runbooks/weekly-report/weekly-report.ts";
import type { Sandbox } from "../../sandbox/index.ts";
import {
  type DayState,
  DR,
  FLEET,
  PRIMARY,
  REPORTS_BUCKET,
  runBackupYear,
  SCENARIO_CONFIG,
  WATCHDOG_HOURLY,
} from "../../sandbox/scenarios/backup-scenarios.ts";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import { startWarmServer, type WarmServer } from "../../sandbox/scenarios/http-origin.ts";
import { parseConfig } from "../../schemas/config.ts";
import { parseCostEvent } from "../../schemas/events-cost.ts";
import { parseWarmEvent } from "../../schemas/events-warm.ts";
import { parseWeeklyReportEvent } from "../../schemas/events-weekly-report.ts";
import { all, externalReferences, hasClass, type Node, parseReport } from "../support/html-report.ts";

/**
 * The weekly report on the sandbox, under IAM enforcement: twelve days of the drill's fleet run through the real
 * handlers (backup, copy, prune, the hourly watchdog, a 2-day backup outage), a cost run every evening (Cost Explorer
 * is not simulated: its fetch is a fixed series) and two cache warmings against a local origin, all saving their run
 * reports to the sandbox's Reports bucket; then, on the Monday, the weekly-report function (its own role: list under
 * reports/, read reports/*, write reports/weekly/*) reads them back and writes the week 2025-W41 (Oct 6–12). Its HTML is
 * parsed strictly and counted against what the days did; its key, Content-Type and Slack message are exact.
 */

const WEEK = "2025-W41";
const DAYS = weekDays(WEEK);
const HTML_KEY = `reports/weekly/${WEEK}.html`;
const CONSOLE_URL = `https://s3.console.aws.amazon.com/s3/object/${REPORTS_BUCKET}?region=${PRIMARY}&prefix=reports/weekly/${WEEK}.html`;
const WARM_DAYS = ["2025-10-07", "2025-10-10"];
const URLS = 6;

/** The fixed spend of a day: EC2 grows a dollar a day, S3 and Lambda flat. */
const spend = (date: string): CostDay => ({
  date,
  estimated: false,
  services: { EC2: 100 + Number(date.slice(8)), S3: 40, "AWS Lambda": 3.5 },
});
const total = (d: CostDay) => Math.round(Object.values(d.services).reduce((a, b) => a + b, 0) * 100) / 100;

interface WeeklyRun {
  out?: Record<string, unknown>;
  error?: unknown;
  posted: { message: SlackMessage; destination?: string }[];
  weeklyObjects: string[];
  ms: number;
}

const states: DayState[] = [];
let dry: WeeklyRun;
let capped: WeeklyRun;
let real: WeeklyRun;
let html = "";
let contentType: string | undefined;
let doc: Node;
let denials: unknown[] = [];
let reportKeysInWeek = 0;
let server: WarmServer;

beforeAll(async () => {
  server = await startWarmServer();
  const config = parseConfig({
    ...SCENARIO_CONFIG,
    warm: {
      targets: [{ name: "www", urls: Array.from({ length: URLS }, (_, i) => `${server.origin}/page/${i}`), allowPrivate: true, ratePerSecond: "unlimited" }],
    },
  });
  const bucket = { bucket: REPORTS_BUCKET, region: PRIMARY };
  const runtimeFor = (sb: Sandbox, posted: WeeklyRun["posted"] = []): Runtime => ({
    config: () => config,
    now: () => sb.clock.now(),
    reportBucket: () => bucket,
    postSlack: async (message, destination) => void posted.push({ message, ...(destination ? { destination } : {}) }),
    publish: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ serviceName: "ops-autopilot", logLevel: "SILENT" }),
  });
  let seq = 0;
  const weekly = async (sb: Sandbox, event: unknown, maxObjects?: number): Promise<WeeklyRun> => {
    const posted: WeeklyRun["posted"] = [];
    const handler = createHandler(
      {
        name: "weekly-report",
        parse: parseWeeklyReportEvent,
        run: (e, c) =>
          runWeeklyReport(
            e,
            c,
            weeklyReportDeps(() => bucket),
            maxObjects ? { maxObjects } : {},
          ),
      },
      runtimeFor(sb, posted),
    );
    const started = performance.now();
    const run: WeeklyRun = { posted, weeklyObjects: [], ms: 0 };
    try {
      run.out = (await handler(event, lambdaContext(`weekly-${++seq}`))) as Record<string, unknown>;
    } catch (error) {
      run.error = error;
    }
    run.ms = Math.round(performance.now() - started);
    run.weeklyObjects = sb.s3.objects(REPORTS_BUCKET, "reports/weekly/").map((o) => o.key);
    return run;
  };

  await runBackupYear({
    start: "2025-10-01",
    days: 12,
    outage: { fromDay: 7, days: 2 },
    watchdogHours: WATCHDOG_HOURLY,
    onDay: async (state, sb) => {
      states.push(state);
      const evening = (h: number, m: number) => sb.clock.set(`${state.day}T${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:00Z`);
      // The cost digest of the day before, from a fixed Cost Explorer series.
      evening(23, 20);
      const cost = createHandler(
        {
          name: "cost",
          parse: parseCostEvent,
          run: (e, c) =>
            runCost(e, c, {
              fetch: async (req) => {
                const days: CostDay[] = [];
                for (let d = addDays(req.reportDate, -(req.windowDays + 20)); d <= req.reportDate; d = addDays(d, 1)) days.push(spend(d));
                return {
                  days,
                  forecast: { kind: "forecast", remaining: 2000 },
                  calls: 1,
                  attempts: 1,
                  period: { start: days[0]!.date, end: addDays(req.reportDate, 1) },
                  currency: "USD",
                };
              },
            }),
        },
        runtimeFor(sb),
      );
      await cost({ trigger: "schedule" }, lambdaContext(`cost-${state.day}`));
      if (WARM_DAYS.includes(state.day)) {
        evening(23, 40);
        server.cached.clear();
        const warm = createHandler(
          { name: "warm", parse: parseWarmEvent, run: createWarmRun({ leftovers: () => ({ load: async () => [], save: async () => {} }) }) },
          runtimeFor(sb),
        );
        await warm({ trigger: "manual" }, lambdaContext(`warm-${state.day}`));
      }
      if (state.day !== DAYS[6]) return;
      reportKeysInWeek = DAYS.reduce((n, d) => n + sb.s3.objects(REPORTS_BUCKET, "reports/").filter((o) => o.key.split("/")[2] === d).length, 0);
      sb.clock.set("2025-10-13T06:00:00Z");
      dry = await weekly(sb, { trigger: "manual", week: WEEK, dryRun: true });
      capped = await weekly(sb, { trigger: "manual", week: WEEK, dryRun: true }, 50);
      real = await weekly(sb, { trigger: "schedule" });
      const object = sb.s3.objects(REPORTS_BUCKET, HTML_KEY)[0];
      html = object?.body ?? "";
      contentType = object?.contentType;
      denials = [...(sb.iam?.denials ?? [])];
    },
  });
  doc = parseReport(html);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

const week = () => states.filter((s) => DAYS.includes(s.day));
const rows = () => all(doc, (n) => n.name === "g" && hasClass(n, "calendar"));
const cellsOf = (row: Node) => all(row, (n) => n.name === "rect" && hasClass(n, "cell"));

describe("weekly report on the sandbox", () => {
  it("runs under the function's own role with no denial, and writes exactly one object: the week's HTML, as text/html", () => {
    expect(denials).toEqual([]);
    expect(real.error).toBeUndefined();
    expect(real.weeklyObjects).toEqual([HTML_KEY]);
    expect(contentType).toBe("text/html; charset=utf-8");
    expect(externalReferences(doc)).toEqual([]);
  });

  it("the dry run renders the same report, writes nothing under reports/weekly/ and posts nothing", () => {
    expect(dry.error).toBeUndefined();
    expect(dry.weeklyObjects).toEqual([]);
    expect(dry.posted).toEqual([]);
    expect(dry.out).toMatchObject({ dryRun: true, written: false, htmlKey: HTML_KEY, htmlUrl: CONSOLE_URL });
    expect(renderText(real.posted[0]!.message)).toContain(dry.out!.messageText as string);
  });

  it("posts one run summary to the runs channel, linking the HTML in the S3 console", () => {
    const created = week().reduce((n, s) => n + s.created, 0);
    const failedRuns = (real.out!.summary as { failedRuns: Record<string, number> }).failedRuns;
    expect(failedRuns).toEqual({ backup: 2, copy: 0, prune: 0, watchdog: 0, warm: 0, cost: 0 });
    const runReport = s3ObjectConsoleUrl({ bucket: REPORTS_BUCKET, region: PRIMARY }, real.out!.reportKey as string);
    expect(real.out!.reportKey).toBe("reports/weekly-report/2025-10-13/2025-10-13T06-00-00-000Z-weekly-3.json");
    expect(real.posted.map((p) => [p.destination, p.message.text])).toEqual([
      [
        "runs-slack",
        `Weekly report ${WEEK}: ${created} backups created, ${created} copied, ${2 * FLEET.length} failed; 2 failed runs\n<${CONSOLE_URL}|Open the weekly report>\n<${runReport}|Run report>`,
      ],
    ]);
    expect(renderText(real.posted[0]!.message)).toContain(`Open the weekly report (${CONSOLE_URL})`);
  });

  it("reads every run report of the week (and two weeks of cost reports), and says what a cap on objects left out", () => {
    const objects = real.out!.objects as { listed: number; read: number; leftOut: number; prefixes: number; listCalls: number; bytesRead: number };
    // Every report of the week's days plus the cost reports of the week before, bar the weekly report's own dry runs.
    const costBefore = 5; // cost runs on Oct 1–5 (the scenario starts on Oct 1)
    expect(objects.listed).toBe(reportKeysInWeek + costBefore);
    expect(objects).toMatchObject({ read: objects.listed, leftOut: 0, prefixes: 49, listCalls: 49 });
    expect(capped.out!.objects).toMatchObject({ read: 50, leftOut: objects.listed - 50 });
    expect(capped.out!.messageText).toContain(`${objects.listed - 50} run report(s) left out: over the cap on objects read.`);
    console.log(
      `weekly report ${WEEK} (drill fleet, hourly watchdog): ${objects.listCalls} ListObjectsV2 calls, ${objects.read} objects read (${Math.round(objects.bytesRead / 1024)} KB), HTML ${real.out!.htmlBytes} bytes, ${real.ms} ms`,
    );
  });

  it("draws a calendar row per resource and region with a cell per day of the week, each what the day left behind", () => {
    expect(rows().map((r) => `${r.attrs["data-region"]}/${r.attrs["data-resource"]}`)).toEqual(
      [PRIMARY, DR].flatMap((region) => FLEET.map((r) => `${region}/${r.id}`)),
    );
    const sunday = week().at(-1)!;
    for (const row of rows()) {
      const key = `${row.attrs["data-region"]}/${row.attrs["data-resource"]}`;
      const primary = row.attrs["data-region"] === PRIMARY;
      const cells = cellsOf(row);
      expect(cells.map((c) => c.attrs["data-date"])).toEqual(DAYS);
      const expected = week().map((s) => (s.kept[key]?.includes(s.day) ? (primary ? "created" : "copied") : primary && s.outage ? "failed" : "missing"));
      expect(
        cells.map((c) => c.attrs["data-kind"]),
        key,
      ).toEqual(expected);
      expect(
        cells.map((c) => c.attrs["data-frozen"] === "true"),
        key,
      ).toEqual(week().map((s) => s.frozen.some((f) => f.startsWith(`${key}:`))));
      // Kept at the end of the week, by tier, as the policy counts it.
      const policy = parseConfig(SCENARIO_CONFIG).backup.policies.find((p) => p.name === FLEET.find((r) => key.endsWith(`/${r.id}`))!.policy)!;
      const tier = (d: string) => {
        const t = tiersFor(d, policy);
        return t.includes("monthly") ? "monthly" : t.includes("weekly") ? "weekly" : "daily";
      };
      expect(
        cells.map((c) => c.attrs["data-tier"]),
        key,
      ).toEqual(DAYS.map((d) => (sunday.kept[key]?.includes(d) ? tier(d) : undefined)));
    }
    expect(all(doc, (n) => n.attrs["data-kind"] === "failed").length).toBe(2 * FLEET.length);
  });

  it("dots as many pruned snapshots as the week's prunes deleted", () => {
    const pruned = all(doc, (n) => n.attrs["data-kind"] === "pruned").reduce((s, n) => s + Number(n.attrs["data-count"]), 0);
    expect(pruned).toBe(week().reduce((n, s) => n + s.deleted.length, 0));
    expect(pruned).toBeGreaterThan(0);
    expect(week().flatMap((s) => s.foreignDeletes)).toEqual([]);
  });

  it("draws 14 spend columns: a day's total as the cost run reported it, the days before the first run empty", () => {
    const columns = all(doc, (n) => n.name === "g" && hasClass(n, "column"));
    const dates = Array.from({ length: 14 }, (_, i) => addDays("2025-10-11", i - 13));
    expect(columns.map((c) => c.attrs["data-date"])).toEqual(dates);
    expect(columns.map((c) => Number(c.attrs["data-total"]))).toEqual(dates.map((d) => (d >= "2025-09-30" ? total(spend(d)) : 0)));
    expect(columns.filter((c) => c.attrs["data-missing"] === "true").map((c) => c.attrs["data-date"])).toEqual(["2025-09-28", "2025-09-29"]);
    expect(all(doc, (n) => n.attrs["data-kind"] === "daily-threshold")[0]!.attrs["data-value"]).toBe(String(parseConfig(SCENARIO_CONFIG).cost.dailyThreshold));
  });

  it("adds up both warming passes of the week's runs, and says why the failover is not in it", () => {
    const passes = all(doc, (n) => n.name === "g" && hasClass(n, "histogram"));
    expect(passes.map((p) => p.attrs["data-pass"])).toEqual(["first", "verify"]);
    for (const p of passes) {
      expect(all(p, (n) => n.attrs["data-count"] !== undefined).reduce((s, n) => s + Number(n.attrs["data-count"]), 0)).toBe(WARM_DAYS.length * URLS);
    }
    // Each run's first pass misses (the origin's cache was emptied) and its verification hits.
    expect(passes.map((p) => p.attrs["data-hit-ratio"])).toEqual(["0", "1"]);
    const failover = all(doc, (n) => n.name === "section" && n.attrs.id === "failover")[0]!;
    expect(all(failover, (n) => hasClass(n, "missing"))[0]!.text).toBe(
      "The failover keeps its run reports in its own state bucket in the DR region, so that it survives a primary outage; this report does not read them (see the failover's Step Functions executions).",
    );
  });
});
