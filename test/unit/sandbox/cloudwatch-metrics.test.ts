import { afterEach, describe, expect, it } from "vitest";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

/**
 * A CloudWatch metric is its namespace, name and dimensions: a query naming another namespace or dimension
 * gets no datapoints (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric).
 * The failover lag check must name RDS's own (AWS/RDS, DBInstanceIdentifier) or it reads nothing.
 */
let sb: Sandbox | undefined;
afterEach(() => sb?.restore());

const REGION = "eu-central-1";
async function values(namespace: string, dimension: string): Promise<number[]> {
  const out = await new CloudWatchClient({ region: REGION }).send(
    new GetMetricDataCommand({
      StartTime: new Date("2026-01-01T09:00:00Z"),
      EndTime: new Date("2026-01-01T10:00:00Z"),
      MetricDataQueries: [
        {
          Id: "lag",
          MetricStat: {
            Metric: { Namespace: namespace, MetricName: "ReplicaLag", Dimensions: [{ Name: dimension, Value: "orders-dr" }] },
            Period: 60,
            Stat: "Maximum",
          },
        },
      ],
    }),
  );
  return out.MetricDataResults?.[0]?.Values ?? [];
}

describe("CloudWatch metrics in the sandbox", () => {
  it("answers only the namespace and dimension the metric is published under", async () => {
    sb = createSandbox({ clock: new FakeClock("2026-01-01T10:00:00Z"), regions: [REGION] });
    sb.cloudwatch.setMetric(REGION, "ReplicaLag", "orders-dr", 3, new Date("2026-01-01T09:00:00Z"));

    expect((await values("AWS/RDS", "DBInstanceIdentifier")).length).toBeGreaterThan(0);
    expect(await values("AWS/RDS", "DBClusterIdentifier")).toEqual([]);
    expect(await values("AWS/EC2", "DBInstanceIdentifier")).toEqual([]);
  });
});
