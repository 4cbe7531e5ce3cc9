import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeleteSnapshotCommand, EC2Client, UnlockSnapshotCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { lambdaContext, quietRuntime } from "../../sandbox/scenarios/harness.ts";
import { createSandbox, DAY, DEFAULT_ACCOUNT_ID, FakeClock, MINUTE, type Sandbox } from "../../sandbox/index.ts";
import { resetClients } from "../../adapters/clients.ts";
import type { TargetCredentials } from "../../adapters/assume-role.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../runbooks/lib/handler.ts";
import { runBackup } from "../../runbooks/backup/backup.ts";
import { runCopy } from "../../runbooks/backup/copy.ts";
import { backupDeps } from "../../runbooks/backup/deps.ts";
import { runVaultCopy } from "../../runbooks/vault/copy.ts";
import { runVaultPrune } from "../../runbooks/vault/prune.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent } from "../../schemas/events-backup.ts";
import { runWatchdog } from "../../runbooks/backup/watchdog.ts";
import { runPrune } from "../../runbooks/backup/prune.ts";
import { resetVaultReaderSessions } from "../../adapters/vault-reader.ts";
import { vaultReaderRoleName, vaultReaderStatements } from "../../stacks/vault-definition.ts";
import { sandboxRoleName } from "../../sandbox/scenarios/roles.ts";
import { parseVaultCopyEvent, parseVaultPruneEvent } from "../../schemas/events-vault.ts";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { TAG } from "../../core/types.ts";
import { VAULT_TAG } from "../../core/vault-plan.ts";
import type { FunctionName } from "../../stacks/functions.ts";

/**
 * The backup account end to end on the IAM-enforcing sandbox: the workload's copy job shares our backups with the vault
 * account (its role as stacks/iam.ts derives it in the workload account), the vault's functions run in the vault account
 * as the roles stacks/iam.ts derives for it (installed there as the vault stage deploys them), with real KMS key
 * policies on both sides.
 *
 * AWS rules relied on:
 * - sharing: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html,
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html;
 * - the AWS managed key cannot be shared: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html;
 * - a shared encrypted snapshot is copied with the copying account's key, and the owner's key policy must let it use the
 *   source key: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html,
 *   https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html;
 * - Snapshot Lock: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html;
 * - the sharee sees no tags of the owner's: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html.
 */

const PRIMARY = "eu-west-1";
const WORKLOAD = DEFAULT_ACCOUNT_ID;
const VAULT = "222233334444";
const REPORTS = "reports";
const stateBucket = { bucket: REPORTS, region: PRIMARY };
const VAULT_ALIAS = "alias/ops-autopilot-vault";

let sb: Sandbox;
let clock: FakeClock;
let workloadKey: string;

/** Overrides of the vault section and of the policy, per test. */
let cfgVault: Record<string, unknown> = {};
let cfgPolicy: Record<string, unknown> = {};

function config(): Config {
  return parseConfig({
    app: "ops-autopilot",
    stage: "prod",
    primaryRegion: PRIMARY,
    observe: false,
    // The workload's key is a source key: the vault-copy role may use it (stacks/vault-scopes.ts), and no other of the workload's.
    backup: { sourceKmsKeyIds: [workloadKey], policies: [{ name: "db", selection: { tag: {} }, ...cfgPolicy }] },
    vault: {
      accountId: VAULT,
      centralAccountId: WORKLOAD,
      regions: [{ region: PRIMARY, kmsKeyAlias: VAULT_ALIAS }],
      lock: { ebs: { mode: "compliance", coolOffHours: 24, durationDays: 35 } },
      ...cfgVault,
    },
  });
}

/** The summaries the runs posted (their text), oldest first. */
let posted: string[] = [];
const runtime = (cfg: Config): Runtime => quietRuntime(cfg, clock, { postSlack: async (m) => void posted.push(m.text) });

async function invoke<E>(
  name: FunctionName,
  parse: (raw: unknown) => E,
  run: Parameters<typeof createHandler<E>>[0]["run"],
  event: unknown = { trigger: "schedule" },
) {
  const handler = createHandler({ name, parse, run }, runtime(config()));
  try {
    return { out: (await handler(event, lambdaContext(`r-${clock.now().getTime()}`))) as Record<string, unknown> };
  } catch (error) {
    if (error instanceof AggregateRunError) return { error, out: undefined };
    throw error;
  }
}

const backup = () => invoke("backup", parseBackupEvent, (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })));
const copy = () => invoke("copy", parseCopyEvent, (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })));
const watchdog = () => invoke("watchdog", parseWatchdogEvent, (e, c) => runWatchdog(e, c, backupDeps(c, { stateBucket })));
const prune = () => invoke("prune", parsePruneEvent, (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })), { trigger: "manual", dryRun: true });

/** The vault stage's reader role as stacks/vault-definition.ts defines it: its policy, and its trust in the watchdog's and prune's roles by aws:PrincipalArn. */
function installReader(): void {
  const cfg = config();
  sb.account(VAULT).addRole({
    name: vaultReaderRoleName(cfg),
    trust: [
      {
        principals: [`arn:aws:iam::${WORKLOAD}:root`],
        conditions: [
          {
            test: "ArnLike",
            variable: "aws:PrincipalArn",
            values: ["Watchdog", "Prune"].map((c) => `arn:aws:iam::${WORKLOAD}:role/ops-autopilot-prod-${c}Role-????????`),
          },
        ],
      },
    ],
    statements: vaultReaderStatements(cfg),
  });
}

/** The vault function's role, as the vault stage deploys it in the vault account, and a fresh session of it (sessions last an hour). */
const roles = new Set<string>();
async function vaultCreds(name: "vault-copy" | "vault-prune"): Promise<TargetCredentials> {
  const cfg = config();
  if (!roles.has(name)) {
    const statements = permissionsFor(name, { config: cfg, account: VAULT, partition: "aws", dlqArn: `arn:aws:sqs:${PRIMARY}:${VAULT}:dlq` });
    sb.account(VAULT).addRole({ name: `ops-autopilot-prod-vault-${name}`, trust: [{ principals: [WORKLOAD] }], statements });
    roles.add(name);
  }
  const out = await new STSClient({ region: PRIMARY }).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${VAULT}:role/ops-autopilot-prod-vault-${name}`, RoleSessionName: name }),
  );
  const c = out.Credentials!;
  return {
    key: `${name}@${clock.now().toISOString()}`,
    provider: async () => ({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration! }),
  };
}

const vaultCopy = async (event: unknown = { trigger: "schedule" }) => {
  const creds = await vaultCreds("vault-copy");
  return invoke("vault-copy", parseVaultCopyEvent, (e, c) => runVaultCopy(e, c, { creds }), event);
};
const vaultPrune = async (event: unknown = { trigger: "schedule" }) => {
  const creds = await vaultCreds("vault-prune");
  return invoke("vault-prune", parseVaultPruneEvent, (e, c) => runVaultPrune(e, c, { creds }), event);
};

const inputs = (service: "rds" | "ec2", command: string) =>
  sb
    .callsTo(service, command)
    .filter((c) => !c.error)
    .map((c) => [c.account ?? WORKLOAD, c.input]);

beforeEach(() => {
  clock = new FakeClock("2026-11-21T02:00:00Z");
  // recordUsage off: `npm run iam-report` weighs usage against config/example.json's roles, which have no vault.
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: [REPORTS], iam: { recordUsage: false } });
  sb.addAccount(VAULT, { name: "backup-vault" });
  resetClients();
  roles.clear();
  resetVaultReaderSessions();
  cfgVault = {};
  cfgPolicy = {};
  posted = [];
  workloadKey = sb.account(WORKLOAD).createKey(PRIMARY, {
    id: "workload-cmk",
    policy: [
      { principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] },
      { principals: [`arn:aws:iam::${VAULT}:root`], actions: ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"] },
    ],
  });
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: workloadKey });
  sb.ec2.addVolume(PRIMARY, { id: "vol-0a1b2c3d", tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: workloadKey });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

const RDS_NAME = "oa-ops-autopilot-prod-app-db-20261121";
const EBS_NAME = "oa-ops-autopilot-prod-vol-0a1b2c3d-20261121";

describe("vault: share, copy, lock on the IAM-enforcing sandbox", () => {
  it("the exact share, copy and lock commands: the copy job shares our backups, the vault copies them with its key and locks the EBS copy", async () => {
    await backup();
    clock.advance(30 * MINUTE);
    const shared = await copy();
    expect(shared.error).toBeUndefined();
    expect(inputs("rds", "ModifyDBSnapshotAttribute")).toEqual([
      [WORKLOAD, { DBSnapshotIdentifier: RDS_NAME, AttributeName: "restore", ValuesToAdd: [VAULT] }],
    ]);
    const ebsSnap = sb.ec2.snapshots(PRIMARY).find((s) => s.tags[TAG.name] === EBS_NAME)!;
    expect(inputs("ec2", "ModifySnapshotAttribute")).toEqual([
      [WORKLOAD, { SnapshotId: ebsSnap.id, Attribute: "createVolumePermission", OperationType: "add", UserIds: [VAULT] }],
    ]);

    const run = await vaultCopy();
    expect(run.error).toBeUndefined();
    const rdsTags = {
      [VAULT_TAG.vaultCopy]: "ops-autopilot:prod",
      [TAG.managedBy]: "ops-autopilot:prod",
      [VAULT_TAG.sourceAccount]: WORKLOAD,
      [TAG.copyOf]: `arn:aws:rds:${PRIMARY}:${WORKLOAD}:snapshot:${RDS_NAME}`,
      [TAG.source]: "app-db",
      [TAG.sourceRegion]: PRIMARY,
      [TAG.capturedAt]: "2026-11-21T02:00:00.000Z",
      [TAG.backupDate]: "2026-11-21",
      [TAG.name]: RDS_NAME,
    };
    const [rdsCopy] = inputs("rds", "CopyDBSnapshot");
    expect(rdsCopy![0]).toBe(VAULT);
    expect(rdsCopy![1]).toMatchObject({
      SourceDBSnapshotIdentifier: `arn:aws:rds:${PRIMARY}:${WORKLOAD}:snapshot:${RDS_NAME}`,
      TargetDBSnapshotIdentifier: `${RDS_NAME}-${WORKLOAD}`,
      KmsKeyId: VAULT_ALIAS,
      CopyTags: false,
    });
    expect(Object.fromEntries((rdsCopy![1] as { Tags: { Key: string; Value: string }[] }).Tags.map((t) => [t.Key, t.Value]))).toEqual(rdsTags);
    const [ebsCopy] = inputs("ec2", "CopySnapshot");
    expect(ebsCopy![0]).toBe(VAULT);
    expect(ebsCopy![1]).toMatchObject({
      SourceRegion: PRIMARY,
      SourceSnapshotId: ebsSnap.id,
      Description: `${EBS_NAME}-${WORKLOAD}`,
      Encrypted: true,
      KmsKeyId: VAULT_ALIAS,
    });
    const vaultEbs = sb.account(VAULT).ec2.snapshots(PRIMARY);
    expect(vaultEbs.map((s) => [s.tags[TAG.name], s.tags[VAULT_TAG.vaultCopy], s.kmsKeyId])).toEqual([[EBS_NAME, "ops-autopilot:prod", VAULT_ALIAS]]);
    expect(inputs("ec2", "LockSnapshot")).toEqual([[VAULT, { SnapshotId: vaultEbs[0]!.id, LockMode: "compliance", LockDuration: 35, CoolOffPeriod: 24 }]]);
    expect(sb.iam?.denials ?? []).toEqual([]);

    // The next run copies nothing again: the vault holds both.
    clock.advance(30 * MINUTE);
    const again = await vaultCopy();
    expect((again.out!.counts as Record<string, number>).copy).toBeUndefined();
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(1);
  });

  it("the summary and the report count every lock of the run: the EBS copies locked as they are made, and earlier copies the lock plan locks", async () => {
    for (const id of ["vol-0b1b2c3d", "vol-0c1b2c3d", "vol-0d1b2c3d"]) {
      sb.ec2.addVolume(PRIMARY, { id, tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: workloadKey });
    }
    await backup();
    clock.advance(30 * MINUTE);
    await copy();
    const first = await vaultCopy();
    expect(first.error).toBeUndefined();
    expect(posted.at(-1)!.split("\n")[0]).toBe(
      "Vault 222233334444: 5 copies started, 0 skipped, 0 not copyable, 4 EBS copies locked (4 as they were made, 0 from earlier runs)",
    );
    expect(first.out!.counts).toEqual({ copy: 5, foreign: 0, locks: 4, locksAtCopy: 4, locksOfEarlierCopies: 0, unsupportedLocks: 0 });

    // The vault's administrator lifts two locks in their cooling-off: the next run's lock plan locks those copies again.
    const vaultAdmin = new EC2Client({ region: PRIMARY, maxAttempts: 1, credentials: sb.account(VAULT).adminCredentials() });
    const unlocked = sb.account(VAULT).ec2.snapshots(PRIMARY).slice(0, 2);
    for (const c of unlocked) await vaultAdmin.send(new UnlockSnapshotCommand({ SnapshotId: c.id }));
    clock.advance(30 * MINUTE);
    const second = await vaultCopy();
    expect(second.error).toBeUndefined();
    expect(posted.at(-1)!.split("\n")[0]).toBe(
      "Vault 222233334444: 0 copies started, 5 skipped, 0 not copyable, 2 EBS copies locked (0 as they were made, 2 from earlier runs)",
    );
    expect(second.out!.counts).toEqual({ skip: 5, foreign: 0, locks: 2, locksAtCopy: 0, locksOfEarlierCopies: 2, unsupportedLocks: 1 });
    expect(
      inputs("ec2", "LockSnapshot")
        .slice(4)
        .map(([, i]) => (i as { SnapshotId: string }).SnapshotId)
        .sort(),
    ).toEqual(unlocked.map((c) => c.id).sort());
    expect(sb.iam?.denials ?? []).toEqual([]);
  });

  it("a snapshot encrypted with aws/rds is explained, not shared", async () => {
    sb.rds.addInstance(PRIMARY, { id: "legacy-db", tags: { "ops-autopilot:backup": "db" }, encrypted: true });
    await backup();
    clock.advance(30 * MINUTE);
    const run = await copy();
    expect(sb.callsTo("rds", "ModifyDBSnapshotAttribute").map((c) => (c.input as { DBSnapshotIdentifier: string }).DBSnapshotIdentifier)).toEqual([RDS_NAME]);
    const failure = run.error!.failures.find((f) => f.item.includes("legacy-db"))!;
    expect(failure).toEqual({
      item: "share oa-ops-autopilot-prod-legacy-db-20261121",
      region: PRIMARY,
      kind: "kms",
      message:
        "encrypted with the AWS managed key aws/rds, which AWS does not let any other account use (its key policy cannot be changed), so oa-ops-autopilot-prod-legacy-db-20261121 cannot be shared with the vault: re-encrypt the source with a customer managed key (CopyDBSnapshot with a customer managed KmsKeyId, or encrypt the RDS DB instance itself with one) whose key policy lets the vault account use it",
    });
  });

  it("a copy fails with the KMS error when the workload key's policy does not let the vault use it; the report names the key and the fix", async () => {
    sb.account(WORKLOAD).setKeyPolicy(workloadKey, [{ principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] }]);
    await backup();
    clock.advance(30 * MINUTE);
    await copy();
    const first = await vaultCopy();
    const fix = `the key policy of ${workloadKey} must allow arn:aws:iam::${VAULT}:root kms:DescribeKey, kms:CreateGrant and kms:Decrypt (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)`;
    // RDS refuses the copy at once; EBS accepts it and the copy ends in error, which the next run reports.
    const rds = first.error!.failures.find((f) => f.item.startsWith("arn:aws:rds"))!;
    expect(rds.kind).toBe("kms");
    expect(rds.message).toContain(workloadKey);
    expect(rds.message).toContain(fix);
    clock.advance(30 * MINUTE);
    const second = await vaultCopy();
    const ebs = second.error!.failures.find((f) => f.message.startsWith("vault copy snap-"))!;
    expect(ebs.kind).toBe("kms");
    expect(ebs.message).toContain(`Given key ID is not accessible. You must have DescribeKey permissions on the key ${workloadKey}.`);
    expect(ebs.message).toContain(fix);
  });

  it("a share encrypted with a workload key outside backup.sourceKmsKeyIds: IAM refuses the vault-copy role that key, the failure names it and the fix", async () => {
    // The key's policy lets the vault use it: only the vault-copy role's IAM policy (stacks/vault-scopes.ts) refuses it.
    const otherKey = sb.account(WORKLOAD).createKey(PRIMARY, {
      id: "other-cmk",
      policy: [
        { principals: [`arn:aws:iam::${WORKLOAD}:root`], actions: ["kms:*"] },
        { principals: [`arn:aws:iam::${VAULT}:root`], actions: ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"] },
      ],
    });
    sb.ec2.addVolume(PRIMARY, { id: "vol-0e0f0a0b", tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: otherKey });
    sb.iam!.expectDenial("vault-copy", "kms:DescribeKey");
    await backup();
    clock.advance(30 * MINUTE);
    await copy();
    const run = await vaultCopy();
    const share = sb.ec2.snapshots(PRIMARY).find((s) => s.tags[TAG.name] === "oa-ops-autopilot-prod-vol-0e0f0a0b-20261121")!;
    expect(run.error!.failures.map((f) => [f.item, f.kind])).toEqual([[`${share.id} → ${PRIMARY}`, "kms"]]);
    expect(run.error!.failures[0]!.message).toContain(
      `is not authorized to perform: kms:DescribeKey on resource: ${otherKey} because no identity-based policy allows the kms:DescribeKey action.`,
    );
    expect(run.error!.failures[0]!.message).toContain(
      `the key policy of ${otherKey} must allow arn:aws:iam::${VAULT}:root kms:DescribeKey, kms:CreateGrant and kms:Decrypt ` +
        "(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html), " +
        "and backup.sourceKmsKeyIds must name it (by key ARN, or by an alias it has in its account): the vault-copy role may use no other key of a workload account",
    );
    expect((sb.iam?.denials ?? []).map((d) => [d.principal, d.request.action, d.request.resource])).toEqual([["vault-copy", "kms:DescribeKey", otherKey]]);
    // The configured key's shares are copied as ever.
    expect(inputs("ec2", "CopySnapshot").map(([, i]) => (i as { Description: string }).Description)).toEqual([`${EBS_NAME}-${WORKLOAD}`]);
  });

  it("a locked vault copy survives DeleteSnapshot from the workload account's admin and from the vault pruner", async () => {
    // A retention that expires the first night's copy the next day: only its lock keeps it.
    cfgVault = { retention: { tiers: { daily: { keep: { days: 1 } } }, keepNewest: 1 } };
    for (let night = 0; night < 2; night++) {
      await backup();
      clock.advance(30 * MINUTE);
      await copy();
      await vaultCopy();
      clock.advance(DAY - 30 * MINUTE);
    }
    const first = sb
      .account(VAULT)
      .ec2.snapshots(PRIMARY)
      .find((s) => s.tags[TAG.backupDate] === "2026-11-21")!;
    expect(first.tags[TAG.name]).toBe(EBS_NAME);
    // The workload's administrator cannot even see it (another account's snapshot, never shared back).
    const workloadAdmin = new EC2Client({ region: PRIMARY, maxAttempts: 1, credentials: sb.account(WORKLOAD).adminCredentials() });
    await expect(workloadAdmin.send(new DeleteSnapshotCommand({ SnapshotId: first.id }))).rejects.toMatchObject({ name: "InvalidSnapshot.NotFound" });
    // The vault's pruner plans to keep it (locked), and its role's own delete is refused by EC2 (SnapshotLocked).
    clock.advance(3 * DAY);
    const prune = await vaultPrune({ trigger: "manual", dryRun: false });
    const plans = prune.out!.plans as { kind: string; keep: { id: string; reason: string }[]; delete: unknown[] }[];
    const ebs = plans.find((p) => p.kind === "ebs-volume")!;
    expect(ebs.delete).toEqual([]);
    expect(ebs.keep.find((k) => k.id === first.id)?.reason).toMatch(/^locked \(compliance\) until 2026-12-26T/);
    const pruner = new EC2Client({ region: PRIMARY, maxAttempts: 1, credentials: (await vaultCreds("vault-prune")).provider });
    await expect(pruner.send(new DeleteSnapshotCommand({ SnapshotId: first.id }))).rejects.toMatchObject({ name: "SnapshotLocked" });
    expect(sb.account(VAULT).ec2.snapshot(PRIMARY, first.id)?.status).toBe("completed");
    expect(sb.iam?.denials ?? []).toEqual([]);
  });
});

describe("vault coverage in the workload's watchdog and prune (through the vault's reader role)", () => {
  it("the watchdog reports each resource's newest vault copy, stale (a failure naming it) until the vault copies it, fresh after", async () => {
    installReader();
    expect(sandboxRoleName(config(), "watchdog")).toBe("ops-autopilot-prod-WatchdogRole-sandbox0");
    await backup();
    clock.advance(13 * 60 * MINUTE);
    const before = await watchdog();
    const stale = before.error!.failures.filter((f) => f.item.startsWith("vault copy of"));
    expect(stale.map((f) => [f.item, f.message])).toEqual([
      ["vault copy of rds-instance app-db (123456789012)", "no vault copy at all (limit 37 h (freshness 25 h + copy lag 12 h))"],
      ["vault copy of ebs-volume vol-0a1b2c3d (123456789012)", "no vault copy at all (limit 37 h (freshness 25 h + copy lag 12 h))"],
    ]);
    expect(sb.callsTo("sts", "AssumeRole").at(-1)?.input).toMatchObject({
      RoleArn: `arn:aws:iam::${VAULT}:role/ops-autopilot-prod-vault-reader`,
      RoleSessionName: "ops-autopilot-prod-watchdog",
    });
    await copy();
    await vaultCopy();
    clock.advance(30 * MINUTE);
    const after = await watchdog();
    expect(after.error).toBeUndefined();
    expect((after.out!.vault as { status: string; resourceId: string }[]).map((v) => [v.resourceId, v.status])).toEqual([
      ["app-db", "fresh"],
      ["vol-0a1b2c3d", "fresh"],
    ]);
    expect(sb.iam?.denials ?? []).toEqual([]);
  });

  it("prune reads the vault as the reader; without the reader role deployed the run fails naming the vault, and deletes nothing it would not", async () => {
    await backup();
    clock.advance(30 * MINUTE);
    const without = await prune();
    const failure = without.error!.failures.find((f) => f.item === "vault")!;
    expect(failure.kind).toBe("retryable");
    expect(failure.message).toContain("the vault's copies could not be read");
    installReader();
    resetVaultReaderSessions();
    const withReader = await prune();
    expect(withReader.error).toBeUndefined();
  });

  /** One night: the backup, and half an hour later the copy job (which shares the backup with the vault). */
  const night = async () => {
    expect((await backup()).error).toBeUndefined();
    clock.advance(30 * MINUTE);
    expect((await copy()).error).toBeUndefined();
  };
  const prunePlan = async (event: unknown) => {
    const run = await invoke("prune", parsePruneEvent, (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })), event);
    expect(run.error).toBeUndefined();
    type Entry = { id: string; reason: string };
    const plans = run.out!.plans as { resource: string; frozen?: string; keep: Entry[]; delete: Entry[] }[];
    return plans.find((p) => p.resource === "app-db")!;
  };
  const rdsName = (day: string) => `oa-ops-autopilot-prod-app-db-${day.replaceAll("-", "")}`;
  /** Retention alone would keep only the newest: one backup, a day old is expired. */
  const shortRetention = { keepNewest: 1, tiers: { daily: { keep: { days: 1 } } }, maxDeletePercent: 100 };

  it("prune keeps the day-old snapshots the vault has no copy of yet while the vault lags, and deletes them once vault-copy caught up", async () => {
    cfgPolicy = shortRetention;
    cfgVault = { copyLagHours: 48 };
    installReader();
    await night();
    expect((await vaultCopy()).error).toBeUndefined();
    // Two more nights: the copy job shares them, the vault copies nothing (it lags).
    clock.set(new Date("2026-11-22T02:00:00Z"));
    await night();
    clock.set(new Date("2026-11-23T02:00:00Z"));
    await night();
    const lagging = await prunePlan({ trigger: "manual", dryRun: true });
    expect(lagging.frozen).toBeUndefined();
    expect(lagging.delete.map((d) => d.id)).toEqual([rdsName("2026-11-21")]);
    expect(lagging.keep).toContainEqual({
      id: rdsName("2026-11-22"),
      reason: "the vault has no copy of it yet (the newest vault copy holds data of 2026-11-21T02:00:00.000Z): kept until it does",
    });
    expect(lagging.keep.map((d) => d.id)).toEqual([rdsName("2026-11-23"), rdsName("2026-11-22")]);

    expect((await vaultCopy()).error).toBeUndefined();
    clock.advance(30 * MINUTE);
    const caughtUp = await prunePlan({ trigger: "schedule" });
    expect(caughtUp.delete.map((d) => d.id)).toEqual([rdsName("2026-11-21"), rdsName("2026-11-22")]);
    expect(inputs("rds", "DeleteDBSnapshot")).toEqual([
      [WORKLOAD, { DBSnapshotIdentifier: rdsName("2026-11-21") }],
      [WORKLOAD, { DBSnapshotIdentifier: rdsName("2026-11-22") }],
    ]);
    expect(sb.iam?.denials ?? []).toEqual([]);
  });

  it("prune deletes nothing of a resource whose newest vault copy is stale, naming the copy and the limit; it thaws once the vault caught up", async () => {
    cfgPolicy = shortRetention;
    installReader();
    await night();
    expect((await vaultCopy()).error).toBeUndefined();
    clock.set(new Date("2026-11-22T02:00:00Z"));
    await night();
    clock.set(new Date("2026-11-23T02:00:00Z"));
    await night();
    clock.advance(30 * MINUTE);
    const stale = await prunePlan({ trigger: "schedule" });
    const vaultRds = sb
      .account(VAULT)
      .rds.snapshots(PRIMARY)
      .map((s) => s.id);
    expect(stale.frozen).toBe(`no available vault copy newer than 37 h (freshness 25 h + copy lag 12 h): the newest, ${vaultRds[0]}, holds data 49.0 h old`);
    expect(stale.delete).toEqual([]);
    expect(stale.keep.find((d) => d.id === rdsName("2026-11-21"))?.reason).toMatch(
      /^frozen \(no available vault copy newer than 37 h .*\); otherwise expired: /,
    );
    expect(sb.callsTo("rds", "DeleteDBSnapshot")).toEqual([]);

    expect((await vaultCopy()).error).toBeUndefined();
    clock.advance(30 * MINUTE);
    const thawed = await prunePlan({ trigger: "schedule" });
    expect(thawed.frozen).toBeUndefined();
    expect(thawed.delete.map((d) => d.id)).toEqual([rdsName("2026-11-21"), rdsName("2026-11-22")]);
  });
});
