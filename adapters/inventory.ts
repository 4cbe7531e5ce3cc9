import type { BackupPolicy } from "../schemas/config.ts";
import { RESOURCE_KINDS, type ResourceKind } from "../core/resource-kinds.ts";
import type { Resource, Snapshot } from "../core/types.ts";
import { SNAPSHOT_ADAPTERS, type ListSnapshotsOptions, type SnapshotAdapter } from "./snapshots.ts";

/**
 * Everything one region holds for the backup jobs, fetched with the fewest calls:
 * one paginated describe per resource type and per snapshot type, tags included (adapters/snapshots.ts).
 */

/** The kinds the configured policies can select, in RESOURCE_KINDS order, so no call is made for a kind nobody uses. */
export function kindsInUse(policies: BackupPolicy[]): ResourceKind[] {
  const explicit = new Set(policies.flatMap((p) => p.selection.ids.map((i) => i.kind)));
  const byTag = policies.some((p) => p.selection.tag);
  return RESOURCE_KINDS.filter((kind) => byTag || explicit.has(kind));
}

/** Resources that could be selected by the policies (RDS has no server-side tag filter; EBS does). */
export async function listCandidateResources(
  region: string,
  policies: BackupPolicy[],
  adapters: Record<ResourceKind, SnapshotAdapter> = SNAPSHOT_ADAPTERS,
): Promise<Resource[]> {
  const tagKeys = [...new Set(policies.flatMap((p) => (p.selection.tag ? [p.selection.tag.key] : [])))];
  const idsOf = (kind: ResourceKind) => [...new Set(policies.flatMap((p) => p.selection.ids.filter((i) => i.kind === kind).map((i) => i.id)))];
  const lists = await Promise.all(kindsInUse(policies).map((kind) => adapters[kind].listResources(region, { tagKeys, ids: idsOf(kind) })));
  return lists.flat();
}

/**
 * Manual snapshots in a region: all RDS/Aurora manual snapshots (RDS cannot filter by tag server-side)
 * and our EBS snapshots; with `amis: true` AMI usage is marked (one more listing per region, prune's alone).
 */
export async function listRegionSnapshots(
  region: string,
  managedBy: string,
  kinds: readonly ResourceKind[],
  options: ListSnapshotsOptions,
  adapters: Record<ResourceKind, SnapshotAdapter> = SNAPSHOT_ADAPTERS,
): Promise<Snapshot[]> {
  const lists = await Promise.all(kinds.map((kind) => adapters[kind].listSnapshots(region, managedBy, options)));
  return lists.flat();
}

/**
 * The inventory through `adapters` (adapters/snapshots.ts snapshotAdapters: a fleet member's, with its role's
 * credentials), as the backup runbooks' InventoryPort takes it.
 */
export function inventoryOf(adapters: Record<ResourceKind, SnapshotAdapter>) {
  return {
    listCandidateResources: (region: string, policies: BackupPolicy[]) => listCandidateResources(region, policies, adapters),
    listRegionSnapshots: (region: string, managedBy: string, kinds: readonly ResourceKind[], options: ListSnapshotsOptions) =>
      listRegionSnapshots(region, managedBy, kinds, options, adapters),
  };
}
