import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
} from "@aws-sdk/client-rds";
import { rds } from "./clients.ts";
import type { TargetCredentials } from "./assume-role.ts";
import { rdsStatus } from "./rds.ts";
import { recordToTags, tagsToRecord } from "./tags.ts";
import { TAG, type ResourceKind, type Snapshot } from "../core/types.ts";
import type { CopyOrder, VaultCopy, WorkloadSnapshot } from "../core/vault-plan.ts";

/**
 * The vault's RDS and Aurora calls (adapters/vault.ts composes them with adapters/vault-ec2.ts):
 * - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html and
 *   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBClusterSnapshotAttribute.html (`restore`);
 * - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html (IncludeShared, SnapshotType
 *   `shared`: a share is listed by its ARN, without its owner's tags);
 * - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html (a shared snapshot is named by its
 *   ARN and, encrypted, copied with a KmsKeyId of the copying account, in its own region) and API_CopyDBClusterSnapshot.html.
 * Every call takes an optional `creds` (see adapters/vault.ts).
 */

const PAGE = { pageSize: 100 } as const;

/** Share one of our RDS or Aurora snapshots with the vault account (`restore`); adding an account already there changes nothing. */
export async function shareRdsSnapshot(s: Pick<Snapshot, "kind" | "id" | "region">, vaultAccountId: string, creds?: TargetCredentials): Promise<void> {
  if (s.kind === "aurora-cluster") {
    await rds(s.region, creds).send(
      new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: s.id, AttributeName: "restore", ValuesToAdd: [vaultAccountId] }),
    );
  } else {
    await rds(s.region, creds).send(
      new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: s.id, AttributeName: "restore", ValuesToAdd: [vaultAccountId] }),
    );
  }
}

/** The accounts an RDS or Aurora snapshot is shared with (its `restore` attribute); `all` when public. */
export async function rdsSharedWith(s: Pick<Snapshot, "kind" | "id" | "region">, creds?: TargetCredentials): Promise<string[]> {
  if (s.kind === "aurora-cluster") {
    const out = await rds(s.region, creds).send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: s.id }));
    return out.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes?.find((a) => a.AttributeName === "restore")?.AttributeValues ?? [];
  }
  const out = await rds(s.region, creds).send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: s.id }));
  return out.DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === "restore")?.AttributeValues ?? [];
}

/** A share is never encrypted with an AWS managed key: AWS refuses to share those. */
export const encryptionOf = (kmsKeyId: string | undefined): WorkloadSnapshot["encryption"] =>
  kmsKeyId ? { type: "customer-managed", keyArn: kmsKeyId } : { type: "unencrypted" };

function shared(
  kind: ResourceKind,
  arn: string,
  status: string | undefined,
  created: Date | undefined,
  kmsKeyId: string | undefined,
  region: string,
): WorkloadSnapshot {
  return {
    kind,
    // The ARN: what the copy names as its source, and what tells the owner account.
    id: arn,
    arn,
    region,
    resourceId: "",
    status: rdsStatus(status),
    createdAt: created ?? new Date(0),
    tags: {},
    automated: false,
    account: arn.split(":")[4] ?? "",
    encryption: encryptionOf(kmsKeyId),
    sharedWith: [],
    ...(kmsKeyId ? { kmsKeyId } : {}),
  };
}

/** RDS and Aurora snapshots shared with this account in a region, by ARN (the owner's tags are not visible). */
export async function listRdsShares(region: string, creds?: TargetCredentials): Promise<WorkloadSnapshot[]> {
  const out: WorkloadSnapshot[] = [];
  const input = { SnapshotType: "shared", IncludeShared: true } as const;
  for await (const page of paginateDescribeDBSnapshots({ client: rds(region, creds), ...PAGE }, input)) {
    for (const s of page.DBSnapshots ?? []) {
      const arn = s.DBSnapshotArn ?? s.DBSnapshotIdentifier;
      if (arn?.startsWith("arn:")) out.push(shared("rds-instance", arn, s.Status, s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime, s.KmsKeyId, region));
    }
  }
  for await (const page of paginateDescribeDBClusterSnapshots({ client: rds(region, creds), ...PAGE }, input)) {
    for (const s of page.DBClusterSnapshots ?? []) {
      const arn = s.DBClusterSnapshotArn ?? s.DBClusterSnapshotIdentifier;
      if (arn?.startsWith("arn:")) out.push(shared("aurora-cluster", arn, s.Status, s.SnapshotCreateTime, s.KmsKeyId, region));
    }
  }
  return out;
}

const vaultCopy = (
  kind: ResourceKind,
  id: string,
  region: string,
  status: string | undefined,
  created: Date | undefined,
  tags: Record<string, string>,
): VaultCopy => ({
  kind,
  id,
  region,
  sourceId: tags[TAG.copyOf] ?? "",
  createdAt: created ?? new Date(0),
  status: rdsStatus(status),
  tags,
});

/** This account's own manual RDS and Aurora snapshots in a region, with their tags (ours or not: core decides). */
export async function listRdsVaultCopies(region: string, creds?: TargetCredentials): Promise<VaultCopy[]> {
  const out: VaultCopy[] = [];
  for await (const page of paginateDescribeDBSnapshots({ client: rds(region, creds), ...PAGE }, { SnapshotType: "manual" })) {
    for (const s of page.DBSnapshots ?? []) {
      if (s.DBSnapshotIdentifier) out.push(vaultCopy("rds-instance", s.DBSnapshotIdentifier, region, s.Status, s.SnapshotCreateTime, tagsToRecord(s.TagList)));
    }
  }
  for await (const page of paginateDescribeDBClusterSnapshots({ client: rds(region, creds), ...PAGE }, { SnapshotType: "manual" })) {
    for (const s of page.DBClusterSnapshots ?? []) {
      if (s.DBClusterSnapshotIdentifier)
        out.push(vaultCopy("aurora-cluster", s.DBClusterSnapshotIdentifier, region, s.Status, s.SnapshotCreateTime, tagsToRecord(s.TagList)));
    }
  }
  return out;
}

/** Copy an RDS or Aurora share into this account, named by its ARN, sent to the copy's region. Returns the copy's id. */
export async function copyRdsShare(order: CopyOrder, creds?: TargetCredentials): Promise<string> {
  const common = { ...(order.kmsKeyId ? { KmsKeyId: order.kmsKeyId } : {}), CopyTags: false, Tags: recordToTags(order.tags) };
  if (order.source.kind === "aurora-cluster") {
    const out = await rds(order.region, creds).send(
      new CopyDBClusterSnapshotCommand({ SourceDBClusterSnapshotIdentifier: order.source.id, TargetDBClusterSnapshotIdentifier: order.name, ...common }),
    );
    return out.DBClusterSnapshot?.DBClusterSnapshotIdentifier ?? order.name;
  }
  const out = await rds(order.region, creds).send(
    new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: order.source.id, TargetDBSnapshotIdentifier: order.name, ...common }),
  );
  return out.DBSnapshot?.DBSnapshotIdentifier ?? order.name;
}

export async function deleteRdsVaultCopy(c: Pick<VaultCopy, "kind" | "id" | "region">, creds?: TargetCredentials): Promise<void> {
  if (c.kind === "aurora-cluster") await rds(c.region, creds).send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: c.id }));
  else await rds(c.region, creds).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: c.id }));
}
