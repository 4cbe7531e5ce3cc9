import { createHandler } from "../runbooks/lib/handler.ts";
import { parseCostEvent } from "../schemas/events-cost.ts";
import { runCost } from "../runbooks/cost/cost.ts";
import { costDeps } from "../runbooks/cost/deps.ts";

/** Cost digest and alerts: see runbooks/cost/cost.ts. Scheduled by stacks/cost.ts; manual samples in events/cost-*.json. */
export const handler = createHandler({ name: "cost", parse: parseCostEvent, run: (event, ctx) => runCost(event, ctx, costDeps(ctx)) });
