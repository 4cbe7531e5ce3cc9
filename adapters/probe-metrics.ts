import { type MetricDatum, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { cloudwatch } from "./clients.ts";

/**
 * The probe's results as CloudWatch datapoints: one `PrimaryProbeFailed` (1 failed, 0 passed) per group, dimension
 * `group`, in the namespace core/failover-trigger.ts names per app and stage. No Timestamp: CloudWatch stamps each
 * datapoint when it receives it, so a probe that gave up after a period boundary counts for the period an alarm
 * evaluation can already see (core/failover-trigger.ts, detectionDelay).
 *
 * PutMetricData takes at most 1000 metrics per request
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html); more are sent in chunks.
 */

export interface ProbeResult {
  group: string;
  failed: boolean;
}

export const PUT_METRIC_DATA_MAX = 1000;

export async function putProbeResults(region: string, namespace: string, metric: string, dimension: string, results: readonly ProbeResult[]): Promise<void> {
  const data: MetricDatum[] = results.map((r) => ({
    MetricName: metric,
    Dimensions: [{ Name: dimension, Value: r.group }],
    Value: r.failed ? 1 : 0,
    Unit: "Count",
  }));
  for (let i = 0; i < data.length; i += PUT_METRIC_DATA_MAX) {
    await cloudwatch(region).send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + PUT_METRIC_DATA_MAX) }));
  }
}
