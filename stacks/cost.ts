/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import type { FunctionDeps } from "./lambda.ts";
import { scheduledFunction, type ScheduledFunction } from "./schedules.ts";

/** The daily Cost Explorer digest (issue 5), in the configured timezone's morning. */
export function cost(config: Config, deps: FunctionDeps & { dlq: sst.aws.Queue }): ScheduledFunction {
  return scheduledFunction("cost", config, deps);
}
