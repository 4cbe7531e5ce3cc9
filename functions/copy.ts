import { createHandler } from "../runbooks/lib/handler.ts";
import { backupJobSpec } from "../runbooks/backup/jobs.ts";

/** Copy job: see runbooks/backup/copy.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/copy-*.json. */
export const handler = createHandler(backupJobSpec("copy"));
