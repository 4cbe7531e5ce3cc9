import { createHandler } from "../runbooks/lib/handler.ts";
import { parseWarmEvent } from "../schemas/events-warm.ts";
import { runWarmFunction } from "../runbooks/warm/warm.ts";

/** Cache warming: see runbooks/warm/warm.ts. Scheduled by stacks/cache.ts; manual samples in events/warm-*.json. */
export const handler = createHandler({ name: "warm", parse: parseWarmEvent, run: runWarmFunction });
