/**
 * The account `config/example.json` describes, on the sandbox, and the functions' handlers wired to it: what the
 * sample events in `events/` run against (test/scenario/events-example.test.ts).
 *
 * Every handler is the one of `functions/<name>.ts` (the same `createHandler` chain, parser and runbook; failover
 * through `makeFailoverHandler`), with only what the sandbox cannot provide replaced: the linked Reports bucket
 * and the failover state bucket are sandbox buckets, Slack and metrics are captured, the clock is fake, the web
 * (warm targets, health URLs) is a local origin or a probe stub, and Cost Explorer is the sandbox's
 * (sandbox/aws/cost-explorer.ts) answering from a cost series. Every AWS call a handler makes is
 * evaluated against that function's role derived from the example configuration.
 *
 * @example
 *   const account = exampleAccount({ start: "2025-03-04T10:15:02Z" });
 *   await account.handlers.backup({ trigger: "schedule" }, lambdaContext("req-1"));
 *   expect(account.sb.iam?.denials).toEqual([]);
 *   account.restore();
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { costExplorer, resetClients } from "../../adapters/clients.ts";
import { cloudwatchMetrics } from "../../adapters/cloudwatch.ts";
import { fetchCosts } from "../../adapters/cost-explorer.ts";
import { createHttpDeps, type HttpDeps } from "../../adapters/http-warm.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import { s3Latch } from "../../adapters/latch.ts";
import { rdsFailover } from "../../adapters/rds-failover.ts";
import { route53Dns } from "../../adapters/route53.ts";
import { type BucketRef, putJson } from "../../adapters/s3.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { makeFailoverHandler } from "../../functions/failover.ts";
import { runBackup } from "../../runbooks/backup/backup.ts";
import { runCopy } from "../../runbooks/backup/copy.ts";
import { backupDeps } from "../../runbooks/backup/deps.ts";
import { runPrune } from "../../runbooks/backup/prune.ts";
import { runWatchdog } from "../../runbooks/backup/watchdog.ts";
import { runCost } from "../../runbooks/cost/cost.ts";
import { s3AlertState } from "../../adapters/alert-state.ts";
import type { FailoverDeps } from "../../runbooks/failover/index.ts";
import { createHandler, type MetricPoint, type RunContext, type Runtime } from "../../runbooks/lib/handler.ts";
import { createWarmRun, type LeftoverStore } from "../../runbooks/warm/warm.ts";
import type { Config } from "../../schemas/config.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent } from "../../schemas/events-backup.ts";
import { parseCostEvent } from "../../schemas/events-cost.ts";
import { parseWarmEvent } from "../../schemas/events-warm.ts";
import { parseProbeEvent } from "../../schemas/events-probe.ts";
import { runProbe } from "../../runbooks/probe/probe.ts";
import { checkerSqlPort, realRestoreTestDeps } from "../../runbooks/restore-test/deps.ts";
import { makeRestoreTestHandler, throwawaysInFlight, trendHistory } from "../../runbooks/restore-test/handler.ts";
import { listCandidateResources } from "../../adapters/inventory.ts";
import { probeDeps } from "../../runbooks/probe/deps.ts";
import { loadConfig } from "../../stacks/config.ts";
import type { FunctionName } from "../../stacks/functions.ts";
import { createSandbox, FakeClock, type CostLine, type Sandbox } from "../index.ts";
import { parseWeeklyReportEvent } from "../../schemas/events-weekly-report.ts";
import { runWeeklyReport } from "../../runbooks/weekly-report/weekly-report.ts";
import { weeklyReportDeps } from "../../runbooks/weekly-report/deps.ts";
import { parseFleetSummaryEvent } from "../../schemas/events-fleet.ts";
import { runFleetSummary } from "../../runbooks/fleet/summary.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
export const EXAMPLE_REPORTS_BUCKET = "ops-autopilot-ci-reports";
export const EXAMPLE_STATE_BUCKET = "ops-autopilot-ci-failover-state";

/** config/example.json as the `ci` stage loads it (stacks/config.ts). */
export function exampleConfig(): Config {
  return loadConfig("ops-autopilot", "ci", ROOT, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
}

export type ExampleHandler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;

/** The functions that take events from events/. */
export const EXAMPLE_FUNCTIONS = [
  "backup",
  "copy",
  "prune",
  "watchdog",
  "warm",
  "cost",
  "failover",
  "probe",
  "restore-test",
  "weekly-report",
  "fleet-summary",
] as const satisfies readonly FunctionName[];
export type ExampleFunction = (typeof EXAMPLE_FUNCTIONS)[number];

/** A cost series: per UTC day, per service, the amount in USD. */
export type CostSeries = (date: string) => Record<string, number>;

export interface ExampleAccountOptions {
  /** Fake time at the start. */
  start: string;
  /** Cost Explorer's answer (default: $100 of EC2 and $140 of RDS every day). */
  costs?: CostSeries;
  /** Month-end forecast Cost Explorer gives for the rest of the month (default $7,000). */
  forecastUsd?: number;
  /**
   * A payer account's organization: its linked accounts (with the names Cost Explorer gives them) and each day's spend
   * per account and service. Replaces `costs`.
   */
  organization?: { accounts: readonly { id: string; name?: string }[]; costs: (date: string) => readonly CostLine[] };
  /** Changes to config/example.json for this account (e.g. a `cost.accounts` section). */
  config?: (config: Config) => Config;
  /** The web the warm function sees (default: none; a fetch fails). */
  http?: () => HttpDeps;
  /** Answers of the failover health probe per URL (default: every URL healthy). */
  probe?: (url: string) => boolean;
}

export interface ExampleAccount {
  sb: Sandbox;
  clock: FakeClock;
  config: Config;
  handlers: Record<ExampleFunction, ExampleHandler>;
  /** Slack messages as plain text, in order (summaries, alerts, failover steps). */
  slack: string[];
  metrics: MetricPoint[];
  /** Warm target sets the failover runbook asked to warm. */
  warmed: string[];
  /** URLs the failover health probe (and the trigger kit's probe) checked. */
  probed: string[];
  /** The Cost Explorer requests (first attempts). */
  costCalls: () => { command: string; input: unknown }[];
  restore(): void;
}

/**
 * The example account: the resources `config/example.json` names, created in the sandbox. The tag-selected
 * `databases` policy finds the failover group's primary by its tag; the `volumes` policy names its EBS volume; the
 * failover group's replica is a cross-region read replica with its ReplicaLag metric, its alarm in `alarmRegion`,
 * and the hosted zone holds the record pointing at the primary. Snapshots are encrypted with the configured
 * source key, as `backup.sourceKmsKeyIds` says.
 */
export function exampleAccount(options: ExampleAccountOptions): ExampleAccount {
  const config = options.config ? options.config(exampleConfig()) : exampleConfig();
  const primary = config.primaryRegion;
  const clock = new FakeClock(options.start);
  resetClients();
  const sb = createSandbox({
    clock,
    regions: [primary, ...config.drRegions.map((d) => d.region)],
    buckets: [EXAMPLE_REPORTS_BUCKET, EXAMPLE_STATE_BUCKET],
    iam: { reportsBucket: EXAMPLE_REPORTS_BUCKET, stateBucket: EXAMPLE_STATE_BUCKET },
    costExplorer: true,
  });
  const sourceKey = config.backup.sourceKmsKeyIds[0];
  const encryption = sourceKey ? { encrypted: true, kmsKeyId: sourceKey } : {};

  for (const policy of config.backup.policies) {
    for (const ref of policy.selection.ids) {
      if (ref.kind === "ebs-volume") sb.ec2.addVolume(primary, { id: ref.id, ...encryption });
      else if (ref.kind === "rds-instance") sb.rds.addInstance(primary, { id: ref.id, ...encryption });
      else sb.rds.addCluster(primary, { id: ref.id, members: [`${ref.id}-a`], ...encryption });
    }
  }
  const databases = config.backup.policies.find((p) => p.selection.tag);
  for (const group of config.failover.groups) {
    const tag = databases?.selection.tag ? { [databases.selection.tag.key]: databases.selection.tag.value ?? databases.name } : {};
    sb.rds.addInstance(group.primary.region, { id: group.primary.id, tags: tag, ...encryption });
    sb.rds.addInstance(group.replica.region, {
      id: group.replica.id,
      replicaSourceArn: `arn:aws:rds:${group.primary.region}:${sb.accountId}:db:${group.primary.id}`,
    });
    sb.cloudwatch.setMetric(group.replica.region, "ReplicaLag", group.replica.id, 3, new Date(clock.nowMs() - 3_600_000));
    for (const alarm of group.alarms) sb.cloudwatch.setAlarmState(group.alarmRegion ?? group.replica.region, alarm, "OK");
    const zone = group.dns.hostedZoneId.replace(/^\/hostedzone\//, "");
    sb.route53.addZone(zone, group.dns.recordName.split(".").slice(1).join("."));
    const value = group.dns.primary;
    if ("values" in value) {
      sb.route53.putRecord(zone, {
        Name: group.dns.recordName,
        Type: group.dns.recordType,
        TTL: group.dns.ttl,
        ResourceRecords: value.values.map((Value) => ({ Value })),
      });
    }
  }

  const slack: string[] = [];
  const metrics: MetricPoint[] = [];
  const warmed: string[] = [];
  const probed: string[] = [];
  const reports: BucketRef = { bucket: EXAMPLE_REPORTS_BUCKET, region: primary };
  const runtime: Runtime = {
    config: () => config,
    now: () => clock.now(),
    reportBucket: () => reports,
    postSlack: async (m: SlackMessage) => void slack.push(renderText(m)),
    emitMetrics: (p) => void metrics.push(...p),
    logger: new Logger({ logLevel: "SILENT" }),
  };

  const costs: CostSeries = options.costs ?? (() => ({ "Amazon Elastic Compute Cloud - Compute": 100, "Amazon Relational Database Service": 140 }));
  for (const account of options.organization?.accounts ?? []) sb.costExplorer.linkAccount(account.id, account.name);
  sb.costExplorer.setCosts(options.organization?.costs ?? ((d) => Object.entries(costs(d)).map(([service, amount]) => ({ service, amount }))));
  sb.costExplorer.setForecast(() => options.forecastUsd ?? 7000);

  const stateBucket = reports;
  const leftovers = (ctx: RunContext): LeftoverStore => {
    // The same keys as runbooks/warm/deps.ts, in the sandbox's Reports bucket.
    const docs = jsonDocuments(reports);
    const key = (set: string) => `state/warm/${set}/leftover.json`;
    return {
      load: async (set) => (await docs.get<{ urls: string[] }>(key(set)))?.body.urls ?? [],
      save: async (set, urls) => docs.put(key(set), { urls, savedAt: ctx.now().toISOString() }),
    };
  };
  const failoverDeps = (ctx: RunContext): FailoverDeps => {
    const sleep = async (ms: number) => void clock.advance(ms);
    const dr = config.failover.groups[0]?.replica.region ?? config.drRegions[0]?.region ?? primary;
    return {
      latch: s3Latch({ bucket: EXAMPLE_STATE_BUCKET, region: dr }),
      db: rdsFailover(),
      metrics: cloudwatchMetrics(),
      dns: route53Dns({ sleep, maxAttempts: ctx.config.failover.dnsMaxAttempts }),
      probe: {
        check: async (url) => {
          probed.push(url);
          const ok = options.probe?.(url) ?? true;
          return ok ? { ok, status: 200, ms: 35, detail: "HTTP 200 in 35 ms" } : { ok, ms: 2000, detail: "timeout after 2000 ms" };
        },
      },
      warm: {
        warm: async (name) => {
          warmed.push(name);
          return { ok: true, summary: `warm-up of ${name} requested` };
        },
      },
      notify: { notify: async (m) => void slack.push(renderText(m)) },
      clock: { now: () => clock.now(), sleep },
    };
  };

  const handlers: Record<ExampleFunction, ExampleHandler> = {
    backup: createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime),
    copy: createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, runtime),
    prune: createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime),
    watchdog: createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: (e, c) => runWatchdog(e, c, backupDeps(c, { stateBucket })) }, runtime),
    cost: createHandler(
      {
        name: "cost",
        parse: parseCostEvent,
        run: (e, c) =>
          runCost(e, c, {
            fetch: (req) => fetchCosts(req, costExplorer()),
            alertState: () => s3AlertState(reports, "cost"),
          }),
      },
      runtime,
    ),
    warm: createHandler(
      { name: "warm", parse: parseWarmEvent, run: createWarmRun({ http: () => (options.http ?? (() => createHttpDeps()))(), leftovers }) },
      runtime,
    ),
    failover: makeFailoverHandler({
      deps: failoverDeps,
      runtime: {
        ...runtime,
        saveReport: async (key, report) =>
          void (await putJson({ bucket: EXAMPLE_STATE_BUCKET, region: config.failover.groups[0]?.replica.region ?? primary }, key, report)),
      },
    }),
    // The trigger kit's probe: the primary's URL answers as `options.probe` says, its database port accepts; the
    // results go to the sandbox's CloudWatch through the real adapter, as the probe's role allows.
    probe: createHandler(
      {
        name: "probe",
        parse: parseProbeEvent,
        posts: false,
        run: (e, c) =>
          runProbe(e, c, {
            http: async (url) => {
              probed.push(url);
              const ok = options.probe?.(url) ?? true;
              return { ok, detail: ok ? "HTTP 200 in 35 ms" : `no answer within ${c.config.failover.groups[0]?.trigger?.timeoutMs ?? 5000} ms` };
            },
            tcp: async (host, port) => ({ ok: true, detail: `${host}:${port} accepted the connection in 3 ms` }),
            publish: probeDeps(c).publish,
          }),
      },
      runtime,
    ),
    "weekly-report": createHandler(
      {
        name: "weekly-report",
        parse: parseWeeklyReportEvent,
        run: (e, c) =>
          runWeeklyReport(
            e,
            c,
            weeklyReportDeps(() => reports),
          ),
      },
      runtime,
    ),
    // The fleet fan-out's summary: it calls no AWS API of its own (the chain saves the report and posts).
    "fleet-summary": createHandler({ name: "fleet-summary", parse: parseFleetSummaryEvent, run: runFleetSummary }, runtime),
    // The restore test as deployed, its checks run by the region's checker through the sandbox's Lambda; from the console
    // (a direct invoke) it only plans.
    "restore-test": makeRestoreTestHandler({
      deps: (c, runId) => {
        const d = realRestoreTestDeps({
          bucket: reports,
          runId,
          owner: { app: c.config.app, stage: c.config.stage },
          sql: checkerSqlPort(),
          notify: async (m) => void slack.push(renderText(m)),
        });
        d.clock = { now: () => clock.now(), sleep: async (ms: number) => void clock.advance(ms) };
        return d;
      },
      plan: (c) => ({ listResources: listCandidateResources, history: trendHistory(reports), inFlight: throwawaysInFlight(c.config) }),
      runtime,
    }),
  } as Record<ExampleFunction, ExampleHandler>;

  return {
    sb,
    clock,
    config,
    handlers,
    slack,
    metrics,
    warmed,
    probed,
    costCalls: () =>
      sb
        .callsTo("costExplorer")
        .filter((c) => c.attempt === 1)
        .map((c) => ({ command: c.command, input: c.input })),
    restore() {
      sb.restore();
      resetClients();
    },
  };
}
