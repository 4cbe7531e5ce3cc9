/**
 * The stage's CloudWatch dashboard as data: the body JSON (widget types metric, alarm, log, text;
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html) built from
 * the configuration and the deployed names. No SST globals: stacks/dashboard.ts resolves the names and creates the
 * resource; tests and scripts build the same body from plain strings.
 *
 * Every metric a widget shows is one the code publishes (the EMF of runbooks/lib/handler.ts, the probe's PutMetricData
 * of adapters/probe-metrics.ts) or one AWS publishes for what we deploy (Lambda, SQS, Step Functions, RDS);
 * test/unit/stacks/dashboard.test.ts checks each against the code.
 */

import { PROBE_DIMENSION, PROBE_METRIC, probeNamespace, probeSilentAlarmName, triggerAlarmName } from "../core/failover-trigger.ts";
import type { Config } from "../schemas/config.ts";
import type { FailoverGroup } from "../schemas/config-failover.ts";
import { type FunctionName, functionSpec } from "./functions.ts";
import { alarmPrefix, controlRegion } from "./patterns.ts";

/** The namespace and service name of the functions' EMF metrics (Powertools `Metrics` in runbooks/lib/handler.ts). */
export const APP_NAMESPACE = "ops-autopilot";
export const APP_SERVICE = "ops-autopilot";
/** Dimensions Powertools adds to every point: the service and the `stage` default dimension. */
export const APP_DIMENSIONS = ["service", "stage"] as const;

/** The freshness watchdog's metrics (runbooks/backup/watchdog.ts). */
export const WATCHDOG_METRICS = {
  heartbeat: "WatchdogHeartbeat",
  stale: "StaleBackups",
  age: "BackupAgeHours",
  /** Dimensions of one age point besides {@link APP_DIMENSIONS}. */
  ageDimensions: ["resource", "region"],
} as const;

/**
 * Log lines that record a decision: `decision` (backup, copy, prune, cost, probe), `failover decision`, `warm decision`,
 * `alert decision` (Powertools' `message` field).
 */
export const DECISION_MESSAGE = /decision$/;

/** Probe results that say the primary answered: one per group a minute, too many for the decisions table. */
const PROBE_UP_ACTION = "report-primary-up";

/** The stage's dashboard name, inside the stage's name prefix (the deployer policy scopes dashboards to it). */
export function dashboardName(config: Config): string {
  return `${alarmPrefix(config)}-overview`;
}

/**
 * Where the dashboard is created: the failover control region, else the first DR region, else the primary. Dashboards
 * are global to the account (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html),
 * but deploying it through a DR region's endpoint keeps it updatable while the primary region is down, and each widget
 * names the region of its metrics.
 */
export function dashboardRegion(config: Config): string {
  return controlRegion(config) ?? config.drRegions[0]?.region ?? config.primaryRegion;
}

/** One deployed function: its key in stacks/functions.ts, deployed name, region and log group. */
export interface DashboardFunction {
  name: FunctionName;
  functionName: string;
  region: string;
  logGroup: string;
}

/** One dead-letter queue: the logical name given to stacks/ops.ts deadLetterQueue, its queue name and region. */
export interface DashboardQueue {
  name: string;
  queueName: string;
  region: string;
}

/** One durable runbook's state machine. */
export interface DashboardStateMachine {
  runbook: string;
  arn: string;
  region: string;
}

export interface DashboardInput {
  account: string;
  partition: string;
  functions: readonly DashboardFunction[];
  deadLetterQueues: readonly DashboardQueue[];
  stateMachines: readonly DashboardStateMachine[];
}

export interface Widget {
  type: "metric" | "alarm" | "log" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

export interface DashboardBody {
  start: string;
  periodOverride: "auto" | "inherit";
  widgets: Widget[];
}

/** One alarm we deploy and the region it is evaluated in. */
export interface OurAlarm {
  name: string;
  region: string;
}

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/**
 * Every alarm the stacks create, by the names stacks/ops.ts, stacks/durable-runbook.ts and stacks/failover.ts give them:
 * each function's errors, each dead-letter queue's messages, the watchdog's heartbeat, each runbook's failed
 * executions, the probe's silence and each triggered group's alarm. test/infra/dashboard.test.ts checks it against
 * the synth's alarms.
 */
export function ourAlarms(config: Config, input: Omit<DashboardInput, "account" | "partition">): OurAlarm[] {
  const prefix = alarmPrefix(config);
  const out: OurAlarm[] = [
    ...input.functions.filter((f) => functionSpec(f.name).errorsAlarm !== false).map((f) => ({ name: `${prefix}-${f.name}-errors`, region: f.region })),
    ...input.deadLetterQueues.map((q) => ({ name: `${prefix}-${kebab(q.name)}-messages`, region: q.region })),
    { name: `${prefix}-watchdog-heartbeat-missing`, region: config.primaryRegion },
    ...input.stateMachines.map((s) => ({ name: `${prefix}-${s.runbook}-executions-failed`, region: s.region })),
  ];
  const triggered = config.failover.groups.filter((g) => g.trigger);
  const control = controlRegion(config);
  if (control && triggered.length) {
    out.push({ name: probeSilentAlarmName(prefix), region: control });
    for (const g of triggered) out.push({ name: triggerAlarmName(prefix, g.name), region: control });
  }
  return out;
}

/**
 * The lag metric the failover runbook reads before promoting (adapters/cloudwatch.ts lagQuery): `ReplicaLag` in
 * seconds for an RDS replica, `AuroraGlobalDBReplicationLag` in milliseconds for an Aurora global secondary.
 */
export function replicaLagMetric(group: FailoverGroup): { namespace: string; metricName: string; dimension: string; unit: "Seconds" | "Milliseconds" } {
  const aurora = group.replica.kind === "aurora-cluster";
  return {
    namespace: "AWS/RDS",
    metricName: aurora ? "AuroraGlobalDBReplicationLag" : "ReplicaLag",
    dimension: aurora ? "DBClusterIdentifier" : "DBInstanceIdentifier",
    unit: aurora ? "Milliseconds" : "Seconds",
  };
}

/** A metric widget can show at most 500 metrics; an alarm widget at most 100 alarms (the body structure page). */
const MAX_ALARMS_PER_WIDGET = 100;

type Cell = Omit<Widget, "x" | "y">;

const metric = (title: string, region: string, metrics: unknown[][], extra: Record<string, unknown> = {}, width = 12, height = 6): Cell => ({
  type: "metric",
  width,
  height,
  properties: { title, region, view: "timeSeries", stacked: false, metrics, yAxis: { left: { min: 0 } }, ...extra },
});

const byRegion = <T extends { region: string }>(items: readonly T[]): [string, T[]][] => {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(i.region, [...(out.get(i.region) ?? []), i]);
  return [...out];
};

/** Places cells left to right on the 24-column grid, starting a new row when one does not fit. */
function layout(cells: Cell[]): Widget[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return cells.map((c) => {
    if (x + c.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const w = { ...c, x, y };
    x += c.width;
    rowHeight = Math.max(rowHeight, c.height);
    return w;
  });
}

/** The dashboard of one stage. */
export function dashboardBody(config: Config, input: DashboardInput): DashboardBody {
  const prefix = alarmPrefix(config);
  const primary = config.primaryRegion;
  const stageDims = ["service", APP_SERVICE, "stage", config.stage];
  const cells: Cell[] = [];

  cells.push({
    type: "text",
    width: 24,
    height: 2,
    properties: {
      markdown:
        `# ${prefix}\n` +
        `Deployed from stacks/dashboard-body.ts by \`sst deploy\`: edits made in the console are overwritten. Kept in ${dashboardRegion(config)}; ` +
        `widgets of the primary region (${primary}) stay empty while it is down.`,
    },
  });

  // Backups: age per resource and region (a search: resources are selected by tag at run time), stale count, heartbeat.
  const freshness = new Map<number, string[]>();
  for (const p of config.backup.policies) freshness.set(p.freshnessHours, [...(freshness.get(p.freshnessHours) ?? []), p.name]);
  const ageSchema = [APP_NAMESPACE, ...[...APP_DIMENSIONS, ...WATCHDOG_METRICS.ageDimensions].sort()].join(",");
  cells.push(
    metric(
      "Backup age per resource and region (h)",
      primary,
      [
        [
          {
            id: "age",
            expression: `SEARCH('{${ageSchema}} MetricName="${WATCHDOG_METRICS.age}" stage="${config.stage}"', 'Maximum', 3600)`,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch's dynamic label syntax, filled in by the console
            label: "${PROP('Dim.resource')} ${PROP('Dim.region')}",
          },
        ],
      ],
      {
        period: 3600,
        annotations: {
          horizontal: [...freshness].map(([hours, policies]) => ({ value: hours, label: `freshness ${policies.join(", ")}: ${hours} h`, color: "#d62728" })),
        },
      },
    ),
    metric(
      "Stale backups (resource × region)",
      primary,
      [[APP_NAMESPACE, WATCHDOG_METRICS.stale, ...stageDims, { label: "stale" }]],
      { stat: "Maximum", period: 3600 },
      6,
    ),
    metric(
      "Watchdog heartbeat (runs per hour)",
      primary,
      [[APP_NAMESPACE, WATCHDOG_METRICS.heartbeat, ...stageDims, { label: "heartbeat" }]],
      {
        stat: "Sum",
        period: 3600,
        annotations: { horizontal: [{ value: 1, label: "alarm: below 1 for 2 h", color: "#d62728" }] },
      },
      6,
    ),
  );

  // Functions: errors and duration, one pair of widgets per region (a metric widget reads one region).
  for (const [region, fns] of byRegion(input.functions)) {
    cells.push(
      metric(
        `Lambda errors (${region})`,
        region,
        fns.map((f) => ["AWS/Lambda", "Errors", "FunctionName", f.functionName, { label: f.name }]),
        { stat: "Sum", period: 300 },
      ),
      metric(
        `Lambda duration, maximum (${region}, ms)`,
        region,
        fns.map((f) => ["AWS/Lambda", "Duration", "FunctionName", f.functionName, { label: f.name }]),
        { stat: "Maximum", period: 300 },
      ),
    );
  }

  for (const [region, queues] of byRegion(input.deadLetterQueues)) {
    cells.push(
      metric(
        `Dead-letter queue depth (${region})`,
        region,
        queues.map((q) => ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.queueName, { label: q.name }]),
        { stat: "Maximum", period: 300 },
        8,
      ),
    );
  }

  for (const s of input.stateMachines) {
    cells.push(
      metric(
        `${s.runbook} executions (${s.region})`,
        s.region,
        [
          ["AWS/States", "ExecutionsStarted", "StateMachineArn", s.arn, { label: "started" }],
          ["AWS/States", "ExecutionsFailed", "StateMachineArn", s.arn, { label: "failed", color: "#d62728" }],
        ],
        { stat: "Sum", period: 300 },
        8,
      ),
    );
  }

  // Failover: each group's replica lag with its RPO, the probe's verdicts per triggered group.
  for (const g of config.failover.groups) {
    const lag = replicaLagMetric(g);
    const rpo = lag.unit === "Milliseconds" ? g.maxReplicaLagSeconds * 1000 : g.maxReplicaLagSeconds;
    cells.push(
      metric(
        `${g.name}: ${lag.metricName} of ${g.replica.id} (${lag.unit === "Milliseconds" ? "ms" : "s"})`,
        g.replica.region,
        [[lag.namespace, lag.metricName, lag.dimension, g.replica.id, { label: g.replica.id }]],
        { stat: "Maximum", period: 60, annotations: { horizontal: [{ value: rpo, label: `RPO ${g.maxReplicaLagSeconds} s`, color: "#d62728" }] } },
        8,
      ),
    );
  }
  const triggered = config.failover.groups.filter((g) => g.trigger);
  const control = controlRegion(config);
  if (control && triggered.length) {
    cells.push(
      metric(
        "Primary probe failures per group",
        control,
        triggered.map((g) => [probeNamespace(prefix), PROBE_METRIC, PROBE_DIMENSION, g.name, { label: g.name }]),
        { stat: "Minimum", period: 60 },
        8,
      ),
    );
  }

  // Alarms: one status widget per region, in chunks of the widget's limit.
  for (const [region, alarms] of byRegion(ourAlarms(config, input))) {
    const arns = alarms.map((a) => `arn:${input.partition}:cloudwatch:${a.region}:${input.account}:alarm:${a.name}`).sort();
    for (let i = 0; i < arns.length; i += MAX_ALARMS_PER_WIDGET) {
      cells.push({
        type: "alarm",
        width: 12,
        height: 6,
        properties: { title: `Alarms (${region})`, alarms: arns.slice(i, i + MAX_ALARMS_PER_WIDGET), sortBy: "stateUpdatedTimestamp" },
      });
    }
  }

  // Decisions: Logs Insights over each region's function log groups.
  for (const [region, fns] of byRegion(input.functions)) {
    cells.push({
      type: "log",
      width: 24,
      height: 8,
      properties: {
        title: `Decisions (${region})`,
        region,
        view: "table",
        query: decisionQuery(fns.map((f) => f.logGroup)),
      },
    });
  }

  return { start: "-P7D", periodOverride: "inherit", widgets: layout(cells) };
}

/** The Logs Insights query of the decisions widget over `logGroups` (dashboard form: `SOURCE '<group>' | ...`). */
export function decisionQuery(logGroups: readonly string[]): string {
  return [
    ...logGroups.map((g) => `SOURCE '${g}'`),
    "fields @timestamp, @log, message, coalesce(action, kind) as decided, coalesce(target, key, targetSet) as on, reason",
    `filter message like ${DECISION_MESSAGE} and coalesce(action, "") != "${PROBE_UP_ACTION}"`,
    "sort @timestamp desc",
    "limit 200",
  ].join(" | ");
}
