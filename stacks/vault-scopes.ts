import type { Config } from "../schemas/config.ts";
import type { FunctionName } from "./functions.ts";
import { TAG } from "../core/types.ts";
import { namePrefix } from "../core/ownership.ts";
import { VAULT_TAG, vaultShareRegions, vaultWorkloadAccounts } from "../core/vault-plan.ts";
import { inRegions, kmsStatements, managedBy, ownedByUs, rdsArn, taggedAsOurs, type Condition, type IamContext, type Statement } from "./iam.ts";
import type { Placement, Scope } from "./iam-scopes.ts";

/**
 * How the backup account's ("vault") calls are scoped (adapters/vault*.ts, core/vault-plan.ts): the vault functions'
 * roles in the vault account, and the copy function's sharing in the workload account. stacks/iam-scopes.ts merges
 * these into its SCOPES: for an action scoped here a vault function gets only this scope (never the workload functions'
 * grants, whose regions and accounts are the workload's), for the others (paging, its run reports) the common one; every
 * other function gets its own scopes plus the sharing grants here, which are empty for all but the copy function of a
 * stage with a vault.
 *
 * - The vault's copies are named `oa-<app>-<stage>-…-<workload account>` (core/vault-plan.ts vaultCopyName) and carry our
 *   managed-by and vault-copy tags: RDS copies, tags, locks and deletes are limited to those names and tags; EBS snapshot
 *   ARNs have no name, so there the tags alone decide (CopySnapshot and CreateTags on the request's tags, LockSnapshot and
 *   DeleteSnapshot on the resource's).
 * - A share is copied only when it is a workload account's snapshot named by our scheme (RDS ARNs carry the account and
 *   the name); its key only through RDS or EC2 (`kms:ViaService`,
 *   https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 * - The workload shares only our snapshots: RDS by name, EBS by our managed-by and name tags on the snapshot
 *   (ModifySnapshotAttribute's row lists aws:ResourceTag, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
 */

export const VAULT_FUNCTIONS = ["vault-copy", "vault-prune"] as const satisfies readonly FunctionName[];
export type VaultFunction = (typeof VAULT_FUNCTIONS)[number];

export function isVaultFunction(name: FunctionName): name is VaultFunction {
  return (VAULT_FUNCTIONS as readonly string[]).includes(name);
}

/** The tag keys a vault copy is made with (core/vault-plan.ts vaultCopyTags): the only ones its tagging may carry. */
export const VAULT_COPY_TAG_KEYS: readonly string[] = [
  VAULT_TAG.vaultCopy,
  VAULT_TAG.sourceAccount,
  TAG.managedBy,
  TAG.copyOf,
  TAG.source,
  TAG.sourceRegion,
  TAG.capturedAt,
  TAG.backupDate,
  TAG.policy,
  TAG.name,
].sort();

const vaultRegions = (config: Config): string[] => config.vault?.regions.map((r) => r.region) ?? [];
const ourIds = (c: IamContext): string => `${namePrefix(c.config)}*`;

/** The request sets both our tags, with our keys only, on a resource that has no managed-by tag yet (tag on create). */
function vaultCopyRequest(config: Config): Condition[] {
  return [
    taggedAsOurs(config),
    { test: "StringEquals", variable: `aws:RequestTag/${VAULT_TAG.vaultCopy}`, values: [managedBy(config)] },
    { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: [...VAULT_COPY_TAG_KEYS] },
  ];
}

/** A copy the vault made: our managed-by and vault-copy tags on the resource. */
function vaultCopyResource(config: Config): Condition[] {
  return [ownedByUs(config), { test: "StringEquals", variable: `aws:ResourceTag/${VAULT_TAG.vaultCopy}`, values: [managedBy(config)] }];
}

const ebsSnapshots = (c: IamContext, regions: readonly string[]): string[] => regions.map((r) => `arn:${c.partition}:ec2:${r}::snapshot/*`);

/** Reads of the vault functions: on `*` (AWS authorizes Describe* so), in the regions they list. */
const vaultRead =
  (action: string): Scope =>
  (c, p) => {
    if (!isVaultFunction(p.name) || !c.config.vault) return [];
    const regions = p.name === "vault-copy" ? vaultShareRegions(c.config) : vaultRegions(c.config);
    return regions.length ? [{ actions: [action], resources: ["*"], conditions: [inRegions(regions)] }] : [];
  };

/** An RDS copy: the shares (workload accounts' snapshots of our names) and the new copies (the vault's, of our names). */
const rdsCopy =
  (action: string, type: "snapshot" | "cluster-snapshot"): Scope =>
  (c, p) => {
    if (p.name !== "vault-copy" || !c.config.vault) return [];
    const sources = vaultShareRegions(c.config).flatMap((r) =>
      vaultWorkloadAccounts(c.config).map((a) => `arn:${c.partition}:rds:${r}:${a}:${type}:${ourIds(c)}`),
    );
    const targets = vaultRegions(c.config).map((r) => rdsArn(c, r, type, ourIds(c)));
    return [{ actions: [action], resources: [...sources, ...targets] }];
  };

const vaultDelete =
  (action: string, type?: "snapshot" | "cluster-snapshot"): Scope =>
  (c, p) => {
    if (p.name !== "vault-prune") return [];
    const regions = vaultRegions(c.config);
    if (!regions.length) return [];
    const resources = type ? regions.map((r) => rdsArn(c, r, type, ourIds(c))) : ebsSnapshots(c, regions);
    return [{ actions: [action], resources, conditions: vaultCopyResource(c.config) }];
  };

/** The vault region's key, for each vault region (an alias resolves in the vault account: kms:ResourceAliases). */
const vaultKey =
  (action: string): Scope =>
  (c, p) =>
    p.name === "vault-copy" ? (c.config.vault?.regions ?? []).flatMap((r) => kmsStatements(c, r.region, r.kmsKeyAlias, [action])) : [];

/**
 * A share's key: the workload's source keys (backup.sourceKmsKeyIds, the keys the primary region's snapshots are
 * encrypted with), in each workload account, used through RDS or EC2 only. The workload shares only its backups of the
 * primary region (runbooks/vault/share.ts; never a DR copy), so no DR key is ever a share's key. A key ARN names its
 * key; an alias (a fleet's keys are aliases, schemas/config-fleet.ts) becomes `key/*` of each workload account pinned by
 * kms:ResourceAliases, as in the member roles (stacks/iam.ts kmsStatements): it resolves in the account whose share it
 * encrypts. A key outside the configuration is refused by IAM, and whether the vault may use a configured one is its
 * key policy's say; either way the copy fails with the key named (runbooks/vault/copy.ts).
 */
const workloadKey =
  (action: string): Scope =>
  (c, p) => {
    if (p.name !== "vault-copy") return [];
    const accounts = vaultWorkloadAccounts(c.config);
    const regions = vaultShareRegions(c.config);
    const primary = c.config.primaryRegion;
    const via: Condition = {
      test: "StringEquals",
      variable: "kms:ViaService",
      values: regions.flatMap((r) => [`ec2.${r}.amazonaws.com`, `rds.${r}.amazonaws.com`]),
    };
    // Statements of the same actions and conditions in one: an alias's `key/*` of every workload account together.
    const statements = c.config.backup.sourceKmsKeyIds.flatMap((k) => accounts.flatMap((a) => kmsStatements({ ...c, account: a }, primary, k, [action])));
    const merged = new Map<string, Statement>();
    for (const st of statements) {
      const key = JSON.stringify([st.actions, st.conditions ?? []]);
      const prev = merged.get(key);
      merged.set(key, prev ? { ...prev, resources: [...new Set([...prev.resources, ...st.resources])] } : { ...st, resources: [...st.resources] });
    }
    return [...merged.values()].map((st) => ({ ...st, conditions: [via, ...(st.conditions ?? [])] }));
  };

/** The copy function shares our snapshots of the primary region with the vault, and reads whom they are shared with. */
const share =
  (action: string, type?: "snapshot" | "cluster-snapshot"): Scope =>
  (c, p) => {
    if (p.name !== "copy" || !c.config.vault) return [];
    if (type) return [{ actions: [action], resources: [rdsArn(c, p.primary, type, ourIds(c))] }];
    return [
      {
        actions: [action],
        resources: ebsSnapshots(c, [p.primary]),
        conditions: [ownedByUs(c.config), { test: "StringLike", variable: `aws:ResourceTag/${TAG.name}`, values: [ourIds(c)] }],
      },
    ];
  };

const KMS = ["DescribeKey", "CreateGrant", "Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo"] as const;

export const VAULT_SCOPES: Record<string, Scope> = {
  "rds:DescribeDBSnapshots": vaultRead("rds:DescribeDBSnapshots"),
  "rds:DescribeDBClusterSnapshots": vaultRead("rds:DescribeDBClusterSnapshots"),
  "ec2:DescribeSnapshots": vaultRead("ec2:DescribeSnapshots"),
  "ec2:DescribeLockedSnapshots": vaultRead("ec2:DescribeLockedSnapshots"),

  "rds:CopyDBSnapshot": rdsCopy("rds:CopyDBSnapshot", "snapshot"),
  "rds:CopyDBClusterSnapshot": rdsCopy("rds:CopyDBClusterSnapshot", "cluster-snapshot"),
  // Tags passed to a copy are authorized as AddTagsToResource on the new copy.
  "rds:AddTagsToResource": (c, p) => {
    if (p.name !== "vault-copy") return [];
    const regions = vaultRegions(c.config);
    return regions.length
      ? [
          {
            actions: ["rds:AddTagsToResource"],
            resources: regions.flatMap((r) => [rdsArn(c, r, "snapshot", ourIds(c)), rdsArn(c, r, "cluster-snapshot", ourIds(c))]),
            conditions: [...vaultCopyRequest(c.config), { test: "Null", variable: `aws:ResourceTag/${TAG.managedBy}`, values: ["true"] }],
          },
        ]
      : [];
  },
  // The share (any region it is listed in: an EBS snapshot ARN names no account; the listing is of workload accounts'
  // shares only) and the new copy, tagged as ours. CopySnapshot's row has no aws:ResourceTag for the source.
  "ec2:CopySnapshot": (c, p) => {
    if (p.name !== "vault-copy" || !c.config.vault) return [];
    return [
      { actions: ["ec2:CopySnapshot"], resources: ebsSnapshots(c, vaultShareRegions(c.config)) },
      { actions: ["ec2:CopySnapshot"], resources: ebsSnapshots(c, vaultRegions(c.config)), conditions: vaultCopyRequest(c.config) },
    ];
  },
  "ec2:CreateTags": (c, p) => {
    if (p.name !== "vault-copy" || !c.config.vault) return [];
    return [
      {
        actions: ["ec2:CreateTags"],
        resources: ebsSnapshots(c, vaultRegions(c.config)),
        conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CopySnapshot"] }, ...vaultCopyRequest(c.config)],
      },
    ];
  },
  // Locks only the vault's own copies (LockSnapshot's row lists aws:ResourceTag).
  "ec2:LockSnapshot": (c, p) =>
    p.name === "vault-copy" && c.config.vault
      ? [{ actions: ["ec2:LockSnapshot"], resources: ebsSnapshots(c, vaultRegions(c.config)), conditions: vaultCopyResource(c.config) }]
      : [],
  ...Object.fromEntries(
    KMS.flatMap((a) => [
      [`kms:${a}@vault-key`, vaultKey(`kms:${a}`)],
      [`kms:${a}@workload-key`, workloadKey(`kms:${a}`)],
    ]),
  ),

  "rds:DeleteDBSnapshot": vaultDelete("rds:DeleteDBSnapshot", "snapshot"),
  "rds:DeleteDBClusterSnapshot": vaultDelete("rds:DeleteDBClusterSnapshot", "cluster-snapshot"),
  "ec2:DeleteSnapshot": vaultDelete("ec2:DeleteSnapshot"),

  "rds:ModifyDBSnapshotAttribute": share("rds:ModifyDBSnapshotAttribute", "snapshot"),
  "rds:ModifyDBClusterSnapshotAttribute": share("rds:ModifyDBClusterSnapshotAttribute", "cluster-snapshot"),
  "rds:DescribeDBSnapshotAttributes": share("rds:DescribeDBSnapshotAttributes", "snapshot"),
  "rds:DescribeDBClusterSnapshotAttributes": share("rds:DescribeDBClusterSnapshotAttributes", "cluster-snapshot"),
  "ec2:ModifySnapshotAttribute": share("ec2:ModifySnapshotAttribute"),

  // The watchdog and prune assume the vault's reader role (stacks/vault-definition.ts), that role only.
  "sts:AssumeRole": (c, p) =>
    (p.name === "watchdog" || p.name === "prune") && c.config.vault
      ? [
          {
            actions: ["sts:AssumeRole"],
            resources: [`arn:${c.partition}:iam::${c.config.vault.accountId}:role/${c.config.app}-${c.config.stage}-vault-reader`],
          },
        ]
      : [],
};

/**
 * `base` with the vault's scopes: a vault function gets only the vault's, every other function its own and the vault's
 * (which grant it nothing unless it is the copy function of a stage with a vault).
 */
export function withVaultScopes(base: Record<string, Scope>): Record<string, Scope> {
  const out: Record<string, Scope> = {};
  for (const action of new Set([...Object.keys(base), ...Object.keys(VAULT_SCOPES)])) {
    const own = Object.hasOwn(base, action) ? base[action] : undefined;
    const vault = Object.hasOwn(VAULT_SCOPES, action) ? VAULT_SCOPES[action] : undefined;
    // A vault function's snapshot and key actions are the vault's alone; the rest (paging, its run reports) as every function's.
    out[action] = (c: IamContext, p: Placement): Statement[] => [
      ...(!own || (vault && isVaultFunction(p.name)) ? [] : own(c, p)),
      ...(vault ? vault(c, p) : []),
    ];
  }
  return out;
}
