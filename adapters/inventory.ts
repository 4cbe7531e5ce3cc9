import type { BackupPolicy } from "../schemas/config.ts";
import type { Resource, Snapshot } from "../core/types.ts";
import { listClusterSnapshots, listDbClusters, listDbInstances, listDbSnapshots } from "./rds.ts";
import { listAmiSnapshotIds, listEbsSnapshots, listVolumes } from "./ec2.ts";

/**
 * Everything one region holds for the backup jobs, fetched with the fewest calls:
 * one paginated describe per resource type and per snapshot type, tags included.
 */

/** Which services the configured policies can select, so no call is made for a kind nobody uses. */
export interface KindsInUse {
  rds: boolean;
  aurora: boolean;
  ebs: boolean;
}

export function kindsInUse(policies: BackupPolicy[]): KindsInUse {
  const explicit = new Set(policies.flatMap((p) => p.selection.ids.map((i) => i.kind)));
  const byTag = policies.some((p) => p.selection.tag);
  return {
    rds: byTag || explicit.has("rds-instance"),
    aurora: byTag || explicit.has("aurora-cluster"),
    ebs: byTag || explicit.has("ebs-volume"),
  };
}

/** Resources that could be selected by the policies (RDS has no server-side tag filter; EBS does). */
export async function listCandidateResources(region: string, policies: BackupPolicy[]): Promise<Resource[]> {
  const kinds = kindsInUse(policies);
  const tagKeys = [...new Set(policies.flatMap((p) => (p.selection.tag ? [p.selection.tag.key] : [])))];
  const volumeIds = [...new Set(policies.flatMap((p) => p.selection.ids.filter((i) => i.kind === "ebs-volume").map((i) => i.id)))];
  const [instances, clusters, ...volumeLists] = await Promise.all([
    kinds.rds ? listDbInstances(region) : Promise.resolve([]),
    kinds.aurora ? listDbClusters(region) : Promise.resolve([]),
    ...(kinds.ebs ? tagKeys.map((key) => listVolumes(region, { tag: { key } })) : []),
    ...(kinds.ebs && volumeIds.length ? [listVolumes(region, { ids: volumeIds })] : []),
  ]);
  const volumes = new Map<string, Resource>();
  for (const list of volumeLists) for (const v of list) volumes.set(v.id, v);
  return [...instances, ...clusters, ...volumes.values()];
}

/**
 * Manual snapshots in a region: all RDS/Aurora manual snapshots (RDS cannot filter by tag server-side)
 * and our EBS snapshots, with AMI usage marked.
 */
export async function listRegionSnapshots(region: string, managedBy: string, kinds: KindsInUse): Promise<Snapshot[]> {
  const [db, cluster, ebs] = await Promise.all([
    kinds.rds ? listDbSnapshots(region) : Promise.resolve([]),
    kinds.aurora ? listClusterSnapshots(region) : Promise.resolve([]),
    kinds.ebs ? listAmiSnapshotIds(region).then((ami) => listEbsSnapshots(region, managedBy, ami)) : Promise.resolve([]),
  ]);
  return [...db, ...cluster, ...ebs];
}
