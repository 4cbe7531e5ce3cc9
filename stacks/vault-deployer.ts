/**
 * What the identity that runs `sst deploy --stage <stage>-vault` needs in the backup account, derived from what the
 * vault stage declares (stacks/vault.ts): the workload deployer's rules (stacks/deployer.ts), narrower. The backup
 * account holds the copies that outlive a compromised workload account, so its deployer gets no `*` resource where the
 * Service Authorization Reference lets an action be scoped
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
 * every name is under the vault stage's prefix (`<app>-<stage>-vault-`, stacks/vault-definition.ts vaultNamePrefix), or
 * is one of the exact names outside it (the Backup vault, the pager topic), in the vault account alone.
 *
 * KMS keys have no name to scope by: kms:CreateKey authorizes on `*` only, so it is held to the key the stage creates
 * (symmetric, encrypt/decrypt, KMS origin, single-region, no policy lockout bypass); what could lock the copies away
 * (ScheduleKeyDeletion, DisableKey, PutKeyPolicy…) is allowed only on keys under the stage's aliases, through
 * kms:ResourceAliases (https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
 * test/infra/vault-deployer.test.ts checks every action, resource scope and condition key against the reference, and
 * every name the vault stage's synth declares against the scopes.
 */
import type { Config } from "../schemas/config.ts";
import { SST_STATEMENTS, type DeployerStatement } from "./deployer.ts";
import { alertsTopicName } from "./patterns.ts";
import { backupVaultName, keyAlias, vaultNamePrefix } from "./vault-definition.ts";

export type Condition = Record<string, Record<string, string | string[]>>;

export interface VaultDeployerStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Condition;
}

export interface VaultDeployerPolicy {
  Version: "2012-10-17";
  Statement: VaultDeployerStatement[];
}

/**
 * One statement of a resource type. Placeholders: `{partition}`, `{account}` (the vault account), `{prefix}`
 * ({@link vaultNamePrefix}), `{backupVault}`, `{pagerTopic}`; `{alias}` makes one resource per key alias, and a
 * condition value `{aliases}` is the list of the stage's aliases.
 */
interface Part {
  sid: string;
  actions: readonly string[];
  resources: readonly string[];
  condition?: Condition;
}

const KEYS = ["arn:{partition}:kms:*:{account}:key/*"] as const;
const ROLES = ["arn:{partition}:iam::{account}:role/{prefix}*"] as const;
const FUNCTIONS = ["arn:{partition}:lambda:*:{account}:function:{prefix}*"] as const;
const BUCKETS = ["arn:{partition}:s3:::{prefix}*"] as const;
const BACKUP_VAULT = ["arn:{partition}:backup:*:{account}:backup-vault:{backupVault}"] as const;
const UNDER_STAGE_ALIASES: Condition = { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "{aliases}" } };

/** Pulumi resource type → what deploying it takes in the vault account. */
export const VAULT_RESOURCE_ACTIONS: Readonly<Record<string, readonly Part[]>> = {
  "aws:kms/key:Key": [
    {
      sid: "KeyCreate",
      // No resource type: a key has no ARN before it exists. Held to the key stacks/vault.ts declares; terraform's
      // aws_kms_key sends KeySpec and KeyUsage always, MultiRegion and the lockout bypass only when set.
      actions: ["kms:CreateKey"],
      resources: ["*"],
      condition: {
        StringEquals: { "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT" },
        StringEqualsIfExists: { "kms:KeyOrigin": "AWS_KMS" },
        BoolIfExists: { "kms:MultiRegion": "false", "kms:BypassPolicyLockoutSafetyCheck": "false" },
      },
    },
    {
      sid: "KeyRead",
      // Read back, and rotation turned on, right after CreateKey, before the alias exists (so before kms:ResourceAliases
      // could name the key). Reading and enabling rotation cannot make a copy unreadable.
      actions: ["kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
      resources: KEYS,
    },
    {
      sid: "KeyAdmin",
      // What disables, deletes or re-policies a key, on the stage's keys alone: a key is the stage's when one of its
      // aliases is the stage's (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases).
      actions: ["kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription"],
      resources: KEYS,
      condition: UNDER_STAGE_ALIASES,
    },
  ],
  "aws:kms/alias:Alias": [
    {
      sid: "KeyAliases",
      // An alias operation is authorized on the alias and on its key (https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html).
      actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
      resources: ["arn:{partition}:kms:*:{account}:{alias}"],
    },
    // The key side of CreateAlias: the new key has no alias yet, so no alias condition can name it.
    { sid: "KeyAliasTarget", actions: ["kms:CreateAlias"], resources: KEYS },
    { sid: "KeyAdmin", actions: ["kms:DeleteAlias", "kms:UpdateAlias"], resources: KEYS, condition: UNDER_STAGE_ALIASES },
    // The provider reads an alias by listing the region's aliases; ListAliases takes no resource.
    { sid: "KeyAliasList", actions: ["kms:ListAliases"], resources: ["*"] },
  ],
  "aws:backup/vault:Vault": [
    {
      sid: "BackupVault",
      actions: [
        "backup:CreateBackupVault",
        "backup:DeleteBackupVault",
        "backup:DescribeBackupVault",
        "backup:ListTags",
        "backup:TagResource",
        "backup:UntagResource",
      ],
      resources: BACKUP_VAULT,
    },
    // Creating a vault under a customer managed key (https://docs.aws.amazon.com/aws-backup/latest/devguide/create-a-vault.html,
    // "Required permissions"): Backup grants itself the key with the caller's permissions, through Backup only.
    {
      sid: "BackupVaultKey",
      actions: ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:RetireGrant"],
      resources: KEYS,
      condition: { StringLike: { "kms:ViaService": "backup.*.amazonaws.com" } },
    },
    { sid: "BackupVaultStorage", actions: ["backup-storage:MountCapsule"], resources: ["*"] },
  ],
  "aws:backup/vaultLockConfiguration:VaultLockConfiguration": [
    {
      sid: "BackupVaultLock",
      // Vault Lock on the stage's vault only, and only the configured one
      // (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html): the deployer
      // cannot shorten the minimum retention or lengthen the cooling-off time the configuration sets.
      actions: ["backup:PutBackupVaultLockConfiguration"],
      resources: BACKUP_VAULT,
      condition: {
        NumericEquals: {
          "backup:ChangeableForDays": "{lockChangeableForDays}",
          "backup:MaxRetentionDays": "{lockMaxRetentionDays}",
          "backup:MinRetentionDays": "{lockMinRetentionDays}",
        },
      },
    },
    // Read back; the delete only succeeds before the lock's cooling-off time ends.
    { sid: "BackupVault", actions: ["backup:DeleteBackupVaultLockConfiguration", "backup:DescribeBackupVault"], resources: BACKUP_VAULT },
  ],
  "aws:iam/role:Role": [
    {
      sid: "Roles",
      actions: [
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRolePolicies",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
      ],
      resources: ROLES,
    },
    {
      sid: "PassRoles",
      // The functions', the schedules' and the alarm route's roles, to the services that run them.
      actions: ["iam:PassRole"],
      resources: ROLES,
      condition: { StringEquals: { "iam:PassedToService": ["events.amazonaws.com", "lambda.amazonaws.com", "scheduler.amazonaws.com"] } },
    },
  ],
  "aws:lambda/function:Function": [
    {
      sid: "Functions",
      actions: [
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetFunctionConfiguration",
        "lambda:GetPolicy",
        "lambda:ListTags",
        "lambda:ListVersionsByFunction",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
      ],
      resources: FUNCTIONS,
    },
  ],
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": [
    {
      sid: "Functions",
      actions: [
        "lambda:DeleteFunctionEventInvokeConfig",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
      ],
      resources: FUNCTIONS,
    },
  ],
  "aws:cloudwatch/logGroup:LogGroup": [
    {
      sid: "LogGroups",
      actions: [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DeleteRetentionPolicy",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
      ],
      resources: ["arn:{partition}:logs:*:{account}:log-group:/aws/lambda/{prefix}*"],
    },
    // The provider reads a log group back by listing; DescribeLogGroups takes no resource.
    { sid: "LogGroupList", actions: ["logs:DescribeLogGroups"], resources: ["*"] },
  ],
  "aws:cloudwatch/metricAlarm:MetricAlarm": [
    {
      sid: "Alarms",
      actions: [
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
      ],
      resources: ["arn:{partition}:cloudwatch:*:{account}:alarm:{prefix}*"],
    },
  ],
  "aws:cloudwatch/eventRule:EventRule": [
    {
      sid: "AlarmRoute",
      actions: [
        "events:DeleteRule",
        "events:DescribeRule",
        "events:DisableRule",
        "events:EnableRule",
        "events:ListTagsForResource",
        "events:PutRule",
        "events:TagResource",
        "events:UntagResource",
      ],
      resources: ["arn:{partition}:events:*:{account}:rule/{prefix}*"],
    },
  ],
  "aws:cloudwatch/eventTarget:EventTarget": [
    {
      sid: "AlarmRoute",
      actions: ["events:ListTargetsByRule", "events:PutTargets", "events:RemoveTargets"],
      resources: ["arn:{partition}:events:*:{account}:rule/{prefix}*"],
    },
  ],
  "aws:cloudwatch/eventConnection:EventConnection": [
    {
      sid: "AlarmRoute",
      actions: ["events:CreateConnection", "events:DeleteConnection", "events:DescribeConnection", "events:UpdateConnection"],
      resources: ["arn:{partition}:events:*:{account}:connection/{prefix}*"],
    },
    {
      sid: "AlarmRouteServiceRole",
      // The account's first connection creates the service-linked role that keeps its credentials in Secrets Manager
      // (as in https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEventBridgeFullAccess.html); a backup
      // account may have none yet.
      actions: ["iam:CreateServiceLinkedRole"],
      resources: [
        "arn:{partition}:iam::{account}:role/aws-service-role/apidestinations.events.amazonaws.com/AWSServiceRoleForAmazonEventBridgeApiDestinations",
      ],
      condition: { StringEquals: { "iam:AWSServiceName": "apidestinations.events.amazonaws.com" } },
    },
  ],
  "aws:cloudwatch/eventApiDestination:EventApiDestination": [
    {
      sid: "AlarmRoute",
      // Creating or updating a destination is authorized on its connection too.
      actions: ["events:CreateApiDestination", "events:DeleteApiDestination", "events:DescribeApiDestination", "events:UpdateApiDestination"],
      resources: ["arn:{partition}:events:*:{account}:api-destination/{prefix}*", "arn:{partition}:events:*:{account}:connection/{prefix}*"],
    },
  ],
  "aws:scheduler/schedule:Schedule": [
    {
      sid: "Schedules",
      actions: ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"],
      resources: ["arn:{partition}:scheduler:*:{account}:schedule/default/{prefix}*"],
    },
  ],
  "aws:sns/topic:Topic": [
    {
      sid: "Topics",
      actions: [
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:SetTopicAttributes",
        "sns:TagResource",
        "sns:UntagResource",
      ],
      // The pager topic keeps the workload stage's name: the vault functions' roles publish to it by that name
      // (stacks/iam-scopes.ts).
      resources: ["arn:{partition}:sns:*:{account}:{prefix}*", "arn:{partition}:sns:*:{account}:{pagerTopic}"],
    },
  ],
  "aws:sqs/queue:Queue": [
    {
      sid: "Queues",
      actions: [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
        "sqs:UntagQueue",
      ],
      resources: ["arn:{partition}:sqs:*:{account}:{prefix}*"],
    },
  ],
  "aws:sqs/queuePolicy:QueuePolicy": [
    { sid: "Queues", actions: ["sqs:GetQueueAttributes", "sqs:SetQueueAttributes"], resources: ["arn:{partition}:sqs:*:{account}:{prefix}*"] },
  ],
  "aws:s3/bucket:Bucket": [
    {
      sid: "Buckets",
      actions: [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketTagging",
        "s3:GetBucketWebsite",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:PutBucketTagging",
      ],
      resources: BUCKETS,
    },
  ],
  "aws:s3/bucketVersioning:BucketVersioning": [{ sid: "Buckets", actions: ["s3:GetBucketVersioning", "s3:PutBucketVersioning"], resources: BUCKETS }],
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
    { sid: "Buckets", actions: ["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"], resources: BUCKETS },
  ],
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
    { sid: "Buckets", actions: ["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"], resources: BUCKETS },
  ],
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
    { sid: "Buckets", actions: ["s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"], resources: BUCKETS },
  ],
  "aws:s3/bucketPolicy:BucketPolicy": [{ sid: "Buckets", actions: ["s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"], resources: BUCKETS }],
  "aws:s3/bucketObjectv2:BucketObjectv2": [
    {
      // The functions' code zips in SST's asset bucket, and the observe window's start in the Reports bucket.
      sid: "Objects",
      actions: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging"],
      resources: ["arn:{partition}:s3:::sst-asset-*/*", "arn:{partition}:s3:::{prefix}*/*"],
    },
  ],
};

/** SST's own needs (stacks/deployer.ts): bootstrap, parameters, identity; the vault stage has no function in a VPC. */
export const VAULT_SST_STATEMENTS: readonly DeployerStatement[] = SST_STATEMENTS.filter((s) => s.Sid !== "VpcFunctions");

export interface VaultDeployerTarget {
  /** The vault (backup) account. */
  account: string;
  partition: string;
  /** {@link vaultNamePrefix}, e.g. `ops-autopilot-prod-vault-`. */
  prefix: string;
  /** The AWS Backup vault's exact name. */
  backupVault: string;
  /** The pager topic's exact name. */
  pagerTopic: string;
  /** The stage's key aliases (`alias/<name>`), one per vault region. */
  aliases: string[];
  /** The Vault Lock the configuration sets, when it enables the Backup vault. */
  lock?: { minRetentionDays: number; maxRetentionDays: number; changeableForDays: number };
}

/** The target of the vault stage of `config`'s workload stage: its account, prefix, exact names and key aliases. */
export function vaultDeployerTarget(config: Config, partition = "aws"): VaultDeployerTarget {
  if (!config.vault) throw new Error(`vault: the ${config.stage} configuration has no vault section, so there is no vault stage to deploy`);
  const lock = config.vault.lock.backupVault;
  return {
    account: config.vault.accountId,
    partition,
    prefix: vaultNamePrefix(config),
    backupVault: backupVaultName(config),
    pagerTopic: alertsTopicName(config),
    aliases: [...new Set(config.vault.regions.flatMap((r) => keyAlias(r.kmsKeyAlias) ?? []))],
    ...(lock?.enabled
      ? { lock: { minRetentionDays: lock.minRetentionDays, maxRetentionDays: lock.maxRetentionDays, changeableForDays: lock.changeableForDays } }
      : {}),
  };
}

/** Pulumi AWS types in `types` the vault table has no row for. */
export function undeclaredVaultTypes(types: Iterable<string>): string[] {
  return [...new Set(types)].filter((t) => t.startsWith("aws:") && !(t in VAULT_RESOURCE_ACTIONS)).sort();
}

/**
 * The vault stage's deployer policy for the resource types it declares. Throws naming any AWS resource type without
 * a row, rather than render a policy that would fail the deploy half-way.
 */
export function vaultDeployerPolicy(types: Iterable<string>, target: VaultDeployerTarget): VaultDeployerPolicy {
  const list = [...new Set(types)];
  const missing = undeclaredVaultTypes(list);
  if (missing.length) {
    throw new Error(`stacks/vault-deployer.ts has no actions for ${missing.join(", ")}: add a row to VAULT_RESOURCE_ACTIONS`);
  }
  const lockValue = (field: keyof NonNullable<VaultDeployerTarget["lock"]>) => {
    if (!target.lock)
      throw new Error(
        "the stage declares a Vault Lock, but the deployer target has no lock: give vaultDeployerTarget a configuration with vault.lock.backupVault",
      );
    return String(target.lock[field]);
  };
  const fill = (s: string) =>
    s
      .replace("{lockMinRetentionDays}", () => lockValue("minRetentionDays"))
      .replace("{lockMaxRetentionDays}", () => lockValue("maxRetentionDays"))
      .replace("{lockChangeableForDays}", () => lockValue("changeableForDays"))
      .replaceAll("{account}", target.account)
      .replaceAll("{partition}", target.partition)
      .replaceAll("{prefix}", target.prefix)
      .replaceAll("{backupVault}", target.backupVault)
      .replaceAll("{pagerTopic}", target.pagerTopic);
  const resources = (r: string) => (r.includes("{alias}") ? target.aliases.map((a) => fill(r.replaceAll("{alias}", a))) : [fill(r)]);
  const condition = (c: Condition): Condition =>
    Object.fromEntries(
      Object.entries(c).map(([op, keys]) => [
        op,
        Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, v === "{aliases}" ? [...target.aliases] : Array.isArray(v) ? v.map(fill) : fill(v)])),
      ]),
    );
  const bySid = new Map<string, VaultDeployerStatement>();
  const add = (s: VaultDeployerStatement) => {
    const prev = bySid.get(s.Sid);
    if (!prev) {
      bySid.set(s.Sid, { ...s, Action: [...s.Action], Resource: [...s.Resource] });
      return;
    }
    if (JSON.stringify(prev.Condition) !== JSON.stringify(s.Condition)) throw new Error(`statement ${s.Sid}: rows with different conditions`);
    for (const a of s.Action) if (!prev.Action.includes(a)) prev.Action.push(a);
    for (const r of s.Resource) if (!prev.Resource.includes(r)) prev.Resource.push(r);
  };
  for (const s of VAULT_SST_STATEMENTS) add({ ...s, Resource: s.Resource.map(fill) });
  for (const type of list.filter((t) => t.startsWith("aws:")).sort()) {
    for (const part of VAULT_RESOURCE_ACTIONS[type]!) {
      add({
        Sid: part.sid,
        Effect: "Allow",
        Action: [...part.actions],
        Resource: part.resources.flatMap(resources),
        ...(part.condition ? { Condition: condition(part.condition) } : {}),
      });
    }
  }
  return { Version: "2012-10-17", Statement: [...bySid.values()].map((s) => ({ ...s, Action: [...s.Action].sort() })) };
}

/**
 * IAM's limit for a managed policy is 6,144 characters without white space
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html); the vault stage's statements, scoped
 * where the workload's are `*`, do not fit in one. They are packed, in order, into as few documents as fit, each
 * attached to the deployer as its own managed policy. Throws if one statement alone is over the limit.
 */
export function splitPolicy(policy: VaultDeployerPolicy, limit = 6144): VaultDeployerPolicy[] {
  const size = (statements: VaultDeployerStatement[]) => JSON.stringify({ Version: policy.Version, Statement: statements }).length;
  const out: VaultDeployerStatement[][] = [];
  for (const s of policy.Statement) {
    if (size([s]) > limit) throw new Error(`statement ${s.Sid} alone is over IAM's ${limit} characters for a managed policy`);
    const last = out.at(-1);
    if (last && size([...last, s]) <= limit) last.push(s);
    else out.push([s]);
  }
  return out.map((Statement) => ({ Version: policy.Version, Statement }));
}
