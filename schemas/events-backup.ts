// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import type { ResourceKind } from "../core/resource-kinds.ts";
import { parseOrThrow } from "./validate.ts";
import { ResourceRefSchema, looksScheduled, refuse, scheduledSchemaFor } from "./events-common.ts";
import { FleetItemEventSchema, type FleetTargetEvent } from "./events-fleet.ts";

/**
 * Events of the backup, copy, prune and watchdog functions.
 *
 * Scheduled runs act for real. Manual invokes from the Lambda console (samples in `events/`) take
 * `{"trigger":"manual", ...}`; a manual prune is a dry-run unless it says `"dryRun": false`.
 *
 * The fleet fan-out (stacks/fleet-fanout-definition.ts) sends each job `{"source":"fleet","target":{...}}`: one member
 * account in one region, acted on for real as a scheduled run is. Whether the account is one of the fleet's is the
 * configuration's to say (runbooks/backup/common.ts fleetTargetOf), which the parser does not read.
 */

const ManualBase = {
  trigger: z.literal("manual"),
  /** Only this resource (all selected resources otherwise). */
  resource: ResourceRefSchema.optional(),
  /** Only resources of this policy. */
  policy: z.string().min(1).optional(),
  /** Free text kept in the run report: who asked and why. */
  note: z.string().max(500).optional(),
};

export const ManualBackupEventSchema = z.object({ ...ManualBase, dryRun: z.boolean().default(false) }).strict();
export const ManualCopyEventSchema = ManualBackupEventSchema;
export const ManualPruneEventSchema = z
  .object({
    ...ManualBase,
    dryRun: z.boolean().default(true),
    /**
     * Delete even while observe mode is on (schemas/config-observe.ts). Without it a manual `"dryRun": false` is
     * refused while observing: a pasted sample must not delete while the team is still watching the plans.
     */
    overrideObserve: z.literal(true).optional(),
  })
  .strict()
  .refine((e) => !e.overrideObserve || e.dryRun === false, {
    path: ["overrideObserve"],
    message: 'only with "dryRun": false: a dry-run deletes nothing, observed or not',
  });
/** The watchdog only reads and alerts: the fields that would narrow or defuse a run are refused by name. */
export const ManualWatchdogEventSchema = z
  .object({
    trigger: z.literal("manual"),
    note: z.string().max(500).optional(),
    ...refuse(["dryRun"], "not accepted by the watchdog: it changes nothing (it only checks backups and alerts), so there is nothing to dry-run"),
    ...refuse(["resource", "policy"], "not accepted by the watchdog: it checks every selected resource"),
  })
  .strict();

/** What a backup-family handler works with after parsing. */
export interface JobEvent {
  trigger: "schedule" | "manual";
  dryRun: boolean;
  resource?: { kind: ResourceKind; id: string };
  policy?: string;
  note?: string;
  /** Prune only: a manual execute that deletes while observe mode is on. */
  overrideObserve?: true;
  /** A fleet item: act in this member account and region, as its member role, instead of the central account's regions. */
  target?: FleetTargetEvent;
}

/** True when the raw event is the fan-out's item (so its errors are reported against that schema). */
function looksFleet(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && (raw as { source?: unknown }).source === "fleet";
}

function parseJob(raw: unknown, manual: z.ZodType<Omit<JobEvent, "trigger" | "dryRun"> & { dryRun?: boolean }>, what: string): JobEvent {
  if (looksFleet(raw)) {
    const item = parseOrThrow(FleetItemEventSchema, raw, `${what} fleet item event`);
    return { trigger: "schedule", dryRun: false, target: item.target };
  }
  if (looksScheduled(raw)) {
    parseOrThrow(scheduledSchemaFor(raw), raw, `${what} scheduled event`);
    return { trigger: "schedule", dryRun: false };
  }
  const m = parseOrThrow(manual, raw, `${what} manual event`);
  return { ...m, trigger: "manual", dryRun: m.dryRun ?? false };
}

export const parseBackupEvent = (raw: unknown): JobEvent => parseJob(raw, ManualBackupEventSchema, "backup");
export const parseCopyEvent = (raw: unknown): JobEvent => parseJob(raw, ManualCopyEventSchema, "copy");
export const parsePruneEvent = (raw: unknown): JobEvent => parseJob(raw, ManualPruneEventSchema, "prune");
export const parseWatchdogEvent = (raw: unknown): JobEvent => parseJob(raw, ManualWatchdogEventSchema, "watchdog");
