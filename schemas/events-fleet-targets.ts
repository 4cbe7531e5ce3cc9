// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { FLEET_FUNCTIONS } from "./config-fleet.ts";
import { parseOrThrow } from "./validate.ts";

/**
 * The event of the fleet's target discovery (functions/fleet-targets.ts), sent by the Targets state of a fleet job's
 * state machine when the fleet names an Organizations OU (stacks/fleet-fanout-definition.ts): which job the items are
 * for (each job has its own member role), the most items the definition takes, and the state machine's own ARN, whose
 * account is the central (deploying) account and whose partition the member role ARNs take.
 */
export const FleetTargetsEventSchema = z
  .object({
    source: z.literal("fleet-targets"),
    job: z.enum(FLEET_FUNCTIONS),
    maxItems: z.number().int().positive(),
    stateMachine: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$/,
        "expected a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)",
      ),
  })
  .strict();
export type FleetTargetsEvent = z.output<typeof FleetTargetsEventSchema>;

export const parseFleetTargetsEvent = (raw: unknown): FleetTargetsEvent => parseOrThrow(FleetTargetsEventSchema, raw, "fleet-targets event");
