import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";

/**
 * A resource in a state that passes (`backing-up`, `modifying`, `configuring-*`, …) at backup time is retried
 * within the day (issue 9). The run reports it as a retryable failure, so the invocation fails and Lambda retries
 * it, 1 and then 2 more minutes later (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html);
 * a later scheduled run the same day picks it up under the same day's name. A state that stays (`stopped`) is
 * reported, not failed: it would fail every night and teach people to ignore the alarm.
 */

const PRIMARY = "eu-west-1";
const REPORTS = "ops-autopilot-test-reports";

let sb: Sandbox;
let clock: FakeClock;
const posted: SlackMessage[] = [];
const stateBucket = { bucket: REPORTS, region: PRIMARY };
const config = parseConfig({ stage: "test", primaryRegion: PRIMARY, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });
const runtime: Runtime = quietRuntime(config, { now: () => clock.now() }, { postSlack: async (m) => void posted.push(m) });

interface Outcome {
  out?: { decisions: { action: string; resource: string; name: string; reason: string }[] };
  error?: AggregateRunError;
}

/** One invocation; `requestId` is what Lambda keeps across its retries of one event. */
async function backup(requestId = "req-1"): Promise<Outcome> {
  const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime);
  try {
    return { out: (await handler({ trigger: "schedule" }, lambdaContext(requestId))) as Outcome["out"] };
  } catch (error) {
    if (error instanceof AggregateRunError) return { error };
    throw error;
  }
}

const at = (hhmm: string) => new Date(`2026-11-21T${hhmm}:00Z`);
const created = () => sb.callsTo("rds", "CreateDBSnapshot").filter((c) => !c.error);

beforeEach(() => {
  clock = new FakeClock("2026-11-21T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: [REPORTS] });
  resetClients();
  posted.length = 0;
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("resources in a passing state are retried within the day", () => {
  it("backing-up at 02:00: the run fails as retryable, Lambda's retry at 02:03 creates the night's snapshot", async () => {
    sb.rds.setStatus(PRIMARY, "app-db", "backing-up");
    sb.rds.setStatus(PRIMARY, "app-db", "available", { at: at("02:02") });

    const first = await backup();
    expect(first.error!.failures).toEqual([
      {
        item: "app-db",
        region: PRIMARY,
        kind: "retryable",
        message: 'rds-instance app-db is "backing-up", a state that passes: not snapshotted yet; the retry or a later run today takes it',
      },
    ]);
    expect(renderText(posted[0]!)).toMatch(/app-db.*retryable.*backing-up/);
    clock.set(at("02:01"));
    expect((await backup()).error!.failures.map((f) => f.kind)).toEqual(["retryable"]);
    clock.set(at("02:03"));
    const third = await backup();
    expect(third.error).toBeUndefined();
    expect(created()).toHaveLength(1);
    expect(third.out!.decisions.map((d) => d.action)).toEqual(["create"]);
  });

  it("modifying until 05:00: a later scheduled run the same day takes it, under that day's name", async () => {
    sb.rds.setStatus(PRIMARY, "app-db", "modifying");
    sb.rds.setStatus(PRIMARY, "app-db", "available", { at: at("05:00") });
    const night = await backup("req-night");
    expect(night.error!.failures.map((f) => [f.item, f.kind])).toEqual([["app-db", "retryable"]]);
    clock.set(at("06:00"));
    const later = await backup("req-morning");
    expect(later.error).toBeUndefined();
    expect(created()).toHaveLength(1);
    expect((created()[0]!.input as { DBSnapshotIdentifier: string }).DBSnapshotIdentifier).toBe(later.out!.decisions[0]!.name);
    expect(later.out!.decisions[0]!.name).toMatch(/-20261121$/);
  });

  it.each([
    ["aurora-cluster", "backtracking"],
    ["aurora-cluster", "failing-over"],
    ["rds-instance", "configuring-enhanced-monitoring"],
    ["rds-instance", "storage-optimization"],
    ["ebs-volume", "creating"],
  ] as const)("a %s that is %s is a retryable failure", async (kind, status) => {
    sb.rds.setStatus(PRIMARY, "app-db", "stopped");
    if (kind === "aurora-cluster") {
      sb.rds.addCluster(PRIMARY, { id: "app-cluster", tags: { "ops-autopilot:backup": "db" } });
      sb.rds.setStatus(PRIMARY, "app-cluster", status, { kind: "cluster" });
    } else if (kind === "rds-instance") {
      sb.rds.setStatus(PRIMARY, "app-db", status);
    } else {
      sb.ec2.addVolume(PRIMARY, { id: "vol-0000000000000000a", tags: { "ops-autopilot:backup": "db" } });
      sb.ec2.setVolumeStatus(PRIMARY, "vol-0000000000000000a", status);
    }
    const run = await backup();
    const id = kind === "aurora-cluster" ? "app-cluster" : kind === "rds-instance" ? "app-db" : "vol-0000000000000000a";
    expect(run.error!.failures.filter((f) => f.kind === "retryable")).toEqual([
      expect.objectContaining({ item: id, message: expect.stringContaining(`${kind} ${id} is "${status}", a state that passes`) }),
    ]);
  });

  it("a stopped instance is reported with its state, not failed and not retried", async () => {
    sb.rds.setStatus(PRIMARY, "app-db", "stopped");
    const run = await backup();
    expect(run.error).toBeUndefined();
    expect(run.out!.decisions).toEqual([expect.objectContaining({ action: "skip-state", reason: expect.stringContaining('"stopped"') })]);
    expect(renderText(posted[0]!)).toMatch(/app-db.*stopped/);
  });

  it("a state we do not know is retried, not skipped quietly", async () => {
    sb.rds.setStatus(PRIMARY, "app-db", "some-new-state");
    const run = await backup();
    expect(run.error!.failures).toEqual([
      expect.objectContaining({ item: "app-db", kind: "retryable", message: expect.stringContaining('"some-new-state", a state not known to stay') }),
    ]);
  });
});
