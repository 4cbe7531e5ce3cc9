import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";

const base = { stage: "prod", primaryRegion: "eu-west-1" };
const VAULT = "999988887777";
const vault = (o: Record<string, unknown> = {}) => ({ accountId: VAULT, regions: [{ region: "eu-west-1", kmsKeyAlias: "alias/vault-backups" }], ...o });
/** The whole message of what `fn` throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

describe("config vault", () => {
  it("defaults: GFS 35 / 90 (Sunday) / 730 (the 1st) days, newest 3, 12 h copy lag, compliance lock with 24 h cooling-off for 35 days, no Backup vault", () => {
    expect(parseConfig({ ...base, vault: vault() }).vault).toEqual({
      accountId: VAULT,
      regions: [{ region: "eu-west-1", kmsKeyAlias: "alias/vault-backups" }],
      retention: {
        tiers: { daily: { keep: { days: 35 } }, weekly: { weekday: 0, keep: { days: 90 } }, monthly: { dayOfMonth: 1, keep: { days: 730 } } },
        keepNewest: 3,
      },
      copyLagHours: 12,
      lock: { ebs: { mode: "compliance", coolOffHours: 24, durationDays: 35 } },
    });
    expect(parseConfig(base).vault).toBeUndefined();
  });

  it("takes a Backup Vault Lock with its defaults, and key ARNs of the vault account and region", () => {
    const config = parseConfig({
      ...base,
      vault: vault({
        regions: [{ region: "eu-west-1", kmsKeyAlias: `arn:aws:kms:eu-west-1:${VAULT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` }],
        lock: { backupVault: {} },
      }),
    });
    expect(config.vault!.lock.backupVault).toEqual({ enabled: true, minRetentionDays: 35, maxRetentionDays: 730, changeableForDays: 3 });
  });

  it.each([
    ["an account id that is not 12 digits", vault({ accountId: "99998888777" }), "Invalid config: vault.accountId: expected a 12-digit AWS account id"],
    ["no region", vault({ regions: [] }), "Invalid config: vault.regions: list at least one vault region"],
    [
      "a duplicate region",
      vault({
        regions: [
          { region: "eu-west-1", kmsKeyAlias: "alias/a" },
          { region: "eu-west-1", kmsKeyAlias: "alias/b" },
        ],
      }),
      'Invalid config: vault.regions[1].region: duplicate vault region "eu-west-1" (also regions[0])',
    ],
    [
      "the AWS managed aws/rds key (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key)",
      vault({ regions: [{ region: "eu-west-1", kmsKeyAlias: "alias/aws/rds" }] }),
      "Invalid config: vault.regions[0].kmsKeyAlias: alias/aws/rds is an AWS managed key: its key policy cannot be changed, so no other account can use it and it cannot encrypt a cross-account copy (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key); create a customer managed key in the vault account",
    ],
    [
      "the AWS managed aws/ebs key by alias ARN",
      vault({ regions: [{ region: "eu-west-1", kmsKeyAlias: `arn:aws:kms:eu-west-1:${VAULT}:alias/aws/ebs` }] }),
      "Invalid config: vault.regions[0].kmsKeyAlias: alias/aws/ebs is an AWS managed key: its key policy cannot be changed, so no other account can use it and it cannot encrypt a cross-account copy (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key); create a customer managed key in the vault account",
    ],
    [
      "a key ARN of another account",
      vault({ regions: [{ region: "eu-west-1", kmsKeyAlias: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd" }] }),
      "Invalid config: vault.regions[0].kmsKeyAlias: the key belongs to account 111122223333, not to the vault account 999988887777: a copy in the vault must be encrypted with a key the vault owns, or whoever owns that key can make the copies unreadable",
    ],
    [
      "a key ARN of another region",
      vault({ regions: [{ region: "eu-west-1", kmsKeyAlias: `arn:aws:kms:us-east-1:${VAULT}:key/1234abcd` }] }),
      "Invalid config: vault.regions[0].kmsKeyAlias: the key is in us-east-1; copies in eu-west-1 need a key of that region (KMS keys are regional)",
    ],
    [
      "a key that is neither alias nor ARN",
      vault({ regions: [{ region: "eu-west-1", kmsKeyAlias: "1234abcd" }] }),
      "Invalid config: vault.regions[0].kmsKeyAlias: expected alias/<name>, or a KMS key or alias ARN",
    ],
    [
      "a cooling-off longer than LockSnapshot's 72 h (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html)",
      vault({ lock: { ebs: { coolOffHours: 73 } } }),
      "Invalid config: vault.lock.ebs.coolOffHours: Too big: expected number to be <=72",
    ],
    [
      "a cooling-off in governance mode",
      vault({ lock: { ebs: { mode: "governance", coolOffHours: 1 } } }),
      "Invalid config: vault.lock.ebs.coolOffHours: a cooling-off period applies to compliance mode only (LockSnapshot: omit CoolOffPeriod in governance mode, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html): set 0 or mode compliance",
    ],
    [
      "a lock of more than LockDuration's 36500 days",
      vault({ lock: { ebs: { durationDays: 36501 } } }),
      "Invalid config: vault.lock.ebs.durationDays: Too big: expected number to be <=36500",
    ],
    [
      "a Vault Lock changeable for less than AWS Backup's 72-hour cooling-off (PutBackupVaultLockConfiguration)",
      vault({ lock: { backupVault: { changeableForDays: 2 } } }),
      "Invalid config: vault.lock.backupVault.changeableForDays: Too small: expected number to be >=3",
    ],
    [
      "a Vault Lock whose minimum retention exceeds its maximum",
      vault({ retention: { tiers: { daily: { keep: { count: 30 } } } }, lock: { backupVault: { minRetentionDays: 800, maxRetentionDays: 730 } } }),
      "Invalid config: vault.lock.backupVault.minRetentionDays: 800 days is longer than maxRetentionDays 730: AWS Backup would fail every copy job into the vault",
    ],
    [
      "a Vault Lock minimum longer than the daily tier (the lock fails shorter copy jobs)",
      vault({ lock: { backupVault: { minRetentionDays: 40 } } }),
      "Invalid config: vault.lock.backupVault.minRetentionDays: 40 days is longer than the daily tier's 35 days: the Vault Lock would fail the copy jobs of that tier",
    ],
    [
      "a Vault Lock maximum shorter than the monthly tier",
      vault({ lock: { backupVault: { maxRetentionDays: 365 } } }),
      "Invalid config: vault.lock.backupVault.maxRetentionDays: 365 days is shorter than the monthly tier's 730 days: the Vault Lock would fail the copy jobs of that tier",
    ],
    ["an unknown field", vault({ bucket: "x" }), 'Invalid config: vault: Unrecognized key: "bucket"'],
  ])("refuses %s", (_what, v, message) => {
    expect(errorOf(() => parseConfig({ ...base, vault: v }))).toBe(message);
  });

  it("refuses a vault account that is also a workload account of the fleet", () => {
    const fleet = { accounts: [{ id: VAULT, name: "payments", externalId: "oa-prod-payments" }] };
    expect(errorOf(() => parseConfig({ ...base, fleet, vault: vault() }))).toBe(
      `Invalid config: vault.accountId: ${VAULT} is also a workload account (fleet.accounts[0]): the vault must be a separate account, or whoever controls the workload can delete its backups`,
    );
  });
});
