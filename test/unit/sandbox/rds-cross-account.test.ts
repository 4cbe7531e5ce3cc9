import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  KMSKeyNotAccessibleFault,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/aws/index.ts";
import { rejection } from "./rejection.ts";

/**
 * RDS across accounts: sharing a manual snapshot with ModifyDBSnapshotAttribute `restore`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBClusterSnapshotAttribute.html), seeing it in the
 * receiving account (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html, IncludeShared),
 * and copying it there with a key of that account (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html).
 */

const REGION = "eu-west-1";
const WORKLOAD = "123456789012";
const VAULT = "222233334444";
const SNAP_ARN = `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:app-db-20260101`;

let sb: Sandbox;
let workloadKey: string;
let vaultKey: string;
const rds = new RDSClient({ region: REGION, maxAttempts: 1 });
let vault: RDSClient;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-01-02T03:00:00Z"), regions: [REGION], iam: { recordUsage: false } });
  sb.addAccount(VAULT);
  workloadKey = sb.account(WORKLOAD).createKey(REGION, {
    id: "workload-rds",
    policy: [
      { principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] },
      { principals: [VAULT], actions: ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"] },
    ],
  });
  vaultKey = sb.account(VAULT).createKey(REGION, { id: "vault-rds" });
  sb.rds.addSnapshot(REGION, { id: "app-db-20260101", sourceId: "app-db", encrypted: true, kmsKeyId: workloadKey });
  sb.rds.addSnapshot(REGION, { id: "aurora-20260101", sourceId: "aurora", kind: "cluster", encrypted: true, kmsKeyId: workloadKey });
  sb.rds.addSnapshot(REGION, { id: "default-key", sourceId: "app-db", encrypted: true });
  vault = new RDSClient({ region: REGION, maxAttempts: 1, credentials: sb.account(VAULT).adminCredentials() });
});
afterEach(() => sb.restore());

const share = (id = "app-db-20260101", values = [VAULT]) =>
  rds.send(new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: id, AttributeName: "restore", ValuesToAdd: values }));

describe("sharing (ModifyDBSnapshotAttribute restore)", () => {
  it("adds the vault account: DescribeDBSnapshotAttributes lists it; the vault sees the snapshot by ARN with IncludeShared or SnapshotType shared, not otherwise", async () => {
    const out = await share();
    expect(out.DBSnapshotAttributesResult).toEqual({
      DBSnapshotIdentifier: "app-db-20260101",
      DBSnapshotAttributes: [{ AttributeName: "restore", AttributeValues: [VAULT] }],
    });
    const attrs = await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: "app-db-20260101" }));
    expect(attrs.DBSnapshotAttributesResult?.DBSnapshotAttributes).toEqual([{ AttributeName: "restore", AttributeValues: [VAULT] }]);

    expect((await vault.send(new DescribeDBSnapshotsCommand({}))).DBSnapshots).toEqual([]);
    for (const input of [{ IncludeShared: true }, { SnapshotType: "shared" }]) {
      const seen = await vault.send(new DescribeDBSnapshotsCommand(input));
      expect(seen.DBSnapshots?.map((s) => [s.DBSnapshotIdentifier, s.SnapshotType, s.KmsKeyId])).toEqual([[SNAP_ARN, "shared", workloadKey]]);
    }
    await rds.send(new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: "app-db-20260101", AttributeName: "restore", ValuesToRemove: [VAULT] }));
    expect((await vault.send(new DescribeDBSnapshotsCommand({ IncludeShared: true }))).DBSnapshots).toEqual([]);
  });

  it("an encrypted snapshot cannot be made public (all)", async () => {
    const err = await rejection(share("app-db-20260101", ["all"]));
    expect([err.name, err.message]).toEqual([
      "InvalidDBSnapshotStateFault",
      "Snapshot app-db-20260101 is encrypted and cannot be shared publicly; specify the account IDs to share it with.",
    ]);
  });

  it("a snapshot encrypted with the default aws/rds key cannot be shared", async () => {
    const err = await rejection(share("default-key"));
    expect([err.name, err.message]).toEqual([
      "InvalidDBSnapshotStateFault",
      "Snapshot default-key is encrypted with the default KMS key (aws/rds) and cannot be shared. Copy it with a customer managed key and share the copy.",
    ]);
  });

  it("an Aurora cluster snapshot is shared with ModifyDBClusterSnapshotAttribute", async () => {
    await rds.send(
      new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: "aurora-20260101", AttributeName: "restore", ValuesToAdd: [VAULT] }),
    );
    const attrs = await rds.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: "aurora-20260101" }));
    expect(attrs.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes).toEqual([{ AttributeName: "restore", AttributeValues: [VAULT] }]);
    const { DBClusterSnapshot } = await vault.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: `arn:aws:rds:${REGION}:${WORKLOAD}:cluster-snapshot:aurora-20260101`,
        TargetDBClusterSnapshotIdentifier: "vault-aurora-20260101",
        KmsKeyId: vaultKey,
      }),
    );
    expect([DBClusterSnapshot?.DBClusterSnapshotArn, DBClusterSnapshot?.KmsKeyId]).toEqual([
      `arn:aws:rds:${REGION}:${VAULT}:cluster-snapshot:vault-aurora-20260101`,
      vaultKey,
    ]);
  });
});

describe("CopyDBSnapshot in the vault account from the shared snapshot's ARN", () => {
  const copy = (KmsKeyId?: string) =>
    vault.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: SNAP_ARN,
        TargetDBSnapshotIdentifier: "vault-app-db-20260101",
        ...(KmsKeyId ? { KmsKeyId } : {}),
      }),
    );

  it("copies with the vault's key: the copy is the vault's, encrypted with its key", async () => {
    await share();
    const { DBSnapshot } = await copy(vaultKey);
    expect([DBSnapshot?.DBSnapshotArn, DBSnapshot?.KmsKeyId, DBSnapshot?.Status]).toEqual([
      `arn:aws:rds:${REGION}:${VAULT}:snapshot:vault-app-db-20260101`,
      vaultKey,
      "pending",
    ]);
    sb.clock.advance(5 * MINUTE);
    expect(sb.account(VAULT).rds.snapshot(REGION, "vault-app-db-20260101")).toMatchObject({ status: "available", kmsKeyId: vaultKey });
  });

  it("not shared: DBSnapshotNotFound", async () => {
    const err = await rejection(copy(vaultKey));
    expect([err.name, err.message]).toEqual(["DBSnapshotNotFoundFault", `DBSnapshot not found: ${SNAP_ARN}`]);
  });

  it("without a KmsKeyId of the vault: InvalidParameterValue", async () => {
    await share();
    const err = await rejection(copy());
    expect([err.name, err.message]).toEqual(["InvalidParameterValue", "KmsKeyId must be specified to copy an encrypted snapshot shared from another account."]);
  });

  it("the source key's policy does not name the vault: KMSKeyNotAccessibleFault naming the source key", async () => {
    sb.account(WORKLOAD).setKeyPolicy(workloadKey, [{ principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] }]);
    await share();
    const err = await rejection(copy(vaultKey));
    expect(err).toBeInstanceOf(KMSKeyNotAccessibleFault);
    expect(err.message).toBe(`The source snapshot KMS key [${workloadKey}] does not exist, is not enabled or you do not have permissions to access it.`);
  });

  it("a target key of another account that does not let the vault use it: KMSKeyNotAccessibleFault naming the target key", async () => {
    await share();
    const foreignKey = sb.account(WORKLOAD).createKey(REGION, { id: "workload-only" });
    const err = await rejection(copy(foreignKey));
    expect([err.name, err.message]).toEqual([
      "KMSKeyNotAccessibleFault",
      `The target KMS key [${foreignKey}] does not exist, is not enabled or you do not have permissions to access it.`,
    ]);
  });
});
