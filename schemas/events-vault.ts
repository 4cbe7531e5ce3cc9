// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { parseOrThrow } from "./validate.ts";
import { looksScheduled, scheduledSchemaFor } from "./events-common.ts";

/**
 * Events of the vault functions (`vault-copy`, `vault-prune`), which run in the backup account (stacks/vault-definition.ts).
 * - Schedule: `{"trigger":"schedule"}` or a classic "Scheduled Event": acts for real.
 * - Manual: `{"trigger":"manual","dryRun":true}`: plans and reports, changes nothing. A manual vault-prune is a dry-run
 *   unless it says `"dryRun": false`, as the workload prune is: a pasted sample must not delete.
 */

const ManualBase = {
  trigger: z.literal("manual"),
  /** Free text kept in the run report: who asked and why. */
  note: z.string().max(500).optional(),
};

export const ManualVaultCopyEventSchema = z.object({ ...ManualBase, dryRun: z.boolean().default(false) }).strict();
export const ManualVaultPruneEventSchema = z.object({ ...ManualBase, dryRun: z.boolean().default(true) }).strict();

export interface VaultEvent {
  trigger: "schedule" | "manual";
  dryRun: boolean;
  note?: string;
}

function parse(raw: unknown, manual: typeof ManualVaultCopyEventSchema, what: string): VaultEvent {
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, `${what} scheduled event`);
    return { trigger: "schedule", dryRun: false };
  }
  const m = parseOrThrow(manual, raw, `${what} manual event`);
  return { trigger: "manual", dryRun: m.dryRun, ...(m.note !== undefined ? { note: m.note } : {}) };
}

/** Parse a raw invocation event of vault-copy; throws a ValidationError naming the bad field. */
export const parseVaultCopyEvent = (raw: unknown): VaultEvent => parse(raw, ManualVaultCopyEventSchema, "vault-copy");
/** Parse a raw invocation event of vault-prune; throws a ValidationError naming the bad field. */
export const parseVaultPruneEvent = (raw: unknown): VaultEvent => parse(raw, ManualVaultPruneEventSchema, "vault-prune");
