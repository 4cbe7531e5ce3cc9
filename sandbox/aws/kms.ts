/**
 * KMS keys across the sandbox's accounts, with key policies: what EBS and RDS check when a copy in one account reads a
 * snapshot encrypted with another account's key.
 *
 * - A customer managed key (`account.kms.createKey(region, { policy })`) has a key policy; by default the one AWS gives a
 *   key created without a policy: the owning account's root, so its own IAM policies decide
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). Another account can use the key only
 *   when the key policy names that account (or one of its roles) for the action, and that account's IAM policy allows it
 *   too (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html); the IAM half is
 *   the enforcer's (iam/requests.ts maps the KMS actions of a copy), the key-policy half is here.
 * - AWS managed keys (`…:key/aws-ebs-default`, `…:key/aws-rds-default`, the sandbox's names for `aws/ebs` and `aws/rds`)
 *   can be used only within their own account: their key policy cannot be changed
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key), which is why snapshots encrypted
 *   with them cannot be shared.
 * - A key ARN nobody created (tests name keys without creating them) behaves as a key with the default policy.
 * - A key's aliases (`aliases` at creation, `addAlias`) are what IAM's `kms:ResourceAliases` holds for any request on the
 *   key, whether the request names it by alias, key ARN or key id: "the aliases that are associated with the KMS key"
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html, "kms:ResourceAliases" in
 *   https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html). An alias names one key of its account
 *   and region; a key may have several.
 */

export interface KeyPolicyStatement {
  effect?: "allow" | "deny";
  /** Account ids, account root ARNs or role ARNs. */
  principals: readonly string[];
  /** `kms:Decrypt`, `kms:*`… */
  actions: readonly string[];
}

export interface SandboxKmsKey {
  arn: string;
  account: string;
  region: string;
  policy: readonly KeyPolicyStatement[];
  /** `alias/<name>`, in the key's account and region. */
  aliases: string[];
}

export interface CreateKeyOptions {
  id?: string;
  policy?: readonly KeyPolicyStatement[];
  /** Aliases of the key (`alias/<name>`), unique in its account and region. */
  aliases?: readonly string[];
}

const AWS_MANAGED = /:key\/(aws-[a-z0-9]+-default|alias-aws-[a-z0-9]+)$/;

export function isAwsManagedKey(arn: string | undefined): boolean {
  return arn !== undefined && AWS_MANAGED.test(arn);
}

/** The account a key ARN belongs to (undefined for a bare key id or alias). */
export function keyAccount(arn: string | undefined): string | undefined {
  return arn?.startsWith("arn:") ? arn.split(":")[4] : undefined;
}

function actionMatches(pattern: string, action: string): boolean {
  if (pattern === "*" || pattern.toLowerCase() === "kms:*") return true;
  return pattern.toLowerCase() === action.toLowerCase();
}

export class KmsKeys {
  private readonly keys = new Map<string, SandboxKmsKey>();
  /** `<account>/<region>/<alias>` -> key ARN. */
  private readonly aliasIndex = new Map<string, string>();
  private counter = 0;

  create(account: string, region: string, options: CreateKeyOptions = {}): SandboxKmsKey {
    this.counter += 1;
    const id = options.id ?? `${this.counter.toString(16).padStart(8, "0")}-0000-4000-8000-${account}`;
    const arn = `arn:aws:kms:${region}:${account}:key/${id}`;
    if (this.keys.has(arn)) throw new Error(`sandbox.kms: key ${arn} already exists`);
    const key: SandboxKmsKey = {
      arn,
      account,
      region,
      policy: options.policy ?? [{ principals: [`arn:aws:iam::${account}:root`], actions: ["kms:*"] }],
      aliases: [],
    };
    this.keys.set(arn, key);
    for (const alias of options.aliases ?? []) this.addAlias(arn, alias);
    return key;
  }

  get(arn: string): SandboxKmsKey | undefined {
    return this.keys.get(arn);
  }

  /** Associates `alias` with the key (CreateAlias: unique in the key's account and region, never `alias/aws/`). */
  addAlias(arn: string, alias: string): void {
    const key = this.keys.get(arn);
    if (!key) throw new Error(`sandbox.kms: no key ${arn}`);
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(alias) || alias.startsWith("alias/aws/")) throw new Error(`sandbox.kms: ${alias} is not a customer alias name`);
    const slot = `${key.account}/${key.region}/${alias}`;
    if (this.aliasIndex.has(slot)) throw new Error(`sandbox.kms: alias ${alias} already exists in ${key.account} ${key.region}`);
    this.aliasIndex.set(slot, arn);
    key.aliases.push(alias);
  }

  /**
   * The key a reference names, as KMS resolves it for a caller of `account` in `region`: a key ARN (any account), a key
   * id, an alias name or an alias ARN; undefined for a key or alias nobody created.
   */
  resolve(account: string, region: string, ref: string): SandboxKmsKey | undefined {
    if (ref.startsWith("arn:")) {
      const [, , , keyRegion = "", keyAccount = "", resource = ""] = ref.split(":");
      if (resource.startsWith("key/")) return this.keys.get(ref);
      const arn = this.aliasIndex.get(`${keyAccount}/${keyRegion}/${resource}`);
      return arn ? this.keys.get(arn) : undefined;
    }
    const arn = ref.startsWith("alias/") ? this.aliasIndex.get(`${account}/${region}/${ref}`) : `arn:aws:kms:${region}:${account}:key/${ref}`;
    return arn ? this.keys.get(arn) : undefined;
  }

  setPolicy(arn: string, policy: readonly KeyPolicyStatement[]): void {
    const key = this.keys.get(arn);
    if (!key) throw new Error(`sandbox.kms: no key ${arn}`);
    key.policy = policy;
  }

  /**
   * The first of `actions` the key policy does not allow this caller (its account, and its role for a role session), or
   * undefined when the key policy allows them all. An unknown key ARN has the default policy.
   */
  refused(arn: string, callerAccount: string, callerRoleArn: string | undefined, actions: readonly string[]): string | undefined {
    const account = keyAccount(arn);
    if (account === undefined) return undefined;
    if (isAwsManagedKey(arn)) return account === callerAccount ? undefined : actions[0];
    const policy = this.keys.get(arn)?.policy ?? [{ principals: [`arn:aws:iam::${account}:root`], actions: ["kms:*"] }];
    const names = (s: KeyPolicyStatement) =>
      s.principals.some(
        (p) => p === "*" || p === callerAccount || p === `arn:aws:iam::${callerAccount}:root` || (callerRoleArn !== undefined && p === callerRoleArn),
      );
    for (const action of actions) {
      const applies = (s: KeyPolicyStatement) => names(s) && s.actions.some((a) => actionMatches(a, action));
      if (policy.some((s) => s.effect === "deny" && applies(s))) return action;
      if (!policy.some((s) => (s.effect ?? "allow") === "allow" && applies(s))) return action;
    }
    return undefined;
  }
}
