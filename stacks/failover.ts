/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, functionErrorsAlarm } from "./ops.ts";
import { alarmPrefix, controlRegion, failoverEventPattern, ruleAlarmsByRegion, RULE_MAX_EVENT_AGE_SECONDS, SCHEDULE_INPUT } from "./patterns.ts";
import {
  detectionDelay,
  PROBE_DIMENSION,
  PROBE_METRIC,
  probeAlarm,
  probeNamespace,
  probeSchedule,
  probeSilentAlarmName,
  triggerAlarmName,
} from "../core/failover-trigger.ts";
import { triggerTuning } from "../schemas/config-failover.ts";
import { durableRunbook } from "./durable-runbook.ts";
import { FAILOVER_OBSERVE_KEY } from "../core/observe.ts";
import { observeStart } from "./observe-start.ts";
import { policyDocument, type PolicyStatementInput } from "./durable-runbook-definition.ts";

/**
 * The failover runbook (issue 3; contract in the failover engineer's notes, "failover-infra"):
 * a durable runbook (stacks/durable-runbook.ts: a Standard state machine that loops "invoke the runbook
 * function -> wait" until it reports done or failed, with execution logging), started by an EventBridge
 * rule on the configured alarms; alarms of other regions are forwarded to that rule's bus.
 *
 * Everything lives in the control region (the replicas' region), not the primary: a primary-region
 * outage must not take the orchestrator, its latch bucket or its alarms down with it.
 *
 * The trigger kit (groups with a `trigger`): the probe function in the control region on one schedule, and per
 * group an alarm on its `PrimaryProbeFailed` metric whose name the configuration already added to the group's
 * alarms (schemas/config-failover.ts withTriggerAlarms), so the rule above starts the runbook on it. Why a probe
 * function rather than a Route 53 health check: Route 53 publishes health-check metrics in us-east-1 only
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html), so the alarm would
 * live outside the control region and need forwarding, and its checkers reach only public endpoints
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-private-hosted-zones.html) while a
 * primary database endpoint is private; the probe runs in the control region, in a VPC when told to.
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
  /** The trigger kit's probe, when a group has a `trigger`. */
  probe?: sst.aws.Function;
  /** The trigger kit's alarms, per group name. */
  triggerAlarms: Record<string, aws.cloudwatch.MetricAlarm>;
}

const pascal = (s: string) => s.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());

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

  observeStart("FailoverObserveStart", stateBucket.name, FAILOVER_OBSERVE_KEY, opts);

  const fn = deployFunction(functionSpec("failover"), {
    ...deps,
    provider,
    stateBucketArn: stateBucket.arn,
    extraEnvironment: { FAILOVER_STATE_BUCKET: stateBucket.name, FAILOVER_STATE_REGION: region },
  });

  const dlq = deadLetterQueue("FailoverDeadLetters", provider);
  const rules: aws.cloudwatch.EventRule[] = [];
  const byRegion = ruleAlarmsByRegion(config, region);
  const controlAlarms = byRegion.get(region) ?? [];
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

  const kit = triggerKit(config, { ...deps, provider, dlq }, region);

  // Our own failures in the control region, routed to Slack from there.
  functionErrorsAlarm(config, "failover", fn, provider);
  dlqMessagesAlarm(config, "FailoverDeadLetters", dlq, provider);
  alarmsToSlack("FailoverAlarmsToSlack", config, deps.secret, dlq, provider);

  return { fn, stateMachine, rules, region, ...(kit.probe ? { probe: kit.probe } : {}), triggerAlarms: kit.alarms };
}

/**
 * The probe (stacks/functions.ts `probe`) on `rate(<period>)`, its errors and silence alarms (to Slack), and one
 * alarm per triggered group (core/failover-trigger.ts probeAlarm: M of N periods, Minimum ≥ 1, missing data not
 * breaching, so a probe that cannot run never starts a promotion by itself).
 */
function triggerKit(
  config: Config,
  deps: Omit<FunctionDeps, "stateBucketArn" | "extraEnvironment"> & { provider: aws.Provider; dlq: sst.aws.Queue },
  region: string,
): { probe?: sst.aws.Function; alarms: Record<string, aws.cloudwatch.MetricAlarm> } {
  const groups = config.failover.groups.filter((g) => g.trigger);
  const first = groups[0]?.trigger;
  if (!first) return { alarms: {} };
  const opts = { provider: deps.provider };
  const prefix = alarmPrefix(config);
  const vpc = config.failover.probeVpc;
  const probe = deployFunction(functionSpec("probe"), {
    ...deps,
    ...(vpc ? { vpc: { privateSubnets: vpc.subnetIds, securityGroups: vpc.securityGroupIds } } : {}),
  });
  // A late probe is worth nothing (the next one comes a period later): no Scheduler retries.
  new sst.aws.CronV2(
    "ProbeSchedule",
    { function: probe, schedule: probeSchedule(first.periodSeconds) as `rate(${string})`, event: SCHEDULE_INPUT, retries: 0, dlq: deps.dlq.arn },
    opts,
  );
  functionErrorsAlarm(config, "probe", probe, deps.provider);
  new aws.cloudwatch.MetricAlarm(
    "ProbeSilentAlarm",
    {
      name: probeSilentAlarmName(prefix),
      alarmDescription: "The failover probe has not run: the failover trigger is blind (its alarms see missing data and never fire)",
      namespace: "AWS/Lambda",
      metricName: "Invocations",
      dimensions: { FunctionName: probe.name },
      statistic: "Sum",
      period: Math.max(300, 2 * first.periodSeconds),
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      // Silence is what this alarm exists for.
      treatMissingData: "breaching",
    },
    opts,
  );
  const alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};
  for (const g of groups) {
    const tuning = triggerTuning(g.trigger!);
    const { worstSeconds } = detectionDelay(tuning);
    alarms[g.name] = new aws.cloudwatch.MetricAlarm(
      `FailoverTrigger${pascal(g.name)}Alarm`,
      {
        name: triggerAlarmName(prefix, g.name),
        alarmDescription:
          `The primary of failover group ${g.name} (${g.primary.id}, ${g.primary.region}) failed its probe from ${region} in ` +
          `${tuning.failuresToAlarm} of ${tuning.evaluationPeriods} periods of ${tuning.periodSeconds} s (detected within ${worstSeconds} s): ` +
          `starts the failover runbook (execution ${g.execution})`,
        namespace: probeNamespace(prefix),
        metricName: PROBE_METRIC,
        dimensions: { [PROBE_DIMENSION]: g.name },
        ...probeAlarm(tuning),
      },
      opts,
    );
  }
  return { probe, alarms };
}
