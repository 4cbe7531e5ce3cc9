/**
 * Whether a resource that refuses a snapshot now will accept one later today by itself.
 *
 * A state that passes (a backup, a modification, a reboot) is worth retrying within the day: the backup run
 * reports it as a retryable failure, so the invocation fails and is retried, and a later run the same day takes
 * it. A state that stays until someone acts (`stopped`, `storage-full`, a lost KMS key) is reported, never
 * failed: it would fail every night and teach people to ignore the alarm. A state not listed here is treated as
 * passing, so a status AWS adds is retried and seen, not skipped quietly until the watchdog fires.
 *
 * The states of each kind, with their sources, are data in core/resource-types.ts.
 */
import { RESOURCE_TYPES, byKind } from "./resource-types.ts";
import type { ResourceKind } from "./resource-kinds.ts";

/** States that stay until a person (or a week-long RDS auto-start) changes them (core/resource-types.ts lists them). */
export const STAYING_STATUS: Record<ResourceKind, readonly string[]> = byKind((t) => t.states.staying);

/** States that pass by themselves, listed so the report can say so (any other unlisted state is treated alike). */
export const PASSING_STATUS: Record<ResourceKind, readonly string[]> = byKind((t) => t.states.passing);

export type StatusClass = "snapshottable" | "passing" | "staying";

export interface StatusVerdict {
  class: StatusClass;
  reason: string;
}

/**
 * What a resource's status means for tonight's backup.
 *
 * @example
 * classifyStatus("rds-instance", "app-db", "backing-up")
 * // → { class: "passing", reason: 'rds-instance app-db is "backing-up", a state that passes: not snapshotted yet; the retry or a later run today takes it' }
 * classifyStatus("rds-instance", "app-db", "stopped").class // → "staying"
 */
export function classifyStatus(kind: ResourceKind, id: string, status: string): StatusVerdict {
  const what = `${kind} ${id} is "${status}"`;
  const { states } = RESOURCE_TYPES[kind];
  if (states.snapshottable.includes(status)) return { class: "snapshottable", reason: `${what}: a snapshot can be taken` };
  if (states.staying.includes(status)) return { class: "staying", reason: `${what}, a state that stays until someone acts: reported, not retried` };
  const known = states.passing.includes(status);
  return {
    class: "passing",
    reason: `${what}, ${known ? "a state that passes" : "a state not known to stay"}: not snapshotted yet; the retry or a later run today takes it`,
  };
}
