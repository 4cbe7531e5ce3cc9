import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { applyDeleteCaps } from "../../../core/guardrails.ts";
import type { PrunePlan } from "../../../core/retention.ts";
import { DR, PRIMARY, days, snap } from "./builders.ts";

const planArb = fc
  .record({
    resourceId: fc.constantFrom("a", "b", "c", "d"),
    region: fc.constantFrom(PRIMARY, DR),
    keep: fc.nat(15),
    del: fc.nat(40),
    from: fc.integer({ min: 0, max: 200 }),
  })
  .map((r): PrunePlan => {
    const all = days(new Date(Date.UTC(2026, 0, 1) + r.from * 86_400_000).toISOString().slice(0, 10), r.keep + r.del).map((day) =>
      snap({ day, resourceId: r.resourceId, region: r.region }),
    );
    return {
      resourceId: r.resourceId,
      kind: "rds-instance",
      region: r.region,
      keep: all.slice(r.del).map((s) => ({ action: "keep", target: s, reason: "kept" })),
      delete: all.slice(0, r.del).map((s) => ({ action: "delete", target: s, reason: "expired" })),
      foreign: 0,
    };
  });

describe("applyDeleteCaps properties", () => {
  it("never exceeds either cap, loses no snapshot, and is deterministic", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(planArb, { maxLength: 8, selector: (p) => `${p.resourceId}/${p.region}` }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 100 }),
        (plans, maxDeletesPerRun, maxDeletePercent) => {
          const caps = { maxDeletesPerRun, maxDeletePercent };
          const out = applyDeleteCaps(plans, caps);
          const total = out.plans.reduce((n, p) => n + p.delete.length, 0);
          const wanted = plans.reduce((n, p) => n + p.delete.length, 0);
          expect(total).toBeLessThanOrEqual(maxDeletesPerRun);
          out.plans.forEach((p, i) => {
            const before = plans[i]!;
            const seen = before.keep.length + before.delete.length;
            expect(p.delete.length * 100).toBeLessThanOrEqual(seen * maxDeletePercent);
            expect(p.keep.length + p.delete.length).toBe(seen);
            // Only what retention chose may be deleted.
            for (const d of p.delete) expect(before.delete.some((b) => b.target === d.target)).toBe(true);
          });
          const deferred = out.capped.reduce((n, c) => n + c.deferred, 0);
          expect(total + deferred).toBe(wanted);
          expect(applyDeleteCaps(plans, caps)).toEqual(out);
        },
      ),
      { numRuns: 300 },
    );
  });
});
