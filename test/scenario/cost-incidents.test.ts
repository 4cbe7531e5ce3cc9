import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import { EXAMPLE_REPORTS_BUCKET, exampleAccount, type ExampleAccount } from "../../sandbox/scenarios/example-account.ts";

/**
 * Ten cost mornings on the example account (config/example.json: $500 a day, $15,000 a month, alerts on the daily
 * total, the forecast and spikes), through the cost function's handler chain on the sandbox, its role evaluated on
 * every call. EC2 spends $100 a day and RDS $140, except EC2 at $400 on 13, 14 and 15 November (a spike that also
 * puts the day over $500). AWS forecasts $12,500 for the rest of the month every morning, so the month-end
 * projection (month to date + forecast) is $14,900 on the 10th and over the budget from the 11th on.
 */

const EC2 = "Amazon Elastic Compute Cloud - Compute";
const SPIKE = ["2026-11-13", "2026-11-14", "2026-11-15"];
const REPORTED = Array.from({ length: 10 }, (_, i) => `2026-11-${String(10 + i).padStart(2, "0")}`);

let a: ExampleAccount;
/** The messages of each morning, by the day they report on: first lines only (the body follows below). */
const byDay: Record<string, string[]> = {};

beforeAll(async () => {
  a = exampleAccount({
    start: "2026-11-11T08:00:00Z",
    costs: (d) => ({ [EC2]: SPIKE.includes(d) ? 400 : 100, "Amazon Relational Database Service": 140 }),
    forecastUsd: 12_500,
  });
  for (const day of REPORTED) {
    const before = a.slack.length;
    await a.handlers.cost({ trigger: "schedule" }, lambdaContext(`cost-${day}`));
    byDay[day] = a.slack.slice(before).map((m) => m.split("\n")[0]!);
    a.clock.advance(86_400_000);
  }
}, 60_000);
afterAll(() => a.restore());

describe("ten cost mornings with a three-day spike and a forecast over budget", () => {
  it("alerts once when the forecast goes over budget and once when the spike starts, says when the spike ends, and posts one digest every morning", () => {
    const digest = (d: string) => `== AWS cost digest · ${d} ==`;
    expect(REPORTED.map((d) => [d, byDay[d]])).toEqual([
      ["2026-11-10", [digest("2026-11-10")]],
      ["2026-11-11", ["== :rotating_light: AWS cost alert · 2026-11-11 ==", digest("2026-11-11")]],
      ["2026-11-12", [digest("2026-11-12")]],
      ["2026-11-13", ["== :rotating_light: AWS cost alert · 2026-11-13 ==", digest("2026-11-13")]],
      ["2026-11-14", [digest("2026-11-14")]],
      ["2026-11-15", [digest("2026-11-15")]],
      ["2026-11-16", ["== :white_check_mark: AWS cost incidents ended · 2026-11-16 ==", digest("2026-11-16")]],
      ["2026-11-17", [digest("2026-11-17")]],
      ["2026-11-18", [digest("2026-11-18")]],
      ["2026-11-19", [digest("2026-11-19")]],
    ]);
    expect(Object.values(byDay).flat()).toHaveLength(13);
  });

  it("names what starts and what ends", () => {
    const all = a.slack.join("\n");
    expect(all).toContain(
      "• The month-end projection is $15,140.00 (month to date $2,640.00 plus AWS's forecast for the rest): 101% of the $15,000.00 monthly budget; 18% used so far.",
    );
    expect(all).toContain("• Spend on 2026-11-13 was $540.00, over the $500.00 daily threshold.");
    expect(all).toContain(`• ${EC2}: $400.00 on 2026-11-13, 4.0× its 7-day median of $100.00 (+$300.00; alert above 1.5× and +$20.00).`);
    expect(all).toContain("• *daily-total*: open 2026-11-13 to 2026-11-15 (3 days); spend on 2026-11-16 was $240.00, within the $500.00 daily threshold.");
    expect(all).toContain(
      `• *spike ${EC2}*: open 2026-11-13 to 2026-11-15 (3 days); $100.00 on 2026-11-16, no longer over 1.5× its 7-day median of $100.00 (or no longer $20.00 above it).`,
    );
  });

  it("keeps each open incident in the digest while it lasts, with the day it started", () => {
    const digestOf = (d: string) => a.slack.find((m) => m.startsWith(`== AWS cost digest · ${d} ==`))!;
    expect(digestOf("2026-11-15")).toContain(`:alarm_clock: ${EC2}: $400.00 on 2026-11-15, 4.0× its 7-day median of $100.00`);
    expect(digestOf("2026-11-15")).toContain("_(open since 2026-11-13, day 3)_");
    expect(digestOf("2026-11-19")).toContain("_(open since 2026-11-11, day 9)_");
    expect(digestOf("2026-11-16")).toContain(`:white_check_mark: Ended: spike ${EC2}, open 2026-11-13 to 2026-11-15 (3 days)`);
  });

  it("leaves the forecast incident open in the state, and the cost role needed nothing it lacks", () => {
    expect(Object.keys(a.sb.s3.json<{ incidents: object }>(EXAMPLE_REPORTS_BUCKET, "state/alerts/cost.json")!.incidents)).toEqual(["cost:forecast:2026-11"]);
    expect(a.sb.iam?.denials ?? []).toEqual([]);
  });
});
