// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { FLEET_FUNCTIONS } from "./config-fleet.ts";
import { parseOrThrow } from "./validate.ts";

/**
 * Events of the fleet fan-out (stacks/fleet-fanout-definition.ts): the one a Distributed Map child execution sends a
 * job function for one account × region, and the one the summary function gets with every item's result.
 *
 * The target carries no external id: the execution history and the execution log keep every state's input for 90 days
 * and 400 days, readable by anyone with states:GetExecutionHistory, and the external id is what keeps the central
 * role from being used as a confused deputy for another tenant. The function finds it in its own configuration by the
 * account id (schemas/config-fleet.ts, `fleet.accounts[].externalId`). The role ARN is no secret: it is in the
 * member's trust and in CloudTrail.
 */

const AccountIdSchema = z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id");
const RegionSchema = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "expected an AWS region such as eu-west-1");

/** An IAM role ARN in any partition: `arn:<partition>:iam::<account>:role/<path/name>`. */
const RoleArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)");

export const FleetTargetSchema = z
  .object({
    account: AccountIdSchema,
    /** The account's name from `fleet.accounts[].name`: reports name accounts by it. */
    accountName: z.string().min(1).max(50),
    region: RegionSchema,
    roleArn: RoleArnSchema,
  })
  .strict()
  .refine((t) => t.roleArn.split(":")[4] === t.account, { path: ["roleArn"], message: "must be a role of the target account" });

/** What a child execution of the fan-out sends the job function: act on one member account in one region. */
export const FleetItemEventSchema = z.object({ source: z.literal("fleet"), target: FleetTargetSchema }).strict();
export type FleetItemEvent = z.output<typeof FleetItemEventSchema>;
export type FleetTargetEvent = FleetItemEvent["target"];

/** Counts an item's run reports, each optional: backup creates, copy copies, prune deletes, the watchdog finds stale. */
export const FleetCountsSchema = z
  .object({
    created: z.number().int().nonnegative().optional(),
    copied: z.number().int().nonnegative().optional(),
    pruned: z.number().int().nonnegative().optional(),
    stale: z.number().int().nonnegative().optional(),
  })
  .strict();
export type FleetCounts = z.output<typeof FleetCountsSchema>;

const ItemBase = { account: AccountIdSchema, accountName: z.string().min(1).max(50), region: RegionSchema };

/** One item's outcome, as the Map's child execution outputs it: the job's counts, or the error Step Functions caught. */
export const FleetItemResultSchema = z.discriminatedUnion("ok", [
  z
    .object({
      ...ItemBase,
      ok: z.literal(true),
      counts: FleetCountsSchema.default({}),
      /** The item's own run report (runbooks/lib/handler.ts reportKey), when it was saved. */
      reportKey: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      ...ItemBase,
      ok: z.literal(false),
      /** Step Functions' error name: the function's error type (AccessDenied, AggregateRunError) or States.* */
      error: z.string(),
      /** Step Functions' cause, cut to a bounded length by the Catch (a Lambda error's cause is its JSON error). */
      cause: z.string().optional(),
    })
    .strict(),
]);
export type FleetItemResult = z.output<typeof FleetItemResultSchema>;

/** What the summary step sends the summary function: the job, the execution that fanned out, every item's result. */
export const FleetSummaryEventSchema = z
  .object({
    source: z.literal("fleet-summary"),
    job: z.enum(FLEET_FUNCTIONS),
    /** The execution's ARN (Context object Execution.Id), so the summary links it. */
    execution: z.string().startsWith("arn:", "expected the execution's ARN"),
    /** Every item the fan-out started: one without a result (a child execution that failed outright) is named too. */
    targets: z.array(z.object(ItemBase).strict()),
    results: z.array(FleetItemResultSchema),
  })
  .strict();
export type FleetSummaryEvent = z.output<typeof FleetSummaryEventSchema>;

export function parseFleetItemEvent(input: unknown): FleetItemEvent {
  return parseOrThrow(FleetItemEventSchema, input, "fleet item event");
}

export function parseFleetSummaryEvent(input: unknown): FleetSummaryEvent {
  return parseOrThrow(FleetSummaryEventSchema, input, "fleet summary event");
}
