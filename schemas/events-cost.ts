// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { parseOrThrow } from "./validate.ts";
import { looksScheduled, scheduledSchemaFor } from "./events-common.ts";

/**
 * Events of the `cost` function.
 * - Schedule (daily, morning, in the configured timezone): `{"trigger":"schedule"}` or a classic
 *   "Scheduled Event"; reports the last complete UTC day.
 * - Manual digest: `{"trigger":"manual","date":"2025-03-09","dryRun":true}`. `date` is the UTC day to
 *   report (default: yesterday); `dryRun` prints the messages in the logs and the report instead of
 *   posting them and records no alert state.
 */

const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as yyyy-mm-dd")
  .refine(
    (s) => {
      // Date.parse accepts 2025-02-30 and rolls it over; a round trip catches it.
      const t = Date.parse(`${s}T00:00:00Z`);
      return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
    },
    { message: "not a calendar date" },
  );

export const ManualCostEventSchema = z
  .object({
    trigger: z.literal("manual"),
    date: IsoDate.optional(),
    dryRun: z.boolean().default(false),
    /** Free text kept in the run report: who asked and why. */
    note: z.string().max(500).optional(),
  })
  .strict();

export interface CostEvent {
  trigger: "schedule" | "manual";
  /** UTC day to report; absent: the last complete day. */
  date?: string;
  dryRun: boolean;
  note?: string;
}

/** Parse a raw invocation event; throws a ValidationError naming the bad field. */
export function parseCostEvent(raw: unknown): CostEvent {
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, "cost scheduled event");
    return { trigger: "schedule", dryRun: false };
  }
  const m = parseOrThrow(ManualCostEventSchema, raw, "cost manual event");
  return { ...m, trigger: "manual" };
}
