import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Filter,
  type Snapshot as Ec2Snapshot,
} from "@aws-sdk/client-ec2";
import { ec2 } from "./clients.ts";
import type { TargetCredentials } from "./assume-role.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import { capturedAt, type CopyRequest } from "./rds.ts";
import { TAG, type Resource, type Snapshot, type SnapshotStatus } from "../core/types.ts";

/**
 * EBS volumes and snapshots. Snapshots are listed with a server-side tag filter on our managed-by tag,
 * so the pages hold only our snapshots and their tags (no per-snapshot tag calls).
 *
 * Every call takes an optional `creds`: a fleet member's role (adapters/assume-role.ts memberCredentials), so the call
 * acts in that account; without it, the function's own account.
 */

/** DescribeSnapshots/DescribeVolumes accept up to 1,000 results per page. */
const PAGE = { pageSize: 1000 } as const;

export function ebsStatus(state: string | undefined): SnapshotStatus {
  if (state === "completed") return "available";
  if (state === "error") return "error";
  return "pending";
}

/** Volumes, optionally narrowed by a tag (server-side filter) and/or explicit ids. */
export async function listVolumes(
  region: string,
  filter: { tag?: { key: string; value?: string }; ids?: string[] } = {},
  creds?: TargetCredentials,
): Promise<Resource[]> {
  const Filters: Filter[] = [];
  if (filter.tag) {
    Filters.push(filter.tag.value ? { Name: `tag:${filter.tag.key}`, Values: [filter.tag.value] } : { Name: "tag-key", Values: [filter.tag.key] });
  }
  // EC2 rejects VolumeIds together with MaxResults, so explicit ids use the volume-id filter instead.
  if (filter.ids?.length) Filters.push({ Name: "volume-id", Values: filter.ids });
  const out: Resource[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2(region, creds), ...PAGE }, Filters.length ? { Filters } : {})) {
    for (const v of page.Volumes ?? []) {
      if (!v.VolumeId) continue;
      out.push({ kind: "ebs-volume", id: v.VolumeId, region, status: v.State ?? "unknown", tags: tagsToRecord(v.Tags) });
    }
  }
  return out;
}

function fromEc2Snapshot(s: Ec2Snapshot, region: string, amiSnapshots: Set<string>): Snapshot {
  const tags = tagsToRecord(s.Tags);
  return {
    kind: "ebs-volume",
    id: s.SnapshotId ?? "",
    region,
    resourceId: tags[TAG.source] ?? s.VolumeId ?? "",
    status: ebsStatus(s.State),
    createdAt: capturedAt(tags, s.StartTime),
    tags,
    automated: false,
    usedByImage: amiSnapshots.has(s.SnapshotId ?? ""),
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
    ...(s.State === "error" && s.StateMessage ? { statusMessage: s.StateMessage } : {}),
    // Immutable after creation and set to the name by backup and copy: what EBS ownership is checked against.
    ...(s.Description !== undefined ? { description: s.Description } : {}),
  };
}

/** Snapshot ids referenced by AMIs we own in the region: such snapshots are never pruned. */
export async function listAmiSnapshotIds(region: string, creds?: TargetCredentials): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const page of paginateDescribeImages({ client: ec2(region, creds), ...PAGE }, { Owners: ["self"] })) {
    for (const image of page.Images ?? []) {
      for (const m of image.BlockDeviceMappings ?? []) if (m.Ebs?.SnapshotId) ids.add(m.Ebs.SnapshotId);
    }
  }
  return ids;
}

/** Our EBS snapshots in a region (owner self, filtered on our managed-by tag value). */
export async function listEbsSnapshots(region: string, managedBy: string, amiSnapshots = new Set<string>(), creds?: TargetCredentials): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  const pages = paginateDescribeSnapshots(
    { client: ec2(region, creds), ...PAGE },
    { OwnerIds: ["self"], Filters: [{ Name: `tag:${TAG.managedBy}`, Values: [managedBy] }] },
  );
  for await (const page of pages) for (const s of page.Snapshots ?? []) out.push(fromEc2Snapshot(s, region, amiSnapshots));
  return out;
}

export async function createEbsSnapshot(
  region: string,
  volumeId: string,
  name: string,
  tags: Record<string, string>,
  creds?: TargetCredentials,
): Promise<string | undefined> {
  const out = await ec2(region, creds).send(
    new CreateSnapshotCommand({
      VolumeId: volumeId,
      Description: name,
      TagSpecifications: [{ ResourceType: "snapshot", Tags: recordToTags(tags) }],
    }),
  );
  return out.SnapshotId;
}

/** Cross-region copy, sent to the destination region, encrypted with that region's key. */
export async function copyEbsSnapshot(req: CopyRequest, creds?: TargetCredentials): Promise<string | undefined> {
  const out = await ec2(req.targetRegion, creds).send(
    new CopySnapshotCommand({
      SourceRegion: req.sourceRegion,
      SourceSnapshotId: req.source.id,
      Encrypted: true,
      KmsKeyId: req.kmsKeyId,
      Description: req.name,
      TagSpecifications: [{ ResourceType: "snapshot", Tags: recordToTags(req.tags) }],
    }),
  );
  return out.SnapshotId;
}

export async function deleteEbsSnapshot(snapshot: Snapshot, creds?: TargetCredentials): Promise<void> {
  await ec2(snapshot.region, creds).send(new DeleteSnapshotCommand({ SnapshotId: snapshot.id }));
}
