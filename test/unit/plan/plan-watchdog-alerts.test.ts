import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { alertStateKey } from "../../../adapters/alert-state.ts";
import { runPlan } from "../../../runbooks/plan/plan.ts";
import { decisionLines } from "../../../runbooks/plan/render.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { parseConfig } from "../../../schemas/config.ts";

/** The read-only plan of the watchdog: what it would post against the stored incidents, and nothing written. */

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-reports-plan";
const config = parseConfig({ stage: "plan", primaryRegion: REGION, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });
let sb: Sandbox;
let clock: FakeClock;

beforeEach(() => {
  clock = new FakeClock("2026-11-21T11:00:00Z");
  sb = createSandbox({ clock, regions: [REGION], buckets: [BUCKET] });
  resetClients();
  sb.rds.addInstance(REGION, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("plan --only watchdog", () => {
  it("says it would remind of an incident the stored state has open for 6 h, and writes nothing", async () => {
    const incident = { openedAt: "2026-11-21T05:00:00.000Z", lastNotifiedAt: "2026-11-21T05:00:00.000Z", reminders: 0, detail: {} };
    sb.s3.put(BUCKET, alertStateKey("watchdog"), JSON.stringify({ source: "watchdog", incidents: { "stale:db:eu-west-1": incident } }), "application/json");
    const plan = await runPlan({ config, only: ["watchdog"], now: () => clock.now(), stateBucket: { bucket: BUCKET, region: REGION } });
    const lines = decisionLines(plan.sections[0]!);
    expect(lines.at(-1)).toBe(
      "alert reminder stale:db:eu-west-1 — stale:db:eu-west-1 still holds, open since 2026-11-21T05:00:00.000Z; last message 6 h ago (remind every 6 h); " +
        "would post: ⏰ REMINDER: still no fresh backup for 1 resource of policy db in eu-west-1, stale for 6 h since 2026-11-21 05:00 UTC (ops-autopilot plan)",
    );
    expect(sb.callsTo("s3", "PutObject")).toEqual([]);
    expect(plan.notes).toEqual([]);
  });

  it("without the state bucket, takes every stale policy/region as a new incident and says so", async () => {
    const plan = await runPlan({ config, only: ["watchdog"], now: () => clock.now() });
    expect(decisionLines(plan.sections[0]!).at(-1)).toBe(
      "alert started stale:db:eu-west-1 — stale:db:eu-west-1 holds and no incident is open; " +
        "would post: 🚨 CRITICAL: no fresh backup for 1 resource of policy db in eu-west-1 since 2026-11-21 11:00 UTC (ops-autopilot plan)",
    );
    expect(plan.notes).toEqual(["watchdog: its alert state not read (no --state-bucket): every stale policy/region is taken as a new incident"]);
  });
});
