import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand, type ResultByTime } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isReadOnly, resetClients, setReadOnly } from "../../../adapters/clients.ts";
import { listRegionSnapshots } from "../../../adapters/inventory.ts";
import { deleteRdsSnapshot } from "../../../adapters/rds.ts";
import { isAllowedRead, type ReadOnlyService } from "../../../adapters/read-only.ts";
import { TAG } from "../../../core/types.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { createHandler } from "../../../runbooks/lib/handler.ts";
import { type CallRecord, createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { parseBackupEvent, parseCopyEvent } from "../../../schemas/events-backup.ts";
import { runPlanCli, USAGE } from "../../../scripts/plan.ts";
import { loadConfig } from "../../../stacks/config.ts";

/**
 * `npm run plan` on the sandbox: a stage with two weeks of backups and copies, one failover group and a cost
 * block. The sandbox mocks the client classes (the read-only middleware does not run there, see
 * read-only-endpoint.test.ts for that), so a spy over every command sent fails any mutating one.
 */

const REPO = path.resolve(new URL("../../..", import.meta.url).pathname);
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const STAGE = "plantest";
const REPORTS = "ops-autopilot-plantest-reports";
const FAILOVER_STATE = "ops-autopilot-plantest-failover";

const STAGE_CONFIG = {
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
  timezone: "UTC",
  backup: {
    policies: [
      {
        name: "db",
        selection: { tag: { key: "ops-autopilot:backup", value: "db" } },
        tiers: { daily: { keep: { days: 3 } } },
        keepNewest: 1,
        maxDeletesPerRun: 100,
        maxDeletePercent: 100,
      },
    ],
  },
  failover: {
    groups: [
      {
        name: "app-db",
        alarms: ["app-db-primary-down"],
        primary: { kind: "rds-instance", id: "app-db", region: PRIMARY },
        replica: { kind: "rds-instance", id: "app-db-dr", region: DR },
        maxReplicaLagSeconds: 60,
        execution: "plan-only",
        dns: {
          hostedZoneId: "Z0123456789ABC",
          recordName: "db.example.com",
          recordType: "CNAME",
          ttl: 60,
          primary: { values: ["app-db.abc.eu-west-1.rds.amazonaws.com"] },
          dr: { values: ["app-db-dr.abc.eu-central-1.rds.amazonaws.com"] },
        },
        healthUrl: "https://dr.example.com/health",
      },
    ],
  },
  cost: { dailyThreshold: 100 },
};

/** The 14-day window before the plan's day (2026-11-07), as Cost Explorer would answer it. */
const COST_DAYS = Array.from({ length: 14 }, (_, i) => new Date(Date.UTC(2026, 9, 24 + i)).toISOString().slice(0, 10));

let sb: Sandbox;
let clock: FakeClock;
let root: string;
const ce = mockClient(CostExplorerClient);

/** Every mutating command that reached the fake AWS during the plan (the injected spy fails each one). */
let mutating: string[];
let planStartedAt: number;

function day(d: number, hour = 2): Date {
  return new Date(Date.UTC(2026, 10, d, hour));
}

function costDay(date: string, amount: string): ResultByTime {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return {
    TimePeriod: { Start: date, End: next },
    Total: {},
    Estimated: false,
    Groups: [{ Keys: ["Amazon Relational Database Service"], Metrics: { UnblendedCost: { Amount: amount, Unit: "USD" } } }],
  };
}

beforeEach(async () => {
  setReadOnly(false);
  root = mkdtempSync(path.join(tmpdir(), "plan-"));
  copyFileSync(path.join(REPO, "sst.config.ts"), path.join(root, "sst.config.ts"));
  mkdirSync(path.join(root, "config"));
  writeFileSync(path.join(root, "config", `${STAGE}.json`), JSON.stringify(STAGE_CONFIG));
  clock = new FakeClock(day(1).toISOString());
  sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [REPORTS, FAILOVER_STATE] });
  resetClients();
  ce.reset();
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
  sb.rds.addInstance(DR, { id: "app-db-dr", replicaSourceArn: `arn:aws:rds:${PRIMARY}:${sb.accountId}:db:app-db` });
  sb.ec2.addVolume(PRIMARY, { id: "vol-0a1b2c3d", status: "in-use", tags: { "ops-autopilot:backup": "db" } });

  // Six nights of backups and copies, as the deployed functions would have made them.
  const config = loadConfig("ops-autopilot", STAGE, root, {});
  const stateBucket = { bucket: REPORTS, region: PRIMARY };
  const runtime = quietRuntime(config, clock);
  const backup = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime);
  const copy = createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, runtime);
  for (let d = 1; d <= 6; d++) {
    clock.set(day(d));
    await backup({ trigger: "schedule" }, lambdaContext(`backup-${d}`));
    clock.set(day(d, 3));
    await copy({ trigger: "schedule" }, lambdaContext(`copy-${d}`));
  }
  clock.set(day(7, 1));
  sb.cloudwatch.setMetric(DR, "ReplicaLag", "app-db-dr", 4, new Date(clock.nowMs() - 60_000));

  // The spy: any command off the read allow-list fails, and is recorded.
  mutating = [];
  for (const service of ["rds", "ec2", "s3", "route53", "cloudwatch"] as const) {
    sb.inject({
      service,
      times: Infinity,
      match: (_input, ctx) => !isAllowedRead(service as ReadOnlyService, ctx.command),
      error: (ctx) => {
        mutating.push(`${ctx.service}:${ctx.command}`);
        return new Error(`plan sent mutating ${ctx.service}:${ctx.command}`);
      },
    });
  }
  ce.onAnyCommand().callsFake((input: unknown) => {
    mutating.push(`ce:${JSON.stringify(input)}`);
    throw new Error("plan sent an unexpected Cost Explorer command");
  });
  ce.on(GetCostAndUsageCommand).resolves({ $metadata: { attempts: 1 }, ResultsByTime: COST_DAYS.map((d) => costDay(d, d === "2026-11-06" ? "180" : "40")) });
  ce.on(GetCostForecastCommand).resolves({ $metadata: { attempts: 1 }, Total: { Amount: "1500", Unit: "USD" } });
  planStartedAt = sb.calls.length;
});

afterEach(() => {
  sb.restore();
  ce.reset();
  setReadOnly(false);
  resetClients();
  rmSync(root, { recursive: true, force: true });
});

async function plan(...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runPlanCli(["--stage", STAGE, "--state-bucket", REPORTS, "--failover-bucket", `${FAILOVER_STATE}@${DR}`, ...extra], {
    root,
    env: {},
    now: () => clock.now(),
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

const planCalls = (): CallRecord[] => sb.calls.slice(planStartedAt);

/** Our snapshot's name (RDS: its id; EBS: its Name tag) by id, in `region`. */
function namesIn(region: string): Map<string, string> {
  return new Map(sb.snapshots(region).map((x) => [x.id, x.tags[TAG.name] ?? x.id]));
}

const json = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(root, "out", "plan", STAGE, file), "utf8")) as Record<string, unknown>;
type Plan = { region: string; resource: string; delete: { id: string; reason: string }[]; keep: { id: string; reason: string }[] };

describe("npm run plan on the sandbox", () => {
  it("plans every function with reads only: backups due, copies done, the prune plan with a reason per snapshot, watchdog ages, failover pre-checks, the cost digest", async () => {
    const before = {
      snapshots: [PRIMARY, DR].map((r) =>
        sb
          .snapshots(r)
          .map((x) => `${x.id}:${x.status}`)
          .sort(),
      ),
      objects: sb.s3
        .objects(REPORTS)
        .map((o) => o.key)
        .sort(),
    };
    const r = await plan();

    expect(r.code).toBe(0);
    expect(mutating).toEqual([]);
    // Every command that reached the account, in the order first sent: reads of the allow-list only.
    expect([...new Set(planCalls().map((c) => `${c.service}:${c.command}`))]).toEqual([
      "rds:DescribeDBInstances",
      "rds:DescribeDBClusters",
      "rds:DescribeDBSnapshots",
      "rds:DescribeDBClusterSnapshots",
      "ec2:DescribeVolumes",
      "ec2:DescribeSnapshots",
      "s3:GetObject",
      // The AMIs: prune's alone, where it deletes (backup's and copy's listings have none).
      "ec2:DescribeImages",
      "cloudwatch:GetMetricData",
    ]);
    for (const c of planCalls()) expect(isAllowedRead(c.service as ReadOnlyService, c.command), `${c.service}:${c.command}`).toBe(true);
    expect(ce.calls().map((c) => c.args[0].constructor.name)).toEqual(["GetCostAndUsageCommand", "GetCostForecastCommand"]);
    // Prune's observe-mode start and the day's ledger were read (the caps count earlier deletes), the watchdog's alert
    // state (its open incidents) and the latch; nothing was written anywhere.
    expect(
      planCalls()
        .filter((c) => c.command === "GetObject")
        .map((c) => (c.input as { Key: string }).Key),
    ).toEqual(["state/observe.json", "state/prune/2026-11-07.json", "state/alerts/watchdog.json", "failover/app-db/latch.json"]);
    expect({
      snapshots: [PRIMARY, DR].map((rg) =>
        sb
          .snapshots(rg)
          .map((x) => `${x.id}:${x.status}`)
          .sort(),
      ),
      objects: sb.s3
        .objects(REPORTS)
        .map((o) => o.key)
        .sort(),
    }).toEqual(before);

    // Backups due tonight: one per selected resource.
    const backup = json("backup.json") as { dryRun: boolean; decisions: { action: string; resource: string; name: string; reason: string }[] };
    expect(backup.dryRun).toBe(true);
    expect(backup.decisions.map((d) => `${d.action} ${d.resource} ${d.name}: ${d.reason}`)).toEqual([
      "create app-db oa-ops-autopilot-plantest-app-db-20261107: no backup for 2026-11-07 yet; tiers daily",
      "create vol-0a1b2c3d oa-ops-autopilot-plantest-vol-0a1b2c3d-20261107: no backup for 2026-11-07 yet; tiers daily",
    ]);
    // Copies: every night's snapshot is in the DR region already.
    const copy = json("copy.json") as { decisions: { action: string }[] };
    expect(copy.decisions.map((d) => d.action)).toEqual(Array(12).fill("exists"));

    // Prune: nights 1-4 expired (kept 3 days), 5-6 kept, in both regions, each with its reason.
    const prune = json("prune.json") as { plans: Plan[] };
    const readable = prune.plans.map((p) => {
      const names = namesIn(p.region);
      return {
        at: `${p.resource} ${p.region}`,
        delete: p.delete.map((d) => `${names.get(d.id)}: ${d.reason}`),
        keep: p.keep.map((d) => `${names.get(d.id)}: ${d.reason}`),
      };
    });
    const expired = (res: string) => [1, 2, 3, 4].map((d) => `oa-ops-autopilot-plantest-${res}-2026110${d}: expired: daily ${7 - d} days old ≥ 3 days`);
    const kept = (res: string) => [
      `oa-ops-autopilot-plantest-${res}-20261106: daily: 1 day old, keep 3 days`,
      `oa-ops-autopilot-plantest-${res}-20261105: daily: 2 days old, keep 3 days`,
    ];
    expect(readable).toEqual([
      { at: `app-db ${PRIMARY}`, delete: expired("app-db"), keep: kept("app-db") },
      { at: `vol-0a1b2c3d ${PRIMARY}`, delete: expired("vol-0a1b2c3d"), keep: kept("vol-0a1b2c3d") },
      { at: `app-db ${DR}`, delete: expired("app-db"), keep: kept("app-db") },
      { at: `vol-0a1b2c3d ${DR}`, delete: expired("vol-0a1b2c3d"), keep: kept("vol-0a1b2c3d") },
    ]);

    // Watchdog: the newest backup of each resource and region is 23 h old; the metrics go to a file, not CloudWatch.
    const watchdog = json("watchdog.json") as { findings: { resourceId: string; region: string; status: string; ageHours: number }[] };
    expect(watchdog.findings.map((f) => `${f.resourceId} ${f.region} ${f.status} ${f.ageHours}`)).toEqual([
      `app-db ${PRIMARY} ok 23`,
      `app-db ${DR} ok 23`,
      `vol-0a1b2c3d ${PRIMARY} ok 23`,
      `vol-0a1b2c3d ${DR} ok 23`,
    ]);
    const metrics = JSON.parse(readFileSync(path.join(root, "out", "plan", STAGE, "watchdog.metrics.json"), "utf8")) as { name: string; value: number }[];
    expect(metrics.slice(0, 2)).toEqual([
      { name: "WatchdogHeartbeat", unit: "Count", value: 1 },
      { name: "StaleBackups", unit: "Count", value: 0 },
    ]);

    // Failover: the pre-checks on live observations, for the one group.
    const failover = json("failover.json") as { groups: { group: string; checks: { name: string; ok: boolean; reason: string }[] }[] };
    expect(failover.groups.map((g) => [g.group, g.checks.map((c) => `${c.name} ${c.ok}: ${c.reason}`)])).toEqual([
      [
        "app-db",
        [
          "primary-down false: primary app-db looks healthy by every second signal (RDS: app-db available (standalone/writer)); the alarm alone is not enough",
          "replica-available true: replica app-db-dr is available and replicating",
          "replica-lag true: replica lag 4 s ≤ RPO 60 s",
        ],
      ],
    ]);

    // Cost: the digest with its alert, as text in the report and as Block Kit in the file.
    const cost = json("cost.json") as { reportDate: string; costExplorerCalls: number; alertText: string; summary: { missingDays: string[] } };
    expect(cost.reportDate).toBe("2026-11-06");
    expect(cost.costExplorerCalls).toBe(2);
    expect(cost.summary.missingDays).toEqual([]);
    expect(cost.alertText.split("\n").slice(0, 2)).toEqual([
      "== :rotating_light: AWS cost alert · 2026-11-06 ==",
      "• Spend on 2026-11-06 was $180.00, over the $100.00 daily threshold.",
    ]);

    expect(readdirSync(path.join(root, "out", "plan", STAGE)).sort()).toEqual([
      "backup.json",
      "backup.slack.json",
      "copy.json",
      "copy.slack.json",
      "cost.json",
      "cost.slack.json",
      "failover.json",
      "failover.slack.json",
      "plan.json",
      "plan.txt",
      "prune.json",
      "prune.slack.json",
      "watchdog.json",
      "watchdog.metrics.json",
    ]);

    // The terminal: the decisions with their reasons, and the Slack messages as readable text.
    expect(r.err).toBe(`planning ops-autopilot ${STAGE} (backup, copy, prune, watchdog, failover, cost), read-only`);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(`ops-autopilot plan — ops-autopilot ${STAGE} at 2026-11-07T01:00:00.000Z (read-only: nothing was changed)`);
    expect(lines).toContain("    delete oa-ops-autopilot-plantest-app-db-20261101 — expired: daily 6 days old ≥ 3 days");
    expect(lines).toContain("    keep   oa-ops-autopilot-plantest-app-db-20261105 — daily: 2 days old, keep 3 days");
    expect(lines).toContain("    == [dry-run] Backup retention — ops-autopilot plantest ==");
    expect(lines).toContain("    *Would delete*: 16");
    expect(lines).toContain("  group app-db (execution plan-only): would start: all blocking pre-checks passed");
    expect(lines).toContain("    == Failover plan: app-db (nothing changed) ==");
    expect(lines).toContain("    == AWS cost digest · 2026-11-06 ==");
    expect(lines).toContain("  metrics it would publish: 6 (out/plan/plantest/watchdog.metrics.json)");
    expect(readFileSync(path.join(root, "out", "plan", STAGE, "plan.txt"), "utf8")).toBe(`${r.out}\n`);
    expect(isReadOnly()).toBe(true);
  });

  it("the spy is live: a mutating command sent to the sandbox fails and is recorded", async () => {
    const [snapshot] = (await listRegionSnapshots(PRIMARY, "ops-autopilot:plantest", ["rds-instance"], { amis: false })).filter(
      (x) => x.kind === "rds-instance",
    );
    await expect(deleteRdsSnapshot(snapshot!)).rejects.toThrow("plan sent mutating rds:DeleteDBSnapshot");
    expect(mutating).toEqual(["rds:DeleteDBSnapshot"]);
  });

  it("--only plans the parts named and writes only their files (an earlier plan's files are removed)", async () => {
    await plan();
    const r = await plan("--only", "prune,failover");
    expect(r.code).toBe(0);
    expect(mutating).toEqual([]);
    expect(readdirSync(path.join(root, "out", "plan", STAGE)).sort()).toEqual([
      "failover.json",
      "failover.slack.json",
      "plan.json",
      "plan.txt",
      "prune.json",
      "prune.slack.json",
    ]);
    expect(r.out.split("\n").filter((l) => l.startsWith("== "))).toEqual(["== prune ==", "== failover =="]);
    expect(ce.calls()).toHaveLength(2); // the first, full plan's only
  });

  it("without the state buckets it still plans, and says what it could not read", async () => {
    let out = "";
    const code = await runPlanCli(["--stage", STAGE, "--only", "prune,failover"], {
      root,
      env: {},
      now: () => clock.now(),
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    expect(code).toBe(0);
    expect(mutating).toEqual([]);
    expect(planCalls().filter((c) => c.service === "s3")).toEqual([]);
    expect(out.split("\n").filter((l) => l.startsWith("note: "))).toEqual([
      "note: prune: the observe-mode start not read (no --state-bucket): taken as not recorded yet",
      "note: prune: today's ledger not read (no --state-bucket): the caps count no earlier deletes today",
      "note: failover: latches not read (no --failover-bucket): each group's latch is taken as free",
    ]);
  });

  it("a refused read (AccessDenied) fails that part only, names it, and exits 1", async () => {
    sb.inject({ service: "cloudwatch", command: "GetMetricData", error: "accessDenied", times: Infinity });
    const r = await plan("--only", "watchdog,failover");
    expect(mutating).toEqual([]);
    // The lag read failing is an observation of the failover plan (the check says so), not a crash of it.
    const failover = json("failover.json") as { groups: { checks: { name: string; ok: boolean }[] }[] };
    expect(failover.groups[0]!.checks.find((c) => c.name === "replica-lag")!.ok).toBe(false);
    expect(r.code).toBe(0);
    sb.inject({ service: "rds", command: "DescribeDBInstances", error: "accessDenied", times: Infinity });
    const again = await plan("--only", "backup");
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/^== backup ==\n {2}NOT PLANNED: AccessDenied/m);
  });

  it("usage errors exit 2 with the usage text", async () => {
    let err = "";
    const code = await runPlanCli(["--only", "prune"], {
      root,
      env: {},
      out: () => {},
      err: (t) => {
        err += t;
      },
    });
    expect(code).toBe(2);
    expect(err.split("\n")[0]).toBe("--stage is required");
    err = "";
    expect(
      await runPlanCli(["--stage", STAGE, "--only", "prune,warm"], {
        root,
        env: {},
        out: () => {},
        err: (t) => {
          err += t;
        },
      }),
    ).toBe(2);
    expect(err).toBe("--only: unknown part(s) warm; known: backup, copy, prune, watchdog, failover, cost");
    let out = "";
    expect(
      await runPlanCli(["--help"], {
        root,
        env: {},
        out: (t) => {
          out += t;
        },
        err: () => {},
      }),
    ).toBe(0);
    expect(out).toBe(USAGE);
    expect(out.split("\n")[0]).toBe("usage: npm run plan -- --stage <stage> [--profile <profile>] [--only backup,copy,prune,watchdog,failover,cost]");
  });
});
