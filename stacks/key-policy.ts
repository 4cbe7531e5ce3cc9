import type { Config } from "../schemas/config.ts";
import { FUNCTIONS } from "./functions.ts";
import { permissionsFor, type Condition, type IamContext } from "./iam.ts";
import { sstRoleNamePattern } from "./patterns.ts";

/**
 * The KMS key-policy statements the configured keys need, derived from the roles' own KMS grants
 * (stacks/iam.ts permissionsFor): a key whose policy does not delegate to IAM (no "Enable IAM policies"
 * statement for the account root, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)
 * refuses a role whatever its IAM policy says, so the same actions must be allowed in the key policy.
 *
 * The principal is the account, narrowed to the stage's function roles by `aws:PrincipalArn`: the role names
 * carry a suffix SST picks at deploy, so this statement can be put on the key before the first deploy.
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
    for (const spec of FUNCTIONS) {
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
    return { ...k, statements };
  });
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
