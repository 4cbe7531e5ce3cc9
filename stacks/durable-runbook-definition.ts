/**
 * The pure half of the durable-runbook construct (stacks/durable-runbook.ts): the state machine
 * definition, the triggers' shapes and the IAM statements, with no SST globals so tests import them.
 *
 * A durable runbook is a Lambda function on the engine of runbooks/lib/durable.ts driven by a Standard
 * state machine: Advance (invoke the function: at most one checkpointed step) -> Route (on `next`) ->
 * Wait (`waitSeconds`) -> Advance ..., until the function reports done or failed.
 */

/** Standard execution cap: a runbook that has not finished in 2 hours needs a human. */
export const EXECUTION_TIMEOUT_SECONDS = 7200;

/** The task errors a redelivered step may safely retry: every step is checkpointed. */
export const RETRIED_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "States.Timeout",
  "States.TaskFailed",
];

/** What starts an execution: an EventBridge rule on an event pattern, or an EventBridge Scheduler schedule. */
export type DurableRunbookTrigger =
  | { kind: "alarm-rule"; description: string; pattern: Record<string, unknown>; maxEventAgeSeconds: number }
  | { kind: "schedule"; expression: string; timezone: string; input: Record<string, unknown> };

/** Step Functions execution logging: every state transition with its input and output (the timeline). */
export interface ExecutionLogging {
  level: "ALL" | "ERROR" | "FATAL";
  includeExecutionData: boolean;
  retentionDays: number;
}

/**
 * ALL with execution data: each Advance output (next, step, reason) is in the log, so the log group reads
 * as the runbook's timeline after Standard history expires (90 days). The data is run ids, group names and
 * step outcomes, no secrets.
 */
export const DEFAULT_EXECUTION_LOGGING: ExecutionLogging = { level: "ALL", includeExecutionData: true, retentionDays: 400 };

export interface DurableRunbookDefinitionOptions {
  /** Lower-case runbook name, e.g. `failover`: the comment and the Fail state's error (`FailoverFailed`). */
  runbook: string;
  functionArn: string;
  timeoutSeconds?: number;
  /** The field of an Advance result that is the next Advance's input after a Wait. */
  resumeField?: string;
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `failover` -> `FailoverFailed`, the error of the Fail state (and of the ExecutionsFailed alarm's executions). */
export function failedError(runbook: string): string {
  return `${runbook
    .split(/[^a-zA-Z0-9]+/)
    .map(capitalized)
    .join("")}Failed`;
}

/**
 * The state machine (JSONata). Advance's `Output` is the whole function result, which names the `step` the
 * advance stopped at (runbooks/lib/durable.ts AdvanceResult), so each Advance's output in the execution
 * history and the execution log is one line of the timeline.
 */
export function durableRunbookDefinition(opts: DurableRunbookDefinitionOptions) {
  const resume = opts.resumeField ?? "advance";
  return {
    Comment: `ops-autopilot ${opts.runbook} runbook: each Advance runs at most one checkpointed step`,
    QueryLanguage: "JSONata",
    TimeoutSeconds: opts.timeoutSeconds ?? EXECUTION_TIMEOUT_SECONDS,
    StartAt: "Advance",
    States: {
      Advance: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        // `execution`: the execution's ARN (the Context object's Execution.Id,
        // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html), so the runbook's
        // messages can link the execution that sent them.
        Arguments: {
          FunctionName: opts.functionArn,
          Payload: { source: "sfn", event: "{% $states.input %}", execution: "{% $states.context.Execution.Id %}" },
        },
        Output: "{% $states.result.Payload %}",
        Retry: [{ ErrorEquals: RETRIED_ERRORS, IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 6 }],
        Next: "Route",
      },
      Route: {
        Type: "Choice",
        Choices: [
          { Condition: "{% $states.input.next = 'wait' %}", Next: "Wait" },
          { Condition: "{% $states.input.next = 'failed' %}", Next: "Failed" },
        ],
        // done, ignored, in-progress, planned: nothing more to do.
        Default: "Done",
      },
      Wait: {
        Type: "Wait",
        Seconds: "{% $states.input.waitSeconds %}",
        Output: `{% $states.input.${resume} %}`,
        Next: "Advance",
      },
      Done: { Type: "Succeed" },
      Failed: { Type: "Fail", Error: failedError(opts.runbook), Cause: "{% $states.input.reason %}" },
    },
  };
}

/** The CloudWatch Logs group Step Functions logs to: under /aws/vendedlogs/ so the account's log resource policy does not grow per group. */
export function executionLogGroupName(prefix: string, runbook: string): string {
  return `/aws/vendedlogs/states/${prefix}-${runbook}`;
}

/** LoggingConfiguration.Destinations[].CloudWatchLogsLogGroup.LogGroupArn must end with `:*`. */
export function loggingConfiguration(logGroupArn: string, logging: ExecutionLogging) {
  return { level: logging.level, includeExecutionData: logging.includeExecutionData, logDestination: `${logGroupArn}:*` };
}

/**
 * What the state machine's role needs to log (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html,
 * "IAM policies for logging to CloudWatch Logs"). These log-delivery actions support no resource type (Service
 * Authorization Reference, CloudWatch Logs), so they are granted on `*`; stacks/policy-lint.ts allows exactly
 * these on `*`.
 */
export const LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
] as const;

/** The stream-level actions of the same AWS example, scoped to the runbook's own log group. */
export const LOG_STREAM_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

export interface PolicyStatementInput<A = string> {
  Action: string[];
  Resource: A[];
}

/** The state machine role: invoke the runbook's function (any version or alias) and deliver its execution log. */
export function stateMachineStatements(functionArn: string, logGroupArn: string): PolicyStatementInput[] {
  return [
    { Action: ["lambda:InvokeFunction"], Resource: [functionArn, `${functionArn}:*`] },
    { Action: [...LOG_DELIVERY_ACTIONS], Resource: ["*"] },
    { Action: [...LOG_STREAM_ACTIONS], Resource: [`${logGroupArn}:*`] },
  ];
}

/**
 * The role EventBridge Scheduler assumes to start an execution (StartExecution is a templated target: the
 * target ARN is the state machine's; https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html)
 * and to send an undeliverable start to the DLQ, which Scheduler does with this role
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 */
export function scheduleStatements<A>(stateMachineArn: A, dlqArn: A): PolicyStatementInput<A>[] {
  return [
    { Action: ["states:StartExecution"], Resource: [stateMachineArn] },
    { Action: ["sqs:SendMessage"], Resource: [dlqArn] },
  ];
}

/** EventBridge Scheduler retries a start it could not make (throttling, a missing target) before the DLQ. */
export const SCHEDULER_RETRIES = 3;
/** EventBridge retries a rule target for at most 24 hours; the event age bounds it further. */
export const RULE_TARGET_RETRIES = 185;

/** The trigger's resources as data: what the construct declares for an alarm rule or a schedule. */
export function triggerPlan<A>(trigger: DurableRunbookTrigger, arns: { stateMachine: A; dlq: A }) {
  if (trigger.kind === "alarm-rule") {
    return {
      kind: trigger.kind,
      roleService: "events.amazonaws.com",
      roleStatements: [{ Action: ["states:StartExecution"], Resource: [arns.stateMachine] }] as PolicyStatementInput<A>[],
      rule: { description: trigger.description, eventPattern: JSON.stringify(trigger.pattern) },
      target: {
        arn: arns.stateMachine,
        retryPolicy: { maximumEventAgeInSeconds: trigger.maxEventAgeSeconds, maximumRetryAttempts: RULE_TARGET_RETRIES },
        deadLetterConfig: { arn: arns.dlq },
      },
    } as const;
  }
  return {
    kind: trigger.kind,
    roleService: "scheduler.amazonaws.com",
    roleStatements: scheduleStatements(arns.stateMachine, arns.dlq),
    schedule: {
      scheduleExpression: trigger.expression,
      scheduleExpressionTimezone: trigger.timezone,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: arns.stateMachine,
        input: JSON.stringify(trigger.input),
        retryPolicy: { maximumRetryAttempts: SCHEDULER_RETRIES },
        deadLetterConfig: { arn: arns.dlq },
      },
    },
  } as const;
}

export function policyDocument(statements: PolicyStatementInput[]) {
  return { Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow" as const, ...s })) };
}
