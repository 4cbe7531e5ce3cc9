import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import type { ObserveMarker } from "../../../core/observe.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { type ConfigInput, parseConfig } from "../../../schemas/config.ts";
import { parseBackupEvent, parsePruneEvent } from "../../../schemas/events-backup.ts";

/**
 * Observe mode on the sandbox (IAM enforced): a new stage's scheduled prune plans exactly what it would delete,
 * daily caps included, records the start of its 14-day window, sends no delete and says so in Slack; the same
 * account is pruned once the window has passed.
 */

const PRIMARY = "eu-west-1";
const REPORTS = "ops-autopilot-test-reports";
const CAP = 4;
const MARKER = "state/observe.json";
const DELETES = ["DeleteDBSnapshot", "DeleteDBClusterSnapshot", "DeleteSnapshot"];

let sb: Sandbox;
let clock: FakeClock;
let posted: SlackMessage[];
const stateBucket = { bucket: REPORTS, region: PRIMARY };

/** The stage's config as a user writes it: no `observe` field, so the default 14 days apply. */
function config(extra: Partial<ConfigInput> = {}) {
  return parseConfig({
    stage: "test",
    primaryRegion: PRIMARY,
    backup: {
      policies: [{ name: "db", selection: { tag: {} }, tiers: { daily: { keep: { days: 2 } } }, keepNewest: 1, maxDeletesPerRun: CAP, maxDeletePercent: 100 }],
    },
    ...extra,
  });
}

const runtime = (cfg: ReturnType<typeof config>): Runtime => quietRuntime(cfg, clock, { postSlack: async (m) => void posted.push(m) });

async function backupNights(from: Date, to: Date, cfg = config()): Promise<void> {
  const backup = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime(cfg));
  for (let t = from.getTime(); t <= to.getTime(); t += 86_400_000) {
    clock.set(new Date(t));
    await backup({ trigger: "schedule" }, lambdaContext(`backup-${t}`));
  }
}

async function prune(at: string, event: unknown = { trigger: "schedule" }, cfg = config()): Promise<Record<string, unknown>> {
  clock.set(new Date(at));
  sb.resetCalls();
  const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime(cfg));
  return (await handler(event, lambdaContext(`prune-${at}`))) as Record<string, unknown>;
}

const deleteCommands = () => sb.calls.filter((c) => DELETES.includes(c.command)).map((c) => c.command);
const commands = () => sb.calls.map((c) => `${c.command}${c.command.endsWith("Object") ? ` ${(c.input as { Key: string }).Key}` : ""}`);
const snapshotsLeft = () => sb.rds.snapshots(PRIMARY).length;

beforeEach(async () => {
  clock = new FakeClock("2026-11-01T00:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: [REPORTS] });
  resetClients();
  posted = [];
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
  // Twenty nights of backups before the stage's first prune: seventeen are past the 2-day retention.
  await backupNights(new Date("2026-11-01T02:00:00Z"), new Date("2026-11-20T02:00:00Z"));
  posted = [];
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("prune in observe mode", () => {
  it("the stage's first scheduled prune records the window's start, plans the capped deletes, sends none and says what it would have deleted", async () => {
    const before = snapshotsLeft();
    const report = await prune("2026-11-20T04:30:00Z");

    expect(deleteCommands()).toEqual([]);
    // Exactly: the snapshot listing, the marker (read, then created), today's ledger read for the caps (never written).
    expect(commands()).toEqual([
      `GetObject ${MARKER}`,
      `PutObject ${MARKER}`,
      "DescribeDBSnapshots",
      "DescribeDBClusterSnapshots",
      "DescribeImages",
      "DescribeSnapshots",
      "GetObject state/prune/2026-11-20.json",
    ]);
    expect(sb.iam?.denials ?? []).toEqual([]);
    expect(snapshotsLeft()).toBe(before);
    expect(sb.s3.json<ObserveMarker>(REPORTS, MARKER)).toEqual({
      version: 1,
      startedAt: "2026-11-20T04:30:00.000Z",
      by: "prune",
      runId: "prune-2026-11-20T04:30:00Z",
    });
    expect(sb.s3.json(REPORTS, "state/prune/2026-11-20.json")).toBeUndefined();

    const plan = (report.plans as { delete: { id: string }[] }[])[0]!;
    const wouldDelete = plan.delete.map((d) => d.id);
    expect(wouldDelete).toHaveLength(CAP);
    expect(report.observe).toEqual({
      observed: true,
      until: "2026-12-03",
      timeZone: "UTC",
      reason: "observe mode until the end of 2026-12-03 (UTC): 14 days from the stage's first run on 2026-11-20",
    });
    expect(report.capped).toEqual([{ resourceId: "app-db", region: PRIMARY, deferred: 14, reason: `cap: at most ${CAP} deletes per day` }]);
    expect(report.results).toEqual([]);

    expect(posted).toHaveLength(1);
    if (process.env.SHOW_SLACK) console.log(renderText(posted[0]!));
    // The report store is replaced (quietRuntime): the summary names its report by key.
    expect(posted[0]!.text).toBe(
      `Prune — observe mode until the end of 2026-12-03 (UTC): would have deleted ${CAP} snapshots: ${wouldDelete.map((id) => `\`${id}\` (${PRIMARY})`).join(", ")}; nothing was deleted (0 frozen, 1 capped, 0 failed)\nRun report: reports/prune/2026-11-20/2026-11-20T04-30-00-000Z-prune-2026-11-20T04:30:00Z.json`,
    );
  });

  it("the window is 14 local days from the first run: the last one is still observed, the next day's prune deletes (the same setup)", async () => {
    await prune("2026-11-20T04:30:00Z");
    await backupNights(new Date("2026-11-21T02:00:00Z"), new Date("2026-12-03T02:00:00Z"));

    const last = await prune("2026-12-03T04:30:00Z");
    expect(deleteCommands()).toEqual([]);
    expect((last.observe as { until: string; reason: string }).reason).toBe(
      "observe mode until the end of 2026-12-03 (UTC): 14 days from the stage's first run on 2026-11-20",
    );

    await backupNights(new Date("2026-12-04T02:00:00Z"), new Date("2026-12-04T02:00:00Z"));
    posted = [];
    const after = await prune("2026-12-04T04:30:00Z");
    expect(deleteCommands()).toEqual(Array(CAP).fill("DeleteDBSnapshot"));
    expect(sb.calls.filter((c) => c.command === "PutObject").map((c) => (c.input as { Key: string }).Key)).toEqual(["state/prune/2026-12-04.json"]);
    expect(after.observe).toEqual({
      observed: false,
      until: "2026-12-03",
      timeZone: "UTC",
      reason: "observe mode ended with 2026-12-03 (UTC): 14 days from the stage's first run on 2026-11-20",
    });
    expect(posted.map((m) => m.text.split("\n")[0])).toEqual([
      `Prune: ${CAP} deleted, ${(after.plans as { keep: unknown[] }[])[0]!.keep.length} kept, 0 frozen, 1 capped, 0 failed`,
    ]);
  });

  it('switched off with "observe": false the first prune deletes at once and reads no marker', async () => {
    await prune("2026-11-20T04:30:00Z", { trigger: "schedule" }, config({ observe: false }));
    expect(deleteCommands()).toEqual(Array(CAP).fill("DeleteDBSnapshot"));
    expect(commands().filter((c) => c.includes(MARKER))).toEqual([]);
  });

  it('a manual "dryRun": false while observing is refused before anything is listed, and records no start', async () => {
    const event = JSON.parse(
      await import("node:fs").then((fs) => fs.readFileSync(new URL("../../../events/prune-manual-execute.json", import.meta.url), "utf8")),
    );
    await expect(prune("2026-11-20T04:30:00Z", { ...event, resource: { kind: "rds-instance", id: "app-db" } })).rejects.toThrow(
      "observe mode until the end of 2026-12-03 (UTC): 14 days from the stage's first run, none recorded yet (counted from today): " +
        'a manual prune with "dryRun": false is refused while the stage is observed. ' +
        'Send it with "dryRun": true to see the plan, add "overrideObserve": true to delete anyway, or set "observe": false in the config.',
    );
    expect(deleteCommands()).toEqual([]);
    expect(commands().filter((c) => !c.startsWith("PutObject reports/"))).toEqual([`GetObject ${MARKER}`]);
    expect(sb.s3.json(REPORTS, MARKER)).toBeUndefined();
  });

  it('a manual execute that says "overrideObserve": true deletes during the window, and the report says it overrode', async () => {
    await prune("2026-11-20T04:30:00Z");
    const report = await prune("2026-11-20T10:00:00Z", { trigger: "manual", dryRun: false, overrideObserve: true, note: "disk quota" });
    expect(deleteCommands()).toEqual(Array(CAP).fill("DeleteDBSnapshot"));
    expect(report.observe).toEqual({
      observed: false,
      overridden: true,
      until: "2026-12-03",
      timeZone: "UTC",
      reason: "observe mode until the end of 2026-12-03 (UTC): 14 days from the stage's first run on 2026-11-20",
    });
  });

  it("a manual dry-run while observing is the usual dry-run and records no start (the read-only plan writes nothing)", async () => {
    await prune("2026-11-20T04:30:00Z", { trigger: "manual" });
    expect(deleteCommands()).toEqual([]);
    expect(sb.calls.filter((c) => c.command === "PutObject")).toEqual([]);
  });
});

describe("the manual prune event's overrideObserve", () => {
  it("is accepted only with an explicit execute, and named when refused", () => {
    expect(parsePruneEvent({ trigger: "manual", dryRun: false, overrideObserve: true })).toEqual({ trigger: "manual", dryRun: false, overrideObserve: true });
    expect(() => parsePruneEvent({ trigger: "manual", overrideObserve: true })).toThrow(
      'Invalid prune manual event: overrideObserve: only with "dryRun": false: a dry-run deletes nothing, observed or not',
    );
    expect(() => parsePruneEvent({ trigger: "manual", dryRun: false, overrideObserve: false })).toThrow(/overrideObserve/);
  });
});
