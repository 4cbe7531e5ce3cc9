import type { Config } from "../schemas/config.ts";
import { FUNCTIONS } from "./functions.ts";
import { permissionsFor, type Condition, type IamContext } from "./iam.ts";
import { sstRoleNamePattern } from "./patterns.ts";
import { vaultStageName } from "./vault-definition.ts";

/**
 * The KMS key-policy statements the configured keys need, derived from the roles' own KMS grants
 * (stacks/iam.ts permissionsFor): a key whose policy does not delegate to IAM (no "Enable IAM policies"
 * statement for the account root, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)
 * refuses a role whatever its IAM policy says, so the same actions must be allowed in the key policy.
 *
 * The principal is the account, narrowed to the stage's function roles by `aws:PrincipalArn`: the role names
 * carry a suffix SST picks at deploy, so this statement can be put on the key before the first deploy.
 *
 * With a `vault` section every key also names the vault account's copy role ({@link vaultCopyStatements}): the vault
 * copies the snapshots we share with it, encrypted with these keys.
 */

export interface KeyPolicyStatement {
  Sid: string;
  Effect: "Allow";
  Principal: { AWS: string };
  Action: string[];
  Resource: "*";
  Condition: Record<string, Record<string, string | string[]>>;
}

export interface KeyPolicyNeed {
  /** The key as the configuration names it (key id, key ARN, alias name or alias ARN). */
  key: string;
  region: string;
  /** Which configuration field names it. */
  field: string;
  statements: KeyPolicyStatement[];
}

/** The statements each configured KMS key needs, per key, for the stage `<app>-<stage>`. */
export function keyPolicyNeeds(config: Config, account: string, partition = "aws"): KeyPolicyNeed[] {
  const ctx: IamContext = { config, account, partition, dlqArn: `arn:${partition}:sqs:${config.primaryRegion}:${account}:dlq` };
  const keys: Omit<KeyPolicyNeed, "statements">[] = [
    ...config.backup.sourceKmsKeyIds.map((key, i) => ({ key, region: config.primaryRegion, field: `backup.sourceKmsKeyIds[${i}]` })),
    ...config.drRegions.map((d, i) => ({ key: d.kmsKeyId, region: d.region, field: `drRegions[${i}].kmsKeyId` })),
  ];
  return keys.map((k) => {
    const statements: KeyPolicyStatement[] = [];
    // The vault's functions run in the vault account: their access to our keys is the vault statements below.
    for (const spec of FUNCTIONS.filter((f) => f.stage !== "vault")) {
      const title = spec.name.charAt(0).toUpperCase() + spec.name.slice(1);
      // The role SST names after the function's component (stacks/lambda.ts: `capitalize(spec.name)`, so `Restore-test`).
      const roleName = sstRoleNamePattern(config.app, config.stage, title);
      for (const s of permissionsFor(spec.name, ctx)) {
        const kms = s.actions.filter((a) => a.startsWith("kms:"));
        if (!kms.length || !s.resources.some((r) => coversKey(r, k.key, k.region, account, partition, s.conditions))) continue;
        const condition: KeyPolicyStatement["Condition"] = { ArnLike: { "aws:PrincipalArn": `arn:${partition}:iam::${account}:role/${roleName}` } };
        for (const c of s.conditions ?? []) {
          // An alias condition selects this key among the account's keys; inside the key's own policy it is implied.
          if (c.variable === "kms:ResourceAliases") continue;
          condition[c.test] = { ...(condition[c.test] ?? {}), [c.variable]: c.values.length === 1 ? c.values[0]! : c.values };
        }
        statements.push({
          Sid: `OpsAutopilot${title.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}${kms.includes("kms:CreateGrant") ? "Grant" : "Use"}`,
          Effect: "Allow",
          Principal: { AWS: `arn:${partition}:iam::${account}:root` },
          Action: [...kms].sort(),
          Resource: "*",
          Condition: condition,
        });
      }
    }
    if (config.vault) statements.push(...vaultCopyStatements(config, partition));
    return { ...k, statements };
  });
}

/**
 * What the vault account's copy function needs on a workload key to copy a snapshot we shared with it, encrypted with
 * that key (the copy itself is re-encrypted with the vault's own key):
 * - RDS and Aurora: "kms:CreateGrant" and "kms:DescribeKey" on the key, for the account the snapshot is shared with
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html, "Authorizing use of a
 *   customer managed key"; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html: give the
 *   other account access to the key in its key policy);
 * - EBS: "When you share an encrypted snapshot, you must also share the customer managed key", with kms:Decrypt,
 *   kms:DescribeKey and kms:CreateGrant among the actions, CreateGrant "only when the grant is created on the user's
 *   behalf by an AWS service" (kms:GrantIsForAWSResource) (https://docs.aws.amazon.com/ebs/latest/userguide/share-kms-key.html).
 * The vault reads with the key and never encrypts with it: Decrypt and DescribeKey, as the workload's own copy role
 * holds on a source key, and grants only for AWS resources. The principal is the vault account, narrowed to its copy
 * function's role in the vault stage by `aws:PrincipalArn`; the vault account's IAM policy must allow the same actions
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
 */
export function vaultCopyStatements(config: Config, partition = "aws"): KeyPolicyStatement[] {
  const vault = config.vault;
  if (!vault) return [];
  const principal = { AWS: `arn:${partition}:iam::${vault.accountId}:root` };
  const role = {
    "aws:PrincipalArn": `arn:${partition}:iam::${vault.accountId}:role/${sstRoleNamePattern(config.app, vaultStageName(config.stage), "Vault-copy")}`,
  };
  return [
    {
      Sid: "OpsAutopilotVaultCopyGrant",
      Effect: "Allow",
      Principal: principal,
      Action: ["kms:CreateGrant"],
      Resource: "*",
      Condition: { ArnLike: role, Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    {
      Sid: "OpsAutopilotVaultCopyUse",
      Effect: "Allow",
      Principal: principal,
      Action: ["kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
      Condition: { ArnLike: role },
    },
  ];
}

/** Whether an IAM statement resource (a key ARN, or `key/*` narrowed by an alias condition) covers the configured key. */
function coversKey(resource: string, key: string, region: string, account: string, partition: string, conditions: Condition[] | undefined): boolean {
  if (resource === key) return true;
  if (resource === `arn:${partition}:kms:${region}:${account}:key/${key}`) return true;
  const alias = /:(alias\/.+)$/.exec(key)?.[1] ?? (key.startsWith("alias/") ? key : undefined);
  return (
    alias !== undefined &&
    resource === `arn:${partition}:kms:${region}:${account}:key/*` &&
    (conditions ?? []).some((c) => c.variable === "kms:ResourceAliases" && c.values.includes(alias))
  );
}
