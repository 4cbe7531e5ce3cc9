import { describe, expect, it } from "vitest";
import { parseConfig } from "../../schemas/config.ts";
import { allowedActions, isReadOnlyAction, lintPolicy } from "../../stacks/policy-lint.ts";
import { managedBy } from "../../stacks/iam.ts";
import { sstRoleNamePattern } from "../../stacks/patterns.ts";
import {
  backupVaults,
  componentOf,
  deployTargetProblem,
  foreignPrincipals,
  KMS_ADMIN_ACTIONS,
  vaultDefinition,
  vaultFunctions,
  vaultKeyPolicy,
  vaultStageName,
  vaultStageProblems,
  workloadStageOf,
} from "../../stacks/vault-definition.ts";
import { exampleConfig } from "./builders.ts";
import { VAULT, WORKLOAD, vaultConfig, vaultConfigInput } from "./vault-config.ts";
import { CENTRAL_ACCOUNT, DRILL_ACCOUNTS, DRILL_VAULT, fleetScenarioConfig } from "../../sandbox/scenarios/fleet-scenarios.ts";

/**
 * The vault stage's pure definitions (stacks/vault-definition.ts): how the stage is chosen and guarded, the vault keys'
 * policies, the roles it creates and whom they trust, the AWS Backup vaults with Vault Lock.
 */

describe("choosing the vault stage: `<stage>-vault`, guarded by the account", () => {
  it("reads `<stage>-vault` as the vault side of `<stage>`, and nothing else", () => {
    expect([workloadStageOf("prod-vault"), workloadStageOf("ci-vault"), workloadStageOf("prod"), workloadStageOf("-vault"), workloadStageOf("vault")]).toEqual([
      "prod",
      "ci",
      undefined,
      undefined,
      undefined,
    ]);
    expect(vaultStageName("prod")).toBe("prod-vault");
  });

  it("deploys the vault stage only into vault.accountId, and a workload stage never there", () => {
    const config = vaultConfig();
    expect(deployTargetProblem(config, "ci-vault", VAULT)).toBeUndefined();
    expect(deployTargetProblem(config, "ci", WORKLOAD)).toBeUndefined();
    expect(deployTargetProblem(config, "ci-vault", WORKLOAD)).toBe(
      `refusing to deploy the vault stage ci-vault into account ${WORKLOAD}: vault.accountId is ${VAULT}. ` +
        "Deploy it with the backup account's credentials (e.g. AWS_PROFILE=<vault profile> npx sst deploy --stage ci-vault)",
    );
    expect(deployTargetProblem(config, "ci", VAULT)).toBe(
      `refusing to deploy the workload stage ci into the vault account ${VAULT}: its roles would reach the vault's copies. ` +
        "Deploy the vault side as stage ci-vault, and this stage with a workload account's credentials",
    );
    expect(deployTargetProblem(exampleConfig(), "ci-vault", VAULT)).toBe("stage ci-vault is a vault stage, but the ci configuration has no vault section");
    expect(deployTargetProblem(exampleConfig(), "ci", VAULT)).toBeUndefined();
  });

  it("names what the vault stage cannot be deployed without: the central account, and aliases (not key ARNs) for its keys", () => {
    const raw = vaultConfigInput() as { vault: { centralAccountId?: string; regions: { region: string; kmsKeyAlias: string }[] } };
    delete raw.vault.centralAccountId;
    raw.vault.regions[1]!.kmsKeyAlias = `arn:aws:kms:eu-central-1:${VAULT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const config = parseConfig({ ...raw, app: "ops-autopilot", stage: "ci" });
    expect(vaultStageProblems(config)).toEqual([
      "vault.centralAccountId: name the account the workload stage is deployed in: the vault's reader role trusts that account's watchdog and prune roles",
      `vault.regions[1].kmsKeyAlias: arn:aws:kms:eu-central-1:${VAULT}:key/1234abcd-12ab-34cd-56ef-1234567890ab is a key ARN; the vault stage creates the region's key with a key policy naming the vault account alone, under an alias: give alias/<name>`,
    ]);
    expect(() => vaultDefinition(config, "aws")).toThrow(
      /^the vault stage cannot be deployed: vault\.centralAccountId: .*; vault\.regions\[1\]\.kmsKeyAlias: /,
    );
    expect(vaultStageProblems(exampleConfig())).toEqual(["vault: the ci configuration has no vault section, so there is no vault stage to deploy"]);
  });

  it("refuses a central account that is the vault account itself (schemas/config-vault.ts)", () => {
    const raw = vaultConfigInput() as { vault: Record<string, unknown> };
    raw.vault.centralAccountId = VAULT;
    expect(() => parseConfig({ ...raw, app: "ops-autopilot", stage: "ci" })).toThrow(
      `vault.centralAccountId: ${VAULT} is the vault account itself: the workload stage must run in another account, or whoever controls it controls the copies`,
    );
  });
});

describe("the vault keys", () => {
  it("one per vault region under its alias, rotated, 30-day deletion window, its policy naming the vault account alone", () => {
    const def = vaultDefinition(vaultConfig(), "aws");
    expect(def.keys.map((k) => [k.region, k.alias, k.deletionWindowInDays, k.description])).toEqual([
      ["eu-west-1", "alias/ops-autopilot-vault", 30, "ops-autopilot ops-autopilot:ci: encrypts the vault's copies in eu-west-1"],
      ["eu-central-1", "alias/ops-autopilot-vault-fra", 30, "ops-autopilot ops-autopilot:ci: encrypts the vault's copies in eu-central-1"],
    ]);
    for (const k of def.keys) expect(k.policy).toEqual(vaultKeyPolicy({ accountId: VAULT }, "aws"));
    expect(vaultKeyPolicy({ accountId: VAULT }, "aws")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "VaultAccountOwnsTheKey", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${VAULT}:root` }, Action: "kms:*", Resource: "*" },
        {
          Sid: "NoOtherAccountAdministersTheKey",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: [
            "kms:CancelKeyDeletion",
            "kms:DeleteAlias",
            "kms:DisableKey",
            "kms:DisableKeyRotation",
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:UpdateAlias",
            "kms:UpdateKeyDescription",
          ],
          Resource: "*",
          Condition: { StringNotEquals: { "aws:PrincipalAccount": VAULT } },
        },
      ],
    });
  });

  it("no allow of the key policy names a workload account; the administrative actions are denied to every other account", () => {
    const policy = vaultKeyPolicy({ accountId: VAULT }, "aws");
    expect(foreignPrincipals(policy, VAULT)).toEqual([]);
    const deny = policy.Statement.find((s) => s.Effect === "Deny")!;
    expect(deny.Action).toEqual(expect.arrayContaining(["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"]));
    expect([...KMS_ADMIN_ACTIONS]).toEqual(deny.Action);
  });
});

describe("the roles the vault stage creates", () => {
  const config = vaultConfig();
  const def = vaultDefinition(config, "aws");

  it("the reader: named <app>-<stage>-vault-reader, trusted by the workload stage's watchdog and prune roles alone", () => {
    expect(def.reader.name).toBe("ops-autopilot-ci-vault-reader");
    expect(def.reader.trustPolicy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${WORKLOAD}:root` },
          Action: "sts:AssumeRole",
          Condition: {
            ArnLike: {
              "aws:PrincipalArn": [
                `arn:aws:iam::${WORKLOAD}:role/ops-autopilot-ci-WatchdogRole-????????`,
                `arn:aws:iam::${WORKLOAD}:role/ops-autopilot-ci-PruneRole-????????`,
              ],
            },
          },
        },
      ],
    });
  });

  it("the reader only reads: Describe calls of snapshots and locks, pinned to the vault regions, and passes the lint", () => {
    expect(def.reader.policy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ec2:DescribeLockedSnapshots", "ec2:DescribeSnapshots", "rds:DescribeDBClusterSnapshots", "rds:DescribeDBSnapshots"],
          Resource: ["*"],
          Condition: { StringEquals: { "aws:RequestedRegion": ["eu-west-1", "eu-central-1"] } },
        },
      ],
    });
    expect(allowedActions(def.reader.policy).filter((a) => !isReadOnlyAction(a))).toEqual([]);
    expect(lintPolicy(def.reader.policy, { managedBy: managedBy(config), mayPromote: false, allowedKmsResources: [] })).toEqual([]);
  });

  /**
   * The KMS keys a vault-stage role may name: the vault's own key in each vault region (by alias: `key/*` pinned by
   * kms:ResourceAliases), and each workload account's source keys (backup.sourceKmsKeyIds) in the primary region, the
   * keys its shared backups are encrypted with. No other key of a workload account.
   */
  it("every vault-stage role passes the policy lint, KMS on the vault's keys and the workload's source keys alone", () => {
    const allowedKmsResources = [
      `arn:aws:kms:eu-west-1:${VAULT}:key/*`,
      `arn:aws:kms:eu-central-1:${VAULT}:key/*`,
      `arn:aws:kms:eu-west-1:${WORKLOAD}:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`,
    ];
    const roles = [...def.functionRoles, def.reader];
    const rules = { managedBy: managedBy(config), mayPromote: false, allowedKmsResources };
    expect(roles.map((r) => [r.name, lintPolicy(r.policy, rules)])).toEqual(roles.map((r) => [r.name, []]));
  });

  it("with a fleet, the vault-copy role uses each member's source key by its alias (kms:ResourceAliases), through EC2 or RDS only", () => {
    const fleet = fleetScenarioConfig({ stage: "prod", accounts: DRILL_ACCOUNTS, vault: DRILL_VAULT, encrypted: true });
    const withCentral = { ...fleet, vault: { ...fleet.vault!, centralAccountId: CENTRAL_ACCOUNT } };
    const fleetDef = vaultDefinition(withCentral, "aws");
    const workloads = [DRILL_ACCOUNTS[0]!.id, DRILL_ACCOUNTS[1]!.id, DRILL_ACCOUNTS[2]!.id, CENTRAL_ACCOUNT].sort();
    const allowedKmsResources = [`arn:aws:kms:eu-west-1:${DRILL_VAULT.id}:key/*`, ...workloads.map((a) => `arn:aws:kms:eu-west-1:${a}:key/*`)];
    const rules = { managedBy: managedBy(withCentral), mayPromote: false, allowedKmsResources };
    const roles = [...fleetDef.functionRoles, fleetDef.reader];
    expect(roles.map((r) => [r.name, lintPolicy(r.policy, rules)])).toEqual(roles.map((r) => [r.name, []]));
    const copyRole = fleetDef.functionRoles.find((r) => r.name.includes("Vaultcopy"))!;
    const workloadKeys = copyRole.policy.Statement.filter((s) =>
      [s.Resource].flat().some((r) => !String(r).includes(`:${DRILL_VAULT.id}:`) && String(r).includes(":kms:")),
    );
    const via = { "kms:ViaService": ["ec2.eu-west-1.amazonaws.com", "rds.eu-west-1.amazonaws.com"] };
    const aliases = { "kms:ResourceAliases": ["alias/ops-autopilot-workload"] };
    expect(workloadKeys).toEqual([
      {
        Effect: "Allow",
        Action: ["kms:CreateGrant"],
        Resource: workloads.map((a) => `arn:aws:kms:eu-west-1:${a}:key/*`),
        Condition: { StringEquals: via, "ForAnyValue:StringEquals": aliases, Bool: { "kms:GrantIsForAWSResource": ["true"] } },
      },
      {
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:DescribeKey"],
        Resource: workloads.map((a) => `arn:aws:kms:eu-west-1:${a}:key/*`),
        Condition: { StringEquals: via, "ForAnyValue:StringEquals": aliases },
      },
    ]);
  });

  it("no role but the reader trusts a principal of another account; the function roles trust Lambda alone and pass the lint", () => {
    const roles = [...def.functionRoles, def.reader];
    const trusting = roles.filter((r) => foreignPrincipals(r.trustPolicy, VAULT).length > 0).map((r) => [r.name, foreignPrincipals(r.trustPolicy, VAULT)]);
    expect(trusting).toEqual([["ops-autopilot-ci-vault-reader", [`arn:aws:iam::${WORKLOAD}:root`]]]);
    expect(vaultFunctions().map((f) => f.name)).toEqual(["vault-copy", "vault-prune"]);
    expect(def.functionRoles.map((r) => r.name)).toEqual(["ops-autopilot-ci-vault-VaultcopyRole-????????", "ops-autopilot-ci-vault-VaultpruneRole-????????"]);
    expect(def.functionRoles.map((r) => r.name)).toEqual(vaultFunctions().map((f) => sstRoleNamePattern("ops-autopilot", "ci-vault", componentOf(f))));
    for (const r of def.functionRoles) {
      expect(r.name).toMatch(/^ops-autopilot-ci-vault-[A-Za-z]+Role-\?{8}$/);
      expect(r.trustPolicy).toEqual({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      });
    }
  });
});

describe("the AWS Backup vaults with Vault Lock", () => {
  it("one per vault region with the config's retention bounds and cooling-off, encrypted with the region's key", () => {
    expect(backupVaults(vaultConfig())).toEqual([
      {
        region: "eu-west-1",
        name: "ops-autopilot-ci-vault",
        keyAlias: "alias/ops-autopilot-vault",
        lock: { minRetentionDays: 35, maxRetentionDays: 730, changeableForDays: 3 },
      },
      {
        region: "eu-central-1",
        name: "ops-autopilot-ci-vault",
        keyAlias: "alias/ops-autopilot-vault-fra",
        lock: { minRetentionDays: 35, maxRetentionDays: 730, changeableForDays: 3 },
      },
    ]);
  });

  it("none without lock.backupVault, or with it disabled", () => {
    expect(backupVaults(vaultConfig({ backupVault: false }))).toEqual([]);
    const raw = vaultConfigInput() as { vault: { lock: { backupVault: Record<string, unknown> } } };
    raw.vault.lock.backupVault = { enabled: false };
    expect(backupVaults(parseConfig({ ...raw, app: "ops-autopilot", stage: "ci" }))).toEqual([]);
  });
});
