// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { RESOURCE_KINDS } from "../core/resource-kinds.ts";

/**
 * The fields of our manual events. On a shape that cannot honour one of them (a schedule delivery, an
 * alarm event, the watchdog), the field is refused by name, never ignored: a `"dryRun": true` that is
 * silently dropped turns a dry-run into a real run.
 */
export const MANUAL_FIELDS = [
  "mode",
  "dryRun",
  "resource",
  "policy",
  "note",
  "date",
  "targets",
  "verify",
  "group",
  "reason",
  "force",
  "forceReason",
  "runId",
] as const;

/**
 * Shape entries that refuse each of `fields` when present, with `message` (the path names the field).
 *
 * @example
 *   z.object({ trigger: z.literal("manual"), ...refuse(["dryRun"], "not accepted by the watchdog") }).strict()
 *   // {"trigger":"manual","dryRun":true} → "dryRun: not accepted by the watchdog"
 */
export function refuse<F extends string>(fields: readonly F[], message: string | ((field: F) => string)): Record<F, z.ZodOptional<z.ZodNever>> {
  return Object.fromEntries(fields.map((f) => [f, z.never({ error: typeof message === "string" ? message : message(f) }).optional()])) as Record<
    F,
    z.ZodOptional<z.ZodNever>
  >;
}

const NOT_ON_SCHEDULE =
  'not accepted on a scheduled event: a schedule always runs for real on everything; invoke the function with {"trigger":"manual", ...} to use it';

/**
 * Envelopes every function accepts from its schedule.
 * EventBridge Scheduler delivers the schedule's configured input (`{"trigger":"schedule"}` in `stacks/`);
 * the classic EventBridge rule delivers a "Scheduled Event". Both mean: a scheduled run, for real, on
 * everything, so neither carries anything else.
 */
export const SchedulerInputSchema = z.object({ trigger: z.literal("schedule"), ...refuse(MANUAL_FIELDS, NOT_ON_SCHEDULE) }).strict();

/**
 * A classic rule's "Scheduled Event": exactly EventBridge's envelope (version, id, detail-type, source, account,
 * time, region, resources, detail, and replay-name on a replayed event;
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html) with an empty detail.
 */
export const ClassicScheduledEventSchema = z
  .object({
    version: z.string().optional(),
    id: z.string().optional(),
    "detail-type": z.literal("Scheduled Event"),
    source: z.enum(["aws.events", "aws.scheduler"]),
    account: z.string().optional(),
    time: z.string().optional(),
    region: z.string().optional(),
    resources: z.array(z.string()).optional(),
    "replay-name": z.string().optional(),
    detail: z.object(refuse(MANUAL_FIELDS, NOT_ON_SCHEDULE)).strict().optional(),
    ...refuse(MANUAL_FIELDS, NOT_ON_SCHEDULE),
  })
  .strict();

/** The schema a schedule delivery must match: the branch is chosen by shape so errors name the real field. */
export function scheduledSchemaFor(event: unknown): z.ZodType {
  return event && typeof event === "object" && "trigger" in event ? SchedulerInputSchema : ClassicScheduledEventSchema;
}

export const ResourceRefSchema = z.object({ kind: z.enum(RESOURCE_KINDS), id: z.string().min(1) }).strict();

/** True when the raw event looks like a schedule delivery (so its errors are reported against that schema). */
export function looksScheduled(event: unknown): boolean {
  if (!event || typeof event !== "object") return false;
  const e = event as Record<string, unknown>;
  return e.trigger === "schedule" || e["detail-type"] === "Scheduled Event";
}
