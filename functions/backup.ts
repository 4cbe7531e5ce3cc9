import { createHandler } from "../runbooks/lib/handler.ts";
import { backupJobSpec } from "../runbooks/backup/jobs.ts";

/** Backup job: see runbooks/backup/backup.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/backup-*.json. */
export const handler = createHandler(backupJobSpec("backup"));
