import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * `npm run drill -- restore`: the restore-test runbook on the sandbox (sandbox/scenarios/restore-scenarios.ts) for an
 * RDS instance, an Aurora cluster (its sql check through the RDS Data API) and an EBS volume, plus an RDS instance whose
 * smoke check fails; the figures it
 * prints (proven RTO per resource against its target, the Slack summaries, the janitor) and writes to the report.
 * The sandbox's durations: an instance restore 20 min creating + 2 min backing-up, an Aurora cluster 15 min then its
 * instance 10 min, a volume 2 min; looks every 60 s. IAM is enforced (the restore-test role linked to the Reports bucket).
 */

const root = join(import.meta.dirname, "..", "..");
let stdout: string;
let report: { sections: string[]; restore: Record<string, unknown> & { table: string; janitor: Record<string, unknown>; remaining: string[] } };

beforeAll(async () => {
  const out = await promisify(execFile)(process.execPath, ["scripts/drill.ts", "restore"], {
    cwd: root,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: "SILENT" },
  });
  stdout = out.stdout;
  report = JSON.parse(readFileSync(join(root, "out", "drill-report.json"), "utf8"));
}, 60_000);

const TABLE = [
  "resource               kind            snapshot restored                             restore   smoke   proven RTO / target     verdict       est. cost",
  "orders-db              rds-instance    oa-ops-autopilot-prod-orders-db-20261130      22.0 min  passed  22.0 min / 30 min: met  passed        $0.0088*",
  "billing-db             rds-instance    oa-ops-autopilot-prod-billing-db-20261130     22.0 min  failed  — / 30 min: not proven  smoke-failed  $0.0088*",
  "orders-aurora          aurora-cluster  oa-ops-autopilot-prod-orders-aurora-20261130  25.0 min  passed  25.0 min / 30 min: met  passed        $0.1083*",
  "vol-0a1b2c3d4e5f60718  ebs-volume      snap-2fca1d067ff5a375b                        2.0 min   passed  2.0 min / 15 min: met   passed        $0.0001*",
].join("\n");

describe("drill: restore section", () => {
  it("prints each resource's proven RTO against its target", () => {
    expect(stdout).toContain(`Proven RTO (restore requested → smoke check passed) against each policy's target:\n\n${TABLE}\n`);
    expect(report.sections).toEqual(["restore"]);
    expect(report.restore.table).toBe(TABLE);
  });

  it("one Slack summary per run; the failing smoke check is the one critical alert", () => {
    expect(stdout).toContain(
      [
        "4 Slack summaries (one per run), 1 critical:",
        "  Restore test rt-2026-12-01-orders-db: 1 of 1 proven within target",
        "  CRITICAL: restore test rt-2026-12-01-billing-db: 1 of 1 need attention — billing-db: smoke check",
        "    failed after a 22.0 min restore: orders: 0 is less than 1",
        "  Restore test rt-2026-12-01-orders-aurora: 1 of 1 proven within target",
        "  Restore test rt-2026-12-01-vol-0a1b2c3d4e5f60718: 1 of 1 proven within target",
      ].join("\n"),
    );
  });

  it("the Aurora cluster's sql check runs through the RDS Data API with the source's managed master secret: read-only, in a transaction rolled back", () => {
    expect(stdout).toContain(
      [
        `Aurora sql check "orders" through the RDS Data API (secret rds!cluster-…, the source's RDS-managed`,
        "  master secret): passed, observed 1200; 6 Data API calls:",
        "  BeginTransaction",
        "  ExecuteStatement SET TRANSACTION READ ONLY",
        "  ExecuteStatement SET LOCAL statement_timeout = 30000",
        "  ExecuteStatement SET LOCAL TimeZone = 'UTC'",
        "  ExecuteStatement select count(*) from orders",
        "  RollbackTransaction",
      ].join("\n"),
    );
    expect(report.restore.dataApi).toEqual({
      check: "orders",
      passed: true,
      observed: "1200",
      secret: "rds!cluster-…",
      calls: [
        "BeginTransaction",
        "ExecuteStatement SET TRANSACTION READ ONLY",
        "ExecuteStatement SET LOCAL statement_timeout = 30000",
        "ExecuteStatement SET LOCAL TimeZone = 'UTC'",
        "ExecuteStatement select count(*) from orders",
        "RollbackTransaction",
      ],
    });
  });

  it("the janitor removes the crashed run's leftover and keeps the look-alike; nothing of the tests is left; four trend documents", () => {
    expect(stdout).toContain(
      "Janitor: the leftover of a crashed run (vol-4bb8455929d9c9f14) deleted: yes; the look-alike without\n" +
        "  the restore-test tag (vol-83756d3f2c4022d13) kept: yes.\n" +
        "Restore-test resources left after the runs: 0. Trend documents in the bucket: 4; 324 AWS calls\n" +
        "  (simulated), 0 denied by the restore-test role.",
    );
    expect(report.restore.janitor).toEqual({
      leftover: "vol-4bb8455929d9c9f14",
      deleted: ["vol-4bb8455929d9c9f14"],
      lookAlike: "vol-83756d3f2c4022d13",
      lookAlikeSurvived: true,
    });
    expect(report.restore.remaining).toEqual([]);
    expect(report.restore.iamDenials).toEqual([]);
    expect(Object.keys(report.restore.trend as object)).toEqual([
      "restore-test/trend/rds-instance/orders-db.json",
      "restore-test/trend/rds-instance/billing-db.json",
      "restore-test/trend/aurora-cluster/orders-aurora.json",
      "restore-test/trend/ebs-volume/vol-0a1b2c3d4e5f60718.json",
    ]);
  });
});
