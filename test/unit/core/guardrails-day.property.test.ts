import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { applyDeleteCaps, capKey, reserveDeletes, type DeletesToday, type PruneLedger } from "../../../core/guardrails.ts";
import type { PrunePlan } from "../../../core/retention.ts";
import type { Snapshot } from "../../../core/types.ts";
import { DR, PRIMARY, days, snap } from "./builders.ts";

/**
 * Any sequence of prune invocations in one day — completed runs, Lambda's retries of runs that crashed after
 * reserving, runs that lost the ledger's conditional write to a concurrent one and re-planned, manual re-runs
 * seeing a different plan — never deletes more than the caps allow for the day.
 *
 * The model does what runPrune does with the ledger: read a version, decide in core, write the reservation if
 * the version is unchanged (else read again), then send some or all of the deletes.
 */

interface ResourceSpec {
  resourceId: string;
  region: string;
  total: number;
  expired: number;
}

const resourceArb = fc
  .record({
    resourceId: fc.constantFrom("a", "b", "c"),
    region: fc.constantFrom(PRIMARY, DR),
    total: fc.integer({ min: 1, max: 30 }),
    expiredShare: fc.integer({ min: 0, max: 100 }),
  })
  .map((r): ResourceSpec => ({ resourceId: r.resourceId, region: r.region, total: r.total, expired: Math.floor((r.total * r.expiredShare) / 100) }));

/**
 * What one invocation does: which expired snapshots retention offers (a mask), whether it loses a race, how many
 * deletes it sends before stopping, and whether it is Lambda's retry of the previous one (same request id).
 */
const invocationArb = fc.record({
  offer: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
  losesRace: fc.boolean(),
  sends: fc.oneof(fc.constant(Infinity), fc.nat(10)),
  retry: fc.boolean(),
});

function snapshotsOf(r: ResourceSpec): Snapshot[] {
  return days("2026-09-01", r.total).map((day) => snap({ day, resourceId: r.resourceId, region: r.region }));
}

function planOf(r: ResourceSpec, gone: Set<string>, offer: boolean[]): PrunePlan {
  const all = snapshotsOf(r).filter((s) => !gone.has(s.id));
  const expired = new Set(
    snapshotsOf(r)
      .slice(0, r.expired)
      .map((s) => s.id),
  );
  const del = all.filter((s, i) => expired.has(s.id) && offer[i % offer.length]);
  const delIds = new Set(del.map((s) => s.id));
  return {
    resourceId: r.resourceId,
    kind: "rds-instance",
    region: r.region,
    keep: all.filter((s) => !delIds.has(s.id)).map((s) => ({ action: "keep", target: s, reason: "kept" })),
    delete: del.map((s) => ({ action: "delete", target: s, reason: "expired" })),
    foreign: 0,
  };
}

describe("delete caps over a day of invocations", () => {
  it("any sequence of invocations in a day never exceeds the caps, and every delete sent was reserved first", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(resourceArb, { minLength: 1, maxLength: 4, selector: (r) => `${r.resourceId}/${r.region}` }),
        fc.array(invocationArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 100 }),
        (resources, invocations, maxDeletesPerRun, maxDeletePercent) => {
          const caps = { maxDeletesPerRun, maxDeletePercent };
          let stored: { ledger: PruneLedger; version: number } = { ledger: { day: "2026-11-21", timeZone: "UTC", policies: {} }, version: 0 };
          const gone = new Set<string>();
          const sent: [string, string][] = [];

          let n = 0;
          for (const inv of invocations) {
            const runId = inv.retry && n > 0 ? `run-${n}` : `run-${++n}`;
            let raced = false;
            for (;;) {
              const read = stored;
              const today: DeletesToday = read.ledger.policies.db ?? {};
              const plans = resources.map((r) => planOf(r, gone, inv.offer));
              const decided = applyDeleteCaps(plans, caps, today, runId);
              const next = reserveDeletes(read.ledger, "db", decided.reserve, runId);
              if (inv.losesRace && !raced) {
                // A concurrent run commits first: the same plan, reserved in its name (it may send none of it).
                raced = true;
                const theirs = reserveDeletes(read.ledger, "db", applyDeleteCaps(plans, caps, today, "concurrent").reserve, "concurrent");
                if (theirs) stored = { ledger: theirs, version: read.version + 1 };
                continue;
              }
              if (next) {
                if (stored.version !== read.version) continue;
                stored = { ledger: next, version: read.version + 1 };
              }
              const ids = decided.plans.flatMap((p) => p.delete.map((d) => d.target.id));
              for (const id of ids.slice(0, inv.sends)) {
                sent.push([id, runId]);
                gone.add(id);
              }
              break;
            }
          }

          const reserved = stored.ledger.policies.db ?? {};
          const all = Object.values(reserved).flatMap((r) => Object.keys(r));
          expect(all.length).toBeLessThanOrEqual(maxDeletesPerRun);
          for (const r of resources) {
            const mine = Object.keys(reserved[capKey({ region: r.region, kind: "rds-instance", resourceId: r.resourceId })] ?? {});
            expect(mine.length * 100).toBeLessThanOrEqual(r.total * maxDeletePercent);
            // Only what retention called expired.
            const expired = new Set(
              snapshotsOf(r)
                .slice(0, r.expired)
                .map((s) => s.id),
            );
            for (const id of mine) expect(expired.has(id)).toBe(true);
          }
          // Every delete sent was reserved, and by the run that sent it: no two runs race one delete.
          for (const [id, run] of sent) expect(Object.values(reserved).find((r) => Object.hasOwn(r, id))?.[id]).toBe(run);
          expect(new Set(sent.map(([id]) => id)).size).toBeLessThanOrEqual(maxDeletesPerRun);
        },
      ),
      { numRuns: 300 },
    );
  });
});
