import "aws-sdk-client-mock-vitest/extend";
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand, type Expression, type ResultByTime } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CostExplorerError, fetchCosts, type FetchCostsRequest } from "../../../adapters/cost-explorer.ts";
import { costExplorer, resetClients } from "../../../adapters/clients.ts";
import { EC2, RDS } from "./builders.ts";

const ce = mockClient(CostExplorerClient);

const EXCLUDED = ["Credit", "Refund", "Upfront", "Support"];
const FILTER: Expression = { Not: { Dimensions: { Key: "RECORD_TYPE", Values: EXCLUDED } } };

function request(o: Partial<FetchCostsRequest> = {}): FetchCostsRequest {
  return { reportDate: "2025-03-19", today: "2025-03-20", windowDays: 14, metric: "UnblendedCost", excludeRecordTypes: EXCLUDED, maxCalls: 4, ...o };
}

/** One ResultsByTime entry with `services` as UnblendedCost groups. */
function result(date: string, services: Record<string, string>, estimated = false): ResultByTime {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return {
    TimePeriod: { Start: date, End: next },
    Total: {},
    Estimated: estimated,
    Groups: Object.entries(services).map(([k, amount]) => ({ Keys: [k], Metrics: { UnblendedCost: { Amount: amount, Unit: "USD" } } })),
  };
}

const meta = { $metadata: { attempts: 1 } };

beforeEach(() => {
  ce.reset();
  resetClients();
});

describe("fetchCosts", () => {
  it("asks for daily cost by SERVICE from the 1st of the month (or the window start) to the reported day, without credits, refunds, upfront fees and support", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [result("2025-03-19", { [EC2]: "10" })] });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "1234.5", Unit: "USD" } });

    const out = await fetchCosts(request(), costExplorer());

    expect(ce).toHaveReceivedCommandExactlyOnceWith(GetCostAndUsageCommand, {
      TimePeriod: { Start: "2025-03-01", End: "2025-03-20" },
      Granularity: "DAILY",
      Metrics: ["UnblendedCost"],
      GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }],
      Filter: FILTER,
    });
    expect(ce).toHaveReceivedCommandExactlyOnceWith(GetCostForecastCommand, {
      TimePeriod: { Start: "2025-03-20", End: "2025-04-01" },
      Metric: "UNBLENDED_COST",
      Granularity: "MONTHLY",
      Filter: FILTER,
    });
    expect(out.calls).toBe(2);
    expect(out.forecast).toEqual({ kind: "forecast", remaining: 1234.5 });
    expect(out.period).toEqual({ start: "2025-03-01", end: "2025-03-20" });
  });

  it("starts at the window start when that is earlier than the 1st (early in the month)", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [] });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "1" } });

    await fetchCosts(request({ reportDate: "2025-03-03", today: "2025-03-04", metric: "AmortizedCost" }), costExplorer());

    expect(ce).toHaveReceivedCommandWith(GetCostAndUsageCommand, { TimePeriod: { Start: "2025-02-18", End: "2025-03-04" }, Metrics: ["AmortizedCost"] });
    expect(ce).toHaveReceivedCommandWith(GetCostForecastCommand, { Metric: "AMORTIZED_COST" });
  });

  it("follows NextPageToken and merges a day split across pages", async () => {
    ce.on(GetCostAndUsageCommand)
      .resolvesOnce({ ...meta, ResultsByTime: [result("2025-03-18", { [EC2]: "100" }), result("2025-03-19", { [EC2]: "120.25" })], NextPageToken: "p2" })
      .resolvesOnce({ ...meta, ResultsByTime: [result("2025-03-19", { [RDS]: "40.5" }, true)], NextPageToken: "p3" })
      .resolvesOnce({ ...meta, ResultsByTime: [result("2025-03-19", { "AWS Lambda": "0.75" })] });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "10" } });

    const out = await fetchCosts(request(), costExplorer());

    expect(ce).toHaveReceivedCommandTimes(GetCostAndUsageCommand, 3);
    expect(ce).toHaveReceivedNthCommandWith(GetCostAndUsageCommand, 1, { TimePeriod: { Start: "2025-03-01", End: "2025-03-20" } });
    expect(ce.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input.NextPageToken).toBeUndefined();
    expect(ce).toHaveReceivedNthCommandWith(GetCostAndUsageCommand, 2, { NextPageToken: "p2", Filter: FILTER });
    expect(ce).toHaveReceivedNthCommandWith(GetCostAndUsageCommand, 3, { NextPageToken: "p3", Filter: FILTER });
    expect(out.days).toEqual([
      { date: "2025-03-18", estimated: false, services: { [EC2]: 100 } },
      { date: "2025-03-19", estimated: true, services: { [EC2]: 120.25, [RDS]: 40.5, "AWS Lambda": 0.75 } },
    ]);
    expect(out.calls).toBe(4);
  });

  it("refuses to exceed the call budget rather than report partial totals", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [result("2025-03-19", { [EC2]: "1" })], NextPageToken: "more" });

    const err = await fetchCosts(request({ maxCalls: 3 }), costExplorer()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CostExplorerError);
    expect((err as CostExplorerError).kind).toBe("fatal");
    expect((err as CostExplorerError).message).toMatch(/needs more than 2 page\(s\); raise cost.maxApiCalls/);
    // Two pages, one call kept for the forecast, none spent on it: at most maxCalls in any case.
    expect(ce).toHaveReceivedCommandTimes(GetCostAndUsageCommand, 2);
    expect(ce).not.toHaveReceivedCommand(GetCostForecastCommand);
  });

  it("never keeps the current (incomplete) day even if Cost Explorer returns it", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [result("2025-03-19", { [EC2]: "5" }), result("2025-03-20", { [EC2]: "1" }, true)] });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "1" } });

    const out = await fetchCosts(request(), costExplorer());

    expect(out.days.map((d) => d.date)).toEqual(["2025-03-19"]);
  });

  it("rejects a report date that is today or later, before any call", async () => {
    await expect(fetchCosts(request({ reportDate: "2025-03-20" }), costExplorer())).rejects.toThrow(/not a complete day/);
    expect(ce).not.toHaveReceivedAnyCommand();
  });

  it("skips the forecast when the reported day closed its month (1 call)", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [result("2025-03-31", { [EC2]: "5" })] });

    const out = await fetchCosts(request({ reportDate: "2025-03-31", today: "2025-04-01" }), costExplorer());

    expect(out.forecast).toEqual({ kind: "month-complete" });
    expect(out.calls).toBe(1);
    expect(ce).not.toHaveReceivedCommand(GetCostForecastCommand);
  });

  it("treats DataUnavailableException from the forecast as a fact (no forecast), not a failure", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [] });
    ce.on(GetCostForecastCommand).rejects(Object.assign(new Error("insufficient amount of historical data"), { name: "DataUnavailableException" }));

    const out = await fetchCosts(request(), costExplorer());

    expect(out.forecast).toEqual({ kind: "unavailable", reason: "not enough cost history for an AWS forecast" });
  });

  it.each([
    ["ThrottlingException", 400, "Rate exceeded"],
    ["AccessDeniedException", 400, "not authorized to perform: ce:GetCostForecast"],
    ["InternalServerException", 500, "internal error"],
  ])('degrades a forecast failing with %s to "unavailable", keeping the usage data', async (name, status, message) => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [result("2025-03-19", { [EC2]: "10" })] });
    ce.on(GetCostForecastCommand).rejects(Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 3 } }));

    const out = await fetchCosts(request(), costExplorer());

    expect(out.forecast).toEqual({ kind: "unavailable", reason: `GetCostForecast failed: ${name}: ${message}` });
    expect(out.days).toEqual([{ date: "2025-03-19", estimated: false, services: { [EC2]: 10 } }]);
    expect([out.calls, out.attempts]).toEqual([2, 4]);
  });

  it("returns the unit Cost Explorer states the amounts in", async () => {
    ce.on(GetCostAndUsageCommand).resolves({
      ...meta,
      ResultsByTime: [
        { TimePeriod: { Start: "2025-03-19", End: "2025-03-20" }, Groups: [{ Keys: [EC2], Metrics: { UnblendedCost: { Amount: "10", Unit: "EUR" } } }] },
      ],
    });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "1", Unit: "EUR" } });

    expect((await fetchCosts(request(), costExplorer())).currency).toBe("EUR");
  });

  it.each([
    ["LimitExceededException", "retryable"],
    ["AccessDeniedException", "fatal"],
    ["ValidationException", "fatal"],
  ])("classifies %s as %s", async (name, kind) => {
    ce.on(GetCostAndUsageCommand).rejects(Object.assign(new Error("boom"), { name }));

    const err = (await fetchCosts(request(), costExplorer()).catch((e: unknown) => e)) as CostExplorerError;

    expect(err).toBeInstanceOf(CostExplorerError);
    expect(err.kind).toBe(kind);
    expect(err.message).toContain(`GetCostAndUsage failed: ${name}`);
  });

  it("omits the filter when nothing is excluded", async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ...meta, ResultsByTime: [] });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "1" } });

    await fetchCosts(request({ excludeRecordTypes: [] }), costExplorer());

    expect(ce.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input).not.toHaveProperty("Filter");
  });
});

describe("costExplorer client", () => {
  it("targets us-east-1, Cost Explorer's only endpoint", async () => {
    expect(await costExplorer().config.region()).toBe("us-east-1");
  });
});

/** One ResultsByTime entry grouped by LINKED_ACCOUNT. */
function byAccount(date: string, accounts: Record<string, string>): ResultByTime {
  return result(date, accounts);
}

describe("fetchCosts by linked account (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html)", () => {
  const PROD = "111111111111";
  const STAGING = "222222222222";

  it("sends a second query, the same period grouped by LINKED_ACCOUNT, and names the accounts from DimensionValueAttributes", async () => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({
      ...meta,
      ResultsByTime: [result("2025-03-18", { [EC2]: "100" }), result("2025-03-19", { [EC2]: "130" })],
    });
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }] }).resolves({
      ...meta,
      ResultsByTime: [byAccount("2025-03-18", { [PROD]: "90", [STAGING]: "10" }), byAccount("2025-03-19", { [PROD]: "110", [STAGING]: "20" })],
      DimensionValueAttributes: [
        { Value: PROD, Attributes: { description: "prod" } },
        { Value: STAGING, Attributes: { description: " " } },
      ],
    });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "10" } });

    const out = await fetchCosts(request({ byAccount: true }), costExplorer());

    expect(ce.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input)).toEqual([
      {
        TimePeriod: { Start: "2025-03-01", End: "2025-03-20" },
        Granularity: "DAILY",
        Metrics: ["UnblendedCost"],
        GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }],
        Filter: FILTER,
      },
      {
        TimePeriod: { Start: "2025-03-01", End: "2025-03-20" },
        Granularity: "DAILY",
        Metrics: ["UnblendedCost"],
        GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }],
        Filter: FILTER,
      },
    ]);
    expect(out.calls).toBe(3);
    expect(out.days).toEqual([
      { date: "2025-03-18", estimated: false, services: { [EC2]: 100 }, accounts: { [PROD]: 90, [STAGING]: 10 } },
      { date: "2025-03-19", estimated: false, services: { [EC2]: 130 }, accounts: { [PROD]: 110, [STAGING]: 20 } },
    ]);
    // A blank description is no name: the digest falls back to the configured name, then the id.
    expect(out.accountNames).toEqual({ [PROD]: "prod" });
  });

  it("follows the account query's NextPageToken within the same call budget, merging a day split across pages", async () => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({
      ...meta,
      ResultsByTime: [result("2025-03-19", { [EC2]: "130" })],
    });
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }] })
      .resolvesOnce({
        ...meta,
        ResultsByTime: [byAccount("2025-03-19", { [PROD]: "110" })],
        DimensionValueAttributes: [{ Value: PROD, Attributes: { description: "prod" } }],
        NextPageToken: "a2",
      })
      .resolvesOnce({
        ...meta,
        ResultsByTime: [byAccount("2025-03-19", { [STAGING]: "20" })],
        DimensionValueAttributes: [{ Value: STAGING, Attributes: { description: "staging" } }],
      });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "10" } });

    const out = await fetchCosts(request({ byAccount: true, maxCalls: 4 }), costExplorer());

    expect(ce.commandCalls(GetCostAndUsageCommand).map((c) => [c.args[0].input.GroupBy?.[0]?.Key, c.args[0].input.NextPageToken])).toEqual([
      ["SERVICE", undefined],
      ["LINKED_ACCOUNT", undefined],
      ["LINKED_ACCOUNT", "a2"],
    ]);
    expect(out.calls).toBe(4);
    expect(out.days[0]?.accounts).toEqual({ [PROD]: 110, [STAGING]: 20 });
    expect(out.accountNames).toEqual({ [PROD]: "prod", [STAGING]: "staging" });
  });

  it("fails the run rather than report partial account totals when the account pages exceed the budget", async () => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({
      ...meta,
      ResultsByTime: [result("2025-03-19", { [EC2]: "130" })],
    });
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }] }).resolves({
      ...meta,
      ResultsByTime: [byAccount("2025-03-19", { [PROD]: "110" })],
      NextPageToken: "again",
    });

    const err = await fetchCosts(request({ byAccount: true, maxCalls: 3 }), costExplorer()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CostExplorerError);
    expect(err).toMatchObject({
      kind: "fatal",
      calls: 2,
      message: "Cost Explorer data for 2025-03-01..2025-03-19 needs more than 2 page(s); raise cost.maxApiCalls (now 3) or lower cost.windowDays",
    });
    expect(ce).toHaveReceivedCommandTimes(GetCostForecastCommand, 0);
  });

  it("gives a day no accounts when the account query lacks it, and sets none without byAccount", async () => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({
      ...meta,
      ResultsByTime: [result("2025-03-18", { [EC2]: "100" }), result("2025-03-19", { [EC2]: "130" })],
    });
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }] }).resolves({
      ...meta,
      ResultsByTime: [byAccount("2025-03-18", { [PROD]: "100" })],
    });
    ce.on(GetCostForecastCommand).resolves({ ...meta, Total: { Amount: "10" } });

    const withAccounts = await fetchCosts(request({ byAccount: true }), costExplorer());
    expect(withAccounts.days.map((d) => d.accounts)).toEqual([{ [PROD]: 100 }, undefined]);

    ce.resetHistory();
    const without = await fetchCosts(request(), costExplorer());
    expect(ce).toHaveReceivedCommandTimes(GetCostAndUsageCommand, 1);
    expect(without.days.map((d) => d.accounts)).toEqual([undefined, undefined]);
    expect(without.accountNames).toBeUndefined();
  });
});
