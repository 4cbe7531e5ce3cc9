// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { RESOURCE_KINDS } from "../core/resource-kinds.ts";
import { parseOrThrow } from "./validate.ts";

/**
 * Events the restore-test runbook accepts (samples: events/restore-test-*.json).
 *
 * 1. A scheduled start, the input of one EventBridge Scheduler schedule: `{ trigger: "schedule", policies }`, the
 *    policies whose `restoreTest.schedule` is that schedule's expression (all policies with a restoreTest block
 *    when absent). The resources due among them are tested.
 * 2. A manual start naming resources: `{ mode: "start", resources: [{ kind, id }] }`, tested now whatever their
 *    history (the per-region cap and runs in flight still hold).
 * 3. `advance`: the state machine resuming the runs of an execution after a wait, and starting its queued resources
 *    as slots free up.
 * Any of them may arrive wrapped as `{ source: "sfn", event }` by the state machine.
 */

const PolicyName = z.string().min(1);

export const ScheduledStartSchema = z
  .object({
    trigger: z.literal("schedule"),
    policies: z.array(PolicyName).min(1).optional(),
  })
  .strict();

export const ManualStartSchema = z
  .object({
    mode: z.literal("start"),
    resources: z.array(z.object({ kind: z.enum(RESOURCE_KINDS), id: z.string().min(1) }).strict()).min(1, "name at least one resource to restore-test"),
  })
  .strict();

/** One run of an execution: its id names its checkpoint (`restore-test/runs/<runId>.json`). */
export const RestoreTestRunRefSchema = z
  .object({
    runId: z.string().min(1),
    policy: PolicyName,
    kind: z.enum(RESOURCE_KINDS),
    resourceId: z.string().min(1),
    region: z.string().min(1),
  })
  .strict();

/** A resource due but waiting for a free slot (`maxConcurrentRestores`): started by a later advance of the execution. */
export const RestoreTestQueuedSchema = RestoreTestRunRefSchema.omit({ runId: true });

export const AdvanceEventSchema = z
  .object({
    mode: z.literal("advance"),
    runs: z.array(RestoreTestRunRefSchema).default([]),
    /** Due resources waiting for a slot in their region, in the order planned (oldest last test first). */
    queue: z.array(RestoreTestQueuedSchema).default([]),
    /** Runs of this execution that already failed (the execution fails once the others end). */
    failed: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((e) => e.runs.length + e.queue.length > 0, {
    path: ["runs"],
    message: "an advance resumes runs or starts queued ones: both runs and queue are empty",
  });

const Inner = z.union([ScheduledStartSchema, ManualStartSchema, AdvanceEventSchema]);

export type RestoreTestInnerEvent = z.output<typeof Inner>;
export type RestoreTestRunRef = z.output<typeof RestoreTestRunRefSchema>;
export type RestoreTestQueued = z.output<typeof RestoreTestQueuedSchema>;
export type RestoreTestAdvanceEvent = z.output<typeof AdvanceEventSchema>;

export interface ParsedRestoreTestEvent {
  event: RestoreTestInnerEvent;
  viaStateMachine: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseInner(raw: unknown, what: string): RestoreTestInnerEvent {
  if (isObject(raw) && "trigger" in raw) return parseOrThrow(ScheduledStartSchema, raw, `${what} (scheduled start)`);
  if (isObject(raw) && raw.mode === "advance") return parseOrThrow(AdvanceEventSchema, raw, `${what} (advance)`);
  return parseOrThrow(ManualStartSchema, raw, `${what} (manual start)`);
}

/** Errors name the field: `Invalid restore-test event (manual start): resources: ...`. */
export function parseRestoreTestEvent(input: unknown): ParsedRestoreTestEvent {
  if (isObject(input) && input.source === "sfn") {
    // `execution`: the Step Functions execution ARN every durable runbook's Advance passes (stacks/durable-runbook-definition.ts).
    const wrapper = parseOrThrow(
      z.object({ source: z.literal("sfn"), event: z.unknown(), execution: z.string().min(1).optional() }).strict(),
      input,
      "restore-test event",
    );
    return { event: parseInner(wrapper.event, "restore-test event.event"), viaStateMachine: true };
  }
  return { event: parseInner(input, "restore-test event"), viaStateMachine: false };
}
