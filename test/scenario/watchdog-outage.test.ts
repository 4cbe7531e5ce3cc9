import { beforeAll, describe, expect, it } from "vitest";
import { REPORTS_BUCKET, runBackupYear, WATCHDOG_HOURLY, type BackupYearResult } from "../../sandbox/scenarios/backup-scenarios.ts";

/**
 * A three-day backup outage watched by the hourly watchdog, as production schedules it (`rate(1 hour)`),
 * through the real handler chain, adapters and the sandbox's S3 (the alert state and its conditional writes).
 * Every snapshot creation fails on 2026-04-19, 04-20 and 04-21; the backup of 04-22 succeeds. The fleet: policy
 * `db` (app-db, billing-db, orders) and policy `volumes` (two EBS volumes), in eu-west-1 with DR copies in
 * eu-central-1. Incidents are grouped per policy and region: four groups.
 */

const START = "2026-04-17";
const OUTAGE_FROM = "2026-04-19";
const GROUPS = ["stale:db:eu-central-1", "stale:db:eu-west-1", "stale:volumes:eu-central-1", "stale:volumes:eu-west-1"];
let year: BackupYearResult;
/** Per day: the stale count of every watchdog run report, in run order. */
const staleByRun: Record<string, number[]> = {};
const day = (at: string) => at.slice(0, 10);
/** A stale-backup message of the watchdog (the failed backup runs of the outage have their own: test/scenario/run-failed-lifecycle.test.ts). */
const watchdogMessage = (text: string) => /^(🚨 CRITICAL|⏰ REMINDER|✅ RESOLVED): .* of policy \S+ in /.test(text);

beforeAll(async () => {
  year = await runBackupYear({
    days: 7,
    start: START,
    outage: { fromDay: 2, days: 3 },
    watchdogHours: WATCHDOG_HOURLY,
    onDay: (d, sb) => {
      staleByRun[d.day] = sb.s3.objects(REPORTS_BUCKET, `reports/watchdog/${d.day}/`).map((o) => (JSON.parse(o.body) as { stale: number }).stale);
    },
  });
}, 60_000);

/** The outage's messages of one group (the stage's first hours, before the first backup, are an incident of their own). */
const outageMessages = (key: string) => (year.incidents[key] ?? []).filter((m) => m.at >= `${OUTAGE_FROM}T00:00:00Z`);

describe("a three-day backup outage with the hourly watchdog", () => {
  it("gives each policy/region group exactly 1 critical, 11 reminders (at most 12) and 1 resolved", () => {
    expect(Object.keys(year.incidents).sort()).toEqual(GROUPS);
    for (const key of GROUPS) {
      const kinds = outageMessages(key).map((m) => m.kind);
      expect(
        kinds.filter((k) => k === "started"),
        key,
      ).toHaveLength(1);
      expect(
        kinds.filter((k) => k === "reminder"),
        key,
      ).toHaveLength(11);
      expect(
        kinds.filter((k) => k === "resolved"),
        key,
      ).toHaveLength(1);
      expect(kinds[0]).toBe("started");
      expect(kinds.at(-1)).toBe("resolved");
    }
  });

  it("starts when the watchdog first sees backups over 25 h, reminds every 6 h, and resolves once fresh backups are there", () => {
    expect(outageMessages("stale:db:eu-west-1").map((m) => `${m.at.slice(5, 16)} ${m.kind}`)).toEqual([
      "04-19T04:00 started",
      ...["04-19T10", "04-19T16", "04-19T22", "04-20T04", "04-20T10", "04-20T16", "04-20T22", "04-21T04", "04-21T10", "04-21T16", "04-21T22"].map(
        (h) => `${h}:00 reminder`,
      ),
      // The 02:00 backup and 02:30 copy of 04-22 are in: the primary region is fresh at 03:00, the DR copies at 04:00.
      "04-22T03:00 resolved",
    ]);
    expect(outageMessages("stale:db:eu-central-1").at(-1)!.at).toBe("2026-04-22T04:00:00.000Z");
  });

  it("posts the exact started, reminder and resolved messages", () => {
    const rendered = (prefix: string, at: string) => year.messages.find((m) => m.at === at && m.text.startsWith(prefix))!.rendered.split("\n");
    /** The link to the report of the watchdog run that sent the message (core/report/report-link.ts), as plain text shows it. */
    const reportLink = (at: string) =>
      expect.stringMatching(
        new RegExp(
          `^Run report \\(https://s3\\.console\\.aws\\.amazon\\.com/s3/object/${REPORTS_BUCKET}\\?region=eu-west-1&prefix=reports/watchdog/${at.slice(0, 10)}/${at.slice(0, 19).replace(/:/g, "-")}-000Z-watchdog-\\d+\\.json\\)$`,
        ),
      );
    const slackLink = (at: string) =>
      expect.stringMatching(
        new RegExp(
          `^<https://s3\\.console\\.aws\\.amazon\\.com/s3/object/${REPORTS_BUCKET}\\?region=eu-west-1&prefix=reports/watchdog/${at.slice(0, 10)}/${at.slice(0, 19).replace(/:/g, "-")}-000Z-watchdog-\\d+\\.json\\|Run report>$`,
        ),
      );
    expect(rendered("🚨 CRITICAL: no fresh backup for 3 resources of policy db in eu-west-1", "2026-04-19T04:00:00.000Z")).toEqual([
      "== 🚨 No fresh backup — policy db in eu-west-1 — ops-autopilot drill ==",
      "*Stale since 2026-04-19 04:00 UTC*",
      "• `app-db`: newest available backup oa-ops-autopilot-drill-app-db-20260418 is 26.0 h old (limit 25 h)",
      "• `billing-db`: newest available backup oa-ops-autopilot-drill-billing-db-20260418 is 26.0 h old (limit 25 h)",
      "• `orders`: newest available backup oa-ops-autopilot-drill-orders-20260418 is 25.9 h old (limit 25 h)",
      "Pruning is frozen for these until a fresh backup is available. Check the backup and copy run reports. A reminder every 6 h while this lasts, and a message when it is resolved.",
      reportLink("2026-04-19T04:00:00.000Z"),
    ]);
    expect(year.messages.find((m) => m.at === "2026-04-19T04:00:00.000Z" && m.text.includes("policy db in eu-west-1"))!.text.split("\n")).toEqual([
      "🚨 CRITICAL: no fresh backup for 3 resources of policy db in eu-west-1 since 2026-04-19 04:00 UTC (ops-autopilot drill)",
      slackLink("2026-04-19T04:00:00.000Z"),
    ]);
    expect(rendered("⏰ REMINDER: still no fresh backup for 3 resources of policy db in eu-west-1", "2026-04-20T10:00:00.000Z")).toEqual([
      "== ⏰ Still no fresh backup — policy db in eu-west-1 — ops-autopilot drill ==",
      "*Stale for 1 d 6 h, since 2026-04-19 04:00 UTC* (reminder 5)",
      "• `app-db`: newest available backup oa-ops-autopilot-drill-app-db-20260418 is 56.0 h old (limit 25 h)",
      "• `billing-db`: newest available backup oa-ops-autopilot-drill-billing-db-20260418 is 56.0 h old (limit 25 h)",
      "• `orders`: newest available backup oa-ops-autopilot-drill-orders-20260418 is 55.9 h old (limit 25 h)",
      "Pruning stays frozen for these. Check the backup and copy run reports. A reminder every 6 h while this lasts, and a message when it is resolved.",
      reportLink("2026-04-20T10:00:00.000Z"),
    ]);
    const resolved = year.messages.find((m) => m.at === "2026-04-22T03:00:00.000Z" && m.text.includes("policy db in eu-west-1"))!;
    expect(resolved.text.split("\n")).toEqual([
      "✅ RESOLVED: backups of policy db in eu-west-1 are fresh again after 2 d 23 h stale, since 2026-04-19 04:00 UTC (ops-autopilot drill)",
      slackLink("2026-04-22T03:00:00.000Z"),
    ]);
    expect(resolved.rendered.split("\n")).toEqual([
      "== ✅ Backups fresh again — policy db in eu-west-1 — ops-autopilot drill ==",
      "*Stale for 2 d 23 h* (2026-04-19 04:00 UTC to 2026-04-22 03:00 UTC)",
      "• `app-db`",
      "• `billing-db`",
      "• `orders`",
      "Pruning resumes with the next prune run.",
      reportLink("2026-04-22T03:00:00.000Z"),
    ]);
  });

  it("sends 52 watchdog messages over the outage (16, 16, 16, then 4 resolved) where one critical per run sent 72, and none on quiet days", () => {
    const perDay: Record<string, number> = {};
    for (const m of year.messages.filter((m) => watchdogMessage(m.text))) perDay[day(m.at)] = (perDay[day(m.at)] ?? 0) + 1;
    // 04-17, the stage's first hours before its first backup and copy: pending (the deploy's marker), not stale.
    expect(perDay).toEqual({ "2026-04-19": 16, "2026-04-20": 16, "2026-04-21": 16, "2026-04-22": 4 });
    expect(year.messages.filter((m) => watchdogMessage(m.text) && m.text.includes("CRITICAL") && m.at >= OUTAGE_FROM)).toHaveLength(4);
  });

  it("still lists every stale resource in every hourly run report (reports are not alerts)", () => {
    expect(staleByRun["2026-04-18"]).toEqual(Array(24).fill(0));
    // 04-19: fresh through 03:00; from 04:00 every backup is over 25 h old, in both regions: 10 resource/region pairs.
    expect(staleByRun["2026-04-19"]).toEqual([0, 0, 0, 0, ...Array(20).fill(10)]);
    expect(staleByRun["2026-04-20"]).toEqual(Array(24).fill(10));
    // 04-22: at 03:00 only the database DR copies (the second copy run, 03:30) are still missing.
    expect(staleByRun["2026-04-22"]).toEqual([10, 10, 10, 3, ...Array(20).fill(0)]);
  });
});
