/** Step 2: wait until the promoted database accepts writes; DNS is never changed before this step is done. */
import { isWritable } from "../../../core/failover.ts";
import type { FailoverCtx, FailoverStep } from "./shared.ts";

async function checkWritable({ env: { deps, cfg, group } }: FailoverCtx): ReturnType<FailoverStep["start"]> {
  const replica = await deps.db.describeReplica(group);
  if (isWritable(replica)) return { kind: "done", result: "writable", reason: replica.detail };
  return { kind: "wait", seconds: cfg.pollSeconds, reason: `not writable yet: ${replica.detail}` };
}

export const waitWritable: FailoverStep = {
  name: "wait-writable",
  describe: ({ group }) => `wait until ${group.replica.id} is available and no longer a replica (writable)`,
  timeoutSeconds: ({ cfg }) => cfg.promotionTimeoutMinutes * 60,
  timedOut: ({ cfg, group }) => ({
    reason: `database not writable after ${cfg.promotionTimeoutMinutes} min`,
    manualSteps: [`Check ${group.replica.id} in ${group.replica.region}: promotion has not completed. DNS was not changed.`],
  }),
  start: checkWritable,
  resume: checkWritable,
};
