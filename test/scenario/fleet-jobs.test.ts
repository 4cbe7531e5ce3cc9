import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetMemberSessions } from "../../adapters/assume-role.ts";
import { resetClients } from "../../adapters/clients.ts";
import { claimKey } from "../../adapters/claims.ts";
import { pruneLedgerKey } from "../../adapters/prune-ledger.ts";
import { pruneObserveKey } from "../../adapters/observe-marker.ts";
import { alertStateKey, memberAlertStateKey } from "../../adapters/alert-state.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import { namePrefix } from "../../core/ownership.ts";
import { backupJobSpec } from "../../runbooks/backup/jobs.ts";
import { createHandler, type Runtime } from "../../runbooks/lib/handler.ts";
import { createSandbox, FakeClock, HOUR, type Sandbox } from "../../sandbox/index.ts";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import type { TrustStatement } from "../../sandbox/aws/accounts.ts";
import type { PolicyCondition, PolicyStatement } from "../../sandbox/aws/iam/policy.ts";
import { parseConfig, type Config } from "../../schemas/config.ts";
import type { FleetFunction } from "../../schemas/config-fleet.ts";
import { FleetCountsSchema } from "../../schemas/events-fleet.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent } from "../../schemas/events-backup.ts";
import { memberRoleArn, memberRoles } from "../../stacks/member-roles.ts";
import type { PolicyDocument } from "../../stacks/policy-lint.ts";

/**
 * The four fleet jobs, each invoked with the fan-out's item exactly as Step Functions sends it
 * (stacks/fleet-fanout-definition.ts: `{ source: "fleet", target }`), on the IAM-enforcing sandbox: the central functions
 * run under the roles stacks/iam.ts derives, assume the member roles stacks/member-roles.ts generates (installed as
 * generated in two member accounts), and act there under those roles' policies.
 *
 * AWS rules relied on:
 * - AssumeRole (a missing role answers AccessDenied): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html;
 * - the Map reads `$states.result.Payload`, whose size Step Functions bounds at 256 KiB:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html;
 * - a cross-region RDS copy in the member account with the DR region's key (an alias, resolved in that account):
 *   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html.
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const CENTRAL = "999988887777";
const A = "111122223333";
const B = "222233334444";
/** Listed in the fleet; its member roles were never deployed. */
const UNDEPLOYED = "444455556666";
const BUCKET = "ops-autopilot-prod-reports";
const STATE = { bucket: BUCKET, region: PRIMARY };
const TAG_KEY = "ops-autopilot:backup";

const config: Config = parseConfig({
  app: "ops-autopilot",
  stage: "prod",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/ops-autopilot-dr" }],
  observe: false,
  backup: {
    policies: [
      {
        name: "db",
        selection: { tag: { key: TAG_KEY } },
        tiers: { daily: { keep: { count: 2 } } },
        keepNewest: 1,
        maxDeletesPerRun: 3,
        maxDeletePercent: 100,
      },
    ],
  },
  fleet: {
    accounts: [
      { id: A, name: "payments", externalId: "oa-prod-payments-7f3c" },
      { id: B, name: "search", externalId: "oa-prod-search-19ab" },
      { id: UNDEPLOYED, name: "ledger", externalId: "oa-prod-ledger-55aa" },
    ],
  },
});

/** A policy document's statements and trust as the sandbox takes them. */
const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);
function conditionsOf(condition: Record<string, Record<string, string | readonly string[]>> | undefined): PolicyCondition[] {
  return Object.entries(condition ?? {}).flatMap(([test, byKey]) => Object.entries(byKey).map(([variable, v]) => ({ test, variable, values: list(v) })));
}
const statementsOf = (doc: PolicyDocument): PolicyStatement[] =>
  doc.Statement.map((s) => ({
    effect: s.Effect === "Deny" ? "deny" : "allow",
    actions: list(s.Action),
    resources: list(s.Resource),
    conditions: conditionsOf(s.Condition as never),
  }));
const trustOf = (doc: PolicyDocument): TrustStatement[] =>
  doc.Statement.map((s) => ({
    effect: s.Effect === "Deny" ? "deny" : "allow",
    principals: list((s as unknown as { Principal: { AWS: string | string[] } }).Principal.AWS),
    conditions: conditionsOf(s.Condition as never),
  }));

let sb: Sandbox;
let clock: FakeClock;
let posted: SlackMessage[];
let paged: SlackMessage[];
let requests = 0;

const NAMES: Record<string, string> = { [A]: "payments", [B]: "search", [UNDEPLOYED]: "ledger" };

/** The item a child execution of the fan-out sends `fn`'s function. */
const item = (fn: FleetFunction, account: string, region: string) => ({
  source: "fleet",
  target: { account, accountName: NAMES[account]!, region, roleArn: memberRoleArn(config, "aws", account, fn) },
});

const runtime = (): Runtime => ({
  config: () => config,
  now: () => clock.now(),
  reportBucket: () => STATE,
  postSlack: async (m) => void posted.push(m),
  publish: async (m) => void paged.push(m),
  emitMetrics: () => {},
  logger: new Logger({ logLevel: "SILENT" }),
});

/** Invoke `fn`'s handler (the one functions/<fn>.ts exports, with the test's state bucket) with a fleet item. */
const invoke = (fn: FleetFunction, account: string, region: string) =>
  createHandler(backupJobSpec(fn, { stateBucket: STATE }), runtime())(item(fn, account, region), lambdaContext(`req-${++requests}`)) as Promise<
    Record<string, unknown>
  >;

const report = (key: unknown): Record<string, unknown> => JSON.parse(sb.s3.text(BUCKET, String(key))!) as Record<string, unknown>;
const keys = (prefix: string) => sb.s3.objects(BUCKET, prefix).map((o) => o.key);
const day = () => clock.now().toISOString().slice(0, 10).replaceAll("-", "");
const snapName = (resource: string) => `${namePrefix(config)}${resource}-${day()}`;

beforeEach(() => {
  resetMemberSessions();
  resetClients();
  clock = new FakeClock("2026-03-02T02:00:00Z");
  // recordUsage off: `npm run iam-report` weighs usage against config/example.json's roles, which have no fleet.
  sb = createSandbox({ clock, regions: [PRIMARY, DR], accountId: CENTRAL, buckets: [BUCKET], iam: { recordUsage: false } });
  for (const [id, name] of Object.entries(NAMES)) {
    const account = sb.addAccount(id, { name });
    if (id === UNDEPLOYED) continue;
    const entry = config.fleet!.accounts.find((a) => a.id === id)!;
    for (const r of memberRoles(config, { account: id, partition: "aws", centralAccountId: CENTRAL, target: entry })) {
      account.addRole({ name: r.name, trust: trustOf(r.trustPolicy), statements: statementsOf(r.policy) });
    }
    // The same identifiers in both accounts: names, and so claims, would collide without the account.
    account.rds.addInstance(PRIMARY, { id: "app-db", tags: { [TAG_KEY]: "db" } });
    account.ec2.addVolume(PRIMARY, { id: "vol-0a1b2c3d4e5f67890", tags: { [TAG_KEY]: "db" } });
  }
  posted = [];
  paged = [];
});
afterEach(() => {
  sb.restore();
  resetClients();
  resetMemberSessions();
});

describe("the fleet item event (schemas/events-fleet.ts FleetItemEventSchema)", () => {
  it("each job's parser takes it as a scheduled run for real, with the target", () => {
    for (const [fn, parse] of [
      ["backup", parseBackupEvent],
      ["copy", parseCopyEvent],
      ["prune", parsePruneEvent],
      ["watchdog", parseWatchdogEvent],
    ] as const) {
      const raw = item(fn, A, DR);
      expect(parse(raw)).toEqual({ trigger: "schedule", dryRun: false, target: raw.target });
    }
  });

  it("refuses an item with a field the fan-out does not send, naming it", () => {
    expect(() => parseBackupEvent({ ...item("backup", A, PRIMARY), dryRun: true })).toThrow(/backup fleet item event.*dryRun/s);
  });

  it("an account outside config.fleet is refused, named, before any AWS call", async () => {
    const stranger = {
      source: "fleet",
      target: { account: "777788889999", accountName: "stranger", region: PRIMARY, roleArn: "arn:aws:iam::777788889999:role/x" },
    };
    await expect(createHandler(backupJobSpec("backup", { stateBucket: STATE }), runtime())(stranger, lambdaContext("req-x"))).rejects.toThrow(
      `account 777788889999 (stranger) is not in fleet.accounts of the prod configuration (${A} payments, ${B} search, ${UNDEPLOYED} ledger) and the fleet names no organizationalUnit`,
    );
    expect(sb.callsTo("sts")).toEqual([]);
    expect(posted).toEqual([]);
  });
});

describe("a fleet item's account name", () => {
  it("other than the account's in fleet.accounts is refused, named, before any AWS call: reports and the summary name accounts by it", async () => {
    const forged = { source: "fleet", target: { ...item("prune", A, PRIMARY).target, accountName: "search" } };
    const err = (await createHandler(backupJobSpec("prune", { stateBucket: STATE }), runtime())(forged, lambdaContext("req-n")).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toBe(`account ${A} is "payments" in fleet.accounts of the prod configuration, not "search"`);
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });
});

describe("a fleet whose members include an Organizations OU", () => {
  // Any account of the OU passes by id (its accounts are discovered at run time), but two never are members: the backup
  // account (whoever acts there as a workload role could reach the copies) and the account the stage runs in (its own
  // jobs act there already, with their own state).
  const VAULT = "555566667777";
  const withOu = parseConfig({
    ...JSON.parse(JSON.stringify(config)),
    fleet: { ...JSON.parse(JSON.stringify(config.fleet)), organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-ou-3c1d" } },
    vault: { accountId: VAULT, centralAccountId: CENTRAL, regions: [{ region: PRIMARY, kmsKeyAlias: "alias/ops-autopilot-vault" }] },
  });
  const ouItem = (account: string) => ({
    source: "fleet",
    target: { account, accountName: "discovered", region: PRIMARY, roleArn: `arn:aws:iam::${account}:role/ops-autopilot-prod-member-prune` },
  });
  const run = (account: string) =>
    (
      createHandler(backupJobSpec("prune", { stateBucket: STATE }), { ...runtime(), config: () => withOu })(
        ouItem(account),
        lambdaContext("req-ou"),
      ) as Promise<unknown>
    ).catch((e: unknown) => e as Error);

  it("refuses an item of the backup account or of the stage's own account, named, before any AWS call", async () => {
    expect(((await run(VAULT)) as Error).message).toBe(
      `account ${VAULT} (discovered) is the backup account (vault.accountId): no fleet job acts there; the vault stage's own functions do`,
    );
    expect(((await run(CENTRAL)) as Error).message).toBe(
      `account ${CENTRAL} (discovered) is the account the prod stage runs in (vault.centralAccountId): its own jobs act there, not the fleet's`,
    );
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });

  it("refuses an item of an unlisted account going by a listed account's name, before any AWS call", async () => {
    const posing = { source: "fleet", target: { ...ouItem("777788889999").target, accountName: "payments" } };
    const err = (await createHandler(backupJobSpec("prune", { stateBucket: STATE }), { ...runtime(), config: () => withOu })(
      posing,
      lambdaContext("req-p"),
    ).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`account 777788889999 goes by "payments", the name of fleet.accounts[0] (${A}): reports would mix the two`);
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });
});

describe("a fleet item's role", () => {
  it("other than the job's own member role in the account is refused, named, before any AWS call", async () => {
    const forged = { source: "fleet", target: { ...item("backup", A, PRIMARY).target, roleArn: memberRoleArn(config, "aws", A, "prune") } };
    const err = (await createHandler(backupJobSpec("backup", { stateBucket: STATE }), runtime())(forged, lambdaContext("req-r")).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toBe(
      `account ${A} (payments): the backup job acts as its own member role ops-autopilot-prod-member-backup, not arn:aws:iam::${A}:role/ops-autopilot-prod-member-prune`,
    );
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });
});

describe("a fleet item's region", () => {
  it("outside the account's fleet regions is refused, named, before any AWS call", async () => {
    const err = (await invoke("prune", A, "us-east-1").catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`region us-east-1 is not one of account ${A} (payments)'s fleet regions (${PRIMARY}, ${DR})`);
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });
});

describe("fleet backup items", () => {
  it("create in each member account's primary region as its member role: the same DB in two accounts is two snapshots under two claims", async () => {
    const [a, b] = [await invoke("backup", A, PRIMARY), await invoke("backup", B, PRIMARY)];
    const name = snapName("app-db");
    const vol = snapName("vol-0a1b2c3d4e5f67890");
    expect(sb.callsTo("sts").map((c) => [c.command, (c.input as { RoleArn: string }).RoleArn, c.error?.name])).toEqual([
      ["AssumeRole", `arn:aws:iam::${A}:role/ops-autopilot-prod-member-backup`, undefined],
      ["AssumeRole", `arn:aws:iam::${B}:role/ops-autopilot-prod-member-backup`, undefined],
    ]);
    const creates = [...sb.callsTo("rds", "CreateDBSnapshot"), ...sb.callsTo("ec2", "CreateSnapshot")].map((c) => [
      c.command,
      c.account,
      c.region,
      (c.input as { DBSnapshotIdentifier?: string; Description?: string }).DBSnapshotIdentifier ?? (c.input as { Description: string }).Description,
      c.error?.name,
    ]);
    expect(creates).toEqual([
      ["CreateDBSnapshot", A, PRIMARY, name, undefined],
      ["CreateDBSnapshot", B, PRIMARY, name, undefined],
      ["CreateSnapshot", A, PRIMARY, vol, undefined],
      ["CreateSnapshot", B, PRIMARY, vol, undefined],
    ]);
    // Every RDS and EC2 call went to a member account; none to the central one.
    expect([...sb.callsTo("rds"), ...sb.callsTo("ec2")].filter((c) => c.account === undefined)).toEqual([]);
    expect(
      sb
        .account(A)
        .rds.snapshots()
        .map((s) => s.id),
    ).toContain(name);
    expect(
      sb
        .account(B)
        .rds.snapshots()
        .map((s) => s.id),
    ).toContain(name);
    expect(keys("claims/")).toEqual([`claims/backup/${A}/${PRIMARY}/${vol}.json`, `claims/backup/${B}/${PRIMARY}/${vol}.json`]);
    expect(sb.iam!.denials).toEqual([]);

    // The response the Map reads: counts (FleetCountsSchema) and the report's key; the report names the target.
    for (const [out, account] of [
      [a, A],
      [b, B],
    ] as const) {
      expect(out).toEqual({
        account,
        accountName: NAMES[account],
        region: PRIMARY,
        counts: { created: 2 },
        reportKey: expect.stringMatching(/^reports\/backup\//),
      });
      expect(FleetCountsSchema.parse(out.counts)).toEqual({ created: 2 });
      expect(report(out.reportKey)).toMatchObject({ function: "backup", account, accountName: NAMES[account], region: PRIMARY, fleetCounts: { created: 2 } });
    }
    // No Slack summary of its own, no failed-run alert state.
    expect([...posted, ...paged]).toEqual([]);
    expect(keys("state/")).toEqual([]);
  });

  it("an item of a DR region is an empty run whose report says why, with no AWS call", async () => {
    const out = await invoke("backup", A, DR);
    expect(out).toEqual({ account: A, accountName: "payments", region: DR, counts: { created: 0 }, reportKey: expect.any(String) });
    expect(report(out.reportKey).skipped).toBe(`backups are made in the primary region ${PRIMARY}; ${DR} gets the copy job's copies`);
    expect([...sb.callsTo("sts"), ...sb.callsTo("rds"), ...sb.callsTo("ec2")]).toEqual([]);
  });

  it("an account whose member role is missing fails, naming the account and the role, while the other account's item succeeds", async () => {
    const [missing, ok] = await Promise.allSettled([invoke("backup", UNDEPLOYED, PRIMARY), invoke("backup", A, PRIMARY)]);
    expect(missing.status).toBe("rejected");
    const err = (missing as PromiseRejectedResult).reason as Error;
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toBe(
      `account ${UNDEPLOYED} (ledger): AssumeRole on arn:aws:iam::${UNDEPLOYED}:role/ops-autopilot-prod-member-backup for the backup function was refused (AccessDenied): ` +
        "the role is missing, or its trust policy refuses us (external id, principal), or our own role may not assume it; STS does not say which",
    );
    expect(ok).toMatchObject({ status: "fulfilled", value: { account: A, counts: { created: 2 } } });
    // The failure report names the account; the item opens no failed-run alert and posts nothing (the fleet summary does).
    const failed = keys("reports/backup/")
      .map((k) => report(k))
      .find((r) => r.status === "failed");
    expect(failed).toMatchObject({ account: UNDEPLOYED, accountName: "ledger", region: PRIMARY, error: { name: "AccessDenied" } });
    expect([...posted, ...paged]).toEqual([]);
    expect(keys("state/alerts/")).toEqual([]);
  });
});

describe("a fleet item with failed items", () => {
  it("throws AggregateRunError (the Map's Catch names the item), saves its report and posts nothing", async () => {
    sb.account(B).rds.setStatus(PRIMARY, "app-db", "modifying");
    const err = (await invoke("backup", B, PRIMARY).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe("AggregateRunError");
    expect(err.message).toMatch(/^backup: 1 item\(s\) failed: app-db \(eu-west-1\): retryable: /);
    const saved = keys("reports/backup/").map((k) => report(k));
    expect(saved).toMatchObject([{ account: B, accountName: "search", region: PRIMARY, fleetCounts: { created: 1 } }]);
    expect([...posted, ...paged]).toEqual([]);
    expect(keys("state/alerts/")).toEqual([]);
  });
});

describe("fleet copy items", () => {
  it("copy inside each member account from the primary region to the item's DR region with the member's key alias", async () => {
    await invoke("backup", A, PRIMARY);
    await invoke("backup", B, PRIMARY);
    clock.advance(HOUR);
    expect(new Set([...sb.account(A).snapshots(), ...sb.account(B).snapshots()].map((s) => s.status))).toEqual(new Set(["available", "completed"]));
    const a = await invoke("copy", A, DR);
    const b = await invoke("copy", B, DR);
    const primaryItem = await invoke("copy", A, PRIMARY);
    const copies = [...sb.callsTo("rds", "CopyDBSnapshot"), ...sb.callsTo("ec2", "CopySnapshot")].map((c) => {
      const i = c.input as Record<string, unknown>;
      return [c.command, c.account, c.region, i.SourceDBSnapshotIdentifier ?? i.SourceSnapshotId, i.KmsKeyId, c.error?.name];
    });
    const name = snapName("app-db");
    expect(copies.map((c) => [c[0], c[1], c[2], c[4], c[5]])).toEqual([
      ["CopyDBSnapshot", A, DR, "alias/ops-autopilot-dr", undefined],
      ["CopyDBSnapshot", B, DR, "alias/ops-autopilot-dr", undefined],
      ["CopySnapshot", A, DR, "alias/ops-autopilot-dr", undefined],
      ["CopySnapshot", B, DR, "alias/ops-autopilot-dr", undefined],
    ]);
    expect(copies.filter((c) => c[0] === "CopyDBSnapshot").map((c) => c[3])).toEqual([
      `arn:aws:rds:${PRIMARY}:${A}:snapshot:${name}`,
      `arn:aws:rds:${PRIMARY}:${B}:snapshot:${name}`,
    ]);
    expect(a).toMatchObject({ account: A, region: DR, counts: { copied: 2 } });
    expect(b).toMatchObject({ account: B, region: DR, counts: { copied: 2 } });
    expect(primaryItem).toMatchObject({ account: A, region: PRIMARY, counts: { copied: 0 } });
    expect(keys("claims/copy/")).toEqual([
      `claims/copy/${A}/${DR}/${snapName("vol-0a1b2c3d4e5f67890")}.json`,
      `claims/copy/${B}/${DR}/${snapName("vol-0a1b2c3d4e5f67890")}.json`,
    ]);
    expect(sb.iam!.denials).toEqual([]);
    expect(posted).toEqual([]);
  });
});

describe("fleet prune items", () => {
  it("prune the item's region in each member account, the day's delete cap counted per account (state/prune/<account>/<day>.json)", async () => {
    // Seven nights of backups (02:00) and DR copies (03:00) in both accounts: 7 RDS and 7 EBS snapshots each in the
    // primary region, 5 of each beyond the daily tier's 2, every one with its DR copy (prune keeps one without).
    for (let d = 0; d < 7; d++) {
      if (d > 0) clock.advance(22 * HOUR);
      await invoke("backup", A, PRIMARY);
      await invoke("backup", B, PRIMARY);
      clock.advance(HOUR);
      await invoke("copy", A, DR);
      await invoke("copy", B, DR);
      clock.advance(HOUR);
    }
    clock.advance(HOUR); // 2026-03-08 05:00
    const firstA = await invoke("prune", A, PRIMARY);
    const againA = await invoke("prune", A, PRIMARY);
    const firstB = await invoke("prune", B, PRIMARY);
    const deletes = [...sb.callsTo("rds", "DeleteDBSnapshot"), ...sb.callsTo("ec2", "DeleteSnapshot")];
    expect(deletes.filter((c) => c.error)).toEqual([]);
    expect(deletes.map((c) => `${c.account} ${c.region}`).sort()).toEqual([...Array(3).fill(`${A} ${PRIMARY}`), ...Array(3).fill(`${B} ${PRIMARY}`)]);
    expect([firstA.counts, againA.counts, firstB.counts]).toEqual([{ pruned: 3 }, { pruned: 0 }, { pruned: 3 }]);
    expect(keys("state/prune/")).toEqual([`state/prune/${A}/2026-03-08.json`, `state/prune/${B}/2026-03-08.json`]);
    // A's DR item lists and prunes its DR region only, under the same account-wide cap of the day (used up by its primary).
    const listedBefore = sb.callsTo("rds", "DescribeDBSnapshots").length;
    const drA = await invoke("prune", A, DR);
    expect(
      sb
        .callsTo("rds", "DescribeDBSnapshots")
        .slice(listedBefore)
        .map((c) => [c.account, c.region]),
    ).toEqual([[A, DR]]);
    expect(drA.counts).toEqual({ pruned: 0 });
    expect((report(drA.reportKey).plans as { region: string }[]).map((p) => p.region)).toEqual([DR, DR]);
    // The retry finds the account's 3 of the day spent: the 7 deletes left wait for tomorrow.
    expect(report(againA.reportKey)).toMatchObject({
      account: A,
      region: PRIMARY,
      capped: [
        { resourceId: "app-db", region: PRIMARY, deferred: 3, reason: "cap: at most 3 deletes per day (3 already today)" },
        { resourceId: "vol-0a1b2c3d4e5f67890", region: PRIMARY, deferred: 4, reason: "cap: at most 3 deletes per day (3 already today)" },
      ],
    });
    // Observe is off here; each account would keep its own marker (state/observe/<account>.json), never the stage's.
    expect(keys("state/observe")).toEqual([]);
    expect(sb.iam!.denials).toEqual([]);
    expect(posted).toEqual([]);
  });
});

describe("AMI listings: only prune's, only where it deletes", () => {
  /** The RDS, then the EC2 commands sent after `mark` (each service's count of calls then), in order: `service:Command account region`. */
  const mark = () => ({ rds: sb.callsTo("rds").length, ec2: sb.callsTo("ec2").length });
  const commands = (from = { rds: 0, ec2: 0 }) =>
    [...sb.callsTo("rds").slice(from.rds), ...sb.callsTo("ec2").slice(from.ec2)].map((c) => `${c.service}:${c.command} ${c.account} ${c.region}`);

  it("a backup and a copy item send exactly their listings and changes, no DescribeImages", async () => {
    await invoke("backup", A, PRIMARY);
    expect(commands()).toEqual([
      `rds:DescribeDBInstances ${A} ${PRIMARY}`,
      `rds:DescribeDBClusters ${A} ${PRIMARY}`,
      `rds:DescribeDBSnapshots ${A} ${PRIMARY}`,
      `rds:DescribeDBClusterSnapshots ${A} ${PRIMARY}`,
      `rds:CreateDBSnapshot ${A} ${PRIMARY}`,
      `ec2:DescribeVolumes ${A} ${PRIMARY}`,
      `ec2:DescribeSnapshots ${A} ${PRIMARY}`,
      `ec2:CreateSnapshot ${A} ${PRIMARY}`,
    ]);
    clock.advance(HOUR);
    const before = mark();
    await invoke("copy", A, DR);
    expect(commands(before)).toEqual([
      `rds:DescribeDBSnapshots ${A} ${PRIMARY}`,
      `rds:DescribeDBClusterSnapshots ${A} ${PRIMARY}`,
      `rds:DescribeDBSnapshots ${A} ${DR}`,
      `rds:DescribeDBClusterSnapshots ${A} ${DR}`,
      `rds:CopyDBSnapshot ${A} ${DR}`,
      `ec2:DescribeSnapshots ${A} ${PRIMARY}`,
      `ec2:DescribeSnapshots ${A} ${DR}`,
      `ec2:CopySnapshot ${A} ${DR}`,
    ]);
    expect(sb.iam!.denials).toEqual([]);
  });

  it("prune lists the AMIs of the region it deletes in alone, and keeps the snapshot an AMI uses", async () => {
    for (let d = 0; d < 7; d++) {
      if (d > 0) clock.advance(22 * HOUR);
      await invoke("backup", A, PRIMARY);
      clock.advance(HOUR);
      await invoke("copy", A, DR);
      clock.advance(HOUR);
    }
    clock.advance(HOUR);
    const volume = "vol-0a1b2c3d4e5f67890";
    const oldest = sb
      .account(A)
      .ec2.snapshots(PRIMARY, { volumeId: volume })
      .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime())[0]!;
    sb.account(A).ec2.addImage(PRIMARY, { id: "ami-0123456789abcdef0", snapshotIds: [oldest.id] });
    const before = sb.callsTo("ec2", "DescribeImages").length;
    const out = await invoke("prune", A, PRIMARY);
    expect(
      sb
        .callsTo("ec2", "DescribeImages")
        .slice(before)
        .map((c) => `ec2:DescribeImages ${c.account} ${c.region}`),
    ).toEqual([`ec2:DescribeImages ${A} ${PRIMARY}`]);
    const deleted = sb.callsTo("ec2", "DeleteSnapshot").map((c) => (c.input as { SnapshotId: string }).SnapshotId);
    expect(deleted.length + sb.callsTo("rds", "DeleteDBSnapshot").length).toBe(3);
    expect(deleted).not.toContain(oldest.id);
    const plans = report(out.reportKey).plans as { resource: string; keep: { id: string; reason: string }[] }[];
    expect(plans.find((p) => p.resource === volume)!.keep).toContainEqual(expect.objectContaining({ id: oldest.id, reason: "used by an AMI: never pruned" }));
    expect(sb.iam!.denials).toEqual([]);
  });
});

describe("fleet prune items of one account at once", () => {
  it("share the account's cap of the day: its primary item twice (a retry) and its DR item, started together, delete 3 in all", async () => {
    for (let d = 0; d < 7; d++) {
      if (d > 0) clock.advance(22 * HOUR);
      await invoke("backup", A, PRIMARY);
      clock.advance(HOUR);
      await invoke("copy", A, DR);
      clock.advance(HOUR);
    }
    clock.advance(HOUR);
    // The ledger's conditional writes (state/prune/<account>/<day>.json) serialize the reservations.
    const outs = await Promise.all([invoke("prune", A, PRIMARY), invoke("prune", A, DR), invoke("prune", A, PRIMARY)]);
    const deletes = [...sb.callsTo("rds", "DeleteDBSnapshot"), ...sb.callsTo("ec2", "DeleteSnapshot")];
    expect(deletes.map((c) => `${c.account} ${c.region} ${c.error ? "failed" : "ok"}`)).toEqual(Array(3).fill(`${A} ${PRIMARY} ok`));
    expect(outs.map((o) => (o.counts as { pruned: number }).pruned).sort()).toEqual([0, 0, 3]);
    expect(keys("state/prune/")).toEqual([`state/prune/${A}/2026-03-08.json`]);
  });
});

describe("fleet prune items under observe mode", () => {
  it("each account's first prune records its own window's start (state/observe/<account>.json), not the stage's", async () => {
    const observing = parseConfig({ ...JSON.parse(JSON.stringify(config)), observe: { days: 14 } });
    const run = (account: string) =>
      createHandler(backupJobSpec("prune", { stateBucket: STATE }), { ...runtime(), config: () => observing })(
        item("prune", account, PRIMARY),
        lambdaContext(`req-${++requests}`),
      ) as Promise<Record<string, unknown>>;
    await run(A);
    clock.advance(24 * HOUR);
    await run(B);
    expect(keys("state/observe")).toEqual([`state/observe/${A}.json`, `state/observe/${B}.json`]);
    expect(JSON.parse(sb.s3.text(BUCKET, `state/observe/${B}.json`)!)).toMatchObject({ startedAt: "2026-03-03T02:00:00.000Z", by: "prune" });
  });
});

describe("fleet watchdog items", () => {
  it("check the item's region of each member account: one alert state per account × region, messages naming the account", async () => {
    await invoke("backup", A, PRIMARY);
    await invoke("backup", B, PRIMARY);
    clock.advance(2 * HOUR);
    const fresh = await invoke("watchdog", A, PRIMARY);
    expect(fresh).toEqual({
      account: A,
      accountName: "payments",
      region: PRIMARY,
      counts: { stale: 0 },
      reportKey: expect.stringMatching(/^reports\/watchdog\//),
    });
    // No copy ever reached the DR region: both accounts' DR items find 2 resources missing there.
    const staleA = await invoke("watchdog", A, DR);
    const staleB = await invoke("watchdog", B, DR);
    expect([staleA.counts, staleB.counts]).toEqual([{ stale: 2 }, { stale: 2 }]);
    expect(sb.callsTo("rds", "DescribeDBSnapshots").map((c) => [c.account, c.region])).toEqual([
      [A, PRIMARY],
      [B, PRIMARY],
      [A, PRIMARY],
      [A, DR],
      [B, DR],
    ]);
    expect(keys("state/alerts/")).toEqual([`state/alerts/watchdog/${A}/${DR}.json`, `state/alerts/watchdog/${B}/${DR}.json`]);
    expect(posted.map((m) => m.text.split("\n")[0])).toEqual([
      `🚨 CRITICAL: no fresh backup for 2 resources of policy db in ${DR} of account payments (${A}) since 2026-03-02 04:00 UTC (ops-autopilot prod)`,
      `🚨 CRITICAL: no fresh backup for 2 resources of policy db in ${DR} of account search (${B}) since 2026-03-02 04:00 UTC (ops-autopilot prod)`,
    ]);
    expect(paged.map((m) => m.text.split("\n")[0])).toEqual(posted.map((m) => m.text.split("\n")[0]));
    expect(sb.iam!.denials).toEqual([]);
  });
});

describe("state keys: the account in them with a target, as today without", () => {
  it("claims, prune's day ledger, the observe marker and the watchdog's alert state", () => {
    expect([claimKey("backup", PRIMARY, "n"), claimKey("backup", PRIMARY, "n", A)]).toEqual([
      `claims/backup/${PRIMARY}/n.json`,
      `claims/backup/${A}/${PRIMARY}/n.json`,
    ]);
    expect([pruneLedgerKey("2026-03-08"), pruneLedgerKey("2026-03-08", A)]).toEqual(["state/prune/2026-03-08.json", `state/prune/${A}/2026-03-08.json`]);
    expect([pruneObserveKey(), pruneObserveKey(A)]).toEqual(["state/observe.json", `state/observe/${A}.json`]);
    expect([alertStateKey("watchdog"), memberAlertStateKey("watchdog", A, DR)]).toEqual([
      "state/alerts/watchdog.json",
      `state/alerts/watchdog/${A}/${DR}.json`,
    ]);
  });
});
