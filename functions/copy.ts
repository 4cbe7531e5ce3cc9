import { createHandler } from "../runbooks/lib/handler.ts";
import { parseCopyEvent } from "../schemas/events-backup.ts";
import { runCopy } from "../runbooks/backup/copy.ts";
import { jobSpec } from "../runbooks/backup/job-spec.ts";

/** Copy job: see runbooks/backup/copy.ts. Scheduled by stacks/backups.ts (a fleet item per member account × region from stacks/fleet-fanout.ts); manual samples in events/copy-*.json. */
export const handler = createHandler(jobSpec({ name: "copy", parse: parseCopyEvent, run: runCopy }));
