import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSandbox, FakeClock, s3Error, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parsePruneEvent } from "../../../schemas/events-backup.ts";
import { parseConfig, type ConfigInput } from "../../../schemas/config.ts";
import type { PruneLedger } from "../../../core/guardrails.ts";

/**
 * Delete caps hold per resource per day across invocations (issue 9): Lambda retries a failed scheduled
 * invocation twice (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html) and
 * people re-run prune by hand, so a cap counted per invocation would be multiplied. Each prune reserves its
 * deletes in `state/prune/<day>.json` (the prune schedule's day in its timezone) before sending them.
 */

const PRIMARY = "eu-west-1";
const REPORTS = "ops-autopilot-test-reports";
const CAP = 4;
const ledgerKey = (day: string) => `state/prune/${day}.json`;

let sb: Sandbox;
let clock: FakeClock;
const stateBucket = { bucket: REPORTS, region: PRIMARY };

function config(extra: Partial<ConfigInput> = {}) {
  return parseConfig({
    stage: "test",
    primaryRegion: PRIMARY,
    observe: false,
    backup: {
      policies: [
        // Only daily backups, kept 2 days: on day 20 seventeen or more have expired, far beyond the cap.
        { name: "db", selection: { tag: {} }, tiers: { daily: { keep: { days: 2 } } }, keepNewest: 1, maxDeletesPerRun: CAP, maxDeletePercent: 100 },
      ],
    },
    ...extra,
  });
}

function runtime(cfg = config()): Runtime {
  return quietRuntime(cfg, { now: () => clock.now() });
}

const lambdaCtx = (requestId: string) => lambdaContext(requestId);

async function backupDays(from: number, to: number, cfg = config()): Promise<void> {
  const backup = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime(cfg));
  for (let d = from; d <= to; d++) {
    clock.set(new Date(Date.UTC(2026, 10, d, 2)));
    await backup({ trigger: "schedule" }, lambdaCtx(`backup-${d}`));
  }
}

async function prune(requestId: string, cfg = config()): Promise<{ out?: Record<string, unknown>; error?: AggregateRunError }> {
  const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime(cfg));
  try {
    return { out: (await handler({ trigger: "schedule" }, lambdaCtx(requestId))) as Record<string, unknown> };
  } catch (error) {
    if (error instanceof AggregateRunError) return { error };
    throw error;
  }
}

/** Snapshot ids whose delete AWS accepted (not the attempts that failed). */
function deleted(): string[] {
  return sb
    .callsTo("rds", "DeleteDBSnapshot")
    .filter((c) => !c.error)
    .map((c) => (c.input as { DBSnapshotIdentifier: string }).DBSnapshotIdentifier);
}

function ledger(day: string): PruneLedger | undefined {
  return sb.s3.json<PruneLedger>(REPORTS, ledgerKey(day));
}

/** A fresh account with twenty nightly backups (Nov 1–20), at the prune time of Nov 20, nothing deleted yet. */
async function twentyNights(): Promise<void> {
  sb?.restore();
  clock = new FakeClock("2026-11-01T00:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: [REPORTS] });
  resetClients();
  sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
  await backupDays(1, 20);
  clock.set(new Date("2026-11-20T04:30:00Z"));
  sb.resetCalls();
}

beforeEach(twentyNights);
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("prune caps per resource per day", () => {
  it("three invocations in one day (the run and Lambda's two retries) delete no more than the cap in total", async () => {
    const first = await prune("prune-20");
    expect(first.out!.capped).toEqual([{ resourceId: "app-db", region: PRIMARY, deferred: 14, reason: `cap: at most ${CAP} deletes per day` }]);
    expect(deleted()).toHaveLength(CAP);
    const second = await prune("prune-20");
    const third = await prune("prune-20-by-hand");
    expect(deleted()).toHaveLength(CAP);
    for (const run of [second, third]) {
      expect(run.out!.capped).toEqual([
        { resourceId: "app-db", region: PRIMARY, deferred: 14, reason: `cap: at most ${CAP} deletes per day (${CAP} already today)` },
      ]);
    }
    // The reservation names exactly what was deleted, and the run that deleted it, under the prune schedule's day.
    expect(ledger("2026-11-20")!.policies).toEqual({
      db: { [`${PRIMARY}/rds-instance/app-db`]: Object.fromEntries([...deleted()].sort().map((id) => [id, "prune-20"])) },
    });
    // Reserved before the deletes were sent: the ledger write precedes the first DeleteDBSnapshot.
    const order = sb.calls.filter((c) => c.command === "PutObject" || c.command === "DeleteDBSnapshot").map((c) => c.command);
    expect(order.slice(0, 2)).toEqual(["PutObject", "DeleteDBSnapshot"]);
  });

  it("the next day the budget resets", async () => {
    await prune("prune-20");
    await prune("prune-20-retry");
    expect(deleted()).toHaveLength(CAP);
    await backupDays(21, 21);
    clock.set(new Date("2026-11-21T04:30:00Z"));
    const next = await prune("prune-21");
    expect(deleted()).toHaveLength(2 * CAP);
    expect(new Set(deleted()).size).toBe(2 * CAP);
    expect(next.out!.capped).toEqual([{ resourceId: "app-db", region: PRIMARY, deferred: 11, reason: `cap: at most ${CAP} deletes per day` }]);
    expect(Object.keys(ledger("2026-11-21")!.policies.db![`${PRIMARY}/rds-instance/app-db`]!)).toHaveLength(CAP);
  });

  it("the day is the prune schedule's day in its timezone: 23:30 UTC is already tomorrow in Tokyo", async () => {
    const tokyo = config({ schedules: { timezones: { prune: "Asia/Tokyo" } } });
    clock.set(new Date("2026-11-20T23:30:00Z"));
    await prune("prune-tokyo", tokyo);
    expect(ledger("2026-11-21")!.timeZone).toBe("Asia/Tokyo");
    expect(ledger("2026-11-20")).toBeUndefined();
  });

  it("a conditional write that another run won is re-read and re-planned: nothing lost, nothing counted twice", async () => {
    // Another prune reserves the two oldest expired snapshots between our read and our write (412 for us).
    let other: string[] = [];
    sb.inject({
      service: "s3",
      command: "PutObject",
      match: (input: { Key?: string }) => input.Key === ledgerKey("2026-11-20"),
      error: () => {
        other = sb.rds
          .snapshots(PRIMARY, { sourceId: "app-db", type: "manual" })
          .map((s) => s.id)
          .sort()
          .slice(0, 2);
        const reservations = Object.fromEntries(other.map((id) => [id, "other-run"]));
        sb.s3.put(
          REPORTS,
          ledgerKey("2026-11-20"),
          JSON.stringify({ day: "2026-11-20", timeZone: "UTC", policies: { db: { [`${PRIMARY}/rds-instance/app-db`]: reservations } } }),
        );
        return s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      },
    });
    const run = await prune("prune-20");
    const reserved = ledger("2026-11-20")!.policies.db![`${PRIMARY}/rds-instance/app-db`]!;
    // The other run's two stay reserved in its name, for it (or Lambda's retry of it) to delete; we reserve two more, not four.
    expect(Object.keys(reserved)).toHaveLength(CAP);
    expect(other.map((id) => reserved[id])).toEqual(["other-run", "other-run"]);
    expect(deleted()).toHaveLength(2);
    expect(deleted().map((id) => reserved[id])).toEqual(["prune-20", "prune-20"]);
    expect(run.out!.capped).toEqual([{ resourceId: "app-db", region: PRIMARY, deferred: 14, reason: `cap: at most ${CAP} deletes per day (2 already today)` }]);
  });

  it("two concurrent invocations delete no more than the cap between them", async () => {
    const [a, b] = await Promise.all([prune("prune-a"), prune("prune-b")]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    // Each snapshot deleted once, by the run that reserved it: the loser does not race the winner's deletes.
    expect(deleted()).toHaveLength(CAP);
    expect(new Set(deleted()).size).toBe(CAP);
    expect(Object.keys(ledger("2026-11-20")!.policies.db![`${PRIMARY}/rds-instance/app-db`]!).sort()).toEqual([...deleted()].sort());
    // One of the two lost the conditional create of the ledger and re-planned.
    const writes = sb.callsTo("s3", "PutObject").filter((c) => (c.input as { Key: string }).Key === ledgerKey("2026-11-20"));
    expect(writes.filter((c) => c.error).map((c) => c.error!.name)).toEqual(["PreconditionFailed"]);
  });

  it("when the reservation cannot be written nothing is deleted and the run fails as retryable", async () => {
    sb.inject({
      service: "s3",
      command: "PutObject",
      error: "internal",
      times: Infinity,
      match: (input: { Key?: string }) => input.Key === ledgerKey("2026-11-20"),
    });
    const run = await prune("prune-20");
    expect(deleted()).toEqual([]);
    expect(run.error!.failures).toEqual([
      {
        item: ledgerKey("2026-11-20"),
        kind: "retryable",
        message: expect.stringMatching(/^deletes not reserved, none sent: InternalError/),
      },
    ]);
  });

  it("a dry-run reads today's count but reserves nothing", async () => {
    await prune("prune-20");
    const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime());
    const before = sb.s3.text(REPORTS, ledgerKey("2026-11-20"));
    const out = (await handler({ trigger: "manual" }, lambdaCtx("dry"))) as { capped: unknown[] };
    expect(out.capped).toEqual([{ resourceId: "app-db", region: PRIMARY, deferred: 14, reason: `cap: at most ${CAP} deletes per day (${CAP} already today)` }]);
    expect(sb.s3.text(REPORTS, ledgerKey("2026-11-20"))).toBe(before);
    expect(deleted()).toHaveLength(CAP);
  });
});

describe("prune caps per day, property", () => {
  type Step = "run" | "retry" | "pair" | "deletes-fail" | "write-lost";
  const stepArb = fc.constantFrom<Step>("run", "retry", "pair", "deletes-fail", "write-lost");

  it("any sequence of invocations in a day (retries, concurrent pairs, failed deletes, lost ledger writes) never deletes more than the cap", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
        // Every run starts from the same twenty nightly backups, with nothing deleted yet today.
        await twentyNights();
        let n = 0;
        let last = "req-0";
        for (const step of steps) {
          const id = step === "retry" ? last : `req-${++n}`;
          last = id;
          if (step === "pair") {
            await Promise.all([prune(id), prune(`${id}-b`)]);
            continue;
          }
          const fault =
            step === "deletes-fail"
              ? sb.inject({ service: "rds", command: "DeleteDBSnapshot", error: "internal", times: Infinity })
              : step === "write-lost"
                ? sb.inject({ service: "s3", command: "PutObject", error: "state", match: (input: { Key?: string }) => input.Key === ledgerKey("2026-11-20") })
                : undefined;
          await prune(id);
          fault?.clear();
        }
        const done = new Set(deleted());
        const reserved = Object.values(ledger("2026-11-20")?.policies.db ?? {}).flatMap((r) => Object.keys(r));
        expect(done.size).toBeLessThanOrEqual(CAP);
        expect(reserved.length).toBeLessThanOrEqual(CAP);
        for (const id of done) expect(reserved).toContain(id);
      }),
      { numRuns: 15 },
    );
  });
});
