/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { alarmPrefix, alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, functionErrorsAlarm, queueAcceptsFrom } from "./ops.ts";

/**
 * The failover runbook (issue 3; contract in the failover engineer's notes, "failover-infra"):
 * a Standard Step Functions state machine that loops "invoke the runbook function -> wait" until it
 * reports done or failed, started by EventBridge rules on the configured alarms.
 *
 * Everything lives in the control region (the replicas' region), not the primary: a primary-region
 * outage must not take the orchestrator, its latch bucket or its alarms down with it.
 */

/** Standard execution cap: a runbook that has not finished in 2 hours needs a human. */
export const EXECUTION_TIMEOUT_SECONDS = 7200;
/** Alarm events older than this are not worth starting a failover for. */
export const RULE_MAX_EVENT_AGE_SECONDS = 3600;

/** The task errors a redelivered step may safely retry: every step is checkpointed in S3. */
export const RETRIED_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "States.Timeout",
  "States.TaskFailed",
];

/** The region the runbook runs in: where the replicas are. One per deployment. */
export function controlRegion(config: Config): string | undefined {
  const regions = [...new Set(config.failover.groups.map((g) => g.replica.region))];
  if (regions.length > 1) {
    throw new Error(`failover groups have replicas in several regions (${regions.join(", ")}): deploy one control region per stage`);
  }
  return regions[0];
}

/** Alarm names per region they are evaluated in (default: the replica's region). */
export function alarmsByRegion(config: Config): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of config.failover.groups) {
    const region = g.alarmRegion ?? g.replica.region;
    out.set(region, [...(out.get(region) ?? []), ...g.alarms]);
  }
  for (const [region, names] of out) out.set(region, [...new Set(names)].sort());
  return out;
}

/** Only a transition into ALARM of one of the configured alarms starts the runbook. */
export function failoverEventPattern(alarmNames: string[]) {
  return {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: { alarmName: alarmNames, state: { value: ["ALARM"] } },
  };
}

/** The state machine of the runbook (JSONata): Advance -> Choice -> Wait -> Advance ... */
export function stateMachineDefinition(functionArn: string) {
  return {
    Comment: "ops-autopilot failover runbook: each Advance runs at most one checkpointed step",
    QueryLanguage: "JSONata",
    TimeoutSeconds: EXECUTION_TIMEOUT_SECONDS,
    StartAt: "Advance",
    States: {
      Advance: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Arguments: { FunctionName: functionArn, Payload: { source: "sfn", event: "{% $states.input %}" } },
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
        Output: "{% $states.input.advance %}",
        Next: "Advance",
      },
      Done: { Type: "Succeed" },
      Failed: { Type: "Fail", Error: "FailoverFailed", Cause: "{% $states.input.reason %}" },
    },
  };
}

const assumeBy = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

const policy = (statements: { Action: string[]; Resource: string[] }[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) });

export interface Failover {
  fn: sst.aws.Function;
  stateMachine: aws.sfn.StateMachine;
  rules: aws.cloudwatch.EventRule[];
  region: string;
}

export function failover(
  config: Config,
  deps: Omit<FunctionDeps, "dlq" | "provider" | "stateBucketArn" | "extraEnvironment">,
  production: boolean,
  providerFor: (region: string) => aws.Provider,
): Failover | undefined {
  const region = controlRegion(config);
  if (!region) return undefined;
  const provider = providerFor(region);
  const opts = { provider };

  const stateBucket = new sst.aws.Bucket(
    "FailoverStateBucket",
    {
      versioning: true,
      enforceHttps: true,
      transform: {
        bucket: (args) => {
          args.forceDestroy = !production;
        },
      },
    },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    "FailoverStateBucketEncryption",
    { bucket: stateBucket.name, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
    opts,
  );

  const fn = deployFunction(functionSpec("failover"), {
    ...deps,
    provider,
    stateBucketArn: stateBucket.arn,
    extraEnvironment: { FAILOVER_STATE_BUCKET: stateBucket.name, FAILOVER_STATE_REGION: region },
  });

  const sfnRole = new aws.iam.Role(
    "FailoverStateMachineRole",
    {
      assumeRolePolicy: assumeBy("states.amazonaws.com"),
      inlinePolicies: [
        {
          name: "inline",
          policy: fn.arn.apply((arn) => policy([{ Action: ["lambda:InvokeFunction"], Resource: [arn, `${arn}:*`] }])),
        },
      ],
    },
    opts,
  );
  const stateMachine = new aws.sfn.StateMachine(
    "FailoverStateMachine",
    {
      type: "STANDARD",
      roleArn: sfnRole.arn,
      definition: fn.arn.apply((arn) => JSON.stringify(stateMachineDefinition(arn))),
    },
    opts,
  );

  const dlq = deadLetterQueue("FailoverDeadLetters", provider);
  const rules: aws.cloudwatch.EventRule[] = [];
  const startRole = new aws.iam.Role(
    "FailoverRuleRole",
    {
      assumeRolePolicy: assumeBy("events.amazonaws.com"),
      inlinePolicies: [
        { name: "inline", policy: stateMachine.arn.apply((arn) => policy([{ Action: ["states:StartExecution"], Resource: [arn] }])) },
      ],
    },
    opts,
  );
  const controlAlarms = alarmsByRegion(config).get(region) ?? [];
  const byRegion = alarmsByRegion(config);
  // Alarms evaluated elsewhere are forwarded to the control region's default bus: a Step Functions
  // target must be in the rule's region, an event bus may be in another.
  const forwarded = [...byRegion].filter(([r]) => r !== region);
  const allNames = [...new Set([...controlAlarms, ...forwarded.flatMap(([, n]) => n)])].sort();

  const rule = new aws.cloudwatch.EventRule(
    "FailoverAlarmRule",
    { description: "Configured failover alarms going to ALARM start the runbook", eventPattern: JSON.stringify(failoverEventPattern(allNames)) },
    opts,
  );
  rules.push(rule);
  new aws.cloudwatch.EventTarget(
    "FailoverAlarmTarget",
    {
      rule: rule.name,
      arn: stateMachine.arn,
      roleArn: startRole.arn,
      retryPolicy: { maximumEventAgeInSeconds: RULE_MAX_EVENT_AGE_SECONDS, maximumRetryAttempts: 185 },
      deadLetterConfig: { arn: dlq.arn },
    },
    opts,
  );
  queueAcceptsFrom("FailoverDlqPolicy", dlq, "events.amazonaws.com", rule.arn, opts);

  const busArn = $interpolate`arn:${deps.identity.partition}:events:${region}:${deps.identity.account}:event-bus/default`;
  for (const [alarmRegion, names] of forwarded) {
    const p = providerFor(alarmRegion);
    const suffix = alarmRegion.replace(/-/g, "");
    const forwardRole = new aws.iam.Role(
      `FailoverForward${suffix}Role`,
      {
        assumeRolePolicy: assumeBy("events.amazonaws.com"),
        inlinePolicies: [{ name: "inline", policy: busArn.apply((arn) => policy([{ Action: ["events:PutEvents"], Resource: [arn] }])) }],
      },
      { provider: p },
    );
    const fwd = new aws.cloudwatch.EventRule(
      `FailoverForward${suffix}Rule`,
      { description: `Failover alarms of ${alarmRegion} to the control region ${region}`, eventPattern: JSON.stringify(failoverEventPattern(names)) },
      { provider: p },
    );
    rules.push(fwd);
    new aws.cloudwatch.EventTarget(`FailoverForward${suffix}Target`, { rule: fwd.name, arn: busArn, roleArn: forwardRole.arn }, { provider: p });
  }

  // Our own failures in the control region, routed to Slack from there.
  functionErrorsAlarm(config, "failover", fn, provider);
  new aws.cloudwatch.MetricAlarm(
    "FailoverExecutionsFailedAlarm",
    {
      name: `${alarmPrefix(config)}-failover-executions-failed`,
      alarmDescription: "A failover runbook execution failed, timed out or was aborted: finish it by hand (see the run report)",
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
    opts,
  );
  dlqMessagesAlarm(config, "FailoverDeadLetters", dlq, provider);
  alarmsToSlack("FailoverAlarmsToSlack", config, deps.secret, dlq, provider);

  return { fn, stateMachine, rules, region };
}
