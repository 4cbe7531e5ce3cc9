/**
 * What AWS authorizes for each command the sandbox simulates: the IAM action(s), the resource ARN(s) in
 * their real formats, and the condition keys the request and the resource supply. Sources: the Service
 * Authorization Reference for RDS, EC2, S3, Route 53, CloudWatch and KMS
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html, …/list_amazonec2.html,
 * …/list_amazons3.html, …/list_amazonroute53.html, …/list_amazoncloudwatch.html), plus:
 * - RDS tag-on-create: tags passed to a create or copy are authorized as `rds:AddTagsToResource` on the new
 *   resource (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html);
 * - EC2 tag-on-create: `ec2:CreateTags` with `ec2:CreateAction` set to the creating action
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html);
 * - Route 53 record conditions (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html);
 * - encrypted copies check KMS permissions of the caller on the keys involved
 *   (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html).
 * test/unit/sandbox/iam-requests.test.ts checks every mapping against the reference data.
 */
import type { AuthRequest, RequestContext } from "./policy.ts";
import { lambdaFunctionName } from "../lambda.ts";
import { accountOrgPaths, organizationalUnitArn } from "../organizations.ts";

type Tags = Record<string, string>;

/** What the request mapping may look up in the account's state. */
export interface ResourceLookup {
  rdsSnapshot(region: string, id: string, cluster: boolean): { tags: Tags; kmsKeyId?: string; encrypted: boolean } | undefined;
  ebsSnapshot(region: string, id: string): { tags: Tags; kmsKeyId?: string; encrypted: boolean } | undefined;
  ebsVolume(region: string, id: string): { tags: Tags } | undefined;
  rdsResourceTags(arn: string): Tags | undefined;
  /** The KMS key a key ARN, key id, alias or alias ARN names, with its aliases; undefined for a key nobody created. */
  kmsKey?(region: string, ref: string): { arn: string; aliases: readonly string[] } | undefined;
}

export interface RequestEnv {
  region: string;
  account: string;
  partition: string;
  lookup: ResourceLookup;
}

interface Tag {
  Key?: string;
  Value?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: command inputs of every service, read field by field per mapping
type Input = any;

function requestTags(tags: readonly Tag[] | undefined): RequestContext {
  const ctx: Record<string, string | string[]> = {};
  const keys: string[] = [];
  for (const t of tags ?? []) {
    if (t.Key === undefined) continue;
    ctx[`aws:RequestTag/${t.Key}`] = t.Value ?? "";
    keys.push(t.Key);
  }
  if (keys.length) ctx["aws:TagKeys"] = keys;
  return ctx;
}

function rdsRequestTags(tags: readonly Tag[] | undefined): RequestContext {
  const ctx: Record<string, string | readonly string[] | undefined> = { ...requestTags(tags) };
  for (const t of tags ?? []) if (t.Key !== undefined) ctx[`rds:req-tag/${t.Key}`] = t.Value ?? "";
  return ctx;
}

function resourceTags(tags: Tags | undefined, servicePrefix?: string): RequestContext {
  const ctx: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) {
    ctx[`aws:ResourceTag/${k}`] = v;
    if (servicePrefix) ctx[`${servicePrefix}/${k}`] = v;
  }
  return ctx;
}

const ec2TagSpecTags = (input: Input): Tag[] => (input.TagSpecifications ?? []).flatMap((s: { Tags?: Tag[] }) => s.Tags ?? []);

/** `arn:aws:rds:eu-west-1:123:snapshot:x` for an id or an ARN (returned as is). */
function rdsArn(env: RequestEnv, type: string, idOrArn: string, region = env.region): string {
  return idOrArn.startsWith("arn:") ? idOrArn : `arn:${env.partition}:rds:${region}:${env.account}:${type}:${idOrArn.toLowerCase()}`;
}

function arnRegion(arn: string, fallback: string): string {
  return arn.startsWith("arn:") ? arn.split(":")[3] || fallback : fallback;
}

function arnId(arn: string): string {
  return arn.startsWith("arn:") ? arn.split(":").slice(6).join(":") : arn;
}

/**
 * A KMS key reference as IAM sees it. A key the sandbox holds is authorized on its ARN with `kms:ResourceAliases` set to
 * all its aliases, however the request names it (alias, key ARN, key id): the condition key holds "the aliases that
 * are associated with the KMS key", so a snapshot's own key, named by ARN in a copy, carries them too
 * (https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html, "kms:ResourceAliases" in
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html). Otherwise key ARNs and ids name the key
 * with no aliases, and an alias resolves to a key whose `kms:ResourceAliases` holds it (named after the alias).
 */
function kmsKey(env: RequestEnv, region: string, ref: string): { arn: string; context: RequestContext } {
  const held = env.lookup.kmsKey?.(region, ref);
  if (held) return { arn: held.arn, context: held.aliases.length ? { "kms:ResourceAliases": [...held.aliases] } : {} };
  if (/^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(ref)) return { arn: ref, context: {} };
  const aliasArn = /^arn:[^:]+:kms:([^:]+):(\d{12}):(alias\/.+)$/.exec(ref);
  const alias = aliasArn?.[3] ?? (ref.startsWith("alias/") ? ref : undefined);
  const keyRegion = aliasArn?.[1] ?? region;
  if (alias) {
    return { arn: `arn:${env.partition}:kms:${keyRegion}:${env.account}:key/${alias.replace(/\//g, "-")}`, context: { "kms:ResourceAliases": [alias] } };
  }
  return { arn: `arn:${env.partition}:kms:${region}:${env.account}:key/${ref}`, context: {} };
}

function kmsRequests(env: RequestEnv, region: string, ref: string, actions: readonly string[], viaService: string): AuthRequest[] {
  const key = kmsKey(env, region, ref);
  return actions.map((action) => ({
    action,
    resource: key.arn,
    context: {
      ...key.context,
      "aws:RequestedRegion": region,
      "kms:ViaService": `${viaService}.${region}.amazonaws.com`,
      ...(action === "kms:CreateGrant" ? { "kms:GrantIsForAWSResource": "true" } : {}),
    },
  }));
}

/** KMS actions EBS checks on the destination key of an encrypted copy, and on the source key. */
const EBS_DEST_KMS = ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"];
const EBS_SOURCE_KMS = ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt"];
/** KMS actions RDS checks for a copy: on the destination key, and on an encrypted source's key. */
const RDS_COPY_KMS = ["kms:DescribeKey", "kms:CreateGrant"];

function rdsCreate(env: RequestEnv, action: string, sourceType: string, sourceId: string, newType: string, newId: string, tags: Tag[] | undefined) {
  const tagCtx = rdsRequestTags(tags);
  const target = rdsArn(env, newType, newId);
  const out: AuthRequest[] = [
    { action, resource: rdsArn(env, sourceType, sourceId), context: tagCtx },
    { action, resource: target, context: tagCtx },
  ];
  if (tags?.length) out.push({ action: "rds:AddTagsToResource", resource: target, context: { ...tagCtx, "rds:TagsFromRequest": "true" } });
  return out;
}

/**
 * A restore or create: the new resource (request tags, rds:PubliclyAccessible where the action lists it), the
 * source(s), the subnet group when named, and tag-on-create as rds:AddTagsToResource on the new resource.
 */
function rdsRestore(env: RequestEnv, action: string, input: Input, newType: string, newId: string, sources: AuthRequest[]): AuthRequest[] {
  const tagCtx = rdsRequestTags(input.Tags);
  const target = rdsArn(env, newType, String(newId));
  const ctx: Record<string, string | readonly string[] | undefined> = { ...tagCtx };
  if (action !== "rds:RestoreDBClusterFromSnapshot") ctx["rds:PubliclyAccessible"] = String(input.PubliclyAccessible === true);
  if (action === "rds:RestoreDBClusterFromSnapshot" && input.DBClusterInstanceClass) ctx["rds:DatabaseClass"] = String(input.DBClusterInstanceClass);
  const out: AuthRequest[] = [{ action, resource: target, context: ctx as RequestContext }, ...sources];
  if (input.DBSubnetGroupName) out.push({ action, resource: rdsArn(env, "subgrp", String(input.DBSubnetGroupName)), context: {} });
  if (input.Tags?.length) out.push({ action: "rds:AddTagsToResource", resource: target, context: { ...tagCtx, "rds:TagsFromRequest": "true" } });
  return out;
}

/**
 * A restore from an encrypted snapshot creates a resource with a customer managed key (the snapshot's, or KmsKeyId):
 * "To create an RDS resource using a customer managed key, a user must have permissions to call kms:CreateGrant and
 * kms:DescribeKey on the customer managed key" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html).
 */
function rdsRestoreKms(env: RequestEnv, input: Input, snapshot: { encrypted: boolean; kmsKeyId?: string } | undefined): AuthRequest[] {
  const key = input.KmsKeyId ?? (snapshot?.encrypted ? snapshot.kmsKeyId : undefined);
  return key ? kmsRequests(env, env.region, String(key), RDS_COPY_KMS, "rds") : [];
}

function rdsCopy(env: RequestEnv, input: Input, cluster: boolean): AuthRequest[] {
  const action = cluster ? "rds:CopyDBClusterSnapshot" : "rds:CopyDBSnapshot";
  const type = cluster ? "cluster-snapshot" : "snapshot";
  const sourceRef: string = cluster ? input.SourceDBClusterSnapshotIdentifier : input.SourceDBSnapshotIdentifier;
  const targetId: string = cluster ? input.TargetDBClusterSnapshotIdentifier : input.TargetDBSnapshotIdentifier;
  const sourceRegion = arnRegion(sourceRef ?? "", env.region);
  const sourceArn = rdsArn(env, type, sourceRef ?? "", sourceRegion);
  const source = env.lookup.rdsSnapshot(sourceRegion, arnId(sourceRef ?? ""), cluster);
  const tagCtx = rdsRequestTags(input.Tags);
  const target = rdsArn(env, type, targetId ?? "");
  const out: AuthRequest[] = [
    { action, resource: sourceArn, context: { ...tagCtx, ...resourceTags(source?.tags) } },
    { action, resource: target, context: tagCtx },
  ];
  if (input.Tags?.length) out.push({ action: "rds:AddTagsToResource", resource: target, context: { ...tagCtx, "rds:TagsFromRequest": "true" } });
  if (input.KmsKeyId) out.push(...kmsRequests(env, env.region, input.KmsKeyId, RDS_COPY_KMS, "rds"));
  if (source?.encrypted && source.kmsKeyId) out.push(...kmsRequests(env, sourceRegion, source.kmsKeyId, RDS_COPY_KMS, "rds"));
  return out;
}

function rdsDelete(env: RequestEnv, id: string, cluster: boolean): AuthRequest[] {
  const snap = env.lookup.rdsSnapshot(env.region, id, cluster);
  const type = cluster ? "cluster-snapshot" : "snapshot";
  return [
    {
      action: cluster ? "rds:DeleteDBClusterSnapshot" : "rds:DeleteDBSnapshot",
      resource: rdsArn(env, type, id),
      context: resourceTags(snap?.tags, cluster ? "rds:cluster-snapshot-tag" : "rds:snapshot-tag"),
    },
  ];
}

const ebsSnapshotArn = (env: RequestEnv, region: string, id = "*") => `arn:${env.partition}:ec2:${region}::snapshot/${id}`;

type Mapper = (input: Input, env: RequestEnv) => AuthRequest[];

const describe =
  (action: string, idField?: string, type?: string): Mapper =>
  (input, env) => [{ action, resource: idField && type && input[idField] ? rdsArn(env, type, String(input[idField])) : "*", context: {} }];

/** Service → command (without `Command`) → the authorizations AWS makes for it. */
export const AUTHORIZATIONS: Record<string, Record<string, Mapper>> = {
  rds: {
    DescribeDBInstances: describe("rds:DescribeDBInstances", "DBInstanceIdentifier", "db"),
    DescribeDBClusters: describe("rds:DescribeDBClusters", "DBClusterIdentifier", "cluster"),
    DescribeDBSnapshots: describe("rds:DescribeDBSnapshots"),
    DescribeDBClusterSnapshots: describe("rds:DescribeDBClusterSnapshots"),
    DescribeGlobalClusters: describe("rds:DescribeGlobalClusters"),
    ListTagsForResource: (input, env) => [
      {
        action: "rds:ListTagsForResource",
        resource: String(input.ResourceName),
        context: resourceTags(env.lookup.rdsResourceTags(String(input.ResourceName))),
      },
    ],
    CreateDBSnapshot: (input, env) =>
      rdsCreate(env, "rds:CreateDBSnapshot", "db", input.DBInstanceIdentifier, "snapshot", input.DBSnapshotIdentifier, input.Tags),
    CreateDBClusterSnapshot: (input, env) =>
      rdsCreate(env, "rds:CreateDBClusterSnapshot", "cluster", input.DBClusterIdentifier, "cluster-snapshot", input.DBClusterSnapshotIdentifier, input.Tags),
    CopyDBSnapshot: (input, env) => rdsCopy(env, input, false),
    CopyDBClusterSnapshot: (input, env) => rdsCopy(env, input, true),
    DeleteDBSnapshot: (input, env) => rdsDelete(env, input.DBSnapshotIdentifier, false),
    DeleteDBClusterSnapshot: (input, env) => rdsDelete(env, input.DBClusterSnapshotIdentifier, true),
    AddTagsToResource: (input, env) => [
      {
        action: "rds:AddTagsToResource",
        resource: String(input.ResourceName),
        context: { ...rdsRequestTags(input.Tags), "rds:TagsFromRequest": "true", ...resourceTags(env.lookup.rdsResourceTags(String(input.ResourceName))) },
      },
    ],
    RemoveTagsFromResource: (input, env) => [
      {
        action: "rds:RemoveTagsFromResource",
        resource: String(input.ResourceName),
        context: { "aws:TagKeys": input.TagKeys ?? [], ...resourceTags(env.lookup.rdsResourceTags(String(input.ResourceName))) },
      },
    ],
    RestoreDBInstanceFromDBSnapshot: (input, env) => [
      ...rdsRestore(env, "rds:RestoreDBInstanceFromDBSnapshot", input, "db", input.DBInstanceIdentifier, [
        { action: "rds:RestoreDBInstanceFromDBSnapshot", resource: rdsArn(env, "snapshot", input.DBSnapshotIdentifier), context: {} },
      ]),
      ...rdsRestoreKms(env, input, env.lookup.rdsSnapshot(env.region, arnId(String(input.DBSnapshotIdentifier)), false)),
    ],
    RestoreDBClusterFromSnapshot: (input, env) => [
      ...rdsRestore(env, "rds:RestoreDBClusterFromSnapshot", input, "cluster", input.DBClusterIdentifier, [
        {
          action: "rds:RestoreDBClusterFromSnapshot",
          // A cluster snapshot by id or ARN; a DB snapshot only by ARN (API_RestoreDBClusterFromSnapshot, SnapshotIdentifier).
          resource: rdsArn(env, "cluster-snapshot", String(input.SnapshotIdentifier)),
          context: {},
        },
      ]),
      ...rdsRestoreKms(env, input, env.lookup.rdsSnapshot(env.region, arnId(String(input.SnapshotIdentifier)), true)),
    ],
    CreateDBInstance: (input, env) =>
      rdsRestore(
        env,
        "rds:CreateDBInstance",
        input,
        "db",
        input.DBInstanceIdentifier,
        input.DBClusterIdentifier ? [{ action: "rds:CreateDBInstance", resource: rdsArn(env, "cluster", input.DBClusterIdentifier), context: {} }] : [],
      ),
    // DeleteDBInstance/DeleteDBCluster: the resource's tags are in the context; a final snapshot is the cluster-snapshot resource.
    DeleteDBInstance: (input, env) => [
      {
        action: "rds:DeleteDBInstance",
        resource: rdsArn(env, "db", String(input.DBInstanceIdentifier)),
        context: resourceTags(env.lookup.rdsResourceTags(rdsArn(env, "db", String(input.DBInstanceIdentifier))), "rds:db-tag"),
      },
    ],
    DeleteDBCluster: (input, env) => {
      const arn = rdsArn(env, "cluster", String(input.DBClusterIdentifier));
      const out: AuthRequest[] = [{ action: "rds:DeleteDBCluster", resource: arn, context: resourceTags(env.lookup.rdsResourceTags(arn), "rds:cluster-tag") }];
      if (input.FinalDBSnapshotIdentifier)
        out.push({ action: "rds:DeleteDBCluster", resource: rdsArn(env, "cluster-snapshot", input.FinalDBSnapshotIdentifier), context: {} });
      return out;
    },
    EnableHttpEndpoint: (input, env) => [
      {
        action: "rds:EnableHttpEndpoint",
        resource: String(input.ResourceArn),
        context: resourceTags(env.lookup.rdsResourceTags(String(input.ResourceArn)), "rds:cluster-tag"),
      },
    ],
    // Sharing: on the snapshot (list_amazonrds.html, ModifyDBSnapshotAttribute / DescribeDBSnapshotAttributes and their cluster forms).
    ModifyDBSnapshotAttribute: (input, env) => [
      { action: "rds:ModifyDBSnapshotAttribute", resource: rdsArn(env, "snapshot", String(input.DBSnapshotIdentifier)), context: {} },
    ],
    ModifyDBClusterSnapshotAttribute: (input, env) => [
      { action: "rds:ModifyDBClusterSnapshotAttribute", resource: rdsArn(env, "cluster-snapshot", String(input.DBClusterSnapshotIdentifier)), context: {} },
    ],
    DescribeDBSnapshotAttributes: (input, env) => [
      { action: "rds:DescribeDBSnapshotAttributes", resource: rdsArn(env, "snapshot", String(input.DBSnapshotIdentifier)), context: {} },
    ],
    DescribeDBClusterSnapshotAttributes: (input, env) => [
      { action: "rds:DescribeDBClusterSnapshotAttributes", resource: rdsArn(env, "cluster-snapshot", String(input.DBClusterSnapshotIdentifier)), context: {} },
    ],
    PromoteReadReplica: (input, env) => [{ action: "rds:PromoteReadReplica", resource: rdsArn(env, "db", input.DBInstanceIdentifier), context: {} }],
    PromoteReadReplicaDBCluster: (input, env) => [
      { action: "rds:PromoteReadReplicaDBCluster", resource: rdsArn(env, "cluster", input.DBClusterIdentifier), context: {} },
    ],
    FailoverGlobalCluster: (input, env) => globalCluster(env, "rds:FailoverGlobalCluster", input),
    SwitchoverGlobalCluster: (input, env) => globalCluster(env, "rds:SwitchoverGlobalCluster", input),
  },
  ec2: {
    DescribeVolumes: () => [{ action: "ec2:DescribeVolumes", resource: "*", context: {} }],
    DescribeSnapshots: () => [{ action: "ec2:DescribeSnapshots", resource: "*", context: {} }],
    DescribeImages: () => [{ action: "ec2:DescribeImages", resource: "*", context: {} }],
    CreateSnapshot: (input, env) => {
      const tags = ec2TagSpecTags(input);
      const tagCtx = requestTags(tags);
      const out: AuthRequest[] = [
        { action: "ec2:CreateSnapshot", resource: `arn:${env.partition}:ec2:${env.region}:${env.account}:volume/${input.VolumeId}`, context: {} },
        { action: "ec2:CreateSnapshot", resource: ebsSnapshotArn(env, env.region), context: tagCtx },
      ];
      if (tags.length)
        out.push({ action: "ec2:CreateTags", resource: ebsSnapshotArn(env, env.region), context: { ...tagCtx, "ec2:CreateAction": "CreateSnapshot" } });
      return out;
    },
    CopySnapshot: (input, env) => {
      const tags = ec2TagSpecTags(input);
      const tagCtx = requestTags(tags);
      const sourceRegion: string = input.SourceRegion ?? env.region;
      const source = env.lookup.ebsSnapshot(sourceRegion, input.SourceSnapshotId);
      const out: AuthRequest[] = [
        // The reference lists no aws:ResourceTag on CopySnapshot's row: the source's tags are not in the context.
        { action: "ec2:CopySnapshot", resource: ebsSnapshotArn(env, sourceRegion, input.SourceSnapshotId), context: tagCtx },
        { action: "ec2:CopySnapshot", resource: ebsSnapshotArn(env, env.region), context: tagCtx },
      ];
      if (tags.length)
        out.push({ action: "ec2:CreateTags", resource: ebsSnapshotArn(env, env.region), context: { ...tagCtx, "ec2:CreateAction": "CopySnapshot" } });
      if (input.KmsKeyId) out.push(...kmsRequests(env, env.region, input.KmsKeyId, EBS_DEST_KMS, "ec2"));
      if (source?.encrypted && source.kmsKeyId) out.push(...kmsRequests(env, sourceRegion, source.kmsKeyId, EBS_SOURCE_KMS, "ec2"));
      return out;
    },
    DeleteSnapshot: (input, env) => [
      {
        action: "ec2:DeleteSnapshot",
        resource: ebsSnapshotArn(env, env.region, input.SnapshotId),
        context: resourceTags(env.lookup.ebsSnapshot(env.region, input.SnapshotId)?.tags, "ec2:ResourceTag"),
      },
    ],
    CreateTags: (input, env) =>
      (input.Resources ?? []).map((id: string) => ({
        action: "ec2:CreateTags",
        resource: ec2Arn(env, id),
        context: { ...requestTags(input.Tags), ...resourceTags(id.startsWith("snap-") ? env.lookup.ebsSnapshot(env.region, id)?.tags : undefined) },
      })),
    DeleteTags: (input, env) =>
      (input.Resources ?? []).map((id: string) => ({
        action: "ec2:DeleteTags",
        resource: ec2Arn(env, id),
        context: { "aws:TagKeys": (input.Tags ?? []).map((t: Tag) => t.Key ?? "") },
      })),
    CreateVolume: (input, env) => {
      const tags = ec2TagSpecTags(input);
      const tagCtx = requestTags(tags);
      const volume = `arn:${env.partition}:ec2:${env.region}:${env.account}:volume/*`;
      const volumeCtx: Record<string, string | string[]> = { ...tagCtx, "ec2:AvailabilityZone": String(input.AvailabilityZone ?? "") };
      if (input.Size !== undefined) volumeCtx["ec2:VolumeSize"] = String(input.Size);
      volumeCtx["ec2:VolumeType"] = String(input.VolumeType ?? "gp2");
      const out: AuthRequest[] = [{ action: "ec2:CreateVolume", resource: volume, context: volumeCtx }];
      const source = input.SnapshotId ? env.lookup.ebsSnapshot(env.region, input.SnapshotId) : undefined;
      if (input.SnapshotId) {
        out.push({
          action: "ec2:CreateVolume",
          resource: ebsSnapshotArn(env, env.region, input.SnapshotId),
          context: resourceTags(source?.tags, "ec2:ResourceTag"),
        });
      }
      if (tags.length) out.push({ action: "ec2:CreateTags", resource: volume, context: { ...tagCtx, "ec2:CreateAction": "CreateVolume" } });
      // A volume from an encrypted snapshot uses its key (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html).
      const key = input.KmsKeyId ?? (source?.encrypted ? source.kmsKeyId : undefined);
      if (key) out.push(...kmsRequests(env, env.region, key, EBS_DEST_KMS, "ec2"));
      return out;
    },
    DeleteVolume: (input, env) => [
      {
        action: "ec2:DeleteVolume",
        resource: `arn:${env.partition}:ec2:${env.region}:${env.account}:volume/${input.VolumeId}`,
        context: resourceTags(env.lookup.ebsVolume(env.region, String(input.VolumeId))?.tags, "ec2:ResourceTag"),
      },
    ],
    // Sharing and Snapshot Lock act on the snapshot resource; a locked listing has no resource type
    // (list_amazonec2.html: ModifySnapshotAttribute, DescribeSnapshotAttribute, LockSnapshot, UnlockSnapshot, DescribeLockedSnapshots).
    ModifySnapshotAttribute: (input, env) => [ec2SnapshotRequest(env, "ec2:ModifySnapshotAttribute", input.SnapshotId)],
    DescribeSnapshotAttribute: (input, env) => [ec2SnapshotRequest(env, "ec2:DescribeSnapshotAttribute", input.SnapshotId)],
    LockSnapshot: (input, env) => [ec2SnapshotRequest(env, "ec2:LockSnapshot", input.SnapshotId)],
    UnlockSnapshot: (input, env) => [ec2SnapshotRequest(env, "ec2:UnlockSnapshot", input.SnapshotId)],
    DescribeLockedSnapshots: () => [{ action: "ec2:DescribeLockedSnapshots", resource: "*", context: {} }],
    DeregisterImage: (input, env) => [
      { action: "ec2:DeregisterImage", resource: `arn:${env.partition}:ec2:${env.region}::image/${input.ImageId}`, context: {} },
    ],
  },
  s3: {
    PutObject: (input, env) => [{ action: "s3:PutObject", resource: `arn:${env.partition}:s3:::${input.Bucket}/${input.Key}`, context: {} }],
    GetObject: (input, env) => [{ action: "s3:GetObject", resource: `arn:${env.partition}:s3:::${input.Bucket}/${input.Key}`, context: {} }],
    // HeadObject is authorized as s3:GetObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    HeadObject: (input, env) => [{ action: "s3:GetObject", resource: `arn:${env.partition}:s3:::${input.Bucket}/${input.Key}`, context: {} }],
    DeleteObject: (input, env) => [{ action: "s3:DeleteObject", resource: `arn:${env.partition}:s3:::${input.Bucket}/${input.Key}`, context: {} }],
    ListObjectsV2: (input, env) => [
      {
        action: "s3:ListBucket",
        resource: `arn:${env.partition}:s3:::${input.Bucket}`,
        context: input.Prefix !== undefined ? { "s3:prefix": String(input.Prefix) } : {},
      },
    ],
  },
  route53: {
    ChangeResourceRecordSets: (input, env) => {
      const changes: Array<{ Action?: string; ResourceRecordSet?: { Name?: string; Type?: string } }> = input.ChangeBatch?.Changes ?? [];
      return [
        {
          action: "route53:ChangeResourceRecordSets",
          resource: `arn:${env.partition}:route53:::hostedzone/${String(input.HostedZoneId).replace(/^\/hostedzone\//, "")}`,
          context: {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": changes.map((c) => (c.ResourceRecordSet?.Name ?? "").toLowerCase().replace(/\.$/, "")),
            "route53:ChangeResourceRecordSetsRecordTypes": changes.map((c) => c.ResourceRecordSet?.Type ?? ""),
            "route53:ChangeResourceRecordSetsActions": changes.map((c) => c.Action ?? ""),
          },
        },
      ];
    },
    ListResourceRecordSets: (input, env) => [
      {
        action: "route53:ListResourceRecordSets",
        resource: `arn:${env.partition}:route53:::hostedzone/${String(input.HostedZoneId).replace(/^\/hostedzone\//, "")}`,
        context: {},
      },
    ],
    GetChange: (input, env) => [
      { action: "route53:GetChange", resource: `arn:${env.partition}:route53:::change/${String(input.Id).replace(/^\/change\//, "")}`, context: {} },
    ],
  },
  // The Data API authorizes each call on the cluster (resource type cluster, aws:ResourceTag:
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_rds-data.html), and the caller must be able
  // to read the secret, which the Data API reads for it (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html).
  rdsData: Object.fromEntries(
    ["ExecuteStatement", "BeginTransaction", "RollbackTransaction", "CommitTransaction"].map((command) => [
      command,
      (input: Input, env: RequestEnv) => [
        {
          action: `rds-data:${command}`,
          resource: String(input.resourceArn),
          context: resourceTags(env.lookup.rdsResourceTags(String(input.resourceArn))),
        },
        { action: "secretsmanager:GetSecretValue", resource: String(input.secretArn), context: {} },
      ],
    ]),
  ),
  // The secret's full ARN (name plus AWS's six random characters) is the resource
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html). Our adapters
  // always pass the ARN; a bare name's ARN is unknown to the request alone, so the sandbox refuses it.
  // An invoke is authorized on the function's unqualified ARN, whatever form FunctionName takes
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html, resource type function).
  lambda: {
    Invoke: (input, env) => [
      {
        action: "lambda:InvokeFunction",
        resource: `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${lambdaFunctionName(String(input.FunctionName ?? ""))}`,
        context: {},
      },
    ],
  },
  // A publish is authorized on the topic's ARN (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html,
  // Publish: resource type topic).
  sns: {
    Publish: (input) => [{ action: "sns:Publish", resource: String(input.TopicArn ?? ""), context: {} }],
  },
  secretsManager: {
    GetSecretValue: (input) => {
      const id = String(input.SecretId);
      if (!id.startsWith("arn:")) throw new Error(`sandbox: GetSecretValue by name (${id}) cannot be authorized; pass the secret's ARN`);
      return [{ action: "secretsmanager:GetSecretValue", resource: id, context: {} }];
    },
  },
  // AssumeRole is authorized on the role's ARN in the caller's identity policy; the role's trust policy is checked by
  // STS itself (sts.ts). GetCallerIdentity needs no permission
  // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
  sts: {
    // The role's account is aws:ResourceAccount, always in the context (STS is not among the actions that lack it:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount);
    // a role of an organization's account also carries that account's organization path in aws:ResourceOrgPaths
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths).
    AssumeRole: (input) => {
      const account = String(input.RoleArn ?? "").split(":")[4] ?? "";
      const paths = accountOrgPaths(account);
      return [
        {
          action: "sts:AssumeRole",
          resource: String(input.RoleArn ?? ""),
          context: { ...(account ? { "aws:ResourceAccount": account } : {}), ...(paths ? { "aws:ResourceOrgPaths": paths } : {}) },
        },
      ];
    },
    GetCallerIdentity: () => [],
  },
  // An OU's listing is authorized on the OU (resource type organizationalunit, not required: a root's on the root)
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
  organizations: {
    ListAccountsForParent: (input, env) => [
      { action: "organizations:ListAccountsForParent", resource: organizationalUnitArn(env.partition, env.account, String(input.ParentId ?? "")), context: {} },
    ],
  },
  // Cost Explorer has no resource-level permissions: every action is authorized on "*"
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscostexplorerservice.html).
  costExplorer: {
    GetCostAndUsage: () => [{ action: "ce:GetCostAndUsage", resource: "*", context: {} }],
    GetCostForecast: () => [{ action: "ce:GetCostForecast", resource: "*", context: {} }],
  },
  cloudwatch: {
    GetMetricData: () => [{ action: "cloudwatch:GetMetricData", resource: "*", context: {} }],
    GetMetricStatistics: () => [{ action: "cloudwatch:GetMetricStatistics", resource: "*", context: {} }],
    // No required resource type; the request's namespace is the `cloudwatch:namespace` key
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
    PutMetricData: (input) => [{ action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": String(input.Namespace ?? "") } }],
    // The alarm resource type is required: each named alarm is authorized, a listing of all alarms on `alarm:*`
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
    DescribeAlarms: (input, env) =>
      ((input.AlarmNames?.length ? input.AlarmNames : ["*"]) as string[]).map((name) => ({
        action: "cloudwatch:DescribeAlarms",
        resource: `arn:${env.partition}:cloudwatch:${env.region}:${env.account}:alarm:${name}`,
        context: {},
      })),
  },
};

function ec2SnapshotRequest(env: RequestEnv, action: string, id: string): AuthRequest {
  return { action, resource: ebsSnapshotArn(env, env.region, id), context: resourceTags(env.lookup.ebsSnapshot(env.region, id)?.tags, "ec2:ResourceTag") };
}

/** An EC2 resource's ARN by id: snapshots and images carry no account, volumes and instances do (list_amazonec2.html, "Resource types"). */
function ec2Arn(env: RequestEnv, id: string): string {
  const type = ec2Type(id);
  if (type === "snapshot" || type === "image") return `arn:${env.partition}:ec2:${env.region}::${type}/${id}`;
  return `arn:${env.partition}:ec2:${env.region}:${env.account}:${type}/${id}`;
}

function ec2Type(id: string): string {
  const prefix = id.split("-")[0];
  return ({ snap: "snapshot", vol: "volume", ami: "image", i: "instance" } as Record<string, string>)[prefix ?? ""] ?? prefix ?? "unknown";
}

function globalCluster(env: RequestEnv, action: string, input: Input): AuthRequest[] {
  const out: AuthRequest[] = [{ action, resource: `arn:${env.partition}:rds::${env.account}:global-cluster:${input.GlobalClusterIdentifier}`, context: {} }];
  if (input.TargetDbClusterIdentifier) out.push({ action, resource: String(input.TargetDbClusterIdentifier), context: {} });
  return out;
}

/** The authorizations for one call, with the global keys every request carries. */
export function authorizationsFor(service: string, command: string, input: unknown, env: RequestEnv): AuthRequest[] | undefined {
  const mapper = AUTHORIZATIONS[service]?.[command];
  if (!mapper) return undefined;
  return mapper(input ?? {}, env).map((r) => ({ ...r, context: { "aws:RequestedRegion": env.region, ...r.context } }));
}
