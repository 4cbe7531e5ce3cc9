import { createHandler } from "../runbooks/lib/handler.ts";
import { parseCopyEvent } from "../schemas/events-backup.ts";
import { runCopy } from "../runbooks/backup/copy.ts";
import { backupDeps } from "../runbooks/backup/deps.ts";

/** Copy job: see runbooks/backup/copy.ts. Scheduled by stacks/backups.ts; manual samples in events/copy-*.json. */
export const handler = createHandler({ name: "copy", parse: parseCopyEvent, run: (event, ctx) => runCopy(event, ctx, backupDeps(ctx)) });
