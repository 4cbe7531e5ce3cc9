/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { durableRunbook } from "./durable-runbook.ts";
import { policyDocument, triggerPlan } from "./durable-runbook-definition.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, functionErrorsAlarm } from "./ops.ts";
import { alarmPrefix, controlRegion } from "./patterns.ts";
import { checkerComponent, restoreTestControlRegion, restoreTestSchedules } from "./restore-test-schedules.ts";
import { restoreTestCheckers } from "../schemas/config-restore-test.ts";
import { checkerEnvName, checkerFunctionName } from "../runbooks/restore-test/checker-ref.ts";

/**
 * The restore-test runbook (issue 11): its function and a durable runbook (stacks/durable-runbook.ts: Advance ->
 * Route -> Wait until done or failed) in the first DR region, where a restore is needed when the primary is gone.
 * The construct's schedule starts it on the first `restoreTest.schedule` expression; each further distinct
 * expression gets its own Scheduler schedule on the same state machine, its input naming its policies.
 * Deployed only when some policy has a `restoreTest` block.
 *
 * Each restore region whose policies run sql checks on RDS instances (`restoreTest.rds.checker`) gets the checker
 * function (functions/restore-test-checker.ts) in that region, inside the configured subnets and security groups, with
 * a fixed name the restore-test role's InvokeFunction grant names (runbooks/restore-test/checker-ref.ts); the
 * restore-test function finds it through one environment variable per region.
 */

export interface RestoreTest {
  fn: sst.aws.Function;
  /** The checker function of each restore region that needs one. */
  checkers: { region: string; fn: sst.aws.Function }[];
  stateMachine: aws.sfn.StateMachine;
  schedules: aws.scheduler.Schedule[];
  region: string;
}

const assumeBy = (service: string) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

export function restoreTest(
  config: Config,
  deps: Omit<FunctionDeps, "dlq" | "provider" | "stateBucketArn" | "extraEnvironment">,
  providerFor: (region: string) => aws.Provider,
): RestoreTest | undefined {
  const [first, ...more] = restoreTestSchedules(config);
  if (!first) return undefined;
  const region = restoreTestControlRegion(config);
  const provider = providerFor(region);
  const opts = { provider };

  const dlq = deadLetterQueue("RestoreTestDeadLetters", provider);
  const byRegion = [...restoreTestCheckers(config.backup.policies, config).byRegion].sort(([a], [b]) => a.localeCompare(b));
  const checkerName = byRegion.length ? checkerFunctionName(config) : "";
  const checkers = byRegion.map(([r, c]) => ({
    region: r,
    fn: deployFunction(functionSpec("restore-test-checker"), {
      ...deps,
      provider: providerFor(r),
      component: checkerComponent(r),
      functionName: checkerName,
      vpc: { privateSubnets: c.subnetIds, securityGroups: c.securityGroupIds, ownNetworkInterfaceGrants: true },
    }),
  }));
  const extraEnvironment = Object.fromEntries(byRegion.map(([r]) => [checkerEnvName(r), checkerName]));
  const fn = deployFunction(functionSpec("restore-test"), { ...deps, provider, ...(byRegion.length ? { extraEnvironment } : {}) });
  const runbook = durableRunbook(first.name, {
    config,
    runbook: "restore-test",
    fn,
    dlq,
    provider,
    trigger: { kind: "schedule", expression: first.expression, timezone: first.timezone, input: first.input },
  });
  const schedules = runbook.schedule ? [runbook.schedule] : [];
  for (const [i, s] of more.entries()) {
    const trigger = { kind: "schedule" as const, expression: s.expression, timezone: s.timezone, input: s.input };
    const statements = $resolve([runbook.stateMachine.arn, dlq.arn]).apply(([sm, q]) => triggerPlan(trigger, { stateMachine: sm, dlq: q }).roleStatements);
    const plan = triggerPlan(trigger, { stateMachine: runbook.stateMachine.arn, dlq: dlq.arn });
    if (plan.kind !== "schedule") continue;
    const role = new aws.iam.Role(
      `${s.name}ScheduleRole`,
      {
        assumeRolePolicy: assumeBy(plan.roleService),
        inlinePolicies: [{ name: "inline", policy: statements.apply((st) => JSON.stringify(policyDocument(st))) }],
      },
      opts,
    );
    schedules.push(
      new aws.scheduler.Schedule(
        `${s.name}Schedule`,
        { ...plan.schedule, name: `${alarmPrefix(config)}-restore-test-${i + 2}`, target: { ...plan.schedule.target, roleArn: role.arn } },
        opts,
      ),
    );
  }

  functionErrorsAlarm(config, "restore-test", fn, provider);
  dlqMessagesAlarm(config, "RestoreTestDeadLetters", dlq, provider);
  // Alarms reach Slack through one rule per region: the primary's (stacks/main.ts) and the failover control region's.
  if (region !== config.primaryRegion && region !== controlRegion(config)) alarmsToSlack("RestoreTestAlarmsToSlack", config, deps.secret, dlq, provider);
  return { fn, checkers, stateMachine: runbook.stateMachine, schedules, region };
}
