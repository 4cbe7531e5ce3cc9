/**
 * The sandbox's Cost Explorer (sandbox/aws/cost-explorer.ts) holds GetCostAndUsage and GetCostForecast to the rules of
 * https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html and
 * https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html.
 */
import {
  CostExplorerClient,
  DataUnavailableException,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandInput,
  GetCostForecastCommand,
  InvalidNextTokenException,
  LimitExceededException,
  RequestChangedException,
} from "@aws-sdk/client-cost-explorer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, SandboxUnsupportedError, type Sandbox } from "../../../sandbox/aws/index.ts";

const PAYER = "123456789012";
const PROD = "111111111111";
const STAGING = "222222222222";
let sb: Sandbox;
const client = (region = "us-east-1") => new CostExplorerClient({ region, maxAttempts: 1 });
const base: GetCostAndUsageCommandInput = {
  TimePeriod: { Start: "2026-11-01", End: "2026-11-03" },
  Granularity: "DAILY",
  Metrics: ["UnblendedCost"],
  GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }],
};
const send = (input: Partial<GetCostAndUsageCommandInput>) =>
  client()
    .send(new GetCostAndUsageCommand({ ...base, ...input }))
    .catch((e: unknown) => e as Error);

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-11-03T08:00:00Z"), regions: ["eu-west-1"], iam: false, costExplorer: true });
  sb.costExplorer.linkAccount(PROD, "prod");
  sb.costExplorer.linkAccount(STAGING, "staging");
  sb.costExplorer.setCosts((d) => [
    { account: PROD, service: "Amazon EC2", amount: d === "2026-11-02" ? 300 : 100 },
    { account: PROD, service: "Amazon RDS", amount: 50 },
    { account: STAGING, service: "Amazon EC2", amount: 20 },
    { service: "AWS Support", amount: 7, recordType: "Support" },
  ]);
});
afterEach(() => sb.restore());

describe("the sandbox's GetCostAndUsage", () => {
  it("groups by LINKED_ACCOUNT and names each account in DimensionValueAttributes (description), the payer unnamed", async () => {
    const out = await client().send(new GetCostAndUsageCommand(base));
    expect(out.GroupDefinitions).toEqual([{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }]);
    expect(out.ResultsByTime?.map((r) => [r.TimePeriod?.Start, r.Groups?.map((g) => [g.Keys?.[0], g.Metrics?.UnblendedCost?.Amount])])).toEqual([
      [
        "2026-11-01",
        [
          [PROD, "150"],
          [PAYER, "7"],
          [STAGING, "20"],
        ],
      ],
      [
        "2026-11-02",
        [
          [PROD, "350"],
          [PAYER, "7"],
          [STAGING, "20"],
        ],
      ],
    ]);
    expect(out.DimensionValueAttributes).toEqual([
      { Value: PROD, Attributes: { description: "prod" } },
      { Value: PAYER, Attributes: {} },
      { Value: STAGING, Attributes: { description: "staging" } },
    ]);
    expect(out.NextPageToken).toBeUndefined();
  });

  it("applies a Not RECORD_TYPE filter and groups by two dimensions", async () => {
    const out = await client().send(
      new GetCostAndUsageCommand({
        ...base,
        TimePeriod: { Start: "2026-11-02", End: "2026-11-03" },
        GroupBy: [
          { Type: "DIMENSION", Key: "LINKED_ACCOUNT" },
          { Type: "DIMENSION", Key: "SERVICE" },
        ],
        Filter: { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Support"] } } },
      }),
    );
    expect(out.ResultsByTime?.[0]?.Groups?.map((g) => [...(g.Keys ?? []), g.Metrics?.UnblendedCost?.Amount])).toEqual([
      [PROD, "Amazon EC2", "300"],
      [PROD, "Amazon RDS", "50"],
      [STAGING, "Amazon EC2", "20"],
    ]);
  });

  it("refuses more than two GroupBy, an unknown dimension, a repeated one and a bad type (ValidationException)", async () => {
    const three = await send({
      GroupBy: [
        { Type: "DIMENSION", Key: "LINKED_ACCOUNT" },
        { Type: "DIMENSION", Key: "SERVICE" },
        { Type: "DIMENSION", Key: "RECORD_TYPE" },
      ],
    });
    expect(three).toMatchObject({ name: "ValidationException", message: "GroupBy holds at most 2 groups; got 3", $metadata: { httpStatusCode: 400 } });
    expect(await send({ GroupBy: [{ Type: "DIMENSION", Key: "ACCOUNT" }] })).toMatchObject({
      name: "ValidationException",
      message: "Group Definition dimension ACCOUNT is not valid",
    });
    expect(
      await send({
        GroupBy: [
          { Type: "DIMENSION", Key: "SERVICE" },
          { Type: "DIMENSION", Key: "SERVICE" },
        ],
      }),
    ).toMatchObject({ name: "ValidationException", message: "Group Definition dimension SERVICE is repeated" });
    expect(await send({ GroupBy: [{ Type: "LABEL" as never, Key: "SERVICE" }] })).toMatchObject({ name: "ValidationException" });
  });

  it("refuses a period whose Start is not before End, a date not yyyy-MM-dd, no Granularity and no Metrics", async () => {
    expect(await send({ TimePeriod: { Start: "2026-11-03", End: "2026-11-03" } })).toMatchObject({
      name: "ValidationException",
      message: "Start date (and hour) should be before end date (and hour)",
    });
    expect(await send({ TimePeriod: { Start: "2026-11-1", End: "2026-11-03" } })).toMatchObject({ name: "ValidationException" });
    expect(await send({ Granularity: undefined })).toMatchObject({ name: "ValidationException", message: "Granularity is required" });
    expect(await send({ Metrics: [] })).toMatchObject({ name: "ValidationException", message: "Metrics is required" });
    expect(await send({ Metrics: ["Cost"] })).toMatchObject({ name: "ValidationException", message: "Metrics Cost is not valid" });
  });

  it("pages by NextPageToken, repeating the day a page continues; a foreign token and a changed request are refused", async () => {
    sb.costExplorer.setGroupsPerPage(2);
    const first = await client().send(new GetCostAndUsageCommand(base));
    expect(first.ResultsByTime?.map((r) => [r.TimePeriod?.Start, r.Groups?.length])).toEqual([["2026-11-01", 2]]);
    expect(first.NextPageToken).toBe("sandbox-ce-page-1");
    expect(first.DimensionValueAttributes?.map((v) => v.Value)).toEqual([PROD, PAYER]);
    const second = await client().send(new GetCostAndUsageCommand({ ...base, NextPageToken: first.NextPageToken }));
    expect(second.ResultsByTime?.map((r) => [r.TimePeriod?.Start, r.Groups?.map((g) => g.Keys?.[0])])).toEqual([
      ["2026-11-01", [STAGING]],
      ["2026-11-02", [PROD]],
    ]);
    const third = await client().send(new GetCostAndUsageCommand({ ...base, NextPageToken: second.NextPageToken }));
    expect(third.ResultsByTime?.map((r) => [r.TimePeriod?.Start, r.Groups?.map((g) => g.Keys?.[0])])).toEqual([["2026-11-02", [PAYER, STAGING]]]);
    expect(third.NextPageToken).toBeUndefined();

    expect(await send({ NextPageToken: "made-up" })).toBeInstanceOf(InvalidNextTokenException);
    expect(await send({ NextPageToken: first.NextPageToken, Metrics: ["AmortizedCost"] })).toBeInstanceOf(RequestChangedException);
  });

  it("has nothing after today, and answers in us-east-1 only", async () => {
    const out = await client().send(new GetCostAndUsageCommand({ ...base, TimePeriod: { Start: "2026-11-03", End: "2026-11-05" } }));
    expect(out.ResultsByTime?.map((r) => [r.TimePeriod?.Start, r.Groups?.length])).toEqual([
      ["2026-11-03", 3],
      ["2026-11-04", 0],
    ]);
    const err = await client("eu-west-1")
      .send(new GetCostAndUsageCommand(base))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxUnsupportedError);
  });

  // "Because each Expression can have only one operator, the service returns an error if more than one is specified"
  // (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_Expression.html).
  it("refuses a Filter expression with more than one operator (ValidationException)", async () => {
    const both = await send({
      Filter: { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit"] } }, Dimensions: { Key: "SERVICE", Values: ["Amazon EC2"] } },
    });
    expect(both).toMatchObject({
      name: "ValidationException",
      message: "An Expression takes one operator (And, Or, Not, Dimensions, Tags or CostCategories); got Not, Dimensions",
    });
  });

  it("answers an injected throttle with LimitExceededException", async () => {
    sb.inject({ service: "costExplorer", command: "GetCostAndUsage", error: "throttling" });
    expect(await send({})).toBeInstanceOf(LimitExceededException);
  });
});

describe("the sandbox's GetCostForecast", () => {
  const forecast = (start: string) =>
    client()
      .send(new GetCostForecastCommand({ TimePeriod: { Start: start, End: "2026-12-01" }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY" }))
      .catch((e: unknown) => e as Error);

  it("forecasts from today on, refuses a Start in the past, and says DataUnavailableException when there is no forecast", async () => {
    expect(await forecast("2026-11-03")).toBeInstanceOf(DataUnavailableException);
    sb.costExplorer.setForecast((start, end) => (start === "2026-11-03" && end === "2026-12-01" ? 4321.5 : 0));
    expect(await forecast("2026-11-03")).toMatchObject({ Total: { Amount: "4321.5", Unit: "USD" } });
    expect(await forecast("2026-11-02")).toMatchObject({
      name: "ValidationException",
      message: "Start date 2026-11-02 must be equal to or later than the current date 2026-11-03",
    });
  });

  // "The GetCostForecast operation supports only DAILY and MONTHLY granularities"; its Metric is one of the five cost
  // metrics (usage forecasts are GetUsageForecast's); its Filter is an Expression, one operator each
  // (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html).
  it("refuses HOURLY granularity, a usage metric and a Filter of two operators (ValidationException)", async () => {
    sb.costExplorer.setForecast(() => 1);
    const ask = (input: Record<string, unknown>) =>
      client()
        .send(
          new GetCostForecastCommand({ TimePeriod: { Start: "2026-11-03", End: "2026-12-01" }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY", ...input }),
        )
        .catch((e: unknown) => e as Error);
    expect(await ask({ Granularity: "HOURLY" })).toMatchObject({ name: "ValidationException", message: "Granularity HOURLY is not one of DAILY, MONTHLY" });
    expect(await ask({ Metric: "USAGE_QUANTITY" })).toMatchObject({ name: "ValidationException", message: "Metric USAGE_QUANTITY is not valid" });
    expect(
      await ask({ Filter: { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit"] } }, And: [{ Dimensions: { Key: "SERVICE", Values: ["x"] } }] } }),
    ).toMatchObject({
      name: "ValidationException",
      message: "An Expression takes one operator (And, Or, Not, Dimensions, Tags or CostCategories); got And, Not",
    });
    expect(await ask({ Filter: { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit"] } } } })).toMatchObject({ Total: { Amount: "1" } });
  });
});
