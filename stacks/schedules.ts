/// <reference path="../.sst/platform/config.d.ts" />
import { scheduleTimezone, type Config } from "../schemas/config.ts";
import { functionSpec, type FunctionName } from "./functions.ts";
import { capitalize, deployFunction, type FunctionDeps } from "./lambda.ts";
import { functionErrorsAlarm } from "./ops.ts";
import { SCHEDULER_RETRIES } from "./durable-runbook-definition.ts";
import { SCHEDULE_INPUT } from "./patterns.ts";

export interface ScheduledFunction {
  fn: sst.aws.Function;
  cron?: sst.aws.CronV2;
}

/**
 * A function started by `config.schedules[<its key>]` through EventBridge Scheduler, in its timezone
 * (`schedules.timezones[<key>]`, else `timezone`), with retries and the DLQ, plus its errors alarm. A schedule left unset in the config
 * (only `warm` may be) deploys the function for manual and runbook use, without a schedule.
 */
export function scheduledFunction(name: FunctionName, config: Config, deps: FunctionDeps & { dlq: sst.aws.Queue }): ScheduledFunction {
  const spec = functionSpec(name);
  if (spec.trigger.kind !== "schedule") throw new Error(`${name} is not a scheduled function`);
  const fn = deployFunction(spec, deps);
  functionErrorsAlarm(config, name, fn);
  const expression = config.schedules[spec.trigger.schedule];
  if (!expression) return { fn };
  const cron = new sst.aws.CronV2(`${capitalize(name)}Schedule`, {
    function: fn,
    schedule: expression as `cron(${string})` | `rate(${string})`,
    timezone: scheduleTimezone(config, spec.trigger.schedule),
    event: SCHEDULE_INPUT,
    retries: SCHEDULER_RETRIES,
    dlq: deps.dlq.arn,
  });
  return { fn, cron };
}
