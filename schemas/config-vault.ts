// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration section `vault`: a separate backup account that holds copies of our snapshots, so that whoever gets
 * the workload account's admin rights cannot delete the backups with the data (core/vault-plan.ts decides what is
 * shared, copied, locked and pruned there).
 *
 * Schemas here do not import schemas/config.ts (which imports this file): the region pattern and the tier shapes are
 * repeated, as schemas/config-fleet.ts does.
 */

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/**
 * AWS managed keys: their key policy cannot be changed, so no other account can ever use them
 * (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key). A snapshot encrypted with one
 * cannot be shared (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html; EC2: "Snapshots
 * encrypted with your default KMS key cannot be shared with other accounts",
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html), and the vault's copies must be
 * readable by the vault's own restore roles and by a key policy the vault controls: a customer managed key.
 */
export const AWS_MANAGED_ALIASES = ["alias/aws/rds", "alias/aws/ebs"] as const;

/** `alias/<name>`, `arn:…:kms:<region>:<account>:alias/<name>` or `arn:…:kms:<region>:<account>:key/<id>`. */
const KMS_REF = /^(alias\/[\w/-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(alias\/[\w/-]+|key\/[\w-]+))$/;

const KeySchema = z.union([z.object({ days: z.number().int().positive() }).strict(), z.object({ count: z.number().int().positive() }).strict()]);

/**
 * The vault's grandfather-father-son retention, longer than a workload policy's runbook defaults (7 / 30 / 365 days):
 * - daily 35 days: a month of daily restore points plus the days an intrusion or a silent corruption goes unnoticed
 *   before someone asks for a restore, which is what a copy out of the attacker's reach is for;
 * - weekly (Sunday) 90 days: a quarter, so a quarter-end reconciliation can go back to any week;
 * - monthly (the 1st) 730 days: two years, so a yearly audit can compare with the year before.
 * Ages are counted from the backup day the copy carries (its source's backup-date tag), as in core/retention.ts.
 */
export const VaultRetentionSchema = z
  .object({
    tiers: z
      .object({
        daily: z
          .object({ keep: KeySchema.default({ days: 35 }) })
          .strict()
          .prefault({}),
        weekly: z
          .object({ weekday: z.number().int().min(0).max(6).default(0), keep: KeySchema.default({ days: 90 }) })
          .strict()
          .optional(),
        monthly: z
          .object({ dayOfMonth: z.number().int().min(1).max(28).default(1), keep: KeySchema.default({ days: 730 }) })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({ weekly: {}, monthly: {} }),
    /** Floor: the newest N copies of a resource in a vault region are always kept, whatever their age. */
    keepNewest: z.number().int().min(1).default(3),
  })
  .strict();

/**
 * EBS Snapshot Lock (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html):
 * - `compliance`: after the cooling-off period nobody, not even the vault's root, can unlock or delete the copy or
 *   shorten the lock; `governance`: users with the IAM permission can unlock it;
 * - CoolOffPeriod "Allowed values: Min 1, max 72" hours, compliance mode only ("If you are locking the snapshot in
 *   governance mode, omit this parameter"); 0 here means the parameter is omitted (locked in compliance at once);
 * - LockDuration "Allowed values: Min 1, max 36500" days.
 */
const EbsLockSchema = z
  .object({
    mode: z.enum(["compliance", "governance"]).default("compliance"),
    /** Hours during which a compliance lock can still be undone (a mistake caught the same day); 0 = no cooling-off. */
    coolOffHours: z.number().int().min(0).max(72).default(24),
    /** Days a copy stays locked from its lock; default the daily tier's 35 days, so every daily copy is immutable for its whole life. */
    durationDays: z.number().int().min(1).max(36500).default(35),
  })
  .strict()
  .superRefine((lock, ctx) => {
    if (lock.mode === "governance" && lock.coolOffHours > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["coolOffHours"],
        message:
          "a cooling-off period applies to compliance mode only (LockSnapshot: omit CoolOffPeriod in governance mode, " +
          "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html): set 0 or mode compliance",
      });
    }
  });

/**
 * AWS Backup Vault Lock (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html),
 * the only lock RDS and Aurora copies can have (RDS has no snapshot lock):
 * - MinRetentionDays: "The shortest minimum retention period you can specify is 1 day";
 * - MaxRetentionDays: "The longest maximum retention period you can specify is 36500 days";
 * - ChangeableForDays: "AWS Backup enforces a 72-hour cooling-off period before Vault Lock takes effect … you must set
 *   ChangeableForDays to 3 or greater"; after that date the lock cannot be changed or removed (compliance mode).
 */
const BackupVaultLockSchema = z
  .object({
    enabled: z.boolean().default(true),
    minRetentionDays: z.number().int().min(1).max(36500).default(35),
    maxRetentionDays: z.number().int().min(1).max(36500).default(730),
    changeableForDays: z.number().int().min(3).max(36500).default(3),
  })
  .strict()
  .superRefine((lock, ctx) => {
    if (lock.minRetentionDays > lock.maxRetentionDays) {
      ctx.addIssue({
        code: "custom",
        path: ["minRetentionDays"],
        message: `${lock.minRetentionDays} days is longer than maxRetentionDays ${lock.maxRetentionDays}: AWS Backup would fail every copy job into the vault`,
      });
    }
  });

const VaultRegionSchema = z
  .object({
    region: z.string().regex(REGION, "expected an AWS region such as eu-west-1"),
    /**
     * The customer managed key the vault's copies are encrypted with in that region: an alias (`alias/<name>`,
     * resolved in the vault account) or a key or alias ARN of the vault account and region.
     */
    kmsKeyAlias: z.string().regex(KMS_REF, "expected alias/<name>, or a KMS key or alias ARN"),
  })
  .strict();

export const VaultConfigSchema = z
  .object({
    /** The backup account: 12 digits, not one of the workload accounts. */
    accountId: z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id"),
    /**
     * The account the workload stage (its watchdog and prune) is deployed in: the vault's read-only reader role trusts
     * those two roles of this account and no other principal (stacks/vault-definition.ts). Required to deploy the vault
     * stage.
     */
    centralAccountId: z
      .string()
      .regex(/^\d{12}$/, "expected a 12-digit AWS account id")
      .optional(),
    regions: z.array(VaultRegionSchema).min(1, "list at least one vault region"),
    retention: VaultRetentionSchema.prefault({}),
    /**
     * Hours a vault copy may lag behind its workload backup: the copy schedule's period plus the time a cross-account
     * copy takes (a first, full EBS or RDS copy of a large volume runs for hours). The watchdog calls a resource's vault
     * copies stale past the policy's freshnessHours plus this.
     */
    copyLagHours: z.number().positive().max(168).default(12),
    lock: z
      .object({
        ebs: EbsLockSchema.prefault({}),
        backupVault: BackupVaultLockSchema.optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((vault, ctx) => {
    if (vault.centralAccountId === vault.accountId) {
      ctx.addIssue({
        code: "custom",
        path: ["centralAccountId"],
        message: `${vault.accountId} is the vault account itself: the workload stage must run in another account, or whoever controls it controls the copies`,
      });
    }
    const seen = new Map<string, number>();
    vault.regions.forEach((r, i) => {
      const other = seen.get(r.region);
      if (other !== undefined)
        ctx.addIssue({ code: "custom", path: ["regions", i, "region"], message: `duplicate vault region "${r.region}" (also regions[${other}])` });
      else seen.set(r.region, i);
      const problem = vaultKeyProblem(r.kmsKeyAlias, vault.accountId, r.region);
      if (problem) ctx.addIssue({ code: "custom", path: ["regions", i, "kmsKeyAlias"], message: problem });
    });
    // A copy job into a locked AWS Backup vault whose lifecycle is shorter than MinRetentionDays, or longer than
    // MaxRetentionDays, fails ("the vault fails that backup or copy job",
    // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html): the tiers' day
    // counts are those lifecycles.
    const lock = vault.lock.backupVault;
    if (lock?.enabled) {
      const tiers = Object.entries(vault.retention.tiers).flatMap(([name, t]) => (t && "days" in t.keep ? [{ name, days: t.keep.days }] : []));
      const shortest = tiers.reduce<{ name: string; days: number } | undefined>((a, t) => (!a || t.days < a.days ? t : a), undefined);
      const longest = tiers.reduce<{ name: string; days: number } | undefined>((a, t) => (!a || t.days > a.days ? t : a), undefined);
      if (shortest && lock.minRetentionDays > shortest.days) {
        ctx.addIssue({
          code: "custom",
          path: ["lock", "backupVault", "minRetentionDays"],
          message: `${lock.minRetentionDays} days is longer than the ${shortest.name} tier's ${shortest.days} days: the Vault Lock would fail the copy jobs of that tier`,
        });
      }
      if (longest && lock.maxRetentionDays < longest.days) {
        ctx.addIssue({
          code: "custom",
          path: ["lock", "backupVault", "maxRetentionDays"],
          message: `${lock.maxRetentionDays} days is shorter than the ${longest.name} tier's ${longest.days} days: the Vault Lock would fail the copy jobs of that tier`,
        });
      }
    }
  });

export type VaultConfig = z.output<typeof VaultConfigSchema>;
export type VaultRetention = z.output<typeof VaultRetentionSchema>;

/** Why a vault region's key cannot encrypt the vault's copies, when it cannot. */
export function vaultKeyProblem(keyRef: string, accountId: string, region: string): string | undefined {
  const alias = keyRef.startsWith("arn:") ? /:(alias\/.+)$/.exec(keyRef)?.[1] : keyRef;
  if (alias && (AWS_MANAGED_ALIASES as readonly string[]).includes(alias)) {
    return (
      `${alias} is an AWS managed key: its key policy cannot be changed, so no other account can use it and it cannot encrypt a ` +
      "cross-account copy (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key); create a customer managed key in the vault account"
    );
  }
  const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):/.exec(keyRef);
  if (arn && arn[2] !== accountId) {
    return `the key belongs to account ${arn[2]}, not to the vault account ${accountId}: a copy in the vault must be encrypted with a key the vault owns, or whoever owns that key can make the copies unreadable`;
  }
  if (arn && arn[1] !== region) {
    return `the key is in ${arn[1]}; copies in ${region} need a key of that region (KMS keys are regional)`;
  }
  return undefined;
}

/** What of the stage's configuration the vault checks read. */
interface StageView {
  vault?: VaultConfig;
  fleet?: { accounts: readonly { id: string }[] };
}

/** What the vault section and the rest of the configuration refuse together, paths from the config root. */
export function vaultIssues(cfg: StageView): { path: (string | number)[]; message: string }[] {
  const vault = cfg.vault;
  if (!vault) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  const i = cfg.fleet?.accounts.findIndex((a) => a.id === vault.accountId) ?? -1;
  if (i >= 0) {
    out.push({
      path: ["vault", "accountId"],
      message: `${vault.accountId} is also a workload account (fleet.accounts[${i}]): the vault must be a separate account, or whoever controls the workload can delete its backups`,
    });
  }
  return out;
}
