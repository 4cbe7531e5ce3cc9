/**
 * What every adapter sends to AWS, as IAM actions: the one declaration from which both the functions'
 * IAM roles (stacks/iam.ts) and the sandbox's enforcement (sandbox/aws/iam/) are derived, in the manner of
 * Cloud Custodian's actions carrying their `permissions`.
 *
 * An entry is named `<adapter module>.<exported function>` and lists the IAM actions AWS authorizes when
 * that function runs, including the ones a service checks on the caller's behalf: RDS authorizes tags
 * passed to a create or copy as `rds:AddTagsToResource`, EC2 tags on create as `ec2:CreateTags`, and an
 * encrypted copy checks KMS actions on the keys involved. KMS actions carry the key they are checked on
 * after an `@`: `@dr-key` (the destination region's configured key), `@source-key` (the key of an
 * encrypted source in the primary region), `@vault-key` (a vault region's key) or `@workload-key` (the key of a
 * share from a workload account, as the vault copies it). An entry may include other entries by name (composites).
 *
 * test/unit/arch/adapter-calls.test.ts reads every adapter's source and fails when an exported function
 * sends a command whose action is not declared here, so this table cannot drift from the code.
 */

import { RESOURCE_KINDS, type ResourceKind } from "../core/resource-kinds.ts";

/** What RDS checks, on the caller's behalf, on the key of a snapshot it restores: the DR key for a copy, a source key in the primary region. */
const RDS_RESTORE_KMS = ["kms:DescribeKey@dr-key", "kms:CreateGrant@dr-key", "kms:DescribeKey@source-key", "kms:CreateGrant@source-key"] as const;

/** adapters/snapshots.ts's per-kind table, the central one and the one bound to a member's credentials alike. */
const SNAPSHOT_TABLE_CALLS = [
  "rds.listDbInstances",
  "rds.listDbClusters",
  "rds.listDbSnapshots",
  "rds.listClusterSnapshots",
  "rds.createDbSnapshot",
  "rds.createClusterSnapshot",
  "rds.copyDbSnapshot",
  "rds.deleteRdsSnapshot",
  "ec2.listVolumes",
  "ec2.listAmiSnapshotIds",
  "ec2.listEbsSnapshots",
  "ec2.createEbsSnapshot",
  "ec2.copyEbsSnapshot",
  "ec2.deleteEbsSnapshot",
] as const;

export const ADAPTER_CALLS = {
  // adapters/rds.ts
  "rds.listDbInstances": ["rds:DescribeDBInstances"],
  "rds.listDbClusters": ["rds:DescribeDBClusters"],
  "rds.listDbSnapshots": ["rds:DescribeDBSnapshots"],
  "rds.listClusterSnapshots": ["rds:DescribeDBClusterSnapshots"],
  "rds.createDbSnapshot": ["rds:CreateDBSnapshot", "rds:AddTagsToResource"],
  "rds.createClusterSnapshot": ["rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"],
  "rds.copyDbSnapshot": [
    "rds:CopyDBSnapshot",
    "rds:CopyDBClusterSnapshot",
    "rds:AddTagsToResource",
    "kms:DescribeKey@dr-key",
    "kms:CreateGrant@dr-key",
    "kms:DescribeKey@source-key",
    "kms:CreateGrant@source-key",
  ],
  "rds.deleteRdsSnapshot": ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"],
  // adapters/ec2.ts
  "ec2.listVolumes": ["ec2:DescribeVolumes"],
  "ec2.listAmiSnapshotIds": ["ec2:DescribeImages"],
  "ec2.listEbsSnapshots": ["ec2:DescribeSnapshots"],
  "ec2.createEbsSnapshot": ["ec2:CreateSnapshot", "ec2:CreateTags"],
  "ec2.copyEbsSnapshot": [
    "ec2:CopySnapshot",
    "ec2:CreateTags",
    "kms:DescribeKey@dr-key",
    "kms:CreateGrant@dr-key",
    "kms:Decrypt@dr-key",
    "kms:GenerateDataKeyWithoutPlaintext@dr-key",
    "kms:ReEncryptFrom@dr-key",
    "kms:ReEncryptTo@dr-key",
    "kms:DescribeKey@source-key",
    "kms:CreateGrant@source-key",
    "kms:Decrypt@source-key",
  ],
  "ec2.deleteEbsSnapshot": ["ec2:DeleteSnapshot"],
  // adapters/snapshots.ts: the per-kind table as a whole (each operation's own calls: SNAPSHOT_CALLS below)
  "snapshots.SNAPSHOT_ADAPTERS": SNAPSHOT_TABLE_CALLS,
  // the same table acting in a fleet member account (adapters/assume-role.ts memberCredentials)
  "snapshots.snapshotAdapters": SNAPSHOT_TABLE_CALLS,
  // adapters/inventory.ts
  "inventory.listCandidateResources": ["rds.listDbInstances", "rds.listDbClusters", "ec2.listVolumes"],
  // With `{ amis: true }` it also lists the AMIs (ec2.listAmiSnapshotIds), declared by the functions that ask for them (prune).
  "inventory.listRegionSnapshots": ["rds.listDbSnapshots", "rds.listClusterSnapshots", "ec2.listEbsSnapshots"],
  // adapters/s3.ts: without s3:ListBucket S3 answers a missing key with 403 instead of 404.
  "s3.putJson": ["s3:PutObject"],
  "s3.getJson": ["s3:GetObject", "s3:ListBucket"],
  // adapters/json-document.ts: JSON documents with conditional writes, and the stores built on them
  "json-document.jsonDocuments": ["s3.putJson", "s3.getJson"],
  "latch.s3Latch": ["json-document.jsonDocuments"],
  "claims.s3Claims": ["json-document.jsonDocuments"],
  "prune-ledger.s3PruneLedger": ["json-document.jsonDocuments"],
  "observe-marker.s3ObserveMarker": ["json-document.jsonDocuments"],
  "alert-state.s3AlertState": ["json-document.jsonDocuments"],
  // adapters/rds-failover.ts
  "rds-failover.rdsFailover": [
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    "rds:DescribeGlobalClusters",
    "rds:PromoteReadReplica",
    "rds:PromoteReadReplicaDBCluster",
    "rds:FailoverGlobalCluster",
    "rds:SwitchoverGlobalCluster",
  ],
  // adapters/cloudwatch.ts
  "cloudwatch.cloudwatchMetrics": ["cloudwatch:GetMetricData"],
  // adapters/route53.ts
  "route53.route53Dns": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:GetChange"],
  // adapters/probe-metrics.ts: the failover trigger probe's results, in its own stage's namespace
  "probe-metrics.putProbeResults": ["cloudwatch:PutMetricData"],
  // adapters/restore.ts: restore tests' throwaways (issue 11); tags on create are authorized as AddTagsToResource / CreateTags
  // A restore from an encrypted snapshot creates with its customer managed key: kms:CreateGrant and kms:DescribeKey on it
  // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html): the DR key for a copy, a
  // source key in the primary region.
  "restore.restoreDbInstance": ["rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource", ...RDS_RESTORE_KMS],
  "restore.describeDbInstance": ["rds:DescribeDBInstances"],
  "restore.describeDbSnapshot": ["rds:DescribeDBSnapshots"],
  "restore.deleteDbInstance": ["rds:DeleteDBInstance"],
  "restore.restoreDbCluster": ["rds:RestoreDBClusterFromSnapshot", "rds:AddTagsToResource", ...RDS_RESTORE_KMS],
  "restore.createClusterInstance": ["rds:CreateDBInstance", "rds:AddTagsToResource"],
  "restore.describeDbCluster": ["rds:DescribeDBClusters"],
  "restore.describeClusterSnapshot": ["rds:DescribeDBClusterSnapshots"],
  "restore.deleteDbCluster": ["rds:DeleteDBCluster"],
  "restore.listRestoreTestLeftovers": ["rds:DescribeDBInstances", "rds:DescribeDBClusters", "restore-ebs.listVolumeLeftovers"],
  "restore.enableHttpEndpoint": ["rds:EnableHttpEndpoint"],
  "restore.sourceMasterSecret": ["rds:DescribeDBInstances", "rds:DescribeDBClusters"],
  // adapters/rds-data.ts: sql smoke checks through the Data API, which reads the secret for the caller
  // (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html)
  "rds-data.rdsDataSmoke": ["rds-data:BeginTransaction", "rds-data:ExecuteStatement", "rds-data:RollbackTransaction", "secretsmanager:GetSecretValue"],
  // adapters/secrets.ts: the password of a restore test's database
  "secrets.getDbCredentials": ["secretsmanager:GetSecretValue"],
  // adapters/checker.ts: the restore-test function runs an RDS instance's sql checks in its region's checker function
  "checker.invokeChecker": ["lambda:InvokeFunction"],
  // adapters/restore-ebs.ts
  // A volume from an encrypted snapshot uses the snapshot's key: the DR key for a copy, the source key in the primary
  // region (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html).
  "restore-ebs.createVolumeFromSnapshot": [
    "ec2:CreateVolume",
    "ec2:CreateTags",
    "kms:DescribeKey@dr-key",
    "kms:CreateGrant@dr-key",
    "kms:Decrypt@dr-key",
    "kms:GenerateDataKeyWithoutPlaintext@dr-key",
    "kms:ReEncryptFrom@dr-key",
    "kms:ReEncryptTo@dr-key",
    "kms:DescribeKey@source-key",
    "kms:CreateGrant@source-key",
    "kms:Decrypt@source-key",
    "kms:GenerateDataKeyWithoutPlaintext@source-key",
    "kms:ReEncryptFrom@source-key",
    "kms:ReEncryptTo@source-key",
  ],
  "restore-ebs.describeVolume": ["ec2:DescribeVolumes"],
  "restore-ebs.findVolumesByName": ["ec2:DescribeVolumes"],
  "restore-ebs.describeEbsSnapshot": ["ec2:DescribeSnapshots"],
  "restore-ebs.deleteVolume": ["ec2:DeleteVolume"],
  "restore-ebs.listVolumeLeftovers": ["ec2:DescribeVolumes"],
  // adapters/sns.ts: criticals to the pager topic
  "sns.publishToTopic": ["sns:Publish"],
  // adapters/assume-role.ts: a fleet function's own member role in a member account (stacks/member-roles.ts)
  "assume-role.assumeMemberRole": ["sts:AssumeRole"],
  "assume-role.memberCredentials": ["assume-role.assumeMemberRole"],
  // adapters/organizations.ts: the fleet OU's accounts (runbooks/fleet/targets.ts)
  "organizations.listAccountsForParent": ["organizations:ListAccountsForParent"],
  // adapters/vault-rds.ts, adapters/vault-ec2.ts, adapters/vault.ts: the backup account (core/vault-plan.ts). A copy in the
  // vault checks KMS on the vault region's key (`@vault-key`) and on the share's key, a workload account's (`@workload-key`):
  // EBS as for a DR copy, RDS DescribeKey and CreateGrant (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html,
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html).
  "vault-rds.shareRdsSnapshot": ["rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute"],
  "vault-rds.rdsSharedWith": ["rds:DescribeDBSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes"],
  "vault-rds.listRdsShares": ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"],
  "vault-rds.listRdsVaultCopies": ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"],
  "vault-rds.copyRdsShare": [
    "rds:CopyDBSnapshot",
    "rds:CopyDBClusterSnapshot",
    "rds:AddTagsToResource",
    "kms:DescribeKey@vault-key",
    "kms:CreateGrant@vault-key",
    "kms:DescribeKey@workload-key",
    "kms:CreateGrant@workload-key",
  ],
  "vault-rds.deleteRdsVaultCopy": ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"],
  "vault-ec2.shareEbsSnapshot": ["ec2:ModifySnapshotAttribute"],
  "vault-ec2.ebsSharedWith": ["ec2:DescribeSnapshots"],
  "vault-ec2.listEbsShares": ["ec2:DescribeSnapshots"],
  "vault-ec2.listEbsVaultCopies": ["ec2:DescribeSnapshots", "ec2:DescribeLockedSnapshots"],
  "vault-ec2.copyEbsShare": [
    "ec2:CopySnapshot",
    "ec2:CreateTags",
    "kms:DescribeKey@vault-key",
    "kms:CreateGrant@vault-key",
    "kms:Decrypt@vault-key",
    "kms:GenerateDataKeyWithoutPlaintext@vault-key",
    "kms:ReEncryptFrom@vault-key",
    "kms:ReEncryptTo@vault-key",
    "kms:DescribeKey@workload-key",
    "kms:CreateGrant@workload-key",
    "kms:Decrypt@workload-key",
  ],
  "vault-ec2.lockEbsCopy": ["ec2:LockSnapshot"],
  "vault-ec2.deleteEbsVaultCopy": ["ec2:DeleteSnapshot"],
  "vault.shareSnapshot": ["vault-rds.shareRdsSnapshot", "vault-ec2.shareEbsSnapshot"],
  "vault.sharedWithVault": ["vault-rds.rdsSharedWith", "vault-ec2.ebsSharedWith"],
  "vault.listShares": ["vault-rds.listRdsShares", "vault-ec2.listEbsShares"],
  "vault.listVaultCopies": ["vault-rds.listRdsVaultCopies", "vault-ec2.listEbsVaultCopies"],
  "vault.copyShare": ["vault-rds.copyRdsShare", "vault-ec2.copyEbsShare"],
  "vault.lockCopy": ["vault-ec2.lockEbsCopy"],
  "vault.deleteVaultCopy": ["vault-rds.deleteRdsVaultCopy", "vault-ec2.deleteEbsVaultCopy"],
  // adapters/vault-reader.ts: the workload's watchdog and prune assume the vault's reader role; what they then read acts
  // as that role (stacks/vault-definition.ts vaultReaderStatements), not as theirs.
  "vault-reader.vaultReaderCredentials": ["sts:AssumeRole"],
  // adapters/cost-explorer.ts
  "cost-explorer.fetchCosts": ["ce:GetCostAndUsage", "ce:GetCostForecast"],
  // adapters/report-store.ts: the weekly report reads saved run reports and writes its HTML
  "report-store.listReportKeys": ["s3:ListBucket"],
  "report-store.readReportText": ["s3:GetObject"],
  "report-store.putHtml": ["s3:PutObject"],
} as const satisfies Record<string, readonly string[]>;

export type AdapterCall = keyof typeof ADAPTER_CALLS;

/** The operations of a per-kind snapshot adapter (adapters/snapshots.ts). */
export type SnapshotOperation = "listResources" | "listSnapshots" | "create" | "copy" | "delete";

/**
 * The adapter calls each operation of each kind's snapshot adapter makes: what the backup jobs' roles are
 * derived from (runbooks/lib/calls.ts), kept here, free of the SDK, so stacks/ can read it.
 * test/unit/arch/resource-kinds.test.ts runs every operation against recording fakes and checks it makes
 * exactly these calls.
 */
export const SNAPSHOT_CALLS: Record<ResourceKind, Record<SnapshotOperation, readonly AdapterCall[]>> = {
  "rds-instance": {
    listResources: ["rds.listDbInstances"],
    listSnapshots: ["rds.listDbSnapshots"],
    create: ["rds.createDbSnapshot"],
    copy: ["rds.copyDbSnapshot"],
    delete: ["rds.deleteRdsSnapshot"],
  },
  "aurora-cluster": {
    listResources: ["rds.listDbClusters"],
    listSnapshots: ["rds.listClusterSnapshots"],
    create: ["rds.createClusterSnapshot"],
    copy: ["rds.copyDbSnapshot"],
    delete: ["rds.deleteRdsSnapshot"],
  },
  "ebs-volume": {
    listResources: ["ec2.listVolumes"],
    // `{ amis: true }` adds ec2.listAmiSnapshotIds (adapters/snapshots.ts ListSnapshotsOptions), declared by prune alone.
    listSnapshots: ["ec2.listEbsSnapshots"],
    create: ["ec2.createEbsSnapshot"],
    copy: ["ec2.copyEbsSnapshot"],
    delete: ["ec2.deleteEbsSnapshot"],
  },
};

/** The calls `operation` makes over every kind, first use first: `snapshotCalls("delete")` → ["rds.deleteRdsSnapshot", "ec2.deleteEbsSnapshot"]. */
export function snapshotCalls(operation: SnapshotOperation): AdapterCall[] {
  return [...new Set(RESOURCE_KINDS.flatMap((k) => SNAPSHOT_CALLS[k][operation]))];
}

/** An IAM action as declared: `service:Action`, optionally `@dr-key` / `@source-key` for KMS. */
export type DeclaredAction = string;

/** Every IAM action (with its `@key` qualifier) the adapter calls need, composites resolved, sorted. */
export function actionsOf(calls: readonly AdapterCall[]): DeclaredAction[] {
  const out = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) throw new Error(`adapter calls: cycle ${[...path, name].join(" -> ")}`);
    const entry = (ADAPTER_CALLS as Record<string, readonly string[]>)[name];
    if (!entry) throw new Error(`adapter calls: unknown entry ${name}`);
    for (const item of entry) {
      if (item in ADAPTER_CALLS) visit(item, [...path, name]);
      else out.add(item);
    }
  };
  for (const c of calls) visit(c, []);
  return [...out].sort();
}

/** `kms:Decrypt@dr-key` → `kms:Decrypt`. */
export function bareAction(declared: DeclaredAction): string {
  const at = declared.indexOf("@");
  return at < 0 ? declared : declared.slice(0, at);
}
