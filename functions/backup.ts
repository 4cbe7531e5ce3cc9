import { createHandler } from "../runbooks/lib/handler.ts";
import { parseBackupEvent } from "../schemas/events-backup.ts";
import { runBackup } from "../runbooks/backup/backup.ts";
import { backupDeps } from "../runbooks/backup/deps.ts";

/** Backup job: see runbooks/backup/backup.ts. Scheduled by stacks/backups.ts; manual samples in events/backup-*.json. */
export const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (event, ctx) => runBackup(event, ctx, backupDeps(ctx)) });
