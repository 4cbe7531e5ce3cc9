import { createHandler } from "./lib/handler.ts";
import { parseWatchdogEvent } from "../schemas/events-backup.ts";
import { runWatchdog } from "./lib/backup-jobs.ts";

/** Watchdog job: see functions/lib/backup-jobs.ts. Scheduled by stacks/backups.ts; manual samples in events/watchdog-*.json. */
export const handler = createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: runWatchdog });
