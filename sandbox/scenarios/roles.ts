/**
 * The sandbox's principals are the functions' real roles: the statements stacks/iam.ts derives for the
 * function that is running (runbooks/lib/invocation.ts tells which, and with which configuration), plus
 * the Reports link's statements for functions linked to it — exactly what stacks/ synthesizes.
 */
import { currentInvocation } from "../../runbooks/lib/invocation.ts";
import { permissionsFor, reportsLinkStatements, type IamContext } from "../../stacks/iam.ts";
import { FUNCTIONS, type FunctionName } from "../../stacks/functions.ts";
import { sstRoleNamePattern } from "../../stacks/patterns.ts";
import type { Config } from "../../schemas/config.ts";
import type { Principal, PrincipalResolver } from "../aws/iam/enforce.ts";
import type { PolicyStatement } from "../aws/iam/policy.ts";

export interface RoleBuckets {
  /** The bucket linked as `Reports` (primary-region functions). */
  reportsBucket?: string;
  /** The failover function's state bucket. */
  stateBucket?: string;
}

const cache = new WeakMap<Config, Map<string, Principal>>();

/**
 * The role's name as SST deploys it (stacks/lambda.ts names the function's component `capitalize(name)`; SST names its
 * role `<app>-<stage>-<Component>Role-` and 8 random characters, stacks/patterns.ts sstRoleNamePattern), with a fixed
 * suffix: policies that match the deployed names (the member roles' trust, key policies) match the sandbox's too.
 */
export function sandboxRoleName(config: Pick<Config, "app" | "stage">, name: FunctionName): string {
  return sstRoleNamePattern(config.app, config.stage, `${name.charAt(0).toUpperCase()}${name.slice(1)}`).replace("????????", "sandbox0");
}

/** The role of one function under one configuration in the sandbox's account. */
export function functionRole(name: FunctionName, config: Config, accountId: string, buckets: RoleBuckets): Principal {
  let byName = cache.get(config);
  if (!byName) cache.set(config, (byName = new Map()));
  const key = `${name}|${buckets.reportsBucket ?? ""}|${buckets.stateBucket ?? ""}|${accountId}`;
  let principal = byName.get(key);
  if (!principal) {
    const ctx: IamContext = {
      config,
      account: accountId,
      partition: "aws",
      dlqArn: `arn:aws:sqs:${config.primaryRegion}:${accountId}:${config.app}-${config.stage}-DeadLetters`,
      ...(buckets.stateBucket ? { stateBucketArn: `arn:aws:s3:::${buckets.stateBucket}` } : {}),
      ...(buckets.reportsBucket ? { reportsBucketArn: `arn:aws:s3:::${buckets.reportsBucket}` } : {}),
    };
    const spec = FUNCTIONS.find((f) => f.name === name);
    const statements: PolicyStatement[] = [
      ...permissionsFor(name, ctx),
      ...(spec?.reports && buckets.reportsBucket ? reportsLinkStatements(`arn:aws:s3:::${buckets.reportsBucket}`) : []),
    ];
    principal = { name, roleArn: `arn:aws:iam::${accountId}:role/${sandboxRoleName(config, name)}`, statements };
    byName.set(key, principal);
  }
  return principal;
}

/** Resolves the running function (if any) to its role. */
export function functionRoles(accountId: string, buckets: RoleBuckets): PrincipalResolver {
  return () => {
    const inv = currentInvocation();
    if (!inv) return undefined;
    if (!inv.config) throw new Error(`sandbox IAM: ${inv.functionName} made an AWS call before its configuration was read`);
    if (!FUNCTIONS.some((f) => f.name === inv.functionName)) throw new Error(`sandbox IAM: ${inv.functionName} is not a function of stacks/functions.ts`);
    return functionRole(inv.functionName as FunctionName, inv.config, accountId, buckets);
  };
}
