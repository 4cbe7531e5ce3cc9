import type { Config } from "../schemas/config.ts";
import { FUNCTIONS, type FunctionName } from "./functions.ts";
import { TAG, managedByValue } from "../core/types.ts";
import { actionsOf, bareAction } from "../adapters/calls.ts";
import { FUNCTION_CALLS } from "../runbooks/lib/calls.ts";
import { checkerRegions, SCOPES, type Placement } from "./iam-scopes.ts";

/**
 * Least-privilege IAM for every function, as plain data (no SST globals) so it can be unit-tested
 * and linted before anything is declared.
 *
 * Rules this module follows, and stacks/policy-lint.ts enforces on the synthesized roles:
 * - only the actions a function's adapters call, never a wildcard action;
 * - `Describe*`/`List*`/`Get*` calls that AWS only authorizes on `*` are limited to our regions
 *   with `aws:RequestedRegion`;
 * - every snapshot delete is conditioned on our managed-by tag, so IAM refuses to delete a snapshot
 *   made by a person, by RDS automation or by another stage even if core/ got it wrong;
 * - functions that tag snapshots cannot delete, and the function that deletes cannot tag (a tagging
 *   function could otherwise stamp our tag on a foreign snapshot and then delete it);
 * - KMS only on the configured DR keys; promotion and DNS changes only for the failover function.
 */

/** The shape SST's `Function.permissions` takes (FunctionPermissionArgs), resolved to strings. */
export interface Statement {
  effect?: "allow" | "deny";
  actions: string[];
  resources: string[];
  conditions?: Condition[];
}

export interface Condition {
  test: string;
  variable: string;
  values: string[];
}

export interface IamContext {
  config: Config;
  partition: string;
  account: string;
  /** ARN of the failover state bucket (DR region), when failover is deployed. */
  stateBucketArn?: string;
  /** ARN of the Reports bucket, for the weekly report's own scoped grants (it is not linked to `Reports`). */
  reportsBucketArn?: string;
  /** ARN of the queue failed asynchronous invocations go to. */
  dlqArn: string;
}

export const MANAGED_BY_TAG = TAG.managedBy;

/** Actions that destroy data: allowed only with our managed-by tag condition. */
export const DESTRUCTIVE_ACTIONS = ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot", "ec2:DeleteSnapshot"] as const;

/** Actions that change which database or DNS answer is live: the failover function's alone. */
export const PROMOTION_ACTIONS = [
  "rds:PromoteReadReplica",
  "rds:PromoteReadReplicaDBCluster",
  "rds:FailoverGlobalCluster",
  "rds:SwitchoverGlobalCluster",
  "route53:ChangeResourceRecordSets",
] as const;

/** Actions that write tags on snapshots. */
export const TAGGING_ACTIONS = ["rds:AddTagsToResource", "ec2:CreateTags"] as const;

export function managedBy(config: Config): string {
  return managedByValue({ app: config.app, stage: config.stage });
}

export function allRegions(config: Config): string[] {
  return [config.primaryRegion, ...config.drRegions.map((d) => d.region)];
}

export function inRegions(regions: string[]): Condition {
  return { test: "StringEquals", variable: "aws:RequestedRegion", values: regions };
}

export function ownedByUs(config: Config): Condition {
  return { test: "StringEquals", variable: `aws:ResourceTag/${MANAGED_BY_TAG}`, values: [managedBy(config)] };
}

/** Tags may be written only when the request sets managed-by to our value (tag-on-create of our snapshots). */
export function taggedAsOurs(config: Config): Condition {
  return { test: "StringEquals", variable: `aws:RequestTag/${MANAGED_BY_TAG}`, values: [managedBy(config)] };
}

export const rdsArn = (c: IamContext, region: string, type: string, id = "*") => `arn:${c.partition}:rds:${region}:${c.account}:${type}:${id}`;
export const ebsSnapshotArn = (c: IamContext, region: string) => `arn:${c.partition}:ec2:${region}::snapshot/*`;
export const volumeArn = (c: IamContext, region: string) => `arn:${c.partition}:ec2:${region}:${c.account}:volume/*`;

/** Report, manifest and latch objects (adapters/s3.ts: PutObject, GetObject), granted through the `Reports` link. */
export const REPORTS_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject"] as const;
/** On the bucket itself: without ListBucket S3 answers a missing key with 403 instead of 404 (NoSuchKey). */
export const REPORTS_LIST_ACTIONS = ["s3:ListBucket"] as const;

/** Lambda writes a failed asynchronous invocation (after its retries) to the on-failure destination with the function's role. */
function dlqStatement(c: IamContext): Statement {
  return { actions: ["sqs:SendMessage"], resources: [c.dlqArn] };
}

/**
 * Resolve a configured KMS key reference to the IAM statement(s) that allow `actions` on it alone.
 * Key ARNs and key ids name the key; an alias (ARN or `alias/x`) cannot be an IAM resource for key
 * operations, so it becomes `key/*` in that region narrowed by `kms:ResourceAliases`.
 */
export function kmsStatements(c: IamContext, region: string, keyRef: string, actions: readonly string[]): Statement[] {
  const keyArn = /^arn:[^:]+:kms:[^:]+:\d{12}:key\/.+$/;
  const aliasArn = /^arn:[^:]+:kms:[^:]+:\d{12}:(alias\/.+)$/;
  const withGrant = (resources: string[], extra: Condition[]): Statement[] => {
    const plain = actions.filter((a) => a !== "kms:CreateGrant");
    const out: Statement[] = [];
    if (plain.length) out.push({ actions: [...plain], resources, ...(extra.length ? { conditions: extra } : {}) });
    if (actions.includes("kms:CreateGrant")) {
      out.push({
        actions: ["kms:CreateGrant"],
        resources,
        // Grants only for the AWS service doing the copy, never to arbitrary principals.
        conditions: [...extra, { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
      });
    }
    return out;
  };
  if (keyArn.test(keyRef)) return withGrant([keyRef], []);
  const alias = aliasArn.exec(keyRef)?.[1] ?? (keyRef.startsWith("alias/") ? keyRef : undefined);
  if (alias) {
    return withGrant(
      [`arn:${c.partition}:kms:${region}:${c.account}:key/*`],
      [{ test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: [alias] }],
    );
  }
  return withGrant([`arn:${c.partition}:kms:${region}:${c.account}:key/${keyRef}`], []);
}

/** The S3 actions the Reports link grants (stacks/storage.ts): functions with `reports` get them from the link. */
export const REPORTS_LINK_ACTIONS: readonly string[] = [...REPORTS_OBJECT_ACTIONS, ...REPORTS_LIST_ACTIONS];

/** The IAM actions (with their `@key` qualifiers) a function's role is derived from: adapters/calls.ts × runbooks/lib/calls.ts. */
export function declaredActions(name: FunctionName): string[] {
  return actionsOf(FUNCTION_CALLS[name]);
}

/** The Reports link's statements, as stacks/storage.ts declares them through `sst.Linkable`. */
export function reportsLinkStatements(bucketArn: string): Statement[] {
  return [
    { actions: [...REPORTS_OBJECT_ACTIONS], resources: [`${bucketArn}/*`] },
    { actions: [...REPORTS_LIST_ACTIONS], resources: [bucketArn] },
  ];
}

/** Statements with the same resources and conditions become one statement with the union of their actions. */
function merge(statements: Statement[]): Statement[] {
  const out = new Map<string, Statement>();
  for (const s of statements) {
    const key = JSON.stringify([s.effect ?? "allow", s.resources, s.conditions ?? []]);
    const seen = out.get(key);
    if (seen) seen.actions = [...new Set([...seen.actions, ...s.actions])];
    else out.set(key, { ...s, actions: [...s.actions] });
  }
  return [...out.values()];
}

/** Functions only ever invoked synchronously (a state machine's Task, the restore test): no on-failure destination. */
const SYNCHRONOUS: ReadonlySet<FunctionName> = new Set(["failover", "restore-test", "restore-test-checker", "fleet-summary", "fleet-targets"]);

function derive(name: FunctionName, c: IamContext): Statement[] {
  const spec = FUNCTIONS.find((f) => f.name === name);
  const linked = new Set(spec?.reports ? REPORTS_LINK_ACTIONS : []);
  const placement: Placement = { name, primary: c.config.primaryRegion, dr: c.config.drRegions.map((d) => d.region) };
  if (name === "failover" && c.config.failover.groups.length === 0) return [];
  if (name === "restore-test" && !c.config.backup.policies.some((p) => p.restoreTest)) return [];
  if (name === "restore-test-checker" && checkerRegions(c.config).length === 0) return [];
  const out: Statement[] = [];
  for (const declared of declaredActions(name)) {
    if (linked.has(bareAction(declared))) continue;
    const scope = SCOPES[declared];
    if (!scope) throw new Error(`stacks/iam.ts: no scope for ${declared} (declared for ${name} through adapters/calls.ts)`);
    out.push(...scope(c, placement));
  }
  // Lambda writes a failed asynchronous invocation to the on-failure destination with the function's role;
  // the failover, restore-test, fleet-summary and fleet-targets functions are invoked synchronously by their state machines and have
  // none, nor has the checker (invoked synchronously by the restore-test function).
  if (!SYNCHRONOUS.has(name)) out.push(dlqStatement(c));
  if (name === "restore-test-checker") out.push(...vpcNetworkInterfaceStatements(c, checkerRegions(c.config)));
  return merge(out);
}

/** What Lambda does with a VPC function's role to attach it to its subnets; no code of ours calls these. */
export const VPC_ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
] as const;
export const VPC_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"] as const;

/**
 * The network-interface permissions Lambda needs from a VPC function's execution role: those of the managed policy
 * AWSLambdaVPCAccessExecutionRole
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html) without its
 * CloudWatch Logs actions (SST's basic logging policy has them), limited to the function's regions and our account.
 * DescribeNetworkInterfaces works only on `*`; DeleteNetworkInterface needs every resource of the region
 * (`arn:aws:ec2:<region>:<account>:*\/*`) or the function may lose its VPC access
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). stacks/lambda.ts drops the managed policy SST
 * would attach, so these are all the role gets.
 */
export function vpcNetworkInterfaceStatements(c: IamContext, regions: string[]): Statement[] {
  if (!regions.length) return [];
  return [
    { actions: [...VPC_ENI_ACTIONS], resources: regions.map((r) => `arn:${c.partition}:ec2:${r}:${c.account}:*/*`) },
    { actions: [...VPC_DESCRIBE_ACTIONS], resources: ["*"], conditions: [inRegions(regions)] },
  ];
}

/**
 * The statements a function's role gets besides its links (the Reports link adds
 * {@link REPORTS_OBJECT_ACTIONS} and {@link REPORTS_LIST_ACTIONS}) and SST's basic logging policy.
 *
 * @example
 * permissionsFor("prune", ctx).find((s) => s.actions.includes("rds:DeleteDBSnapshot"))?.conditions
 * // -> [{ test: "StringEquals", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["ops-autopilot:prod"] }]
 */
export function permissionsFor(name: FunctionName, ctx: IamContext): Statement[] {
  return derive(name, ctx);
}

/** Route 53 ARNs take the bare zone id. */
export function hostedZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, "");
}

/** Record names as `route53:ChangeResourceRecordSetsNormalizedRecordNames` sees them: lower case, no trailing dot. */
export function normalizedRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
