import { createHandler } from "../runbooks/lib/handler.ts";
import { parseWatchdogEvent } from "../schemas/events-backup.ts";
import { runWatchdog } from "../runbooks/backup/watchdog.ts";
import { jobSpec } from "../runbooks/backup/job-spec.ts";

/** Watchdog job: see runbooks/backup/watchdog.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/watchdog-*.json. */
export const handler = createHandler(jobSpec({ name: "watchdog", parse: parseWatchdogEvent, run: runWatchdog }));
