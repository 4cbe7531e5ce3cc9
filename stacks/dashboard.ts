/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { dashboardBody, dashboardName, dashboardRegion, type DashboardFunction, type DashboardQueue, type DashboardStateMachine } from "./dashboard-body.ts";
import type { Failover } from "./failover.ts";
import type { Fleet } from "./fleet.ts";
import type { FunctionName } from "./functions.ts";
import { declaredDeadLetterQueues } from "./ops.ts";
import type { RestoreTest } from "./restore-test.ts";
import type { ScheduledFunction } from "./schedules.ts";

/** What the stage deployed, as stacks/main.ts holds it. */
export interface DashboardParts {
  jobs: Record<"backup" | "copy" | "prune" | "watchdog", ScheduledFunction>;
  warm: ScheduledFunction;
  digest: ScheduledFunction;
  weekly: ScheduledFunction;
  runbook: Failover | undefined;
  restores: RestoreTest | undefined;
  fleet?: Fleet | undefined;
}

/** `arn:<partition>:<service>:<region>:...` → region. */
const regionOf = (arn: string): string => arn.split(":")[3] ?? "";

/**
 * The stage's CloudWatch dashboard (stacks/dashboard-body.ts builds the body), created through the DR region's provider
 * so that deploying it never needs the primary region. Call it after every dead-letter queue is declared: it charts
 * the ones stacks/ops.ts has seen.
 */
export function opsDashboard(
  config: Config,
  identity: $util.Output<{ account: string; partition: string }>,
  parts: DashboardParts,
  providerFor: (region: string) => aws.Provider,
): aws.cloudwatch.Dashboard {
  const fns: [FunctionName, sst.aws.Function | undefined][] = [
    ["backup", parts.jobs.backup.fn],
    ["copy", parts.jobs.copy.fn],
    ["prune", parts.jobs.prune.fn],
    ["watchdog", parts.jobs.watchdog.fn],
    ["warm", parts.warm.fn],
    ["cost", parts.digest.fn],
    ["weekly-report", parts.weekly.fn],
    ["failover", parts.runbook?.fn],
    ["probe", parts.runbook?.probe],
    ["restore-test", parts.restores?.fn],
    ...(parts.restores?.checkers ?? []).map((c): [FunctionName, sst.aws.Function] => ["restore-test-checker", c.fn]),
    ["fleet-summary", parts.fleet?.summary],
    ["fleet-targets", parts.fleet?.targets],
  ];
  const functions = fns.flatMap(([name, fn]) =>
    fn
      ? [
          $resolve({ functionName: fn.name, arn: fn.arn, logGroup: fn.nodes.logGroup.apply((lg) => (lg ? lg.name : $output(""))) }).apply(
            ({ functionName, arn, logGroup }): DashboardFunction => ({
              name,
              functionName,
              region: regionOf(arn),
              logGroup: logGroup || `/aws/lambda/${functionName}`,
            }),
          ),
        ]
      : [],
  );
  const queues = declaredDeadLetterQueues().map(({ name, queue }) =>
    $resolve([queue.nodes.queue.name, queue.arn]).apply(([queueName, arn]): DashboardQueue => ({ name, queueName, region: regionOf(arn) })),
  );
  const machines: [string, aws.sfn.StateMachine | undefined][] = [
    ["failover", parts.runbook?.stateMachine],
    ["restore-test", parts.restores?.stateMachine],
    // Labelled as their alarms are named (stacks/fleet-fanout.ts: <prefix>-fleet-<job>-executions-failed).
    ...Object.entries(parts.fleet?.fanouts ?? {}).map(([job, f]): [string, aws.sfn.StateMachine] => [`fleet-${job}`, f.stateMachine]),
  ];
  const stateMachines = machines.flatMap(([runbook, sm]) =>
    sm ? [sm.arn.apply((arn): DashboardStateMachine => ({ runbook, arn, region: regionOf(arn) }))] : [],
  );
  const body = $resolve({ id: identity, functions: $resolve(functions), queues: $resolve(queues), stateMachines: $resolve(stateMachines) }).apply((r) =>
    JSON.stringify(
      dashboardBody(config, {
        account: r.id.account,
        partition: r.id.partition,
        functions: r.functions as DashboardFunction[],
        deadLetterQueues: r.queues as DashboardQueue[],
        stateMachines: r.stateMachines as DashboardStateMachine[],
      }),
    ),
  );
  return new aws.cloudwatch.Dashboard(
    "OpsDashboard",
    { dashboardName: dashboardName(config), dashboardBody: body },
    { provider: providerFor(dashboardRegion(config)) },
  );
}
