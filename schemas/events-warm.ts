// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { parseOrThrow } from "./validate.ts";
import { looksScheduled, scheduledSchemaFor } from "./events-common.ts";

/**
 * Events of the warm function.
 *
 * - schedule: `{"trigger":"schedule"}` (EventBridge Scheduler input) or a classic "Scheduled Event": every target set.
 * - failover: `{"trigger":"failover"}` when the runbook invokes the function instead of calling `runWarm`
 *   itself: the target sets with `afterFailover: true`, or the ones named.
 * - manual (Lambda console, samples in `events/warm-*.json`): named target sets (all when omitted);
 *   `dryRun: true` only reads sitemaps and lists the URLs that would be warmed.
 */

const TargetNames = z.array(z.string().min(1)).min(1);

export const ManualWarmEventSchema = z
  .object({
    trigger: z.literal("manual"),
    targets: TargetNames.optional(),
    dryRun: z.boolean().default(false),
    /** Overrides the target sets' `verify`. */
    verify: z.boolean().optional(),
    note: z.string().max(500).optional(),
  })
  .strict();

export const FailoverWarmEventSchema = z
  .object({
    trigger: z.literal("failover"),
    targets: TargetNames.optional(),
    dryRun: z.boolean().default(false),
    /** The failover group whose DNS flip asked for the warm-up (kept in the report). */
    group: z.string().min(1).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();

export interface WarmEvent {
  trigger: "schedule" | "manual" | "failover";
  dryRun: boolean;
  targets?: string[];
  verify?: boolean;
  note?: string;
  group?: string;
}

/** Validate a warm event; throws a ValidationError naming the field. */
export function parseWarmEvent(raw: unknown): WarmEvent {
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, "warm scheduled event");
    return { trigger: "schedule", dryRun: false };
  }
  const trigger = raw && typeof raw === "object" ? (raw as { trigger?: unknown }).trigger : undefined;
  if (trigger === "failover") return parseOrThrow(FailoverWarmEventSchema, raw, "warm failover event");
  return parseOrThrow(ManualWarmEventSchema, raw, "warm manual event");
}
