import type { Config } from "../schemas/config.ts";
import { FUNCTIONS, type FunctionName } from "./functions.ts";
import { TAG, managedByValue } from "../core/types.ts";
import { actionsOf, bareAction } from "../adapters/calls.ts";
import { FUNCTION_CALLS } from "../runbooks/lib/calls.ts";

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

/**
 * KMS actions a cross-region encrypted snapshot copy needs on the destination key
 * (EBS CopySnapshot: grant, describe, decrypt, data key, re-encrypt; RDS CopyDB*Snapshot: grant, describe).
 * `kms:ReEncrypt*` is spelled out as its two actions: no wildcard actions anywhere.
 */
export const COPY_KMS_ACTIONS = [
  "kms:DescribeKey",
  "kms:Decrypt",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
] as const;

export function managedBy(config: Config): string {
  return managedByValue({ app: config.app, stage: config.stage });
}

function allRegions(config: Config): string[] {
  return [config.primaryRegion, ...config.drRegions.map((d) => d.region)];
}

function inRegions(regions: string[]): Condition {
  return { test: "StringEquals", variable: "aws:RequestedRegion", values: regions };
}

function ownedByUs(config: Config): Condition {
  return { test: "StringEquals", variable: `aws:ResourceTag/${MANAGED_BY_TAG}`, values: [managedBy(config)] };
}

/** Tags may be written only when the request sets managed-by to our value (tag-on-create of our snapshots). */
function taggedAsOurs(config: Config): Condition {
  return { test: "StringEquals", variable: `aws:RequestTag/${MANAGED_BY_TAG}`, values: [managedBy(config)] };
}

const rdsArn = (c: IamContext, region: string, type: string, id = "*") =>
  `arn:${c.partition}:rds:${region}:${c.account}:${type}:${id}`;
const ebsSnapshotArn = (c: IamContext, region: string) => `arn:${c.partition}:ec2:${region}::snapshot/*`;
const volumeArn = (c: IamContext, region: string) => `arn:${c.partition}:ec2:${region}:${c.account}:volume/*`;

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

/** Regions each function reads in (its `Describe*` calls), by role. */
function readRegions(name: FunctionName, config: Config): string[] {
  switch (name) {
    case "backup":
      return [config.primaryRegion];
    case "failover":
      return failoverRegions(config);
    default:
      return allRegions(config);
  }
}

function failoverRegions(config: Config): string[] {
  return [...new Set(config.failover.groups.flatMap((g) => [g.primary.region, g.replica.region, g.alarmRegion ?? g.replica.region]))];
}

/**
 * The id prefix of every snapshot this app and stage creates (`oa-<app>-<stage>-`), lower case as RDS
 * stores ids. Creates, tags and deletes are limited to ARNs with this prefix, so even with our tag on it
 * a snapshot named otherwise is out of reach.
 */
export function snapshotIdPrefix(config: Config): string {
  return `oa-${config.app}-${config.stage}-`.toLowerCase();
}

const ourIds = (c: IamContext): string => `${snapshotIdPrefix(c.config)}*`;
const rdsSnapshotArns = (c: IamContext, regions: string[]): string[] =>
  regions.flatMap((r) => [rdsArn(c, r, "snapshot", ourIds(c)), rdsArn(c, r, "cluster-snapshot", ourIds(c))]);

/** Our tag keys: the only ones a tagging request may carry. */
const OUR_TAG_KEYS = Object.values(TAG);

/**
 * Tag-on-create of our own snapshots only: the request sets managed-by to our value, carries only our
 * keys, and the resource does not already have a managed-by tag (a new resource has none, so an existing
 * snapshot someone else tagged cannot be re-tagged as ours).
 */
function tagOnCreate(config: Config): Condition[] {
  return [
    taggedAsOurs(config),
    { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: [...OUR_TAG_KEYS] },
    { test: "Null", variable: `aws:ResourceTag/${MANAGED_BY_TAG}`, values: ["true"] },
  ];
}

/** Deletes: our managed-by tag, and our name tag with our id prefix, both on the resource. */
function ownedDelete(config: Config): Condition[] {
  return [ownedByUs(config), { test: "StringLike", variable: `aws:ResourceTag/${TAG.name}`, values: [`${snapshotIdPrefix(config)}*`] }];
}

/** Where a function acts: backup creates in the primary region; copy creates in the DR regions from primary sources. */
interface Placement {
  name: FunctionName;
  primary: string;
  dr: string[];
}

type Scope = (c: IamContext, p: Placement) => Statement[];

const readAnywhere =
  (action: string): Scope =>
  (c, p) => [{ actions: [action], resources: ["*"], conditions: [inRegions(readRegions(p.name, c.config))] }];

const kmsOn =
  (which: "dr-key" | "source-key", action: string): Scope =>
  (c, p) =>
    p.dr.length === 0
      ? []
      : which === "dr-key"
        ? c.config.drRegions.flatMap((d) => kmsStatements(c, d.region, d.kmsKeyId, [action]))
        : c.config.backup.sourceKmsKeyIds.flatMap((k) => kmsStatements(c, c.config.primaryRegion, k, [action]));

const noDr = (p: Placement): boolean => p.dr.length === 0;

const KMS_ACTIONS = ["DescribeKey", "CreateGrant", "Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo"] as const;

/**
 * How each declared action is scoped: resources and conditions. Every action adapters/calls.ts can
 * declare needs an entry (a missing one fails `permissionsFor` loudly), so a new call is never granted
 * on `*` by accident.
 */
const SCOPES: Record<string, Scope> = {
  "rds:DescribeDBInstances": readAnywhere("rds:DescribeDBInstances"),
  "rds:DescribeDBClusters": readAnywhere("rds:DescribeDBClusters"),
  "rds:DescribeDBSnapshots": readAnywhere("rds:DescribeDBSnapshots"),
  "rds:DescribeDBClusterSnapshots": readAnywhere("rds:DescribeDBClusterSnapshots"),
  "rds:DescribeGlobalClusters": readAnywhere("rds:DescribeGlobalClusters"),
  "ec2:DescribeVolumes": readAnywhere("ec2:DescribeVolumes"),
  "ec2:DescribeSnapshots": readAnywhere("ec2:DescribeSnapshots"),
  "ec2:DescribeImages": readAnywhere("ec2:DescribeImages"),
  "cloudwatch:GetMetricData": readAnywhere("cloudwatch:GetMetricData"),
  "cloudwatch:DescribeAlarms": readAnywhere("cloudwatch:DescribeAlarms"),
  // Cost Explorer has no resource-level permissions and one endpoint (us-east-1).
  "ce:GetCostAndUsage": () => [{ actions: ["ce:GetCostAndUsage"], resources: ["*"] }],
  "ce:GetCostForecast": () => [{ actions: ["ce:GetCostForecast"], resources: ["*"] }],

  // RDS authorizes a create on the source and on the new snapshot (both resource types are required).
  "rds:CreateDBSnapshot": (c, p) => [{ actions: ["rds:CreateDBSnapshot"], resources: [rdsArn(c, p.primary, "db"), rdsArn(c, p.primary, "snapshot", ourIds(c))] }],
  "rds:CreateDBClusterSnapshot": (c, p) => [
    { actions: ["rds:CreateDBClusterSnapshot"], resources: [rdsArn(c, p.primary, "cluster"), rdsArn(c, p.primary, "cluster-snapshot", ourIds(c))] },
  ],
  // RDS authorizes tags passed to a create or copy as rds:AddTagsToResource on the new snapshot.
  "rds:AddTagsToResource": (c, p) => {
    const regions = p.name === "copy" ? p.dr : [p.primary];
    return regions.length ? [{ actions: ["rds:AddTagsToResource"], resources: rdsSnapshotArns(c, regions), conditions: tagOnCreate(c.config) }] : [];
  },
  // A copy is authorized on the source snapshot (primary) and on the new copy (DR).
  "rds:CopyDBSnapshot": (c, p) =>
    noDr(p) ? [] : [{ actions: ["rds:CopyDBSnapshot"], resources: [p.primary, ...p.dr].map((r) => rdsArn(c, r, "snapshot", ourIds(c))) }],
  "rds:CopyDBClusterSnapshot": (c, p) =>
    noDr(p) ? [] : [{ actions: ["rds:CopyDBClusterSnapshot"], resources: [p.primary, ...p.dr].map((r) => rdsArn(c, r, "cluster-snapshot", ourIds(c))) }],
  "rds:DeleteDBSnapshot": (c) => [
    { actions: ["rds:DeleteDBSnapshot"], resources: allRegions(c.config).map((r) => rdsArn(c, r, "snapshot", ourIds(c))), conditions: ownedDelete(c.config) },
  ],
  "rds:DeleteDBClusterSnapshot": (c) => [
    {
      actions: ["rds:DeleteDBClusterSnapshot"],
      resources: allRegions(c.config).map((r) => rdsArn(c, r, "cluster-snapshot", ourIds(c))),
      conditions: ownedDelete(c.config),
    },
  ],

  "ec2:CreateSnapshot": (c, p) => [
    { actions: ["ec2:CreateSnapshot"], resources: [volumeArn(c, p.primary)] },
    { actions: ["ec2:CreateSnapshot"], resources: [ebsSnapshotArn(c, p.primary)], conditions: [taggedAsOurs(c.config)] },
  ],
  // Sources in the primary region; the new copy must be tagged as ours. CopySnapshot supplies no
  // aws:ResourceTag for the source (the Service Authorization Reference lists only request-tag and ec2:* keys
  // on its row), so a tag condition there would deny every copy; a copy of someone else's snapshot would be a
  // new snapshot of ours, never theirs deleted.
  "ec2:CopySnapshot": (c, p) =>
    noDr(p)
      ? []
      : [
          { actions: ["ec2:CopySnapshot"], resources: [ebsSnapshotArn(c, p.primary)] },
          { actions: ["ec2:CopySnapshot"], resources: p.dr.map((r) => ebsSnapshotArn(c, r)), conditions: [taggedAsOurs(c.config)] },
        ],
  // Tag-on-create only: ec2:CreateTags is allowed solely as part of the function's own create or copy.
  "ec2:CreateTags": (c, p) => {
    const copy = p.name === "copy";
    const regions = copy ? p.dr : [p.primary];
    if (!regions.length) return [];
    return [
      {
        actions: ["ec2:CreateTags"],
        resources: regions.map((r) => ebsSnapshotArn(c, r)),
        conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: [copy ? "CopySnapshot" : "CreateSnapshot"] }, taggedAsOurs(c.config)],
      },
    ];
  },
  "ec2:DeleteSnapshot": (c) => [
    { actions: ["ec2:DeleteSnapshot"], resources: allRegions(c.config).map((r) => ebsSnapshotArn(c, r)), conditions: ownedDelete(c.config) },
  ],

  ...Object.fromEntries(
    KMS_ACTIONS.flatMap((a) => [
      [`kms:${a}@dr-key`, kmsOn("dr-key", `kms:${a}`)],
      [`kms:${a}@source-key`, kmsOn("source-key", `kms:${a}`)],
    ]),
  ),

  "rds:PromoteReadReplica": (c) => {
    const groups = c.config.failover.groups.filter((g) => g.replica.kind === "rds-instance");
    return groups.length ? [{ actions: ["rds:PromoteReadReplica"], resources: groups.map((g) => rdsArn(c, g.replica.region, "db", g.replica.id)) }] : [];
  },
  "rds:FailoverGlobalCluster": (c) => auroraGlobal(c, "rds:FailoverGlobalCluster"),
  "rds:SwitchoverGlobalCluster": (c) => auroraGlobal(c, "rds:SwitchoverGlobalCluster"),
  "rds:PromoteReadReplicaDBCluster": (c) => {
    const aurora = c.config.failover.groups.filter((g) => g.replica.kind === "aurora-cluster");
    return aurora.length
      ? [{ actions: ["rds:PromoteReadReplicaDBCluster"], resources: aurora.map((g) => rdsArn(c, g.replica.region, "cluster", g.replica.id)) }]
      : [];
  },
  // One statement per zone: the record names of that zone only, UPSERT only.
  "route53:ChangeResourceRecordSets": (c) =>
    [...zonesOf(c.config)].map(([id, z]) => ({
      actions: ["route53:ChangeResourceRecordSets"],
      resources: [`arn:${c.partition}:route53:::hostedzone/${id}`],
      conditions: [
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsNormalizedRecordNames", values: [...z.names].sort() },
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsRecordTypes", values: [...z.types].sort() },
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsActions", values: ["UPSERT"] },
      ],
    })),
  "route53:ListResourceRecordSets": (c) => {
    const ids = [...zonesOf(c.config).keys()];
    return ids.length ? [{ actions: ["route53:ListResourceRecordSets"], resources: ids.map((id) => `arn:${c.partition}:route53:::hostedzone/${id}`) }] : [];
  },
  "route53:GetChange": (c) => (c.config.failover.groups.length ? [{ actions: ["route53:GetChange"], resources: [`arn:${c.partition}:route53:::change/*`] }] : []),

  // Object actions: the Reports link grants them to every function with `reports`; the failover function
  // keeps latches, checkpoints and run reports in its own state bucket, under two prefixes only.
  "s3:GetObject": (c) => stateBucket(c, "s3:GetObject"),
  "s3:PutObject": (c) => stateBucket(c, "s3:PutObject"),
  "s3:ListBucket": (c) =>
    c.stateBucketArn
      ? [
          {
            actions: ["s3:ListBucket"],
            resources: [c.stateBucketArn],
            conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["failover/*", "reports/failover/*"] }],
          },
        ]
      : [],
};

function stateBucket(c: IamContext, action: string): Statement[] {
  return c.stateBucketArn ? [{ actions: [action], resources: [`${c.stateBucketArn}/failover/*`, `${c.stateBucketArn}/reports/failover/*`] }] : [];
}

function auroraGlobal(c: IamContext, action: string): Statement[] {
  const aurora = c.config.failover.groups.filter((g) => g.replica.kind === "aurora-cluster");
  if (!aurora.length) return [];
  return [
    {
      actions: [action],
      resources: aurora.flatMap((g) => [
        `arn:${c.partition}:rds::${c.account}:global-cluster:${g.globalClusterId ?? ""}`,
        rdsArn(c, g.primary.region, "cluster", g.primary.id),
        rdsArn(c, g.replica.region, "cluster", g.replica.id),
      ]),
    },
  ];
}

function zonesOf(config: Config): Map<string, { names: Set<string>; types: Set<string> }> {
  const zones = new Map<string, { names: Set<string>; types: Set<string> }>();
  for (const g of config.failover.groups) {
    const id = hostedZoneId(g.dns.hostedZoneId);
    const z = zones.get(id) ?? { names: new Set<string>(), types: new Set<string>() };
    z.names.add(normalizedRecordName(g.dns.recordName));
    z.types.add(g.dns.recordType);
    zones.set(id, z);
  }
  return zones;
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

function derive(name: FunctionName, c: IamContext): Statement[] {
  const spec = FUNCTIONS.find((f) => f.name === name);
  const linked = new Set(spec?.reports ? REPORTS_LINK_ACTIONS : []);
  const placement: Placement = { name, primary: c.config.primaryRegion, dr: c.config.drRegions.map((d) => d.region) };
  if (name === "failover" && c.config.failover.groups.length === 0) return [];
  const out: Statement[] = [];
  for (const declared of declaredActions(name)) {
    if (linked.has(bareAction(declared))) continue;
    const scope = SCOPES[declared];
    if (!scope) throw new Error(`stacks/iam.ts: no scope for ${declared} (declared for ${name} through adapters/calls.ts)`);
    out.push(...scope(c, placement));
  }
  // Lambda writes a failed asynchronous invocation to the on-failure destination with the function's role;
  // the failover function is invoked synchronously by its state machine and has none.
  if (name !== "failover") out.push(dlqStatement(c));
  return merge(out);
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
