// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration field `observe`: while it is on, scheduled prune and alarm-triggered failover only plan and
 * report what they would have done (core/observe.ts decides, per run).
 *
 * - `{ "days": 14 }` (the default): on for 14 days of the top-level `timezone`, counted from the stage's first
 *   run, which records its start in the state bucket; a new stage observes before it deletes anything.
 * - `{ "until": "2026-12-31" }`: on through the end of that day, whenever the stage started.
 * - `false` or `{ "days": 0 }`: off.
 */

/** A real calendar day written yyyy-mm-dd ("2026-02-30" is not). */
function isDay(s: string): boolean {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(s);
}

const FORMS = 'expected false, { "days": <0 to 365> } or { "until": "yyyy-mm-dd" }';

export const ObserveConfigSchema = z
  .union(
    [
      z.literal(false),
      z.object({ days: z.number().int().min(0).max(365) }).strict(),
      z.object({ until: z.string().refine(isDay, "expected a calendar day written yyyy-mm-dd") }).strict(),
    ],
    { error: FORMS },
  )
  .default({ days: 14 });

export type ObserveConfig = z.output<typeof ObserveConfigSchema>;
