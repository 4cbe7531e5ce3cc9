import { describe, expect, it } from "vitest";
import { analyzeCosts, serviceSpend, median, nextMonthStart, reportDateFor, spikingServices, type ForecastInput } from "../../../core/cost.ts";
import { EC2, RDS, REPORT_DATE, S3, costConfig, jumpTo, series } from "./builders.ts";

const noForecast: ForecastInput = { kind: "unavailable", reason: "test" };
const analyze = (days: ReturnType<typeof series>, opts: { config?: Record<string, unknown>; forecast?: ForecastInput } = {}) =>
  analyzeCosts({ days, reportDate: REPORT_DATE, forecast: opts.forecast ?? noForecast }, costConfig(opts.config));
const kinds = (r: ReturnType<typeof analyze>) => r.findings.map((f) => `${f.kind}:${f.target}`);

describe("cost findings", () => {
  it.each([
    ["stays quiet on a flat week", { [EC2]: 100, [RDS]: 50 }, []],
    ["flags the daily total over $500", { [EC2]: 300, [RDS]: 250 }, ["daily-total:account"]],
    ["does not flag a total of exactly $500", { [EC2]: 250, [RDS]: 250 }, []],
    ["flags a service tripling its spend", { [EC2]: jumpTo(100, 300), [RDS]: 50 }, [`spike:${EC2}`]],
    ["does not flag +40 % (under 1.5×)", { [EC2]: jumpTo(100, 140) }, []],
    ["flags just over 1.5× when the increase clears the floor", { [EC2]: jumpTo(100, 151) }, [`spike:${EC2}`]],
    ["ignores a 10× jump worth pennies (dollar floor)", { [EC2]: 100, [S3]: jumpTo(0.5, 5) }, []],
    ["flags a new service with meaningful spend", { [EC2]: 100, "Amazon SageMaker": jumpTo(0, 40) }, ["new-service:Amazon SageMaker"]],
    ["ignores a new service spending cents", { [EC2]: 100, "AWS Glue": jumpTo(0, 0.3) }, []],
  ])("%s", (_name, services, expected) => {
    expect(kinds(analyze(series(services)))).toEqual(expected);
  });

  it("uses the trailing median, so one earlier outlier day does not hide a spike", () => {
    // 6 normal days and one $1,000 day in the trailing week: the median stays $100.
    const days = series({ [EC2]: (_d, before) => (before === 0 ? 300 : before === 3 ? 1000 : 100) });
    const spike = analyze(days).findings.find((f) => f.kind === "spike");
    expect(spike?.reason).toContain("3.0× its 7-day median of $100.00");
  });

  it("lists a new service only as new, not also as a spike", () => {
    const r = analyze(series({ "Amazon Bedrock": jumpTo(0, 500) }));
    expect(kinds(r)).toEqual(["new-service:Amazon Bedrock"]);
  });

  it("takes ratio, floor and threshold from config", () => {
    const days = series({ [EC2]: jumpTo(100, 130) });
    expect(kinds(analyze(days, { config: { spike: { ratio: 1.2, minIncrease: 25 } } }))).toEqual([`spike:${EC2}`]);
    expect(kinds(analyze(days, { config: { spike: { ratio: 1.2, minIncrease: 31 } } }))).toEqual([]);
    expect(kinds(analyze(days, { config: { dailyThreshold: 120 } }))).toEqual(["daily-total:account"]);
  });

  it("flags a month-end projection over the budget with the % of budget used", () => {
    // 19 days × $600 = $11,400 to date; AWS forecasts $7,200 for the 12 days left → $18,600.
    const r = analyze(series({ [EC2]: 600 }), { config: { dailyThreshold: 1000 }, forecast: { kind: "forecast", remaining: 7200 } });
    expect(kinds(r)).toEqual(["forecast:account"]);
    const f = r.findings[0]!;
    expect(f.value).toBeCloseTo(18_600);
    expect(f.reason).toContain("$18,600.00");
    expect(f.reason).toContain("124% of the $15,000.00 monthly budget");
    expect(f.reason).toContain("76% used so far");
    expect(r.summary.monthToDate).toMatchObject({ from: "2025-03-01", total: 11_400, daysMissing: 0 });
  });

  it("without a forecast still flags a month to date already over budget", () => {
    const r = analyze(series({ [EC2]: 900 }), { config: { dailyThreshold: 1000 } });
    expect(kinds(r)).toEqual(["forecast:account"]);
    expect(r.findings[0]!.reason).toMatch(/^Month to date is already \$17,100\.00/);
  });

  it("on the month's last day the month-to-date is the projection", () => {
    const days = series({ [EC2]: 400 }, { from: "2025-03-01", to: "2025-03-31" });
    const r = analyzeCosts({ days, reportDate: "2025-03-31", forecast: { kind: "month-complete" } }, costConfig());
    expect(r.summary.forecast).toEqual({ kind: "projected", monthEnd: 12_400, percentOfBudget: (12_400 / 15_000) * 100, monthComplete: true });
  });

  it("compares with the same weekday last week", () => {
    const r = analyze(series({ [EC2]: (_d, before) => (before === 0 ? 150 : before === 7 ? 120 : 100) }));
    expect(r.summary.lastWeek).toEqual({ date: "2025-03-12", total: 120, change: 30, percent: 25 });
  });

  it("ranks top movers by absolute dollar change against the median", () => {
    const r = analyze(series({ [EC2]: jumpTo(100, 130), [RDS]: jumpTo(200, 150), [S3]: 40 }), { config: { topMovers: 2 } });
    expect(r.summary.movers.map((m) => [m.service, m.change])).toEqual([
      [RDS, -50],
      [EC2, 30],
    ]);
  });

  it("carries the Estimated flag of the reported day into the summary and the reason", () => {
    const r = analyze(series({ [EC2]: 600 }, { estimatedLast: true }));
    expect(r.summary.estimated).toBe(true);
    expect(r.findings[0]!.reason).toContain("estimated by AWS");
  });

  it("marks findings of the configured kinds for an immediate alert, others for the digest", () => {
    const days = series({ [EC2]: jumpTo(300, 900), "Amazon SageMaker": jumpTo(0, 40) });
    const r = analyze(days, { config: { immediateAlerts: ["spike"] } });
    expect(r.findings.map((f) => [f.kind, f.action])).toEqual([
      ["daily-total", "report"],
      ["new-service", "report"],
      ["spike", "alert"],
    ]);
  });

  it("names the days missing from the data, the reported day included, and judges nothing on a missing day", () => {
    const r = analyzeCosts({ days: series({ [EC2]: 1000 }, { to: "2025-03-10" }), reportDate: REPORT_DATE, forecast: noForecast }, costConfig());
    expect(r.summary.missingDays).toEqual([
      "2025-03-11",
      "2025-03-12",
      "2025-03-13",
      "2025-03-14",
      "2025-03-15",
      "2025-03-16",
      "2025-03-17",
      "2025-03-18",
      REPORT_DATE,
    ]);
    expect(r.summary).toMatchObject({ total: 0, lastWeek: null, movers: [], services: 0, monthToDate: { total: 10_000, daysMissing: 9 } });
    // The month to date alone is still judged against the budget.
    expect(kinds(r)).toEqual([]);
    expect(
      analyzeCosts({ days: series({ [EC2]: 2000 }, { to: "2025-03-10" }), reportDate: REPORT_DATE, forecast: noForecast }, costConfig()).findings.map(
        (f) => f.id,
      ),
    ).toEqual(["forecast:account"]);
  });

  it("writes reasons in the billing currency", () => {
    const r = analyzeCosts(
      { days: series({ [EC2]: jumpTo(100, 300), [RDS]: 300 }), reportDate: REPORT_DATE, forecast: noForecast, currency: "EUR" },
      costConfig(),
    );
    expect(r.summary.currency).toBe("EUR");
    expect(r.findings.map((f) => f.reason)).toEqual([
      `Spend on ${REPORT_DATE} was €600.00, over the €500.00 daily threshold.`,
      `${EC2}: €300.00 on ${REPORT_DATE}, 3.0× its 7-day median of €100.00 (+€200.00; alert above 1.5× and +€20.00).`,
    ]);
  });
});

describe("serviceSpend", () => {
  it("gives a service's day and its trailing median, zero for a service absent that day, nothing for a missing day", () => {
    const days = series({ [EC2]: jumpTo(100, 300), [RDS]: (_d, before) => (before === 0 ? Number.NaN : 140) });
    expect(serviceSpend(days, REPORT_DATE, EC2, 7)).toEqual({ amount: 300, median: 100 });
    expect(serviceSpend(days, REPORT_DATE, RDS, 7)).toEqual({ amount: 0, median: 140 });
    expect(serviceSpend(days, REPORT_DATE, "Amazon Bedrock", 7)).toEqual({ amount: 0, median: 0 });
    expect(serviceSpend(days.slice(0, -1), REPORT_DATE, EC2, 7)).toBeUndefined();
  });
});

describe("dates and helpers", () => {
  it("reports the last complete UTC day, whatever the hour", () => {
    expect(reportDateFor(new Date("2025-03-10T00:00:01Z"))).toBe("2025-03-09");
    expect(reportDateFor(new Date("2025-03-10T23:59:59Z"))).toBe("2025-03-09");
    expect(reportDateFor(new Date("2025-03-01T09:00:00Z"))).toBe("2025-02-28");
  });

  it("finds the next month across a year end", () => {
    expect(nextMonthStart("2025-12-31")).toBe("2026-01-01");
    expect(nextMonthStart("2024-02-29")).toBe("2024-03-01");
  });

  it.each([
    [[], 0],
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])("median(%j) = %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it("spikingServices agrees with analyzeCosts", () => {
    const days = series({ [EC2]: jumpTo(100, 300), [RDS]: jumpTo(100, 120) });
    expect(spikingServices(days, REPORT_DATE, costConfig().spike)).toEqual([EC2]);
  });
});
