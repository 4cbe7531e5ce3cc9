import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  UnlockSnapshotCommand,
} from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { createSandbox, DAY, FakeClock, HOUR, MINUTE, type Sandbox, type SandboxCredentials } from "../../../sandbox/aws/index.ts";
import { rejection } from "./rejection.ts";

/**
 * EBS across accounts: sharing (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html),
 * the shared snapshot seen and copied by the receiving account with KMS key policies
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html), and Snapshot Lock
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html).
 */

const REGION = "eu-west-1";
const WORKLOAD = "123456789012";
const VAULT = "222233334444";
const SNAP = "snap-0000000a";

let sb: Sandbox;
let workloadKey: string;
let vaultKey: string;
const ec2 = new EC2Client({ region: REGION, maxAttempts: 1 });
let vault: EC2Client;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-01-02T03:00:00Z"), regions: [REGION], iam: { recordUsage: false } });
  sb.addAccount(VAULT, { name: "backup-vault" });
  workloadKey = sb.account(WORKLOAD).createKey(REGION, {
    id: "workload-ebs",
    policy: [
      { principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] },
      { principals: [`arn:aws:iam::${VAULT}:root`], actions: ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"] },
    ],
  });
  vaultKey = sb.account(VAULT).createKey(REGION, { id: "vault-ebs" });
  sb.ec2.addSnapshot(REGION, { id: SNAP, volumeId: "vol-0000000a", encrypted: true, kmsKeyId: workloadKey });
  vault = new EC2Client({ region: REGION, maxAttempts: 1, credentials: sb.account(VAULT).adminCredentials() });
});
afterEach(() => sb.restore());

const share = (op: "add" | "remove", id = SNAP) =>
  ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission", OperationType: op, UserIds: [VAULT] }));

describe("sharing (ModifySnapshotAttribute createVolumePermission)", () => {
  it("shares with an account id: listed by DescribeSnapshotAttribute, seen by the vault (default listing, RestorableByUserIds self, OwnerIds), gone once removed", async () => {
    await share("add");
    const attr = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: SNAP, Attribute: "createVolumePermission" }));
    expect(attr.CreateVolumePermissions).toEqual([{ UserId: VAULT }]);

    for (const input of [{}, { RestorableByUserIds: ["self"] }, { OwnerIds: [WORKLOAD] }]) {
      const seen = await vault.send(new DescribeSnapshotsCommand(input));
      expect(seen.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId, s.KmsKeyId])).toEqual([[SNAP, WORKLOAD, workloadKey]]);
    }
    const own = await vault.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    expect(own.Snapshots).toEqual([]);

    await share("remove");
    expect((await vault.send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);
    const err = await rejection(vault.send(new DescribeSnapshotsCommand({ SnapshotIds: [SNAP] })));
    expect([err.name, err.message]).toEqual(["InvalidSnapshot.NotFound", `The snapshot '${SNAP}' does not exist.`]);
  });

  it("the vault sees a share without its owner's tags, and a tag: filter does not find it by them (sharingamis-explicit.html: user-defined tags are not shared)", async () => {
    sb.ec2.addSnapshot(REGION, { id: "snap-0000000d", volumeId: "vol-0000000d", encrypted: false, tags: { "ops-autopilot:managed-by": "ops-autopilot:prod" } });
    await share("add", "snap-0000000d");
    const seen = await vault.send(new DescribeSnapshotsCommand({ SnapshotIds: ["snap-0000000d"] }));
    expect(seen.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId, s.Tags])).toEqual([["snap-0000000d", WORKLOAD, undefined]]);
    const byTag = await vault.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "tag:ops-autopilot:managed-by", Values: ["ops-autopilot:prod"] }] }));
    expect(byTag.Snapshots).toEqual([]);
    const own = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ["snap-0000000d"] }));
    expect(own.Snapshots?.[0]?.Tags).toEqual([{ Key: "ops-autopilot:managed-by", Value: "ops-autopilot:prod" }]);
  });

  it("a snapshot encrypted with the AWS managed key (aws/ebs) cannot be shared: OperationNotPermitted (as observed, https://github.com/hashicorp/packer/issues/7499)", async () => {
    sb.ec2.addSnapshot(REGION, { id: "snap-0000000b", volumeId: "vol-0000000b", encrypted: true });
    const err = await rejection(share("add", "snap-0000000b"));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual([
      "OperationNotPermitted",
      "Encrypted snapshots with EBS default key cannot be shared",
      400,
    ]);
    expect(sb.ec2.sharedWith(REGION, "snap-0000000b")).toEqual([]);
  });

  it("an encrypted snapshot cannot be made public (group all): InvalidParameter", async () => {
    const err = await rejection(ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: SNAP, CreateVolumePermission: { Add: [{ Group: "all" }] } })));
    expect([err.name, err.message]).toEqual(["InvalidParameter", "Encrypted snapshots cannot be made public."]);
  });

  it("adding and removing in one call is refused; an account id must be 12 digits", async () => {
    const both = await rejection(
      ec2.send(
        new ModifySnapshotAttributeCommand({ SnapshotId: SNAP, CreateVolumePermission: { Add: [{ UserId: VAULT }], Remove: [{ UserId: "555566667777" }] } }),
      ),
    );
    expect(both.name).toBe("InvalidParameterCombination");
    const bad = await rejection(
      ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: SNAP, Attribute: "createVolumePermission", OperationType: "add", UserIds: ["2222"] })),
    );
    expect([bad.name, bad.message]).toEqual(["InvalidUserID.Malformed", 'Invalid user id: "2222"']);
  });

  it("only the owner can share: the vault cannot modify the workload's snapshot (InvalidSnapshot.NotFound)", async () => {
    await share("add");
    const err = await rejection(
      vault.send(
        new ModifySnapshotAttributeCommand({ SnapshotId: SNAP, Attribute: "createVolumePermission", OperationType: "add", UserIds: ["555566667777"] }),
      ),
    );
    expect(err.name).toBe("InvalidSnapshot.NotFound");
  });
});

describe("cross-account CopySnapshot in the vault account (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html)", () => {
  const copy = (client: EC2Client, KmsKeyId?: string) =>
    client.send(new CopySnapshotCommand({ SourceRegion: REGION, SourceSnapshotId: SNAP, Encrypted: true, ...(KmsKeyId ? { KmsKeyId } : {}) }));

  it("copies the shared snapshot into the vault, re-encrypted with the vault's key", async () => {
    await share("add");
    const { SnapshotId } = await copy(vault, vaultKey);
    sb.clock.advance(30 * MINUTE);
    const copied = sb.account(VAULT).ec2.snapshot(REGION, SnapshotId!);
    expect(copied).toMatchObject({ status: "completed", ownerId: VAULT, encrypted: true, kmsKeyId: vaultKey, copiedFrom: { region: REGION, id: SNAP } });
    expect(sb.ec2.snapshot(REGION, SnapshotId!)).toBeUndefined();
    expect(sb.callsTo("ec2", "CopySnapshot").at(-1)?.account).toBe(VAULT);
  });

  it("a snapshot not shared with the vault: InvalidSnapshot.NotFound", async () => {
    const err = await rejection(copy(vault, vaultKey));
    expect([err.name, err.message]).toEqual(["InvalidSnapshot.NotFound", `The snapshot '${SNAP}' does not exist.`]);
  });

  it("the source key's policy does not name the vault: the copy is accepted and fails (error, key not accessible), as EBS copies fail on KMS", async () => {
    sb.account(WORKLOAD).setKeyPolicy(workloadKey, [{ principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] }]);
    await share("add");
    const { SnapshotId } = await copy(vault, vaultKey);
    sb.clock.advance(MINUTE);
    const out = await vault.send(new DescribeSnapshotsCommand({ SnapshotIds: [SnapshotId!] }));
    expect(out.Snapshots?.map((s) => [s.State, s.StateMessage])).toEqual([
      ["error", `Given key ID is not accessible. You must have DescribeKey permissions on the key ${workloadKey}.`],
    ]);
  });

  it("the key policy grants Decrypt but not CreateGrant: the copy fails too (EBS needs kms:CreateGrant on the source key)", async () => {
    sb.account(WORKLOAD).setKeyPolicy(workloadKey, [
      { principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] },
      { principals: [VAULT], actions: ["kms:Decrypt", "kms:DescribeKey"] },
    ]);
    await share("add");
    const { SnapshotId } = await copy(vault, vaultKey);
    sb.clock.advance(MINUTE);
    expect(sb.account(VAULT).ec2.snapshot(REGION, SnapshotId!)?.status).toBe("error");
  });

  it("a destination key of another account that does not let the vault use it: the copy fails", async () => {
    await share("add");
    const { SnapshotId } = await copy(vault, workloadKey);
    sb.clock.advance(MINUTE);
    expect(sb.account(VAULT).ec2.snapshot(REGION, SnapshotId!)?.status).toBe("error");
  });

  it("a vault role whose IAM policy does not cover the source key is refused before the copy: UnauthorizedOperation on kms:DescribeKey", async () => {
    await share("add");
    sb.account(VAULT).addRole({
      name: "vault-copier",
      trust: [{ principals: [WORKLOAD] }],
      statements: [
        { actions: ["ec2:CopySnapshot", "ec2:DescribeSnapshots"], resources: ["*"] },
        { actions: ["kms:*"], resources: [vaultKey] },
      ],
    });
    const out = await new STSClient({ region: REGION }).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${VAULT}:role/vault-copier`, RoleSessionName: "copy" }),
    );
    const c = out.Credentials!;
    const credentials: SandboxCredentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const err = await rejection(copy(new EC2Client({ region: REGION, maxAttempts: 1, credentials }), vaultKey));
    expect(err.name).toBe("UnauthorizedOperation");
    expect(err.message).toContain(
      `User: arn:aws:sts::${VAULT}:assumed-role/vault-copier/copy is not authorized to perform: kms:DescribeKey on resource: ${workloadKey} because no identity-based policy allows the kms:DescribeKey action`,
    );
  });
});

describe("Snapshot Lock (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html)", () => {
  const lock = (input: Record<string, unknown>, client = ec2) => client.send(new LockSnapshotCommand({ SnapshotId: SNAP, ...input } as never));

  it("compliance with a cooling-off period: compliance-cooloff, DeleteSnapshot refused (SnapshotLocked), unlockable during the cooling-off period", async () => {
    const out = await lock({ LockMode: "compliance", CoolOffPeriod: 24, LockDuration: 30 });
    expect(out).toMatchObject({
      SnapshotId: SNAP,
      LockState: "compliance-cooloff",
      LockDuration: 30,
      CoolOffPeriod: 24,
      CoolOffPeriodExpiresOn: new Date("2026-01-03T03:00:00Z"),
      LockCreatedOn: new Date("2026-01-02T03:00:00Z"),
      LockExpiresOn: new Date("2026-02-01T03:00:00Z"),
    });
    const err = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: SNAP })));
    expect([err.name, err.message]).toEqual(["SnapshotLocked", `The snapshot '${SNAP}' is locked and can't be deleted. Its lock state is compliance-cooloff.`]);
    await expect(ec2.send(new UnlockSnapshotCommand({ SnapshotId: SNAP }))).resolves.toMatchObject({ SnapshotId: SNAP });
    await expect(ec2.send(new DeleteSnapshotCommand({ SnapshotId: SNAP }))).resolves.toBeDefined();
  });

  it("compliance after the cooling-off period: cannot be unlocked, shortened or switched to governance, only extended; deletable once expired", async () => {
    await lock({ LockMode: "compliance", CoolOffPeriod: 1, LockDuration: 30 });
    sb.clock.advance(HOUR);
    const unlock = await rejection(ec2.send(new UnlockSnapshotCommand({ SnapshotId: SNAP })));
    expect([unlock.name, unlock.message]).toEqual([
      "IncorrectState",
      `The snapshot '${SNAP}' is locked in compliance mode and its cooling-off period has expired. It can't be unlocked.`,
    ]);
    expect((await rejection(lock({ LockMode: "compliance", LockDuration: 10 }))).name).toBe("InvalidParameterValue");
    expect((await rejection(lock({ LockMode: "governance", LockDuration: 60 }))).name).toBe("InvalidParameterValue");
    expect((await rejection(lock({ LockMode: "compliance", CoolOffPeriod: 2, LockDuration: 60 }))).name).toBe("InvalidParameterCombination");
    const extended = await lock({ LockMode: "compliance", LockDuration: 60 });
    expect([extended.LockState, extended.LockExpiresOn]).toEqual(["compliance", new Date("2026-03-03T03:00:00Z")]);

    // Nobody deletes it meanwhile: not the owner's administrator, and the vault cannot even see it.
    expect((await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: SNAP })))).name).toBe("SnapshotLocked");
    expect((await rejection(vault.send(new DeleteSnapshotCommand({ SnapshotId: SNAP })))).name).toBe("InvalidSnapshot.NotFound");

    sb.clock.advance(60 * DAY);
    const listed = await ec2.send(new DescribeLockedSnapshotsCommand({}));
    expect(listed.Snapshots?.map((s) => [s.SnapshotId, s.LockState])).toEqual([[SNAP, "expired"]]);
    await expect(ec2.send(new DeleteSnapshotCommand({ SnapshotId: SNAP }))).resolves.toBeDefined();
  });

  it("governance: unlockable at any time; DescribeLockedSnapshots filters by lock-state", async () => {
    sb.ec2.addSnapshot(REGION, { id: "snap-0000000c", volumeId: "vol-0000000c", encrypted: false });
    await lock({ LockMode: "governance", LockDuration: 7 });
    await lock({ LockMode: "compliance", LockDuration: 7 });
    await ec2.send(new LockSnapshotCommand({ SnapshotId: "snap-0000000c", LockMode: "governance", ExpirationDate: new Date("2026-01-09T00:00:00Z") }));
    const compliance = await ec2.send(new DescribeLockedSnapshotsCommand({ Filters: [{ Name: "lock-state", Values: ["compliance"] }] }));
    expect(compliance.Snapshots?.map((s) => s.SnapshotId)).toEqual([SNAP]);
    const governance = await ec2.send(new DescribeLockedSnapshotsCommand({ Filters: [{ Name: "lock-state", Values: ["governance"] }] }));
    expect(governance.Snapshots?.map((s) => [s.SnapshotId, s.LockExpiresOn])).toEqual([["snap-0000000c", new Date("2026-01-09T00:00:00Z")]]);
    await ec2.send(new UnlockSnapshotCommand({ SnapshotId: "snap-0000000c" }));
    await expect(ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-0000000c" }))).resolves.toBeDefined();
  });

  it("request rules: CoolOffPeriod only with compliance (1–72), LockDuration 1–36500 days or ExpirationDate, not both", async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [
        { LockMode: "governance", CoolOffPeriod: 24, LockDuration: 7 },
        "InvalidParameterCombination",
        "CoolOffPeriod can be specified only with LockMode compliance.",
      ],
      [
        { LockMode: "compliance", CoolOffPeriod: 73, LockDuration: 7 },
        "InvalidParameterValue",
        "Value (73) for parameter coolOffPeriod is invalid. Expecting a value between 1 and 72.",
      ],
      [
        { LockMode: "compliance", LockDuration: 0 },
        "InvalidParameterValue",
        "Value (0) for parameter lockDuration is invalid. Expecting a value between 1 and 36500.",
      ],
      [
        { LockMode: "compliance", LockDuration: 7, ExpirationDate: new Date("2026-02-01T00:00:00Z") },
        "InvalidParameterCombination",
        "You must specify either LockDuration or ExpirationDate, but not both.",
      ],
      [{ LockMode: "compliance" }, "InvalidParameterCombination", "You must specify either LockDuration or ExpirationDate, but not both."],
    ];
    for (const [input, name, message] of cases) {
      const err = await rejection(lock(input));
      expect([err.name, err.message]).toEqual([name, message]);
    }
  });
});
