import type { FleetFunction } from "../../schemas/config-fleet.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import type { HandlerSpec, RunContext, RunOutcome } from "../lib/handler.ts";
import { backupDeps, type BackupDepsOptions } from "./deps.ts";
import { fleetJobTargetOf } from "./common.ts";
import type { BackupDeps } from "./ports.ts";

/** One backup job: its name, its event's parser and its runbook. */
export interface BackupJob {
  name: FleetFunction;
  parse: (raw: unknown) => JobEvent;
  run: (event: JobEvent, ctx: RunContext, deps: BackupDeps) => Promise<RunOutcome>;
}

/**
 * A backup job as the handler chain runs it (functions/{backup,copy,prune,watchdog}.ts): the event's parser, the
 * runbook, its real dependencies, bound to the fleet item's member account when the event is one
 * (`{"source":"fleet","target":{...}}`, schemas/events-fleet.ts). A fleet item's run posts no summary and opens no
 * failed-run alert of its own, names its account and region in its report, and answers
 * `{ account, accountName, region, counts, reportKey }` for the fan-out's Map. Each function imports only its own
 * runbook; runbooks/backup/jobs.ts names all four for tests, the drill and the bench.
 */
export function jobSpec(job: BackupJob, options: Omit<BackupDepsOptions, "target"> = {}): HandlerSpec<JobEvent> {
  return {
    name: job.name,
    parse: job.parse,
    run: (event, ctx) => {
      // The item's account, region and role, checked before its member role is assumed.
      fleetJobTargetOf(ctx.config, event, job.name);
      return job.run(event, ctx, backupDeps(ctx, { ...options, ...(event.target ? { target: event.target } : {}) }));
    },
    fleetItem: (event) => event.target && { account: event.target.account, accountName: event.target.accountName, region: event.target.region },
  };
}
