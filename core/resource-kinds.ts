/**
 * The kinds of resource ops-autopilot backs up: the one list every per-kind table is keyed by.
 *
 * A leaf module (no imports) so schemas/ can build their enums from it without depending on the rest of core/.
 * Adding a kind here fails to compile until every `Record<ResourceKind, …>` table has it: core/resource-types.ts
 * (what the kind is) and adapters/snapshots.ts (how its snapshots are listed, made, copied and deleted).
 */
export const RESOURCE_KINDS = ["rds-instance", "aurora-cluster", "ebs-volume"] as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[number];
