import { createHandler } from "./lib/handler.ts";
import { parseCopyEvent } from "../schemas/events-backup.ts";
import { runCopy } from "./lib/backup-jobs.ts";

/** Copy job: see functions/lib/backup-jobs.ts. Scheduled by stacks/backups.ts; manual samples in events/copy-*.json. */
export const handler = createHandler({ name: "copy", parse: parseCopyEvent, run: runCopy });
