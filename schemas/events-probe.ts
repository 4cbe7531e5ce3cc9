// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { looksScheduled, scheduledSchemaFor } from "./events-common.ts";
import { parseOrThrow } from "./validate.ts";

/**
 * Events of the `probe` function (the failover trigger kit's probe of the primary, in the DR region).
 * - Schedule (every `trigger.periodSeconds`): `{"trigger":"schedule"}` or a classic "Scheduled Event": probe every
 *   group with a trigger and publish the results.
 * - Manual: `{"trigger":"manual","dryRun":true,"group":"app-db"}`. `group` limits the run to one group; `dryRun`
 *   probes and reports without publishing a datapoint (a manual run that publishes counts towards the alarm).
 */

export const ManualProbeEventSchema = z
  .object({
    trigger: z.literal("manual"),
    dryRun: z.boolean().default(false),
    group: z.string().min(1).optional(),
    /** Free text kept in the log: who asked and why. */
    note: z.string().max(500).optional(),
  })
  .strict();

export interface ProbeEvent {
  trigger: "schedule" | "manual";
  dryRun: boolean;
  group?: string;
  note?: string;
}

/** Parse a raw invocation event; throws a ValidationError naming the bad field. */
export function parseProbeEvent(raw: unknown): ProbeEvent {
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, "probe scheduled event");
    return { trigger: "schedule", dryRun: false };
  }
  const m = parseOrThrow(ManualProbeEventSchema, raw, "probe manual event");
  return { ...m, trigger: "manual" };
}
