import { createHandler } from "../runbooks/lib/handler.ts";
import { parsePruneEvent } from "../schemas/events-backup.ts";
import { runPrune } from "../runbooks/backup/prune.ts";
import { jobSpec } from "../runbooks/backup/job-spec.ts";

/** Prune job: see runbooks/backup/prune.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/prune-*.json. */
export const handler = createHandler(jobSpec({ name: "prune", parse: parsePruneEvent, run: runPrune }));
