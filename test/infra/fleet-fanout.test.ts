import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { policyDocument } from "../../stacks/durable-runbook-definition.ts";
import {
  fleetFanoutDefinition,
  fleetItems,
  fleetStateMachineName,
  fleetStateMachineStatements,
  LAMBDA_SERVICE_ERRORS,
  MAX_FLEET_ITEMS,
  stateMachineArn,
  type FleetItem,
} from "../../stacks/fleet-fanout-definition.ts";
import { lintPolicy, type PolicyDocument } from "../../stacks/policy-lint.ts";
import { ROOT } from "./builders.ts";

/** The pure half of stacks/fleet-fanout.ts: the items, the Distributed Map definition and the role, per fleet job. */

const CENTRAL = "999988887777";
const JOB = "arn:aws:lambda:eu-west-1:999988887777:function:ops-autopilot-prod-backupfunction";
const SUMMARY = "arn:aws:lambda:eu-west-1:999988887777:function:ops-autopilot-prod-fleetsummaryfunction";
const SM = stateMachineArn("aws", "eu-west-1", CENTRAL, "ops-autopilot-prod-fleet-backup");
const LOGS = "arn:aws:logs:eu-west-1:999988887777:log-group:/aws/vendedlogs/states/ops-autopilot-prod-fleet-backup";

/** config/example.json with its keys as aliases (a fleet refuses key ARNs) and two listed accounts, one in the primary region only. */
function fleetConfig(): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown> & { backup: Record<string, unknown> };
  raw.drRegions = [{ region: "eu-central-1", kmsKeyId: "alias/ops-autopilot-dr" }];
  raw.backup.sourceKmsKeyIds = ["arn:aws:kms:eu-west-1:123456789012:alias/databases"];
  raw.fleet = {
    accounts: [
      { id: "111122223333", name: "payments", externalId: "oa-prod-payments-7f3c" },
      { id: "444455556666", name: "search", externalId: "oa-prod-search-19ab", regions: ["eu-west-1"], roleNamePrefix: "OpsAutopilotProd" },
    ],
  };
  return parseConfig({ ...raw, app: "ops-autopilot", stage: "prod" });
}

const items = fleetItems(fleetConfig(), "aws", "backup");

describe("fleet fan-out items", () => {
  it("lists each listed account in each of its regions, as the job's member role, with no external id", () => {
    expect(items).toEqual([
      { account: "111122223333", accountName: "payments", region: "eu-west-1", roleArn: "arn:aws:iam::111122223333:role/ops-autopilot-prod-member-backup" },
      { account: "111122223333", accountName: "payments", region: "eu-central-1", roleArn: "arn:aws:iam::111122223333:role/ops-autopilot-prod-member-backup" },
      { account: "444455556666", accountName: "search", region: "eu-west-1", roleArn: "arn:aws:iam::444455556666:role/OpsAutopilotProd-backup" },
    ]);
    expect(fleetItems(fleetConfig(), "aws", "prune")[2]!.roleArn).toBe("arn:aws:iam::444455556666:role/OpsAutopilotProd-prune");
  });

  it("is empty without a fleet", () => {
    expect(fleetItems({ ...fleetConfig(), fleet: undefined }, "aws", "backup")).toEqual([]);
  });
});

describe("fleet fan-out definition", () => {
  const def = fleetFanoutDefinition({ job: "backup", jobFunctionArn: JOB, summaryFunctionArn: SUMMARY, items });

  it("is Targets -> FanOut (a Distributed Map of STANDARD children) -> Summary, in JSONata", () => {
    expect(def.QueryLanguage).toBe("JSONata");
    expect(def.StartAt).toBe("Targets");
    expect(def.TimeoutSeconds).toBe(7200);
    expect(Object.keys(def.States)).toEqual(["Targets", "FanOut", "Summary"]);
    expect(def.States.Targets).toEqual({ Type: "Pass", Output: { items }, Next: "FanOut" });
    const map = def.States.FanOut;
    expect(map).toMatchObject({ Type: "Map", Label: "FanOut", Items: "{% $states.input.items %}", MaxConcurrency: 40, Next: "Summary" });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
    expect(def.Comment).toBe("ops-autopilot fleet backup: one child execution per member account × region, then one summary");
  });

  it("tolerates every item failing: a failing account never stops the others", () => {
    expect(def.States.FanOut.ToleratedFailurePercentage).toBe(100);
  });

  it("invokes the job per item with { source: fleet, target }, retrying only Lambda's own errors, catching everything else as a result naming account and region", () => {
    const run = def.States.FanOut.ItemProcessor.States.Run;
    expect(run.Arguments).toEqual({ FunctionName: JOB, Payload: { source: "fleet", target: "{% $states.input %}" } });
    expect(run.Retry).toEqual([
      {
        ErrorEquals: ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxAttempts: 6,
        JitterStrategy: "FULL",
      },
    ]);
    expect(LAMBDA_SERVICE_ERRORS).not.toContain("States.TaskFailed");
    expect(run.Catch).toEqual([
      {
        ErrorEquals: ["States.ALL"],
        Output:
          "{% {'account': $states.input.account, 'accountName': $states.input.accountName, 'region': $states.input.region, 'ok': false, 'error': $states.errorOutput.Error, 'cause': $substring($string($states.errorOutput.Cause), 0, 500)} %}",
        Next: "ItemFailed",
      },
    ]);
    expect(run.Output).toBe(
      "{% {'account': $states.input.account, 'accountName': $states.input.accountName, 'region': $states.input.region, 'ok': true, 'counts': $states.result.Payload.counts, 'reportKey': $substring($states.result.Payload.reportKey, 0, 200)} %}",
    );
    expect(def.States.FanOut.ItemProcessor.States.ItemFailed).toEqual({ Type: "Pass", End: true });
  });

  it("sends the summary function the job, the execution, every target and every result", () => {
    expect(def.States.Summary).toEqual({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Arguments: {
        FunctionName: SUMMARY,
        Payload: {
          source: "fleet-summary",
          job: "backup",
          execution: "{% $states.context.Execution.Id %}",
          targets: [
            { account: "111122223333", accountName: "payments", region: "eu-west-1" },
            { account: "111122223333", accountName: "payments", region: "eu-central-1" },
            { account: "444455556666", accountName: "search", region: "eu-west-1" },
          ],
          results: "{% $states.input %}",
        },
      },
      Retry: [expect.objectContaining({ ErrorEquals: LAMBDA_SERVICE_ERRORS })],
      Output: "{% $states.result.Payload %}",
      End: true,
    });
  });

  it("refuses more items than fit the 256 KiB payload limit with their results (service-quotas.html), naming the count", () => {
    expect(MAX_FLEET_ITEMS).toBe(204);
    const many: FleetItem[] = Array.from({ length: 205 }, (_, i) => ({ ...items[0]!, region: `eu-west-${i}` }));
    expect(() => fleetFanoutDefinition({ job: "prune", jobFunctionArn: JOB, summaryFunctionArn: SUMMARY, items: many })).toThrow(
      "the fleet prune has 205 account × region items; at most 204 fit Step Functions' 256 KiB payload limit with their results (ItemReader/ResultWriter on S3 would lift it)",
    );
    // The bound holds: 204 items of the longest results and targets stay under 256 KiB with the summary's fields.
    const longest = {
      account: "111122223333",
      accountName: "n".repeat(50),
      region: "ap-southeast-4",
      ok: false,
      error: "e".repeat(60),
      cause: "c".repeat(500),
      counts: { created: 999999, copied: 999999, pruned: 999999, stale: 999999 },
      reportKey: "k".repeat(200),
    };
    const target = { account: "111122223333", accountName: "n".repeat(50), region: "ap-southeast-4" };
    const payload = {
      source: "fleet-summary",
      job: "watchdog",
      execution: `arn:aws:states:ap-southeast-4:${CENTRAL}:execution:${"x".repeat(80)}:${"y".repeat(80)}`,
      targets: Array(204).fill(target),
      results: Array(204).fill(longest),
    };
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThan(256 * 1024);
  });
});

describe("fleet fan-out role", () => {
  const statements = fleetStateMachineStatements({ jobFunction: JOB, summaryFunction: SUMMARY, stateMachine: SM, logGroup: LOGS });

  it("invokes exactly the job and summary functions, starts its own children and describes or stops them (iam-policies-eg-dist-map.html)", () => {
    expect(fleetStateMachineName("ops-autopilot-prod", "backup")).toBe("ops-autopilot-prod-fleet-backup");
    expect(statements.slice(0, 3)).toEqual([
      { Action: ["lambda:InvokeFunction"], Resource: [JOB, `${JOB}:*`, SUMMARY, `${SUMMARY}:*`] },
      { Action: ["states:StartExecution"], Resource: ["arn:aws:states:eu-west-1:999988887777:stateMachine:ops-autopilot-prod-fleet-backup"] },
      {
        Action: ["states:DescribeExecution", "states:StopExecution"],
        Resource: ["arn:aws:states:eu-west-1:999988887777:execution:ops-autopilot-prod-fleet-backup/*"],
      },
    ]);
    expect(statements[4]).toEqual({ Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${LOGS}:*`] });
  });

  it("passes the policy lint", () => {
    const doc = policyDocument(statements) as PolicyDocument;
    expect(lintPolicy(doc, { managedBy: "ops-autopilot:prod", mayPromote: false, allowedKmsResources: [], mayDeliverLogs: true })).toEqual([]);
  });
});
