import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { AggregateRunError, createHandler } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parsePruneEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";

/** Fault tests of the backup and prune jobs against the sandbox's real AWS error shapes. */

const PRIMARY = "eu-west-1";
let sb: Sandbox;
let clock: FakeClock;
const posted: SlackMessage[] = [];
const config = parseConfig({ stage: "test", primaryRegion: PRIMARY, observe: false, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });
const runtime = () => quietRuntime(config, clock, { postSlack: async (m: SlackMessage) => void posted.push(m) });
const ctx = lambdaContext("r");

async function backup(): Promise<AggregateRunError | undefined> {
  const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, runtime());
  return handler({ trigger: "schedule" }, ctx).then(
    () => undefined,
    (e: unknown) => {
      if (e instanceof AggregateRunError) return e;
      throw e;
    },
  );
}

beforeEach(() => {
  clock = new FakeClock("2026-11-21T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY] });
  resetClients();
  posted.length = 0;
  for (const id of ["app-db", "billing-db", "search-db"]) sb.rds.addInstance(PRIMARY, { id, tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("backup faults", () => {
  it("throttling that the SDK's retries absorb is invisible: every snapshot is made", async () => {
    const h = sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "throttling", times: 2 });
    expect(await backup()).toBeUndefined();
    expect(h.hits).toBe(2);
    expect(sb.rds.snapshots(PRIMARY, { type: "manual" })).toHaveLength(3);
  });

  it("throttling that outlasts the retries is reported as retryable for that resource only", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "throttling", times: Infinity, match: (i) => i.DBInstanceIdentifier === "billing-db" });
    const error = await backup();
    expect(error?.failures).toEqual([expect.objectContaining({ item: "billing-db", kind: "retryable", message: expect.stringMatching(/^Throttling/) })]);
    expect(
      sb.rds
        .snapshots(PRIMARY, { type: "manual" })
        .map((s) => s.sourceId)
        .sort(),
    ).toEqual(["app-db", "search-db"]);
  });

  it("quota exceeded is reported as such, with the other resources still backed up", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "quota", match: (i) => i.DBInstanceIdentifier === "search-db" });
    const error = await backup();
    expect(error?.failures).toEqual([expect.objectContaining({ item: "search-db", kind: "quota" })]);
    expect(sb.rds.snapshots(PRIMARY, { type: "manual" })).toHaveLength(2);
    expect(renderText(posted[0]!)).toMatch(/search-db.*quota/);
  });

  it("a database already being backed up is a state failure with AWS's reason", async () => {
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "state", match: (i) => i.DBInstanceIdentifier === "app-db" });
    const error = await backup();
    expect(error?.failures).toEqual([
      expect.objectContaining({ item: "app-db", kind: "state", message: expect.stringMatching(/^InvalidDBInstanceStateFault/) }),
    ]);
  });

  it("the real 100-snapshot quota is reached by people's snapshots, not ours, and is reported", async () => {
    for (let i = 0; i < 99; i++) sb.rds.addSnapshot(PRIMARY, { id: `by-hand-${i}`, sourceId: "app-db" });
    const error = await backup();
    expect(error?.failures.map((f) => f.kind)).toEqual(["quota", "quota"]);
    expect(sb.rds.manualCount(PRIMARY, "instance")).toBe(100);
  });
});

describe("prune faults", () => {
  it("a delete that throttles past the retries fails the run; the next run finishes the job without deleting anything twice", async () => {
    sb.restore();
    clock = new FakeClock("2026-11-01T00:00:00Z");
    // Prune reserves its deletes of the day in the reports bucket before sending them.
    sb = createSandbox({ clock, regions: [PRIMARY], buckets: ["reports"] });
    resetClients();
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
    for (let d = 1; d <= 12; d++) {
      clock.set(new Date(Date.UTC(2026, 10, d, 2)));
      await backup();
    }
    clock.advance(30 * MINUTE);
    const throttle = sb.inject({
      service: "rds",
      command: "DeleteDBSnapshot",
      error: "throttling",
      times: Infinity,
      match: (i) => i.DBSnapshotIdentifier === "oa-ops-autopilot-test-app-db-20261103",
    });
    const prune = createHandler(
      { name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket: { bucket: "reports", region: PRIMARY } })) },
      runtime(),
    );
    const first = await prune({ trigger: "schedule" }, ctx).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(AggregateRunError);
    expect((first as AggregateRunError).failures).toEqual([expect.objectContaining({ item: "oa-ops-autopilot-test-app-db-20261103", kind: "retryable" })]);
    throttle.clear();
    await prune({ trigger: "schedule" }, ctx);
    const deleted = sb
      .callsTo("rds", "DeleteDBSnapshot")
      .filter((c) => !c.error)
      .map((c) => (c.input as { DBSnapshotIdentifier: string }).DBSnapshotIdentifier);
    expect(new Set(deleted).size).toBe(deleted.length);
    // Backups of Nov 1-12 (12 days, from Sunday Nov 1) on Nov 12: keep Nov 6-12 (daily) and Nov 1 (Sunday and the 1st), Nov 8 (Sunday).
    const kept = sb.rds
      .snapshots(PRIMARY, { sourceId: "app-db", type: "manual" })
      .map((s) => s.id)
      .sort();
    expect(kept).toEqual([
      "oa-ops-autopilot-test-app-db-20261101",
      ...["06", "07", "08", "09", "10", "11", "12"].map((d) => `oa-ops-autopilot-test-app-db-202611${d}`),
    ]);
  });
});
