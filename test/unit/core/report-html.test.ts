import { describe, expect, it } from "vitest";
import { type BackupDayInput, backupCalendarCollector } from "../../../core/report/html/backup-calendar.ts";
import { renderDrillHtml, type DrillHtmlInput } from "../../../core/report/html/document.ts";
import { escapeHtml } from "../../../core/report/html/escape.ts";
import { GANTT, type GanttInput, ganttScale } from "../../../core/report/html/failover-gantt.ts";
import { SPEND, type SpendInput } from "../../../core/report/html/spend-bars.ts";
import { bucketLatencies } from "../../../core/report/html/warm-histogram.ts";
import { summarizePass, type WarmResult } from "../../../core/warm/report.ts";
import { all, externalReferences, hasClass, type Node, parseReport } from "../../support/html-report.ts";

const day = (i: number) => new Date(Date.UTC(2025, 9, 1) + i * 86_400_000).toISOString().slice(0, 10);

/** A small year: `n` days of one resource in two regions; creation fails on `failDays`, pruning is frozen then. */
function calendarFor(n: number, failDays: number[], resource = "app-db") {
  const c = backupCalendarCollector({ primaryRegion: "eu-west-1", keys: [`eu-west-1/${resource}`, `eu-central-1/${resource}`] });
  const made: string[] = [];
  for (let i = 0; i < n; i++) {
    const failed = failDays.includes(i);
    if (!failed) made.push(day(i));
    // Keep the newest 3 backups: the 4th newest is pruned on the day after it drops out.
    const kept = made.slice(-3);
    const d: BackupDayInput = {
      day: day(i),
      kept: { [`eu-west-1/${resource}`]: kept, [`eu-central-1/${resource}`]: kept },
      frozen: failed ? [`eu-west-1/${resource}: newest backup older than 26 h`] : [],
      failures: failed ? [`backup: ${resource}: fatal: AccessDenied`] : [],
      outage: failed,
    };
    c.add(d);
  }
  return c.finish((_key, d) => (d.endsWith("-01") ? "monthly" : "daily"));
}

const gantt: GanttInput = {
  title: "Region outage: done",
  timeline: [
    { step: "alarm", start: "2025-03-04T10:04:00.000Z", end: "2025-03-04T10:04:00.000Z", result: "ALARM" },
    { step: "promote", start: "2025-03-04T10:04:20.000Z", end: "2025-03-04T10:09:20.000Z", result: "writable" },
    { step: "dns-change", start: "2025-03-04T10:09:20.000Z", end: "2025-03-04T10:09:21.015Z", result: "UPSERT accepted" },
    { step: "verify-health", start: "2025-03-04T10:09:21.015Z", end: "2025-03-04T10:10:01.015Z", result: "healthy" },
  ],
  rtoTargetSeconds: 900,
  rtoSeconds: 361.015,
  calls: [
    { command: "PromoteReadReplica", at: "2025-03-04T10:04:20.000Z" },
    { command: "ChangeResourceRecordSets", at: "2025-03-04T10:09:20.000Z", error: "Throttling" },
    { command: "ChangeResourceRecordSets", at: "2025-03-04T10:09:20.448Z", error: "PriorRequestNotComplete" },
    { command: "ChangeResourceRecordSets", at: "2025-03-04T10:09:21.015Z" },
  ],
};

const spend: SpendInput = {
  days: Array.from({ length: 20 }, (_, i) => ({
    date: `2026-11-${String(i + 1).padStart(2, "0")}`,
    estimated: i === 19,
    services: { EC2: i === 19 ? 330 : 105, RDS: 140, S3: 40, Lambda: i % 2 ? 6.2 : 0 },
  })),
  reportDate: "2026-11-20",
  currency: "USD",
  dailyThreshold: 500,
  monthToDate: { total: 6000, budget: 8000 },
  forecast: { kind: "projected", monthEnd: 9900, percentOfBudget: 124, monthComplete: false },
};

function doc(input: Partial<DrillHtmlInput> = {}): Node {
  return parseReport(
    renderDrillHtml({
      title: "drill",
      generatedAt: "2026-11-30T00:00:00.000Z",
      backup: calendarFor(40, [20, 21, 22]),
      failover: [gantt],
      warm: [
        {
          pass: "first",
          hitRatio: 0,
          requests: 6,
          latencyMs: { p50: 15, p95: 34, p99: 39, max: 39 },
          histogram: { boundsMs: [5, 10, 20, 50, 100, 200, 500, 1000], counts: bucketLatencies([3, 12, 15, 15, 34, 39]) },
        },
        {
          pass: "verify",
          hitRatio: 1,
          requests: 6,
          latencyMs: { p50: 2, p95: 3, p99: 3, max: 3 },
          histogram: { boundsMs: [5, 10, 20, 50, 100, 200, 500, 1000], counts: bucketLatencies([2, 2, 2, 3, 3, 3]) },
        },
      ],
      spend,
      ...input,
    }),
  );
}

describe("HTML report: self-contained", () => {
  it("parses as well-formed markup and references nothing outside the file", () => {
    const d = doc();
    expect(externalReferences(d)).toEqual([]);
    expect(all(d, (n) => n.name === "svg").map((n) => n.attrs.class)).toEqual([
      "chart backup-calendar",
      "chart failover-gantt",
      "chart warm-histograms",
      "chart spend-bars",
    ]);
  });

  it("the check catches a script, a stylesheet link and a url() in a style", () => {
    const bad = parseReport(`<html><head><link href="x.css"/><style>a{background:url(x.png)}</style><script src="x.js"></script></head></html>`);
    expect(externalReferences(bad)).toEqual(["<link>", "link@href", "<style> url()/@import", "<script>", "script@src"]);
  });

  it("says which sections have no data instead of dropping them", () => {
    const d = parseReport(renderDrillHtml({ title: "t", generatedAt: "g" }));
    expect(all(d, (n) => n.name === "p" && hasClass(n, "missing")).map((n) => n.text)).toEqual([
      "No backup data in this report.",
      "No failover in this report.",
      "No cache warming in this report.",
      "No cost data in this report.",
    ]);
  });
});

describe("HTML report: backup calendar", () => {
  it("draws one cell per day per resource and region, with its kind, tier, freeze and prunes", () => {
    const d = doc();
    const groups = all(d, (n) => n.name === "g" && hasClass(n, "calendar"));
    expect(groups.map((g) => `${g.attrs["data-region"]}/${g.attrs["data-resource"]}`)).toEqual(["eu-west-1/app-db", "eu-central-1/app-db"]);
    const [primary, dr] = groups.map((g) => all(g, (n) => n.name === "rect" && hasClass(n, "cell")));
    expect(primary!.map((c) => c.attrs["data-date"])).toEqual(Array.from({ length: 40 }, (_, i) => day(i)));
    const kinds = (cells: Node[]) => {
      const m: Record<string, number> = {};
      for (const c of cells) m[c.attrs["data-kind"]!] = (m[c.attrs["data-kind"]!] ?? 0) + 1;
      return m;
    };
    expect(kinds(primary!)).toEqual({ created: 37, failed: 3 });
    // The DR region has no copy on the outage days, and no failure of its own.
    expect(kinds(dr!)).toEqual({ copied: 37, missing: 3 });
    expect(primary!.filter((c) => c.attrs["data-kind"] === "failed").map((c) => c.attrs["data-date"])).toEqual([day(20), day(21), day(22)]);
    expect(primary!.filter((c) => c.attrs["data-frozen"] === "true").map((c) => c.attrs["data-date"])).toEqual([day(20), day(21), day(22)]);
    // Kept at the end: the newest 3 backups, the 1st of the month among them only when it is that new.
    expect(primary!.filter((c) => c.attrs["data-tier"]).map((c) => `${c.attrs["data-date"]}:${c.attrs["data-tier"]}`)).toEqual([
      `${day(37)}:daily`,
      `${day(38)}:daily`,
      `${day(39)}:daily`,
    ]);
    // 37 backups made, 3 kept: 34 pruned, one a day from day 3 on except the outage days (nothing new to push one out).
    const dots = all(groups[0]!, (n) => n.name === "circle" && n.attrs["data-kind"] === "pruned");
    expect(dots.reduce((s, n) => s + Number(n.attrs["data-count"]), 0)).toBe(34);
    expect(dots.length).toBe(34);
  });

  it("places cells in weekday rows and week columns (2025-10-01 is a Wednesday)", () => {
    const cells = all(doc(), (n) => n.name === "rect" && n.attrs["data-date"] !== undefined && hasClass(n, "cell")).slice(0, 6);
    const ys = cells.map((c) => Number(c.attrs.y));
    expect(ys.map((y) => Math.round((y - ys[0]!) / 11))).toEqual([0, 1, 2, 3, 4, 0 - 2]);
    expect(Number(cells[5]!.attrs.x) - Number(cells[4]!.attrs.x)).toBe(11);
  });
});

describe("HTML report: failover Gantt", () => {
  it("draws one bar per step, the RTO target where the scale puts it, and each throttled attempt", () => {
    const d = doc();
    const svg = all(d, (n) => n.name === "svg" && hasClass(n, "failover-gantt"))[0]!;
    const bars = all(svg, (n) => n.name === "rect" && hasClass(n, "bar"));
    expect(bars.map((b) => `${b.attrs["data-step"]}:${b.attrs["data-seconds"]}`)).toEqual(["alarm:0", "promote:300", "dns-change:1", "verify-health:40"]);
    const x = ganttScale(900);
    const target = all(svg, (n) => n.attrs["data-kind"] === "rto-target")[0]!;
    expect(Number(target.attrs.x1)).toBe(Math.round(x(900) * 10) / 10);
    expect(Number(target.attrs.x1)).toBeCloseTo(GANTT.left + GANTT.width / 1.1, 1);
    const rto = all(svg, (n) => n.attrs["data-kind"] === "rto")[0]!;
    expect(rto.attrs.class).toBe("rto met");
    expect(Number(rto.attrs.x1)).toBe(Math.round(x(361.015) * 10) / 10);
    expect(all(svg, (n) => n.attrs["data-kind"] === "throttled").map((n) => `${n.attrs["data-command"]}@${n.attrs["data-at"]}`)).toEqual([
      "ChangeResourceRecordSets@2025-03-04T10:09:20.000Z",
      "ChangeResourceRecordSets@2025-03-04T10:09:20.448Z",
    ]);
  });

  it("marks a measured RTO over its target as missed", () => {
    const svg = doc({ failover: [{ ...gantt, rtoTargetSeconds: 300 }] });
    expect(all(svg, (n) => n.attrs["data-kind"] === "rto")[0]!.attrs.class).toBe("rto missed");
  });
});

describe("HTML report: warming histograms", () => {
  it("buckets latencies with an open last bucket", () => {
    expect(bucketLatencies([1, 7, 7, 2000])).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 1]);
  });

  it("draws one histogram per pass with its hit ratio; bucket counts add up to the requests", () => {
    const hs = all(doc(), (n) => n.name === "g" && hasClass(n, "histogram"));
    expect(hs.map((h) => `${h.attrs["data-pass"]}:${h.attrs["data-hit-ratio"]}`)).toEqual(["first:0", "verify:1"]);
    for (const h of hs) {
      const bars = all(h, (n) => n.name === "rect" && n.attrs["data-bucket"] !== undefined);
      expect(bars.length).toBe(9);
      expect(bars.reduce((s, b) => s + Number(b.attrs["data-count"]), 0)).toBe(6);
    }
  });

  it("a pass's stats keep its latency histogram (the run report can be drawn later), timeouts left out", () => {
    const r = (latencyMs: number, timedOut = false): WarmResult => ({
      url: "https://example.com/",
      pass: "first",
      outcome: timedOut ? "timeout" : "ok",
      ...(timedOut ? {} : { status: 200 }),
      latencyMs,
      bytes: 1,
      cache: "miss",
      attempts: 1,
    });
    const stats = summarizePass([r(3), r(12), r(12), r(700), r(5000, true)], { durationMs: 100, throttled: 0 });
    expect(stats.latencyHistogram).toEqual({ boundsMs: [5, 10, 20, 50, 100, 200, 500, 1000], counts: [1, 0, 2, 0, 0, 0, 0, 1, 0] });
  });

  it("falls back to the percentiles when a run report has no histogram", () => {
    const hs = all(
      doc({ warm: [{ pass: "first", hitRatio: 0.5, requests: 60, latencyMs: { p50: 15.6, p95: 34.4, p99: 39.2, max: 39.2 } }] }),
      (n) => n.name === "g" && hasClass(n, "histogram"),
    );
    expect(all(hs[0]!, (n) => n.attrs["data-percentile"] !== undefined).map((n) => `${n.attrs["data-percentile"]}=${n.attrs["data-ms"]}`)).toEqual([
      "p50=15.6",
      "p95=34.4",
      "p99=39.2",
      "max=39.2",
    ]);
  });
});

describe("HTML report: spend", () => {
  it("draws 14 stacked columns ending on the report date, one segment per service with spend, and the threshold line", () => {
    const svg = all(doc(), (n) => n.name === "svg" && hasClass(n, "spend-bars"))[0]!;
    const columns = all(svg, (n) => n.name === "g" && hasClass(n, "column"));
    expect(columns.map((c) => c.attrs["data-date"])).toEqual(Array.from({ length: 14 }, (_, i) => `2026-11-${String(i + 7).padStart(2, "0")}`));
    expect(columns.at(-1)!.attrs["data-total"]).toBe("516.2");
    // Lambda spends every other day: 3 or 4 segments.
    expect(columns.map((c) => all(c, (n) => hasClass(n, "segment")).length)).toEqual([3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4]);
    // The biggest spender over the 14 days at the bottom.
    expect(all(columns[1]!, (n) => hasClass(n, "segment")).map((n) => n.attrs["data-service"])).toEqual(["RDS", "EC2", "S3", "Lambda"]);
    const top = 516.2 * 1.1;
    const line = all(svg, (n) => n.attrs["data-kind"] === "daily-threshold")[0]!;
    expect(Number(line.attrs.y1)).toBe(Math.round((SPEND.top + SPEND.height - (500 / top) * SPEND.height) * 10) / 10);
    expect(all(svg, (n) => n.attrs["data-kind"] === "forecast")[0]!.attrs["data-value"]).toBe("9900");
    expect(all(svg, (n) => n.attrs["data-kind"] === "budget")[0]!.attrs["data-value"]).toBe("8000");
    expect(all(svg, (n) => n.name === "text" && hasClass(n, "over"))[0]!.text).toBe(
      "month to date 6000.00 USD; forecast 9900.00 USD vs budget 8000.00 USD — over budget",
    );
  });
});

describe("HTML report: escaping", () => {
  it("renders a hostile resource name, service name and title as text, never as markup", () => {
    const evil = `<img src=x onerror="alert(1)">&amp;'`;
    const d = doc({
      title: evil,
      backup: calendarFor(3, [], evil),
      spend: { ...spend, days: spend.days.map((x) => ({ ...x, services: { [evil]: 10 } })) },
      failover: [{ ...gantt, timeline: gantt.timeline.map((t) => ({ ...t, step: evil })) }],
    });
    expect(externalReferences(d)).toEqual([]);
    expect(all(d, (n) => n.name === "img")).toEqual([]);
    expect(all(d, (n) => n.name === "title")[0]!.text).toBe(evil);
    expect(all(d, (n) => hasClass(n, "calendar"))[0]!.attrs["data-resource"]).toBe(evil);
    expect(all(d, (n) => hasClass(n, "segment"))[0]!.attrs["data-service"]).toBe(evil);
    expect(all(d, (n) => hasClass(n, "bar"))[0]!.attrs["data-step"]).toBe(evil);
  });

  it("escapes the five XML-special characters", () => {
    expect(escapeHtml(`<b a="1">&'`)).toBe("&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
  });
});
