/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import type { FunctionDeps } from "./lambda.ts";
import { scheduledFunction, type ScheduledFunction } from "./schedules.ts";

/** Cache warming (issue 4): on `config.schedules.warm` when set; always invocable by hand and by the runbook. */
export function cache(config: Config, deps: FunctionDeps & { dlq: sst.aws.Queue }): ScheduledFunction {
  return scheduledFunction("warm", config, deps);
}
