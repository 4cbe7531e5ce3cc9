import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { lagQuery } from "../../../adapters/cloudwatch.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { runWatchdog } from "../../../runbooks/backup/watchdog.ts";
import { createHandler, type RunContext } from "../../../runbooks/lib/handler.ts";
import { probeDeps } from "../../../runbooks/probe/deps.ts";
import { runProbe } from "../../../runbooks/probe/probe.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { type Config, parseConfig } from "../../../schemas/config.ts";
import { parseWatchdogEvent, type JobEvent } from "../../../schemas/events-backup.ts";
import { parseProbeEvent } from "../../../schemas/events-probe.ts";
import {
  type DashboardBody,
  type DashboardInput,
  dashboardBody,
  dashboardRegion,
  DECISION_MESSAGE,
  decisionQuery,
  ourAlarms,
} from "../../../stacks/dashboard-body.ts";
import { deployedFunctions } from "../../../stacks/functions.ts";
import { groupInput } from "../failover/builders.ts";

/**
 * The dashboard body (stacks/dashboard-body.ts) against the code: every custom metric a widget plots is one the functions
 * really publish (the watchdog's EMF captured from stdout, the probe's PutMetricData received by the sandbox), the AWS
 * metrics are the documented ones of what we deploy, the replica lag is what the failover runbook reads, the lines come
 * from the configuration, and the decisions query matches every decision line the runbooks log.
 */

const ROOT = path.resolve(import.meta.dirname, "../../..");
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";

// biome-ignore lint/suspicious/noExplicitAny: config/example.json, edited field by field before it is parsed
function exampleConfig(mutate: (raw: Record<string, any>) => void = () => {}): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8"));
  raw.stage = "ci";
  mutate(raw);
  return parseConfig(raw);
}

/** What stacks/dashboard.ts resolves from the stage: names as SST would give them. */
function inputFor(config: Config): DashboardInput {
  const control = dashboardRegion(config);
  const regionOf = (r: string) => (r === "primary" ? config.primaryRegion : control);
  return {
    account: ACCOUNT,
    partition: "aws",
    functions: deployedFunctions(config).map((f) => ({
      name: f.name,
      functionName: `ops-autopilot-ci-${f.name}Function-abcdefgh`,
      region: regionOf(f.region),
      logGroup: `/aws/lambda/ops-autopilot-ci-${f.name}Function-abcdefgh`,
    })),
    deadLetterQueues: [
      { name: "DeadLetters", queueName: "ops-autopilot-ci-DeadLettersQueue-abcdefgh", region: config.primaryRegion },
      { name: "FailoverDeadLetters", queueName: "ops-autopilot-ci-FailoverDeadLettersQueue-abcdefgh", region: control },
    ],
    stateMachines: [{ runbook: "failover", arn: `arn:aws:states:${control}:${ACCOUNT}:stateMachine:failover`, region: control }],
  };
}

/** One plotted metric: namespace, name and the sorted dimension names, as a widget names it. */
interface MetricRef {
  widget: string;
  region: string;
  namespace: string;
  name: string;
  dimensions: string[];
}

/** Every metric of every metric widget: the metric arrays and the SEARCH expressions' `{namespace,dims} MetricName="..."`. */
function metricRefs(body: DashboardBody): MetricRef[] {
  const out: MetricRef[] = [];
  for (const w of body.widgets.filter((x) => x.type === "metric")) {
    const { title, region, metrics } = w.properties as { title: string; region: string; metrics: unknown[][] };
    for (const m of metrics) {
      const head = m[0];
      if (typeof head === "object" && head && "expression" in head) {
        const expr = String((head as { expression: string }).expression);
        const found = /SEARCH\('\{([^}]*)\} MetricName="([^"]+)"/.exec(expr);
        if (!found) throw new Error(`${title}: expression without a schema and MetricName: ${expr}`);
        const [namespace, ...dimensions] = found[1]!.split(",");
        out.push({ widget: title, region, namespace: namespace!, name: found[2]!, dimensions: dimensions.sort() });
        continue;
      }
      const [namespace, name, ...rest] = m.filter((x) => typeof x === "string") as string[];
      out.push({ widget: title, region, namespace: namespace!, name: name!, dimensions: rest.filter((_, i) => i % 2 === 0).sort() });
    }
  }
  return out;
}

const key = (namespace: string, name: string, dimensions: readonly string[]) => `${namespace} ${name} [${[...dimensions].sort().join(",")}]`;

/** The watchdog's EMF (runbooks/lib/handler.ts through Powertools), as Lambda would ship it to CloudWatch: stdout. */
async function watchdogEmf(config: Config): Promise<Set<string>> {
  const clock = new FakeClock("2026-11-20T02:00:00Z");
  const sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: ["reports"] });
  resetClients();
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "databases" } });
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const before = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  try {
    const handler = createHandler(
      {
        name: "watchdog",
        parse: parseWatchdogEvent,
        run: (e: JobEvent, c: RunContext) => runWatchdog(e, c, backupDeps(c, { stateBucket: { bucket: "reports", region: PRIMARY } })),
      },
      {
        config: () => config,
        now: () => clock.now(),
        saveReport: async () => {},
        postSlack: async () => {},
        logger: new Logger({ logLevel: "SILENT" }),
      },
    );
    await handler({ trigger: "schedule" }, lambdaContext("r")).catch(() => undefined);
  } finally {
    write.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = before;
    sb.restore();
    resetClients();
  }
  const out = new Set<string>();
  for (const line of lines.flatMap((l) => l.split("\n")).filter((l) => l.includes('"_aws"'))) {
    const emf = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } };
    for (const d of emf._aws.CloudWatchMetrics) for (const dims of d.Dimensions) for (const m of d.Metrics) out.add(key(d.Namespace, m.Name, dims));
  }
  return out;
}

/**
 * AWS's own metrics the widgets use, each with the dimension it is read by, from the services' metric pages:
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html (ReplicaLag; Aurora's replication lag comes
 * from adapters/cloudwatch.ts lagQuery below).
 */
const AWS_METRICS = new Set([
  key("AWS/Lambda", "Errors", ["FunctionName"]),
  key("AWS/Lambda", "Duration", ["FunctionName"]),
  key("AWS/SQS", "ApproximateNumberOfMessagesVisible", ["QueueName"]),
  key("AWS/States", "ExecutionsStarted", ["StateMachineArn"]),
  key("AWS/States", "ExecutionsFailed", ["StateMachineArn"]),
]);

describe("dashboard widgets plot only metrics the code publishes", () => {
  const config = exampleConfig();
  const body = dashboardBody(config, inputFor(config));
  const refs = metricRefs(body);

  it("the watchdog's age, stale count and heartbeat: namespace, names and dimension sets of its EMF output", async () => {
    const emitted = await watchdogEmf(config);
    const ours = refs.filter((r) => r.namespace === "ops-autopilot");
    expect(ours.map((r) => r.widget)).toEqual([
      "Backup age per resource and region (h)",
      "Stale backups (resource × region)",
      "Watchdog heartbeat (runs per hour)",
    ]);
    expect(ours.map((r) => r.region)).toEqual([PRIMARY, PRIMARY, PRIMARY]);
    for (const r of ours) expect([...emitted], `${r.widget}: ${key(r.namespace, r.name, r.dimensions)}`).toContain(key(r.namespace, r.name, r.dimensions));
  });

  describe("the probe's verdicts", () => {
    let sb: Sandbox;
    let http: Server;
    beforeEach(() => {
      sb = createSandbox({ clock: new FakeClock("2026-11-20T02:00:00Z"), regions: [PRIMARY, DR] });
      resetClients();
    });
    afterEach(async () => {
      sb.restore();
      resetClients();
      await new Promise((r) => http.close(() => r(undefined)));
    });

    it("are the metric, namespace and dimension the probe publishes with PutMetricData in the control region", async () => {
      http = createServer((_req, res) => res.end("ok"));
      const port = await new Promise<number>((resolve) => http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port)));
      const probeConfig = exampleConfig((raw) => {
        raw.failover.groups[0].trigger.probe = { url: `http://127.0.0.1:${port}/health` };
        raw.failover.groups[0].trigger.timeoutMs = 1000;
      });
      const handler = createHandler(
        { name: "probe", parse: parseProbeEvent, run: (e, c) => runProbe(e, c, probeDeps(c)), posts: false },
        { config: () => probeConfig, saveReport: async () => {}, postSlack: async () => {}, emitMetrics: () => {}, logger: new Logger({ logLevel: "SILENT" }) },
      );
      await handler({ trigger: "schedule" }, lambdaContext("r"));
      const probeRefs = metricRefs(dashboardBody(probeConfig, inputFor(probeConfig))).filter((r) => r.widget === "Primary probe failures per group");
      expect(probeRefs).toHaveLength(1);
      const [ref] = probeRefs;
      expect(ref!.region).toBe(DR);
      const published = sb.cloudwatch.published(ref!.region, ref!.namespace);
      expect(published.map((p) => key(ref!.namespace, p.metric, Object.keys(p.dimensions)))).toEqual([key(ref!.namespace, ref!.name, ref!.dimensions)]);
    });
  });

  it("AWS's metrics: the documented names and dimensions of Lambda, SQS and Step Functions", () => {
    const aws = refs.filter((r) => r.namespace.startsWith("AWS/") && r.namespace !== "AWS/RDS");
    expect(aws.length).toBeGreaterThan(0);
    for (const r of aws) expect([...AWS_METRICS], r.widget).toContain(key(r.namespace, r.name, r.dimensions));
  });

  it("replica lag: the metric the failover runbook reads before promoting (adapters/cloudwatch.ts lagQuery), RDS and Aurora", () => {
    const both = exampleConfig((raw) => {
      raw.failover.groups.push(
        groupInput({
          name: "ledger",
          alarms: ["ledger-down"],
          primary: { kind: "aurora-cluster", id: "ledger", region: PRIMARY },
          replica: { kind: "aurora-cluster", id: "ledger-dr", region: DR },
          globalClusterId: "ledger-global",
          warmTargetSet: "www",
        }),
      );
    });
    const lagRefs = metricRefs(dashboardBody(both, inputFor(both))).filter((r) => r.namespace === "AWS/RDS");
    expect(lagRefs).toHaveLength(2);
    both.failover.groups.forEach((g, i) => {
      const m = lagQuery(g).query.MetricStat!.Metric!;
      expect(lagRefs[i]).toMatchObject({ region: g.replica.region, namespace: m.Namespace, name: m.MetricName, dimensions: m.Dimensions!.map((d) => d.Name) });
    });
  });
});

describe("dashboard lines from the configuration", () => {
  const annotations = (body: DashboardBody, title: RegExp) =>
    body.widgets
      .filter((w) => title.test(String(w.properties.title)))
      .map((w) => (w.properties.annotations as { horizontal: { value: number; label: string }[] }).horizontal.map((h) => [h.value, h.label]));

  it("draws one freshness line per distinct freshnessHours, naming its policies", () => {
    const config = exampleConfig((raw) => {
      raw.backup.policies[1].freshnessHours = 30;
      raw.backup.policies.push({ ...raw.backup.policies[0], name: "more-databases", selection: { tag: { key: "ops-autopilot:backup", value: "more" } } });
    });
    expect(annotations(dashboardBody(config, inputFor(config)), /^Backup age/)).toEqual([
      [
        [25, "freshness databases, more-databases: 25 h"],
        [30, "freshness volumes: 30 h"],
      ],
    ]);
  });

  it("draws each group's RPO (maxReplicaLagSeconds) in the unit of its lag metric: seconds for RDS, milliseconds for Aurora", () => {
    const config = exampleConfig((raw) => {
      raw.failover.groups[0].maxReplicaLagSeconds = 45;
      raw.failover.groups.push(
        groupInput({
          name: "ledger",
          alarms: ["ledger-down"],
          primary: { kind: "aurora-cluster", id: "ledger", region: PRIMARY },
          replica: { kind: "aurora-cluster", id: "ledger-dr", region: DR },
          globalClusterId: "ledger-global",
          maxReplicaLagSeconds: 5,
          warmTargetSet: "www",
        }),
      );
    });
    expect(annotations(dashboardBody(config, inputFor(config)), /Lag of/)).toEqual([[[45, "RPO 45 s"]], [[5000, "RPO 5 s"]]]);
  });
});

describe("dashboard layout and limits", () => {
  const config = exampleConfig((raw) => {
    for (const p of raw.backup.policies)
      p.restoreTest =
        p.name === "volumes"
          ? { ebs: { availabilityZone: "eu-west-1a" } }
          : { rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] } };
  });
  const plain = inputFor(config);
  const input = {
    ...plain,
    stateMachines: [...plain.stateMachines, { runbook: "restore-test", arn: `arn:aws:states:${DR}:${ACCOUNT}:stateMachine:rt`, region: DR }],
  };
  const body = dashboardBody(config, input);

  it("lives in the failover control region, not the primary", () => {
    expect(dashboardRegion(config)).toBe(DR);
    expect(dashboardRegion(exampleConfig((raw) => (raw.failover.groups = [])))).toBe(DR);
    const primaryOnly = exampleConfig((raw) => {
      raw.failover.groups = [];
      raw.drRegions = [];
      for (const p of raw.backup.policies) p.copyToDr = false;
    });
    expect(dashboardRegion(primaryOnly)).toBe(PRIMARY);
  });

  it("charts errors and duration of every deployed function, in the function's region", () => {
    const fns = body.widgets.filter((w) => /^Lambda (errors|duration)/.test(String(w.properties.title)));
    const plotted = fns.flatMap((w) => (w.properties.metrics as unknown[][]).map((m) => `${m[1]} ${(m[4] as { label: string }).label} ${w.properties.region}`));
    const expected = input.functions.flatMap((f) => [`Errors ${f.name} ${f.region}`, `Duration ${f.name} ${f.region}`]);
    expect(plotted.sort()).toEqual(expected.sort());
    expect(input.functions.map((f) => f.name)).toContain("restore-test");
  });

  it("charts started and failed executions of each state machine", () => {
    const titles = body.widgets.filter((w) => /executions/.test(String(w.properties.title))).map((w) => w.properties.title);
    expect(titles).toEqual([`failover executions (${DR})`, `restore-test executions (${DR})`]);
  });

  it("lists every alarm once, in one status widget per region, by ARN", () => {
    const listed = body.widgets.filter((w) => w.type === "alarm").flatMap((w) => w.properties.alarms as string[]);
    const expected = ourAlarms(config, input).map((a) => `arn:aws:cloudwatch:${a.region}:${ACCOUNT}:alarm:${a.name}`);
    expect(listed.sort()).toEqual(expected.sort());
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toContain(`arn:aws:cloudwatch:${DR}:${ACCOUNT}:alarm:ops-autopilot-ci-restore-test-executions-failed`);
  });

  it("stays inside the body structure's limits: ≤ 500 widgets, the 24-column grid, ≤ 100 alarms and ≤ 500 metrics per widget", () => {
    expect(body.widgets.length).toBeLessThanOrEqual(500);
    for (const w of body.widgets) {
      expect(w.x + w.width, JSON.stringify(w.properties.title)).toBeLessThanOrEqual(24);
      if (w.type === "alarm") expect((w.properties.alarms as string[]).length).toBeLessThanOrEqual(100);
      if (w.type === "metric") {
        expect((w.properties.metrics as unknown[]).length).toBeLessThanOrEqual(500);
        expect(w.properties.region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
      }
    }
    // No two widgets overlap.
    const cells = new Set<string>();
    for (const w of body.widgets)
      for (let x = w.x; x < w.x + w.width; x++)
        for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
  });
});

/** `ctx.logger.info("<message>", ...)` / `log("<message>", ...)` calls in the runbooks whose message ends in "decision". */
function loggedMessages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
    });
  const out = new Set<string>();
  for (const file of walk(path.join(ROOT, "runbooks")))
    for (const m of readFileSync(file, "utf8").matchAll(/(?:logger\.(?:info|warn|error)|\blog)\(\s*"([^"]+)"/g)) out.add(m[1]!);
  return [...out].sort();
}

describe("decisions widget", () => {
  it("matches every decision line the runbooks log and no other line", () => {
    const messages = loggedMessages();
    const decisions = messages.filter((m) => DECISION_MESSAGE.test(m));
    expect(decisions).toEqual(["alert decision", "decision", "failover alert decision", "failover decision", "run alert decision", "warm decision"]);
    expect(messages).toContain("run finished");
  });

  it("queries each log group of the region, newest first, leaving out the probe's per-minute 'primary up'", () => {
    expect(decisionQuery(["/aws/lambda/a", "/aws/lambda/b"])).toBe(
      "SOURCE '/aws/lambda/a' | SOURCE '/aws/lambda/b' | fields @timestamp, @log, message, coalesce(action, kind) as decided, coalesce(target, key, targetSet) as on, reason" +
        ' | filter message like /decision$/ and coalesce(action, "") != "report-primary-up" | sort @timestamp desc | limit 200',
    );
  });
});
