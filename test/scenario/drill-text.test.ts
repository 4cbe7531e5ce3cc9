import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * What `npm run drill` prints for people: long reasons wrapped (never cut), throttled attempts apart from the changes
 * made, every RTO/RPO next to its target with met or missed, Slack links without their raw `<url|label>` form,
 * and `--help` listing the sections.
 */

const root = join(import.meta.dirname, "..", "..");
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ["scripts/drill.ts", ...args], { cwd: root, env: { ...process.env, POWERTOOLS_LOG_LEVEL: "SILENT" } });

describe("npm run drill -- failover cost", () => {
  let stdout: string;
  let failover: string[];
  beforeAll(async () => {
    stdout = (await run(["failover", "cost"])).stdout;
    failover = stdout.slice(stdout.indexOf("2. Failover"), stdout.indexOf("3. Cost")).split("\n");
  }, 60_000);

  it("wraps the failover reasons at 100 columns with a hanging indent instead of cutting them", () => {
    for (const line of stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
    const at = failover.findIndex((l) => l.startsWith("pre-checks "));
    const column = failover[at]!.indexOf("✓");
    expect(failover.slice(at, at + 7).map((l) => l.slice(column))).toEqual([
      "✓ primary-down: primary orders-primary is",
      "  down by a second signal (RDS: describe",
      "  orders-primary in eu-west-1 failed:",
      "  TimeoutError: connect ETIMEDOUT)",
      "✓ replica-available: replica orders-dr is",
      "  available and replicating",
      "✓ replica-lag: replica lag 3 s ≤ RPO 60 s",
    ]);
    expect(failover.slice(at, at + 7).every((l) => l.slice(0, column).trim() === "" || l.startsWith("pre-checks "))).toBe(true);
  });

  it("lists Route 53's throttled attempts apart from the changes made", () => {
    expect(failover).toContainEqual(expect.stringMatching(/^Changes made: PromoteReadReplica at 10:04:20, ChangeResourceRecordSets at 10:09:2\d$/));
    expect(failover).toContainEqual(
      expect.stringMatching(/^Throttled attempts \(no change made; retried\): ChangeResourceRecordSets at 10:09:2\d \(Throttling\),$/),
    );
    expect(failover).toContainEqual(expect.stringMatching(/^ {2}ChangeResourceRecordSets at 10:09:2\d \(Throttling\)$/));
    expect(failover.filter((l) => l.startsWith("Changes made:")).join()).not.toContain("Throttling");
  });

  it("counts the failover's pages apart from its Slack messages: the start pages once, the 8 messages go to the alerts channel", () => {
    expect(failover).toContain("Pages: 1; Slack messages: 8; first: == Failover started: orders-db ==");
  });

  it("prints the RTO and RPO next to their targets with met or missed", () => {
    expect(failover).toContain("RTO 361 s (target 900 s: met): alarm → healthy; writable after 320 s, DNS INSYNC after 351 s.");
    expect(failover).toContain("RPO 3 s (target 60 s: met): replica lag at promotion, against the group's maxReplicaLagSeconds.");
  });

  it("wraps the digest's long findings with a hanging indent, every word kept", () => {
    expect(stdout).toContain(
      [
        ":rotating_light: Amazon Elastic Compute Cloud - Compute: $330.00 on 2026-11-20, 3.0× its 7-day",
        "  median of $110.00 (+$220.00; alert above 1.5× and +$20.00).",
      ].join("\n"),
    );
  });

  it("prints the cost digest's links by label, never as raw <url|label>", () => {
    expect(stdout).not.toMatch(/<https?:\/\//);
    expect(stdout).toContain("Cost Explorer: last 14 days by service · Month to date by service");
    expect(stdout).toContain("`▁▁▁▁▁▁▁▁▁▁▁▁▁█` Amazon Elastic Compute Cloud - Compute · $105.00–$330.00");
  });

  it("shows the payer's top accounts by name (Cost Explorer's, else the configured one) and the account over its threshold", () => {
    expect(stdout).toContain(
      [
        "*Top accounts* (3 of 3 with spend on 2026-11-20; change vs 2026-11-19)",
        "• prod (111111111111): $440.00 (+$216.00, +96%)",
        "• data-lake (333333333333): $40.00 (unchanged)",
        "• staging (222222222222): $36.20 (unchanged)",
      ].join("\n"),
    );
    expect(stdout).toContain("• Account prod (111111111111) spent $440.00 on 2026-11-20, over its $400.00 daily threshold");
  });
});

describe("npm run drill -- --help", () => {
  it("lists the sections, one line each, and exits 0 without running anything", async () => {
    const { stdout } = await run(["--help"]);
    expect(stdout).toBe(
      [
        "Usage: npm run drill -- [section ...] [--html] [--help]",
        "",
        "Runs ops-autopilot's runbooks on the in-memory sandbox account (no AWS account needed); with no section, all of them.",
        "",
        "Sections:",
        "  backup    400 simulated days of backups, DR copies, retention and the hourly watchdog, with a 3-day outage",
        "  failover  a region outage failed over (promote, DNS, warm, health), then a lagging replica refused",
        "  cost      a cost morning on which EC2 spend triples: the Slack digest and alert",
        "  restore   restore tests of an RDS instance, an Aurora cluster and an EBS volume, and the janitor",
        "  fleet     3 workload accounts (one without its member roles) and a backup account: fan-out, summary, locked copy",
        "",
        "Options:",
        "  --html    also write out/drill-report.html",
        "  --help    this text",
        "",
      ].join("\n"),
    );
  }, 30_000);

  it.each([
    [["bogus"], "drill: unknown section: bogus (sections: backup, failover, cost, restore, fleet; see --help)"],
    [["--bogus", "cost"], "drill: unknown option: --bogus (options: --html, --help; see --help)"],
  ])(
    "%j is refused with exit code 2",
    async (args, message) => {
      const err = await run(args).then(
        () => undefined,
        (e: { code: number; stderr: string; stdout: string }) => e,
      );
      expect(err).toMatchObject({ code: 2, stderr: `${message}\n`, stdout: "" });
    },
    30_000,
  );
});
