import type { FleetFunction } from "../../schemas/config-fleet.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent, type JobEvent } from "../../schemas/events-backup.ts";
import type { HandlerSpec, RunContext, RunOutcome } from "../lib/handler.ts";
import { runBackup } from "./backup.ts";
import { runCopy } from "./copy.ts";
import { backupDeps, type BackupDepsOptions } from "./deps.ts";
import type { BackupDeps } from "./ports.ts";
import { runPrune } from "./prune.ts";
import { runWatchdog } from "./watchdog.ts";

/**
 * The four backup jobs as the handler chain runs them (functions/{backup,copy,prune,watchdog}.ts): the event's parser,
 * the runbook, its real dependencies, bound to the fleet item's member account when the event is one
 * (`{"source":"fleet","target":{...}}`, schemas/events-fleet.ts). A fleet item's run posts no summary and opens no
 * failed-run alert of its own, names its account and region in its report, and answers
 * `{ account, accountName, region, counts, reportKey }` for the fan-out's Map.
 *
 * @example
 * // an item exactly as Step Functions sends it (stacks/fleet-fanout-definition.ts), with a test's state bucket:
 * await createHandler(backupJobSpec("copy", { stateBucket }), runtime)({ source: "fleet", target }, context);
 */
const JOBS: Record<FleetFunction, { parse: (raw: unknown) => JobEvent; run: (event: JobEvent, ctx: RunContext, deps: BackupDeps) => Promise<RunOutcome> }> = {
  backup: { parse: parseBackupEvent, run: runBackup },
  copy: { parse: parseCopyEvent, run: runCopy },
  prune: { parse: parsePruneEvent, run: runPrune },
  watchdog: { parse: parseWatchdogEvent, run: runWatchdog },
};

export function backupJobSpec(name: FleetFunction, options: Omit<BackupDepsOptions, "target"> = {}): HandlerSpec<JobEvent> {
  const job = JOBS[name];
  return {
    name,
    parse: job.parse,
    run: (event, ctx) => job.run(event, ctx, backupDeps(ctx, { ...options, ...(event.target ? { target: event.target } : {}) })),
    fleetItem: (event) => event.target && { account: event.target.account, accountName: event.target.accountName, region: event.target.region },
  };
}
