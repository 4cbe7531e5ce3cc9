// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { parseOrThrow } from "./validate.ts";

/**
 * Events the failover runbook accepts.
 *
 * 1. "CloudWatch Alarm State Change" as EventBridge delivers it
 *    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 *    Unknown fields (configuration, alarmTags, ...) are kept but not needed.
 * 2. Manual invokes from the console: plan, execute, status, failback-plan, reset.
 * 3. `advance`: the state machine resuming a run after a wait.
 * Any of them may arrive wrapped as `{ source: "sfn", event }` by the state machine.
 */

/** CloudWatch writes `2019-10-02T17:04:40.989+0000`; Date.parse wants `+00:00`. */
export function parseAlarmTimestamp(ts: string): Date {
  const normalized = ts.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  return new Date(normalized);
}

const AlarmTimestamp = z.string().refine((s) => !Number.isNaN(parseAlarmTimestamp(s).getTime()), "expected a timestamp");

const AlarmStateSchema = z.looseObject({
  value: z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]),
  reason: z.string().default(""),
  reasonData: z.string().optional(),
  timestamp: AlarmTimestamp,
});

export const AlarmStateChangeEventSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string().min(1),
  "detail-type": z.literal("CloudWatch Alarm State Change"),
  source: z.literal("aws.cloudwatch"),
  account: z.string().optional(),
  time: z.string(),
  region: z.string().min(1),
  resources: z.array(z.string()).default([]),
  detail: z.looseObject({
    alarmName: z.string().min(1),
    state: AlarmStateSchema,
    previousState: AlarmStateSchema.optional(),
  }),
});

const Group = z.string().min(1, "name the failover group");
const Reason = z.string().trim().min(3, "say why (at least 3 characters)");

export const PlanEventSchema = z.object({ mode: z.literal("plan"), group: Group }).strict();

export const ExecuteEventSchema = z
  .object({
    mode: z.literal("execute"),
    group: Group,
    reason: Reason,
    /** Promote even though the replica lag exceeds the RPO (data loss accepted by a human). */
    force: z.boolean().default(false),
    forceReason: z.string().trim().optional(),
    dryRun: z.literal(false).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.force && (!e.forceReason || e.forceReason.length < 3)) {
      ctx.addIssue({ code: "custom", path: ["forceReason"], message: "force needs a forceReason (who accepts the data loss, and why)" });
    }
  });

export const StatusEventSchema = z.object({ mode: z.literal("status"), group: Group.optional() }).strict();
export const FailbackPlanEventSchema = z.object({ mode: z.literal("failback-plan"), group: Group }).strict();
export const ResetEventSchema = z
  .object({
    mode: z.literal("reset"),
    group: Group,
    reason: Reason,
    /** Reset while a run is still in progress (abandons it). */
    force: z.boolean().default(false),
  })
  .strict();
export const AdvanceEventSchema = z.object({ mode: z.literal("advance"), group: Group, runId: z.string().min(1) }).strict();

export const ManualEventSchema = z.discriminatedUnion("mode", [
  PlanEventSchema,
  ExecuteEventSchema,
  StatusEventSchema,
  FailbackPlanEventSchema,
  ResetEventSchema,
  AdvanceEventSchema,
]);

const Inner = z.union([AlarmStateChangeEventSchema, ManualEventSchema]);

export const FailoverEventSchema = z.union([
  z.object({ source: z.literal("sfn"), event: Inner }).strict(),
  Inner,
]);

export type AlarmStateChangeEvent = z.output<typeof AlarmStateChangeEventSchema>;
export type ManualEvent = z.output<typeof ManualEventSchema>;
export type ExecuteEvent = z.output<typeof ExecuteEventSchema>;
export type FailoverInnerEvent = z.output<typeof Inner>;

/** The parsed event plus whether it came through the state machine. */
export interface ParsedFailoverEvent {
  event: FailoverInnerEvent;
  viaStateMachine: boolean;
}

/**
 * Parse an incoming event. Manual events are told apart by `mode`, alarm events by `detail-type`, so a
 * malformed event gets the error of the shape it was meant to be rather than a union's noise.
 */
export function parseFailoverEvent(input: unknown): ParsedFailoverEvent {
  let raw = input;
  let viaStateMachine = false;
  if (isObject(raw) && raw.source === "sfn" && "event" in raw) {
    viaStateMachine = true;
    raw = raw.event;
  }
  if (isObject(raw) && "mode" in raw) {
    return { event: parseOrThrow(ManualEventSchema, raw, "failover manual event"), viaStateMachine };
  }
  if (isObject(raw) && ("detail-type" in raw || "detail" in raw)) {
    return { event: parseOrThrow(AlarmStateChangeEventSchema, raw, "CloudWatch alarm event"), viaStateMachine };
  }
  return { event: parseOrThrow(Inner, raw, "failover event"), viaStateMachine };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
