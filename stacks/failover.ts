/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, functionErrorsAlarm, queueAcceptsFrom } from "./ops.ts";
import { alarmPrefix, alarmsByRegion, controlRegion, failoverEventPattern, RULE_MAX_EVENT_AGE_SECONDS, stateMachineDefinition } from "./patterns.ts";

/**
 * The failover runbook (issue 3; contract in the failover engineer's notes, "failover-infra"):
 * a Standard Step Functions state machine that loops "invoke the runbook function -> wait" until it
 * reports done or failed, started by EventBridge rules on the configured alarms.
 *
 * Everything lives in the control region (the replicas' region), not the primary: a primary-region
 * outage must not take the orchestrator, its latch bucket or its alarms down with it.
 */

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
      cors: false,
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
