import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, HOUR, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { alertStateKey, s3AlertState, type AlertStatePort } from "../../../adapters/alert-state.ts";
import { AggregateRunError, createHandler, type MetricPoint, type RunContext } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { runWatchdog } from "../../../runbooks/backup/watchdog.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import type { BackupDeps } from "../../../runbooks/backup/ports.ts";
import type { StaleGroupDetail } from "../../../core/stale-alerts.ts";
import { parseBackupEvent, parseCopyEvent, parseWatchdogEvent, type JobEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
import { observeMarker, PRUNE_OBSERVE_KEY } from "../../../core/observe.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const BUCKET = "ops-autopilot-reports-test";
const STATE = { bucket: BUCKET, region: PRIMARY };
let sb: Sandbox;
let clock: FakeClock;
let posted: SlackMessage[];
let metrics: MetricPoint[];
/** Makes the next Slack posts fail (a webhook down). */
let slackDown: boolean;
const config = parseConfig({
  stage: "test",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
  backup: { policies: [{ name: "db", selection: { tag: {} } }] },
});
const ctx = lambdaContext("r");
const runtime = () =>
  quietRuntime(config, clock, {
    postSlack: async (m: SlackMessage) => {
      if (slackDown) throw new Error("Slack answered 503");
      posted.push(m);
    },
    emitMetrics: (p: MetricPoint[]) => void metrics.push(...p),
  });
const invoke = (name: "backup" | "copy" | "watchdog", deps: (c: RunContext) => BackupDeps = (c) => backupDeps(c, { stateBucket: STATE })) => {
  const spec = {
    backup: { name, parse: parseBackupEvent, run: (e: JobEvent, c: RunContext) => runBackup(e, c, deps(c)) },
    copy: { name, parse: parseCopyEvent, run: (e: JobEvent, c: RunContext) => runCopy(e, c, deps(c)) },
    watchdog: { name, parse: parseWatchdogEvent, run: (e: JobEvent, c: RunContext) => runWatchdog(e, c, deps(c)) },
  }[name];
  return createHandler(spec, runtime())({ trigger: "schedule" }, ctx) as Promise<Record<string, unknown>>;
};
/** Each message's first line (the run report link the chain may add below it is the handler's). */
const texts = () => posted.map((m) => m.text.split("\n")[0]!);

beforeEach(() => {
  clock = new FakeClock("2026-11-20T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [BUCKET] });
  resetClients();
  posted = [];
  metrics = [];
  slackDown = false;
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

/** Backup at 02:00 and copy at 03:00 on 2026-11-20, then the clock at `hours` after the backup. */
async function backedUpThen(hours: number): Promise<void> {
  await invoke("backup");
  clock.advance(HOUR);
  await invoke("copy");
  clock.advance((hours - 1) * HOUR);
  posted = [];
}

describe("freshness watchdog", () => {
  it("publishes its heartbeat and the age per resource and region, stays quiet while backups are fresh, and stores no alert state", async () => {
    await backedUpThen(2);
    const out = await invoke("watchdog");
    expect(out.stale).toBe(0);
    expect(out.alerts).toEqual([]);
    expect(posted).toEqual([]);
    expect(sb.s3.objects(BUCKET, "state/")).toEqual([]);
    expect(metrics).toContainEqual({ name: "WatchdogHeartbeat", unit: "Count", value: 1 });
    expect(metrics).toContainEqual({ name: "StaleBackups", unit: "Count", value: 0 });
    const ages = metrics.filter((m) => m.name === "BackupAgeHours").map((m) => [m.dimensions?.region, Math.round(m.value)]);
    // The copy holds data captured at 02:00 in the primary region: both are two hours old.
    expect(ages).toEqual([
      [PRIMARY, 2],
      [DR, 2],
    ]);
  });

  it("raises one critical per policy and region when backups go stale, naming each resource, and stores the incidents", async () => {
    await backedUpThen(27); // 2026-11-21 05:00, 27 h after the backup, no new one
    const out = await invoke("watchdog");
    expect(out.stale).toBe(2);
    expect(texts()).toEqual([
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-21 05:00 UTC (ops-autopilot test)",
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-21 05:00 UTC (ops-autopilot test)",
    ]);
    expect(renderText(posted[1]!)).toMatch(/• `app-db`: newest available backup oa-ops-autopilot-test-app-db-20261120 is 27\.0 h old \(limit 25 h\)/);
    expect(metrics).toContainEqual({ name: "StaleBackups", unit: "Count", value: 2 });
    const doc = sb.s3.json<{ incidents: Record<string, { openedAt: string; reminders: number }> }>(BUCKET, alertStateKey("watchdog"))!;
    expect(Object.keys(doc.incidents)).toEqual(["stale:db:eu-central-1", "stale:db:eu-west-1"]);
    expect(doc.incidents["stale:db:eu-west-1"]).toMatchObject({ openedAt: "2026-11-21T05:00:00.000Z", reminders: 0 });
  });

  it("stays quiet on the hourly runs in between, reminds after 6 h, and says resolved once backups are fresh", async () => {
    await backedUpThen(27);
    await invoke("watchdog");
    posted = [];
    for (let h = 1; h <= 5; h++) {
      clock.advance(HOUR);
      const out = await invoke("watchdog");
      expect(out.stale).toBe(2); // the report still lists every stale resource
      expect((out.alerts as { kind: string }[]).map((a) => a.kind)).toEqual(["hold", "hold"]);
    }
    expect(posted).toEqual([]);
    clock.advance(HOUR); // 11:00, 6 h after the critical
    await invoke("watchdog");
    expect(texts()).toEqual([
      "⏰ REMINDER: still no fresh backup for 1 resource of policy db in eu-central-1, stale for 6 h since 2026-11-21 05:00 UTC (ops-autopilot test)",
      "⏰ REMINDER: still no fresh backup for 1 resource of policy db in eu-west-1, stale for 6 h since 2026-11-21 05:00 UTC (ops-autopilot test)",
    ]);
    posted = [];
    await invoke("backup"); // 11:00: a fresh backup in the primary region; the DR copy follows
    clock.advance(HOUR);
    posted = [];
    await invoke("watchdog");
    expect(texts()).toEqual([
      "✅ RESOLVED: backups of policy db in eu-west-1 are fresh again after 7 h stale, since 2026-11-21 05:00 UTC (ops-autopilot test)",
    ]);
    expect(sb.s3.json<{ incidents: object }>(BUCKET, alertStateKey("watchdog"))!.incidents).toHaveProperty("stale:db:eu-central-1");
  });

  it("pages a new incident through the stage's topic under the watchdog's role, and posts reminders and resolved to the alerts channel only", async () => {
    const topicArn = sb.sns.createTopic(PRIMARY, "ops-autopilot-test-alerts");
    const channels: string[] = [];
    const routed = (): Promise<Record<string, unknown>> =>
      createHandler(
        { name: "watchdog", parse: parseWatchdogEvent, run: (e: JobEvent, c: RunContext) => runWatchdog(e, c, backupDeps(c, { stateBucket: STATE })) },
        quietRuntime(config, clock, {
          topic: () => ({ arn: topicArn, region: PRIMARY }),
          postSlack: async (m: SlackMessage, destination) => void channels.push(`${destination}: ${m.text.split(":")[0]}`),
        }),
      )({ trigger: "schedule" }, ctx) as Promise<Record<string, unknown>>;
    await backedUpThen(27);
    await routed();
    // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html: Subject ASCII, under 100 characters (the emoji dropped).
    expect(sb.sns.published().map((p) => [p.topicArn, p.subject])).toEqual([
      [topicArn, "CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-21 05:00 UTC..."],
      [topicArn, "CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-21 05:00 UTC (o..."],
    ]);
    clock.advance(6 * HOUR);
    await routed();
    await invoke("backup");
    clock.advance(HOUR);
    await invoke("copy");
    clock.advance(HOUR);
    await routed();
    expect(sb.sns.published()).toHaveLength(2);
    expect(channels).toEqual([
      "alerts-slack: 🚨 CRITICAL",
      "alerts-slack: 🚨 CRITICAL",
      "alerts-slack: ⏰ REMINDER",
      "alerts-slack: ⏰ REMINDER",
      "alerts-slack: ✅ RESOLVED",
      "alerts-slack: ✅ RESOLVED",
    ]);
    expect(sb.iam!.denials).toEqual([]);
  });

  it("alerts for a selected resource that has never been backed up", async () => {
    await invoke("watchdog");
    expect(texts()[1]).toBe("🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-20 02:00 UTC (ops-autopilot test)");
    expect(renderText(posted[1]!)).toContain("• `app-db`: no available backup of app-db in eu-west-1");
  });

  it("sends one critical when two runs overlap: the run that loses the conditional write re-reads and finds the incident open", async () => {
    await backedUpThen(27);
    // Run A reads the state, then run B runs whole before A writes: A's If-None-Match write gets 412.
    let raced = false;
    const racing = (c: RunContext): BackupDeps => {
      const real = s3AlertState<StaleGroupDetail>(STATE, "watchdog");
      const port: AlertStatePort<StaleGroupDetail> = {
        load: real.load,
        save: async (state, previous) => {
          if (!raced) {
            raced = true;
            await invoke("watchdog");
          }
          return real.save(state, previous);
        },
      };
      return { ...backupDeps(c, { stateBucket: STATE }), alertState: () => port };
    };
    const a = await invoke("watchdog", racing);
    expect(texts()).toEqual([
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-21 05:00 UTC (ops-autopilot test)",
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-21 05:00 UTC (ops-autopilot test)",
    ]);
    expect((a.alerts as { kind: string }[]).map((x) => x.kind)).toEqual(["hold", "hold"]);
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html: If-None-Match on an existing key → 412.
    expect(sb.calls.filter((c) => c.command === "PutObject" && c.error?.name === "PreconditionFailed")).toHaveLength(1);
  });

  it("fails the run when Slack is down, and the next run sends the critical that was lost", async () => {
    await backedUpThen(27);
    slackDown = true;
    const err = await invoke("watchdog").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateRunError);
    expect((err as AggregateRunError).failures.map((f) => `${f.item}: ${f.kind}: ${f.message}`)).toEqual([
      "alert stale:db:eu-central-1: retryable: started not delivered: alerts-slack: Slack answered 503",
      "alert stale:db:eu-west-1: retryable: started not delivered: alerts-slack: Slack answered 503",
      // The run failed, so the chain's failed-run critical follows (core/run-alerts.ts): it pages, and Slack refuses it too.
      "run report / Slack: fatal: started alert not delivered: alerts-slack: Slack answered 503",
    ]);
    expect(sb.s3.json<{ incidents: object }>(BUCKET, alertStateKey("watchdog"))!.incidents).toEqual({});
    slackDown = false;
    clock.advance(HOUR);
    await invoke("watchdog");
    expect(texts()).toEqual([
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-21 06:00 UTC (ops-autopilot test)",
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-21 06:00 UTC (ops-autopilot test)",
    ]);
  });
});

describe("a new stage's first night", () => {
  /** The deploy writes the stage's start marker (stacks/observe-start.ts) into the state bucket. */
  const deployAt = (iso: string, by = "deploy") =>
    sb.s3.put(BUCKET, PRUNE_OBSERVE_KEY, JSON.stringify(observeMarker(new Date(iso), by, by === "deploy" ? "first deploy" : "r")), "application/json");
  /** A stage deployed at `iso`: the sandbox from then, with the deploy's marker and the database to back up. */
  const newStage = (iso: string) => {
    sb.restore();
    clock = new FakeClock(iso);
    sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [BUCKET] });
    resetClients();
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
    deployAt(iso);
  };
  /**
   * The watchdog every hour until `until` (inclusive), after the job due that hour if any: each change of its
   * counts ("10:00 pending 2 stale 0"), and the messages it posted with their hour.
   */
  async function hourly(until: string, jobs: Record<string, "backup" | "copy"> = {}): Promise<{ counts: string[]; sent: string[] }> {
    const counts: string[] = [];
    const sent: string[] = [];
    let last = "";
    while (clock.now().toISOString() <= until) {
      const at = clock.now().toISOString();
      const job = jobs[at];
      if (job) await invoke(job);
      posted = [];
      const out = await invoke("watchdog");
      const now = `pending ${out.pending ?? 0} stale ${out.stale}`;
      if (now !== last) counts.push(`${at.slice(5, 16)} ${now}`);
      last = now;
      sent.push(...texts().map((t) => `${at.slice(5, 16)} ${t}`));
      clock.advance(HOUR);
    }
    return { counts, sent };
  }

  it("is pending, not stale, for the hourly runs before the first backup: 0 criticals from the deploy through the first backup and copy", async () => {
    newStage("2026-11-19T10:00:00Z");

    const first = await invoke("watchdog");
    expect(first).toMatchObject({ stale: 0, pending: 2, stageDeployedAt: "2026-11-19T10:00:00.000Z", alerts: [] });
    expect((first.findings as { status: string; reason: string }[]).map((f) => [f.status, f.reason])).toEqual([
      ["pending", "no backup of app-db in eu-west-1 yet: the stage was deployed 0.0 h ago, the first is due within 25 h of it"],
      ["pending", "no backup of app-db in eu-central-1 yet: the stage was deployed 0.0 h ago, the first is due within 25 h of it"],
    ]);
    expect(metrics.filter((m) => m.name === "BackupAgeHours").map((m) => m.value)).toEqual([0, 0]);
    clock.advance(HOUR);
    // The first nightly backup at 02:00 (available by 03:00) and its DR copy at 03:00 (available by 04:00); the watchdog
    // every hour for 26 h from the deploy.
    const { counts, sent } = await hourly("2026-11-20T12:00:00Z", { "2026-11-20T02:00:00.000Z": "backup", "2026-11-20T03:00:00.000Z": "copy" });
    expect(counts).toEqual(["11-19T11:00 pending 2 stale 0", "11-20T03:00 pending 1 stale 0", "11-20T04:00 pending 0 stale 0"]);
    expect(sent).toEqual([]);
    expect(sb.s3.objects(BUCKET, "state/alerts/")).toEqual([]);
    expect(sb.iam!.denials).toEqual([]);
  });

  it("gets its critical once more than the freshness window has passed since the deploy when the first backup never happens", async () => {
    newStage("2026-11-19T10:00:00Z");

    const { counts, sent } = await hourly("2026-11-20T16:00:00Z");

    // 25 h after the deploy (11:00) is still within the 25 h limit; 12:00 is past it.
    expect(counts).toEqual(["11-19T10:00 pending 2 stale 0", "11-20T12:00 pending 0 stale 2"]);
    expect(sent).toEqual([
      "11-20T12:00 🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-20 12:00 UTC (ops-autopilot test)",
      "11-20T12:00 🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-20 12:00 UTC (ops-autopilot test)",
    ]);
  });

  it("is missing at once when the marker was recorded by a run, not the deploy (the deploy's time is unknown)", async () => {
    deployAt("2026-11-20T01:00:00Z", "prune");
    await invoke("watchdog");
    expect(texts()).toEqual([
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-central-1 since 2026-11-20 02:00 UTC (ops-autopilot test)",
      "🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-20 02:00 UTC (ops-autopilot test)",
    ]);
  });
});
