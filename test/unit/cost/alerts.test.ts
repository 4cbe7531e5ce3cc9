import { describe, expect, it } from "vitest";
import { emptyAlertState, HOUR_MS, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { addDays, type CostDay, type ForecastInput } from "../../../core/cost.ts";
import { costConditions, costKey, type CostIncidentDetail } from "../../../core/cost-alerts.ts";
import { buildCostRun, type CostRun } from "../../../core/report/cost.ts";
import { renderText } from "../../../core/report/blocks.ts";
import { EC2, RDS, costConfig, series } from "./builders.ts";

const REMIND = { remindEveryMs: 6 * HOUR_MS };
/** EC2 at $100 a day, $300 on the spike days; RDS at $140. */
const spend = (spikeDays: readonly string[]) =>
  series({ [EC2]: (d) => (spikeDays.includes(d) ? 300 : 100), [RDS]: 140 }, { from: "2026-10-20", to: "2026-11-30" });

/** One cost morning per reported day, each against the state the one before stored. */
function mornings(
  dates: readonly string[],
  days: CostDay[],
  opts: { forecast?: (date: string) => ForecastInput; config?: Record<string, unknown>; without?: string[] } = {},
): CostRun[] {
  let state: AlertLifecycleState<CostIncidentDetail> = emptyAlertState();
  return dates.map((date) => {
    const run = buildCostRun({
      days: days.filter((d) => d.date <= date && !opts.without?.includes(d.date)),
      reportDate: date,
      forecast: opts.forecast?.(date) ?? { kind: "forecast", remaining: 0 },
      config: costConfig(opts.config),
      now: new Date(`${addDays(date, 1)}T09:00:00Z`),
      alerts: { state, ...REMIND },
    });
    state = run.state;
    return run;
  });
}
const sent = (r: CostRun) => [r.alert?.text, r.resolved?.text].filter(Boolean);

describe("cost incident keys", () => {
  it("names the account's daily total once, the forecast per month and a spike or new service per service", () => {
    expect(costKey({ kind: "daily-total", target: "account" }, "2026-11-05")).toBe("cost:daily");
    expect(costKey({ kind: "forecast", target: "account" }, "2026-11-05")).toBe("cost:forecast:2026-11");
    expect(costKey({ kind: "spike", target: EC2 }, "2026-11-05")).toBe(`cost:spike:${EC2}`);
    expect(costKey({ kind: "new-service", target: "Amazon Bedrock" }, "2026-11-05")).toBe("cost:new-service:Amazon Bedrock");
  });
});

describe("cost incidents over mornings", () => {
  it("a spike of three days alerts once, is a line in the next two digests, and ends with one message", () => {
    const spikes = ["2026-11-05", "2026-11-06", "2026-11-07"];
    const runs = mornings(["2026-11-04", ...spikes, "2026-11-08", "2026-11-09"], spend(spikes));

    expect(runs.map(sent)).toEqual([[], [`AWS cost alert 2026-11-05: spike ${EC2}`], [], [], [`AWS cost ended 2026-11-08: spike ${EC2} (3 days)`], []]);
    expect(runs.map((r) => r.decisions.map((d) => d.kind))).toEqual([[], ["started"], ["reminder"], ["reminder"], ["resolved"], []]);
    expect(renderText(runs[1]!.digest)).toContain(`:rotating_light: ${EC2}: $300.00 on 2026-11-05, 3.0× its 7-day median of $100.00`);
    expect(renderText(runs[1]!.digest)).toContain("_(new: alert sent)_");
    expect(renderText(runs[3]!.digest)).toContain(
      `:alarm_clock: ${EC2}: $300.00 on 2026-11-07, 3.0× its 7-day median of $100.00 (+$200.00; alert above 1.5× and +$20.00). _(open since 2026-11-05, day 3)_`,
    );
    expect(renderText(runs[4]!.resolved!)).toContain(
      `• *spike ${EC2}*: open 2026-11-05 to 2026-11-07 (3 days); $100.00 on 2026-11-08, no longer over 1.5× its 7-day median of $100.00 (or no longer $20.00 above it).`,
    );
    expect(renderText(runs[4]!.digest)).toContain(`:white_check_mark: Ended: spike ${EC2}, open 2026-11-05 to 2026-11-07 (3 days)`);
    expect(runs[5]!.state).toEqual({ incidents: {} });
  });

  it("holds an open spike on a morning Cost Explorer did not answer for the reported day: unknown is not ended", () => {
    const spikes = ["2026-11-05", "2026-11-06", "2026-11-07"];
    const runs = mornings(["2026-11-05", "2026-11-06", "2026-11-07"], spend(spikes), { without: ["2026-11-06"] });

    expect(runs.map(sent)).toEqual([[`AWS cost alert 2026-11-05: spike ${EC2}`], [], []]);
    expect(runs[1]!.decisions.map((d) => [d.key, d.kind, d.incident.detail.carried])).toEqual([[`cost:spike:${EC2}`, "reminder", true]]);
    expect(renderText(runs[1]!.digest)).toContain(`:grey_question: Not judged today, still open: ${EC2}: $300.00 on 2026-11-05`);
    expect(runs[2]!.decisions.map((d) => [d.kind, d.incident.detail.since, d.incident.detail.carried])).toEqual([["reminder", "2026-11-05", undefined]]);
  });

  it("a forecast over budget is one incident per month: it ends when its month does, and the new month's overrun is a new one", () => {
    // $240 a day; AWS's forecast for the rest of the month puts the projection at $16,000 whatever the day.
    const days = spend([]);
    const forecast = (date: string): ForecastInput => {
      const mtd = 240 * Number(date.slice(8));
      return date.endsWith("-30") ? { kind: "month-complete" } : { kind: "forecast", remaining: 16_000 - mtd };
    };
    const runs = mornings(
      ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"],
      [...days, ...series({ [EC2]: 100, [RDS]: 140 }, { from: "2026-12-01", to: "2026-12-01" })],
      {
        forecast,
      },
    );

    expect(runs.map(sent)).toEqual([
      ["AWS cost alert 2026-11-28: forecast"],
      [],
      // The month ended at $7,200: within budget.
      ["AWS cost ended 2026-11-30: forecast 2026-11 (2 days)"],
      ["AWS cost alert 2026-12-01: forecast"],
    ]);
    expect(renderText(runs[2]!.resolved!)).toContain(
      "• *forecast 2026-11*: open 2026-11-28 to 2026-11-29 (2 days); the month-end projection is now $7,200.00, within the $15,000.00 budget.",
    );
    expect(runs[3]!.startedKeys).toEqual(["cost:forecast:2026-12"]);
  });

  it("ends last month's forecast incident with what it was when the new month's first morning comes", () => {
    const open: AlertLifecycleState<CostIncidentDetail> = {
      incidents: {
        "cost:forecast:2026-11": {
          openedAt: "2026-11-29T09:00:00.000Z",
          lastNotifiedAt: "2026-11-29T09:00:00.000Z",
          reminders: 0,
          detail: {
            kind: "forecast",
            target: "account",
            since: "2026-11-28",
            reportDate: "2026-11-28",
            value: 16_000,
            threshold: 15_000,
            currency: "USD",
            reason: "r",
          },
        },
      },
    };
    const run = buildCostRun({
      days: series({ [EC2]: 100 }, { from: "2026-11-20", to: "2026-12-01" }),
      reportDate: "2026-12-01",
      forecast: { kind: "forecast", remaining: 3000 },
      config: costConfig(),
      now: new Date("2026-12-02T09:00:00Z"),
      alerts: { state: open, ...REMIND },
    });
    expect(run.resolved!.text).toBe("AWS cost ended 2026-12-01: forecast 2026-11 (1 day)");
    expect(renderText(run.resolved!)).toContain("2026-11 is over; its last projection was $16,000.00 against the $15,000.00 budget");
  });

  it("a new service starts once and ends silently the next day (an event, not a state)", () => {
    const days = series({ [EC2]: 100, "Amazon Bedrock": (d) => (d >= "2026-11-05" ? 40 : Number.NaN) }, { from: "2026-10-20", to: "2026-11-30" });
    const runs = mornings(["2026-11-05", "2026-11-06"], days, { config: { immediateAlerts: ["new-service"] } });

    expect(runs.map(sent)).toEqual([["AWS cost alert 2026-11-05: new-service Amazon Bedrock"], []]);
    expect(runs[1]!.decisions.map((d) => d.kind)).toEqual(["resolved"]);
    expect(runs[1]!.state).toEqual({ incidents: {} });
  });

  it("tracks only the kinds in cost.immediateAlerts; the others stay digest lines", () => {
    const spikes = ["2026-11-05"];
    const [run] = mornings(spikes, spend(spikes), { config: { immediateAlerts: ["daily-total"] } });
    expect(run!.decisions).toEqual([]);
    expect(renderText(run!.digest)).toContain(`:warning: ${EC2}: $300.00 on 2026-11-05`);
  });

  it("alerts off (a past day reported again): no decision, nothing stored, no message", () => {
    const spikes = ["2026-11-05"];
    const run = buildCostRun({ days: spend(spikes), reportDate: "2026-11-05", config: costConfig(), now: new Date("2026-11-20T09:00:00Z"), alerts: "off" });
    expect([run.decisions, run.alert, run.resolved, run.state]).toEqual([[], null, null, { incidents: {} }]);
  });

  it("carries an open forecast incident of this month while the forecast is unavailable", () => {
    const detail: CostIncidentDetail = {
      kind: "forecast",
      target: "account",
      since: "2026-11-10",
      reportDate: "2026-11-10",
      value: 16_000,
      threshold: 15_000,
      currency: "USD",
      reason: "r",
    };
    const state = { incidents: { "cost:forecast:2026-11": { openedAt: "x", lastNotifiedAt: "x", reminders: 0, detail } } };
    const summary = buildCostRun({
      days: spend([]),
      reportDate: "2026-11-11",
      forecast: { kind: "unavailable", reason: "throttled" },
      config: costConfig(),
      now: new Date("2026-11-12T09:00:00Z"),
      alerts: "off",
    }).summary;
    expect(costConditions([], summary, state)).toEqual([{ key: "cost:forecast:2026-11", detail: { ...detail, carried: true } }]);
    expect(costConditions([], { ...summary, reportDate: "2026-12-01" }, state)).toEqual([]);
  });
});
