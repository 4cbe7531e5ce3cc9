import { CreateVolumeCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, paginateDescribeVolumes } from "@aws-sdk/client-ec2";
import { ec2 } from "./clients.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import type { SnapshotFacts, ThrowawayState } from "./restore.ts";
import type { RestoreTestLeftover } from "../core/restore-test.ts";

/** Restore tests' throwaway EBS volumes (issue 11); the RDS side and the shared shapes are in ./restore.ts. */

/** DescribeVolumes accepts 5–500 results per page. */
const PAGE = { pageSize: 500 } as const;

export interface CreateVolumeRequest {
  region: string;
  snapshotId: string;
  availabilityZone: string;
  tags: Record<string, string>;
}

/**
 * CreateVolume from a snapshot in the configured AZ, tagged on create (TagSpecifications), so it is never untagged.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html
 */
export async function createVolumeFromSnapshot(req: CreateVolumeRequest): Promise<ThrowawayState> {
  const v = await ec2(req.region).send(
    new CreateVolumeCommand({
      SnapshotId: req.snapshotId,
      AvailabilityZone: req.availabilityZone,
      TagSpecifications: [{ ResourceType: "volume", Tags: recordToTags(req.tags) }],
    }),
  );
  return {
    id: v.VolumeId ?? "",
    status: v.State ?? "creating",
    ...(v.Size !== undefined ? { storageGb: v.Size } : {}),
    tags: tagsToRecord(v.Tags),
  };
}

/** The volume now; undefined once it is gone. The volume-id filter answers an empty list, never NotFound. */
export async function describeVolume(region: string, volumeId: string): Promise<ThrowawayState | undefined> {
  const out = await ec2(region).send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: [volumeId] }] }));
  const v = out.Volumes?.[0];
  if (!v?.VolumeId) return undefined;
  return { id: v.VolumeId, status: v.State ?? "unknown", ...(v.Size !== undefined ? { storageGb: v.Size } : {}), tags: tagsToRecord(v.Tags) };
}

/** Volumes whose name tag is `name`: finds the throwaway of a run whose CreateVolume answer was lost. */
export async function findVolumesByName(region: string, nameTagKey: string, name: string): Promise<ThrowawayState[]> {
  const out: ThrowawayState[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2(region), ...PAGE }, { Filters: [{ Name: `tag:${nameTagKey}`, Values: [name] }] })) {
    for (const v of page.Volumes ?? []) {
      if (v.VolumeId)
        out.push({ id: v.VolumeId, status: v.State ?? "unknown", ...(v.Size !== undefined ? { storageGb: v.Size } : {}), tags: tagsToRecord(v.Tags) });
    }
  }
  return out;
}

/** The size of an EBS snapshot, for the volume's `available` check. */
export async function describeEbsSnapshot(region: string, snapshotId: string): Promise<SnapshotFacts> {
  const out = await ec2(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  const size = out.Snapshots?.[0]?.VolumeSize;
  return size !== undefined ? { storageGb: size } : {};
}

/** Delete a throwaway volume; already gone counts as deleted. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVolume.html */
export async function deleteVolume(region: string, volumeId: string): Promise<"deleting" | "gone"> {
  try {
    await ec2(region).send(new DeleteVolumeCommand({ VolumeId: volumeId }));
    return "deleting";
  } catch (err) {
    if ((err as { name?: string }).name === "InvalidVolume.NotFound") return "gone";
    throw err;
  }
}

/** Every volume of the region as the janitor judges them (core/restore-test.ts janitor). */
export async function listVolumeLeftovers(region: string): Promise<RestoreTestLeftover[]> {
  const out: RestoreTestLeftover[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2(region), ...PAGE }, {})) {
    for (const v of page.Volumes ?? []) {
      if (!v.VolumeId) continue;
      out.push({
        type: "ebs-volume",
        id: v.VolumeId,
        region,
        status: v.State ?? "unknown",
        ...(v.CreateTime ? { createdAt: v.CreateTime } : {}),
        tags: tagsToRecord(v.Tags),
      });
    }
  }
  return out;
}
