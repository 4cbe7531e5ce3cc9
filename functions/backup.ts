import { createHandler } from "./lib/handler.ts";
import { parseBackupEvent } from "../schemas/events-backup.ts";
import { runBackup } from "./lib/backup-jobs.ts";

/** Backup job: see functions/lib/backup-jobs.ts. Scheduled by stacks/backups.ts; manual samples in events/backup-*.json. */
export const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: runBackup });
