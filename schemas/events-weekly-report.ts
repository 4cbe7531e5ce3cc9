// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { parseOrThrow } from "./validate.ts";
import { looksScheduled, scheduledSchemaFor } from "./events-common.ts";

/**
 * Events of the `weekly-report` function.
 * - Schedule (`schedules.weeklyReport`, Monday morning): `{"trigger":"schedule"}` or a classic "Scheduled
 *   Event"; reports the last complete ISO week.
 * - Manual: `{"trigger":"manual","week":"2026-W47","dryRun":true}`. `week` is the ISO week to report (default:
 *   the last complete one); `dryRun` renders the report and writes nothing, posts nothing (the report's key and
 *   size, and the message, are in the response).
 */

const IsoWeek = z
  .string()
  .regex(/^\d{4}-W\d{2}$/, "expected an ISO week as yyyy-Www, e.g. 2026-W47")
  .refine((s) => {
    const week = Number(s.slice(6));
    return week >= 1 && week <= isoWeeksIn(Number(s.slice(0, 4)));
  }, "not a week of that year (weeks run 01 to 52, or 53 in long years)");

/** 53 when the year starts on a Thursday, or on a Wednesday in a leap year (ISO 8601); else 52. */
function isoWeeksIn(year: number): number {
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const leap = new Date(Date.UTC(year, 1, 29)).getUTCDate() === 29;
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
}

export const ManualWeeklyReportEventSchema = z
  .object({
    trigger: z.literal("manual"),
    week: IsoWeek.optional(),
    dryRun: z.boolean().default(false),
    /** Free text kept in the run report: who asked and why. */
    note: z.string().max(500).optional(),
  })
  .strict();

export interface WeeklyReportEvent {
  trigger: "schedule" | "manual";
  /** ISO week to report; absent: the last complete week. */
  week?: string;
  dryRun: boolean;
  note?: string;
}

/** Parse a raw invocation event; throws a ValidationError naming the bad field. */
export function parseWeeklyReportEvent(raw: unknown): WeeklyReportEvent {
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, "weekly-report scheduled event");
    return { trigger: "schedule", dryRun: false };
  }
  const m = parseOrThrow(ManualWeeklyReportEventSchema, raw, "weekly-report manual event");
  return { ...m, trigger: "manual" };
}
