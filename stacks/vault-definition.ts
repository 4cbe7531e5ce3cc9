/**
 * The pure half of the vault stage (stacks/vault.ts): what ops-autopilot deploys in the backup account
 * (schemas/config-vault.ts), as plain data, so tests and scripts read it without SST's platform types.
 *
 * The vault stage is the same SST app as the workload stage, deployed under the stage name `<stage>-vault` with the
 * vault account's credentials; it reads the workload stage's configuration (config/<stage>.json), so both sides name
 * each other from one file. It refuses an account other than `vault.accountId`, and the workload stage refuses the vault
 * account ({@link deployTargetProblem}).
 *
 * What it holds, per vault region: a customer managed KMS key under the configured alias, whose key policy names the
 * vault account alone ({@link vaultKeyPolicy}); with `lock.backupVault` an AWS Backup vault with Vault Lock
 * ({@link backupVaults}). Once: the vault functions (stacks/functions.ts rows with `stage: "vault"`),
 * each with its least-privilege role derived by stacks/iam.ts for the vault account, on their schedules; the read-only
 * reader role the workload's watchdog and prune assume ({@link vaultReaderRole}); the vault's own Reports bucket.
 */
import type { Config } from "../schemas/config.ts";
import type { VaultConfig } from "../schemas/config-vault.ts";
import { FUNCTIONS, type FunctionSpec } from "./functions.ts";
import { managedBy, permissionsFor, type IamContext, type Statement } from "./iam.ts";
import { policyDocument } from "./member-roles.ts";
import { sstRoleNamePattern } from "./patterns.ts";
import type { PolicyDocument } from "./policy-lint.ts";

/** A stage named `<stage>-vault` deploys the vault side of the workload stage `<stage>`. */
export const VAULT_STAGE_SUFFIX = "-vault";

/** The workload stage a vault stage serves (`prod-vault` -> `prod`), or undefined for a workload stage. */
export function workloadStageOf(stage: string): string | undefined {
  return stage.endsWith(VAULT_STAGE_SUFFIX) && stage.length > VAULT_STAGE_SUFFIX.length ? stage.slice(0, -VAULT_STAGE_SUFFIX.length) : undefined;
}

/** The vault stage of a workload stage (`prod` -> `prod-vault`). */
export function vaultStageName(workloadStage: string): string {
  return `${workloadStage}${VAULT_STAGE_SUFFIX}`;
}

/**
 * The prefix of the vault stage's names (`<app>-<stage>-vault-`): the deployer policy (stacks/vault-deployer.ts) scopes
 * the stage's roles, functions, log groups, alarms, rules, schedules, queues and buckets to it.
 */
export function vaultNamePrefix(config: Pick<Config, "app" | "stage">): string {
  return `${config.app}-${vaultStageName(config.stage)}-`;
}

/** The AWS Backup vault's name, `<app>-<stage>-vault`, the same in every vault region (outside {@link vaultNamePrefix}: named exactly). */
export function backupVaultName(config: Pick<Config, "app" | "stage">): string {
  return `${config.app}-${vaultStageName(config.stage)}`;
}

/** The rows of stacks/functions.ts the vault stage deploys (`stage: "vault"`), and no workload stage does. */
export function vaultFunctions(): FunctionSpec[] {
  return FUNCTIONS.filter((f) => f.stage === "vault");
}

/**
 * Why a stage must not be deployed with the credentials of `account`, or undefined when it may:
 * - the vault stage only into `vault.accountId` (a vault stage in a workload account would put the copies back within
 *   reach of the workload's admins, which is what the vault is for);
 * - a workload stage never into the vault account (its roles would then reach the copies).
 */
export function deployTargetProblem(config: Pick<Config, "stage" | "vault">, stage: string, account: string): string | undefined {
  const vaultStage = workloadStageOf(stage) !== undefined;
  const vault = config.vault;
  if (vaultStage) {
    if (!vault) return `stage ${stage} is a vault stage, but the ${config.stage} configuration has no vault section`;
    if (account !== vault.accountId) {
      return (
        `refusing to deploy the vault stage ${stage} into account ${account}: vault.accountId is ${vault.accountId}. ` +
        `Deploy it with the backup account's credentials (e.g. AWS_PROFILE=<vault profile> npx sst deploy --stage ${stage})`
      );
    }
    return undefined;
  }
  if (vault && account === vault.accountId) {
    return (
      `refusing to deploy the workload stage ${stage} into the vault account ${account}: its roles would reach the vault's copies. ` +
      `Deploy the vault side as stage ${vaultStageName(stage)}, and this stage with a workload account's credentials`
    );
  }
  return undefined;
}

/**
 * What the vault stage cannot be deployed without, one message per field (paths from the config root): the vault
 * section, the account the workload stage runs in (the reader role trusts its watchdog and prune), and an alias for
 * each region's key (the stage creates the key under it; a key ARN names a key the stage does not own, whose policy it
 * cannot vouch for).
 */
export function vaultStageProblems(config: Config): string[] {
  const vault = config.vault;
  if (!vault) return [`vault: the ${config.stage} configuration has no vault section, so there is no vault stage to deploy`];
  const out: string[] = [];
  if (!vault.centralAccountId) {
    out.push(
      "vault.centralAccountId: name the account the workload stage is deployed in: the vault's reader role trusts that account's watchdog and prune roles",
    );
  }
  vault.regions.forEach((r, i) => {
    if (!keyAlias(r.kmsKeyAlias)) {
      out.push(
        `vault.regions[${i}].kmsKeyAlias: ${r.kmsKeyAlias} is a key ARN; the vault stage creates the region's key with a key policy naming the vault account alone, under an alias: give alias/<name>`,
      );
    }
  });
  return out;
}

/** `alias/<name>` of an alias reference (`alias/x` or an alias ARN); undefined for a key ARN. */
export function keyAlias(ref: string): string | undefined {
  if (ref.startsWith("alias/")) return ref;
  return /^arn:[^:]+:kms:[^:]+:\d{12}:(alias\/.+)$/.exec(ref)?.[1];
}

// ---------------------------------------------------------------------------------------------------------------------
// KMS

/**
 * The administrative KMS actions: who holds them can change the key policy, disable the key or schedule its deletion,
 * which makes every copy encrypted with it unreadable
 * (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html).
 */
export const KMS_ADMIN_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:DeleteAlias",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

export interface VaultKey {
  region: string;
  /** The alias the key is created under (the region's `kmsKeyAlias`). */
  alias: string;
  description: string;
  /** Days a scheduled deletion waits: AWS's maximum, the longest window to notice and cancel it. */
  deletionWindowInDays: 30;
  policy: PolicyDocument;
}

/**
 * The key policy of the vault's key in `region`:
 * - the vault account's root holds every KMS action, which delegates the key to the vault account's own IAM policies
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam):
 *   its function roles (stacks/iam.ts), its Backup vault and its operators, and a key a policy locks out of
 *   administration is refused by KMS anyway;
 * - no other account is named, and "no AWS principal … has any permissions to a KMS key unless they are explicitly
 *   allowed … in a key policy" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html), so no
 *   principal of a workload account can use, administer or schedule the deletion of the key, whatever its own IAM
 *   policies say (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html);
 * - and, should a later edit name another account, its principals are still denied the administrative actions
 *   ({@link KMS_ADMIN_ACTIONS}): `aws:PrincipalAccount` is the calling principal's account
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount).
 *   The deny leaves the cryptographic actions alone, which services use through grants.
 */
export function vaultKeyPolicy(vault: Pick<VaultConfig, "accountId">, partition: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "VaultAccountOwnsTheKey",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${vault.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "NoOtherAccountAdministersTheKey",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: [...KMS_ADMIN_ACTIONS],
        Resource: "*",
        Condition: { StringNotEquals: { "aws:PrincipalAccount": vault.accountId } },
      },
    ],
  };
}

/** One key per vault region, under its configured alias (regions whose key is a key ARN are left out: see {@link vaultStageProblems}). */
export function vaultKeys(config: Config, partition: string): VaultKey[] {
  const vault = requireVault(config);
  return vault.regions.flatMap((r) => {
    const alias = keyAlias(r.kmsKeyAlias);
    if (!alias) return [];
    return [
      {
        region: r.region,
        alias,
        description: `ops-autopilot ${managedBy(config)}: encrypts the vault's copies in ${r.region}`,
        deletionWindowInDays: 30 as const,
        policy: vaultKeyPolicy(vault, partition),
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Roles

export interface VaultRole {
  /** The exact role name, or for a function's role the pattern SST names it by (`…-????????`). */
  name: string;
  trustPolicy: PolicyDocument;
  statements: Statement[];
  policy: PolicyDocument;
}

/** The IAM context of the vault account: stacks/iam.ts derives the vault functions' roles in it. */
export function vaultContext(config: Config, partition: string, dlqArn?: string): IamContext {
  const vault = requireVault(config);
  const home = vault.regions[0]!.region;
  return { config, account: vault.accountId, partition, dlqArn: dlqArn ?? `arn:${partition}:sqs:${home}:${vault.accountId}:dlq` };
}

/** Lambda's trust, as SST gives every function's role. */
export const LAMBDA_TRUST: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** The component SST deploys a function as (stacks/lambda.ts capitalize): `vault-copy` -> `Vault-copy`. */
export function componentOf(spec: Pick<FunctionSpec, "name">): string {
  return spec.name.charAt(0).toUpperCase() + spec.name.slice(1);
}

/**
 * Each vault function's role: Lambda's trust, and exactly the statements stacks/iam.ts derives for it in the vault
 * account from its declared calls (runbooks/lib/calls.ts FUNCTION_CALLS × stacks/iam-scopes.ts), named as SST names it
 * in the vault stage.
 */
export function vaultFunctionRoles(config: Config, partition: string): VaultRole[] {
  const ctx = vaultContext(config, partition);
  const stage = vaultStageName(config.stage);
  return vaultFunctions().map((spec) => {
    const statements = permissionsFor(spec.name, ctx);
    return { name: sstRoleNamePattern(config.app, stage, componentOf(spec)), trustPolicy: LAMBDA_TRUST, statements, policy: policyDocument(statements) };
  });
}

/** The read-only role of the vault account the workload stage's watchdog and prune assume: `<app>-<stage>-vault-reader`. */
export function vaultReaderRoleName(config: Pick<Config, "app" | "stage">): string {
  return `${config.app}-${config.stage}-vault-reader`;
}

/** The central functions that read the vault through the reader: the watchdog (vault freshness) and prune (its freeze). */
export const READER_COMPONENTS = ["Watchdog", "Prune"] as const;

/**
 * Who may assume the reader: the workload stage's watchdog and prune roles, by their SST name pattern, in the account
 * the workload stage is deployed in (`vault.centralAccountId`), and nothing else. For a role session aws:PrincipalArn is
 * the role's ARN (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 */
export function vaultReaderTrustPolicy(config: Config, partition: string): PolicyDocument {
  const central = requireVault(config).centralAccountId;
  if (!central) throw new Error(vaultStageProblems(config)[0]);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${central}:root` },
        Action: "sts:AssumeRole",
        Condition: {
          ArnLike: {
            "aws:PrincipalArn": READER_COMPONENTS.map((c) => `arn:${partition}:iam::${central}:role/${sstRoleNamePattern(config.app, config.stage, c)}`),
          },
        },
      },
    ],
  };
}

/**
 * What the reader may do: list the vault's copies and their locks in the vault regions, nothing else. Describe calls of
 * EC2 and RDS snapshots authorize on `*` only, so they are pinned to the vault regions with aws:RequestedRegion.
 */
export const READER_ACTIONS = ["ec2:DescribeLockedSnapshots", "ec2:DescribeSnapshots", "rds:DescribeDBClusterSnapshots", "rds:DescribeDBSnapshots"] as const;

export function vaultReaderStatements(config: Config): Statement[] {
  const regions = requireVault(config).regions.map((r) => r.region);
  return [{ actions: [...READER_ACTIONS], resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: regions }] }];
}

export function vaultReaderRole(config: Config, partition: string): VaultRole {
  const statements = vaultReaderStatements(config);
  return { name: vaultReaderRoleName(config), trustPolicy: vaultReaderTrustPolicy(config, partition), statements, policy: policyDocument(statements) };
}

// ---------------------------------------------------------------------------------------------------------------------
// AWS Backup

export interface BackupVaultSpec {
  region: string;
  /** `<app>-<stage>-vault`, the same in every region. */
  name: string;
  /** The region's key alias: the vault's recovery points are encrypted with the vault's key. */
  keyAlias: string;
  /** Vault Lock (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html). */
  lock: { minRetentionDays: number; maxRetentionDays: number; changeableForDays: number };
}

/** One AWS Backup vault with Vault Lock per vault region, when `vault.lock.backupVault` is enabled; none otherwise. */
export function backupVaults(config: Config): BackupVaultSpec[] {
  const vault = requireVault(config);
  const lock = vault.lock.backupVault;
  if (!lock?.enabled) return [];
  return vault.regions.flatMap((r) => {
    const alias = keyAlias(r.kmsKeyAlias);
    if (!alias) return [];
    return [
      {
        region: r.region,
        name: backupVaultName(config),
        keyAlias: alias,
        lock: { minRetentionDays: lock.minRetentionDays, maxRetentionDays: lock.maxRetentionDays, changeableForDays: lock.changeableForDays },
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------------------------------

export interface VaultDefinition {
  /** The SST stage (`<stage>-vault`). */
  stage: string;
  account: string;
  /**
   * The region the vault's functions, schedules, Reports bucket and pager topic are in: the stage's primary region, as
   * in the workload stage (stacks/iam-scopes.ts scopes a function's own resources there); the keys and Backup vaults are
   * in the vault regions.
   */
  homeRegion: string;
  keys: VaultKey[];
  functionRoles: VaultRole[];
  reader: VaultRole;
  backupVaults: BackupVaultSpec[];
}

/** Everything the vault stage declares, checked: throws with every {@link vaultStageProblems} message. */
export function vaultDefinition(config: Config, partition: string): VaultDefinition {
  const problems = vaultStageProblems(config);
  if (problems.length) throw new Error(`the vault stage cannot be deployed: ${problems.join("; ")}`);
  const vault = requireVault(config);
  return {
    stage: vaultStageName(config.stage),
    account: vault.accountId,
    homeRegion: config.primaryRegion,
    keys: vaultKeys(config, partition),
    functionRoles: vaultFunctionRoles(config, partition),
    reader: vaultReaderRole(config, partition),
    backupVaults: backupVaults(config),
  };
}

function requireVault(config: Config): VaultConfig {
  if (!config.vault) throw new Error(vaultStageProblems(config)[0]);
  return config.vault;
}

/**
 * The principals of other accounts a trust policy admits: AWS principals (account ids, root or role ARNs, `*`) not of
 * `account`. Service principals (lambda.amazonaws.com…) are AWS services acting for `account`, not another account.
 */
export function foreignPrincipals(trust: PolicyDocument, account: string): string[] {
  const out: string[] = [];
  for (const st of trust.Statement) {
    if (st.Effect !== "Allow") continue;
    const aws = (st.Principal as { AWS?: string | string[] } | string | undefined) ?? {};
    const ids = typeof aws === "string" ? [aws] : aws.AWS === undefined ? [] : Array.isArray(aws.AWS) ? aws.AWS : [aws.AWS];
    for (const p of ids) {
      const owner = /^\d{12}$/.test(p) ? p : /^arn:[^:]+:iam::(\d{12}):/.exec(p)?.[1];
      if (owner !== account) out.push(p);
    }
  }
  return out;
}
