import type { Config } from "../schemas/config.ts";
import { FLEET_FUNCTIONS, fleetTargetRegions, memberRoleName, type FleetFunction, type FleetTarget } from "../schemas/config-fleet.ts";
import { kmsStatements, managedBy, permissionsFor, type IamContext, type Statement } from "./iam.ts";
import { lintPolicy, type LintRules, type PolicyDocument, type PolicyStatement } from "./policy-lint.ts";
import { sstRoleNamePattern } from "./patterns.ts";

export { sstRoleNamePattern };

/**
 * The roles a member account of the fleet (schemas/config-fleet.ts) holds, one per fleet function, as plain data (no
 * SST globals): the SST component (stacks/member-roles-component.ts) and the StackSet template
 * (scripts/member-role-template.ts) both declare exactly these.
 *
 * Each role's policy is the central function's own (stacks/iam.ts permissionsFor) derived for the member account and
 * the target's regions, keeping only the actions on the account's own resources ({@link MEMBER_SERVICES}); reports,
 * pages and dead letters stay with the central role ({@link CENTRAL_SERVICES}). One role per function, not one for
 * all: the separation the central roles keep (the functions that tag cannot delete; deletes only with our managed-by
 * tag and name prefix) then holds in every member account, and stacks/policy-lint.ts checks it on each.
 *
 * Trust: the central account as principal, narrowed to that function's central role by `aws:PrincipalArn`, and the
 * account's external id in `sts:ExternalId`, against the confused deputy
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). For a role session, aws:PrincipalArn is the
 * ARN of the role, not of the session
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 */

/** Services whose calls act on the member account's own resources: granted in the member role. */
export const MEMBER_SERVICES: readonly string[] = ["rds", "ec2", "kms"];
/**
 * Services the central role keeps: the Reports bucket, the pager topic and the DLQ are the central stage's, and
 * `sts:AssumeRole` is how the central role reaches the member roles.
 */
export const CENTRAL_SERVICES: readonly string[] = ["s3", "sns", "sqs", "sts"];

export interface MemberTarget {
  /** The member account's id (or, for a StackSet template, a placeholder CloudFormation resolves per account). */
  account: string;
  partition: string;
  /** The account the central stage (its functions' roles) is deployed in. */
  centralAccountId: string;
  /** The account's entry in `fleet.accounts`, or `fleet.organizationalUnit`. */
  target: FleetTarget;
  /** The value the trust policy requires; default the target's `externalId` (a template passes a parameter reference). */
  externalId?: string;
}

export interface MemberRole {
  fn: FleetFunction;
  name: string;
  description: string;
  trustPolicy: PolicyDocument;
  policyName: string;
  /** The statements as stacks/iam.ts gives them, and the policy document they render to. */
  statements: Statement[];
  policy: PolicyDocument;
}

/** The stage's configuration narrowed to the target's regions: the DR regions it does not run in are left out. */
export function memberConfig(config: Config, target: Pick<FleetTarget, "regions">): Config {
  const regions = fleetTargetRegions(config, target);
  return { ...config, drRegions: config.drRegions.filter((d) => regions.includes(d.region)) };
}

/** The IAM context of a member account: its id, the target's regions, no DLQ (the central function's). */
export function memberContext(config: Config, t: Pick<MemberTarget, "account" | "partition" | "target">): IamContext {
  return { config: memberConfig(config, t.target), account: t.account, partition: t.partition, dlqArn: "" };
}

const service = (action: string): string => action.slice(0, action.indexOf(":"));

/**
 * The statements of `fn`'s member role: its central statements for the member account, workload actions only. An
 * action of a service in neither {@link MEMBER_SERVICES} nor {@link CENTRAL_SERVICES} fails loudly, so a new call of a
 * fleet function is placed on purpose, never dropped from the member role unseen.
 */
export function memberStatements(fn: FleetFunction, ctx: IamContext): Statement[] {
  return permissionsFor(fn, ctx).flatMap((s) => {
    for (const a of s.actions) {
      if (!MEMBER_SERVICES.includes(service(a)) && !CENTRAL_SERVICES.includes(service(a)))
        throw new Error(`stacks/member-roles.ts: ${fn} is granted ${a}: add its service to MEMBER_SERVICES (acts in the member account) or CENTRAL_SERVICES`);
    }
    const actions = s.actions.filter((a) => MEMBER_SERVICES.includes(service(a)));
    return actions.length ? [{ ...s, actions }] : [];
  });
}

/** Statements as IAM stores them (the rendering SST's iam.getPolicyDocument gives; one value stays a list). */
export function policyDocument(statements: Statement[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => {
      const condition: NonNullable<PolicyStatement["Condition"]> = {};
      for (const c of s.conditions ?? []) condition[c.test] = { ...(condition[c.test] ?? {}), [c.variable]: [...c.values] };
      return {
        Effect: s.effect === "deny" ? "Deny" : "Allow",
        Action: [...s.actions],
        Resource: [...s.resources],
        ...(s.conditions?.length ? { Condition: condition } : {}),
      };
    }),
  };
}

/** The SST component each fleet function is deployed as (stacks/schedules.ts through stacks/lambda.ts deployFunction). */
export const CENTRAL_COMPONENTS: Record<FleetFunction, string> = { backup: "Backup", copy: "Copy", prune: "Prune", watchdog: "Watchdog" };

/** The ARN pattern of `fn`'s central role, the one principal its member role trusts. */
export function centralRoleArnPattern(config: Pick<Config, "app" | "stage">, partition: string, centralAccountId: string, fn: FleetFunction): string {
  return `arn:${partition}:iam::${centralAccountId}:role/${sstRoleNamePattern(config.app, config.stage, CENTRAL_COMPONENTS[fn])}`;
}

/** Who may assume `fn`'s member role: its central role, with the external id. */
export function memberTrustPolicy(config: Pick<Config, "app" | "stage">, t: MemberTarget, fn: FleetFunction): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:${t.partition}:iam::${t.centralAccountId}:root` },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "sts:ExternalId": t.externalId ?? t.target.externalId },
          ArnLike: { "aws:PrincipalArn": centralRoleArnPattern(config, t.partition, t.centralAccountId, fn) },
        },
      },
    ],
  };
}

/**
 * The member roles of one account (or of every account of a template), one per fleet function.
 *
 * @example
 * memberRoles(config, { account: "111122223333", partition: "aws", centralAccountId: "999988887777", target: config.fleet!.accounts[0]! })
 *   .map((r) => r.name)
 * // -> ["ops-autopilot-prod-member-backup", "ops-autopilot-prod-member-copy", "ops-autopilot-prod-member-prune", "ops-autopilot-prod-member-watchdog"]
 */
export function memberRoles(config: Config, t: MemberTarget): MemberRole[] {
  const ctx = memberContext(config, t);
  return FLEET_FUNCTIONS.map((fn) => {
    const statements = memberStatements(fn, ctx);
    return {
      fn,
      name: memberRoleName(config, fn, t.target),
      description: `ops-autopilot ${managedBy(config)}: the ${fn} function's access to this account, assumed by its role in account ${t.centralAccountId}`,
      trustPolicy: memberTrustPolicy(config, t, fn),
      policyName: `ops-autopilot-${fn}`,
      statements,
      policy: policyDocument(statements),
    };
  });
}

/**
 * The policy lint's rules for a member role: our managed-by value, no promotion, and KMS only on the keys the member
 * context resolves the configured aliases to (each region's `key/*` narrowed by `kms:ResourceAliases`).
 */
export function memberLintRules(config: Config, t: Pick<MemberTarget, "account" | "partition" | "target">): LintRules {
  const ctx = memberContext(config, t);
  const keys = [
    ...ctx.config.drRegions.map((d) => ({ region: d.region, ref: d.kmsKeyId })),
    ...ctx.config.backup.sourceKmsKeyIds.map((ref) => ({ region: ctx.config.primaryRegion, ref })),
  ];
  const allowed = keys.flatMap((k) => kmsStatements(ctx, k.region, k.ref, ["kms:DescribeKey"]).flatMap((s) => s.resources));
  return { managedBy: managedBy(config), mayPromote: false, allowedKmsResources: [...new Set(allowed)] };
}

/**
 * The fleet entry of the member account `account`: its own entry in `fleet.accounts`, else the OU's (an account of the
 * OU; membership is the discovery's to check, at run time).
 */
export function fleetTargetOf(config: Config, account: string): FleetTarget {
  const fleet = config.fleet;
  if (!fleet) throw new Error(`the ${config.stage} configuration has no fleet section: no member roles to deploy`);
  const listed = fleet.accounts.find((a) => a.id === account);
  if (listed) return listed;
  if (fleet.organizationalUnit) return fleet.organizationalUnit;
  throw new Error(`account ${account} is not in fleet.accounts (${fleet.accounts.map((a) => a.id).join(", ")}) and the fleet names no organizationalUnit`);
}

/** Every lint violation of the roles, as one message per role; empty when all pass. */
export function memberRoleViolations(config: Config, t: Pick<MemberTarget, "account" | "partition" | "target">, roles: MemberRole[]): string[] {
  const rules = memberLintRules(config, t);
  return roles.flatMap((r) => {
    const found = lintPolicy(r.policy, rules);
    return found.length ? [`${r.name}: ${found.map((v) => `${v.rule} (${v.detail})`).join("; ")}`] : [];
  });
}

/** The ARN of `fn`'s member role in `account`: the role the central function assumes there. */
export function memberRoleArn(config: Config, partition: string, account: string, fn: FleetFunction): string {
  return `arn:${partition}:iam::${account}:role/${memberRoleName(config, fn, fleetTargetOf(config, account))}`;
}
