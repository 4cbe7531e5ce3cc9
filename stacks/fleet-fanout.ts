/// <reference path="../.sst/platform/config.d.ts" />
import { scheduleTimezone, type Config } from "../schemas/config.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../schemas/config-fleet.ts";
import { executionLogGroupName, loggingConfiguration, policyDocument, triggerPlan, type PolicyStatementInput } from "./durable-runbook-definition.ts";
import {
  FLEET_EXECUTION_LOGGING,
  fleetFanoutDefinition,
  fleetItems,
  fleetStateMachineName,
  fleetStateMachineStatements,
  stateMachineArn,
} from "./fleet-fanout-definition.ts";
import { alarmPrefix } from "./patterns.ts";

/**
 * The fleet fan-out on AWS (stacks/fleet-fanout-definition.ts): per fleet job, its Standard state machine with the
 * Distributed Map over the listed member accounts × regions, execution logging, a Scheduler schedule on the job's own
 * `config.schedules` expression and timezone, and an alarm on failed executions. Declared only with `config.fleet`.
 */

export interface FleetFanoutArgs {
  /** The central account and partition, resolved once (as stacks/main.ts resolves them). */
  identity: $util.Output<{ account: string; partition: string }>;
  /** Each fleet job's function, invoked once per item. */
  jobs: Record<FleetFunction, { arn: $util.Output<string> }>;
  /** The function that writes the one run report and posts the one Slack summary. */
  summary: { arn: $util.Output<string> };
  /** With `fleet.organizationalUnit`: the function that discovers the OU's accounts, the Targets state's Task. */
  targets?: { arn: $util.Output<string> };
  /** Undeliverable schedule starts go here. */
  dlq: { arn: $util.Output<string> };
  provider?: aws.Provider;
}

export interface FleetFanoutJob {
  stateMachine: aws.sfn.StateMachine;
  logGroup: aws.cloudwatch.LogGroup;
  schedule: aws.scheduler.Schedule;
}

const assumeBy = (service: string) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

const inline = (statements: $util.Output<PolicyStatementInput[]>) => [{ name: "inline", policy: statements.apply((s) => JSON.stringify(policyDocument(s))) }];

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function fleetFanout(config: Config, args: FleetFanoutArgs): Record<FleetFunction, FleetFanoutJob> | undefined {
  if (!config.fleet) return undefined;
  const resOpts = args.provider ? { provider: args.provider } : undefined;
  const prefix = alarmPrefix(config);
  const logging = FLEET_EXECUTION_LOGGING;
  const out = {} as Record<FleetFunction, FleetFanoutJob>;

  for (const job of FLEET_FUNCTIONS) {
    const Name = `Fleet${capitalized(job)}`;
    const name = fleetStateMachineName(prefix, job);
    const smArn = args.identity.apply(({ account, partition }) => stateMachineArn(partition, config.primaryRegion, account, name));
    const logGroup = new aws.cloudwatch.LogGroup(
      `${Name}StateMachineLogs`,
      { name: executionLogGroupName(prefix, `fleet-${job}`), retentionInDays: logging.retentionDays },
      resOpts,
    );
    const role = new aws.iam.Role(
      `${Name}StateMachineRole`,
      {
        assumeRolePolicy: assumeBy("states.amazonaws.com"),
        inlinePolicies: inline(
          $resolve({
            jobFunction: args.jobs[job].arn,
            summaryFunction: args.summary.arn,
            ...(args.targets ? { targetsFunction: args.targets.arn } : {}),
            stateMachine: smArn,
            logGroup: logGroup.arn,
          }).apply((arns) => fleetStateMachineStatements(arns)),
        ),
      },
      resOpts,
    );
    const stateMachine = new aws.sfn.StateMachine(
      `${Name}StateMachine`,
      {
        name,
        type: "STANDARD",
        roleArn: role.arn,
        definition: $resolve({
          id: args.identity,
          jobFunctionArn: args.jobs[job].arn,
          summaryFunctionArn: args.summary.arn,
          ...(args.targets ? { targetsFunctionArn: args.targets.arn } : {}),
        }).apply(
          ({
            id,
            jobFunctionArn,
            summaryFunctionArn,
            targetsFunctionArn,
          }: {
            id: { partition: string };
            jobFunctionArn: string;
            summaryFunctionArn: string;
            targetsFunctionArn?: string;
          }) =>
            JSON.stringify(
              fleetFanoutDefinition({
                job,
                jobFunctionArn,
                summaryFunctionArn,
                ...(targetsFunctionArn ? { targetsFunctionArn } : {}),
                items: fleetItems(config, id.partition, job),
              }),
            ),
        ),
        loggingConfiguration: logGroup.arn.apply((arn) => loggingConfiguration(arn, logging)),
      },
      resOpts,
    );

    const trigger = { kind: "schedule" as const, expression: config.schedules[job], timezone: scheduleTimezone(config, job), input: { trigger: "schedule" } };
    const scheduleRole = new aws.iam.Role(
      `${Name}ScheduleRole`,
      {
        assumeRolePolicy: assumeBy("scheduler.amazonaws.com"),
        inlinePolicies: inline($resolve({ stateMachine: stateMachine.arn, dlq: args.dlq.arn }).apply((arns) => triggerPlan(trigger, arns).roleStatements)),
      },
      resOpts,
    );
    const plan = triggerPlan(trigger, { stateMachine: stateMachine.arn, dlq: args.dlq.arn });
    if (plan.kind !== "schedule") throw new Error("unreachable: a schedule trigger");
    // Named inside the stage's prefix: the deployer policy may create schedules only there (stacks/deployer.ts).
    const schedule = new aws.scheduler.Schedule(
      `${Name}Schedule`,
      { ...plan.schedule, name: `${prefix}-fleet-${job}`, target: { ...plan.schedule.target, roleArn: scheduleRole.arn } },
      resOpts,
    );

    new aws.cloudwatch.MetricAlarm(
      `${Name}ExecutionsFailedAlarm`,
      {
        name: `${prefix}-fleet-${job}-executions-failed`,
        alarmDescription: `A fleet ${job} execution failed, timed out or was aborted: its accounts may not have run and no fleet summary was posted`,
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: stateMachine.arn },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      },
      resOpts,
    );
    out[job] = { stateMachine, logGroup, schedule };
  }
  return out;
}
