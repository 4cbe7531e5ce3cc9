import { createHttpDeps } from "../../adapters/http-warm.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import { linkedBucket } from "../lib/resources.ts";
import type { RunContext } from "../lib/handler.ts";
import { runWarm } from "./engine.ts";
import type { LeftoverStore, WarmDeps } from "./warm.ts";

/**
 * Real dependencies of the warm run (used by functions/warm.ts): the engine, an undici transport per
 * target set (`concurrency` connections per origin), and the leftovers in the linked Reports bucket.
 */

function s3Leftovers(ctx: RunContext): LeftoverStore {
  const docs = jsonDocuments(linkedBucket(ctx.config));
  const key = (set: string) => `state/warm/${set}/leftover.json`;
  // Unconditional (last writer wins): a leftover list another run overwrote only means those URLs wait for a later run.
  return {
    load: async (set) => (await docs.get<{ urls: string[] }>(key(set)))?.body.urls ?? [],
    save: async (set, urls) => docs.put(key(set), { urls, savedAt: ctx.now().toISOString() }),
  };
}

export const warmDeps: WarmDeps = {
  runWarm,
  http: (targets) => createHttpDeps({ maxSockets: targets.concurrency }),
  leftovers: s3Leftovers,
};
