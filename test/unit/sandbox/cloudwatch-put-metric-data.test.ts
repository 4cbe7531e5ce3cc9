import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

/**
 * The sandbox's PutMetricData as the API reference has it
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html): `AWS/` namespaces
 * are reserved, 1 to 1000 metrics per request, at most 30 dimensions, finite values; an untimed datapoint is
 * stamped on receipt and readable with GetMetricData by namespace, name and dimension.
 */

let sb: Sandbox;
let clock: FakeClock;
const REGION = "eu-central-1";
const client = () => new CloudWatchClient({ region: REGION });
const datum = { MetricName: "PrimaryProbeFailed", Dimensions: [{ Name: "group", Value: "app-db" }], Value: 1, Unit: "Count" as const };

beforeEach(() => {
  clock = new FakeClock("2026-11-20T02:00:00Z");
  sb = createSandbox({ clock, regions: [REGION], iam: false });
});
afterEach(() => sb.restore());

describe("sandbox CloudWatch PutMetricData", () => {
  it("stamps an untimed datapoint on receipt and serves it to GetMetricData under its namespace and dimension", async () => {
    await client().send(new PutMetricDataCommand({ Namespace: "app-prod/failover-probe", MetricData: [datum] }));
    expect(sb.cloudwatch.published(REGION, "app-prod/failover-probe")).toEqual([
      { metric: "PrimaryProbeFailed", dimensions: { group: "app-db" }, value: 1, at: clock.now() },
    ]);
    clock.advance(60_000);
    const out = await client().send(
      new GetMetricDataCommand({
        MetricDataQueries: [
          {
            Id: "p",
            MetricStat: {
              Metric: { Namespace: "app-prod/failover-probe", MetricName: "PrimaryProbeFailed", Dimensions: [{ Name: "group", Value: "app-db" }] },
              Period: 60,
              Stat: "Minimum",
            },
          },
        ],
        StartTime: new Date(clock.now().getTime() - 120_000),
        EndTime: clock.now(),
      }),
    );
    expect(out.MetricDataResults?.[0]?.Values).toEqual([1]);
  });

  it("refuses what the API refuses", async () => {
    const put = (input: ConstructorParameters<typeof PutMetricDataCommand>[0]) => client().send(new PutMetricDataCommand(input));
    await expect(put({ Namespace: "AWS/RDS", MetricData: [datum] })).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(put({ Namespace: "x", MetricData: [] })).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(put({ Namespace: "x", MetricData: Array.from({ length: 1001 }, () => datum) })).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(put({ Namespace: "x", MetricData: [{ ...datum, Value: Number.NaN }] })).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(
      put({ Namespace: "x", MetricData: [{ ...datum, Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: "v" })) }] }),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    expect(sb.cloudwatch.published(REGION, "x")).toEqual([]);
  });
});
