/**
 * CloudWatch simulation for the failover runbook: alarm states (DescribeAlarms, and the EventBridge
 * "CloudWatch Alarm State Change" event a transition emits) and the replica-lag metrics
 * (`AWS/RDS ReplicaLag` seconds, `AuroraGlobalDBReplicationLag` ms) over fake time, through GetMetricData
 * and GetMetricStatistics. One datapoint per minute from each lag timeline; none while the lag is `undefined`
 * (a promoted replica stops publishing ReplicaLag).
 */
import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  PutMetricDataCommand,
  type MetricDataQuery,
  type MetricDatum,
} from "@aws-sdk/client-cloudwatch";
import { Timeline } from "./clock.ts";
import type { CommandContext, SandboxCore, ServiceSim } from "./engine.ts";
import type { FaultKind } from "./errors.ts";

type AlarmValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";

type AlarmStateView = {
  value: AlarmValue;
  reason: string;
  /** `2025-01-01T02:00:00.000+0000`, as CloudWatch writes it. */
  timestamp: string;
};

/**
 * The EventBridge event CloudWatch sends when an alarm changes state
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html). Declared here
 * so the fake AWS needs no app code; the app's schema (schemas/events-failover.ts) parses it like a real one.
 */
export type AlarmStateChangeEvent = {
  version: string;
  id: string;
  "detail-type": "CloudWatch Alarm State Change";
  source: "aws.cloudwatch";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: { alarmName: string; state: AlarmStateView; previousState: AlarmStateView };
};

export interface CloudWatchSim extends ServiceSim {
  /** Change an alarm's state now; returns the EventBridge event the transition emits (none if unchanged). */
  setAlarmState(region: string, name: string, value: AlarmValue, reason?: string): AlarmStateChangeEvent | undefined;
  alarmState(region: string, name: string): AlarmValue | undefined;
  /**
   * Metric value from `at` (default now) on; `undefined` stops datapoints. A metric is identified, as in
   * CloudWatch, by namespace, name and dimension (name and value): a query that names another namespace or
   * dimension gets no datapoints. `dimension` defaults to RDS's per-instance metrics (`AWS/RDS`, `DBInstanceIdentifier`).
   */
  setMetric(
    region: string,
    metric: string,
    dimensionValue: string,
    value: number | undefined,
    at?: Date,
    dimension?: { namespace?: string; name?: string },
  ): void;
  /** Datapoints received through PutMetricData in a region and namespace, oldest first (stamped on receipt when untimed). */
  published(region: string, namespace: string): { metric: string; dimensions: Record<string, string>; value: number; at: Date }[];
}

export function cloudwatchError(code: string, message: string, status = 400): Error {
  return new CloudWatchServiceException({
    name: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: "sandbox-cw", attempts: 1, totalRetryDelay: 0 },
    message,
  });
}

export function createCloudWatchSim(core: SandboxCore): CloudWatchSim {
  const alarms = new Map<string, { value: AlarmValue; reason: string; updatedMs: number }>();
  const metrics = new Map<string, Timeline<number | undefined>>();
  let eventSeq = 0;
  type Dim = { Name?: string; Value?: string };
  const mkey = (region: string, namespace: string, metric: string, dim: Dim | undefined) =>
    `${region}|${namespace}|${metric}|${dim?.Name ?? ""}=${dim?.Value ?? ""}`;

  function series(
    region: string,
    namespace: string,
    metric: string,
    dim: Dim | undefined,
    startMs: number,
    endMs: number,
    period: number,
    stat = "Maximum",
  ): { t: number; v: number }[] {
    const step = Math.max(60, period) * 1000;
    const points = discrete.get(mkey(region, namespace, metric, dim));
    if (points) return aggregate(points, startMs, endMs, step, stat);
    const tl = metrics.get(mkey(region, namespace, metric, dim));
    if (!tl) return [];
    const out: { t: number; v: number }[] = [];
    for (let t = Math.floor(endMs / step) * step; t >= startMs; t -= step) {
      const v = tl.valueAt(t);
      if (v !== undefined) out.push({ t, v });
    }
    return out; // newest first (TimestampDescending)
  }

  /**
   * GetMetricData request rules (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
   * API_MetricDataQuery.html, API_MetricStat.html): 1–500 queries; an Id starts with a lowercase letter and holds
   * only letters, digits and underscores, unique in the request; StartTime before EndTime; a Period of 1, 5, 10,
   * 20, 30 or a multiple of 60 seconds.
   */
  function checkMetricDataRequest(input: { MetricDataQueries?: MetricDataQuery[]; StartTime?: Date; EndTime?: Date }): void {
    const queries = input.MetricDataQueries ?? [];
    if (queries.length < 1 || queries.length > 500)
      throw cloudwatchError("ValidationError", "The collection MetricDataQueries must not be empty and must contain at most 500 items.");
    const ids = new Set<string>();
    for (const q of queries) {
      if (!q.Id || !/^[a-z][a-zA-Z0-9_]{0,254}$/.test(q.Id)) {
        throw cloudwatchError(
          "ValidationError",
          `The value ${q.Id ?? ""} for parameter MetricDataQueries.member.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.`,
        );
      }
      if (ids.has(q.Id)) throw cloudwatchError("ValidationError", `The values for parameter id in MetricDataQueries are not unique: ${q.Id}.`);
      ids.add(q.Id);
      const period = q.MetricStat?.Period;
      if (period !== undefined && !([1, 5, 10, 20, 30].includes(period) || (period >= 60 && period % 60 === 0))) {
        throw cloudwatchError(
          "InvalidParameterValue",
          `The parameter MetricDataQueries.member.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60; got ${period}.`,
        );
      }
    }
    if (!input.StartTime || !input.EndTime || new Date(input.StartTime).getTime() >= new Date(input.EndTime).getTime()) {
      throw cloudwatchError("ValidationError", "The parameter StartTime must be less than the parameter EndTime.");
    }
  }

  function getMetricData(input: { MetricDataQueries?: MetricDataQuery[]; StartTime?: Date; EndTime?: Date; NextToken?: string }, ctx: CommandContext) {
    checkMetricDataRequest(input);
    const start = new Date(input.StartTime ?? 0).getTime();
    const end = Math.min(new Date(input.EndTime ?? ctx.nowMs).getTime(), ctx.nowMs);
    const results = (input.MetricDataQueries ?? []).map((q) => {
      const m = q.MetricStat?.Metric;
      const pts = series(ctx.region, m?.Namespace ?? "", m?.MetricName ?? "", m?.Dimensions?.[0], start, end, q.MetricStat?.Period ?? 60, q.MetricStat?.Stat);
      return { Id: q.Id, Label: m?.MetricName, Timestamps: pts.map((p) => new Date(p.t)), Values: pts.map((p) => p.v), StatusCode: "Complete" };
    });
    return { MetricDataResults: results, Messages: [] };
  }

  function getMetricStatistics(
    input: { Namespace?: string; MetricName?: string; Dimensions?: Dim[]; StartTime?: Date; EndTime?: Date; Period?: number },
    ctx: CommandContext,
  ) {
    const pts = series(
      ctx.region,
      input.Namespace ?? "",
      input.MetricName ?? "",
      input.Dimensions?.[0],
      new Date(input.StartTime ?? 0).getTime(),
      Math.min(new Date(input.EndTime ?? ctx.nowMs).getTime(), ctx.nowMs),
      input.Period ?? 60,
    );
    return { Label: input.MetricName, Datapoints: pts.map((p) => ({ Timestamp: new Date(p.t), Maximum: p.v, Average: p.v, Unit: "Seconds" })) };
  }

  const received: { region: string; namespace: string; metric: string; dimensions: Record<string, string>; value: number; at: Date }[] = [];
  /** Datapoints sent with PutMetricData, per metric: each counts in its own period only (a timeline would repeat it). */
  const discrete = new Map<string, { t: number; v: number }[]>();

  /** One value per period that has datapoints, newest first, with the query's statistic. */
  function aggregate(points: { t: number; v: number }[], startMs: number, endMs: number, step: number, stat: string): { t: number; v: number }[] {
    const byPeriod = new Map<number, number[]>();
    for (const p of points) {
      if (p.t < startMs || p.t > endMs) continue;
      const t = Math.floor(p.t / step) * step;
      byPeriod.set(t, [...(byPeriod.get(t) ?? []), p.v]);
    }
    const of = (vs: number[]): number => {
      if (stat === "Minimum") return Math.min(...vs);
      if (stat === "Sum") return vs.reduce((a, b) => a + b, 0);
      if (stat === "SampleCount") return vs.length;
      if (stat === "Average") return vs.reduce((a, b) => a + b, 0) / vs.length;
      return Math.max(...vs);
    };
    return [...byPeriod].sort(([a], [b]) => b - a).map(([t, vs]) => ({ t, v: of(vs) }));
  }

  /**
   * PutMetricData request rules (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html,
   * API_MetricDatum.html, API_Dimension.html): a namespace, not starting with `AWS/` (reserved for AWS services);
   * 1 to 1000 metrics; each named, with at most 30 dimensions, each dimension with a name and a value; a Value that
   * is a number (not NaN or infinite). A datapoint without Timestamp is stamped when received.
   */
  function putMetricData(input: { Namespace?: string; MetricData?: MetricDatum[] }, ctx: CommandContext) {
    const ns = input.Namespace ?? "";
    if (!ns) throw cloudwatchError("MissingParameter", "The parameter Namespace is required.");
    if (ns.startsWith("AWS/"))
      throw cloudwatchError(
        "InvalidParameterValue",
        `The value AWS/ for parameter Namespace is invalid: namespaces starting with AWS/ are reserved for AWS services.`,
      );
    const data = input.MetricData ?? [];
    if (data.length < 1 || data.length > 1000)
      throw cloudwatchError("InvalidParameterValue", "The collection MetricData must contain between 1 and 1000 items.");
    for (const d of data) {
      if (!d.MetricName) throw cloudwatchError("MissingParameter", "The parameter MetricData.member.MetricName is required.");
      if ((d.Dimensions?.length ?? 0) > 30)
        throw cloudwatchError("InvalidParameterValue", "The collection MetricData.member.Dimensions must not contain more than 30 items.");
      if ((d.Dimensions ?? []).some((x) => !x.Name || x.Value === undefined))
        throw cloudwatchError("InvalidParameterValue", "Each dimension must have a Name and a Value.");
      if (d.Value !== undefined && !Number.isFinite(d.Value))
        throw cloudwatchError("InvalidParameterValue", "The value for parameter MetricData.member.Value must be a finite number.");
    }
    for (const d of data) {
      const at = d.Timestamp ? new Date(d.Timestamp) : new Date(ctx.nowMs);
      const dimensions = Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name!, x.Value!]));
      received.push({ region: ctx.region, namespace: ns, metric: d.MetricName!, dimensions, value: d.Value ?? 0, at });
      const k = mkey(ctx.region, ns, d.MetricName!, d.Dimensions?.[0]);
      discrete.set(k, [...(discrete.get(k) ?? []), { t: at.getTime(), v: d.Value ?? 0 }]);
    }
    return {};
  }

  function describeAlarms(input: { AlarmNames?: string[] }, ctx: CommandContext) {
    // "AlarmNames: Array Members: Maximum number of 100 items." (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html)
    if ((input.AlarmNames?.length ?? 0) > 100) {
      throw cloudwatchError(
        "ValidationError",
        `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`,
      );
    }
    const names = input.AlarmNames ?? [...alarms.keys()].filter((k) => k.startsWith(`${ctx.region}|`)).map((k) => k.split("|")[1]!);
    const MetricAlarms = names.flatMap((n) => {
      const a = alarms.get(`${ctx.region}|${n}`);
      return a ? [{ AlarmName: n, StateValue: a.value, StateReason: a.reason, StateUpdatedTimestamp: new Date(a.updatedMs) }] : [];
    });
    return { MetricAlarms, CompositeAlarms: [] };
  }

  return {
    service: "cloudwatch",
    clientClass: CloudWatchClient,
    commands: [
      [GetMetricDataCommand, getMetricData],
      [GetMetricStatisticsCommand, getMetricStatistics],
      [DescribeAlarmsCommand, describeAlarms],
      [PutMetricDataCommand, putMetricData],
    ],
    faultFor(kind: FaultKind): Error {
      if (kind === "throttling") return cloudwatchError("Throttling", "Rate exceeded");
      if (kind === "internal") return cloudwatchError("InternalServiceFault", "Internal error", 500);
      if (kind === "accessDenied") return cloudwatchError("AccessDenied", "not authorized", 403);
      return cloudwatchError("InvalidParameterValue", `sandbox: fault ${kind} has no CloudWatch equivalent`);
    },
    setAlarmState(region, name, value, reason) {
      const now = core.clock.nowMs();
      const prev = alarms.get(`${region}|${name}`);
      const why = reason ?? `Threshold Crossed: alarm went to ${value}`;
      alarms.set(`${region}|${name}`, { value, reason: why, updatedMs: now });
      if (prev?.value === value) return undefined;
      const ts = (ms: number) => new Date(ms).toISOString().replace("Z", "+0000");
      return {
        version: "0",
        id: `sandbox-alarm-${++eventSeq}`,
        "detail-type": "CloudWatch Alarm State Change",
        source: "aws.cloudwatch",
        account: core.accountId,
        time: new Date(now).toISOString().replace(/\.\d+Z$/, "Z"),
        region,
        resources: [`arn:aws:cloudwatch:${region}:${core.accountId}:alarm:${name}`],
        detail: {
          alarmName: name,
          state: { value, reason: why, timestamp: ts(now) },
          previousState: { value: prev?.value ?? "INSUFFICIENT_DATA", reason: prev?.reason ?? "", timestamp: ts(prev?.updatedMs ?? now) },
        },
      };
    },
    alarmState(region, name) {
      return alarms.get(`${region}|${name}`)?.value;
    },
    published(region, namespace) {
      return received.filter((r) => r.region === region && r.namespace === namespace).map(({ region: _r, namespace: _n, ...rest }) => rest);
    },
    setMetric(region, metric, dim, value, at, dimension = {}) {
      const k = mkey(region, dimension.namespace ?? "AWS/RDS", metric, { Name: dimension.name ?? "DBInstanceIdentifier", Value: dim });
      const ms = at ? at.getTime() : core.clock.nowMs();
      const tl = metrics.get(k);
      if (tl) tl.set(value, ms);
      else metrics.set(k, new Timeline<number | undefined>(undefined).set(value, ms));
    },
  };
}
