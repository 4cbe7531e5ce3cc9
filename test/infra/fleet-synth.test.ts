/**
 * The fleet in the offline synth of sst.config.ts (stacks/fleet.ts, stacks/fleet-fanout.ts): config/example.json with
 * a `fleet` of two member accounts (payments in the primary and the DR region, search in the primary only), so per
 * fleet job a Standard state machine whose Distributed Map runs the job's own function once per account × region,
 * then the summary function; its role, Scheduler schedule and failed-executions alarm; and the summary function.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { alarmCount, runCostInput } from "../../scripts/cost-to-run.ts";
import { FLEET_FUNCTIONS } from "../../schemas/config-fleet.ts";
import type { Config } from "../../schemas/config.ts";
import { loadConfig } from "../../stacks/config.ts";
import { fleetFanoutDefinition, fleetItems, LAMBDA_SERVICE_ERRORS } from "../../stacks/fleet-fanout-definition.ts";
import { deployedFunctions } from "../../stacks/functions.ts";
import { ACCOUNT, ROOT } from "./builders.ts";
import { inputs, named, ofType, runSynth } from "./synth-run.ts";

const PAYMENTS = { id: "111122223333", name: "payments", externalId: "oa-ci-payments-7f3c" };
const SEARCH = { id: "444455556666", name: "search", externalId: "oa-ci-search-91d2", regions: ["eu-west-1"] };

/** config/example.json with a fleet; with a fleet, keys are aliases every member account has (schemas/config-fleet.ts). */
function fleetRaw() {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8"));
  raw.stage = "ci";
  raw.drRegions[0].kmsKeyId = "alias/ops-autopilot-dr";
  raw.backup.sourceKmsKeyIds = [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/databases`];
  raw.fleet = { accounts: [PAYMENTS, SEARCH] };
  return raw;
}

let synth: SynthResult;
let file: string;
let config: Config;

beforeAll(() => {
  file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-fleet-")), "fleet.json");
  writeFileSync(file, JSON.stringify(fleetRaw(), null, 2));
  config = loadConfig("ops-autopilot", "ci", ROOT, { OPS_AUTOPILOT_CONFIG_FILE: file });
  synth = runSynth("ci", file);
}, 600_000);

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** The offline synth's mocks give a resource the ARN of its lowercased logical name. */
const fnArn = (logical: string) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${logical}`;
const SUMMARY_ARN = fnArn("fleet-summaryfunction");

describe("fleet in the offline synth", () => {
  it("synthesizes without errors, bundling functions/fleet-summary.ts, and outputs each job's state machine", () => {
    expect(synth.errors).toEqual([]);
    expect(synth.builds.map((b) => b.file)).toContain("functions/fleet-summary.ts");
    expect(deployedFunctions(config).map((f) => f.name)).toContain("fleet-summary");
    expect((synth.outputs as Record<string, unknown>).fleetStateMachines).toEqual({
      backup: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleetbackupstatemachine`,
      copy: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleetcopystatemachine`,
      prune: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleetprunestatemachine`,
      watchdog: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleetwatchdogstatemachine`,
    });
    expect((synth.outputs as { functions: Record<string, unknown> }).functions["fleet-summary"]).toEqual({
      name: inputs(named(synth, "aws:lambda/function:Function", "Fleet-summaryFunction")).name,
      region: "eu-west-1",
    });
  });

  it("deploys the summary function in the primary region, invoked synchronously (no DLQ, no on-failure destination), with its errors alarm", () => {
    const fn = named(synth, "aws:lambda/function:Function", "Fleet-summaryFunction");
    expect(fn.region).toBe("eu-west-1");
    expect(inputs(fn)).toMatchObject({ memorySize: 256, timeout: 60, handler: "bundle.handler" });
    expect(synth.builds.find((b) => b.functionID === "Fleet-summary")!.links).toEqual(["AlertsTopic", "Reports", "SlackAlertsWebhookUrl", "SlackWebhookUrl"]);
    expect(ofType(synth, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").map((c) => c.name)).not.toContain("Fleet-summaryEventInvokeConfig");
    const policy = JSON.parse(inputs(named(synth, "aws:iam/role:Role", "Fleet-summaryRole")).inlinePolicies[0].policy);
    expect(JSON.stringify(policy)).not.toContain("sqs:");
    expect(inputs(named(synth, "aws:cloudwatch/metricAlarm:MetricAlarm", "Fleet-summaryErrorsAlarm"))).toMatchObject({
      name: "ops-autopilot-ci-fleet-summary-errors",
      metricName: "Errors",
    });
  });

  it.each(FLEET_FUNCTIONS)(
    "%s: a STANDARD state machine with a DISTRIBUTED Map over the listed accounts × regions, the per-item Catch and the summary",
    (job) => {
      const sm = named(synth, "aws:sfn/stateMachine:StateMachine", `Fleet${cap(job)}StateMachine`);
      expect(sm.region).toBe("eu-west-1");
      expect(inputs(sm)).toMatchObject({
        name: `ops-autopilot-ci-fleet-${job}`,
        type: "STANDARD",
        roleArn: `arn:aws:iam::${ACCOUNT}:role/fleet${job}statemachinerole`,
        loggingConfiguration: {
          level: "ALL",
          includeExecutionData: true,
          logDestination: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/vendedlogs/states/ops-autopilot-ci-fleet-${job}:*`,
        },
      });
      const def = JSON.parse(inputs(sm).definition);
      // Exactly what stacks/fleet-fanout-definition.ts generates for the job's own function and the summary ...
      expect(def).toEqual(
        fleetFanoutDefinition({ job, jobFunctionArn: fnArn(`${job}function`), summaryFunctionArn: SUMMARY_ARN, items: fleetItems(config, "aws", job) }),
      );
      // ... which is, value by value:
      const role = (account: string) => `arn:aws:iam::${account}:role/ops-autopilot-ci-member-${job}`;
      expect(def.QueryLanguage).toBe("JSONata");
      expect(def.TimeoutSeconds).toBe(7200);
      expect(Object.keys(def.States)).toEqual(["Targets", "FanOut", "Summary"]);
      expect(def.States.Targets.Output.items).toEqual([
        { account: PAYMENTS.id, accountName: "payments", region: "eu-west-1", roleArn: role(PAYMENTS.id) },
        { account: PAYMENTS.id, accountName: "payments", region: "eu-central-1", roleArn: role(PAYMENTS.id) },
        { account: SEARCH.id, accountName: "search", region: "eu-west-1", roleArn: role(SEARCH.id) },
      ]);
      const map = def.States.FanOut;
      expect(map).toMatchObject({ Type: "Map", Items: "{% $states.input.items %}", MaxConcurrency: 40, ToleratedFailurePercentage: 100, Next: "Summary" });
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
      const run = map.ItemProcessor.States.Run;
      expect(run.Resource).toBe("arn:aws:states:::lambda:invoke");
      expect(run.Arguments).toEqual({ FunctionName: fnArn(`${job}function`), Payload: { source: "fleet", target: "{% $states.input %}" } });
      expect(run.Retry).toEqual([{ ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: "FULL" }]);
      expect(run.Catch).toEqual([
        {
          ErrorEquals: ["States.ALL"],
          Output:
            "{% {'account': $states.input.account, 'accountName': $states.input.accountName, 'region': $states.input.region, 'ok': false, 'error': $states.errorOutput.Error, 'cause': $substring($string($states.errorOutput.Cause), 0, 500)} %}",
          Next: "ItemFailed",
        },
      ]);
      expect(def.States.Summary).toMatchObject({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Output: "{% $states.result.Payload %}", End: true });
      expect(def.States.Summary.Arguments).toEqual({
        FunctionName: SUMMARY_ARN,
        Payload: {
          source: "fleet-summary",
          job,
          execution: "{% $states.context.Execution.Id %}",
          targets: [
            { account: PAYMENTS.id, accountName: "payments", region: "eu-west-1" },
            { account: PAYMENTS.id, accountName: "payments", region: "eu-central-1" },
            { account: SEARCH.id, accountName: "search", region: "eu-west-1" },
          ],
          results: "{% $states.input %}",
        },
      });
    },
  );

  it.each(FLEET_FUNCTIONS)("%s: its role invokes the job's and the summary's functions and starts its own child executions, nothing else", (job) => {
    const role = inputs(named(synth, "aws:iam/role:Role", `Fleet${cap(job)}StateMachineRole`));
    expect(JSON.parse(role.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const sm = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:ops-autopilot-ci-fleet-${job}`;
    const logGroup = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/vendedlogs/states/ops-autopilot-ci-fleet-${job}`;
    expect(JSON.parse(role.inlinePolicies[0].policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["lambda:InvokeFunction"],
          Resource: [fnArn(`${job}function`), `${fnArn(`${job}function`)}:*`, SUMMARY_ARN, `${SUMMARY_ARN}:*`],
        },
        { Effect: "Allow", Action: ["states:StartExecution"], Resource: [sm] },
        {
          Effect: "Allow",
          Action: ["states:DescribeExecution", "states:StopExecution"],
          Resource: [`arn:aws:states:eu-west-1:${ACCOUNT}:execution:ops-autopilot-ci-fleet-${job}/*`],
        },
        {
          Effect: "Allow",
          Action: [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
          ],
          Resource: ["*"],
        },
        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroup}:*`] },
      ],
    });
  });

  it.each(FLEET_FUNCTIONS)("%s: started on the job's schedule with retries and the DLQ, and alarmed on failed executions", (job) => {
    const schedule = inputs(named(synth, "aws:scheduler/schedule:Schedule", `Fleet${cap(job)}Schedule`));
    const smArn = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleet${job}statemachine`;
    expect(schedule).toEqual({
      name: `ops-autopilot-ci-fleet-${job}`,
      scheduleExpression: config.schedules[job],
      scheduleExpressionTimezone: "UTC",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: smArn,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/fleet${job}schedulerole`,
        input: '{"trigger":"schedule"}',
        retryPolicy: { maximumRetryAttempts: 3 },
        deadLetterConfig: { arn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:deadlettersqueue` },
      },
    });
    expect(inputs(named(synth, "aws:cloudwatch/metricAlarm:MetricAlarm", `Fleet${cap(job)}ExecutionsFailedAlarm`))).toEqual({
      name: `ops-autopilot-ci-fleet-${job}-executions-failed`,
      alarmDescription: `A fleet ${job} execution failed, timed out or was aborted: its accounts may not have run and no fleet summary was posted`,
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: smArn },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    });
  });

  it("the example's schedules are what the fleet's schedules run on", () => {
    expect([config.schedules.backup, config.schedules.copy, config.schedules.prune, config.schedules.watchdog]).toEqual([
      "cron(0 2 * * ? *)",
      "rate(30 minutes)",
      "cron(30 4 * * ? *)",
      "rate(1 hour)",
    ]);
  });

  it("the dashboard charts each fleet job's executions and the summary's errors, and lists every alarm the fleet declares", () => {
    const body = JSON.parse(inputs(ofType(synth, "aws:cloudwatch/dashboard:Dashboard")[0]!).dashboardBody) as {
      widgets: { type: string; properties: { title?: string; metrics?: unknown[][]; alarms?: string[] } }[];
    };
    const widget = (title: string) => body.widgets.find((w) => w.properties.title === title)!.properties;
    for (const job of FLEET_FUNCTIONS) {
      const sm = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:fleet${job}statemachine`;
      expect(widget(`fleet-${job} executions (eu-west-1)`).metrics!.map((m) => m.slice(0, 4))).toEqual([
        ["AWS/States", "ExecutionsStarted", "StateMachineArn", sm],
        ["AWS/States", "ExecutionsFailed", "StateMachineArn", sm],
      ]);
    }
    const summaryName = inputs(named(synth, "aws:lambda/function:Function", "Fleet-summaryFunction")).name;
    expect(widget("Lambda errors (eu-west-1)").metrics).toContainEqual(["AWS/Lambda", "Errors", "FunctionName", summaryName, { label: "fleet-summary" }]);
    const fleetAlarms = ofType(synth, "aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((a) => a.name.startsWith("Fleet"))
      .map((a) => `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:${inputs(a).name}`);
    expect(fleetAlarms).toHaveLength(5);
    expect(widget("Alarms (eu-west-1)").alarms).toEqual(expect.arrayContaining(fleetAlarms));
  });

  it("npm run cost-to-run counts every alarm the fleet deploys and prices the summary", () => {
    expect(alarmCount(config)).toBe(ofType(synth, "aws:cloudwatch/metricAlarm:MetricAlarm").length);
    expect(runCostInput(config).functions.find((f) => f.name === "fleet-summary")).toEqual({ name: "fleet-summary", memoryMb: 256, reports: true });
  });
});
