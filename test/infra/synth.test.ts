import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SynthResource, SynthResult } from "../../scripts/sst-synth.ts";
import { deployedFunctions, FUNCTIONS, handlerFile, NODEJS, RUNTIME, type FunctionName } from "../../stacks/functions.ts";
import { permissionsFor, REPORTS_LINK_ACTIONS } from "../../stacks/iam.ts";
import { allowedActions, lintPolicy, type PolicyDocument } from "../../stacks/policy-lint.ts";
import { CONFIG_FILE_NAME, configFromFile, deployedConfigFile } from "../../schemas/config.ts";
import { restoreTestCheckers } from "../../schemas/config-restore-test.ts";
import { checkerComponent } from "../../stacks/restore-test-schedules.ts";
import { SchedulerInputSchema } from "../../schemas/events-common.ts";
import { alarmRoutePattern, failoverEventPattern, pagerTopicRegion } from "../../stacks/patterns.ts";
import { durableRunbookDefinition, LOG_DELIVERY_ACTIONS } from "../../stacks/durable-runbook-definition.ts";
import { exampleConfig, iamContext, ROOT, rulesFor } from "./builders.ts";
import { inputs, named, ofType, runSynth } from "./synth-run.ts";

/**
 * The offline synth of sst.config.ts (scripts/sst-synth.ts) for the `ci` stage and a production
 * stage, asserted resource by resource. The synth runs in a child process: Pulumi's runtime is
 * process-global state.
 */

let ci: SynthResult;
let prod: SynthResult;
const config = exampleConfig();
/** What the example deploys: every function (its databases policy runs sql checks on RDS instances, so a checker too). */
const DEPLOYED = deployedFunctions(config);

beforeAll(() => {
  ci = runSynth("ci");
  prod = runSynth("prod");
}, 240_000);

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The deployments of a function: its SST id and region (a checker per restore region that needs one). */
function deployments(spec: (typeof DEPLOYED)[number]): { id: string; region: string }[] {
  if (spec.name === "restore-test-checker")
    return [...restoreTestCheckers(config.backup.policies, config).byRegion.keys()].map((region) => ({ id: checkerComponent(region), region }));
  return [{ id: cap(spec.name), region: spec.region === "primary" ? config.primaryRegion : "eu-central-1" }];
}

function rolePolicies(role: SynthResource): PolicyDocument[] {
  const inline = (inputs(role).inlinePolicies ?? []) as { policy: string }[];
  return inline.map((p) => JSON.parse(p.policy) as PolicyDocument);
}

/** Every action each function's role allows, besides AWSLambdaBasicExecutionRole (logs). */
/** What each role must hold: the statements stacks/iam.ts derives from the adapter-call declarations, plus the Reports link. */
function expectedActions(name: FunctionName): string[] {
  const spec = FUNCTIONS.find((f) => f.name === name)!;
  const derived = permissionsFor(name, iamContext(config)).flatMap((s) => s.actions);
  return [...new Set([...derived, ...(spec.reports ? REPORTS_LINK_ACTIONS : [])])].sort();
}

describe("offline synth of sst.config.ts", () => {
  it("evaluates without errors, bundling every function of stacks/functions.ts from its handler file", () => {
    expect(ci.errors).toEqual([]);
    expect(ci.builds.map((b) => b.file).sort()).toEqual(DEPLOYED.map(handlerFile).sort());
    for (const b of ci.builds) expect(b.bytes).toBeGreaterThan(0);
  });

  it("declares each function with its handler, runtime, memory, timeout, bundling and region", () => {
    for (const spec of DEPLOYED) {
      for (const { id, region } of deployments(spec)) {
        const fn = inputs(named(ci, "aws:lambda/function:Function", `${id}Function`));
        const build = ci.builds.find((b) => b.functionID === id)!;
        expect(build.handler).toBe(spec.handler);
        expect(build.properties).toMatchObject({ ...NODEJS });
        expect(fn).toMatchObject({ runtime: RUNTIME, memorySize: spec.memoryMb, timeout: spec.timeoutSeconds, handler: "bundle.handler" });
        expect(named(ci, "aws:lambda/function:Function", `${id}Function`).region).toBe(region);
      }
    }
  });

  it("ships every function the stage's parsed configuration as a file in its code package, not in its environment", () => {
    expect(ci.packages.map((p) => p.functionID).sort()).toEqual(ci.builds.map((b) => b.functionID).sort());
    for (const pkg of ci.packages) {
      // SST 4.17.1 zips a copied file twice under the same name (its glob of a file's path yields "." too): same bytes.
      expect(pkg.files.filter((f) => f.name === CONFIG_FILE_NAME).length).toBeGreaterThanOrEqual(1);
      const text = pkg.json[CONFIG_FILE_NAME]!;
      const dir = mkdtempSync(path.join(tmpdir(), "ops-autopilot-package-"));
      writeFileSync(path.join(dir, CONFIG_FILE_NAME), text);
      expect(configFromFile(deployedConfigFile({ LAMBDA_TASK_ROOT: dir }))).toEqual(config);
    }
    for (const fn of ofType(ci, "aws:lambda/function:Function")) {
      expect(JSON.stringify(inputs(fn).environment ?? {})).not.toContain("primaryRegion");
    }
    expect(prod.packages.map((p) => JSON.parse(p.json[CONFIG_FILE_NAME]!).stage)).toEqual(prod.packages.map(() => "prod"));
  });

  it("links the message destinations exactly to the functions that post (the cost channel to the cost function only), and the Reports bucket to those that report there", () => {
    for (const spec of DEPLOYED) {
      for (const { id } of deployments(spec)) {
        const links = ci.builds.find((b) => b.functionID === id)!.links;
        const notify = spec.posts ? ["SlackWebhookUrl", "SlackAlertsWebhookUrl", ...(spec.name === "cost" ? ["SlackCostWebhookUrl"] : []), "AlertsTopic"] : [];
        // SST lists a function's links sorted by name.
        expect(links, spec.name).toEqual([...(spec.reports ? ["Reports"] : []), ...notify].sort());
      }
    }
    // The pager topic: one, in the failover control region (it must page while the primary region is down), named
    // inside the stage's prefix.
    const topics = ofType(ci, "aws:sns/topic:Topic");
    expect(pagerTopicRegion(config)).not.toBe(config.primaryRegion);
    expect(topics.map((t) => [t.name, inputs(t).name, t.region])).toEqual([["AlertsPagerTopic", "ops-autopilot-ci-alerts", pagerTopicRegion(config)]]);
    // The channel secrets deploy unset with their placeholder; SlackWebhookUrl has none (a deploy without it fails).
    expect(
      JSON.stringify(
        ci.resources
          .filter((r) => r.type === "sst:sst:Secret")
          .map((r) => r.name)
          .sort(),
      ),
    ).toBe(JSON.stringify(["SlackAlertsWebhookUrl", "SlackCostWebhookUrl", "SlackWebhookUrl"]));
    // The webhook never sits in a function's plain environment.
    for (const fn of ofType(ci, "aws:lambda/function:Function")) {
      expect(JSON.stringify(inputs(fn).environment)).not.toContain("hooks.slack.com");
    }
  });

  it("schedules every scheduled function from config.schedules in its timezone, with retries and the DLQ", () => {
    const dlqArn = inputs(named(ci, "aws:sqs/queue:Queue", "DeadLettersQueue")).arn ?? "arn:aws:sqs:eu-west-1:123456789012:deadlettersqueue";
    // The vault stage's functions (stage "vault") are scheduled by the vault stage (test/infra/vault-stage.test.ts).
    const scheduled = FUNCTIONS.filter((f) => f.stage === undefined && f.trigger.kind === "schedule");
    // The trigger kit's probe and the restore-test state machine have their own schedules (test/infra/failover-trigger.test.ts,
    // test/infra/restore-test.test.ts).
    const own = ["ProbeScheduleSchedule", "RestoreTestSchedule"];
    expect(ofType(ci, "aws:scheduler/schedule:Schedule").filter((s) => !own.includes(s.name))).toHaveLength(scheduled.length);
    for (const spec of scheduled) {
      const key = (spec.trigger as { schedule: keyof typeof config.schedules }).schedule;
      const s = inputs(named(ci, "aws:scheduler/schedule:Schedule", `${cap(spec.name)}ScheduleSchedule`));
      expect(s.scheduleExpression).toBe(config.schedules[key]);
      // The example runs the cost digest and the warming at local morning hours.
      expect(s.scheduleExpressionTimezone).toBe(key === "cost" || key === "warm" ? "Europe/Paris" : "UTC");
      expect(s.flexibleTimeWindow).toEqual({ mode: "OFF" });
      expect(s.target.retryPolicy).toEqual({ maximumRetryAttempts: 3 });
      expect(s.target.deadLetterConfig).toEqual({ arn: dlqArn });
      expect(s.target.arn).toMatch(new RegExp(`:function:${spec.name}function$`));
      expect(SchedulerInputSchema.parse(JSON.parse(s.target.input))).toEqual({ trigger: "schedule" });
      // The sample is what this schedule delivers, verbatim (test/scenario/events-example.test.ts runs it).
      expect(JSON.parse(s.target.input)).toEqual(JSON.parse(readFileSync(path.join(ROOT, "events", `${spec.name}-scheduled.json`), "utf8")));
    }
    expect(config.schedules.backup).toBe("cron(0 2 * * ? *)");
    expect(config.schedules.cost).toBe("cron(0 9 * * ? *)");
  });

  it("sends failed asynchronous runs to the DLQ after 2 retries", () => {
    const configs = ofType(ci, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    expect(configs).toHaveLength(
      FUNCTIONS.filter((f) => f.stage === undefined && (f.trigger.kind === "schedule" || f.trigger.kind === "probe-schedule")).length,
    );
    for (const c of configs) {
      expect(inputs(c).maximumRetryAttempts).toBe(2);
      // The trigger kit's probe runs in the DR region: its failed runs go to that region's queue.
      expect(inputs(c).destinationConfig.onFailure.destination).toMatch(
        /probe/i.test(c.name) ? /^arn:aws:sqs:eu-central-1:\d{12}:failoverdeadlettersqueue$/ : /:deadlettersqueue$/,
      );
    }
  });

  it("starts the failover runbook only on the configured alarms going to ALARM, in the DR region", () => {
    const rule = named(ci, "aws:cloudwatch/eventRule:EventRule", "FailoverAlarmRule");
    expect(rule.region).toBe("eu-central-1");
    // The example's own alarm and the one its trigger kit deploys.
    const alarms = ["ops-autopilot-ci-failover-orders-db-primary-down", "orders-db-primary-down"];
    expect(JSON.parse(inputs(rule).eventPattern)).toEqual(failoverEventPattern(alarms));
    expect(JSON.parse(inputs(rule).eventPattern).detail).toEqual({ alarmName: alarms, state: { value: ["ALARM"] } });
    const target = inputs(named(ci, "aws:cloudwatch/eventTarget:EventTarget", "FailoverAlarmTarget"));
    expect(target.arn).toMatch(/:stateMachine:failoverstatemachine$/);
    expect(target.deadLetterConfig.arn).toMatch(/^arn:aws:sqs:eu-central-1:/);
    const startRole = rolePolicies(named(ci, "aws:iam/role:Role", "FailoverRuleRole"));
    expect(startRole.flatMap(allowedActions)).toEqual(["states:StartExecution"]);
    const machine = inputs(named(ci, "aws:sfn/stateMachine:StateMachine", "FailoverStateMachine"));
    const definition = JSON.parse(machine.definition);
    expect(definition.States.Advance.Arguments.FunctionName).toMatch(/:function:failoverfunction$/);
    expect(Object.keys(definition.States).sort()).toEqual(["Advance", "Done", "Failed", "Route", "Wait"]);
    expect(definition).toEqual(durableRunbookDefinition({ runbook: "failover", functionArn: definition.States.Advance.Arguments.FunctionName }));
    expect(definition.States.Failed.Error).toBe("FailoverFailed");
    const sfnRole = rolePolicies(named(ci, "aws:iam/role:Role", "FailoverStateMachineRole"));
    expect(sfnRole.flatMap(allowedActions).filter((a) => !a.startsWith("logs:"))).toEqual(["lambda:InvokeFunction"]);
    const fn = inputs(named(ci, "aws:lambda/function:Function", "FailoverFunction"));
    expect(fn.environment.variables.FAILOVER_STATE_REGION).toBe("eu-central-1");
    expect(fn.environment.variables.FAILOVER_STATE_BUCKET).toBe(inputs(named(ci, "aws:s3/bucket:Bucket", "FailoverStateBucketBucket")).bucket);
    expect(inputs(named(ci, "aws:s3/bucketVersioning:BucketVersioning", "FailoverStateBucketVersioning")).versioningConfiguration).toEqual({
      status: "Enabled",
    });
  });

  it("logs every failover execution (level ALL, with execution data) to its own log group, which the state machine role may deliver to", () => {
    const group = named(ci, "aws:cloudwatch/logGroup:LogGroup", "FailoverStateMachineLogs");
    expect(group.region).toBe("eu-central-1");
    expect(inputs(group)).toMatchObject({ name: "/aws/vendedlogs/states/ops-autopilot-ci-failover", retentionInDays: 400 });
    const groupArn = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/vendedlogs/states/ops-autopilot-ci-failover";
    const machine = inputs(named(ci, "aws:sfn/stateMachine:StateMachine", "FailoverStateMachine"));
    expect(machine.loggingConfiguration).toEqual({ level: "ALL", includeExecutionData: true, logDestination: `${groupArn}:*` });
    const [doc] = rolePolicies(named(ci, "aws:iam/role:Role", "FailoverStateMachineRole"));
    expect(doc!.Statement.slice(1)).toEqual([
      { Effect: "Allow", Action: [...LOG_DELIVERY_ACTIONS], Resource: ["*"] },
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${groupArn}:*`] },
    ]);
    const alarm = inputs(named(ci, "aws:cloudwatch/metricAlarm:MetricAlarm", "FailoverExecutionsFailedAlarm"));
    expect(alarm).toMatchObject({ name: "ops-autopilot-ci-failover-executions-failed", namespace: "AWS/States", metricName: "ExecutionsFailed" });
    expect(alarm.dimensions.StateMachineArn).toMatch(/:stateMachine:failoverstatemachine$/);
  });

  it("reports no sst version mismatch: the installed sst is the one the synth mirrors", () => {
    expect(ci.warnings).toEqual([]);
  });

  it("routes our own alarms to Slack in each region, and alarms on errors, DLQ messages and a missing heartbeat", () => {
    const routes = ofType(ci, "aws:cloudwatch/eventRule:EventRule").filter((r) => r.name.endsWith("AlarmsToSlackRule"));
    expect(routes.map((r) => r.region).sort()).toEqual(["eu-central-1", "eu-west-1"]);
    for (const r of routes) expect(JSON.parse(inputs(r).eventPattern)).toEqual(alarmRoutePattern(config));
    const alarms = ofType(ci, "aws:cloudwatch/metricAlarm:MetricAlarm").map(inputs);
    const names = alarms.map((a) => a.name as string);
    // The checker has none (errorsAlarm false): its failures are failed smoke checks, which the restore test alerts as critical.
    for (const spec of DEPLOYED.filter((f) => f.errorsAlarm !== false)) expect(names).toContain(`ops-autopilot-ci-${spec.name}-errors`);
    expect(names.filter((n) => n.includes("checker"))).toEqual([]);
    expect(names).toContain("ops-autopilot-ci-dead-letters-messages");
    const heartbeat = alarms.find((a) => a.name === "ops-autopilot-ci-watchdog-heartbeat-missing")!;
    expect(heartbeat).toMatchObject({
      namespace: "ops-autopilot",
      metricName: "WatchdogHeartbeat",
      dimensions: { service: "ops-autopilot", stage: "ci" },
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    for (const a of alarms) expect(a.name).toMatch(/^ops-autopilot-ci-/);
  });

  it("keeps reports in a versioned, encrypted, private bucket with a lifecycle", () => {
    const bucketName = "ReportsBucketBucket";
    expect(inputs(named(ci, "aws:s3/bucketVersioning:BucketVersioning", "ReportsBucketVersioning")).versioningConfiguration).toEqual({ status: "Enabled" });
    expect(inputs(named(ci, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ReportsBucketPublicAccessBlock"))).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      inputs(named(ci, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "ReportsBucketEncryption")).rules[0]
        .applyServerSideEncryptionByDefault,
    ).toEqual({ sseAlgorithm: "AES256" });
    const rules = inputs(named(ci, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "ReportsBucketLifecycle")).rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(["expire-old-reports", "expire-claims", "expire-prune-ledgers", "expire-noncurrent-versions"]);
    expect(rules[0]).toMatchObject({ filter: { prefix: "reports/" }, expiration: { days: 400 } });
    expect(inputs(named(ci, "aws:s3/bucket:Bucket", bucketName)).forceDestroy).toBe(true);
  });

  it("retains and protects production stages", () => {
    expect(prod.errors).toEqual([]);
    expect(prod.app).toMatchObject({ removal: "retain", protect: true });
    expect(ci.app).toMatchObject({ removal: "remove", protect: false });
    expect(inputs(named(prod, "aws:s3/bucket:Bucket", "ReportsBucketBucket")).forceDestroy).toBe(false);
    expect(inputs(named(prod, "aws:s3/bucket:Bucket", "FailoverStateBucketBucket")).forceDestroy).toBe(false);
    expect((prod.outputs as { _protect: boolean })._protect).toBe(true);
  });
});

describe("IAM of the synthesized roles", () => {
  it.each(DEPLOYED.map((f) => f.name))("%s gets exactly the actions it calls", (name) => {
    for (const { id } of deployments(DEPLOYED.find((f) => f.name === name)!)) {
      const role = named(ci, "aws:iam/role:Role", `${id}Role`);
      expect(inputs(role).managedPolicyArns).toEqual(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]);
      expect([...new Set(rolePolicies(role).flatMap(allowedActions))].sort()).toEqual(expectedActions(name));
    }
  });

  it.each(DEPLOYED.map((f) => f.name))("%s passes the least-privilege lint", (name) => {
    for (const { id } of deployments(DEPLOYED.find((f) => f.name === name)!)) {
      for (const doc of rolePolicies(named(ci, "aws:iam/role:Role", `${id}Role`))) expect(lintPolicy(doc, rulesFor(name))).toEqual([]);
    }
  });

  it("every other role (schedules, rules, state machine) passes the lint and has no wildcard action", () => {
    const functionRoles = new Set(DEPLOYED.flatMap((f) => deployments(f).map((d) => `${d.id}Role`)));
    const others = ofType(ci, "aws:iam/role:Role").filter((r) => !functionRoles.has(r.name));
    expect(others.length).toBeGreaterThan(6);
    for (const role of others) {
      for (const doc of rolePolicies(role)) {
        expect(
          lintPolicy(doc, {
            managedBy: "ops-autopilot:ci",
            mayPromote: false,
            allowedKmsResources: [],
            mayDeliverLogs: role.name.endsWith("StateMachineRole"),
          }),
        ).toEqual([]);
      }
    }
  });

  it("only the prune role deletes backups, the restore test its throwaways, the checker its network interfaces; only the failover role can promote or change DNS", () => {
    const byRole = new Map(ofType(ci, "aws:iam/role:Role").map((r) => [r.name, rolePolicies(r).flatMap(allowedActions)]));
    const holders = (pred: (a: string) => boolean) => [...byRole].filter(([, actions]) => actions.some(pred)).map(([n]) => n);
    // logs:DeleteLogDelivery only removes a state machine's own log-delivery configuration (execution logging).
    const logDelivery: readonly string[] = LOG_DELIVERY_ACTIONS;
    const checkers = [...restoreTestCheckers(config.backup.policies, config).byRegion.keys()].map((r) => `${checkerComponent(r)}Role`);
    expect(holders((a) => /:Delete/.test(a) && !logDelivery.includes(a)).sort()).toEqual(["PruneRole", "Restore-testRole", ...checkers].sort());
    expect(holders((a) => /Snapshot/.test(a) && /:Delete/.test(a))).toEqual(["PruneRole"]);
    expect([...new Set(checkers.flatMap((r) => byRole.get(r)!.filter((a) => /:Delete/.test(a))))]).toEqual(["ec2:DeleteNetworkInterface"]);
    expect(
      byRole
        .get("Restore-testRole")!
        .filter((a) => /:Delete/.test(a))
        .sort(),
    ).toEqual(["rds:DeleteDBCluster", "rds:DeleteDBInstance", "ec2:DeleteVolume"].sort());
    expect(holders((a) => logDelivery.includes(a)).sort()).toEqual(["FailoverStateMachineRole", "RestoreTestStateMachineRole"]);
    expect(holders((a) => /Promote|FailoverGlobalCluster|SwitchoverGlobalCluster|ChangeResourceRecordSets/.test(a))).toEqual(["FailoverRole"]);
  });
});

describe("type-check of sst.config.ts and stacks/ against SST's own types", () => {
  it("compiles with tsconfig.infra.json", () => {
    const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
    let output = "";
    try {
      execFileSync(tsc, ["-p", "tsconfig.infra.json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      output = (err as { stdout?: Buffer }).stdout?.toString() ?? String(err);
    }
    expect(output).toBe("");
  }, 120_000);
});
