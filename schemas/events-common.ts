// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Envelopes every function accepts from its schedule.
 * EventBridge Scheduler delivers the schedule's configured input (`{"trigger":"schedule"}` in `stacks/`);
 * the classic EventBridge rule delivers a "Scheduled Event". Both mean: a scheduled run.
 */
export const SchedulerInputSchema = z.object({ trigger: z.literal("schedule") }).strict();
export const ClassicScheduledEventSchema = z
  .object({
    "detail-type": z.literal("Scheduled Event"),
    source: z.enum(["aws.events", "aws.scheduler"]),
    time: z.string().optional(),
  })
  .loose();

/** The schema a schedule delivery must match: the branch is chosen by shape so errors name the real field. */
export function scheduledSchemaFor(event: unknown): z.ZodType {
  return event && typeof event === "object" && "trigger" in event ? SchedulerInputSchema : ClassicScheduledEventSchema;
}

export const ResourceRefSchema = z
  .object({ kind: z.enum(["rds-instance", "aurora-cluster", "ebs-volume"]), id: z.string().min(1) })
  .strict();

/** True when the raw event looks like a schedule delivery (so its errors are reported against that schema). */
export function looksScheduled(event: unknown): boolean {
  if (!event || typeof event !== "object") return false;
  const e = event as Record<string, unknown>;
  return e.trigger === "schedule" || e["detail-type"] === "Scheduled Event";
}
