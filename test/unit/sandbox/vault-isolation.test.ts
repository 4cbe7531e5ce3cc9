import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  LockSnapshotCommand,
  UnlockSnapshotCommand,
} from "@aws-sdk/client-ec2";
import { CopyDBSnapshotCommand, DeleteDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { createSandbox, FakeClock, HOUR, MINUTE, type Sandbox, type SandboxCredentials } from "../../../sandbox/aws/index.ts";
import type { TrustStatement } from "../../../sandbox/aws/accounts.ts";
import { KmsKeys, type KeyPolicyStatement } from "../../../sandbox/aws/kms.ts";
import type { PolicyCondition } from "../../../sandbox/aws/iam/policy.ts";
import type { PolicyDocument } from "../../../stacks/policy-lint.ts";
import { KMS_ADMIN_ACTIONS, vaultKeys, vaultReaderRole } from "../../../stacks/vault-definition.ts";
import { VAULT, WORKLOAD, vaultConfig } from "../../infra/vault-config.ts";
import { rejection } from "./rejection.ts";

/**
 * The vault stage's isolation on the IAM- and key-policy-enforcing sandbox: with the workload account's administrator
 * credentials nobody can delete or unlock a locked vault copy, use or administer the vault's key, or do more through the
 * vault's reader role than read. The key policy and the reader role are exactly those the vault stage deploys
 * (stacks/vault-definition.ts), in the sandbox's form.
 */

const REGION = "eu-west-1";
const COPY = "snap-0000a001";
const def = { keys: vaultKeys(vaultConfig(), "aws"), reader: vaultReaderRole(vaultConfig(), "aws") };

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const awsPrincipals = (p: unknown): string[] => list((p as { AWS?: string | string[] } | undefined)?.AWS);

/**
 * A key policy as sandbox/aws/kms.ts evaluates it: principals and actions. It evaluates no conditions, so a conditional
 * statement is left out: dropping an Allow could only refuse more, so none may be dropped; dropping a Deny only allows
 * more, so a refusal without it is a refusal with it.
 */
function sandboxKeyPolicy(doc: PolicyDocument): { policy: KeyPolicyStatement[]; dropped: string[] } {
  const policy: KeyPolicyStatement[] = [];
  const dropped: string[] = [];
  for (const s of doc.Statement) {
    if (s.Condition) {
      dropped.push(`${s.Effect} ${s.Sid}`);
      continue;
    }
    policy.push({ effect: s.Effect === "Deny" ? "deny" : "allow", principals: awsPrincipals(s.Principal), actions: list(s.Action) });
  }
  return { policy, dropped };
}

/** A trust policy as sandbox/aws/accounts.ts evaluates it: principals and conditions. */
function sandboxTrust(doc: PolicyDocument): TrustStatement[] {
  return doc.Statement.map((s) => ({
    effect: s.Effect === "Deny" ? "deny" : "allow",
    principals: awsPrincipals(s.Principal),
    conditions: Object.entries(s.Condition ?? {}).flatMap(([test, block]) =>
      Object.entries(block).map(([variable, values]): PolicyCondition => ({ test, variable, values: list(values) })),
    ),
  }));
}

let sb: Sandbox;
let vaultKey: string;
let workloadKey: string;
let workloadAdmin: SandboxCredentials;

const creds = (c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined): SandboxCredentials => ({
  accessKeyId: c!.AccessKeyId!,
  secretAccessKey: c!.SecretAccessKey!,
  sessionToken: c!.SessionToken!,
});
const ec2As = (credentials: SandboxCredentials) => new EC2Client({ region: REGION, maxAttempts: 1, credentials });
const stsAs = (credentials: SandboxCredentials) => new STSClient({ region: REGION, maxAttempts: 1, credentials });

beforeEach(async () => {
  sb = createSandbox({ clock: new FakeClock("2026-01-02T03:00:00Z"), regions: [REGION], iam: { recordUsage: false } });
  sb.addAccount(VAULT, { name: "backup-vault" });
  const key = sandboxKeyPolicy(def.keys[0]!.policy);
  expect(key.dropped).toEqual(["Deny NoOtherAccountAdministersTheKey"]);
  vaultKey = sb.account(VAULT).createKey(REGION, { id: "vault-eu-west-1", policy: key.policy });
  workloadKey = sb.account(WORKLOAD).createKey(REGION, { id: "workload-databases" });
  sb.account(VAULT).addRole({ name: def.reader.name, trust: sandboxTrust(def.reader.trustPolicy), statements: def.reader.statements });

  // A vault copy, encrypted with the vault's key and locked in compliance mode past its cooling-off period.
  sb.account(VAULT).ec2.addSnapshot(REGION, { id: COPY, volumeId: "vol-0000000a", encrypted: true, kmsKeyId: vaultKey });
  const vaultAdmin = ec2As(sb.account(VAULT).adminCredentials());
  await vaultAdmin.send(new LockSnapshotCommand({ SnapshotId: COPY, LockMode: "compliance", CoolOffPeriod: 1, LockDuration: 35 }));
  sb.clock.advance(2 * HOUR);
  workloadAdmin = sb.account(WORKLOAD).adminCredentials();
});
afterEach(() => sb.restore());

const stillLocked = async () => {
  const out = await ec2As(sb.account(VAULT).adminCredentials()).send(new DescribeLockedSnapshotsCommand({ SnapshotIds: [COPY] }));
  return out.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId, s.LockState]);
};

describe("the workload account's administrator against the vault (sandbox)", () => {
  it("cannot delete or unlock a vault copy: EC2 acts in the caller's account, where the copy does not exist", async () => {
    const ec2 = ec2As(workloadAdmin);
    const del = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: COPY })));
    expect([del.name, del.message]).toEqual(["InvalidSnapshot.NotFound", `The snapshot '${COPY}' does not exist.`]);
    const unlock = await rejection(ec2.send(new UnlockSnapshotCommand({ SnapshotId: COPY })));
    expect([unlock.name, unlock.message]).toEqual(["InvalidSnapshot.NotFound", `The snapshot '${COPY}' does not exist.`]);
    const rds = new RDSClient({ region: REGION, maxAttempts: 1, credentials: workloadAdmin });
    const arn = `arn:aws:rds:${REGION}:${VAULT}:snapshot:oa-ops-autopilot-ci-app-db-2026-01-01-${WORKLOAD}`;
    const rdsDel = await rejection(rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: arn })));
    expect(rdsDel.name).toBe("DBSnapshotNotFoundFault");
    expect(await stillLocked()).toEqual([[COPY, VAULT, "compliance"]]);
  });

  it("cannot assume the reader role itself: its trust admits only the workload stage's watchdog and prune roles", async () => {
    const err = await rejection(
      stsAs(workloadAdmin).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${VAULT}:role/${def.reader.name}`, RoleSessionName: "admin" })),
    );
    expect([err.name, err.message]).toEqual([
      "AccessDenied",
      `User: arn:aws:iam::${WORKLOAD}:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${VAULT}:role/ops-autopilot-ci-vault-reader`,
    ]);
  });

  it("through a role of its own named like the watchdog's, gets the reader, which reads and cannot delete, unlock or copy", async () => {
    // The workload's administrator controls the workload's role names: the reader's trust cannot tell its own watchdog
    // from one it makes. What it gets is the reader's policy: reads only.
    const lookalike = "ops-autopilot-ci-WatchdogRole-evil0001";
    sb.account(WORKLOAD).addRole({ name: lookalike, trust: [{ principals: [WORKLOAD] }], statements: [{ actions: ["sts:AssumeRole"], resources: ["*"] }] });
    const own = await stsAs(workloadAdmin).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${WORKLOAD}:role/${lookalike}`, RoleSessionName: "admin" }));
    const reader = await stsAs(creds(own.Credentials)).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${VAULT}:role/${def.reader.name}`, RoleSessionName: "watchdog" }),
    );
    const ec2 = ec2As(creds(reader.Credentials));
    const seen = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    expect(seen.Snapshots?.map((s) => s.SnapshotId)).toEqual([COPY]);

    const session = `arn:aws:sts::${VAULT}:assumed-role/ops-autopilot-ci-vault-reader/watchdog`;
    for (const [command, action] of [
      [new DeleteSnapshotCommand({ SnapshotId: COPY }), "ec2:DeleteSnapshot"],
      [new UnlockSnapshotCommand({ SnapshotId: COPY }), "ec2:UnlockSnapshot"],
      [new CopySnapshotCommand({ SourceRegion: REGION, SourceSnapshotId: COPY, Encrypted: true, KmsKeyId: vaultKey }), "ec2:CopySnapshot"],
    ] as const) {
      const err = await rejection(ec2.send(command as never));
      expect(err.name).toBe("UnauthorizedOperation");
      expect(err.message).toContain(`User: ${session} is not authorized to perform: ${action}`);
    }
    expect(await stillLocked()).toEqual([[COPY, VAULT, "compliance"]]);
  });

  it("cannot use the vault's key: an EBS copy encrypted with it fails, an RDS copy with it is refused (KMSKeyNotAccessibleFault)", async () => {
    sb.ec2.addSnapshot(REGION, { id: "snap-0000b001", volumeId: "vol-0000b001", encrypted: true, kmsKeyId: workloadKey });
    const { SnapshotId } = await ec2As(workloadAdmin).send(
      new CopySnapshotCommand({ SourceRegion: REGION, SourceSnapshotId: "snap-0000b001", Encrypted: true, KmsKeyId: vaultKey }),
    );
    sb.clock.advance(MINUTE);
    expect(sb.ec2.snapshot(REGION, SnapshotId!)?.status).toBe("error");

    sb.rds.addSnapshot(REGION, { id: "app-db-20260101", sourceId: "app-db", encrypted: true, kmsKeyId: workloadKey });
    const rds = new RDSClient({ region: REGION, maxAttempts: 1, credentials: workloadAdmin });
    const err = await rejection(
      rds.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: "app-db-20260101", TargetDBSnapshotIdentifier: "app-db-copy", KmsKeyId: vaultKey })),
    );
    expect([err.name, err.message]).toEqual([
      "KMSKeyNotAccessibleFault",
      `The target KMS key [${vaultKey}] does not exist, is not enabled or you do not have permissions to access it.`,
    ]);
  });

  it("the vault key's policy refuses every workload principal every action, administrative or cryptographic, and lets the vault account's own", () => {
    const keys = new KmsKeys();
    const arn = keys.create(VAULT, REGION, { policy: sandboxKeyPolicy(def.keys[0]!.policy).policy }).arn;
    const actions = [
      ...KMS_ADMIN_ACTIONS,
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:ReEncryptFrom",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:CreateGrant",
      "kms:DescribeKey",
    ];
    const workloadRole = `arn:aws:iam::${WORKLOAD}:role/ops-autopilot-ci-PruneRole-sandbox0`;
    expect(actions.filter((a) => keys.refused(arn, WORKLOAD, undefined, [a]) !== a)).toEqual([]);
    expect(actions.filter((a) => keys.refused(arn, WORKLOAD, workloadRole, [a]) !== a)).toEqual([]);
    expect(actions.filter((a) => keys.refused(arn, VAULT, undefined, [a]) !== undefined)).toEqual([]);
  });
});
