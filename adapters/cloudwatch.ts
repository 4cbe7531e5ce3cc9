import { GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { cloudwatch } from "./clients.ts";
import { describeError } from "./errors.ts";
import type { FailoverGroup } from "../schemas/config-failover.ts";
import type { MetricsPort } from "../runbooks/failover/ports.ts";

/**
 * CloudWatch reads for the failover runbook: replica lag (the RPO guard) and alarm states.
 *
 * RDS read replicas publish `AWS/RDS ReplicaLag` (seconds) per DBInstanceIdentifier in the replica's region;
 * Aurora global secondaries publish `AuroraGlobalDBReplicationLag` (milliseconds) per DBClusterIdentifier.
 * We take the maximum over the last `windowMinutes`: a lag that spiked a minute ago is data that may be lost.
 * RDS reports -1 when replication is not running; that is "unknown", not "zero".
 */

export interface LagOptions {
  windowMinutes?: number;
}

export function lagQuery(group: FailoverGroup): { query: MetricDataQuery; toSeconds: (v: number) => number } {
  const aurora = group.replica.kind === "aurora-cluster";
  return {
    query: {
      Id: "lag",
      MetricStat: {
        Metric: {
          Namespace: "AWS/RDS",
          MetricName: aurora ? "AuroraGlobalDBReplicationLag" : "ReplicaLag",
          Dimensions: [{ Name: aurora ? "DBClusterIdentifier" : "DBInstanceIdentifier", Value: group.replica.id }],
        },
        Period: 60,
        Stat: "Maximum",
      },
      ReturnData: true,
    },
    toSeconds: aurora ? (v) => v / 1000 : (v) => v,
  };
}

/** A {@link MetricsPort} on CloudWatch GetMetricData (paginated). */
export function cloudwatchMetrics(options: LagOptions = {}): MetricsPort {
  const windowMs = (options.windowMinutes ?? 5) * 60_000;
  return {
    async replicaLag(group, now) {
      const { query, toSeconds } = lagQuery(group);
      const values: number[] = [];
      let latest: Date | undefined;
      let token: string | undefined;
      try {
        do {
          const out = await cloudwatch(group.replica.region).send(
            new GetMetricDataCommand({
              MetricDataQueries: [query],
              StartTime: new Date(now.getTime() - windowMs),
              EndTime: now,
              ScanBy: "TimestampDescending",
              ...(token ? { NextToken: token } : {}),
            }),
          );
          for (const r of out.MetricDataResults ?? []) {
            (r.Values ?? []).forEach((v, i) => {
              if (v >= 0) values.push(toSeconds(v));
              const t = r.Timestamps?.[i];
              if (t && (!latest || t > latest)) latest = t;
            });
          }
          token = out.NextToken;
        } while (token);
      } catch (err) {
        // `failed`: the read failed, which is not "no datapoints": the runbook reads again.
        return { failed: true, detail: `GetMetricData failed: ${describeError(err)}` };
      }
      const metric = query.MetricStat?.Metric?.MetricName;
      if (!values.length) return { detail: `no ${metric} datapoint ≥ 0 in the last ${windowMs / 60_000} min` };
      const seconds = Math.max(...values);
      return { seconds, detail: `max ${metric} over ${windowMs / 60_000} min = ${seconds} s (${values.length} datapoints, latest ${latest?.toISOString()})` };
    },
  };
}
