import { describe, expect, it } from "vitest";
import { DEFAULT_ASSUMPTIONS, runCost, type RunCostInput, WEEKLY_REPORT_PREFIXES } from "../../../core/run-cost.ts";
import { weeklyPrefixes } from "../../../core/report/weekly.ts";
import { runCostInput } from "../../../scripts/cost-to-run.ts";
import { exampleConfig } from "../../infra/builders.ts";

/** The weekly report in `npm run cost-to-run`: one run a week, its writes, LISTs and the week of reports it reads. */

const base: RunCostInput = {
  functions: [{ name: "watchdog", memoryMb: 512, schedule: "rate(1 hour)", reports: true }],
  drRegions: 1,
  warmTargetSets: 0,
  triggeredGroups: 0,
  alarms: 2,
  reportRetentionDays: 365,
};
const weekly: RunCostInput = {
  ...base,
  functions: [...base.functions, { name: "weekly-report", memoryMb: 512, schedule: "cron(0 6 ? * MON *)", reports: false }],
};
const quantity = (input: RunCostInput, item: string) => runCost(input, DEFAULT_ASSUMPTIONS).items.find((i) => i.service === "S3" && i.item === item)!.quantity;

describe("cost to run the weekly report", () => {
  it("runs once a week on the example's schedule, priced with an assumed duration", () => {
    const input = runCostInput(exampleConfig());
    expect(input.functions.find((f) => f.name === "weekly-report")).toEqual({
      name: "weekly-report",
      memoryMb: 512,
      reports: false,
      schedule: "cron(0 6 ? * MON *)",
    });
    const line = runCost(input, DEFAULT_ASSUMPTIONS).items.find((i) => i.item === "weekly-report compute")!;
    expect(line.reason).toBe("4.3 runs (cron(0 6 ? * MON *)) × 10 s (assumed) × 512 MB");
    expect(line.quantity).toBeCloseTo(((730 / 24 / 7) * 10 * 512) / 1024, 10);
  });

  it("adds its HTML, its run report and a LIST per prefix to the PUTs, and a week of run reports to the GETs", () => {
    const runs = 730 / 24 / 7;
    expect(WEEKLY_REPORT_PREFIXES).toBe(weeklyPrefixes("2025-W41").length);
    expect(quantity(weekly, "PUT requests") - quantity(base, "PUT requests")).toBeCloseTo(runs * (2 + 49), 10);
    // The watchdog's 730 reports a month, a week's worth read each run.
    expect(quantity(weekly, "GET requests") - quantity(base, "GET requests")).toBeCloseTo(runs * ((730 * 7) / (730 / 24)), 10);
  });
});
