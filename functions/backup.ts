import { createHandler } from "../runbooks/lib/handler.ts";
import { parseBackupEvent } from "../schemas/events-backup.ts";
import { runBackup } from "../runbooks/backup/backup.ts";
import { jobSpec } from "../runbooks/backup/job-spec.ts";

/** Backup job: see runbooks/backup/backup.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/backup-*.json. */
export const handler = createHandler(jobSpec({ name: "backup", parse: parseBackupEvent, run: runBackup }));
