import { Logger } from "@aws-lambda-powertools/logger";
import { ListAccountsForParentCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { afterEach, describe, expect, it } from "vitest";
import { listAccountsForParent } from "../../../adapters/organizations.ts";
import { runFleetTargets } from "../../../runbooks/fleet/targets.ts";
import { createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { parseConfig, type Config, type ConfigInput } from "../../../schemas/config.ts";
import { parseFleetTargetsEvent } from "../../../schemas/events-fleet-targets.ts";
import { createSandbox, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { MAX_FLEET_ITEMS } from "../../../stacks/fleet-fanout-definition.ts";
import { permissionsFor } from "../../../stacks/iam.ts";
import { memberRoleArn } from "../../../stacks/member-roles.ts";

/**
 * The fleet's target discovery (functions/fleet-targets.ts) on the IAM-enforcing sandbox: the function runs under its
 * own role as stacks/iam.ts derives it, against the sandbox's Organizations
 * (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html).
 */

const CENTRAL = "999988887777";
const MANAGEMENT = "100000000001";
const VAULT = "555566667777";
const OU = "ou-ab12-cd34ef56";
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const STATE_MACHINE = `arn:aws:states:${PRIMARY}:${CENTRAL}:stateMachine:ops-autopilot-test-fleet-backup`;

function config(fleet: Record<string, unknown>, extra: Partial<ConfigInput> = {}): Config {
  return parseConfig({
    app: "ops-autopilot",
    stage: "test",
    primaryRegion: PRIMARY,
    drRegions: [{ region: DR, kmsKeyId: "alias/ops-autopilot-dr" }],
    fleet,
    ...extra,
  } as ConfigInput);
}

const OU_FLEET = { organizationalUnit: { id: OU, externalId: "oa-fleet-ou", regions: [PRIMARY] } };

let sb: Sandbox | undefined;
afterEach(() => {
  sb?.restore();
  sb = undefined;
});

function world(
  cfg: Config,
  opts: { management?: string; accounts?: { id: string; name: string; status?: "ACTIVE" | "SUSPENDED" | "PENDING_CLOSURE" }[] } = {},
) {
  sb = createSandbox({ accountId: CENTRAL, regions: [PRIMARY, DR], iam: { recordUsage: false } });
  sb.organizations.createOrganization({ management: opts.management ?? CENTRAL });
  sb.organizations.addOrganizationalUnit(OU);
  for (const a of opts.accounts ?? []) sb.organizations.addAccount(OU, a);
  const runtime: Runtime = {
    config: () => cfg,
    now: () => new Date("2026-11-30T02:00:00Z"),
    saveReport: async () => undefined,
    postSlack: async () => {},
    publish: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ serviceName: "fleet-targets-test", logLevel: "SILENT" }),
  };
  const handler = createHandler(
    {
      name: "fleet-targets",
      parse: parseFleetTargetsEvent,
      run: (event, ctx) => runFleetTargets(event, ctx, { listAccountsForParent: (id) => listAccountsForParent(id) }),
      posts: false,
    },
    runtime,
  );
  let n = 0;
  const invoke = (event: Record<string, unknown> = {}) =>
    handler(
      { source: "fleet-targets", job: "backup", maxItems: MAX_FLEET_ITEMS, stateMachine: STATE_MACHINE, ...event },
      lambdaContext(`req-${++n}`),
    ) as Promise<{
      items: { account: string; accountName: string; region: string; roleArn: string }[];
    }>;
  const requests = () => sb!.callsTo("organizations", "ListAccountsForParent").map((c) => c.input);
  return { sb, invoke, requests };
}

const acct = (i: number) => ({ id: String(200_000_000_000 + i), name: `ou-acct-${String(i).padStart(2, "0")}` });
const role = (account: string, prefix = "ops-autopilot-test-member") => `arn:aws:iam::${account}:role/${prefix}-backup`;

describe("fleet-targets: the OU's accounts as the fan-out's items", () => {
  it("lists the OU once with MaxResults 20 and answers each active account in the OU's regions as the job's member role", async () => {
    const cfg = config(OU_FLEET);
    const w = world(cfg, { accounts: [acct(1), acct(2)] });
    const out = await w.invoke();
    expect(w.requests()).toEqual([{ ParentId: OU, MaxResults: 20 }]);
    expect(out.items).toEqual([
      { account: acct(1).id, accountName: "ou-acct-01", region: PRIMARY, roleArn: role(acct(1).id) },
      { account: acct(2).id, accountName: "ou-acct-02", region: PRIMARY, roleArn: role(acct(2).id) },
    ]);
    // The same ARN stacks/member-roles.ts gives the member role the SST component and the StackSet deploy.
    expect(out.items.map((i) => i.roleArn)).toEqual([acct(1).id, acct(2).id].map((a) => memberRoleArn(cfg, "aws", a, "backup")));
    expect(w.sb.iam!.denials).toEqual([]);
  });

  it("pages through 45 accounts: three calls, each with the previous NextToken, every account once", async () => {
    const accounts = Array.from({ length: 45 }, (_, i) => acct(i + 1));
    const w = world(config(OU_FLEET), { accounts });
    const out = await w.invoke();
    expect(w.requests()).toEqual([
      { ParentId: OU, MaxResults: 20 },
      { ParentId: OU, MaxResults: 20, NextToken: `sbx:${OU}:20` },
      { ParentId: OU, MaxResults: 20, NextToken: `sbx:${OU}:40` },
    ]);
    expect(out.items.map((i) => i.account)).toEqual(accounts.map((a) => a.id));
  });

  it("skips SUSPENDED and PENDING_CLOSURE accounts (API_Account.html Status)", async () => {
    const w = world(config(OU_FLEET), {
      accounts: [acct(1), { ...acct(2), status: "SUSPENDED" }, { ...acct(3), status: "PENDING_CLOSURE" }, acct(4)],
    });
    const out = await w.invoke();
    expect(out.items.map((i) => i.account)).toEqual([acct(1).id, acct(4).id]);
  });

  it("a listed account wins: its own name, role prefix and regions, once, listed accounts first", async () => {
    const listed = { id: acct(2).id, name: "payments", externalId: "oa-payments", roleNamePrefix: "pay-member", regions: [PRIMARY, DR] };
    const w = world(config({ accounts: [listed], ...OU_FLEET }), { accounts: [acct(1), acct(2)] });
    const out = await w.invoke();
    expect(out.items).toEqual([
      { account: acct(2).id, accountName: "payments", region: PRIMARY, roleArn: role(acct(2).id, "pay-member") },
      { account: acct(2).id, accountName: "payments", region: DR, roleArn: role(acct(2).id, "pay-member") },
      { account: acct(1).id, accountName: "ou-acct-01", region: PRIMARY, roleArn: role(acct(1).id) },
    ]);
  });

  it("drops the central (deploying) account and the vault account, though both are in the OU", async () => {
    const cfg = config(OU_FLEET, {
      vault: { accountId: VAULT, regions: [{ region: PRIMARY, kmsKeyAlias: "alias/ops-autopilot-vault" }] },
    } as Partial<ConfigInput>);
    const w = world(cfg, { accounts: [{ id: CENTRAL, name: "central" }, acct(1), { id: VAULT, name: "vault" }] });
    const out = await w.invoke();
    expect(out.items.map((i) => i.account)).toEqual([acct(1).id]);
  });

  it("from an account that is neither the management account nor a delegated administrator: refused, saying where it may run", async () => {
    const w = world(config(OU_FLEET), { management: MANAGEMENT, accounts: [acct(1), { id: CENTRAL, name: "central" }] });
    await expect(w.invoke()).rejects.toThrow(
      `cannot list the accounts of ${OU}: Organizations ListAccountsForParent can be called only from the organization's management account ` +
        "or a delegated administrator account, and this function's account is neither (deploy the stage there, or register its account with " +
        "organizations register-delegated-administrator), or its role lacks organizations:ListAccountsForParent. AWS said: AccessDeniedException: You don't have permissions to access this resource.",
    );
    // A delegated administrator may list.
    w.sb.organizations.registerDelegatedAdministrator(CENTRAL);
    expect((await w.invoke()).items.map((i) => i.account)).toEqual([acct(1).id]);
  });

  it("from an account outside any organization: AWSOrganizationsNotInUseException, explained the same way", async () => {
    const w = world(config(OU_FLEET), { management: MANAGEMENT, accounts: [acct(1)] });
    await expect(w.invoke()).rejects.toThrow(/AWS said: AWSOrganizationsNotInUseException: Your account is not a member of an organization\.$/);
  });

  it("refuses more items than the definition's limit, naming the counts", async () => {
    const w = world(config(OU_FLEET), { accounts: Array.from({ length: 3 }, (_, i) => acct(i + 1)) });
    await expect(w.invoke({ maxItems: 2 })).rejects.toThrow(
      "the fleet backup has 3 account × region items (3 accounts); at most 2 fit Step Functions' 256 KiB payload limit with their results: narrow fleet.organizationalUnit.regions or split the OU",
    );
  });

  it("its role may list exactly the fleet's OU, nothing else", () => {
    const cfg = config(OU_FLEET);
    const statements = permissionsFor("fleet-targets", { config: cfg, account: CENTRAL, partition: "aws", dlqArn: "" });
    expect(statements).toEqual([{ actions: ["organizations:ListAccountsForParent"], resources: [`arn:aws:organizations::*:ou/o-*/${OU}`] }]);
  });
});

describe("sandbox Organizations ListAccountsForParent, as strict as AWS", () => {
  const call = (input: Record<string, unknown>) => new OrganizationsClient({ region: "us-east-1" }).send(new ListAccountsForParentCommand(input as never));

  it("MaxResults 1 to 20, a NextToken of this listing, a known parent (API_ListAccountsForParent.html, API_InvalidInputException.html)", async () => {
    world(config(OU_FLEET), { accounts: [acct(1), acct(2)] });
    await expect(call({ ParentId: OU, MaxResults: 21 })).rejects.toMatchObject({ name: "InvalidInputException", Reason: "MAX_VALUE_EXCEEDED" });
    await expect(call({ ParentId: OU, MaxResults: 0 })).rejects.toMatchObject({ name: "InvalidInputException", Reason: "MIN_VALUE_EXCEEDED" });
    await expect(call({ ParentId: OU, NextToken: "forged" })).rejects.toMatchObject({ name: "InvalidInputException", Reason: "INVALID_PAGINATION_TOKEN" });
    await expect(call({ ParentId: "ou-ab12-00000000" })).rejects.toMatchObject({
      name: "ParentNotFoundException",
      message: "We can't find a root or OU with the ParentId that you specified.",
    });
    const first = await call({ ParentId: OU, MaxResults: 1 });
    expect(first.Accounts?.map((a) => [a.Id, a.Name, a.Status])).toEqual([[acct(1).id, "ou-acct-01", "ACTIVE"]]);
    const second = await call({ ParentId: OU, MaxResults: 1, NextToken: first.NextToken });
    expect(second.Accounts?.map((a) => a.Id)).toEqual([acct(2).id]);
    expect(second.NextToken).toBeUndefined();
  });
});

describe("events/fleet-targets-backup.json", () => {
  it("runs through the handler on a sandbox with the OU: the Map's items", async () => {
    const { readFileSync } = await import("node:fs");
    const sample = JSON.parse(readFileSync(new URL("../../../events/fleet-targets-backup.json", import.meta.url), "utf8")) as Record<string, unknown>;
    const w = world(config(OU_FLEET), { accounts: [acct(1)] });
    const out = await w.invoke(sample);
    expect(out.items).toEqual([{ account: acct(1).id, accountName: "ou-acct-01", region: PRIMARY, roleArn: role(acct(1).id) }]);
  });
});
