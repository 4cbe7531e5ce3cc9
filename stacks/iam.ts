import type { Config } from "../schemas/config.ts";
import type { FunctionName } from "./functions.ts";
import { TAG, managedByValue } from "../core/types.ts";

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

const RDS_SNAPSHOT_READS = ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"];
const RDS_RESOURCE_READS = ["rds:DescribeDBInstances", "rds:DescribeDBClusters"];

function backup(c: IamContext): Statement[] {
  const r = c.config.primaryRegion;
  return [
    {
      actions: [...RDS_RESOURCE_READS, ...RDS_SNAPSHOT_READS, "ec2:DescribeVolumes", "ec2:DescribeSnapshots"],
      resources: ["*"],
      conditions: [inRegions([r])],
    },
    { actions: ["rds:CreateDBSnapshot"], resources: [rdsArn(c, r, "db"), rdsArn(c, r, "snapshot")] },
    { actions: ["rds:CreateDBClusterSnapshot"], resources: [rdsArn(c, r, "cluster"), rdsArn(c, r, "cluster-snapshot")] },
    // RDS authorizes tags passed to CreateDB*Snapshot as rds:AddTagsToResource on the new snapshot.
    {
      actions: ["rds:AddTagsToResource"],
      resources: [rdsArn(c, r, "snapshot"), rdsArn(c, r, "cluster-snapshot")],
      conditions: [taggedAsOurs(c.config)],
    },
    { actions: ["ec2:CreateSnapshot"], resources: [volumeArn(c, r)] },
    { actions: ["ec2:CreateSnapshot"], resources: [ebsSnapshotArn(c, r)], conditions: [taggedAsOurs(c.config)] },
    // Tag-on-create only: ec2:CreateTags is allowed solely as part of CreateSnapshot.
    {
      actions: ["ec2:CreateTags"],
      resources: [ebsSnapshotArn(c, r)],
      conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateSnapshot"] }],
    },
    dlqStatement(c),
  ];
}

function copy(c: IamContext): Statement[] {
  const primary = c.config.primaryRegion;
  const drs = c.config.drRegions.map((d) => d.region);
  const both = [primary, ...drs];
  const out: Statement[] = [
    {
      actions: [...RDS_SNAPSHOT_READS, "ec2:DescribeSnapshots"],
      resources: ["*"],
      conditions: [inRegions(both)],
    },
  ];
  if (drs.length > 0) {
    // Copy is authorized on the source snapshot (primary) and on the new copy (DR).
    out.push(
      { actions: ["rds:CopyDBSnapshot"], resources: both.map((r) => rdsArn(c, r, "snapshot")) },
      { actions: ["rds:CopyDBClusterSnapshot"], resources: both.map((r) => rdsArn(c, r, "cluster-snapshot")) },
      {
        actions: ["rds:AddTagsToResource"],
        resources: drs.flatMap((r) => [rdsArn(c, r, "snapshot"), rdsArn(c, r, "cluster-snapshot")]),
        conditions: [taggedAsOurs(c.config)],
      },
      { actions: ["ec2:CopySnapshot"], resources: both.map((r) => ebsSnapshotArn(c, r)) },
      {
        actions: ["ec2:CreateTags"],
        resources: drs.map((r) => ebsSnapshotArn(c, r)),
        conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CopySnapshot"] }],
      },
    );
    for (const dr of c.config.drRegions) {
      out.push(...kmsStatements(c, dr.region, dr.kmsKeyId, [...COPY_KMS_ACTIONS, "kms:CreateGrant"]));
    }
    // Encrypted sources are read with their own key in the primary region.
    for (const key of c.config.backup.sourceKmsKeyIds) {
      out.push(...kmsStatements(c, c.config.primaryRegion, key, ["kms:DescribeKey", "kms:Decrypt", "kms:CreateGrant"]));
    }
  }
  out.push(dlqStatement(c));
  return out;
}

function prune(c: IamContext): Statement[] {
  const regions = allRegions(c.config);
  return [
    {
      actions: [...RDS_RESOURCE_READS, ...RDS_SNAPSHOT_READS, "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeImages"],
      resources: ["*"],
      conditions: [inRegions(regions)],
    },
    { actions: ["rds:DeleteDBSnapshot"], resources: regions.map((r) => rdsArn(c, r, "snapshot")), conditions: [ownedByUs(c.config)] },
    {
      actions: ["rds:DeleteDBClusterSnapshot"],
      resources: regions.map((r) => rdsArn(c, r, "cluster-snapshot")),
      conditions: [ownedByUs(c.config)],
    },
    { actions: ["ec2:DeleteSnapshot"], resources: regions.map((r) => ebsSnapshotArn(c, r)), conditions: [ownedByUs(c.config)] },
    dlqStatement(c),
  ];
}

function watchdog(c: IamContext): Statement[] {
  return [
    {
      actions: [...RDS_RESOURCE_READS, ...RDS_SNAPSHOT_READS, "ec2:DescribeVolumes", "ec2:DescribeSnapshots"],
      resources: ["*"],
      conditions: [inRegions(allRegions(c.config))],
    },
    // The heartbeat and freshness metrics are EMF log lines: no cloudwatch:PutMetricData needed.
    dlqStatement(c),
  ];
}

function cost(c: IamContext): Statement[] {
  // Cost Explorer has no resource-level permissions for these two calls.
  return [{ actions: ["ce:GetCostAndUsage", "ce:GetCostForecast"], resources: ["*"] }, dlqStatement(c)];
}

function warm(c: IamContext): Statement[] {
  // Outbound HTTP only; the report bucket comes with the link.
  return [dlqStatement(c)];
}

/** Route 53 ARNs take the bare zone id. */
export function hostedZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, "");
}

/** Record names as `route53:ChangeResourceRecordSetsNormalizedRecordNames` sees them: lower case, no trailing dot. */
export function normalizedRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function failover(c: IamContext): Statement[] {
  const groups = c.config.failover.groups;
  if (groups.length === 0) return [];
  const regions = [...new Set(groups.flatMap((g) => [g.primary.region, g.replica.region, g.alarmRegion ?? g.replica.region]))];
  const out: Statement[] = [
    {
      actions: [
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
        "rds:DescribeGlobalClusters",
        // ReplicaLag (RPO pre-check).
        "cloudwatch:GetMetricData",
      ],
      resources: ["*"],
      conditions: [inRegions(regions)],
    },
  ];
  const instanceReplicas = groups.filter((g) => g.replica.kind === "rds-instance");
  if (instanceReplicas.length) {
    out.push({
      actions: ["rds:PromoteReadReplica"],
      resources: instanceReplicas.map((g) => rdsArn(c, g.replica.region, "db", g.replica.id)),
    });
  }
  const aurora = groups.filter((g) => g.replica.kind === "aurora-cluster");
  if (aurora.length) {
    out.push({
      actions: ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
      resources: aurora.flatMap((g) => [
        `arn:${c.partition}:rds::${c.account}:global-cluster:${g.globalClusterId ?? ""}`,
        rdsArn(c, g.primary.region, "cluster", g.primary.id),
        rdsArn(c, g.replica.region, "cluster", g.replica.id),
      ]),
    });
    out.push({
      actions: ["rds:PromoteReadReplicaDBCluster"],
      resources: aurora.map((g) => rdsArn(c, g.replica.region, "cluster", g.replica.id)),
    });
  }
  // One statement per zone: the record names of that zone only, UPSERT only.
  const zones = new Map<string, { names: Set<string>; types: Set<string> }>();
  for (const g of groups) {
    const id = hostedZoneId(g.dns.hostedZoneId);
    const z = zones.get(id) ?? { names: new Set<string>(), types: new Set<string>() };
    z.names.add(normalizedRecordName(g.dns.recordName));
    z.types.add(g.dns.recordType);
    zones.set(id, z);
  }
  for (const [id, z] of zones) {
    out.push({
      actions: ["route53:ChangeResourceRecordSets"],
      resources: [`arn:${c.partition}:route53:::hostedzone/${id}`],
      conditions: [
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsNormalizedRecordNames", values: [...z.names].sort() },
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsRecordTypes", values: [...z.types].sort() },
        { test: "ForAllValues:StringEquals", variable: "route53:ChangeResourceRecordSetsActions", values: ["UPSERT"] },
      ],
    });
  }
  out.push(
    { actions: ["route53:ListResourceRecordSets"], resources: [...zones.keys()].map((id) => `arn:${c.partition}:route53:::hostedzone/${id}`) },
    { actions: ["route53:GetChange"], resources: [`arn:${c.partition}:route53:::change/*`] },
  );
  if (c.stateBucketArn) {
    out.push(
      // Latches and checkpoints under failover/, the run reports of the handler chain under reports/failover/.
      { actions: ["s3:GetObject", "s3:PutObject"], resources: [`${c.stateBucketArn}/failover/*`, `${c.stateBucketArn}/reports/failover/*`] },
      {
        actions: ["s3:ListBucket"],
        resources: [c.stateBucketArn],
        conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["failover/*", "reports/failover/*"] }],
      },
    );
  }
  return out;
}

const BUILDERS: Record<FunctionName, (c: IamContext) => Statement[]> = {
  backup,
  copy,
  prune,
  watchdog,
  warm,
  cost,
  failover,
};

/**
 * The statements a function's role gets besides its links (the Reports link adds
 * {@link REPORTS_OBJECT_ACTIONS} and {@link REPORTS_LIST_ACTIONS}) and SST's basic logging policy.
 *
 * @example
 * permissionsFor("prune", ctx).find((s) => s.actions.includes("rds:DeleteDBSnapshot"))?.conditions
 * // -> [{ test: "StringEquals", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["ops-autopilot:prod"] }]
 */
export function permissionsFor(name: FunctionName, ctx: IamContext): Statement[] {
  return BUILDERS[name](ctx);
}
