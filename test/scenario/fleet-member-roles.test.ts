import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CreateSnapshotCommand, DeleteSnapshotCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  assumeMemberRole,
  MemberRoleRefusedError,
  memberCredentials,
  resetMemberSessions,
  roleSessionName,
  sessionSeconds,
  type AssumeMemberRoleInput,
} from "../../adapters/assume-role.ts";
import { ec2, resetClients } from "../../adapters/clients.ts";
import { TAG } from "../../core/types.ts";
import { namePrefix } from "../../core/ownership.ts";
import { currentInvocation, noteInvocationConfig, runInvocation } from "../../runbooks/lib/invocation.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../sandbox/index.ts";
import type { Principal } from "../../sandbox/aws/iam/enforce.ts";
import type { PolicyCondition, PolicyStatement } from "../../sandbox/aws/iam/policy.ts";
import type { TrustStatement } from "../../sandbox/aws/accounts.ts";
import { functionRole } from "../../sandbox/scenarios/roles.ts";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../../schemas/config-fleet.ts";
import type { FunctionName } from "../../stacks/functions.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { memberRoleArn, memberRoles } from "../../stacks/member-roles.ts";
import type { PolicyDocument } from "../../stacks/policy-lint.ts";

/**
 * The fleet, end to end on the IAM-enforcing sandbox: the central functions run under the roles stacks/iam.ts derives,
 * each assumes its member role (adapters/assume-role.ts) in a member account where the roles stacks/member-roles.ts
 * generates are installed as generated (trust and policy), and acts there under that role's policy.
 *
 * AWS rules relied on:
 * - AssumeRole: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (a missing role and a refusing
 *   trust both answer AccessDenied; RoleSessionName 2-64 of [\w+=,.@-]; DurationSeconds 900 up, 3600 when chaining);
 * - the external id against the confused deputy: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html;
 * - aws:PrincipalArn is the role's ARN for a role session:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn;
 * - a cross-account request needs both the caller's identity policy and the resource side to allow it:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html;
 * - EC2 snapshot deletes with aws:ResourceTag conditions:
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const REGION = "eu-west-1";
const CENTRAL = "999988887777";
const MEMBER = "111122223333";
/** Listed in the fleet, but its member roles were never deployed. */
const UNDEPLOYED = "444455556666";
/** Not in the fleet at all. */
const STRANGER = "777788889999";
const EXTERNAL_ID = "oa-prod-payments-7f3c";
const UNDEPLOYED_EXTERNAL_ID = "oa-prod-search-19ab";

/** config/example.json with alias keys (a fleet refuses key ARNs) and two listed member accounts. */
function fleetConfig(fleet: Record<string, unknown>, vault?: Record<string, unknown>): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown> & { backup: Record<string, unknown> };
  raw.drRegions = [{ region: "eu-central-1", kmsKeyId: "alias/ops-autopilot-dr" }];
  raw.backup.sourceKmsKeyIds = ["arn:aws:kms:eu-west-1:123456789012:alias/databases"];
  raw.fleet = fleet;
  if (vault) raw.vault = vault;
  return parseConfig({ ...raw, app: "ops-autopilot", stage: "prod" });
}

/** A backup account whose workload stage runs in CENTRAL. */
const vaultOf = (accountId: string) => ({ accountId, centralAccountId: CENTRAL, regions: [{ region: REGION, kmsKeyAlias: "alias/ops-autopilot-vault" }] });

const config = fleetConfig({
  accounts: [
    { id: MEMBER, name: "payments", externalId: EXTERNAL_ID },
    { id: UNDEPLOYED, name: "search", externalId: UNDEPLOYED_EXTERNAL_ID },
  ],
});

/**
 * The central function's role as the sandbox resolves it (sandbox/scenarios/roles.ts): its statements as stacks/iam.ts
 * derives them, under the name SST deploys it with (`<app>-<stage>-<Component>Role-<8 characters>`), the name the
 * member trust's aws:PrincipalArn pattern matches.
 */
function centralRole(): Principal | undefined {
  const inv = currentInvocation();
  if (!inv?.config) return undefined;
  return functionRole(inv.functionName as FunctionName, inv.config, CENTRAL, {});
}

/** A policy document's statement as the sandbox takes it (the Condition map to a list). */
function conditionsOf(condition: Record<string, Record<string, string | readonly string[]>> | undefined): PolicyCondition[] {
  return Object.entries(condition ?? {}).flatMap(([test, byKey]) =>
    Object.entries(byKey).map(([variable, v]) => ({ test, variable, values: typeof v === "string" ? [v] : [...v] })),
  );
}
const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);

function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  return doc.Statement.map((s) => ({
    effect: s.Effect === "Deny" ? "deny" : "allow",
    actions: list(s.Action),
    resources: list(s.Resource),
    conditions: conditionsOf(s.Condition as never),
  }));
}

function trustOf(doc: PolicyDocument): TrustStatement[] {
  return doc.Statement.map((s) => {
    const principal = (s as unknown as { Principal: { AWS: string | string[] } }).Principal;
    return { effect: s.Effect === "Deny" ? "deny" : "allow", principals: list(principal.AWS), conditions: conditionsOf(s.Condition as never) };
  });
}

let sb: Sandbox;
let clock: FakeClock;
/** Everything written to the console during a test: the external ids must never be in it. */
let printed: string[];

beforeEach(() => {
  resetMemberSessions();
  resetClients();
  clock = new FakeClock("2026-03-02T02:00:00Z");
  // Not counted for `npm run iam-report`: it weighs usage against config/example.json's roles, which have no fleet and
  // so no sts:AssumeRole; the grants are asserted exactly below ("IAM: sts:AssumeRole ...").
  sb = createSandbox({ clock, regions: [REGION, "eu-central-1"], accountId: CENTRAL, iam: { principal: centralRole, recordUsage: false } });
  const member = sb.addAccount(MEMBER, { name: "payments" });
  sb.addAccount(UNDEPLOYED, { name: "search" });
  for (const r of memberRoles(config, { account: MEMBER, partition: "aws", centralAccountId: CENTRAL, target: config.fleet!.accounts[0]! })) {
    member.addRole({ name: r.name, trust: trustOf(r.trustPolicy), statements: statementsOf(r.policy) });
  }
  printed = [];
  for (const m of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
  }
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown, ...rest: unknown[]) => {
    printed.push(String(chunk));
    return write(chunk as string, ...(rest as []));
  });
});
afterEach(() => {
  expect(printed.join("\n")).not.toContain(EXTERNAL_ID);
  expect(printed.join("\n")).not.toContain(UNDEPLOYED_EXTERNAL_ID);
  vi.restoreAllMocks();
  sb.restore();
});

const target = (fn: FleetFunction, account = MEMBER, accountName = "payments") => ({
  account,
  accountName,
  roleArn: memberRoleArn(config, "aws", account, fn),
});
const input = (fn: FleetFunction, t = target(fn), cfg = config): AssumeMemberRoleInput => ({ config: cfg, fn, target: t, region: REGION, jobSeconds: 900 });
const deps = () => ({ now: () => clock.nowMs() });

/** Runs `body` as the function `fn` with the configuration read, as the handler chain does. */
function as<T>(fn: FleetFunction, body: () => Promise<T>, cfg: Config = config): Promise<T> {
  return runInvocation(fn, async () => {
    noteInvocationConfig(cfg);
    return body();
  });
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; refused: boolean }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message, refused: err instanceof MemberRoleRefusedError };
  }
  throw new Error("expected a refusal");
}

const ours = (name: string) => ({ [TAG.managedBy]: "ops-autopilot:prod", [TAG.name]: name });

describe("a fleet function in a member account (API_AssumeRole.html, confused-deputy.html)", () => {
  it("(a) the backup role assumes its member role with the account's external id and creates a snapshot in the member account", async () => {
    const volume = sb.account(MEMBER).ec2.addVolume(REGION);
    const name = `${namePrefix(config)}vol-1-2026-03-02`;
    const id = await as("backup", async () => {
      const out = await ec2(REGION, memberCredentials(input("backup"), deps())).send(
        new CreateSnapshotCommand({
          VolumeId: volume,
          Description: name,
          TagSpecifications: [{ ResourceType: "snapshot", Tags: Object.entries(ours(name)).map(([Key, Value]) => ({ Key, Value })) }],
        }),
      );
      return out.SnapshotId;
    });
    expect(sb.callsTo("sts").map((c) => [c.command, c.input, c.account, c.error])).toEqual([
      [
        "AssumeRole",
        {
          RoleArn: `arn:aws:iam::${MEMBER}:role/ops-autopilot-prod-member-backup`,
          RoleSessionName: "ops-autopilot-prod-backup",
          ExternalId: EXTERNAL_ID,
          DurationSeconds: 1200,
        },
        undefined,
        undefined,
      ],
    ]);
    expect(sb.callsTo("ec2").map((c) => [c.command, c.account, c.error])).toEqual([["CreateSnapshot", MEMBER, undefined]]);
    expect(sb.account(MEMBER).ec2.snapshot(REGION, id!)?.tags).toEqual(ours(name));
    expect(sb.ec2.snapshot(REGION, id!)).toBeUndefined();
    expect(sb.iam!.denials).toEqual([]);
  });

  it("each fleet function's role assumes its own member role (one AssumeRole per role, reused until 5 minutes before expiry)", async () => {
    for (const fn of FLEET_FUNCTIONS) {
      const first = await as(fn, () => assumeMemberRole(input(fn), deps()));
      const again = await as(fn, () => assumeMemberRole(input(fn), deps()));
      expect(again).toBe(first);
      expect(first.expiration.getTime() - clock.nowMs()).toBe(1200_000);
    }
    expect(sb.callsTo("sts").map((c) => (c.input as { RoleArn: string; RoleSessionName: string }).RoleSessionName)).toEqual(
      FLEET_FUNCTIONS.map((fn) => `ops-autopilot-prod-${fn}`),
    );
    clock.advance(1200_000 - 5 * 60_000 - 1);
    await as("backup", () => assumeMemberRole(input("backup"), deps()));
    expect(sb.callsTo("sts")).toHaveLength(4);
    clock.advance(1);
    const renewed = await as("backup", () => assumeMemberRole(input("backup"), deps()));
    expect(sb.callsTo("sts")).toHaveLength(5);
    expect(renewed.expiration.getTime() - clock.nowMs()).toBe(1200_000);
  });

  it("(b) a wrong external id is AccessDenied, naming the account and the role, never the ids", async () => {
    const wrong = fleetConfig({ accounts: [{ id: MEMBER, name: "payments", externalId: "oa-prod-guessed-0000" }] });
    const err = await as("backup", () => refusal(assumeMemberRole(input("backup", target("backup"), wrong), deps())), wrong);
    expect(err).toEqual({
      name: "AccessDenied",
      refused: true,
      message:
        `account ${MEMBER} (payments): AssumeRole on arn:aws:iam::${MEMBER}:role/ops-autopilot-prod-member-backup for the backup function was refused (AccessDenied): ` +
        "the role is missing, or its trust policy refuses us (external id, principal), or our own role may not assume it; STS does not say which",
    });
    expect(err.message).not.toContain("oa-prod-guessed-0000");
    // The central role's own policy allowed it: the member's trust refused.
    expect(sb.iam!.denials).toEqual([]);
  });

  it("(b) a listed account whose member role is missing is AccessDenied, named", async () => {
    const err = await as("copy", () => refusal(assumeMemberRole(input("copy", target("copy", UNDEPLOYED, "search")), deps())));
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toBe(
      `account ${UNDEPLOYED} (search): AssumeRole on arn:aws:iam::${UNDEPLOYED}:role/ops-autopilot-prod-member-copy for the copy function was refused (AccessDenied): ` +
        "the role is missing, or its trust policy refuses us (external id, principal), or our own role may not assume it; STS does not say which",
    );
    expect(err.message).not.toContain(UNDEPLOYED_EXTERNAL_ID);
  });

  it("(b) the backup role cannot assume the prune member role: its own policy refuses (and the prune role's trust names Prune's role only)", async () => {
    const pruneRole = memberRoleArn(config, "aws", MEMBER, "prune");
    sb.iam!.expectDenial("backup", "sts:AssumeRole");
    const err = await as("backup", () => refusal(assumeMemberRole(input("backup", { ...target("backup"), roleArn: pruneRole }), deps())));
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain(`account ${MEMBER} (payments): AssumeRole on ${pruneRole} for the backup function was refused (AccessDenied)`);
    expect(sb.iam!.denials.map((d) => [d.principal, d.request.action, d.request.resource])).toEqual([["backup", "sts:AssumeRole", pruneRole]]);
    expect(
      memberRoles(config, { account: MEMBER, partition: "aws", centralAccountId: CENTRAL, target: config.fleet!.accounts[0]! }).find((r) => r.fn === "prune")
        ?.trustPolicy.Statement[0],
    ).toMatchObject({ Condition: { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${CENTRAL}:role/ops-autopilot-prod-PruneRole-????????` } } });
  });

  it("(c) under the prune member role, IAM refuses to delete a snapshot without our managed-by tag, and deletes ours", async () => {
    const member = sb.account(MEMBER).ec2;
    const prefix = namePrefix(config);
    const foreign = member.addSnapshot(REGION, { volumeId: "vol-0000000f", tags: { [TAG.name]: `${prefix}vol-f-2026-01-01` } }).id;
    const mine = member.addSnapshot(REGION, { volumeId: "vol-0000000a", tags: ours(`${prefix}vol-a-2026-01-01`) }).id;
    const client = () => ec2(REGION, memberCredentials(input("prune"), deps()));
    const err = await as("prune", () => refusal(client().send(new DeleteSnapshotCommand({ SnapshotId: foreign }))));
    expect(err.name).toBe("UnauthorizedOperation");
    expect(err.message).toContain("ec2:DeleteSnapshot");
    expect(member.snapshot(REGION, foreign)).toBeDefined();
    await as("prune", () => client().send(new DeleteSnapshotCommand({ SnapshotId: mine })));
    expect(member.snapshot(REGION, mine)).toBeUndefined();
    expect(sb.callsTo("ec2").map((c) => [c.command, (c.input as { SnapshotId: string }).SnapshotId, c.account, c.error?.name])).toEqual([
      ["DeleteSnapshot", foreign, MEMBER, "UnauthorizedOperation"],
      ["DeleteSnapshot", mine, MEMBER, undefined],
    ]);
  });

  it("(d) the central role cannot assume a role in an account outside the fleet, even one whose trust would admit it", async () => {
    const stranger = sb.addAccount(STRANGER, { name: "stranger" });
    stranger.addRole({
      name: "ops-autopilot-prod-member-backup",
      trust: [{ principals: [`arn:aws:iam::${CENTRAL}:root`] }],
      statements: [{ actions: ["ec2:CreateSnapshot"], resources: ["*"] }],
    });
    const arn = `arn:aws:iam::${STRANGER}:role/ops-autopilot-prod-member-backup`;
    sb.iam!.expectDenial("backup", "sts:AssumeRole");
    const err = await as("backup", () =>
      refusal(new STSClient({ region: REGION, maxAttempts: 1 }).send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: "ops-autopilot-prod-backup" }))),
    );
    expect(err.name).toBe("AccessDenied");
    expect(sb.iam!.denials.map((d) => [d.principal, d.request.action, d.request.resource])).toEqual([["backup", "sts:AssumeRole", arn]]);
    // The adapter does not even ask: the account has no external id in the configuration.
    await expect(as("backup", () => assumeMemberRole(input("backup", { account: STRANGER, accountName: "stranger", roleArn: arn }), deps()))).rejects.toThrow(
      `account ${STRANGER} is not in fleet.accounts and the fleet names no organizationalUnit`,
    );
    expect(sb.callsTo("sts")).toHaveLength(1);
  });

  it("(e) with an OU: the central role assumes its member role in an OU account, and is refused it in the backup account placed in the same OU (aws:ResourceAccount, condition-keys-resourceaccount)", async () => {
    const OU = "ou-ab12-cd34ef56";
    const VAULT = "555566667777";
    const OU_MEMBER = "200000000001";
    const ou = { id: OU, externalId: "oa-prod-workloads-ou" };
    const cfg = fleetConfig({ organizationalUnit: ou }, vaultOf(VAULT));
    sb.organizations.createOrganization({ management: CENTRAL });
    sb.organizations.addOrganizationalUnit(OU);
    // A StackSet aimed at the OU deploys the member roles in every account of it, the backup account included.
    for (const [id, name] of [
      [OU_MEMBER, "ou-workload"],
      [VAULT, "backup-vault"],
    ] as const) {
      const acc = sb.addAccount(id, { name });
      sb.organizations.addAccount(OU, { id, name });
      for (const r of memberRoles(cfg, { account: id, partition: "aws", centralAccountId: CENTRAL, target: ou })) {
        acc.addRole({ name: r.name, trust: trustOf(r.trustPolicy), statements: statementsOf(r.policy) });
      }
    }
    const assume = (account: string) =>
      as(
        "backup",
        () =>
          new STSClient({ region: REGION, maxAttempts: 1 }).send(
            new AssumeRoleCommand({
              RoleArn: memberRoleArn(cfg, "aws", account, "backup"),
              RoleSessionName: "ops-autopilot-prod-backup",
              ExternalId: ou.externalId,
            }),
          ),
        cfg,
      );
    const ok = await assume(OU_MEMBER);
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${OU_MEMBER}:assumed-role/ops-autopilot-prod-member-backup/ops-autopilot-prod-backup`);
    expect(sb.iam!.denials).toEqual([]);

    sb.iam!.expectDenial("backup", "sts:AssumeRole");
    const err = await refusal(assume(VAULT));
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain(`is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${VAULT}:role/ops-autopilot-prod-member-backup`);
    expect(sb.iam!.denials.map((d) => [d.principal, d.request.action, d.request.resource, d.request.context["aws:ResourceAccount"]])).toEqual([
      ["backup", "sts:AssumeRole", `arn:aws:iam::${VAULT}:role/ops-autopilot-prod-member-backup`, VAULT],
    ]);
    expect(sb.callsTo("sts").map((c) => [(c.input as { RoleArn: string }).RoleArn.split(":")[4], c.error?.name])).toEqual([
      [OU_MEMBER, undefined],
      [VAULT, "AccessDenied"],
    ]);
  });

  it("an error other than AccessDenied reaches the caller with the external id cut out (a ValidationError quotes the value)", async () => {
    const spaced = { ...config, fleet: { accounts: [{ id: MEMBER, name: "payments", externalId: "has a space 7f3c" }] } } as Config;
    const err = await as("backup", () => refusal(assumeMemberRole(input("backup", target("backup"), spaced), deps())), spaced);
    expect(err.name).toBe("ValidationError");
    expect(err.message).not.toContain("has a space 7f3c");
    expect(err.message).toContain(
      `account ${MEMBER} (payments): AssumeRole on arn:aws:iam::${MEMBER}:role/ops-autopilot-prod-member-backup failed: ValidationError:`,
    );
    expect(err.message).toContain("<external id>");
  });
});

describe("role session name and duration (API_AssumeRole.html)", () => {
  it("names the session <app>-<stage>-<function> within 64 characters of [\\w+=,.@-], keeping the function whole", () => {
    expect(roleSessionName({ app: "ops-autopilot", stage: "prod" }, "watchdog")).toBe("ops-autopilot-prod-watchdog");
    const long = roleSessionName({ app: "a".repeat(40), stage: "s".repeat(40) }, "watchdog");
    expect(long).toHaveLength(64);
    expect(long.endsWith("-watchdog")).toBe(true);
    expect(roleSessionName({ app: "my app", stage: "pr/1" }, "prune")).toBe("my-app-pr-1-prune");
  });

  it("lasts the job plus the 5-minute refresh margin, 900 at least and 3600 at most (role chaining)", () => {
    expect([sessionSeconds(60), sessionSeconds(600), sessionSeconds(900), sessionSeconds(7200)]).toEqual([900, 900, 1200, 3600]);
  });
});

describe("IAM: sts:AssumeRole for the fleet functions only, on their own member roles", () => {
  const ctx = (cfg: Config) => ({ config: cfg, account: CENTRAL, partition: "aws", dlqArn: "arn:aws:sqs:eu-west-1:1:dlq" });
  const assumeGrants = (fn: FunctionName, cfg: Config) => permissionsFor(fn, ctx(cfg)).filter((s) => s.actions.includes("sts:AssumeRole"));

  it("grants each fleet function exactly the listed accounts' member role for that function (memberRoleArn)", () => {
    for (const fn of FLEET_FUNCTIONS) {
      expect(assumeGrants(fn, config)).toEqual([
        { actions: ["sts:AssumeRole"], resources: [memberRoleArn(config, "aws", MEMBER, fn), memberRoleArn(config, "aws", UNDEPLOYED, fn)] },
      ]);
    }
  });

  it("grants nothing without a fleet, nor to a function outside the fleet", () => {
    const { fleet: _none, ...noFleet } = config;
    for (const fn of FLEET_FUNCTIONS) expect(assumeGrants(fn, noFleet as Config)).toEqual([]);
    for (const fn of ["warm", "cost", "failover", "probe"] as const) expect(assumeGrants(fn, config)).toEqual([]);
  });

  it("for an OU: the role's name in any account, only where the account's organization path runs through the OU (aws:ResourceOrgPaths), never in the stage's own account (aws:ResourceAccount)", () => {
    const withOu = fleetConfig({ organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-workloads" } });
    expect(assumeGrants("prune", withOu)).toEqual([
      {
        actions: ["sts:AssumeRole"],
        resources: ["arn:aws:iam::*:role/ops-autopilot-prod-member-prune"],
        conditions: [
          { test: "ForAnyValue:StringLike", variable: "aws:ResourceOrgPaths", values: ["o-*/*/ou-ab12-cd34ef56/*"] },
          { test: "StringNotEquals", variable: "aws:ResourceAccount", values: [CENTRAL] },
        ],
      },
    ]);
  });

  it("for an OU with a vault: never in the backup account nor the vault's central account, even inside the OU (aws:ResourceAccount)", () => {
    const withVault = fleetConfig({ organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-workloads" } }, vaultOf("555566667777"));
    // (watchdog and prune also assume the vault's reader role, by its exact ARN: adapters/vault-reader.ts)
    const memberGrants = (fn: FunctionName) =>
      assumeGrants(fn, withVault).filter((s) => s.resources.every((r) => r.includes(":role/ops-autopilot-prod-member-")));
    for (const fn of FLEET_FUNCTIONS) {
      expect(memberGrants(fn)).toEqual([
        {
          actions: ["sts:AssumeRole"],
          resources: [`arn:aws:iam::*:role/ops-autopilot-prod-member-${fn}`],
          conditions: [
            { test: "ForAnyValue:StringLike", variable: "aws:ResourceOrgPaths", values: ["o-*/*/ou-ab12-cd34ef56/*"] },
            { test: "StringNotEquals", variable: "aws:ResourceAccount", values: ["555566667777", CENTRAL] },
          ],
        },
      ]);
    }
    // The listed accounts' grant names its accounts' roles exactly: no condition needed (the schema refuses the vault there).
    const listed = fleetConfig({ accounts: [{ id: MEMBER, name: "payments", externalId: EXTERNAL_ID }] }, vaultOf("555566667777"));
    expect(assumeGrants("backup", listed)).toEqual([{ actions: ["sts:AssumeRole"], resources: [memberRoleArn(listed, "aws", MEMBER, "backup")] }]);
  });
});
