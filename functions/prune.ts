import { createHandler } from "../runbooks/lib/handler.ts";
import { parsePruneEvent } from "../schemas/events-backup.ts";
import { runPrune } from "../runbooks/backup/prune.ts";
import { backupDeps } from "../runbooks/backup/deps.ts";

/** Prune job: see runbooks/backup/prune.ts. Scheduled by stacks/backups.ts; manual samples in events/prune-*.json. */
export const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: (event, ctx) => runPrune(event, ctx, backupDeps(ctx)) });
