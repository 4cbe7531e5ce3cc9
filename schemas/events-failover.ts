// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { ValidationError, parseOrThrow } from "./validate.ts";
import { MANUAL_FIELDS, refuse } from "./events-common.ts";

/**
 * Events the failover runbook accepts.
 *
 * 1. "CloudWatch Alarm State Change" as EventBridge delivers it
 *    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 *    The envelope is exactly EventBridge's; the detail and states keep the fields AWS adds (configuration,
 *    alarmTags, ...), but a field of our manual events there (dryRun, force, ...) is refused: an alarm runs
 *    the group as configured and cannot honour it.
 * 2. Manual invokes from the console: plan, execute, status, failback-plan, reset.
 * 3. `advance`: the state machine resuming a run after a wait.
 * Any of them may arrive wrapped as `{ source: "sfn", event }` by the state machine.
 *
 * Errors name the field: `Invalid failover event: detail.state.value: ...` for an alarm event,
 * `Invalid failover manual event: group: ...` for a manual one.
 */

/** CloudWatch writes `2019-10-02T17:04:40.989+0000`; Date.parse wants `+00:00`. */
export function parseAlarmTimestamp(ts: string): Date {
  const normalized = ts.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  return new Date(normalized);
}

const AlarmTimestamp = z.string().refine((s) => !Number.isNaN(parseAlarmTimestamp(s).getTime()), "expected a timestamp");

const NOT_ON_ALARM =
  'not accepted on a CloudWatch alarm event: an alarm runs the group as configured (execution); invoke {"mode":"plan","group":...} to see what it would do';

const AlarmStateSchema = z.looseObject({
  value: z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]),
  reason: z.string().default(""),
  reasonData: z.string().optional(),
  timestamp: AlarmTimestamp,
});

/** EventBridge's envelope (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html). */
export const AlarmStateChangeEventSchema = z
  .object({
    version: z.string().optional(),
    id: z.string().min(1),
    "detail-type": z.literal("CloudWatch Alarm State Change"),
    source: z.literal("aws.cloudwatch"),
    account: z.string().optional(),
    time: z.string(),
    region: z.string().min(1),
    resources: z.array(z.string()).default([]),
    "replay-name": z.string().optional(),
    detail: z.looseObject({
      alarmName: z.string().min(1),
      state: AlarmStateSchema,
      previousState: AlarmStateSchema.optional(),
      ...refuse(MANUAL_FIELDS, NOT_ON_ALARM),
    }),
    ...refuse(MANUAL_FIELDS, NOT_ON_ALARM),
  })
  .strict();

const Group = z
  .string()
  .min(1, "name the failover group")
  // The same rule as a group's name in the configuration (schemas/config-failover.ts).
  .regex(/^[a-z][a-z0-9-]{0,40}$/, "expected a failover group name (lowercase letters, digits and hyphens, starting with a letter)");
const Reason = z.string().trim().min(3, "say why (at least 3 characters)");
const neverChanges = (mode: string) => refuse(["dryRun"], `not accepted on mode "${mode}": it never changes anything`);

export const PlanEventSchema = z.object({ mode: z.literal("plan"), group: Group, ...neverChanges("plan") }).strict();

export const ExecuteEventSchema = z
  .object({
    mode: z.literal("execute"),
    group: Group,
    reason: Reason,
    /** Promote even though the replica lag exceeds the RPO (data loss accepted by a human). */
    force: z.boolean().default(false),
    forceReason: z.string().trim().optional(),
    /** Accepted only as `false`: an execute always acts. */
    dryRun: z.literal(false, { error: 'an execute always acts; send {"mode":"plan"} to see what it would do' }).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.force && (!e.forceReason || e.forceReason.length < 3)) {
      ctx.addIssue({ code: "custom", path: ["forceReason"], message: "force needs a forceReason (who accepts the data loss, and why)" });
    }
  });

export const StatusEventSchema = z.object({ mode: z.literal("status"), group: Group.optional(), ...neverChanges("status") }).strict();
export const FailbackPlanEventSchema = z.object({ mode: z.literal("failback-plan"), group: Group, ...neverChanges("failback-plan") }).strict();
export const ResetEventSchema = z
  .object({
    mode: z.literal("reset"),
    group: Group,
    reason: Reason,
    /** Reset while a run is still in progress (abandons it). */
    force: z.boolean().default(false),
    ...refuse(["dryRun"], 'not accepted on mode "reset": a reset always acts; send {"mode":"status"} to see the current run'),
  })
  .strict();
export const AdvanceEventSchema = z
  .object({
    mode: z.literal("advance"),
    group: Group,
    runId: z.string().min(1),
    ...refuse(["dryRun"], 'not accepted on mode "advance": it resumes a run that acts'),
  })
  .strict();

export const ManualEventSchema = z.discriminatedUnion("mode", [
  PlanEventSchema,
  ExecuteEventSchema,
  StatusEventSchema,
  FailbackPlanEventSchema,
  ResetEventSchema,
  AdvanceEventSchema,
]);

const Inner = z.union([AlarmStateChangeEventSchema, ManualEventSchema]);

/** The Step Functions execution ARN the Advance state passes (`$states.context.Execution.Id`). */
const ExecutionArn = z.string().regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/, "expected a Step Functions execution ARN");

export const FailoverEventSchema = z.union([z.object({ source: z.literal("sfn"), event: Inner, execution: ExecutionArn.optional() }).strict(), Inner]);

export type AlarmStateChangeEvent = z.output<typeof AlarmStateChangeEventSchema>;
export type ManualEvent = z.output<typeof ManualEventSchema>;
export type ExecuteEvent = z.output<typeof ExecuteEventSchema>;
export type FailoverInnerEvent = z.output<typeof Inner>;

/** The parsed event plus whether it came through the state machine. */
export interface ParsedFailoverEvent {
  event: FailoverInnerEvent;
  viaStateMachine: boolean;
  /** The Step Functions execution that sent it (absent for a direct invocation), so messages can link it. */
  execution?: string;
}

const MODES = ManualEventSchema.options.map((o) => `"${o.shape.mode.value}"`).join("|");

/** The state machine's wrapper; its `event` is parsed on its own so errors name the field (`event.runId`). */
const SfnWrapperSchema = z
  .object({
    source: z.literal("sfn"),
    event: z.record(z.string(), z.unknown(), { error: "expected the wrapped event (an object)" }),
    execution: ExecutionArn.optional(),
    ...refuse(MANUAL_FIELDS, "not accepted on the state machine's wrapper: put it in its event"),
  })
  .strict();

/**
 * Parse an incoming event. Manual events are told apart by `mode`, alarm events by `detail-type`, so a
 * malformed event gets the error of the shape it was meant to be rather than a union's noise.
 */
export function parseFailoverEvent(input: unknown): ParsedFailoverEvent {
  if (isObject(input) && input.source === "sfn") {
    const wrapper = parseOrThrow(SfnWrapperSchema, input, "failover event");
    return { event: parseInner(wrapper.event, ["event"]), viaStateMachine: true, ...(wrapper.execution ? { execution: wrapper.execution } : {}) };
  }
  return { event: parseInner(input, []), viaStateMachine: false };
}

function parseInner(raw: unknown, at: readonly string[]): FailoverInnerEvent {
  const where = (issues: { path: string; message: string }[]) => issues.map((i) => ({ ...i, path: [...at, ...(i.path ? [i.path] : [])].join(".") }));
  const parse = <S extends z.ZodType>(schema: S, what: string): z.output<S> => {
    try {
      return parseOrThrow(schema, raw, what);
    } catch (err) {
      if (err instanceof ValidationError && at.length) throw new ValidationError(what, where(err.issues));
      throw err;
    }
  };
  if (!isObject(raw)) {
    throw new ValidationError(
      "failover event",
      where([{ path: "", message: "expected an object: a manual event with a mode, or a CloudWatch alarm state-change event" }]),
    );
  }
  if ("mode" in raw) return parse(ManualEventSchema, "failover manual event");
  if ("detail-type" in raw || "detail" in raw || "source" in raw) return parse(AlarmStateChangeEventSchema, "failover event");
  throw new ValidationError("failover event", where([{ path: "mode", message: `expected one of ${MODES}, or a CloudWatch alarm state-change event` }]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
