import { beforeAll, describe, expect, it } from "vitest";
import { Logger } from "@aws-lambda-powertools/logger";
import { REPORTS_BUCKET, runBackupYear, SCENARIO_CONFIG, PRIMARY, type BackupYearResult } from "../../sandbox/scenarios/backup-scenarios.ts";
import { createSandbox, FakeClock, HOUR } from "../../sandbox/index.ts";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import { resetClients } from "../../adapters/clients.ts";
import { createHandler, reportKey } from "../../runbooks/lib/handler.ts";
import { runWatchdog } from "../../runbooks/backup/watchdog.ts";
import { backupDeps } from "../../runbooks/backup/deps.ts";
import { parseWatchdogEvent } from "../../schemas/events-backup.ts";
import { parseConfig } from "../../schemas/config.ts";
import { s3ObjectConsoleUrl } from "../../core/console-urls.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";

/**
 * Failed runs on the alert lifecycle (core/run-alerts.ts), through the real handler chain on the sandbox, with the
 * default `alerts.remindEveryHours` (6) and routing (criticals page and go to the alerts channel).
 *
 * Before (one run-failed critical per thrown run; none for item failures):
 * - a backup whose snapshot creations fail 3 nights: 3 warning summaries in the runs channel, no alert;
 * - a watchdog that throws every hour for a day: a critical per failed invocation, Lambda's two retries included:
 *   72 criticals, each paged and posted (144 deliveries).
 * After: 1 critical, 2 reminders, 1 resolved; and 1 critical, 3 reminders.
 */

const ref = { bucket: REPORTS_BUCKET, region: PRIMARY };
const link = (fn: string, at: string, runId: string) => `<${s3ObjectConsoleUrl(ref, reportKey(fn, new Date(at), runId))}|Run report>`;

describe("a backup that fails three nights in a row, then succeeds", () => {
  let year: BackupYearResult;
  beforeAll(async () => {
    // 2026-04-17 and 18 fine; every snapshot creation fails on 04-19, 04-20 and 04-21; 04-22 works again.
    year = await runBackupYear({ days: 6, start: "2026-04-17", outage: { fromDay: 2, days: 3 } });
  }, 60_000);

  const backupAlerts = () => year.messages.filter((m) => / backup run/.test(m.text.split("\n")[0]!));

  it("sends exactly 1 critical (paged and posted), 2 reminders and 1 resolved, to the alerts channel", () => {
    expect(backupAlerts().map((m) => `${m.at.slice(5, 16)} ${m.destination}: ${m.text.split("\n")[0]}`)).toEqual([
      "04-19T02:00 alerts-slack: 🚨 CRITICAL: backup run failed (ops-autopilot/drill): 5 items failed",
      "04-20T02:00 alerts-slack: ⏰ REMINDER: backup runs still failing (ops-autopilot/drill), for 1 d since 2026-04-19 02:00 UTC: 5 items failed",
      "04-21T02:00 alerts-slack: ⏰ REMINDER: backup runs still failing (ops-autopilot/drill), for 2 d since 2026-04-19 02:00 UTC: 5 items failed",
      "04-22T02:00 alerts-slack: ✅ RESOLVED: backup runs succeed again (ops-autopilot/drill) after 3 d failing, since 2026-04-19 02:00 UTC",
    ]);
    expect(year.paged.filter((p) => / backup run/.test(p.text)).map((p) => `${p.at.slice(5, 16)} ${p.text.split("\n")[0]}`)).toEqual([
      "04-19T02:00 🚨 CRITICAL: backup run failed (ops-autopilot/drill): 5 items failed",
    ]);
  });

  it("each message links the report of the run that sent it; the resolved one names the run that recovered", () => {
    const backupRun = (day: string) =>
      year.messages.find((m) => m.text.startsWith("Backups:") && m.at === `${day}T02:00:00.000Z`)!.text.match(/-(backup-\d+)\.json/)![1]!;
    const [critical, reminder1, reminder2, resolved] = backupAlerts();
    expect([critical, reminder1, reminder2, resolved].map((m) => m!.text.split("\n")[1])).toEqual([
      link("backup", "2026-04-19T02:00:00Z", backupRun("2026-04-19")),
      link("backup", "2026-04-20T02:00:00Z", backupRun("2026-04-20")),
      link("backup", "2026-04-21T02:00:00Z", backupRun("2026-04-21")),
      link("backup", "2026-04-22T02:00:00Z", backupRun("2026-04-22")),
    ]);
    expect(resolved!.rendered.split("\n")).toEqual([
      "== ✅ backup runs succeed again (ops-autopilot/drill) ==",
      `*Failed for 3 d* (2026-04-19 02:00 UTC to 2026-04-22 02:00 UTC, 3 failed runs); run ${backupRun("2026-04-22")} finished without failures.`,
      expect.stringMatching(/^Last failure: `app-db \(eu-west-1\): fatal: /),
      `Run report (https://s3.console.aws.amazon.com/s3/object/${REPORTS_BUCKET}?region=eu-west-1&prefix=reports/backup/2026-04-22/2026-04-22T02-00-00-000Z-${backupRun("2026-04-22")}.json)`,
    ]);
  });

  it("still posts each failed night's summary to the runs channel, linked to its report", () => {
    const summaries = year.messages.filter(
      (m) => m.destination === "runs-slack" && m.text.startsWith("Backups:") && m.at >= "2026-04-19" && m.at < "2026-04-22",
    );
    expect(summaries.map((m) => `${m.at.slice(5, 16)} ${m.text.split("\n")[0]}`)).toEqual([
      "04-19T02:00 Backups: 0 created, 0 already existed, 0 skipped, 5 failed",
      "04-20T02:00 Backups: 0 created, 0 already existed, 0 skipped, 5 failed",
      "04-21T02:00 Backups: 0 created, 0 already existed, 0 skipped, 5 failed",
    ]);
    for (const m of summaries)
      expect(m.text.split("\n")[1]).toMatch(
        /^<https:\/\/s3\.console\.aws\.amazon\.com\/s3\/object\/ops-autopilot-reports-drill\?region=eu-west-1&prefix=reports\/backup\/2026-04-\d\d\/.*\.json\|Run report>$/,
      );
  });
});

describe("a watchdog that throws every hour for a day", () => {
  const config = parseConfig({ ...SCENARIO_CONFIG, stage: "drill" });
  const sent: { at: string; to: string; message: SlackMessage }[] = [];
  const HOURS = 24;
  let invocations = 0;

  beforeAll(async () => {
    const clock = new FakeClock("2026-04-19T00:00:00Z");
    const sb = createSandbox({ clock, regions: [PRIMARY, "eu-central-1"], buckets: [REPORTS_BUCKET] });
    resetClients();
    try {
      // An IAM change gone wrong: the watchdog can no longer list the databases.
      const denied = sb.inject({ service: "rds", command: "DescribeDBInstances", error: "accessDenied", times: Infinity });
      const handler = createHandler(
        { name: "watchdog", parse: parseWatchdogEvent, run: (e, c) => runWatchdog(e, c, backupDeps(c, { stateBucket: ref })) },
        {
          config: () => config,
          now: () => clock.now(),
          reportBucket: () => ref,
          postSlack: async (message, to) => void sent.push({ at: clock.now().toISOString(), to: to ?? "?", message }),
          publish: async (message) => void sent.push({ at: clock.now().toISOString(), to: "pager", message }),
          emitMetrics: () => {},
          logger: new Logger({ logLevel: "SILENT" }),
        },
      );
      for (let h = 0; h <= HOURS; h++) {
        if (h === HOURS) denied.clear();
        // Lambda runs a failed asynchronous invocation twice more, 1 then 2 minutes later, with the same request id
        // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
        for (const retryMinutes of h === HOURS ? [0] : [0, 1, 3]) {
          clock.set(Date.parse("2026-04-19T00:00:00Z") + h * HOUR + retryMinutes * 60_000);
          await handler({ trigger: "schedule" }, lambdaContext(`w${h}`)).catch(() => undefined);
          invocations++;
        }
      }
      expect(sb.iam?.denials).toEqual([]);
    } finally {
      sb.restore();
      resetClients();
    }
  }, 60_000);

  it("gives 1 critical (paged and posted) and 3 reminders (every 6 h) over its 24 failed runs and their 48 retries, then 1 resolved", () => {
    expect(invocations).toBe(24 * 3 + 1);
    const lines = sent.filter((s) => s.message.text.includes("watchdog run")).map((s) => `${s.at.slice(11, 16)} ${s.to}: ${s.message.text.split("\n")[0]}`);
    expect(lines).toEqual([
      "00:00 pager: 🚨 CRITICAL: watchdog run failed (ops-autopilot/drill): AccessDenied",
      "00:00 alerts-slack: 🚨 CRITICAL: watchdog run failed (ops-autopilot/drill): AccessDenied",
      "06:00 alerts-slack: ⏰ REMINDER: watchdog runs still failing (ops-autopilot/drill), for 6 h since 2026-04-19 00:00 UTC: AccessDenied",
      "12:00 alerts-slack: ⏰ REMINDER: watchdog runs still failing (ops-autopilot/drill), for 12 h since 2026-04-19 00:00 UTC: AccessDenied",
      "18:00 alerts-slack: ⏰ REMINDER: watchdog runs still failing (ops-autopilot/drill), for 18 h since 2026-04-19 00:00 UTC: AccessDenied",
      "00:00 alerts-slack: ✅ RESOLVED: watchdog runs succeed again (ops-autopilot/drill) after 1 d failing, since 2026-04-19 00:00 UTC",
    ]);
  });

  it("the critical says what failed and links the failure report of the run that sent it", () => {
    const critical = sent.find((s) => s.to === "alerts-slack")!.message;
    expect(critical.text).toBe(`🚨 CRITICAL: watchdog run failed (ops-autopilot/drill): AccessDenied\n${link("watchdog", "2026-04-19T00:00:00Z", "w0")}`);
    expect(renderText(critical, { links: "label" }).split("\n")).toEqual([
      "== 🚨 watchdog run failed (ops-autopilot/drill) ==",
      expect.stringMatching(/^`AccessDenied: /),
      "Nothing after the failure ran. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue.",
      "Run w0 · A reminder every 6 h while runs keep failing, and a message when a run succeeds.",
      "Run report",
    ]);
    const reminder = sent.find((s) => s.message.text.startsWith("⏰"))!.message;
    expect(reminder.text.split("\n")[1]).toBe(link("watchdog", "2026-04-19T06:00:00Z", "w6"));
  });
});
