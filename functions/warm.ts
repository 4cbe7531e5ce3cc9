import { createHandler } from "./lib/handler.ts";
import { parseWarmEvent } from "../schemas/events-warm.ts";
import { runWarmFunction } from "./lib/warm-run.ts";

/** Cache warming: see functions/lib/warm-run.ts. Scheduled by stacks/cache.ts; manual samples in events/warm-*.json. */
export const handler = createHandler({ name: "warm", parse: parseWarmEvent, run: runWarmFunction });
