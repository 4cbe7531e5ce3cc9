/**
 * Failover scenarios on the sandbox, for the sandbox tests and `npm run drill`: the runbook (runbooks/failover/
 * with the real adapters) runs unmodified against simulated RDS, CloudWatch, Route 53 and S3, driven the way the
 * state machine drives it (call → Wait N s of fake time → advance).
 *
 * @example
 *   const r = await runRegionOutageScenario({ warm: myWarmPort });
 *   console.log(r.result, r.rtoSeconds, r.rpoSeconds, r.timeline);
 */
import { parseConfig, type Config, type ConfigInput } from "../../schemas/config.ts";
import { createSandbox, FakeClock, type Sandbox } from "../index.ts";
import { resetClients } from "../../adapters/clients.ts";
import { rdsFailover } from "../../adapters/rds-failover.ts";
import { route53Dns } from "../../adapters/route53.ts";
import { cloudwatchMetrics } from "../../adapters/cloudwatch.ts";
import { s3Latch } from "../../adapters/latch.ts";
import { publishToTopic } from "../../adapters/sns.ts";
import { failoverAlerts, failoverReportLocation } from "../../runbooks/failover/deps.ts";
import { routedNotify } from "../../runbooks/failover/notify.ts";
import { pagerTopicRegion } from "../../stacks/patterns.ts";
import { alertsTopicName } from "../../stacks/patterns.ts";
import type { Destination, Severity } from "../../core/notify-routing.ts";
import { dispatchFailoverEvent, type FailoverDeps, type ProbePort, type RunbookResult, type WarmPort } from "../../runbooks/failover/index.ts";
import { computeTimings, type RunRecord } from "../../core/failover.ts";
import { renderText } from "../../core/report/blocks.ts";
import { FailoverConfigSchema, type FailoverConfig } from "../../schemas/config-failover.ts";

export interface FailoverScenarioOptions {
  /** Warming engine; default: a stub answering "warmed". The drill passes runWarm against a local server. */
  warm?: WarmPort;
  /** DR health probe; default: always healthy. The drill passes httpProbe() with `healthUrl` on a local server. */
  probe?: ProbePort;
  healthUrl?: string;
  /** PromoteReadReplica duration (default 5 min). */
  promotionMinutes?: number;
  /** Replica lag before the outage (default 3 s; the lag scenario uses 240 s). */
  lagSeconds?: number;
  /** Throttling errors injected into the first ChangeResourceRecordSets calls (default 2). */
  route53Throttles?: number;
  /** Scenario start (fake time). */
  start?: string;
  /**
   * The Step Functions execution driving the run, as the Advance state passes it (default {@link scenarioExecution});
   * `null`: driven like a direct invocation, without one.
   */
  execution?: string | null;
}

/** The execution ARN the scenarios pass, as `$states.context.Execution.Id` would (the state machine in the control region). */
export function scenarioExecution(accountId: string, name = "alarm-orders-db-primary-down"): string {
  return `arn:aws:states:${DR}:${accountId}:execution:ops-autopilot-drill-FailoverStateMachine:${name}`;
}

export interface TimelineEntry {
  step: string;
  start?: string;
  end?: string;
  result: string;
  reason?: string;
}

/** One message delivered to one destination. */
export interface Delivery {
  destination: Extract<Destination, "pager" | "alerts-slack">;
  severity: Severity;
  text: string;
  at: string;
  /** The topic a page was published to. */
  topicArn?: string;
}

export interface FailoverScenarioResult {
  scenario: "region-outage" | "lag-too-far";
  /** `done`, `failed`, `refused`, ... */
  result: string;
  reason: string;
  timeline: TimelineEntry[];
  rtoSeconds?: number;
  rpoSeconds?: number;
  writableSeconds?: number;
  dnsInsyncSeconds?: number;
  /** Slack messages (the alerts channel: every failover message goes there) as plain text, in order. */
  messages: string[];
  /** Every delivery, in order: destination, severity and the plain text (the pager's is what SNS published). */
  deliveries: Delivery[];
  /** Mutating AWS calls the runbook made (PromoteReadReplica, ChangeResourceRecordSets), with fake times. */
  mutatingCalls: { command: string; at: string; error?: string }[];
}

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ALARM = "orders-db-primary-down";
const ZONE = "Z0123456789ABC";
const PRIMARY_VALUE = "orders-primary.abc.eu-west-1.rds.amazonaws.com";
const DR_VALUE = "orders-dr.abc.eu-central-1.rds.amazonaws.com";

export function scenarioConfig(healthUrl = "https://dr.example.com/health"): FailoverConfig {
  return FailoverConfigSchema.parse({
    groups: [
      {
        name: "orders-db",
        alarms: [ALARM],
        primary: { kind: "rds-instance", id: "orders-primary", region: PRIMARY },
        replica: { kind: "rds-instance", id: "orders-dr", region: DR },
        maxReplicaLagSeconds: 60,
        dns: {
          hostedZoneId: ZONE,
          recordName: "db.example.com",
          recordType: "CNAME",
          ttl: 60,
          primary: { values: [PRIMARY_VALUE] },
          dr: { values: [DR_VALUE] },
        },
        healthUrl,
        healthTimeoutMs: 2000,
        warmTargetSet: "orders-dr",
        execution: "automatic",
      },
    ],
  });
}

/**
 * The whole configuration the scenario's failover role is derived from: the scenario's failover groups in
 * a stage whose primary and DR regions are the scenario's.
 */
export function scenarioStageConfig(healthUrl?: string): Config {
  return parseConfig({
    app: "ops-autopilot",
    stage: "drill",
    primaryRegion: PRIMARY,
    drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
    backup: { policies: [] },
    failover: scenarioConfig(healthUrl),
  } as ConfigInput);
}

/**
 * Build the sandbox world: primary + cross-region replica, lag metric, hosted zone, state bucket. The
 * runbook is driven without the handler chain, so every call it makes is authorized as the failover
 * function's role (IAM enforcement's `defaultRole`).
 */
export function failoverSandbox(opts: FailoverScenarioOptions = {}): { sb: Sandbox; clock: FakeClock } {
  const clock = new FakeClock(opts.start ?? "2025-03-04T10:00:00Z");
  resetClients();
  const sb = createSandbox({
    clock,
    regions: [PRIMARY, DR],
    buckets: ["failover-state"],
    iam: { stateBucket: "failover-state", defaultRole: { name: "failover", config: scenarioStageConfig(opts.healthUrl) } },
  });
  sb.rds.addInstance(PRIMARY, { id: "orders-primary" });
  sb.rds.addInstance(DR, { id: "orders-dr", replicaSourceArn: `arn:aws:rds:${PRIMARY}:${sb.accountId}:db:orders-primary` });
  sb.rds.setPromotionDuration((opts.promotionMinutes ?? 5) * 60_000);
  sb.cloudwatch.setMetric(DR, "ReplicaLag", "orders-dr", opts.lagSeconds ?? 3, new Date(clock.nowMs() - 3_600_000));
  sb.cloudwatch.setAlarmState(DR, ALARM, "OK");
  sb.route53.addZone(ZONE, "example.com");
  sb.route53.putRecord(ZONE, { Name: "db.example.com", Type: "CNAME", TTL: 60, ResourceRecords: [{ Value: PRIMARY_VALUE }] });
  return { sb, clock };
}

/**
 * The runbook's ports on the sandbox: the real adapters, the fake clock, Slack messages as plain text. Messages are
 * routed as in Lambda (runbooks/failover/notify.ts): criticals are published to the pager topic, created in the sandbox
 * where stacks/notifications.ts puts it (the control region), with the real SNS adapter; every message goes to the
 * alerts channel (`messages`). The incidents' state and the run reports are in the state bucket, as deployed.
 */
export function depsFor(sb: Sandbox, clock: FakeClock, opts: FailoverScenarioOptions, messages: string[], deliveries: Delivery[] = []): FailoverDeps {
  const sleep = async (ms: number) => void clock.advance(ms);
  const stage = scenarioStageConfig(opts.healthUrl);
  const region = pagerTopicRegion(stage);
  const topic = { arn: sb.sns.createTopic(region, alertsTopicName(stage)), region };
  const state = { bucket: "failover-state", region: DR };
  let severity: Severity = "info";
  const routed = routedNotify({
    routing: stage.notifications,
    page: async (m) => {
      await publishToTopic(topic, m);
      const published = sb.sns.published().at(-1)!;
      deliveries.push({ destination: "pager", severity, text: published.message, at: clock.now().toISOString(), topicArn: published.topicArn });
    },
    postAlerts: async (m) => {
      const text = renderText(m);
      messages.push(text);
      deliveries.push({ destination: "alerts-slack", severity, text, at: clock.now().toISOString() });
    },
    log: () => {},
  });
  return {
    latch: s3Latch({ bucket: "failover-state", region: DR }),
    db: rdsFailover(),
    metrics: cloudwatchMetrics(),
    dns: route53Dns({ sleep }),
    probe: opts.probe ?? { check: async () => ({ ok: true, status: 200, ms: 35, detail: "HTTP 200 in 35 ms" }) },
    warm: opts.warm ?? { warm: async () => ({ ok: true, summary: "stub warm-up: 0 URLs" }) },
    notify: {
      notify: async (m, s) => {
        severity = s;
        await routed.notify(m, s);
      },
    },
    clock: { now: () => clock.now(), sleep },
    alerts: failoverAlerts(stage, state),
    reportLocation: failoverReportLocation(state),
  };
}

/** Drive like the state machine: Wait states advance fake time; at most `maxTicks` iterations. */
export async function driveStateMachine(
  deps: FailoverDeps,
  cfg: FailoverConfig,
  clock: FakeClock,
  first: Parameters<typeof dispatchFailoverEvent>[2],
  maxTicks = 1000,
  execution?: string,
): Promise<RunbookResult> {
  const opts = execution ? { execution } : {};
  let r = await dispatchFailoverEvent(deps, cfg, first, opts);
  for (let i = 0; r.next === "wait" && r.advance && i < maxTicks; i++) {
    clock.advance((r.waitSeconds ?? 1) * 1000);
    r = await dispatchFailoverEvent(deps, cfg, r.advance, opts);
  }
  return r;
}

function timelineOf(run: RunRecord | undefined, alarmAt: string, checks: RunbookResult["checks"]): TimelineEntry[] {
  const out: TimelineEntry[] = [{ step: "alarm", start: alarmAt, end: alarmAt, result: "ALARM", reason: `${ALARM} went to ALARM` }];
  const pre = run?.prechecks ?? checks ?? [];
  out.push({
    step: "pre-checks",
    ...(run ? { start: run.startedAt, end: run.startedAt } : {}),
    result: pre.every((c) => c.ok || !c.blocking) ? "passed" : "refused",
    reason: pre.map((c) => `${c.ok ? "✓" : "✗"} ${c.name}: ${c.reason}`).join("; "),
  });
  for (const s of run?.steps ?? []) {
    out.push({
      step: s.name,
      ...(s.startedAt ? { start: s.startedAt } : {}),
      ...(s.endedAt ? { end: s.endedAt } : {}),
      result: s.result ?? s.status,
      ...(s.reason ? { reason: s.reason } : {}),
    });
  }
  return out;
}

async function runScenario(kind: FailoverScenarioResult["scenario"], opts: FailoverScenarioOptions): Promise<FailoverScenarioResult> {
  const { sb, clock } = failoverSandbox(opts);
  try {
    const cfg = scenarioConfig(opts.healthUrl);
    const messages: string[] = [];
    const deliveries: Delivery[] = [];
    const deps = depsFor(sb, clock, opts, messages, deliveries);
    // The primary region goes dark: every RDS call there times out from now on.
    clock.advance(60_000);
    sb.inject({
      service: "rds",
      region: PRIMARY,
      error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
      times: Infinity,
    });
    // SNS in the primary region is down with it: a pager topic there could not be published to.
    sb.inject({
      service: "sns",
      region: PRIMARY,
      error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
      times: Infinity,
    });
    // The canary alarm needs 3 failed minutes before it goes to ALARM.
    clock.advance(3 * 60_000);
    const event = sb.cloudwatch.setAlarmState(DR, ALARM, "ALARM", "Threshold Crossed: 3 out of the last 3 datapoints were less than the threshold (1.0).")!;
    if (opts.route53Throttles ?? 2)
      sb.inject({ service: "route53", command: "ChangeResourceRecordSets", error: "throttling", times: opts.route53Throttles ?? 2 });
    clock.advance(20_000); // EventBridge → Step Functions → Lambda cold start
    const execution = opts.execution === null ? undefined : (opts.execution ?? scenarioExecution(sb.accountId));
    const r = await driveStateMachine(deps, cfg, clock, event, 1000, execution);
    const latch = await deps.latch.read("orders-db");
    const run = latch?.record;
    const t = run ? computeTimings(run) : {};
    const mutating = sb.calls.filter((c) => c.command === "PromoteReadReplica" || c.command === "ChangeResourceRecordSets");
    return {
      scenario: kind,
      result: r.action === "refuse" ? "refused" : (run?.state ?? r.next),
      reason: r.reason,
      timeline: timelineOf(run, new Date(event.detail.state.timestamp.replace("+0000", "Z")).toISOString(), r.checks),
      ...t,
      messages,
      deliveries,
      mutatingCalls: mutating.map((c) => ({ command: c.command, at: c.at.toISOString(), ...(c.error ? { error: c.error.name } : {}) })),
    };
  } finally {
    sb.restore();
    resetClients();
  }
}

/** Region outage: primary down → ALARM → promote → writable → DNS (throttled, retried) → INSYNC → warm → healthy. */
export function runRegionOutageScenario(opts: FailoverScenarioOptions = {}): Promise<FailoverScenarioResult> {
  return runScenario("region-outage", opts);
}

/** The replica lags 240 s (RPO 60 s): the runbook refuses, alerts, and changes nothing. */
export function runLagTooFarScenario(opts: FailoverScenarioOptions = {}): Promise<FailoverScenarioResult> {
  return runScenario("lag-too-far", { lagSeconds: 240, ...opts });
}
