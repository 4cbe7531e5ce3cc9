import { createHandler } from "../runbooks/lib/handler.ts";
import { parseWatchdogEvent } from "../schemas/events-backup.ts";
import { runWatchdog } from "../runbooks/backup/watchdog.ts";
import { backupDeps } from "../runbooks/backup/deps.ts";

/** Watchdog job: see runbooks/backup/watchdog.ts. Scheduled by stacks/backups.ts; manual samples in events/watchdog-*.json. */
export const handler = createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: (event, ctx) => runWatchdog(event, ctx, backupDeps(ctx)) });
