import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DEFAULT_EXECUTION_LOGGING,
  durableRunbookDefinition,
  executionLogGroupName,
  failedError,
  LOG_DELIVERY_ACTIONS,
  loggingConfiguration,
  policyDocument,
  stateMachineStatements,
  triggerPlan,
  type DurableRunbookTrigger,
} from "../../stacks/durable-runbook-definition.ts";
import { allowedActions, lintPolicy, type PolicyDocument } from "../../stacks/policy-lint.ts";
import { failoverEventPattern } from "../../stacks/patterns.ts";
import { installedSstVersion, MIRRORED_SST_VERSION, sstVersionWarning } from "../../scripts/sst-synth.ts";
import { ROOT } from "./builders.ts";
import { readFileSync } from "node:fs";
import { parseFailoverEvent } from "../../schemas/events-failover.ts";
import { parseRestoreTestEvent } from "../../schemas/events-restore-test.ts";

/** The pure half of stacks/durable-runbook.ts: the definition, the triggers and the roles, for either trigger. */

const FN = "arn:aws:lambda:eu-central-1:123456789012:function:restoretestfunction";
const SM = "arn:aws:states:eu-central-1:123456789012:stateMachine:restoreteststatemachine";
const DLQ = "arn:aws:sqs:eu-central-1:123456789012:restore-dead-letters";
const LOGS = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/vendedlogs/states/ops-autopilot-ci-restore-test";
const rules = { managedBy: "ops-autopilot:ci", mayPromote: false, allowedKmsResources: [], mayDeliverLogs: true };

const schedule: DurableRunbookTrigger = { kind: "schedule", expression: "cron(0 4 ? * SUN *)", timezone: "Europe/Paris", input: { trigger: "schedule" } };

describe("durable runbook definition", () => {
  const def = durableRunbookDefinition({ runbook: "restore-test", functionArn: FN });

  it("is the Advance -> Route -> Wait loop, ending in Done or Failed", () => {
    expect(def.StartAt).toBe("Advance");
    expect(def.QueryLanguage).toBe("JSONata");
    expect(def.TimeoutSeconds).toBe(7200);
    expect(Object.keys(def.States).sort()).toEqual(["Advance", "Done", "Failed", "Route", "Wait"]);
    expect(def.States.Advance).toMatchObject({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Next: "Route" });
    // The execution's ARN rides along, so messages can link it (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html).
    expect(def.States.Advance.Arguments).toEqual({
      FunctionName: FN,
      Payload: { source: "sfn", event: "{% $states.input %}", execution: "{% $states.context.Execution.Id %}" },
    });
    expect(def.States.Route.Choices).toEqual([
      { Condition: "{% $states.input.next = 'wait' %}", Next: "Wait" },
      { Condition: "{% $states.input.next = 'failed' %}", Next: "Failed" },
    ]);
    expect(def.States.Route.Default).toBe("Done");
    expect(def.States.Wait).toEqual({ Type: "Wait", Seconds: "{% $states.input.waitSeconds %}", Output: "{% $states.input.advance %}", Next: "Advance" });
    expect(def.States.Failed).toEqual({ Type: "Fail", Error: "RestoreTestFailed", Cause: "{% $states.input.reason %}" });
    expect(def.Comment).toBe("ops-autopilot restore-test runbook: each Advance runs at most one checkpointed step");
  });

  it("sends a payload both runbooks' parsers accept: the wrapped event and the execution ARN", () => {
    const execution = "arn:aws:states:eu-central-1:123456789012:execution:ops-autopilot-ci-restore-test:manual-1";
    const payload = (event: unknown) => ({ source: "sfn", event, execution });
    const restore = JSON.parse(readFileSync(path.join(ROOT, "events/restore-test-schedule.json"), "utf8"));
    expect(parseRestoreTestEvent(payload(restore))).toMatchObject({ viaStateMachine: true });
    expect(parseFailoverEvent(payload({ mode: "status", group: "orders-db" }))).toEqual({
      event: { mode: "status", group: "orders-db" },
      viaStateMachine: true,
      execution,
    });
  });

  it("keeps the whole function result as Advance's output, so the step it names is in the execution history", () => {
    // JSONata states take Output, not ResultSelector/ResultPath: the Payload carries next, step, waitSeconds, reason, advance.
    expect(def.States.Advance.Output).toBe("{% $states.result.Payload %}");
    expect(def.States.Advance).not.toHaveProperty("ResultSelector");
    expect(def.States.Advance).not.toHaveProperty("ResultPath");
  });

  it("names the failover runbook's Fail error as before (FailoverFailed) and takes another resume field and timeout", () => {
    expect(failedError("failover")).toBe("FailoverFailed");
    const custom = durableRunbookDefinition({ runbook: "vault", functionArn: FN, resumeField: "resume", timeoutSeconds: 600 });
    expect(custom.States.Wait.Output).toBe("{% $states.input.resume %}");
    expect(custom.TimeoutSeconds).toBe(600);
  });
});

describe("durable runbook execution logging", () => {
  it("logs ALL with execution data to a /aws/vendedlogs/states group, destination ARN ending with :*", () => {
    expect(DEFAULT_EXECUTION_LOGGING).toEqual({ level: "ALL", includeExecutionData: true, retentionDays: 400 });
    expect(executionLogGroupName("ops-autopilot-ci", "restore-test")).toBe("/aws/vendedlogs/states/ops-autopilot-ci-restore-test");
    expect(loggingConfiguration(LOGS, DEFAULT_EXECUTION_LOGGING)).toEqual({ level: "ALL", includeExecutionData: true, logDestination: `${LOGS}:*` });
  });

  it("gives the state machine role the log-delivery actions of the Step Functions guide (cw-logs.html) and passes the lint", () => {
    const doc = policyDocument(stateMachineStatements(FN, LOGS)) as PolicyDocument;
    expect(doc.Statement).toEqual([
      { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [FN, `${FN}:*`] },
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
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${LOGS}:*`] },
    ]);
    expect(lintPolicy(doc, rules)).toEqual([]);
  });

  it("the lint refuses the log-delivery writes on * to any role but a state machine's", () => {
    const doc: PolicyDocument = { Statement: [{ Effect: "Allow", Action: ["logs:PutResourcePolicy"], Resource: "*" }] };
    expect(lintPolicy(doc, { ...rules, mayDeliverLogs: false })).toEqual([{ statement: 0, rule: "no-write-on-star", detail: 'logs:PutResourcePolicy on "*"' }]);
  });

  it("the lint still refuses other log writes on *", () => {
    const doc: PolicyDocument = {
      Statement: [{ Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:PutLogEvents", ...LOG_DELIVERY_ACTIONS], Resource: "*" }],
    };
    expect(lintPolicy(doc, rules)).toEqual([
      { statement: 0, rule: "no-write-on-star", detail: 'logs:CreateLogGroup on "*"' },
      { statement: 0, rule: "no-write-on-star", detail: 'logs:PutLogEvents on "*"' },
    ]);
  });
});

describe("durable runbook triggers", () => {
  it("a schedule starts an execution through EventBridge Scheduler, with retries, the DLQ and a role that can only start it and dead-letter", () => {
    const plan = triggerPlan(schedule, { stateMachine: SM, dlq: DLQ });
    expect(plan.kind).toBe("schedule");
    if (plan.kind !== "schedule") return;
    expect(plan.roleService).toBe("scheduler.amazonaws.com");
    expect(plan.schedule).toEqual({
      scheduleExpression: "cron(0 4 ? * SUN *)",
      scheduleExpressionTimezone: "Europe/Paris",
      flexibleTimeWindow: { mode: "OFF" },
      target: { arn: SM, input: '{"trigger":"schedule"}', retryPolicy: { maximumRetryAttempts: 3 }, deadLetterConfig: { arn: DLQ } },
    });
    const doc = policyDocument(plan.roleStatements) as PolicyDocument;
    expect(doc.Statement).toEqual([
      { Effect: "Allow", Action: ["states:StartExecution"], Resource: [SM] },
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
    ]);
    expect(allowedActions(doc)).toEqual(["sqs:SendMessage", "states:StartExecution"]);
    expect(lintPolicy(doc, rules)).toEqual([]);
  });

  it("an alarm rule targets the state machine with the event age bound, 185 retries and the DLQ", () => {
    const pattern = failoverEventPattern(["app-db-primary-down"]);
    const plan = triggerPlan({ kind: "alarm-rule", description: "alarms", pattern, maxEventAgeSeconds: 3600 }, { stateMachine: SM, dlq: DLQ });
    expect(plan.kind).toBe("alarm-rule");
    if (plan.kind !== "alarm-rule") return;
    expect(plan.roleService).toBe("events.amazonaws.com");
    expect(plan.rule).toEqual({ description: "alarms", eventPattern: JSON.stringify(pattern) });
    expect(plan.target).toEqual({ arn: SM, retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 }, deadLetterConfig: { arn: DLQ } });
    expect(plan.roleStatements).toEqual([{ Action: ["states:StartExecution"], Resource: [SM] }]);
  });
});

describe("sst version the synth mirrors", () => {
  const fakeRoot = (version: string) => {
    const root = mkdtempSync(path.join(tmpdir(), "fake-sst-"));
    mkdirSync(path.join(root, "node_modules", "sst"), { recursive: true });
    writeFileSync(path.join(root, "node_modules", "sst", "package.json"), JSON.stringify({ name: "sst", version }));
    return root;
  };

  it("the installed sst is the mirrored one", () => {
    expect(installedSstVersion(ROOT)).toBe(MIRRORED_SST_VERSION);
    expect(sstVersionWarning(installedSstVersion(ROOT))).toBeUndefined();
  });

  it("says so when another sst is installed", () => {
    const installed = installedSstVersion(fakeRoot("4.18.0"));
    expect(installed).toBe("4.18.0");
    expect(sstVersionWarning(installed, "4.17.1")).toBe(
      "scripts/sst-synth.ts mirrors the CLI of sst 4.17.1, but sst 4.18.0 is installed: check the mirrored CLI steps against that version and update MIRRORED_SST_VERSION",
    );
  });

  it("says so when no sst is installed", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "no-sst-"));
    expect(installedSstVersion(empty)).toBeUndefined();
    expect(sstVersionWarning(undefined, "4.17.1")).toBe(
      "scripts/sst-synth.ts mirrors the CLI of sst 4.17.1, but no sst is installed: check the mirrored CLI steps against that version and update MIRRORED_SST_VERSION",
    );
  });
});
