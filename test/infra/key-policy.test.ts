import { describe, expect, it } from "vitest";
import { keyPolicyNeeds } from "../../stacks/key-policy.ts";
import { parseConfig } from "../../schemas/config.ts";
import { exampleConfig } from "./builders.ts";
import { VAULT, vaultConfig } from "./vault-config.ts";

const ACCOUNT = "123456789012";
const copyRole = (stage: string) => ({ ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/ops-autopilot-${stage}-CopyRole-????????` } });
const root = { AWS: `arn:aws:iam::${ACCOUNT}:root` };

describe("key-policy statements (stacks/key-policy.ts)", () => {
  it("gives each configured key the copy role's own KMS actions, grants only for AWS resources", () => {
    const config = exampleConfig();
    const needs = keyPolicyNeeds(config, ACCOUNT);
    expect(needs.map((n) => [n.field, n.region])).toEqual([
      ["backup.sourceKmsKeyIds[0]", config.primaryRegion],
      ["drRegions[0].kmsKeyId", config.drRegions[0]!.region],
    ]);
    // The restore tests use the source key too: the example's volume is restore-tested in the primary region.
    expect(needs[0]!.statements.map((s) => s.Sid)).toEqual([
      "OpsAutopilotCopyGrant",
      "OpsAutopilotCopyUse",
      "OpsAutopilotRestoreTestGrant",
      "OpsAutopilotRestoreTestUse",
    ]);
    expect(needs[0]!.statements[2]!.Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/ops-autopilot-ci-RestoretestRole-????????` },
      Bool: { "kms:GrantIsForAWSResource": "true" },
    });
    expect(needs[0]!.statements.slice(0, 2)).toEqual([
      {
        Sid: "OpsAutopilotCopyGrant",
        Effect: "Allow",
        Principal: root,
        Action: ["kms:CreateGrant"],
        Resource: "*",
        Condition: { ...copyRole("ci"), Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      { Sid: "OpsAutopilotCopyUse", Effect: "Allow", Principal: root, Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: "*", Condition: copyRole("ci") },
    ]);
    expect(needs[1]!.statements[1]!.Action).toEqual([
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]);
  });

  it("finds a key named by alias, and drops the alias condition inside the key's own policy", () => {
    const base = exampleConfig();
    const config = parseConfig({ ...base, drRegions: [{ region: base.drRegions[0]!.region, kmsKeyId: "alias/dr-snapshots" }] });
    const dr = keyPolicyNeeds(config, ACCOUNT).find((n) => n.field === "drRegions[0].kmsKeyId")!;
    expect(dr.statements.map((s) => s.Sid)).toEqual([
      "OpsAutopilotCopyGrant",
      "OpsAutopilotCopyUse",
      "OpsAutopilotRestoreTestGrant",
      "OpsAutopilotRestoreTestUse",
    ]);
    expect(JSON.stringify(dr.statements)).not.toContain("kms:ResourceAliases");
  });

  it("with a vault, names the vault's copy role on every key: Decrypt and DescribeKey, grants only for AWS resources", () => {
    const vaultRole = { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${VAULT}:role/ops-autopilot-ci-vault-VaultcopyRole-????????` } };
    const vaultRoot = { AWS: `arn:aws:iam::${VAULT}:root` };
    const needs = keyPolicyNeeds(vaultConfig(), ACCOUNT);
    const plain = keyPolicyNeeds(exampleConfig(), ACCOUNT);
    expect(needs.map((n) => n.field)).toEqual(["backup.sourceKmsKeyIds[0]", "drRegions[0].kmsKeyId"]);
    needs.forEach((need, i) => {
      // The workload's own statements are unchanged; the vault's two follow them.
      expect(need.statements.slice(0, -2)).toEqual(plain[i]!.statements);
      expect(need.statements.slice(-2)).toEqual([
        {
          Sid: "OpsAutopilotVaultCopyGrant",
          Effect: "Allow",
          Principal: vaultRoot,
          Action: ["kms:CreateGrant"],
          Resource: "*",
          Condition: { ...vaultRole, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
        {
          Sid: "OpsAutopilotVaultCopyUse",
          Effect: "Allow",
          Principal: vaultRoot,
          Action: ["kms:Decrypt", "kms:DescribeKey"],
          Resource: "*",
          Condition: vaultRole,
        },
      ]);
    });
    expect(JSON.stringify(plain)).not.toContain(VAULT);
  });
});
