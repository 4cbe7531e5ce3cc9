/**
 * The vault stage in the offline synth of sst.config.ts: `ci-vault` with config/example.json plus a vault section
 * (test/infra/vault-config.ts), synthesized as the vault account it must be deployed into. It declares per vault region
 * the key (its policy), its alias, the AWS Backup vault and its Vault Lock; the reader role; the vault functions with
 * their roles and schedules; its Reports bucket. The same stage as another account, and the workload stage as the vault
 * account, declare nothing but fail; the workload stage with a vault section declares what it declared without one.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { permissionsFor, REPORTS_LINK_ACTIONS } from "../../stacks/iam.ts";
import type { PolicyDocument } from "../../stacks/policy-lint.ts";
import {
  componentOf,
  foreignPrincipals,
  vaultContext,
  vaultDefinition,
  vaultFunctions,
  vaultKeyPolicy,
  type VaultDefinition,
} from "../../stacks/vault-definition.ts";
import { documentFor } from "./builders.ts";
import { inputs, named, ofType, runSynth } from "./synth-run.ts";
import { VAULT, WORKLOAD, vaultConfig, vaultConfigFile } from "./vault-config.ts";

let synth: SynthResult;
let wrongAccount: SynthResult;
let workloadInVault: SynthResult;
let workload: SynthResult;
let plain: SynthResult;
let def: VaultDefinition;

beforeAll(() => {
  const file = vaultConfigFile();
  def = vaultDefinition(vaultConfig(), "aws");
  synth = runSynth("ci-vault", file, { OPS_AUTOPILOT_SYNTH_ACCOUNT: VAULT });
  wrongAccount = runSynth("ci-vault", file, { OPS_AUTOPILOT_SYNTH_ACCOUNT: WORKLOAD });
  workloadInVault = runSynth("ci", file, { OPS_AUTOPILOT_SYNTH_ACCOUNT: VAULT });
  workload = runSynth("ci", file);
  plain = runSynth("ci");
}, 900_000);

/** A policy document input: the JSON string, or (as some SST components pass it) the object. */
const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as PolicyDocument;

/** The policy documents with a Principal (resource policies, trusts) among a resource's inputs, however deeply nested. */
function resourcePolicies(value: unknown): PolicyDocument[] {
  if (typeof value === "string") {
    if (!value.startsWith("{")) return [];
    try {
      const doc = JSON.parse(value) as PolicyDocument;
      return Array.isArray(doc.Statement) && doc.Statement.some((st) => st.Principal !== undefined) ? [doc] : [];
    } catch {
      return [];
    }
  }
  if (Array.isArray(value)) return value.flatMap(resourcePolicies);
  if (value && typeof value === "object") {
    const doc = value as PolicyDocument;
    if (Array.isArray(doc.Statement) && doc.Statement.some((st) => st.Principal !== undefined)) return [doc];
    return Object.values(value).flatMap(resourcePolicies);
  }
  return [];
}

describe("the vault stage (ci-vault) in the offline synth", () => {
  it("synthesizes without errors as the vault account, in the primary region, never removed with `sst remove`", () => {
    expect(synth.errors).toEqual([]);
    expect(synth.app).toMatchObject({
      name: "ops-autopilot",
      stage: "ci-vault",
      removal: "retain",
      protect: false,
      providers: { aws: { region: "eu-west-1" } },
    });
  });

  it("declares one key per vault region with exactly the vault key policy, rotation on and a 30-day deletion window", () => {
    const keys = ofType(synth, "aws:kms/key:Key");
    expect(keys.map((k) => [k.name, k.region])).toEqual([
      ["VaultKeyeuwest1", "eu-west-1"],
      ["VaultKeyeucentral1", "eu-central-1"],
    ]);
    for (const k of keys) {
      const { policy, ...rest } = inputs(k);
      expect(rest).toEqual({
        deletionWindowInDays: 30,
        description: `ops-autopilot ops-autopilot:ci: encrypts the vault's copies in ${k.region}`,
        enableKeyRotation: true,
      });
      expect(json(policy)).toEqual(vaultKeyPolicy({ accountId: VAULT }, "aws"));
    }
  });

  it("puts each key under the configured alias, in its region", () => {
    expect(ofType(synth, "aws:kms/alias:Alias").map((a) => [a.name, a.region, inputs(a)])).toEqual([
      ["VaultKeyAliaseuwest1", "eu-west-1", { name: "alias/ops-autopilot-vault", targetKeyId: "vaultkeyeuwest1-key-id" }],
      ["VaultKeyAliaseucentral1", "eu-central-1", { name: "alias/ops-autopilot-vault-fra", targetKeyId: "vaultkeyeucentral1-key-id" }],
    ]);
  });

  it("with lock.backupVault: an AWS Backup vault per region, encrypted with the region's key, and its Vault Lock (35 / 730 days, changeable for 3)", () => {
    expect(ofType(synth, "aws:backup/vault:Vault").map((v) => [v.name, v.region, inputs(v)])).toEqual([
      [
        "BackupVaulteuwest1",
        "eu-west-1",
        { name: "ops-autopilot-ci-vault", kmsKeyArn: `arn:aws:kms:eu-west-1:${VAULT}:key/vaultkeyeuwest1-key-id`, forceDestroy: false },
      ],
      [
        "BackupVaulteucentral1",
        "eu-central-1",
        { name: "ops-autopilot-ci-vault", kmsKeyArn: `arn:aws:kms:eu-central-1:${VAULT}:key/vaultkeyeucentral1-key-id`, forceDestroy: false },
      ],
    ]);
    expect(ofType(synth, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").map((v) => [v.name, v.region, inputs(v)])).toEqual([
      ["BackupVaultLockeuwest1", "eu-west-1", { backupVaultName: "ops-autopilot-ci-vault", minRetentionDays: 35, maxRetentionDays: 730, changeableForDays: 3 }],
      [
        "BackupVaultLockeucentral1",
        "eu-central-1",
        { backupVaultName: "ops-autopilot-ci-vault", minRetentionDays: 35, maxRetentionDays: 730, changeableForDays: 3 },
      ],
    ]);
  });

  it("declares the reader role with exactly its trust (the workload's watchdog and prune roles) and its read-only policy", () => {
    const reader = inputs(named(synth, "aws:iam/role:Role", "VaultReaderRole"));
    expect(reader.name).toBe("ops-autopilot-ci-vault-reader");
    expect(json(reader.assumeRolePolicy)).toEqual(def.reader.trustPolicy);
    expect(reader.inlinePolicies.map((p: { name: string; policy: string }) => [p.name, json(p.policy)])).toEqual([
      ["ops-autopilot-vault-reader", def.reader.policy],
    ]);
  });

  it("no role of the stage but the reader trusts a principal of another account, and no other resource policy names one", () => {
    const trusting = ofType(synth, "aws:iam/role:Role")
      .map((r) => [r.name, foreignPrincipals(json(inputs(r).assumeRolePolicy), VAULT)] as const)
      .filter(([, principals]) => principals.length > 0);
    expect(trusting).toEqual([["VaultReaderRole", [`arn:aws:iam::${WORKLOAD}:root`]]]);
    // Every policy document with principals (key, bucket, queue policies, trusts) anywhere in the stage's inputs.
    const foreign = synth.resources.flatMap((r) => resourcePolicies(r.inputs).flatMap((doc) => foreignPrincipals(doc, VAULT).map((p) => `${r.name}: ${p}`)));
    expect(foreign).toEqual([`VaultReaderRole: arn:aws:iam::${WORKLOAD}:root`]);
    expect(resourcePolicies(inputs(named(synth, "aws:kms/key:Key", "VaultKeyeuwest1")))).toHaveLength(1);
  });

  it("deploys the vault functions (and only those), each with exactly the role stacks/iam.ts derives for the vault account, on its schedule", () => {
    const functions = ofType(synth, "aws:lambda/function:Function").map((f) => f.name);
    expect(functions.sort()).toEqual(["Vault-copyFunction", "Vault-pruneFunction"]);
    expect(functions).toEqual(
      vaultFunctions()
        .map((f) => `${componentOf(f)}Function`)
        .sort(),
    );
    expect(
      ofType(synth, "aws:scheduler/schedule:Schedule")
        .map((x) => [x.name, inputs(x).scheduleExpression])
        .sort(),
    ).toEqual([
      ["Vault-copyScheduleSchedule", "rate(30 minutes)"],
      ["Vault-pruneScheduleSchedule", "cron(30 4 * * ? *)"],
    ]);
    const ctx = vaultContext(vaultConfig(), "aws", `arn:aws:sqs:eu-west-1:${VAULT}:deadlettersqueue`);
    for (const spec of vaultFunctions()) {
      const role = named(synth, "aws:iam/role:Role", `${componentOf(spec)}Role`);
      expect(foreignPrincipals(json(inputs(role).assumeRolePolicy), VAULT)).toEqual([]);
      const expected = documentFor(permissionsFor(spec.name, ctx)).Statement;
      const statements = (inputs(role).inlinePolicies as { policy: string }[]).flatMap((p) => json(p.policy).Statement);
      expect(statements).toEqual(expect.arrayContaining(expected));
      // Beyond them: only the vault's Reports bucket link.
      const extra = statements.filter((st) => !expected.some((e) => JSON.stringify(e) === JSON.stringify(st)));
      expect([...new Set(extra.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action])))].sort()).toEqual(
        spec.reports ? [...REPORTS_LINK_ACTIONS].sort() : [],
      );
      if (spec.trigger.kind === "schedule") {
        const schedule = named(synth, "aws:scheduler/schedule:Schedule", `${componentOf(spec)}ScheduleSchedule`);
        expect([schedule.region, inputs(schedule).scheduleExpression]).toEqual(["eu-west-1", vaultConfig().schedules[spec.trigger.schedule]]);
      }
    }
  });

  it("keeps its run reports in its own Reports bucket, and returns its outputs", () => {
    expect(named(synth, "sst:aws:Bucket", "ReportsBucket").region).toBe("eu-west-1");
    expect(synth.outputs).toEqual({
      app: "ops-autopilot",
      stage: "ci-vault",
      vaultAccount: VAULT,
      reportsBucket: expect.stringMatching(/^ops-autopilot-ci-vault-reportsbucketbucket-/),
      deadLetterQueue: `https://sqs.eu-west-1.amazonaws.com/${VAULT}/deadlettersqueue`,
      readerRole: `arn:aws:iam::${VAULT}:role/vaultreaderrole`,
      keys: {
        "eu-west-1": `arn:aws:kms:eu-west-1:${VAULT}:key/vaultkeyeuwest1-key-id`,
        "eu-central-1": `arn:aws:kms:eu-central-1:${VAULT}:key/vaultkeyeucentral1-key-id`,
      },
      backupVaults: { "eu-west-1": "ops-autopilot-ci-vault", "eu-central-1": "ops-autopilot-ci-vault" },
      functions: {
        "vault-copy": { name: expect.stringMatching(/^ops-autopilot-ci-vault-VaultcopyFunction-/), region: "eu-west-1", component: "Vault-copy" },
        "vault-prune": { name: expect.stringMatching(/^ops-autopilot-ci-vault-VaultpruneFunction-/), region: "eu-west-1", component: "Vault-prune" },
      },
      _protect: false,
    });
  });
});

describe("the account guard", () => {
  it("the vault stage as a workload account: refused before anything is declared", () => {
    expect(wrongAccount.errors.map((e) => e.split("\n")[0])).toEqual([
      `Error: refusing to deploy the vault stage ci-vault into account ${WORKLOAD}: vault.accountId is ${VAULT}. Deploy it with the backup account's credentials (e.g. AWS_PROFILE=<vault profile> npx sst deploy --stage ci-vault)`,
    ]);
    expect(wrongAccount.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it("the workload stage as the vault account: refused before anything is declared", () => {
    expect(workloadInVault.errors.map((e) => e.split("\n")[0])).toEqual([
      `Error: refusing to deploy the workload stage ci into the vault account ${VAULT}: its roles would reach the vault's copies. Deploy the vault side as stage ci-vault, and this stage with a workload account's credentials`,
    ]);
    expect(workloadInVault.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it("the workload stage with a vault section, in its own account, declares the resources it declares without one (no key, no vault, no reader)", () => {
    expect(workload.errors).toEqual([]);
    const list = (r: SynthResult) => r.resources.map((x) => `${x.type} ${x.name}`).sort();
    expect(list(workload)).toEqual(list(plain));
    expect(list(workload).filter((x) => /kms\/key|backup\/|VaultReader/.test(x))).toEqual([]);
  });
});
