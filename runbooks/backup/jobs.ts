import type { FleetFunction } from "../../schemas/config-fleet.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent, type JobEvent } from "../../schemas/events-backup.ts";
import type { HandlerSpec } from "../lib/handler.ts";
import { runBackup } from "./backup.ts";
import { runCopy } from "./copy.ts";
import type { BackupDepsOptions } from "./deps.ts";
import { jobSpec, type BackupJob } from "./job-spec.ts";
import { runPrune } from "./prune.ts";
import { runWatchdog } from "./watchdog.ts";

/** The four backup jobs by name (functions/<name>.ts each builds its own from runbooks/backup/job-spec.ts). */
export const BACKUP_JOBS: Record<FleetFunction, BackupJob> = {
  backup: { name: "backup", parse: parseBackupEvent, run: runBackup },
  copy: { name: "copy", parse: parseCopyEvent, run: runCopy },
  prune: { name: "prune", parse: parsePruneEvent, run: runPrune },
  watchdog: { name: "watchdog", parse: parseWatchdogEvent, run: runWatchdog },
};

/**
 * The spec functions/<name>.ts runs, with the tests', the drill's or the bench's state bucket (and STS client).
 *
 * @example
 * // an item exactly as Step Functions sends it (stacks/fleet-fanout-definition.ts):
 * await createHandler(backupJobSpec("copy", { stateBucket }), runtime)({ source: "fleet", target }, context);
 * // -> { account, accountName, region, counts: { copied: 2 }, reportKey: "reports/copy/..." }
 */
export function backupJobSpec(name: FleetFunction, options: Omit<BackupDepsOptions, "target"> = {}): HandlerSpec<JobEvent> {
  return jobSpec(BACKUP_JOBS[name], options);
}
