/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { alarmPrefix } from "./patterns.ts";
import {
  DEFAULT_EXECUTION_LOGGING,
  durableRunbookDefinition,
  executionLogGroupName,
  loggingConfiguration,
  policyDocument,
  stateMachineStatements,
  triggerPlan,
  type DurableRunbookTrigger,
  type ExecutionLogging,
  type PolicyStatementInput,
} from "./durable-runbook-definition.ts";
import { queueAcceptsFrom } from "./ops.ts";

/**
 * One durable runbook on AWS: its Standard state machine (Advance -> Route -> Wait, see
 * durable-runbook-definition.ts) with execution logging, the trigger that starts it, and an alarm on failed
 * executions. The runbook's function, its state and its DLQ are the caller's: a new runbook is new step
 * modules, a function and one call to this.
 */

export interface DurableRunbookOptions {
  config: Config;
  /** Lower-case runbook name (`failover`): alarm and log group names, the Fail state's error. */
  runbook: string;
  fn: sst.aws.Function;
  trigger: DurableRunbookTrigger;
  /** Undeliverable starts go here (the rule's or the schedule's dead letters). */
  dlq: sst.aws.Queue;
  provider?: aws.Provider;
  logging?: ExecutionLogging;
  timeoutSeconds?: number;
}

export interface DurableRunbook {
  stateMachine: aws.sfn.StateMachine;
  logGroup: aws.cloudwatch.LogGroup;
  rule?: aws.cloudwatch.EventRule;
  schedule?: aws.scheduler.Schedule;
}

const assumeBy = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

const inline = (statements: $util.Output<PolicyStatementInput[]>) => [{ name: "inline", policy: statements.apply((s) => JSON.stringify(policyDocument(s))) }];

/** Resource names are `<Name><Part>` (`FailoverStateMachine`, `FailoverAlarmRule`), as they were before the construct. */
export function durableRunbook(name: string, opts: DurableRunbookOptions): DurableRunbook {
  const resOpts = opts.provider ? { provider: opts.provider } : undefined;
  const logging = opts.logging ?? DEFAULT_EXECUTION_LOGGING;

  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}StateMachineLogs`,
    { name: executionLogGroupName(alarmPrefix(opts.config), opts.runbook), retentionInDays: logging.retentionDays },
    resOpts,
  );
  const sfnRole = new aws.iam.Role(
    `${name}StateMachineRole`,
    {
      assumeRolePolicy: assumeBy("states.amazonaws.com"),
      inlinePolicies: inline($resolve([opts.fn.arn, logGroup.arn]).apply(([fnArn, logArn]) => stateMachineStatements(fnArn, logArn))),
    },
    resOpts,
  );
  const stateMachine = new aws.sfn.StateMachine(
    `${name}StateMachine`,
    {
      type: "STANDARD",
      roleArn: sfnRole.arn,
      definition: opts.fn.arn.apply((arn) =>
        JSON.stringify(
          durableRunbookDefinition({ runbook: opts.runbook, functionArn: arn, ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}) }),
        ),
      ),
      loggingConfiguration: logGroup.arn.apply((arn) => loggingConfiguration(arn, logging)),
    },
    resOpts,
  );

  const out: DurableRunbook = { stateMachine, logGroup };
  const trigger = opts.trigger;
  const roleStatements = $resolve([stateMachine.arn, opts.dlq.arn]).apply(([sm, dlq]) => triggerPlan(trigger, { stateMachine: sm, dlq }).roleStatements);
  const plan = triggerPlan(trigger, { stateMachine: stateMachine.arn, dlq: opts.dlq.arn });
  const role = new aws.iam.Role(
    `${name}${plan.kind === "alarm-rule" ? "Rule" : "Schedule"}Role`,
    { assumeRolePolicy: assumeBy(plan.roleService), inlinePolicies: inline(roleStatements) },
    resOpts,
  );
  if (plan.kind === "alarm-rule") {
    const rule = new aws.cloudwatch.EventRule(`${name}AlarmRule`, plan.rule, resOpts);
    new aws.cloudwatch.EventTarget(`${name}AlarmTarget`, { ...plan.target, rule: rule.name, roleArn: role.arn }, resOpts);
    queueAcceptsFrom(`${name}DlqPolicy`, opts.dlq, "events.amazonaws.com", rule.arn, resOpts);
    out.rule = rule;
  } else {
    // Named inside the stage's prefix: the deployer policy may create schedules only there (stacks/deployer.ts).
    out.schedule = new aws.scheduler.Schedule(
      `${name}Schedule`,
      { ...plan.schedule, name: `${alarmPrefix(opts.config)}-${opts.runbook}`, target: { ...plan.schedule.target, roleArn: role.arn } },
      resOpts,
    );
  }

  new aws.cloudwatch.MetricAlarm(
    `${name}ExecutionsFailedAlarm`,
    {
      name: `${alarmPrefix(opts.config)}-${opts.runbook}-executions-failed`,
      alarmDescription: `A ${opts.runbook} runbook execution failed, timed out or was aborted: finish it by hand (see the run report)`,
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: stateMachine.arn },
      statistic: "Sum",
      period: 60,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    resOpts,
  );
  return out;
}
