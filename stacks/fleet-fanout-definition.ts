/**
 * The pure half of the fleet fan-out (stacks/fleet-fanout.ts): for one fleet job (backup, copy, prune, watchdog), a
 * Standard state machine that runs the job once per member account × region as a Step Functions Distributed Map, then
 * hands every item's result to the summary function for one run report and one Slack summary. No SST globals, so
 * tests import it.
 *
 * Targets (Pass, the account × region items inline; with an Organizations OU a Task invoking the fleet-targets function,
 * which discovers them) -> FanOut (Map, DISTRIBUTED: one child execution per item, each
 * invoking the job's function with `{ source: "fleet", target }`) -> Summary (invoke the summary function).
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
import type { Config } from "../schemas/config.ts";
import { fleetTargetRegions, type FleetFunction } from "../schemas/config-fleet.ts";
import { memberRoleArn } from "./member-roles.ts";
import {
  DEFAULT_EXECUTION_LOGGING,
  LOG_DELIVERY_ACTIONS,
  LOG_STREAM_ACTIONS,
  type ExecutionLogging,
  type PolicyStatementInput,
} from "./durable-runbook-definition.ts";

/** One item of the fan-out: the job runs in `account` (named `accountName` in reports) and `region` as `roleArn`. */
export interface FleetItem {
  account: string;
  accountName: string;
  region: string;
  roleArn: string;
}

/**
 * The items of `job`: each listed account of `config.fleet` in each of its regions, as the job's member role. The
 * accounts of `fleet.organizationalUnit` are known only at run time (Organizations ListAccountsForParent), which this
 * deploy-time list cannot hold.
 */
export function fleetItems(config: Config, partition: string, job: FleetFunction): FleetItem[] {
  return (config.fleet?.accounts ?? []).flatMap((a) =>
    fleetTargetRegions(config, a).map((region) => ({ account: a.id, accountName: a.name, region, roleArn: memberRoleArn(config, partition, a.id, job) })),
  );
}

/**
 * Task errors of the Lambda service itself, worth retrying: the invoke never ran the job, or Lambda throttled it.
 * A job's own failure (AggregateRunError, an AccessDenied on AssumeRole) is not retried: it would fail the same way,
 * and the job's own next run catches up.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"];
export const LAMBDA_RETRY = { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: "FULL" };

/**
 * Child executions in flight at once. Each is one invocation of the job's function in the central account, so this
 * bounds the function's concurrency (the account's default is 1,000 concurrent executions across all functions);
 * throttling is per member account and region, which no two items of one job share.
 */
export const FLEET_MAX_CONCURRENCY = 40;

/**
 * Standard execution cap for the whole fleet: the slowest job (backup, copy) runs at most 10 minutes per item, and
 * `items / FLEET_MAX_CONCURRENCY` waves of them fit in 2 hours up to 480 items.
 */
export const FLEET_EXECUTION_TIMEOUT_SECONDS = 7200;

/**
 * Step Functions' payload limit, "Maximum input or output size for a task, state, or execution: 256 KiB"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Without a ResultWriter the Map's output
 * is the array of every child's output and must fit
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** An item result's cause is cut to this many characters (a Lambda error's cause is its JSON error with the stack). */
export const MAX_CAUSE_CHARS = 500;
export const MAX_REPORT_KEY_CHARS = 200;

/**
 * The most bytes one item adds to the Summary's input: its result (ids, name ≤ 50, region, four counts, the report
 * key ≤ 200, the error name and the cause ≤ 500, JSON overhead) plus its target line. A bound, not an estimate.
 */
export const MAX_ITEM_BYTES = 1200;

/** The most items whose results fit the payload limit with the summary's own fields: 200. */
export const MAX_FLEET_ITEMS = Math.floor((PAYLOAD_LIMIT_BYTES - 16 * 1024) / MAX_ITEM_BYTES);

export interface FleetFanoutDefinitionOptions {
  job: FleetFunction;
  jobFunctionArn: string;
  summaryFunctionArn: string;
  /**
   * With `fleet.organizationalUnit`: the fleet-targets function (runbooks/fleet/targets.ts), whose answer is the items
   * (the OU's active accounts and the listed ones); `items` is then unused. Without it, the items inline.
   */
  targetsFunctionArn?: string;
  items: readonly FleetItem[];
  timeoutSeconds?: number;
  maxConcurrency?: number;
}

/** The Map state's label: child execution ARNs are `execution:<state machine>/<label>:<id>`. */
export const FAN_OUT_LABEL = "FanOut";

/** `backup` -> `ops-autopilot-prod-fleet-backup`: fixed, so the role can name the state machine before it exists. */
export function fleetStateMachineName(prefix: string, job: FleetFunction): string {
  return `${prefix}-fleet-${job}`;
}

const itemOutput = (fields: string) =>
  `{% {'account': $states.input.account, 'accountName': $states.input.accountName, 'region': $states.input.region, ${fields}} %}`;

/**
 * The state machine (JSONata).
 *
 * - Items are the account × region pairs of `fleet.accounts`, inline in the Targets Pass state: the configuration is
 *   deployed with the functions, so a change of the fleet is a deploy either way, and the execution's input stays
 *   whatever the schedule sends. They must fit the 256 KiB payload limit with their results ({@link MAX_FLEET_ITEMS}):
 *   more would need ItemReader and ResultWriter on S3, refused here rather than failing at run time.
 * - Child executions are STANDARD: one item is one job invocation, up to the function's timeout (600 s for backup,
 *   copy and prune, 900 s at most for any Lambda), beyond Express's 5 minutes
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).
 * - ToleratedFailurePercentage 100: no number of failed items stops the others; each item's Catch turns its failure
 *   into a result naming the account and region, so a child never fails short of States.Runtime, and the summary
 *   names any target without a result.
 */
export function fleetFanoutDefinition(opts: FleetFanoutDefinitionOptions) {
  if (opts.items.length > MAX_FLEET_ITEMS) {
    throw new Error(
      `the fleet ${opts.job} has ${opts.items.length} account × region items; at most ${MAX_FLEET_ITEMS} fit Step Functions' 256 KiB payload limit with their results (ItemReader/ResultWriter on S3 would lift it)`,
    );
  }
  const item = "{% $states.input %}";
  const discovered = opts.targetsFunctionArn !== undefined;
  // Known only at run time with an OU: the Map passes the targets on with the results, for the Summary to name each.
  const targets: Record<string, unknown> = discovered
    ? {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Arguments: {
          FunctionName: opts.targetsFunctionArn,
          Payload: { source: "fleet-targets", job: opts.job, maxItems: MAX_FLEET_ITEMS, stateMachine: "{% $states.context.StateMachine.Id %}" },
        },
        Retry: [LAMBDA_RETRY],
        Output: "{% {'items': $states.result.Payload.items} %}",
        Next: FAN_OUT_LABEL,
      }
    : { Type: "Pass", Output: { items: opts.items.map((i) => ({ ...i })) }, Next: FAN_OUT_LABEL };
  return {
    Comment: `ops-autopilot fleet ${opts.job}: one child execution per member account × region, then one summary`,
    QueryLanguage: "JSONata",
    TimeoutSeconds: opts.timeoutSeconds ?? FLEET_EXECUTION_TIMEOUT_SECONDS,
    StartAt: "Targets",
    States: {
      Targets: targets,
      [FAN_OUT_LABEL]: {
        Type: "Map",
        Label: FAN_OUT_LABEL,
        Items: "{% $states.input.items %}",
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Run",
          States: {
            Run: {
              Type: "Task",
              Resource: "arn:aws:states:::lambda:invoke",
              Arguments: { FunctionName: opts.jobFunctionArn, Payload: { source: "fleet", target: item } },
              Retry: [LAMBDA_RETRY],
              Catch: [
                {
                  ErrorEquals: ["States.ALL"],
                  Output: itemOutput(
                    `'ok': false, 'error': $states.errorOutput.Error, 'cause': $substring($string($states.errorOutput.Cause), 0, ${MAX_CAUSE_CHARS})`,
                  ),
                  Next: "ItemFailed",
                },
              ],
              Output: itemOutput(
                `'ok': true, 'counts': $states.result.Payload.counts, 'reportKey': $substring($states.result.Payload.reportKey, 0, ${MAX_REPORT_KEY_CHARS})`,
              ),
              End: true,
            },
            ItemFailed: { Type: "Pass", End: true },
          },
        },
        MaxConcurrency: opts.maxConcurrency ?? FLEET_MAX_CONCURRENCY,
        ToleratedFailurePercentage: 100,
        ...(discovered
          ? {
              Output: "{% {'targets': [$states.input.items.{'account': account, 'accountName': accountName, 'region': region}], 'results': $states.result} %}",
            }
          : {}),
        Next: "Summary",
      },
      Summary: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Arguments: {
          FunctionName: opts.summaryFunctionArn,
          Payload: {
            source: "fleet-summary",
            job: opts.job,
            execution: "{% $states.context.Execution.Id %}",
            targets: discovered ? "{% $states.input.targets %}" : opts.items.map((i) => ({ account: i.account, accountName: i.accountName, region: i.region })),
            results: discovered ? "{% $states.input.results %}" : "{% $states.input %}",
          },
        },
        Retry: [LAMBDA_RETRY],
        Output: "{% $states.result.Payload %}",
        End: true,
      },
    },
  };
}

/**
 * The state machine's role: invoke exactly the job's and the summary's functions (and, with an OU, the fleet-targets
 * function; any version or alias), start the
 * Distributed Map's child executions of its own state machine and describe or stop them, and deliver its execution log.
 * "IAM policies for using Distributed Map states"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html): StartExecution on the state
 * machine, DescribeExecution and StopExecution on `execution:<stateMachineName>/*`. The lint allows exactly the
 * log-delivery actions on `*` (as for the durable runbooks).
 */
export function fleetStateMachineStatements(arns: {
  jobFunction: string;
  summaryFunction: string;
  /** With an Organizations OU, the fleet-targets function the Targets state invokes. */
  targetsFunction?: string;
  stateMachine: string;
  logGroup: string;
}): PolicyStatementInput[] {
  const executions = `${arns.stateMachine.replace(":stateMachine:", ":execution:")}/*`;
  return [
    {
      Action: ["lambda:InvokeFunction"],
      Resource: [
        arns.jobFunction,
        `${arns.jobFunction}:*`,
        arns.summaryFunction,
        `${arns.summaryFunction}:*`,
        ...(arns.targetsFunction ? [arns.targetsFunction, `${arns.targetsFunction}:*`] : []),
      ],
    },
    { Action: ["states:StartExecution"], Resource: [arns.stateMachine] },
    { Action: ["states:DescribeExecution", "states:StopExecution"], Resource: [executions] },
    { Action: [...LOG_DELIVERY_ACTIONS], Resource: ["*"] },
    { Action: [...LOG_STREAM_ACTIONS], Resource: [`${arns.logGroup}:*`] },
  ];
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>`, known before the state machine exists. */
export function stateMachineArn(partition: string, region: string, account: string, name: string): string {
  return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
}

/** The fan-out's execution log: the item outputs name accounts and errors; role ARNs are no secrets. */
export const FLEET_EXECUTION_LOGGING: ExecutionLogging = DEFAULT_EXECUTION_LOGGING;
