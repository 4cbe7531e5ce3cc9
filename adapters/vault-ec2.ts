import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeLockedSnapshotsCommand,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  paginateDescribeSnapshots,
} from "@aws-sdk/client-ec2";
import { ec2 } from "./clients.ts";
import type { TargetCredentials } from "./assume-role.ts";
import { ebsStatus } from "./ec2.ts";
import { encryptionOf } from "./vault-rds.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import { TAG, type Snapshot } from "../core/types.ts";
import type { CopyOrder, LockOrder, LockState, VaultCopy, WorkloadSnapshot } from "../core/vault-plan.ts";

/**
 * The vault's EBS calls (adapters/vault.ts composes them with adapters/vault-rds.ts):
 * - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html (createVolumePermission);
 * - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html (RestorableByUserIds, OwnerIds; another
 *   account's snapshot comes without its owner's tags);
 * - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html (Encrypted with KmsKeyId, across regions);
 * - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html and API_DescribeLockedSnapshots.html.
 * Every call takes an optional `creds` (see adapters/vault.ts).
 */

const PAGE = { pageSize: 1000 } as const;

/** Share one of our EBS snapshots with the vault account; adding an account already there changes nothing. */
export async function shareEbsSnapshot(s: Pick<Snapshot, "id" | "region">, vaultAccountId: string, creds?: TargetCredentials): Promise<void> {
  await ec2(s.region, creds).send(
    new ModifySnapshotAttributeCommand({ SnapshotId: s.id, Attribute: "createVolumePermission", OperationType: "add", UserIds: [vaultAccountId] }),
  );
}

/** Our EBS snapshots in a region that `account` may create volumes from: one listing instead of one call per snapshot. */
export async function ebsSharedWith(region: string, account: string, creds?: TargetCredentials): Promise<Set<string>> {
  const out = new Set<string>();
  const pages = paginateDescribeSnapshots({ client: ec2(region, creds), ...PAGE }, { OwnerIds: ["self"], RestorableByUserIds: [account] });
  for await (const page of pages) for (const s of page.Snapshots ?? []) if (s.SnapshotId) out.add(s.SnapshotId);
  return out;
}

/** EBS snapshots of `owners` this account may create volumes from (EC2 lists public ones too without OwnerIds). */
export async function listEbsShares(region: string, owners: readonly string[], creds?: TargetCredentials): Promise<WorkloadSnapshot[]> {
  const out: WorkloadSnapshot[] = [];
  if (!owners.length) return out;
  const pages = paginateDescribeSnapshots({ client: ec2(region, creds), ...PAGE }, { OwnerIds: [...owners], RestorableByUserIds: ["self"] });
  for await (const page of pages) {
    for (const s of page.Snapshots ?? []) {
      if (!s.SnapshotId) continue;
      const key = s.Encrypted ? s.KmsKeyId : undefined;
      out.push({
        kind: "ebs-volume",
        id: s.SnapshotId,
        region,
        resourceId: "",
        status: ebsStatus(s.State),
        createdAt: s.StartTime ?? new Date(0),
        tags: {},
        automated: false,
        ...(s.Description ? { description: s.Description } : {}),
        account: s.OwnerId ?? "",
        encryption: encryptionOf(key),
        sharedWith: [],
        ...(key ? { kmsKeyId: key } : {}),
      });
    }
  }
  return out;
}

/** This account's own EBS snapshots in a region, with their tags and lock (ours or not: core decides). */
export async function listEbsVaultCopies(region: string, creds?: TargetCredentials): Promise<VaultCopy[]> {
  const locks = new Map<string, NonNullable<VaultCopy["lock"]>>();
  // The SDK has no paginator for DescribeLockedSnapshots: NextToken by hand.
  let NextToken: string | undefined;
  do {
    const page = await ec2(region, creds).send(new DescribeLockedSnapshotsCommand({ MaxResults: PAGE.pageSize, ...(NextToken ? { NextToken } : {}) }));
    for (const l of page.Snapshots ?? []) {
      if (l.SnapshotId && l.LockState) locks.set(l.SnapshotId, { state: l.LockState as LockState, ...(l.LockExpiresOn ? { expiresAt: l.LockExpiresOn } : {}) });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  const out: VaultCopy[] = [];
  for await (const page of paginateDescribeSnapshots({ client: ec2(region, creds), ...PAGE }, { OwnerIds: ["self"] })) {
    for (const s of page.Snapshots ?? []) {
      if (!s.SnapshotId) continue;
      const tags = tagsToRecord(s.Tags);
      const lock = locks.get(s.SnapshotId);
      out.push({
        kind: "ebs-volume",
        id: s.SnapshotId,
        region,
        sourceId: tags[TAG.copyOf] ?? "",
        createdAt: s.StartTime ?? new Date(0),
        status: ebsStatus(s.State),
        tags,
        ...(lock ? { lock } : {}),
        ...(s.State === "error" && s.StateMessage ? { statusMessage: s.StateMessage } : {}),
      });
    }
  }
  return out;
}

/** Copy an EBS share into this account, re-encrypted with the vault's key, described by its name. Returns the copy's id. */
export async function copyEbsShare(order: CopyOrder, creds?: TargetCredentials): Promise<string> {
  const out = await ec2(order.region, creds).send(
    new CopySnapshotCommand({
      SourceRegion: order.source.region,
      SourceSnapshotId: order.source.id,
      Description: order.name,
      Encrypted: true,
      ...(order.kmsKeyId ? { KmsKeyId: order.kmsKeyId } : {}),
      TagSpecifications: [{ ResourceType: "snapshot", Tags: recordToTags(order.tags) }],
    }),
  );
  return out.SnapshotId ?? "";
}

/** Lock an EBS copy (compliance with a cooling-off, or governance) for its duration; answers the lock state. */
export async function lockEbsCopy(order: LockOrder, creds?: TargetCredentials): Promise<string | undefined> {
  const out = await ec2(order.copy.region, creds).send(
    new LockSnapshotCommand({
      SnapshotId: order.copy.id,
      LockMode: order.mode,
      LockDuration: order.durationDays,
      ...(order.coolOffHours !== undefined ? { CoolOffPeriod: order.coolOffHours } : {}),
    }),
  );
  return out.LockState;
}

export async function deleteEbsVaultCopy(c: Pick<VaultCopy, "id" | "region">, creds?: TargetCredentials): Promise<void> {
  await ec2(c.region, creds).send(new DeleteSnapshotCommand({ SnapshotId: c.id }));
}
