import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, HOUR, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { createHandler, type MetricPoint, type RunContext } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { runWatchdog } from "../../../runbooks/backup/watchdog.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parseCopyEvent, parseWatchdogEvent, type JobEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
let sb: Sandbox;
let clock: FakeClock;
let posted: SlackMessage[];
let metrics: MetricPoint[];
const config = parseConfig({
  stage: "test",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
  backup: { policies: [{ name: "db", selection: { tag: {} } }] },
});
const ctx = lambdaContext("r");
const runtime = () =>
  quietRuntime(config, clock, {
    postSlack: async (m: SlackMessage) => void posted.push(m),
    emitMetrics: (p: MetricPoint[]) => void metrics.push(...p),
  });
const invoke = (name: "backup" | "copy" | "watchdog") => {
  const spec = {
    backup: { name, parse: parseBackupEvent, run: (e: JobEvent, c: RunContext) => runBackup(e, c, backupDeps(c)) },
    copy: { name, parse: parseCopyEvent, run: (e: JobEvent, c: RunContext) => runCopy(e, c, backupDeps(c)) },
    watchdog: { name, parse: parseWatchdogEvent, run: (e: JobEvent, c: RunContext) => runWatchdog(e, c, backupDeps(c)) },
  }[name];
  return createHandler(spec, runtime())({ trigger: "schedule" }, ctx) as Promise<Record<string, unknown>>;
};

beforeEach(() => {
  clock = new FakeClock("2026-11-20T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY, DR] });
  resetClients();
  posted = [];
  metrics = [];
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("freshness watchdog", () => {
  it("publishes its heartbeat and the age per resource and region, and stays quiet while backups are fresh", async () => {
    await invoke("backup");
    clock.advance(HOUR);
    await invoke("copy");
    clock.advance(HOUR);
    posted = [];
    const out = await invoke("watchdog");
    expect(out.stale).toBe(0);
    expect(posted).toEqual([]);
    expect(metrics).toContainEqual({ name: "WatchdogHeartbeat", unit: "Count", value: 1 });
    expect(metrics).toContainEqual({ name: "StaleBackups", unit: "Count", value: 0 });
    const ages = metrics.filter((m) => m.name === "BackupAgeHours").map((m) => [m.dimensions?.region, Math.round(m.value)]);
    // The copy holds data captured at 02:00 in the primary region: both are two hours old.
    expect(ages).toEqual([
      [PRIMARY, 2],
      [DR, 2],
    ]);
  });

  it("raises one critical alert naming each resource and region over the limit", async () => {
    await invoke("backup");
    clock.advance(HOUR);
    await invoke("copy");
    clock.advance(25 * HOUR); // 27 h after the backup, no new one
    posted = [];
    const out = await invoke("watchdog");
    expect(out.stale).toBe(2);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.text).toMatch(/CRITICAL: 2 resource\/region pair/);
    const text = renderText(posted[0]!);
    expect(text).toMatch(new RegExp(`app-db\` \\(${PRIMARY}\\)`));
    expect(text).toMatch(new RegExp(`app-db\` \\(${DR}\\)`));
    expect(metrics).toContainEqual({ name: "StaleBackups", unit: "Count", value: 2 });
  });

  it("alerts for a selected resource that has never been backed up", async () => {
    await invoke("watchdog");
    expect(posted[0]!.text).toMatch(/CRITICAL/);
    expect(renderText(posted[0]!)).toMatch(/no available backup|missing|never/i);
  });
});
