import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CostLine } from "../../sandbox/index.ts";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import { exampleAccount, type ExampleAccount } from "../../sandbox/scenarios/example-account.ts";
import { CostConfigSchema } from "../../schemas/config-cost.ts";

/**
 * Seven cost mornings in an organization's payer account (the example account, 123456789012) with three linked
 * accounts, through the cost function's handler chain on the sandbox's Cost Explorer, the function's role evaluated on
 * every call:
 * - prod (111111111111, named "prod" by Cost Explorer): EC2 $200 and RDS $60 a day, EC2 $300 on 12 and 13 November,
 *   over its own $300 threshold on those two days;
 * - staging (222222222222, no name in Cost Explorer, "staging" in the configuration): RDS $50 a day, $100 on the 13th,
 *   over the $80 default threshold that day;
 * - data (333333333333, named nowhere): S3 $30 a day;
 * - the payer itself: CloudTrail $10 a day, and $5 of support, which the RECORD_TYPE filter leaves out.
 * Neither the total ($500 at most: not over the $500 threshold) nor a service (EC2 at 1.5× its median: not over)
 * alerts: only the accounts do.
 */

const PAYER = "123456789012";
const PROD = "111111111111";
const STAGING = "222222222222";
const DATA = "333333333333";
const EC2 = "Amazon Elastic Compute Cloud - Compute";
const RDS = "Amazon Relational Database Service";
const REPORTED = ["2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14", "2026-11-15", "2026-11-16"];

function costs(d: string): CostLine[] {
  return [
    { account: PROD, service: EC2, amount: d === "2026-11-12" || d === "2026-11-13" ? 300 : 200 },
    { account: PROD, service: RDS, amount: 60 },
    { account: STAGING, service: RDS, amount: d === "2026-11-13" ? 100 : 50 },
    { account: DATA, service: "Amazon Simple Storage Service", amount: 30 },
    { account: PAYER, service: "AWS CloudTrail", amount: 10 },
    { account: PAYER, service: "AWS Support (Business)", amount: 5, recordType: "Support" },
  ];
}

let a: ExampleAccount;
const byDay: Record<string, string[]> = {};
const digests: Record<string, string> = {};

beforeAll(async () => {
  a = exampleAccount({
    start: "2026-11-11T08:00:00Z",
    organization: {
      accounts: [{ id: PROD, name: "prod" }, { id: STAGING }, { id: DATA }],
      costs,
    },
    config: (c) => ({
      ...c,
      cost: CostConfigSchema.parse({
        ...c.cost,
        immediateAlerts: [...c.cost.immediateAlerts, "account-daily"],
        accounts: {
          top: 3,
          dailyThreshold: 80,
          linked: [
            { id: PROD, name: "production", dailyThreshold: 300 },
            { id: STAGING, name: "staging" },
          ],
        },
      }),
    }),
  });
  for (const day of REPORTED) {
    const before = a.slack.length;
    await a.handlers.cost({ trigger: "schedule" }, lambdaContext(`cost-${day}`));
    const messages = a.slack.slice(before);
    byDay[day] = messages.map((m) => m.split("\n")[0]!);
    digests[day] = messages.find((m) => m.startsWith("== AWS cost digest"))!;
    a.clock.advance(86_400_000);
  }
}, 60_000);
afterAll(() => a.restore());

describe("a payer account's cost mornings with three linked accounts", () => {
  it("alerts once per account when it goes over its threshold and ends both in one message, with one digest every morning", () => {
    const digest = (d: string) => `== AWS cost digest · ${d} ==`;
    expect(REPORTED.map((d) => [d, byDay[d]])).toEqual([
      ["2026-11-10", [digest("2026-11-10")]],
      ["2026-11-11", [digest("2026-11-11")]],
      ["2026-11-12", ["== :rotating_light: AWS cost alert · 2026-11-12 ==", digest("2026-11-12")]],
      ["2026-11-13", ["== :rotating_light: AWS cost alert · 2026-11-13 ==", digest("2026-11-13")]],
      ["2026-11-14", ["== :white_check_mark: AWS cost incidents ended · 2026-11-14 ==", digest("2026-11-14")]],
      ["2026-11-15", [digest("2026-11-15")]],
      ["2026-11-16", [digest("2026-11-16")]],
    ]);
    const all = a.slack.join("\n");
    expect(all).toContain(`• Account prod (${PROD}) spent $360.00 on 2026-11-12, over its $300.00 daily threshold.`);
    expect(all).toContain(`• Account staging (${STAGING}) spent $100.00 on 2026-11-13, over its $80.00 daily threshold.`);
    expect(all).toContain(
      [
        `• *account prod (${PROD})*: open 2026-11-12 to 2026-11-13 (2 days); $260.00 on 2026-11-14, within its $300.00 daily threshold.`,
        `• *account staging (${STAGING})*: open on 2026-11-13 (1 day); $50.00 on 2026-11-14, within its $80.00 daily threshold.`,
      ].join("\n"),
    );
  });

  it("shows the top accounts by the day's spend, named by Cost Explorer, else the configuration, else the id (pinned)", () => {
    const text = digests["2026-11-13"]!;
    expect(text.slice(text.indexOf("*Top accounts*"), text.indexOf("*Top movers*")).trim()).toBe(
      [
        "*Top accounts* (3 of 4 with spend on 2026-11-13; change vs 2026-11-12)",
        `• prod (${PROD}): $360.00 (unchanged)`,
        `• staging (${STAGING}): $100.00 (+$50.00, +100%)`,
        `• ${DATA}: $30.00 (unchanged)`,
      ].join("\n"),
    );
    expect(digests["2026-11-13"]).toContain(
      `:alarm_clock: Account prod (${PROD}) spent $360.00 on 2026-11-13, over its $300.00 daily threshold. _(open since 2026-11-12, day 2)_`,
    );
  });

  it("makes three Cost Explorer calls a morning: by service, by linked account (same period and filter), the forecast", () => {
    const calls = a.costCalls();
    expect(calls).toHaveLength(3 * REPORTED.length);
    const filter = { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit", "Refund", "Upfront", "Support"] } } };
    const usage = (key: string) => ({
      TimePeriod: { Start: "2026-10-31", End: "2026-11-14" },
      Granularity: "DAILY",
      Metrics: ["UnblendedCost"],
      GroupBy: [{ Type: "DIMENSION", Key: key }],
      Filter: filter,
    });
    expect(calls.slice(9, 12)).toEqual([
      { command: "GetCostAndUsage", input: usage("SERVICE") },
      { command: "GetCostAndUsage", input: usage("LINKED_ACCOUNT") },
      {
        command: "GetCostForecast",
        input: { TimePeriod: { Start: "2026-11-14", End: "2026-12-01" }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY", Filter: filter },
      },
    ]);
  });

  it("is allowed every call by the cost function's role", () => {
    expect(a.sb.iam?.denials).toEqual([]);
    expect(a.sb.callsTo("costExplorer").filter((c) => c.error)).toEqual([]);
  });
});
