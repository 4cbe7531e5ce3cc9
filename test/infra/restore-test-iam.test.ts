/**
 * The restore-test role (issue 11) derived from declarations (runbooks/lib/calls.ts, stacks/iam-scopes.ts), on the
 * example configuration with restoreTest blocks added: exact statements, the lint passing with its restore-test rule,
 * and the lint catching a delete without the restore-test tag condition.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigSchema, type Config } from "../../schemas/config.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { lintPolicy } from "../../stacks/policy-lint.ts";
import { documentFor, exampleConfig, iamContext, policyOf, ROOT, rulesFor } from "./builders.ts";

/** config/example.json with a restoreTest block on each policy: databases in the first DR region (the default), volumes (no DR copies) in the primary region. */
function restoreTestConfig(): Config {
  const raw = JSON.parse(readFileSync(`${ROOT}config/example.json`, "utf8"));
  raw.stage = "ci";
  for (const p of raw.backup.policies) {
    p.restoreTest =
      p.name === "volumes"
        ? { ebs: { availabilityZone: "eu-west-1a" } }
        : { rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] } };
  }
  return ConfigSchema.parse(raw);
}

const config = restoreTestConfig();

/** One line per statement: actions, resources, and each condition as `test variable=values`. */
const summary = (s: { actions: string[]; resources: string[]; conditions?: { test: string; variable: string; values: string[] }[] }) =>
  [s.actions.join(","), s.resources.join(","), ...(s.conditions ?? []).map((c) => `${c.test} ${c.variable}=${c.values.join(",")}`)].join(" | ");

describe("restore-test role", () => {
  it("is exactly these statements: creates tagged and prefixed, sources our snapshots, deletes restore-test-tagged only, no DLQ (invoked by its state machine)", () => {
    expect(permissionsFor("restore-test", iamContext(config)).map(summary)).toEqual([
      "ec2:CreateTags | arn:aws:ec2:eu-central-1:123456789012:volume/*,arn:aws:ec2:eu-west-1:123456789012:volume/* | StringEquals ec2:CreateAction=CreateVolume | StringEquals aws:RequestTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:RequestTag/ops-autopilot:restore-test=false | ForAllValues:StringEquals aws:TagKeys=Name,ops-autopilot:managed-by,ops-autopilot:name,ops-autopilot:policy,ops-autopilot:restore-test,ops-autopilot:restore-test-at,ops-autopilot:source",
      "ec2:CreateVolume | arn:aws:ec2:eu-central-1:123456789012:volume/*,arn:aws:ec2:eu-west-1:123456789012:volume/* | StringEquals aws:RequestTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:RequestTag/ops-autopilot:restore-test=false | ForAllValues:StringEquals aws:TagKeys=Name,ops-autopilot:managed-by,ops-autopilot:name,ops-autopilot:policy,ops-autopilot:restore-test,ops-autopilot:restore-test-at,ops-autopilot:source",
      "ec2:CreateVolume | arn:aws:ec2:eu-central-1::snapshot/*,arn:aws:ec2:eu-west-1::snapshot/* | StringEquals aws:ResourceTag/ops-autopilot:managed-by=ops-autopilot:ci",
      "ec2:DeleteVolume | arn:aws:ec2:eu-central-1:123456789012:volume/*,arn:aws:ec2:eu-west-1:123456789012:volume/* | StringEquals aws:ResourceTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:ResourceTag/ops-autopilot:restore-test=false | StringLike aws:ResourceTag/ops-autopilot:name=oa-ops-autopilot-ci-rt-*",
      "ec2:DescribeSnapshots,ec2:DescribeVolumes,rds:DescribeDBClusterSnapshots,rds:DescribeDBClusters,rds:DescribeDBInstances,rds:DescribeDBSnapshots | * | StringEquals aws:RequestedRegion=eu-central-1,eu-west-1",
      "kms:CreateGrant | arn:aws:kms:eu-central-1:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab | Bool kms:GrantIsForAWSResource=true",
      "kms:CreateGrant | arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d | Bool kms:GrantIsForAWSResource=true",
      "kms:Decrypt,kms:DescribeKey,kms:GenerateDataKeyWithoutPlaintext,kms:ReEncryptFrom,kms:ReEncryptTo | arn:aws:kms:eu-central-1:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab",
      "kms:Decrypt,kms:DescribeKey,kms:GenerateDataKeyWithoutPlaintext,kms:ReEncryptFrom,kms:ReEncryptTo | arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d",
      "rds:AddTagsToResource | arn:aws:rds:eu-central-1:123456789012:db:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-central-1:123456789012:cluster:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:db:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:cluster:oa-ops-autopilot-ci-rt-* | StringEquals aws:RequestTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:RequestTag/ops-autopilot:restore-test=false | ForAllValues:StringEquals aws:TagKeys=Name,ops-autopilot:managed-by,ops-autopilot:name,ops-autopilot:policy,ops-autopilot:restore-test,ops-autopilot:restore-test-at,ops-autopilot:source",
      "rds:CreateDBInstance,rds:RestoreDBInstanceFromDBSnapshot | arn:aws:rds:eu-central-1:123456789012:db:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:db:oa-ops-autopilot-ci-rt-* | StringEquals aws:RequestTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:RequestTag/ops-autopilot:restore-test=false | ForAllValues:StringEquals aws:TagKeys=Name,ops-autopilot:managed-by,ops-autopilot:name,ops-autopilot:policy,ops-autopilot:restore-test,ops-autopilot:restore-test-at,ops-autopilot:source | Bool rds:PubliclyAccessible=false",
      "rds:CreateDBInstance | arn:aws:rds:eu-central-1:123456789012:cluster:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:cluster:oa-ops-autopilot-ci-rt-*",
      "rds:CreateDBInstance,rds:RestoreDBClusterFromSnapshot,rds:RestoreDBInstanceFromDBSnapshot | arn:aws:rds:eu-central-1:123456789012:subgrp:restore-tests",
      "rds:DeleteDBCluster | arn:aws:rds:eu-central-1:123456789012:cluster:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:cluster:oa-ops-autopilot-ci-rt-* | StringEquals aws:ResourceTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:ResourceTag/ops-autopilot:restore-test=false | StringLike aws:ResourceTag/ops-autopilot:name=oa-ops-autopilot-ci-rt-*",
      "rds:DeleteDBInstance | arn:aws:rds:eu-central-1:123456789012:db:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:db:oa-ops-autopilot-ci-rt-* | StringEquals aws:ResourceTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:ResourceTag/ops-autopilot:restore-test=false | StringLike aws:ResourceTag/ops-autopilot:name=oa-ops-autopilot-ci-rt-*",
      "rds:RestoreDBClusterFromSnapshot | arn:aws:rds:eu-central-1:123456789012:cluster:oa-ops-autopilot-ci-rt-*,arn:aws:rds:eu-west-1:123456789012:cluster:oa-ops-autopilot-ci-rt-* | StringEquals aws:RequestTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:RequestTag/ops-autopilot:restore-test=false | ForAllValues:StringEquals aws:TagKeys=Name,ops-autopilot:managed-by,ops-autopilot:name,ops-autopilot:policy,ops-autopilot:restore-test,ops-autopilot:restore-test-at,ops-autopilot:source",
      "rds:RestoreDBClusterFromSnapshot | arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:oa-ops-autopilot-ci-*,arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:oa-ops-autopilot-ci-*",
      "rds:RestoreDBInstanceFromDBSnapshot | arn:aws:rds:eu-central-1:123456789012:snapshot:oa-ops-autopilot-ci-*,arn:aws:rds:eu-west-1:123456789012:snapshot:oa-ops-autopilot-ci-*",
      // A critical summary pages through the stage's topic (core/notify-routing.ts), and only that topic: in the failover
      // control region (stacks/patterns.ts pagerTopicRegion), so it survives the primary's outage.
      "sns:Publish | arn:aws:sns:eu-central-1:123456789012:ops-autopilot-ci-alerts",
    ]);
  });
  it("passes the lint", () => {
    expect(lintPolicy(documentFor(permissionsFor("restore-test", iamContext(config))), rulesFor("restore-test", config))).toEqual([]);
  });
  it("catches a delete without the restore-test tag condition, and keeps the tag-and-delete rule for other roles", () => {
    const doc = documentFor(permissionsFor("restore-test", iamContext(config)));
    const loose = {
      ...doc,
      Statement: [
        ...doc.Statement,
        {
          Effect: "Allow" as const,
          Action: "rds:DeleteDBInstance",
          Resource: "arn:aws:rds:eu-central-1:123456789012:db:*",
          Condition: { StringEquals: { "aws:ResourceTag/ops-autopilot:managed-by": "ops-autopilot:ci" } },
        },
      ],
    };
    expect(lintPolicy(loose, rulesFor("restore-test", config)).map((v) => v.rule)).toEqual(["restore-test-delete-needs-restore-test-tag"]);
    expect(lintPolicy(doc, { ...rulesFor("restore-test", config), restoreTest: false }).map((v) => v.rule)).toEqual(["no-tag-and-delete-in-one-role"]);
  });

  it("with sql checks on the databases policy (tag-selected, so Aurora too) and no smoke.secretArn: the Data API on throwaway clusters only, the sources' managed cluster secrets in the primary region, EnableHttpEndpoint restore-test-tagged, the sources described in the primary region", () => {
    const raw = JSON.parse(readFileSync(`${ROOT}config/example.json`, "utf8"));
    raw.stage = "ci";
    for (const p of raw.backup.policies) {
      p.restoreTest =
        p.name === "volumes"
          ? { ebs: { availabilityZone: "eu-west-1a" } }
          : {
              region: "primary",
              rds: {
                dbSubnetGroupName: "restore-tests",
                vpcSecurityGroupIds: ["sg-0123456789abcdef0"],
                checker: { subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0fedcba9876543210"] },
              },
              smoke: { sql: [{ name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } }] },
            };
    }
    const sql = ConfigSchema.parse(raw);
    const statements = permissionsFor("restore-test", iamContext(sql)).map(summary);
    const restoreTestTag =
      "StringEquals aws:ResourceTag/ops-autopilot:managed-by=ops-autopilot:ci | Null aws:ResourceTag/ops-autopilot:restore-test=false | StringLike aws:ResourceTag/ops-autopilot:name=oa-ops-autopilot-ci-rt-*";
    expect(statements.filter((s) => /rds-data:|secretsmanager:|EnableHttpEndpoint|rds:DescribeDBClusters/.test(s))).toEqual([
      "ec2:DescribeSnapshots,ec2:DescribeVolumes,rds:DescribeDBClusterSnapshots,rds:DescribeDBClusters,rds:DescribeDBInstances,rds:DescribeDBSnapshots | * | StringEquals aws:RequestedRegion=eu-west-1",
      `rds-data:BeginTransaction,rds-data:ExecuteStatement,rds-data:RollbackTransaction,rds:DeleteDBCluster,rds:EnableHttpEndpoint | arn:aws:rds:eu-west-1:123456789012:cluster:oa-ops-autopilot-ci-rt-* | ${restoreTestTag}`,
      "secretsmanager:GetSecretValue | arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-*",
    ]);
    expect(lintPolicy(documentFor(permissionsFor("restore-test", iamContext(sql))), rulesFor("restore-test", sql))).toEqual([]);
  });

  it("is empty without a restoreTest block; the example's (databases and a volume) passes the lint", () => {
    const example = exampleConfig();
    const none: Config = { ...example, backup: { ...example.backup, policies: example.backup.policies.map(({ restoreTest: _, ...p }) => p) } };
    expect(permissionsFor("restore-test", iamContext(none))).toEqual([]);
    expect(policyOf("restore-test").Statement.length).toBeGreaterThan(0);
    expect(lintPolicy(policyOf("restore-test"), rulesFor("restore-test", example))).toEqual([]);
  });
});
