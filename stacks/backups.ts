/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import type { FunctionDeps } from "./lambda.ts";
import { heartbeatAlarm } from "./ops.ts";
import { scheduledFunction, type ScheduledFunction } from "./schedules.ts";

/** Backup, DR copy, retention pruning and the freshness watchdog (issue 2), each on its own schedule. */
export function backups(config: Config, deps: FunctionDeps & { dlq: sst.aws.Queue }): Record<"backup" | "copy" | "prune" | "watchdog", ScheduledFunction> {
  const out = {
    backup: scheduledFunction("backup", config, deps),
    copy: scheduledFunction("copy", config, deps),
    prune: scheduledFunction("prune", config, deps),
    watchdog: scheduledFunction("watchdog", config, deps),
  };
  heartbeatAlarm(config);
  return out;
}
