import type { ResourceKind } from "../core/resource-kinds.ts";
import type { Resource, Snapshot } from "../core/types.ts";
import { SNAPSHOT_CALLS, type SnapshotOperation, type AdapterCall } from "./calls.ts";
import {
  copyDbSnapshot,
  createClusterSnapshot,
  createDbSnapshot,
  deleteRdsSnapshot,
  listClusterSnapshots,
  listDbClusters,
  listDbInstances,
  listDbSnapshots,
  type CopyRequest,
} from "./rds.ts";
import { copyEbsSnapshot, createEbsSnapshot, deleteEbsSnapshot, listAmiSnapshotIds, listEbsSnapshots, listVolumes } from "./ec2.ts";
import type { TargetCredentials } from "./assume-role.ts";

/**
 * How each kind's resources and snapshots are listed, made, copied and deleted: one entry per kind, so the
 * backup jobs and the inventory never branch on a kind's name. What each kind IS (states, naming, ownership)
 * is core/resource-types.ts; the adapter calls each operation makes are adapters/calls.ts `SNAPSHOT_CALLS`.
 */

/** What the policies select of one kind in a region: the tag keys of tag selections and the ids named explicitly. */
export interface ResourceQuery {
  tagKeys: readonly string[];
  ids: readonly string[];
}

/** What a snapshot listing includes beyond the snapshots. */
export interface ListSnapshotsOptions {
  /** List the AMIs too (EBS: DescribeImages), marking the snapshots an AMI uses. */
  amis: boolean;
}

export interface SnapshotAdapter {
  /** Resources the query could select (services without a server-side tag filter list them all). */
  listResources(region: string, query: ResourceQuery): Promise<Resource[]>;
  /**
   * Manual snapshots of the kind in the region (`managedBy` narrows the listing where the service can filter by tag).
   * `amis: true` also lists the region's AMIs and marks the snapshots they use (`usedByImage`): only prune needs that,
   * in the regions it deletes in; backup and copy pass `amis: false` and their roles hold no ec2:DescribeImages.
   */
  listSnapshots(region: string, managedBy: string, options: ListSnapshotsOptions): Promise<Snapshot[]>;
  /** Starts a snapshot named `name`; resolves to the AWS-assigned id where AWS assigns one. */
  create(resource: Resource, name: string, tags: Record<string, string>): Promise<string | undefined>;
  /** Starts a cross-region copy, sent to the target region; resolves to the AWS-assigned id where AWS assigns one. */
  copy(req: CopyRequest): Promise<string | undefined>;
  delete(snapshot: Snapshot): Promise<void>;
  /**
   * True when AWS assigns the snapshot's id and create and copy take no client token: the service cannot refuse a
   * second snapshot of one name, so concurrent runs must claim the name first (runbooks/backup/backup.ts, copy.ts).
   */
  claimsNames: boolean;
  /** The adapters/calls.ts entries each operation uses. */
  calls: Record<SnapshotOperation, readonly AdapterCall[]>;
}

/** The create and copy of RDS and Aurora take the identifier we choose: the name is the idempotency key. */
const none = async (p: Promise<void>): Promise<undefined> => {
  await p;
  return undefined;
};

/**
 * The adapters acting with `creds` (a fleet member's role, adapters/assume-role.ts memberCredentials), in that account;
 * without them, in the function's own account: {@link SNAPSHOT_ADAPTERS}.
 */
export function snapshotAdapters(creds?: TargetCredentials): Record<ResourceKind, SnapshotAdapter> {
  return {
    "rds-instance": {
      listResources: (region) => listDbInstances(region, creds),
      listSnapshots: (region) => listDbSnapshots(region, creds),
      create: (r, name, tags) => none(createDbSnapshot(r.region, r.id, name, tags, creds)),
      copy: (req) => none(copyDbSnapshot(req, creds)),
      delete: (s) => deleteRdsSnapshot(s, creds),
      claimsNames: false,
      calls: SNAPSHOT_CALLS["rds-instance"],
    },
    "aurora-cluster": {
      listResources: (region) => listDbClusters(region, creds),
      listSnapshots: (region) => listClusterSnapshots(region, creds),
      create: (r, name, tags) => none(createClusterSnapshot(r.region, r.id, name, tags, creds)),
      copy: (req) => none(copyDbSnapshot(req, creds)),
      delete: (s) => deleteRdsSnapshot(s, creds),
      claimsNames: false,
      calls: SNAPSHOT_CALLS["aurora-cluster"],
    },
    "ebs-volume": {
      // EC2 filters volumes by tag key server-side: one call per key, one for the explicit ids, merged by id.
      listResources: async (region, { tagKeys, ids }) => {
        const lists = await Promise.all([
          ...tagKeys.map((key) => listVolumes(region, { tag: { key } }, creds)),
          ...(ids.length ? [listVolumes(region, { ids: [...ids] }, creds)] : []),
        ]);
        const volumes = new Map<string, Resource>();
        for (const list of lists) for (const v of list) volumes.set(v.id, v);
        return [...volumes.values()];
      },
      // With `amis`, snapshots an AMI was made from are marked, so prune keeps them.
      listSnapshots: async (region, managedBy, { amis }) =>
        listEbsSnapshots(region, managedBy, amis ? await listAmiSnapshotIds(region, creds) : undefined, creds),
      create: (r, name, tags) => createEbsSnapshot(r.region, r.id, name, tags, creds),
      // CopySnapshot takes no client token (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html).
      copy: (req) => copyEbsSnapshot(req, creds),
      delete: (s) => deleteEbsSnapshot(s, creds),
      claimsNames: true,
      calls: SNAPSHOT_CALLS["ebs-volume"],
    },
  };
}

/** The function's own account. */
export const SNAPSHOT_ADAPTERS: Record<ResourceKind, SnapshotAdapter> = snapshotAdapters();
