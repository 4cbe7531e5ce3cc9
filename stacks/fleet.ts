/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../schemas/config-fleet.ts";
import { type FleetFanoutJob, fleetFanout } from "./fleet-fanout.ts";
import { functionSpec } from "./functions.ts";
import { deployFunction, type FunctionDeps } from "./lambda.ts";
import { functionErrorsAlarm } from "./ops.ts";
import type { ScheduledFunction } from "./schedules.ts";

/**
 * The fleet (issue 13), declared only with `config.fleet`: the summary function, and per fleet job the fan-out of
 * stacks/fleet-fanout.ts over the member accounts × regions, invoking that job's own function (stacks/backups.ts) once
 * per item, then the summary. The jobs keep their own schedules for the central account's resources.
 */
export interface Fleet {
  summary: sst.aws.Function;
  /** With `fleet.organizationalUnit`: the target discovery (functions/fleet-targets.ts). */
  targets?: sst.aws.Function;
  fanouts: Record<FleetFunction, FleetFanoutJob>;
}

export function fleet(config: Config, deps: FunctionDeps & { dlq: sst.aws.Queue }, jobs: Record<FleetFunction, ScheduledFunction>): Fleet | undefined {
  if (!config.fleet) return undefined;
  // Invoked synchronously by the state machines' Summary task: no on-failure destination (stacks/iam.ts grants none).
  const { dlq, ...fnDeps } = deps;
  const summary = deployFunction(functionSpec("fleet-summary"), fnDeps);
  functionErrorsAlarm(config, "fleet-summary", summary);
  // Invoked synchronously by the Targets task too, only with an OU to discover.
  const targets = config.fleet.organizationalUnit ? deployFunction(functionSpec("fleet-targets"), fnDeps) : undefined;
  if (targets) functionErrorsAlarm(config, "fleet-targets", targets);
  const fanouts = fleetFanout(config, {
    identity: deps.identity,
    jobs: Object.fromEntries(FLEET_FUNCTIONS.map((job) => [job, { arn: jobs[job].fn.arn }])) as Record<FleetFunction, { arn: $util.Output<string> }>,
    summary: { arn: summary.arn },
    ...(targets ? { targets: { arn: targets.arn } } : {}),
    dlq: { arn: dlq.arn },
  });
  if (!fanouts) throw new Error("unreachable: a fleet section declares the fan-outs");
  return { summary, ...(targets ? { targets } : {}), fanouts };
}
