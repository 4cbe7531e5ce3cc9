/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, functionErrorsAlarm } from "./ops.ts";
import { alarmsByRegion, controlRegion, failoverEventPattern, RULE_MAX_EVENT_AGE_SECONDS } from "./patterns.ts";
import { durableRunbook } from "./durable-runbook.ts";
import { policyDocument, type PolicyStatementInput } from "./durable-runbook-definition.ts";

/**
 * The failover runbook (issue 3; contract in the failover engineer's notes, "failover-infra"):
 * a durable runbook (stacks/durable-runbook.ts: a Standard state machine that loops "invoke the runbook
 * function -> wait" until it reports done or failed, with execution logging), started by an EventBridge
 * rule on the configured alarms; alarms of other regions are forwarded to that rule's bus.
 *
 * Everything lives in the control region (the replicas' region), not the primary: a primary-region
 * outage must not take the orchestrator, its latch bucket or its alarms down with it.
 */

const assumeBy = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

const policy = (statements: PolicyStatementInput[]) => JSON.stringify(policyDocument(statements));

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

  const dlq = deadLetterQueue("FailoverDeadLetters", provider);
  const rules: aws.cloudwatch.EventRule[] = [];
  const controlAlarms = alarmsByRegion(config).get(region) ?? [];
  const byRegion = alarmsByRegion(config);
  // Alarms evaluated elsewhere are forwarded to the control region's default bus: a Step Functions
  // target must be in the rule's region, an event bus may be in another.
  const forwarded = [...byRegion].filter(([r]) => r !== region);
  const allNames = [...new Set([...controlAlarms, ...forwarded.flatMap(([, n]) => n)])].sort();

  const { stateMachine, rule } = durableRunbook("Failover", {
    config,
    runbook: "failover",
    fn,
    dlq,
    provider,
    trigger: {
      kind: "alarm-rule",
      description: "Configured failover alarms going to ALARM start the runbook",
      pattern: failoverEventPattern(allNames),
      maxEventAgeSeconds: RULE_MAX_EVENT_AGE_SECONDS,
    },
  });
  if (rule) rules.push(rule);

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
  dlqMessagesAlarm(config, "FailoverDeadLetters", dlq, provider);
  alarmsToSlack("FailoverAlarmsToSlack", config, deps.secret, dlq, provider);

  return { fn, stateMachine, rules, region };
}
