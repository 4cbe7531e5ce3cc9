import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { planBackups, snapshotName } from "../../../core/backup-plan.ts";
import type { Snapshot } from "../../../core/types.ts";
import type { Resource } from "../../../core/types.ts";
import { OWNER, PRIMARY, policy } from "./builders.ts";

const DAY = 86_400_000;
const dayArb = fc.integer({ min: Date.UTC(1990, 0, 1) / DAY, max: Date.UTC(2200, 11, 31) / DAY }).map((d) => new Date(d * DAY).toISOString().slice(0, 10));

/** Real-looking ids plus arbitrary strings (unicode, punctuation, very long). */
const idArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9]{0,20}(-[a-z0-9]{1,8}){0,3}$/),
  fc.stringMatching(/^vol-[0-9a-f]{8,17}$/),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 }),
);

const VALID = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}$/;

describe("snapshotName properties", () => {
  it("is always a valid RDS snapshot identifier", () => {
    fc.assert(
      fc.property(idArb, dayArb, (id, day) => {
        const n = snapshotName(OWNER, id, day);
        expect(n).toMatch(VALID);
        expect(n.endsWith("-")).toBe(false);
        expect(n.length).toBeLessThanOrEqual(255);
        expect(snapshotName(OWNER, id, day)).toBe(n); // deterministic
      }),
      { numRuns: 1000 },
    );
  });

  it("is injective over (resource, day), even compared case-insensitively as RDS does", () => {
    fc.assert(
      fc.property(idArb, dayArb, idArb, dayArb, (a, da, b, db) => {
        fc.pre(a !== b || da !== db);
        expect(snapshotName(OWNER, a, da).toLowerCase()).not.toBe(snapshotName(OWNER, b, db).toLowerCase());
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps ids that differ only by characters RDS refuses apart", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,10}$/),
        fc.constantFrom("_", ".", "--", "/", " ", "-"),
        fc.constantFrom("_", ".", "--", "/", " ", "-"),
        dayArb,
        (base, x, y, day) => {
          fc.pre(x !== y);
          expect(snapshotName(OWNER, `${base}${x}1`, day)).not.toBe(snapshotName(OWNER, `${base}${y}1`, day));
        },
      ),
    );
  });
});

const resourceArb = fc.record({
  kind: fc.constantFrom("rds-instance", "aurora-cluster", "ebs-volume") as fc.Arbitrary<Resource["kind"]>,
  id: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}[a-z0-9]$/), fc.string({ minLength: 1, maxLength: 12 })),
  status: fc.constantFrom("available", "in-use", "stopped", "backing-up", "creating"),
});

describe("planBackups properties", () => {
  it("is idempotent: rerunning with its own creations yields only 'exists' for them", () => {
    fc.assert(
      fc.property(
        fc.array(resourceArb, { maxLength: 20 }),
        fc.integer({ min: 0, max: 400 * DAY }),
        fc.integer({ min: 0, max: DAY - 1 }),
        fc.integer({ min: 0, max: DAY - 1 }),
        (rs, dayOffset, t1, t2) => {
          const resources: Resource[] = rs.map((r) => ({ ...r, region: PRIMARY, tags: {} }));
          // The first run and its retry, later the same UTC day (EventBridge at-least-once, Lambda retry).
          const midnight = Date.UTC(2026, 0, 1) + dayOffset - (dayOffset % DAY);
          const now = new Date(midnight + Math.min(t1, t2));
          const retry = new Date(midnight + Math.max(t1, t2));
          const p = policy();
          const first = planBackups({ resources, policy: p, owner: OWNER, now, existing: [] });
          // What the adapter would create: RDS uses the name as id, EBS gets an AWS id, the name as description and our name tag.
          const created: Snapshot[] = first
            .filter((d) => d.action === "create")
            .map((d, i) => ({
              kind: d.target.resource.kind,
              id: d.target.resource.kind === "ebs-volume" ? `snap-${i}` : d.target.name,
              region: PRIMARY,
              resourceId: d.target.resource.id,
              status: "pending",
              createdAt: now,
              tags: d.target.tags,
              automated: false,
              ...(d.target.resource.kind === "ebs-volume" ? { description: d.target.name } : {}),
            }));
          const second = planBackups({ resources, policy: p, owner: OWNER, now: retry, existing: created });
          const createdKeys = new Set(first.filter((d) => d.action === "create").map((d) => `${d.target.resource.kind}/${d.target.resource.id}`));
          for (const d of second) {
            const key = `${d.target.resource.kind}/${d.target.resource.id}`;
            if (createdKeys.has(key)) expect(d.action).toBe("exists");
            else expect(d.action).not.toBe("create");
          }
          expect(second.filter((d) => d.action === "create")).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decides every distinct resource exactly once, and creates only from a snapshottable state", () => {
    fc.assert(
      fc.property(fc.array(resourceArb, { maxLength: 20 }), (rs) => {
        const resources: Resource[] = rs.map((r) => ({ ...r, region: PRIMARY, tags: {} }));
        const out = planBackups({ resources, policy: policy(), owner: OWNER, now: new Date("2026-11-21T02:00:00Z"), existing: [] });
        const distinct = new Set(resources.map((r) => `${r.kind}/${r.id}`));
        expect(out.map((d) => `${d.target.resource.kind}/${d.target.resource.id}`).sort()).toEqual([...distinct].sort());
        for (const d of out) {
          const ok = d.target.resource.kind === "ebs-volume" ? ["in-use", "available"] : ["available"];
          expect(d.action).toBe(ok.includes(d.target.resource.status) ? "create" : "skip-state");
        }
      }),
    );
  });
});
