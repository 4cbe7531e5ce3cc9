import { beforeAll, describe, expect, it } from "vitest";
import { runBackupYear, WATCHDOG_HOURLY, type BackupYearResult } from "../../sandbox/scenarios/backup-scenarios.ts";

/**
 * What each destination receives with the default `notifications` (core/notify-routing.ts), through the real handler
 * chain on the sandbox: the scenario of test/scenario/watchdog-outage.test.ts (backup, two copies, prune nightly, the
 * watchdog hourly; every snapshot creation fails on 04-19, 04-20 and 04-21). A quiet night is 04-18: everything works.
 */

let year: BackupYearResult;

beforeAll(async () => {
  year = await runBackupYear({ days: 7, start: "2026-04-17", outage: { fromDay: 2, days: 3 }, watchdogHours: WATCHDOG_HOURLY });
}, 60_000);

/** Messages per destination on one day: Slack channels and the pager topic. */
function perDestination(day: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of year.messages.filter((m) => m.at.startsWith(day))) out[m.destination ?? "?"] = (out[m.destination ?? "?"] ?? 0) + 1;
  const paged = year.paged.filter((p) => p.at.startsWith(day)).length;
  if (paged) out.pager = paged;
  return out;
}

describe("messages per destination with the default routing", () => {
  it("a quiet night sends three run summaries to the runs channel (backup, first copy, prune), nothing to the alerts channel, and pages nobody", () => {
    expect(perDestination("2026-04-18")).toEqual({ "runs-slack": 3 });
    const night = year.messages.filter((m) => m.at.startsWith("2026-04-18"));
    expect(night.map((m) => m.text.split("\n")[0])).toEqual([
      "Backups: 5 created, 0 already existed, 0 skipped, 0 failed",
      "DR copies: 5 started, 0 waiting, 0 failed",
      "Prune: 0 deleted, 20 kept, 0 frozen, 0 capped, 0 failed",
    ]);
    // Each links its run report (core/report/report-link.ts).
    for (const m of night)
      expect(m.text.split("\n")[1]).toMatch(
        /^<https:\/\/s3\.console\.aws\.amazon\.com\/s3\/object\/ops-autopilot-reports-drill\?region=eu-west-1&prefix=reports\/(backup|copy|prune)\/2026-04-18\/[^|]+\.json\|Run report>$/,
      );
  });

  it("during the outage pages once per policy/region group when it starts, and keeps reminders and resolved in the alerts channel", () => {
    expect(["2026-04-19", "2026-04-20", "2026-04-21", "2026-04-22"].map(perDestination)).toEqual([
      // 4 stale-backup criticals (paged and posted) and 12 reminders, the failed backup's critical (core/run-alerts.ts);
      // the failed backup's and the frozen prune's summaries.
      { pager: 5, "alerts-slack": 17, "runs-slack": 2 },
      // 16 stale-backup reminders and the failed backup's reminder.
      { "alerts-slack": 17, "runs-slack": 2 },
      { "alerts-slack": 17, "runs-slack": 2 },
      // 4 stale-backup resolved and the backup's; backup, copy and prune summaries again.
      { "alerts-slack": 5, "runs-slack": 3 },
    ]);
    expect(year.paged.filter((p) => p.at >= "2026-04-19").map((p) => `${p.at.slice(5, 16)} ${p.text.slice(0, 11)}`)).toEqual([
      "04-19T02:00 🚨 CRITICAL",
      ...Array(4).fill("04-19T04:00 🚨 CRITICAL"),
    ]);
    // No cost function in this scenario: the cost channel gets nothing.
    expect(year.messages.filter((m) => m.destination === "cost-slack")).toEqual([]);
  });

  it("does not page a new stage before its first backup: the resources are pending until then (deploy marker at 2026-04-17 00:00)", () => {
    expect(year.paged.filter((p) => p.at < "2026-04-18")).toEqual([]);
  });

  it("without the deploy's marker, pages the new stage at its first watchdog run (4 groups): missing at once, never silence", async () => {
    const unmarked = await runBackupYear({ days: 1, start: "2026-04-17", outage: null, watchdogHours: WATCHDOG_HOURLY, deployMarker: false });
    expect(unmarked.paged.map((p) => p.at)).toEqual(Array(4).fill("2026-04-17T00:00:00.000Z"));
  }, 60_000);

  it("with quiet run summaries, a quiet night posts the backup and copy summaries (they made snapshots) and drops prune's (it deleted nothing)", async () => {
    const quiet = await runBackupYear({
      days: 2,
      start: "2026-04-17",
      outage: null,
      watchdogHours: WATCHDOG_HOURLY,
      notifications: { runSummaries: { quiet: true } },
    });
    expect(quiet.messages.filter((m) => m.at.startsWith("2026-04-18")).map((m) => `${m.destination}: ${m.text.split("\n")[0]}`)).toEqual([
      "runs-slack: Backups: 5 created, 0 already existed, 0 skipped, 0 failed",
      "runs-slack: DR copies: 5 started, 0 waiting, 0 failed",
    ]);
  }, 60_000);
});
