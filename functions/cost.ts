import { createHandler } from "./lib/handler.ts";
import { parseCostEvent } from "../schemas/events-cost.ts";
import { runCost } from "./lib/cost-run.ts";

/** Cost digest and alerts: see functions/lib/cost-run.ts. Scheduled by stacks/cost.ts; manual samples in events/cost-*.json. */
export const handler = createHandler({ name: "cost", parse: parseCostEvent, run: runCost });
