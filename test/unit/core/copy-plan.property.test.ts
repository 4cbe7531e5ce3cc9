import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { planCopies } from "../../../core/copy-plan.ts";
import { TAG } from "../../../core/types.ts";
import type { SnapshotStatus } from "../../../core/types.ts";
import { DR, OWNER, drCopy, policy, snap } from "./builders.ts";

const REGIONS = [DR, "us-east-1", "us-west-2"];
const DAY = 86_400_000;

const inputArb = fc.record({
  sources: fc.uniqueArray(
    fc.record({
      resourceId: fc.constantFrom("a-db", "b-db", "vol-1"),
      ago: fc.integer({ min: 0, max: 60 }),
      status: fc.constantFrom<SnapshotStatus>("available", "available", "pending", "error"),
    }),
    { maxLength: 80, selector: (s) => `${s.resourceId}/${s.ago}` },
  ),
  copied: fc.array(fc.tuple(fc.nat(79), fc.constantFrom(...REGIONS)), { maxLength: 40 }),
  inFlight: fc.record({ [DR]: fc.integer({ min: 0, max: 25 }), "us-east-1": fc.integer({ min: 0, max: 25 }) }),
  maxInFlight: fc.integer({ min: 1, max: 20 }),
});

describe("planCopies properties", () => {
  it("never starts more copies than a region has room for, never from an unavailable source, never twice", () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const sources = i.sources.map((s) =>
          snap({ resourceId: s.resourceId, day: new Date(Date.UTC(2026, 10, 21) - s.ago * DAY).toISOString().slice(0, 10), status: s.status }),
        );
        const existing = i.copied.flatMap(([n, region]) => (sources[n] ? [drCopy(sources[n], { region })] : []));
        const out = planCopies({
          sources,
          copies: existing,
          drRegions: REGIONS.map((region) => ({ region, kmsKeyId: `key-${region}` })),
          inFlight: i.inFlight,
          maxInFlight: i.maxInFlight,
          owner: OWNER,
          policies: [policy()],
        });
        expect(out).toHaveLength(sources.length * REGIONS.length);
        for (const region of REGIONS) {
          const started = out.filter((d) => d.target.region === region && d.action === "copy");
          const room = Math.max(0, i.maxInFlight - ((i.inFlight as Record<string, number>)[region] ?? 0));
          expect(started.length).toBeLessThanOrEqual(room);
          // Oldest first: nothing deferred is older than something started.
          const deferred = out.filter((d) => d.target.region === region && d.action === "defer-limit");
          if (started.length && deferred.length) {
            const newestStarted = started
              .map((d) => d.target.source.tags[TAG.backupDate]!)
              .sort()
              .at(-1)!;
            const oldestDeferred = deferred.map((d) => d.target.source.tags[TAG.backupDate]!).sort()[0]!;
            expect(newestStarted <= oldestDeferred).toBe(true);
          }
          if (deferred.length) expect(started.length).toBe(room);
          for (const d of started) {
            expect(d.target.source.status).toBe("available");
            expect(d.target.kmsKeyId).toBe(`key-${region}`);
            expect(existing.some((c) => c.region === region && c.tags[TAG.copyOf] === d.target.source.id)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
