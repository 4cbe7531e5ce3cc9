import { createHandler } from "../runbooks/lib/handler.ts";
import { backupJobSpec } from "../runbooks/backup/jobs.ts";

/** Prune job: see runbooks/backup/prune.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/prune-*.json. */
export const handler = createHandler(backupJobSpec("prune"));
