import { createHandler } from "./lib/handler.ts";
import { parsePruneEvent } from "../schemas/events-backup.ts";
import { runPrune } from "./lib/backup-jobs.ts";

/** Prune job: see functions/lib/backup-jobs.ts. Scheduled by stacks/backups.ts; manual samples in events/prune-*.json. */
export const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: runPrune });
