import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CopyDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { CopySnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { createSandbox, FakeClock, type Principal, type Sandbox } from "../../../sandbox/index.ts";
import { authorizationsFor, type ResourceLookup } from "../../../sandbox/aws/iam/requests.ts";
import { KmsKeys } from "../../../sandbox/aws/kms.ts";
import { rejection } from "./rejection.ts";

/**
 * `kms:ResourceAliases` holds the aliases associated with the KMS key, whichever way the request names the key: by
 * alias, key ARN or key id (https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html,
 * "kms:ResourceAliases" in https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html). A copy names its
 * source snapshot's key by ARN (the snapshot's KmsKeyId), so a role scoped to its keys by alias must still use it.
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const WORKLOAD_ALIAS = "alias/workload";
const WORKLOAD_KEY = `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/workload`;
const OTHER_KEY = `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/other`;

/** A copy role whose KMS grant is every key of the account narrowed by alias, as stacks/iam.ts kmsStatements writes it. */
const copier: Principal = {
  name: "copy",
  roleArn: `arn:aws:iam::${ACCOUNT}:role/copier`,
  statements: [
    { effect: "allow", actions: ["ec2:CopySnapshot", "ec2:CreateTags", "rds:CopyDBSnapshot", "rds:AddTagsToResource"], resources: ["*"] },
    {
      effect: "allow",
      actions: ["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
      resources: [`arn:aws:kms:*:${ACCOUNT}:key/*`],
      conditions: [{ test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: [WORKLOAD_ALIAS, "alias/dr"] }],
    },
    {
      effect: "allow",
      actions: ["kms:CreateGrant"],
      resources: [`arn:aws:kms:*:${ACCOUNT}:key/*`],
      conditions: [
        { test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: [WORKLOAD_ALIAS, "alias/dr"] },
        { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] },
      ],
    },
  ],
};

let sb: Sandbox;
let current: Principal | undefined;
const ec2 = new EC2Client({ region: DR, maxAttempts: 1 });
const rds = new RDSClient({ region: PRIMARY, maxAttempts: 1 });

beforeEach(() => {
  current = undefined;
  sb = createSandbox({
    clock: new FakeClock("2026-01-02T03:00:00Z"),
    regions: [PRIMARY, DR],
    accountId: ACCOUNT,
    iam: { principal: () => current, recordUsage: false },
    rateLimits: false,
  });
  const account = sb.account(ACCOUNT);
  expect(account.createKey(PRIMARY, { id: "workload", aliases: [WORKLOAD_ALIAS] })).toBe(WORKLOAD_KEY);
  expect(account.createKey(PRIMARY, { id: "other" })).toBe(OTHER_KEY);
  sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000000000aaaa", volumeId: "vol-0000000000000aaaa", encrypted: true, kmsKeyId: WORKLOAD_KEY });
  sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000000000bbbb", volumeId: "vol-0000000000000bbbb", encrypted: true, kmsKeyId: OTHER_KEY });
  sb.rds.addSnapshot(PRIMARY, { id: "aliased", sourceId: "db", encrypted: true, kmsKeyId: WORKLOAD_KEY });
  sb.rds.addSnapshot(PRIMARY, { id: "unaliased", sourceId: "db", encrypted: true, kmsKeyId: OTHER_KEY });
});
afterEach(() => sb.restore());

const copyEbs = (snapshotId: string) =>
  ec2.send(new CopySnapshotCommand({ SourceSnapshotId: snapshotId, SourceRegion: PRIMARY, Encrypted: true, KmsKeyId: "alias/dr" }));

describe("kms:ResourceAliases for a key named by ARN", () => {
  it("allows kms:DescribeKey, kms:CreateGrant and kms:Decrypt on an EBS copy's source key named by ARN when the key has the alias", async () => {
    current = copier;
    const out = await copyEbs("snap-0000000000000aaaa");
    current = undefined;

    expect(sb.iam?.denials).toEqual([]);
    expect(sb.ec2.snapshot(DR, out.SnapshotId!)?.kmsKeyId).toBe("alias/dr");
  });

  it("refuses the source key of an EBS copy when the key has no alias the policy names: kms:DescribeKey on its ARN", async () => {
    current = copier;
    const err = await rejection(copyEbs("snap-0000000000000bbbb"));
    current = undefined;

    expect(err.name).toBe("UnauthorizedOperation");
    expect(err.message).toContain(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/copier/copy is not authorized to perform: kms:DescribeKey on resource: ${OTHER_KEY} because no identity-based policy allows the kms:DescribeKey action`,
    );
    expect(sb.iam?.denials.map((d) => `${d.request.action} ${d.request.resource}`)).toEqual([`kms:DescribeKey ${OTHER_KEY}`]);
  });

  it("allows an RDS copy of a snapshot encrypted with the aliased key (named by ARN), and refuses one with a key without the alias", async () => {
    current = copier;
    await rds.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: "aliased", TargetDBSnapshotIdentifier: "aliased-copy" }));
    const err = await rejection(rds.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: "unaliased", TargetDBSnapshotIdentifier: "unaliased-copy" })));
    current = undefined;

    expect(sb.rds.snapshot(PRIMARY, "aliased-copy")?.kmsKeyId).toBe(WORKLOAD_KEY);
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/copier/copy is not authorized to perform: kms:DescribeKey on resource: ${OTHER_KEY} because no identity-based policy allows the kms:DescribeKey action`,
    );
    expect(sb.rds.snapshot(PRIMARY, "unaliased-copy")).toBeUndefined();
  });
});

describe("the request context of a KMS key reference", () => {
  const keys = new KmsKeys();
  keys.create(ACCOUNT, PRIMARY, { id: "workload", aliases: [WORKLOAD_ALIAS, "alias/second"] });
  keys.create(ACCOUNT, PRIMARY, { id: "other" });
  const lookup = (kmsKeyId: string): ResourceLookup => ({
    rdsSnapshot: () => undefined,
    ebsSnapshot: () => ({ tags: {}, encrypted: true, kmsKeyId }),
    ebsVolume: () => undefined,
    rdsResourceTags: () => undefined,
    kmsKey: (region, ref) => keys.resolve(ACCOUNT, region, ref),
  });
  const kmsContexts = (sourceKey: string, destKey: string) =>
    authorizationsFor(
      "ec2",
      "CopySnapshot",
      { SourceSnapshotId: "snap-1", SourceRegion: PRIMARY, KmsKeyId: destKey },
      { region: PRIMARY, account: ACCOUNT, partition: "aws", lookup: lookup(sourceKey) },
    )!
      .filter((r) => r.action === "kms:DescribeKey")
      .map((r) => ({ resource: r.resource, aliases: r.context["kms:ResourceAliases"] }));

  it("is the key's ARN and all its aliases, whether named by alias, alias ARN, key ARN or key id", () => {
    const both = [WORKLOAD_ALIAS, "alias/second"];
    expect(kmsContexts(WORKLOAD_KEY, "alias/second")).toEqual([
      { resource: WORKLOAD_KEY, aliases: both },
      { resource: WORKLOAD_KEY, aliases: both },
    ]);
    expect(kmsContexts("workload", `arn:aws:kms:${PRIMARY}:${ACCOUNT}:${WORKLOAD_ALIAS}`)).toEqual([
      { resource: WORKLOAD_KEY, aliases: both },
      { resource: `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/workload`, aliases: both },
    ]);
  });

  it("has no kms:ResourceAliases for a key without aliases, and an alias nobody created still names a key holding it", () => {
    expect(kmsContexts(OTHER_KEY, "alias/unknown")).toEqual([
      { resource: `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/alias-unknown`, aliases: ["alias/unknown"] },
      { resource: OTHER_KEY, aliases: undefined },
    ]);
  });
});
