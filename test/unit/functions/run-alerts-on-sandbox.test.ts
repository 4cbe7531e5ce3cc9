import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Logger } from "@aws-lambda-powertools/logger";
import { createSandbox, FakeClock, HOUR, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { s3AlertState, type AlertStatePort } from "../../../adapters/alert-state.ts";
import { AggregateRunError, createHandler, reportKey, runAlertSource, type RunContext, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runWatchdog } from "../../../runbooks/backup/watchdog.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parsePruneEvent, parseWatchdogEvent, type JobEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { s3ObjectConsoleUrl } from "../../../core/console-urls.ts";
import type { RunFailureDetail } from "../../../core/run-alerts.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";

/**
 * Failed runs on the alert lifecycle through the real handler chain, with the state in the sandbox's S3 under each
 * function's role (runbooks/lib/handler.ts, runbooks/lib/run-alerts.ts, core/run-alerts.ts), and the run report link
 * on every message the chain sends.
 */

const PRIMARY = "eu-west-1";
const BUCKET = "ops-autopilot-reports-test";
const REF = { bucket: BUCKET, region: PRIMARY };
const config = parseConfig({ stage: "test", primaryRegion: PRIMARY, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });
const STATE_KEY = "state/alerts/runs/backup.json";

let sb: Sandbox;
let clock: FakeClock;
let sent: { to: string; text: string; blocks: number }[];
let slackDown: boolean;
let logged: { level: string; message: string; extra: unknown }[];

/** A logger that keeps what the chain logs. */
function recordingLogger(): Logger {
  const logger = new Logger({ logLevel: "SILENT" });
  for (const level of ["info", "warn", "error"] as const) {
    const orig = logger[level].bind(logger);
    logger[level] = ((message: string, extra?: unknown) => {
      logged.push({ level, message, extra });
      orig(message);
    }) as never;
  }
  return logger;
}

function runtime(extra: Partial<Runtime> = {}): Runtime {
  return {
    config: () => config,
    now: () => clock.now(),
    reportBucket: () => REF,
    postSlack: async (m: SlackMessage, destination) => {
      if (slackDown) throw new Error("Slack answered 503");
      sent.push({ to: destination ?? "?", text: m.text, blocks: m.blocks?.length ?? 0 });
    },
    publish: async (m: SlackMessage) => void sent.push({ to: "pager", text: m.text, blocks: m.blocks?.length ?? 0 }),
    emitMetrics: () => {},
    logger: recordingLogger(),
    ...extra,
  };
}

const deps = (c: RunContext) => backupDeps(c, { stateBucket: REF });
const backup = (extra: Partial<Runtime> = {}, id = "n1") =>
  createHandler({ name: "backup", parse: parseBackupEvent, run: (e: JobEvent, c) => runBackup(e, c, deps(c)) }, runtime(extra))(
    { trigger: "schedule" },
    lambdaContext(id),
  );
const watchdog = (id: string) =>
  createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: (e: JobEvent, c) => runWatchdog(e, c, deps(c)) }, runtime())(
    { trigger: "schedule" },
    lambdaContext(id),
  );
const settle = <T>(p: Promise<T>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
const link = (fn: string, id: string, at = clock.now()) => `<${s3ObjectConsoleUrl(REF, reportKey(fn, at, id))}|Run report>`;
const stateCalls = () =>
  sb.calls
    .filter((c) => c.service === "s3" && (c.input as { Key?: string }).Key === STATE_KEY)
    .map((c) => {
      const i = c.input as { IfNoneMatch?: string; IfMatch?: string };
      return `${c.command}${i.IfNoneMatch ? " If-None-Match: *" : ""}${i.IfMatch ? " If-Match" : ""}${c.error ? ` → ${c.error.name}` : ""}`;
    });

beforeEach(() => {
  clock = new FakeClock("2026-04-19T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: [BUCKET] });
  resetClients();
  sent = [];
  logged = [];
  slackDown = false;
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("failed runs on the alert lifecycle (state/alerts/runs/<function>.json)", () => {
  it("a backup with failed items: its summary to the runs channel, one critical paged and posted, the incident stored with If-None-Match", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity });

    const error = await settle(backup());

    expect(error).toBeInstanceOf(AggregateRunError);
    const r = link("backup", "n1");
    expect(sent).toEqual([
      { to: "runs-slack", text: `Backups: 0 created, 0 already existed, 0 skipped, 1 failed\n${r}`, blocks: expect.any(Number) },
      { to: "pager", text: `🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed\n${r}`, blocks: 4 },
      { to: "alerts-slack", text: `🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed\n${r}`, blocks: 4 },
    ]);
    expect(stateCalls()).toEqual(["GetObject → NoSuchKey", "PutObject If-None-Match: *"]);
    const doc = sb.s3.json<{ source: string; incidents: Record<string, { openedAt: string; detail: RunFailureDetail }> }>(BUCKET, STATE_KEY)!;
    expect(doc.source).toBe("runs/backup");
    expect(doc.incidents["run-failed:backup"]!.detail).toMatchObject({ runId: "n1", threw: false, headline: "1 item failed", failedRuns: 1 });
    expect(sb.iam?.denials).toEqual([]);
  });

  it("Lambda's retries of the failed run send nothing; the next night's failed run reminds", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity });
    await settle(backup({}, "n1"));
    clock.advance(MINUTE);
    await settle(backup({}, "n1"));
    clock.advance(2 * MINUTE);
    await settle(backup({}, "n1"));
    const alerts = () => sent.filter((s) => s.to !== "runs-slack").map((s) => `${s.to}: ${s.text.split("\n")[0]}`);
    expect(alerts()).toEqual([
      "pager: 🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed",
      "alerts-slack: 🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed",
    ]);

    clock.set(Date.parse("2026-04-20T02:00:00Z"));
    sent = [];
    await settle(backup({}, "n2"));
    expect(alerts()).toEqual(["alerts-slack: ⏰ REMINDER: backup runs still failing (ops-autopilot/test), for 1 d since 2026-04-19 02:00 UTC: 1 item failed"]);
    expect(
      sb.s3.json<{ incidents: Record<string, { reminders: number; detail: RunFailureDetail }> }>(BUCKET, STATE_KEY)!.incidents["run-failed:backup"],
    ).toMatchObject({
      reminders: 1,
      detail: { runId: "n2", failedRuns: 4 },
    });
  });

  it("resolves with how long it lasted and the run that recovered, linked to that run's report", async () => {
    const down = sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity });
    await settle(backup({}, "n1"));
    down.clear();
    clock.set(Date.parse("2026-04-20T02:00:00Z"));
    sent = [];

    const out = (await backup({}, "n2")) as { runAlert: unknown };

    const r = link("backup", "n2");
    expect(sent.map((s) => `${s.to}: ${s.text}`)).toEqual([
      `runs-slack: Backups: 1 created, 0 already existed, 0 skipped, 0 failed\n${r}`,
      `alerts-slack: ✅ RESOLVED: backup runs succeed again (ops-autopilot/test) after 1 d failing, since 2026-04-19 02:00 UTC\n${r}`,
    ]);
    expect(out.runAlert).toEqual({ key: "run-failed:backup", kind: "resolved", reason: "run-failed:backup no longer holds; it lasted 1 d" });
    expect(sb.s3.json<{ incidents: object }>(BUCKET, STATE_KEY)!.incidents).toEqual({});
  });

  it("a run without failures and nothing open reads the state once and writes nothing", async () => {
    await backup();
    expect(stateCalls()).toEqual(["GetObject → NoSuchKey"]);
    expect(sent.map((s) => s.to)).toEqual(["runs-slack"]);
  });

  it("a dry run never touches the state, even when it fails", async () => {
    sb.inject({ service: "rds", command: "DescribeDBInstances", error: "accessDenied", times: Infinity });
    const prune = createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, deps(c)) }, runtime());
    await settle(prune({ trigger: "manual", dryRun: true }, lambdaContext("d1")));
    expect(sb.calls.filter((c) => (c.input as { Key?: string }).Key?.startsWith("state/alerts/"))).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("a state that cannot be read never stops the alert: sent as started, and the reason logged", async () => {
    sb.inject({ service: "rds", command: "DescribeDBInstances", error: "accessDenied", times: Infinity });
    sb.inject({
      service: "s3",
      command: "GetObject",
      error: "internal",
      times: Infinity,
      match: (i: { Key: string }) => i.Key.startsWith("state/alerts/runs/"),
    });

    const error = await settle(watchdog("w1"));

    expect(error?.name).toBe("AccessDenied");
    expect(sent.map((s) => `${s.to}: ${s.text.split("\n")[0]}`)).toEqual([
      "pager: 🚨 CRITICAL: watchdog run failed (ops-autopilot/test): AccessDenied",
      "alerts-slack: 🚨 CRITICAL: watchdog run failed (ops-autopilot/test): AccessDenied",
    ]);
    expect(logged.find((l) => l.message === "run alert state unavailable: the failure is alerted as new")?.extra).toEqual({
      reason: expect.stringMatching(/^state not read or stored: /),
    });
    const report = sb.s3.json<{ runAlert: { kind: string; stateUnavailable: string } }>(BUCKET, reportKey("watchdog", new Date("2026-04-19T02:00:00Z"), "w1"))!;
    expect(report.runAlert).toMatchObject({ kind: "started", stateUnavailable: expect.stringMatching(/^state not read or stored: /) });
  });

  it("two overlapping failed runs send one critical: the run that loses the conditional write re-reads and finds the incident open", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity });
    // The other run writes its incident between this run's read and its write.
    const real = s3AlertState<RunFailureDetail>(REF, runAlertSource("backup"));
    let raced = false;
    const racing: AlertStatePort<RunFailureDetail> = {
      load: () => real.load(),
      save: async (state, previous) => {
        if (!raced) {
          raced = true;
          await settle(backup({}, "other"));
        }
        return real.save(state, previous);
      },
    };

    await settle(backup({ runAlertState: () => racing }, "n1"));

    expect(sent.filter((s) => s.to === "alerts-slack").map((s) => s.text)).toEqual([
      `🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed\n${link("backup", "other")}`,
    ]);
    expect(stateCalls()).toEqual([
      "GetObject → NoSuchKey",
      // the other run: read, create
      "GetObject → NoSuchKey",
      "PutObject If-None-Match: *",
      "PutObject If-None-Match: * → PreconditionFailed",
      "GetObject",
      "PutObject If-Match",
    ]);
  });

  it("a critical Slack did not take fails the run and is given back: the next run sends it", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity });
    slackDown = true;
    const error = (await settle(backup({}, "n1"))) as AggregateRunError;
    expect(error.failures.map((f) => f.message)).toContain("started alert not delivered: alerts-slack: Slack answered 503");
    expect(sb.s3.json<{ incidents: object }>(BUCKET, STATE_KEY)!.incidents).toEqual({});

    slackDown = false;
    sent = [];
    clock.advance(HOUR);
    await settle(backup({}, "n2"));
    expect(sent.filter((s) => s.to === "alerts-slack").map((s) => s.text.split("\n")[0])).toEqual([
      "🚨 CRITICAL: backup run failed (ops-autopilot/test): 1 item failed",
    ]);
  });

  it("functions that do not post through the chain (posts: false) never read or write the state", async () => {
    // As functions/probe.ts deploys it: no report objects (its role has no Reports link).
    const handler = createHandler(
      { name: "probe", parse: (e) => e, run: async () => Promise.reject(new Error("boom")), posts: false },
      runtime({ saveReport: async () => undefined }),
    );
    await settle(handler({}, lambdaContext("p1")));
    expect(sb.calls.filter((c) => (c.input as { Key?: string }).Key?.startsWith("state/alerts/"))).toEqual([]);
    expect(sent).toEqual([]);
    expect(sb.iam?.denials).toEqual([]);
  });
});

describe("every message of the chain links its run report", () => {
  it("the watchdog's stale-backup messages sent through ctx.post link the watchdog's report", async () => {
    clock.set(Date.parse("2026-04-19T05:00:00Z"));
    await watchdog("w1");
    const r = link("watchdog", "w1");
    expect(sent.map((s) => `${s.to}: ${s.text}`)).toEqual([
      `pager: 🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-04-19 05:00 UTC (ops-autopilot test)\n${r}`,
      `alerts-slack: 🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-04-19 05:00 UTC (ops-autopilot test)\n${r}`,
    ]);
    expect(sb.s3.objects(BUCKET, reportKey("watchdog", clock.now(), "w1")).length).toBe(1);
  });

  it("a summary whose report could not be saved says so instead of linking", async () => {
    await settle(backup({ saveReport: async () => Promise.reject(new Error("S3 down")) }, "n1"));
    expect(sent.map((s) => s.text)).toEqual([
      `Backups: 1 created, 0 already existed, 0 skipped, 0 failed\nThe run report could not be saved (${reportKey("backup", clock.now(), "n1")}): see the function's logs`,
    ]);
  });
});
