import type { Config } from "../schemas/config.ts";
import type { FunctionName } from "./functions.ts";
import { alertsTopicName } from "./patterns.ts";
import { pagerTopicRegion } from "./patterns.ts";
import { SNAPSHOT_TAG_KEYS, TAG } from "../core/types.ts";
import { namePrefix, restoreTestPrefix } from "../core/ownership.ts";
import { restoreTestRegion } from "../core/restore-test.ts";
import { restoreTestCheckers } from "../schemas/config-restore-test.ts";
import { checkerFunctionName } from "../runbooks/restore-test/checker-ref.ts";
import { probeNamespace } from "../core/failover-trigger.ts";
import { FLEET_FUNCTIONS, memberRoleName } from "../schemas/config-fleet.ts";
import { withVaultScopes } from "./vault-scopes.ts";
import {
  allRegions,
  ebsSnapshotArn,
  hostedZoneId,
  inRegions,
  kmsStatements,
  MANAGED_BY_TAG,
  normalizedRecordName,
  ownedByUs,
  rdsArn,
  taggedAsOurs,
  volumeArn,
  type Condition,
  type IamContext,
  type Statement,
} from "./iam.ts";

/**
 * How each IAM action a function may declare (adapters/calls.ts) is scoped: resources and conditions, per
 * function placement. stacks/iam.ts derives the roles from this table; an action without an entry fails
 * the derivation loudly, so a new call is never granted on `*` by accident.
 */

/** Regions each function reads in (its `Describe*` calls), by role. */
function readRegions(name: FunctionName, config: Config): string[] {
  switch (name) {
    case "backup":
      return [config.primaryRegion];
    case "failover":
      return failoverRegions(config);
    case "restore-test":
      // The primary region too when a source's RDS-managed master secret is looked up (sql checks without smoke.secretArn).
      return [...new Set([...restoreRegions(config), ...(sourceSecretLookups(config) ? [config.primaryRegion] : [])])].sort();
    case "restore-test-checker":
      return checkerRegions(config);
    default:
      return allRegions(config);
  }
}

function failoverRegions(config: Config): string[] {
  return [...new Set(config.failover.groups.flatMap((g) => [g.primary.region, g.replica.region, g.alarmRegion ?? g.replica.region]))];
}

/** The regions the policies' restore tests run in (core/restore-test.ts restoreTestRegion), sorted. */
export function restoreRegions(config: Config): string[] {
  const regions = config.backup.policies.filter((p) => p.restoreTest).map((p) => restoreTestRegion(p, config).region);
  return [...new Set(regions)].sort();
}

/** Policies whose restore tests run sql checks. */
const sqlPolicies = (config: Config) => config.backup.policies.filter((p) => (p.restoreTest?.smoke.sql.length ?? 0) > 0);

/** Whether a restore test reads a source's MasterUserSecret (sql checks and no smoke.secretArn). */
const sourceSecretLookups = (config: Config): boolean => sqlPolicies(config).some((p) => !p.restoreTest!.smoke.secretArn);

/** Whether a policy may select `kind`: a tag selects any kind, ids only theirs. */
const mayHold = (p: Config["backup"]["policies"][number], kind: string): boolean =>
  p.selection.tag !== undefined || p.selection.ids.some((r) => r.kind === kind);

/** Policies with sql checks on Aurora clusters: their checks run through the Data API from the restore-test function. */
const dataApiPolicies = (config: Config) => sqlPolicies(config).filter((p) => mayHold(p, "aurora-cluster"));

/**
 * The secrets the restore-test function's Data API calls read: each Aurora sql policy's `smoke.secretArn`, and, when
 * one has none, the RDS-managed master user secrets of the primary region, where the source clusters are (RDS names
 * them `rds!cluster-<uuid>`, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 */
function dataApiSecrets(c: IamContext): string[] {
  const policies = dataApiPolicies(c.config);
  const configured = policies.flatMap((p) => (p.restoreTest?.smoke.secretArn ? [p.restoreTest.smoke.secretArn] : []));
  const rdsManaged = policies.some((p) => !p.restoreTest?.smoke.secretArn)
    ? [`arn:${c.partition}:secretsmanager:${c.config.primaryRegion}:${c.account}:secret:rds!cluster-*`]
    : [];
  return [...new Set([...configured, ...rdsManaged])].sort();
}

/** The restore regions whose checker function the restore-test function invokes (schemas/config-restore-test.ts restoreTestCheckers). */
export function checkerRegions(config: Config): string[] {
  return [...restoreTestCheckers(config.backup.policies, config).byRegion.keys()].sort();
}

/**
 * The secrets the checker functions read: each checker policy's `smoke.secretArn`, and, when a checker policy has
 * none, the RDS-managed master user secrets of the primary region, where the source databases are (RDS names them
 * `rds!db-<uuid>`, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 */
function checkerSecrets(c: IamContext): string[] {
  const checkerPolicies = new Set([...restoreTestCheckers(c.config.backup.policies, c.config).byRegion.values()].flatMap((v) => v.policies));
  const policies = c.config.backup.policies.filter((p) => checkerPolicies.has(p.name));
  const configured = policies.flatMap((p) => (p.restoreTest?.smoke.secretArn ? [p.restoreTest.smoke.secretArn] : []));
  const rdsManaged = policies.some((p) => !p.restoreTest?.smoke.secretArn)
    ? [`arn:${c.partition}:secretsmanager:${c.config.primaryRegion}:${c.account}:secret:rds!db-*`]
    : [];
  return [...new Set([...configured, ...rdsManaged])].sort();
}

/**
 * Creates, tags and deletes are limited to ids with our prefix `oa-<app>-<stage>-` (core/ownership.ts
 * namePrefix), so even with our tag on it a snapshot named otherwise is out of reach.
 */
const ourIds = (c: IamContext): string => `${namePrefix(c.config)}*`;

const rdsSnapshotArns = (c: IamContext, regions: string[]): string[] =>
  regions.flatMap((r) => [rdsArn(c, r, "snapshot", ourIds(c)), rdsArn(c, r, "cluster-snapshot", ourIds(c))]);

/** Our tag keys: the only ones a tagging request may carry. */
const OUR_TAG_KEYS = SNAPSHOT_TAG_KEYS;

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
  return [ownedByUs(config), { test: "StringLike", variable: `aws:ResourceTag/${TAG.name}`, values: [`${namePrefix(config)}*`] }];
}

/** Tag keys a restore-test throwaway carries (core/restore-test.ts throwaway): ours, the restore-test keys and EBS's `Name`. */
export const RESTORE_TEST_TAG_KEYS: readonly string[] = [TAG.managedBy, TAG.name, TAG.policy, TAG.source, TAG.restoreTest, TAG.restoreTestAt, "Name"].sort();

/** Throwaway identifiers: `oa-<app>-<stage>-rt-` (core/ownership.ts restoreTestPrefix), never a source database's. */
const throwawayIds = (c: IamContext): string => `${restoreTestPrefix(c.config)}*`;

/**
 * A restore or create of a throwaway: the request sets managed-by to our value, carries the restore-test tag, and
 * only the throwaway's keys (aws:RequestTag, aws:TagKeys: on the rows of RestoreDBInstanceFromDBSnapshot,
 * RestoreDBClusterFromSnapshot, CreateDBInstance and CreateVolume in the Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html and
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
 */
function restoreTestRequest(config: Config): Condition[] {
  return [
    taggedAsOurs(config),
    { test: "Null", variable: `aws:RequestTag/${TAG.restoreTest}`, values: ["false"] },
    { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: [...RESTORE_TEST_TAG_KEYS] },
  ];
}

/** Deletes of throwaways: our managed-by, the restore-test tag and our restore-test name tag, all on the resource. */
function restoreTestDelete(c: IamContext): Condition[] {
  return [
    ownedByUs(c.config),
    { test: "Null", variable: `aws:ResourceTag/${TAG.restoreTest}`, values: ["false"] },
    { test: "StringLike", variable: `aws:ResourceTag/${TAG.name}`, values: [throwawayIds(c)] },
  ];
}

/** A throwaway is never public: `rds:PubliclyAccessible` is on the restore and create rows (list_amazonrds.html). */
const notPublic: Condition = { test: "Bool", variable: "rds:PubliclyAccessible", values: ["false"] };

/** The DB subnet groups the policies place throwaways in, in their restore regions. */
function restoreSubnetGroups(c: IamContext): string[] {
  return [
    ...new Set(
      c.config.backup.policies.flatMap((p) =>
        p.restoreTest?.rds ? [rdsArn(c, restoreTestRegion(p, c.config).region, "subgrp", p.restoreTest.rds.dbSubnetGroupName)] : [],
      ),
    ),
  ].sort();
}

/**
 * An RDS restore or create of a throwaway: the new resource (prefix, request tags, not public), the source (our
 * snapshots, or for an Aurora instance our throwaway cluster; no request context there, so no condition), and the
 * configured subnet groups.
 */
function rdsRestore(action: string, newType: "db" | "cluster", source: "snapshot" | "cluster-snapshot" | "cluster"): Scope {
  return (c) => {
    const regions = restoreRegions(c.config);
    if (!regions.length) return [];
    const subnetGroups = restoreSubnetGroups(c);
    return [
      {
        actions: [action],
        resources: regions.map((r) => rdsArn(c, r, newType, throwawayIds(c))),
        conditions: [...restoreTestRequest(c.config), ...(newType === "db" ? [notPublic] : [])],
      },
      { actions: [action], resources: regions.map((r) => rdsArn(c, r, source, source === "cluster" ? throwawayIds(c) : ourIds(c))) },
      ...(subnetGroups.length ? [{ actions: [action], resources: subnetGroups }] : []),
    ];
  };
}

function rdsRestoreDelete(action: string, type: "db" | "cluster"): Scope {
  return (c) => {
    const regions = restoreRegions(c.config);
    return regions.length ? [{ actions: [action], resources: regions.map((r) => rdsArn(c, r, type, throwawayIds(c))), conditions: restoreTestDelete(c) }] : [];
  };
}

/** Where a function acts: backup creates in the primary region; copy creates in the DR regions from primary sources. */
export interface Placement {
  name: FunctionName;
  primary: string;
  dr: string[];
}

export type Scope = (c: IamContext, p: Placement) => Statement[];

const readAnywhere =
  (action: string): Scope =>
  (c, p) => [{ actions: [action], resources: ["*"], conditions: [inRegions(readRegions(p.name, c.config))] }];

const kmsOn =
  (which: "dr-key" | "source-key", action: string): Scope =>
  (c, p) => {
    // Restore tests use the key of the snapshot they restore: a DR region's key there, a source key in the primary.
    if (p.name === "restore-test") {
      const regions = restoreRegions(c.config);
      return which === "dr-key"
        ? c.config.drRegions.filter((d) => regions.includes(d.region)).flatMap((d) => kmsStatements(c, d.region, d.kmsKeyId, [action]))
        : regions.includes(c.config.primaryRegion)
          ? c.config.backup.sourceKmsKeyIds.flatMap((k) => kmsStatements(c, c.config.primaryRegion, k, [action]))
          : [];
    }
    return p.dr.length === 0
      ? []
      : which === "dr-key"
        ? c.config.drRegions.flatMap((d) => kmsStatements(c, d.region, d.kmsKeyId, [action]))
        : c.config.backup.sourceKmsKeyIds.flatMap((k) => kmsStatements(c, c.config.primaryRegion, k, [action]));
  };

const noDr = (p: Placement): boolean => p.dr.length === 0;

const KMS_ACTIONS = ["DescribeKey", "CreateGrant", "Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo"] as const;

/**
 * How each declared action is scoped: resources and conditions. Every action adapters/calls.ts can
 * declare needs an entry (a missing one fails `permissionsFor` loudly), so a new call is never granted
 * on `*` by accident. The backup account's scopes (stacks/vault-scopes.ts) are merged in.
 */
export const SCOPES: Record<string, Scope> = withVaultScopes({
  // Criticals page through the stage's topic in its region (the failover control region when failover is configured,
  // stacks/patterns.ts pagerTopicRegion), that topic only, and only with the pager on
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html, Publish: resource type topic).
  "sns:Publish": (c) =>
    c.config.notifications.pager.enabled
      ? [{ actions: ["sns:Publish"], resources: [`arn:${c.partition}:sns:${pagerTopicRegion(c.config)}:${c.account}:${alertsTopicName(c.config)}`] }]
      : [],
  "rds:DescribeDBInstances": readAnywhere("rds:DescribeDBInstances"),
  "rds:DescribeDBClusters": readAnywhere("rds:DescribeDBClusters"),
  "rds:DescribeDBSnapshots": readAnywhere("rds:DescribeDBSnapshots"),
  "rds:DescribeDBClusterSnapshots": readAnywhere("rds:DescribeDBClusterSnapshots"),
  "rds:DescribeGlobalClusters": readAnywhere("rds:DescribeGlobalClusters"),
  "ec2:DescribeVolumes": readAnywhere("ec2:DescribeVolumes"),
  "ec2:DescribeSnapshots": readAnywhere("ec2:DescribeSnapshots"),
  "ec2:DescribeImages": readAnywhere("ec2:DescribeImages"),
  "cloudwatch:GetMetricData": readAnywhere("cloudwatch:GetMetricData"),
  // PutMetricData has no resource type (AWS authorizes it on `*`); `cloudwatch:namespace` pins it to this stage's
  // probe namespace (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html),
  // so no role of another stage can write the metric that starts this stage's failover, nor this one theirs;
  // and only in the regions the trigger alarms live in (the replicas').
  "cloudwatch:PutMetricData": (c) => {
    const regions = [...new Set(c.config.failover.groups.filter((g) => g.trigger).map((g) => g.replica.region))].sort();
    if (!regions.length) return [];
    return [
      {
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: [
          { test: "StringEquals", variable: "cloudwatch:namespace", values: [probeNamespace(`${c.config.app}-${c.config.stage}`)] },
          inRegions(regions),
        ],
      },
    ];
  },
  // Cost Explorer has no resource-level permissions and one endpoint (us-east-1).
  "ce:GetCostAndUsage": () => [{ actions: ["ce:GetCostAndUsage"], resources: ["*"] }],
  "ce:GetCostForecast": () => [{ actions: ["ce:GetCostForecast"], resources: ["*"] }],

  // RDS authorizes a create on the source and on the new snapshot (both resource types are required).
  "rds:CreateDBSnapshot": (c, p) => [
    { actions: ["rds:CreateDBSnapshot"], resources: [rdsArn(c, p.primary, "db"), rdsArn(c, p.primary, "snapshot", ourIds(c))] },
  ],
  "rds:CreateDBClusterSnapshot": (c, p) => [
    { actions: ["rds:CreateDBClusterSnapshot"], resources: [rdsArn(c, p.primary, "cluster"), rdsArn(c, p.primary, "cluster-snapshot", ourIds(c))] },
  ],
  // RDS authorizes tags passed to a create or copy as rds:AddTagsToResource on the new snapshot.
  "rds:AddTagsToResource": (c, p) => {
    if (p.name === "restore-test") {
      const rt = restoreRegions(c.config);
      return rt.length
        ? [
            {
              actions: ["rds:AddTagsToResource"],
              resources: rt.flatMap((r) => [rdsArn(c, r, "db", throwawayIds(c)), rdsArn(c, r, "cluster", throwawayIds(c))]),
              conditions: restoreTestRequest(c.config),
            },
          ]
        : [];
    }
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
    if (p.name === "restore-test") {
      const rt = restoreRegions(c.config);
      return rt.length
        ? [
            {
              actions: ["ec2:CreateTags"],
              resources: rt.map((r) => volumeArn(c, r)),
              conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateVolume"] }, ...restoreTestRequest(c.config)],
            },
          ]
        : [];
    }
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

  // Restore tests (issue 11): throwaways only, created tagged and prefixed, deleted only when tagged as restore tests.
  "rds:RestoreDBInstanceFromDBSnapshot": rdsRestore("rds:RestoreDBInstanceFromDBSnapshot", "db", "snapshot"),
  "rds:RestoreDBClusterFromSnapshot": rdsRestore("rds:RestoreDBClusterFromSnapshot", "cluster", "cluster-snapshot"),
  "rds:CreateDBInstance": rdsRestore("rds:CreateDBInstance", "db", "cluster"),
  "rds:DeleteDBInstance": rdsRestoreDelete("rds:DeleteDBInstance", "db"),
  "rds:DeleteDBCluster": rdsRestoreDelete("rds:DeleteDBCluster", "cluster"),
  // The new volume (request tags) and the source: an EBS snapshot ARN has no name, so the source must carry our
  // managed-by tag (CreateVolume's snapshot row has aws:ResourceTag, list_amazonec2.html).
  "ec2:CreateVolume": (c) => {
    const regions = restoreRegions(c.config);
    if (!regions.length) return [];
    return [
      { actions: ["ec2:CreateVolume"], resources: regions.map((r) => volumeArn(c, r)), conditions: restoreTestRequest(c.config) },
      { actions: ["ec2:CreateVolume"], resources: regions.map((r) => ebsSnapshotArn(c, r)), conditions: [ownedByUs(c.config)] },
    ];
  },
  "ec2:DeleteVolume": (c) => {
    const regions = restoreRegions(c.config);
    return regions.length ? [{ actions: ["ec2:DeleteVolume"], resources: regions.map((r) => volumeArn(c, r)), conditions: restoreTestDelete(c) }] : [];
  },
  // The Data API of a throwaway cluster only, before its sql checks: restore-test-tagged, ours, name-prefixed, like the deletes.
  "rds:EnableHttpEndpoint": (c) => {
    const regions = dataApiPolicies(c.config).length ? restoreRegions(c.config) : [];
    return regions.length
      ? [{ actions: ["rds:EnableHttpEndpoint"], resources: regions.map((r) => rdsArn(c, r, "cluster", throwawayIds(c))), conditions: restoreTestDelete(c) }]
      : [];
  },
  // Statements on throwaway clusters only (resource type cluster, aws:ResourceTag supported:
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_rds-data.html).
  ...Object.fromEntries(
    ["rds-data:BeginTransaction", "rds-data:ExecuteStatement", "rds-data:RollbackTransaction"].map((action) => [
      action,
      ((c) => {
        const regions = dataApiPolicies(c.config).length ? restoreRegions(c.config) : [];
        return regions.length
          ? [{ actions: [action], resources: regions.map((r) => rdsArn(c, r, "cluster", throwawayIds(c))), conditions: restoreTestDelete(c) }]
          : [];
      }) satisfies Scope,
    ]),
  ),
  // The checker functions read the databases' credentials; the restore-test function's Data API calls read the Aurora
  // checks' secrets for it (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html); nothing
  // else reads a secret.
  "secretsmanager:GetSecretValue": (c, p) => {
    const secrets = p.name === "restore-test-checker" ? checkerSecrets(c) : p.name === "restore-test" ? dataApiSecrets(c) : [];
    return secrets.length ? [{ actions: ["secretsmanager:GetSecretValue"], resources: secrets }] : [];
  },
  // The restore-test function invokes its restore regions' checker functions, those only.
  "lambda:InvokeFunction": (c, p) => {
    if (p.name !== "restore-test") return [];
    const regions = checkerRegions(c.config);
    const name = regions.length ? checkerFunctionName(c.config) : "";
    return regions.length
      ? [{ actions: ["lambda:InvokeFunction"], resources: regions.map((r) => `arn:${c.partition}:lambda:${r}:${c.account}:function:${name}`) }]
      : [];
  },
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
  "route53:GetChange": (c) =>
    c.config.failover.groups.length ? [{ actions: ["route53:GetChange"], resources: [`arn:${c.partition}:route53:::change/*`] }] : [],

  // Object actions: the Reports link grants them to every function with `reports`; the failover function
  // keeps latches, checkpoints and run reports in its own state bucket, under two prefixes only; the weekly report
  // (not linked) reads the run reports and writes its HTML and its own run reports only.
  "s3:GetObject": (c, p) => [...stateBucket(c, p, "s3:GetObject"), ...weeklyReports(c, p, "s3:GetObject")],
  "s3:PutObject": (c, p) => [...stateBucket(c, p, "s3:PutObject"), ...weeklyReports(c, p, "s3:PutObject")],
  "s3:ListBucket": (c, p) => [
    ...(c.stateBucketArn && p.name === "failover"
      ? [
          {
            actions: ["s3:ListBucket"],
            resources: [c.stateBucketArn],
            conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["failover/*", "reports/failover/*"] }],
          },
        ]
      : []),
    ...weeklyReports(c, p, "s3:ListBucket"),
  ],

  // The fleet functions assume their own member role in each member account (adapters/assume-role.ts), nothing else.
  "sts:AssumeRole": (c, p) => memberRoleAssumption(c, p),

  // The fleet's target discovery lists the accounts of the fleet's OU, no other parent. The organizationalunit resource
  // type is `arn:<partition>:organizations::<management account>:ou/o-<organization>/<ou id>`
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html); the configuration
  // knows neither the management account nor the organization id, so `*` / `o-*` stand for them, the OU id is exact.
  "organizations:ListAccountsForParent": (c, p) => {
    const ou = c.config.fleet?.organizationalUnit;
    if (!ou || p.name !== "fleet-targets") return [];
    return [{ actions: ["organizations:ListAccountsForParent"], resources: [`arn:${c.partition}:organizations::*:ou/o-*/${ou.id}`] }];
  },
});

/**
 * `sts:AssumeRole` for a fleet function (schemas/config-fleet.ts FLEET_FUNCTIONS) on its own member role in each
 * member account: exactly the listed accounts' roles (stacks/member-roles.ts memberRoleArn names them the same way),
 * and, for an Organizations OU, the role's name in any account whose organization path runs through that OU:
 * `aws:ResourceOrgPaths` is the path of the account that owns the resource, multivalued, compared with
 * `ForAnyValue:StringLike` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths).
 * The path starts with the organization and root ids, which the configuration does not know: `o-*` / `*` stand for
 * them, the OU id is exact. An OU may hold the backup account (config.vault.accountId) or the stage's own account
 * (the deploying account, config.vault.centralAccountId), and a StackSet aimed at the OU deploys the member roles
 * there too: `aws:ResourceAccount` (the role's account, always in an AssumeRole's context,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount)
 * must be none of them, so a workload role never acts in the vault. No fleet, or another function: no statement.
 */
function memberRoleAssumption(c: IamContext, p: Placement): Statement[] {
  const fleet = c.config.fleet;
  const fn = FLEET_FUNCTIONS.find((f) => f === p.name);
  if (!fleet || !fn) return [];
  const out: Statement[] = [];
  if (fleet.accounts.length) {
    out.push({ actions: ["sts:AssumeRole"], resources: fleet.accounts.map((a) => `arn:${c.partition}:iam::${a.id}:role/${memberRoleName(c.config, fn, a)}`) });
  }
  const ou = fleet.organizationalUnit;
  if (ou) {
    out.push({
      actions: ["sts:AssumeRole"],
      resources: [`arn:${c.partition}:iam::*:role/${memberRoleName(c.config, fn, ou)}`],
      conditions: [
        { test: "ForAnyValue:StringLike", variable: "aws:ResourceOrgPaths", values: [`o-*/*/${ou.id}/*`] },
        { test: "StringNotEquals", variable: "aws:ResourceAccount", values: notMemberAccounts(c) },
      ],
    });
  }
  return out;
}

/** Accounts no member role is assumed in: the backup account, then the stage's own (configured and deploying). */
function notMemberAccounts(c: IamContext): string[] {
  const vault = c.config.vault;
  return [...new Set([vault?.accountId, vault?.centralAccountId, c.account].filter((a): a is string => !!a))];
}

/** The failed-run alert state the handler chain keeps for the weekly report (runbooks/lib/handler.ts). */
const WEEKLY_RUN_ALERT_STATE = "state/alerts/runs/weekly-report.json";

/**
 * The weekly report's grants on the Reports bucket: list only under `reports/` (ListObjectsV2 with a `Prefix`, checked
 * as `s3:prefix`: https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html), read `reports/*`,
 * write its HTML (`reports/weekly/*`) and its own run reports (`reports/weekly-report/*`); of the rest of the bucket
 * (claims, ledgers, other functions' alert state) only its own failed-run alert state, which the chain reads (a
 * missing one answers 404 only with ListBucket on its key) and writes.
 */
function weeklyReports(c: IamContext, p: Placement, action: string): Statement[] {
  if (!c.reportsBucketArn || p.name !== "weekly-report") return [];
  const b = c.reportsBucketArn;
  if (action === "s3:ListBucket")
    return [{ actions: [action], resources: [b], conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["reports/*", WEEKLY_RUN_ALERT_STATE] }] }];
  if (action === "s3:GetObject") return [{ actions: [action], resources: [`${b}/reports/*`, `${b}/${WEEKLY_RUN_ALERT_STATE}`] }];
  return [{ actions: [action], resources: [`${b}/reports/weekly/*`, `${b}/reports/weekly-report/*`, `${b}/${WEEKLY_RUN_ALERT_STATE}`] }];
}

/** The failover state bucket is the failover function's alone (the restore-test runbook keeps its runs in the Reports bucket). */
function stateBucket(c: IamContext, p: Placement, action: string): Statement[] {
  return c.stateBucketArn && p.name === "failover"
    ? [{ actions: [action], resources: [`${c.stateBucketArn}/failover/*`, `${c.stateBucketArn}/reports/failover/*`] }]
    : [];
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
