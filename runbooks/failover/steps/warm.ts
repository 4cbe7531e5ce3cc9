/** Step 5: warm the DR caches. A cold cache is slower, not down: a failed warm-up is reported, not fatal. */
import { errorText, type FailoverCtx, type FailoverStep } from "./shared.ts";

async function warmUp({ env: { deps, group } }: FailoverCtx): ReturnType<FailoverStep["start"]> {
  const target = group.warmTargetSet;
  if (!target) return { kind: "skipped", reason: "no warm-up target set" };
  let result: { ok: boolean; summary: string };
  try {
    result = await deps.warm.warm(target);
  } catch (err) {
    result = { ok: false, summary: `warm-up error: ${errorText(err)}` };
  }
  return { kind: "done", result: result.ok ? "warmed" : "warm-up incomplete", reason: result.summary };
}

export const warm: FailoverStep = {
  name: "warm",
  describe: ({ group }) => (group.warmTargetSet ? `warm caches: target set "${group.warmTargetSet}"` : `warm caches: skipped (no warm target set)`),
  beforeClaim: async ({ env: { group } }) => (group.warmTargetSet ? { kind: "claim" } : { kind: "skipped", reason: "no warm-up target set" }),
  start: warmUp,
  // An interrupted warm-up is warmed again: warming is harmless to repeat.
  resume: warmUp,
};
