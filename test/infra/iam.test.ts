import { describe, expect, it } from "vitest";
import { declaredActions, kmsStatements, permissionsFor, normalizedRecordName, hostedZoneId } from "../../stacks/iam.ts";
import { exampleConfig, iamContext } from "./builders.ts";

describe("IAM statements", () => {
  it("conditions every snapshot delete on this stage's managed-by tag and on our name prefix", () => {
    const deletes = permissionsFor("prune", iamContext(exampleConfig("prod"))).filter((s) => s.actions.some((a) => a.includes("Delete")));
    expect(deletes.map((s) => s.actions[0]).sort()).toEqual(["ec2:DeleteSnapshot", "rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"]);
    for (const s of deletes) {
      expect(s.conditions).toEqual([
        { test: "StringEquals", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["ops-autopilot:prod"] },
        { test: "StringLike", variable: "aws:ResourceTag/ops-autopilot:name", values: ["oa-ops-autopilot-prod-*"] },
      ]);
    }
    const rds = deletes.filter((s) => s.actions[0]!.startsWith("rds:")).flatMap((s) => s.resources);
    expect(rds.length).toBeGreaterThan(0);
    for (const arn of rds) expect(arn).toMatch(/:(snapshot|cluster-snapshot):oa-ops-autopilot-prod-\*$/);
  });

  it("lets backup and copy tag only new snapshots with our id prefix, our keys and our managed-by value", () => {
    for (const fn of ["backup", "copy"] as const) {
      const tagging = permissionsFor(fn, iamContext(exampleConfig("prod"))).filter((s) => s.actions.includes("rds:AddTagsToResource"));
      expect(tagging).toHaveLength(1);
      for (const arn of tagging[0]!.resources) expect(arn).toMatch(/:(snapshot|cluster-snapshot):oa-ops-autopilot-prod-\*$/);
      expect(tagging[0]!.conditions).toEqual([
        { test: "StringEquals", variable: "aws:RequestTag/ops-autopilot:managed-by", values: ["ops-autopilot:prod"] },
        { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: expect.arrayContaining(["ops-autopilot:managed-by", "ops-autopilot:name"]) },
        { test: "Null", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["true"] },
      ]);
      // A snapshot role may not put the restore-test throwaways' keys on anything (the janitor deletes what carries them).
      const keys = tagging[0]!.conditions!.find((c) => c.variable === "aws:TagKeys")!.values;
      expect(keys).not.toContain("ops-autopilot:restore-test");
      expect(keys).not.toContain("ops-autopilot:restore-test-at");
    }
  });

  it("grants every function only the actions its adapter calls declare, and all of them where the config uses them", () => {
    const config = exampleConfig();
    for (const fn of ["backup", "copy", "prune", "watchdog", "warm", "cost", "failover"] as const) {
      const granted = new Set(permissionsFor(fn, iamContext(config)).flatMap((s) => s.actions));
      granted.delete("sqs:SendMessage");
      const linked = fn === "failover" ? [] : ["s3:GetObject", "s3:PutObject", "s3:ListBucket"];
      const declared = new Set(
        declaredActions(fn)
          .map((a) => a.replace(/@.*$/, ""))
          .filter((a) => !linked.includes(a))
          // The example has no fleet: the fleet functions' sts:AssumeRole is declared, granted on nothing.
          .filter((a) => a !== "sts:AssumeRole" || config.fleet)
          // Nor a vault: the copy function's sharing with the backup account is declared, granted on nothing.
          .filter(
            (a) =>
              config.vault || !/^(rds:ModifyDB(Cluster)?SnapshotAttribute|rds:DescribeDB(Cluster)?SnapshotAttributes|ec2:ModifySnapshotAttribute)$/.test(a),
          ),
      );
      // Actions for parts of the config that are absent (an Aurora group, say) are declared but not granted.
      for (const a of granted) expect(declared.has(a), `${fn} is granted ${a} without declaring it`).toBe(true);
      if (fn !== "failover") expect([...granted].sort(), fn).toEqual([...declared].sort());
    }
  });

  it("resolves key ids and aliases to the configured key only", () => {
    const ctx = iamContext();
    expect(kmsStatements(ctx, "eu-central-1", "1234abcd-12ab", ["kms:DescribeKey"])[0]?.resources).toEqual([
      "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab",
    ]);
    const alias = kmsStatements(ctx, "eu-central-1", "alias/dr-backups", ["kms:DescribeKey", "kms:CreateGrant"]);
    expect(alias).toEqual([
      {
        actions: ["kms:DescribeKey"],
        resources: ["arn:aws:kms:eu-central-1:123456789012:key/*"],
        conditions: [{ test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: ["alias/dr-backups"] }],
      },
      {
        actions: ["kms:CreateGrant"],
        resources: ["arn:aws:kms:eu-central-1:123456789012:key/*"],
        conditions: [
          { test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: ["alias/dr-backups"] },
          { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] },
        ],
      },
    ]);
  });

  it("gives copy nothing to copy with when there is no DR region", () => {
    const config = { ...exampleConfig(), drRegions: [] };
    const actions = permissionsFor("copy", iamContext(config)).flatMap((s) => s.actions);
    expect(actions.filter((a) => a.includes("Copy") || a.startsWith("kms:"))).toEqual([]);
  });

  it("lets copy read encrypted sources with the configured source keys in the primary region, and nothing else does", () => {
    const config = exampleConfig();
    const [sourceKey] = config.backup.sourceKmsKeyIds;
    expect(sourceKey).toMatch(/^arn:aws:kms:eu-west-1:/);
    const onSource = permissionsFor("copy", iamContext(config)).filter((s) => s.resources.includes(sourceKey!));
    expect(onSource.flatMap((s) => s.actions).sort()).toEqual(["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"]);
    for (const fn of ["backup", "prune", "watchdog", "warm", "cost", "failover"] as const) {
      expect(permissionsFor(fn, iamContext(config)).filter((s) => s.resources.includes(sourceKey!))).toEqual([]);
    }
  });

  it("normalizes Route 53 zone ids and record names as IAM sees them", () => {
    expect(hostedZoneId("/hostedzone/Z123")).toBe("Z123");
    expect(normalizedRecordName("DB.Example.com.")).toBe("db.example.com");
  });
});
