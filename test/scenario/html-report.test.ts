import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { addDays, type CostDay } from "../../core/cost.ts";
import { buildCostRun } from "../../core/report/cost.ts";
import { runBackupYear, type BackupYearResult, FLEET, PRIMARY, DR } from "../../sandbox/scenarios/backup-scenarios.ts";
import { type FailoverScenarioResult, runLagTooFarScenario, runRegionOutageScenario } from "../../sandbox/scenarios/failover-scenarios.ts";
import { CostConfigSchema } from "../../schemas/config-cost.ts";
import { drillHtml, FAILOVER_RTO_TARGET_SECONDS } from "../../scripts/drill-html.ts";
import { all, externalReferences, hasClass, type Node, parseReport } from "../support/html-report.ts";

/**
 * `npm run drill -- --html` in small: 40 simulated days with a 3-day backup outage, both failover scenarios and a
 * cost morning go through the drill's own HTML glue (scripts/drill-html.ts); the file it writes is parsed and its
 * SVG elements counted against what the scenarios returned.
 */

const DAYS = 40;
let year: BackupYearResult;
let outage: FailoverScenarioResult;
let lag: FailoverScenarioResult;
let doc: Node;
let bytes: number;

beforeAll(async () => {
  const html = drillHtml();
  year = await runBackupYear({ days: DAYS, outage: { fromDay: 20, days: 3 }, onDay: html.onDay });
  outage = await runRegionOutageScenario({ warm: { warm: async () => ({ ok: true, summary: "12/12 URLs warmed" }) } });
  lag = await runLagTooFarScenario();
  const days: CostDay[] = [];
  for (let d = "2026-11-01"; d <= "2026-11-20"; d = addDays(d, 1)) days.push({ date: d, estimated: false, services: { EC2: 100, S3: 40 } });
  const cost = buildCostRun({
    days,
    forecast: { kind: "forecast", remaining: 3900 },
    config: CostConfigSchema.parse({}),
    now: new Date("2026-11-21T09:00:00Z"),
  });
  const file = join(mkdtempSync(join(tmpdir(), "drill-html-")), "drill-report.html");
  bytes = html.write(file, { year, failover: { outage, lag }, cost: { ...cost, days } });
  doc = parseReport(readFileSync(file, "utf8"));
}, 60_000);

describe("drill HTML report from the scenarios", () => {
  it("is self-contained", () => {
    expect(externalReferences(doc)).toEqual([]);
    expect(bytes).toBeGreaterThan(0);
  });

  it("has a calendar row per resource and region, a cell per simulated day, adding up to the year's totals", () => {
    const rows = all(doc, (n) => n.name === "g" && hasClass(n, "calendar"));
    expect(rows.map((r) => `${r.attrs["data-region"]}/${r.attrs["data-resource"]}`)).toEqual(
      [PRIMARY, DR].flatMap((region) => FLEET.map((r) => `${region}/${r.id}`)),
    );
    const cells = (kind?: string) => all(doc, (n) => n.name === "rect" && hasClass(n, "cell") && (kind === undefined || n.attrs["data-kind"] === kind));
    expect(cells().length).toBe(DAYS * FLEET.length * 2);
    expect(cells("created").length).toBe(year.totals.created);
    expect(cells("copied").length).toBe(year.totals.copies);
    expect(cells("failed").length).toBe(3 * FLEET.length);
    const pruned = all(doc, (n) => n.attrs["data-kind"] === "pruned").reduce((s, n) => s + Number(n.attrs["data-count"]), 0);
    expect(pruned).toBe(year.totals.deleted);
  });

  it("marks as kept, by tier, exactly what the year's summary says is kept", () => {
    for (const s of year.summary) {
      const row = all(doc, (n) => hasClass(n, "calendar") && n.attrs["data-region"] === s.region && n.attrs["data-resource"] === s.resource)[0]!;
      const tier = (t: string) => all(row, (n) => n.attrs["data-tier"] === t).length;
      expect({
        kept: all(row, (n) => n.attrs["data-tier"] !== undefined).length,
        daily: tier("daily"),
        weekly: tier("weekly"),
        monthly: tier("monthly"),
      }).toEqual({
        kept: s.kept,
        ...s.keptByTier,
      });
    }
  });

  it("draws a Gantt bar per failover step, the RTO target and the throttled DNS attempts", () => {
    const charts = all(doc, (n) => n.name === "svg" && hasClass(n, "failover-gantt"));
    expect(charts.map((c) => all(c, (n) => hasClass(n, "bar")).length)).toEqual([outage.timeline.length, lag.timeline.length]);
    expect(charts.map((c) => all(c, (n) => n.attrs["data-kind"] === "rto-target")[0]!.attrs["data-seconds"])).toEqual([
      String(FAILOVER_RTO_TARGET_SECONDS),
      String(FAILOVER_RTO_TARGET_SECONDS),
    ]);
    expect(all(charts[0]!, (n) => n.attrs["data-kind"] === "throttled").length).toBe(outage.mutatingCalls.filter((c) => c.error === "Throttling").length);
    expect(all(charts[0]!, (n) => n.attrs["data-kind"] === "throttled").length).toBe(2);
    // The refused failover has no measured RTO.
    expect(all(charts[1]!, (n) => n.attrs["data-kind"] === "rto")).toEqual([]);
  });

  it("says warming is missing when the failover did not report it, and draws 14 spend columns", () => {
    expect(all(doc, (n) => n.name === "section" && n.attrs.id === "warm")[0]!.children.map((c) => c.text)).toContain("No cache warming in this report.");
    expect(all(doc, (n) => n.name === "g" && hasClass(n, "column")).length).toBe(14);
  });
});
