import { listAccountsForParent } from "../adapters/organizations.ts";
import { runFleetTargets } from "../runbooks/fleet/targets.ts";
import { createHandler } from "../runbooks/lib/handler.ts";
import { parseFleetTargetsEvent } from "../schemas/events-fleet-targets.ts";

/**
 * The fleet's target discovery (runbooks/fleet/targets.ts): invoked by each fleet job's state machine when the fleet
 * names an Organizations OU; its answer is the fan-out's items. It posts nothing and keeps no report: a failure fails
 * the execution (its ExecutionsFailed alarm) and this function's errors alarm.
 */
export const handler = createHandler(
  {
    name: "fleet-targets",
    parse: parseFleetTargetsEvent,
    run: (event, ctx) => runFleetTargets(event, ctx, { listAccountsForParent: (id) => listAccountsForParent(id) }),
    posts: false,
  },
  { saveReport: async () => undefined },
);
