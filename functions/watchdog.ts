import { createHandler } from "../runbooks/lib/handler.ts";
import { backupJobSpec } from "../runbooks/backup/jobs.ts";

/** Watchdog job: see runbooks/backup/watchdog.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/watchdog-*.json. */
export const handler = createHandler(backupJobSpec("watchdog"));
