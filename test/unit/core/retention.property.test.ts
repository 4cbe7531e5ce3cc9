import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { planPrune } from "../../../core/retention.ts";
import type { PrunePlan } from "../../../core/retention.ts";
import { TAG, managedByValue } from "../../../core/types.ts";
import type { Snapshot, SnapshotStatus } from "../../../core/types.ts";
import type { BackupPolicy } from "../../../schemas/config.ts";
import { DR, OWNER, PRIMARY, drCopy, policy, snap } from "./builders.ts";

const DAY = 86_400_000;
const TODAY_MS = Date.UTC(2026, 10, 21);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const keepArb = (maxDays: number, maxCount: number) =>
  fc.oneof(
    fc.integer({ min: 1, max: maxDays }).map((days) => ({ days })),
    fc.integer({ min: 1, max: maxCount }).map((count) => ({ count })),
  );

/** Any valid policy: tiers with days or counts, optional weekly/monthly, floors. */
const policyArb = (o: { keepNewest?: fc.Arbitrary<number>; copyToDr?: boolean } = {}) =>
  fc
    .record({
      daily: keepArb(20, 12),
      weekly: fc.option(fc.record({ weekday: fc.integer({ min: 0, max: 6 }), keep: keepArb(70, 8) }), { nil: undefined }),
      monthly: fc.option(fc.record({ dayOfMonth: fc.integer({ min: 1, max: 28 }), keep: keepArb(400, 14) }), { nil: undefined }),
      keepNewest: o.keepNewest ?? fc.integer({ min: 1, max: 6 }),
      copyToDr: o.copyToDr === undefined ? fc.boolean() : fc.constant(o.copyToDr),
    })
    .map((r) =>
      policy({
        tiers: {
          daily: { keep: r.daily },
          ...(r.weekly ? { weekly: r.weekly } : {}),
          ...(r.monthly ? { monthly: r.monthly } : {}),
        },
        keepNewest: r.keepNewest,
        copyToDr: r.copyToDr,
      }),
    );

const MANAGED = [managedByValue(OWNER), managedByValue(OWNER), managedByValue(OWNER), "ops-autopilot:staging", "other:prod", null] as const;

/**
 * A messy region: several resources, ours and not, every state, odd creation times, mostly recent days so
 * that pruning has work to do. "legacy-db" backups carry a policy the config no longer knows.
 */
const snapshotArb = fc
  .record({
    resourceId: fc.constantFrom("app-db", "reports-db", "vol-0abc", "legacy-db"),
    ago: fc.oneof(fc.integer({ min: -1, max: 45 }), fc.integer({ min: 0, max: 400 })),
    hour: fc.oneof(fc.integer({ min: 0, max: 47 }), fc.integer({ min: 0, max: 24 * 20 })),
    attempt: fc.integer({ min: 1, max: 20 }),
    status: fc.constantFrom<SnapshotStatus>("available", "available", "available", "pending", "error"),
    managedBy: fc.constantFrom(...MANAGED),
    automated: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    usedByImage: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  })
  .map((r) => {
    const day = iso(TODAY_MS - r.ago * DAY);
    return snap({
      // Several snapshots of one resource and day: the night's name and its alternatives (ids are unique per region).
      attempt: r.attempt,
      resourceId: r.resourceId,
      day,
      createdAt: new Date(TODAY_MS - r.ago * DAY + r.hour * 3_600_000),
      status: r.status,
      managedBy: r.managedBy,
      automated: r.automated,
      usedByImage: r.usedByImage,
      policy: r.resourceId === "legacy-db" ? "gold" : "default",
    });
  });

function deleted(plans: PrunePlan[]): Snapshot[] {
  return plans.flatMap((p) => p.delete.map((d) => d.target));
}

const byNewest = (a: Snapshot, b: Snapshot) => {
  const da = a.tags[TAG.backupDate]!;
  const db = b.tags[TAG.backupDate]!;
  if (da !== db) return da < db ? 1 : -1;
  if (a.createdAt.getTime() !== b.createdAt.getTime()) return b.createdAt.getTime() - a.createdAt.getTime();
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
};

const messyInput = fc.record({
  snapshots: fc.uniqueArray(snapshotArb, { maxLength: 160, size: "large", selector: (s) => s.id }),
  p: policyArb(),
  freshnessHours: fc.constantFrom(25, 48, 744, 744, 744),
  nowOffsetH: fc.integer({ min: 0, max: 72 }),
  withDr: fc.boolean(),
  copyShare: fc.integer({ min: 0, max: 10 }),
});

/** A stable pseudo-random number from an id, to pick which snapshots have DR copies. */
const spread = (id: string) => [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);

type Messy = { snapshots: Snapshot[]; p: BackupPolicy; freshnessHours: number; nowOffsetH: number; withDr: boolean; copyShare: number };

/** Plan the messy region; with DR checks, a share of the snapshots have DR copies, some still pending. */
function run(i: Messy, snapshots = i.snapshots) {
  const now = new Date(TODAY_MS + i.nowOffsetH * 3_600_000);
  const drCopies = i.withDr
    ? i.snapshots.filter((s) => spread(s.id) % 10 < i.copyShare).map((s) => drCopy(s, { status: spread(s.id) % 7 ? "available" : "pending" }))
    : undefined;
  return planPrune({
    snapshots,
    region: PRIMARY,
    primaryRegion: PRIMARY,
    policies: [{ ...i.p, freshnessHours: i.freshnessHours }],
    owner: OWNER,
    now,
    ...(drCopies ? { drCopies, drRegions: [DR] } : {}),
  });
}

describe("planPrune properties", () => {
  it("never selects an unmanaged, other-stage, automated, AMI-used, unknown-policy or unavailable snapshot", () => {
    let runsWithDeletes = 0;
    fc.assert(
      fc.property(messyInput, (i) => {
        const dels = deleted(run(i));
        if (dels.length) runsWithDeletes++;
        for (const s of dels) {
          expect(s.tags[TAG.managedBy]).toBe(managedByValue(OWNER));
          expect(s.id).toBe(s.tags[TAG.name]);
          expect(s.automated).toBe(false);
          expect(s.usedByImage).not.toBe(true);
          // Besides expired available backups, only our failed snapshots (no data) are ever removed.
          if (s.status !== "error") {
            expect(s.status).toBe("available");
            expect(s.tags[TAG.policy]).toBe(i.p.name);
          }
        }
      }),
      { numRuns: 300 },
    );
    // The property is only worth something if the generated regions do get pruned.
    expect(runsWithDeletes).toBeGreaterThan(100);
  });

  it("never selects one of the newest N or the newest available snapshot of a resource", () => {
    fc.assert(
      fc.property(messyInput, (i) => {
        const dels = new Set(deleted(run(i)));
        const candidates = i.snapshots.filter((s) => s.tags[TAG.managedBy] === managedByValue(OWNER) && !s.automated && !s.usedByImage && s.status !== "error");
        for (const rid of new Set(candidates.map((s) => s.resourceId))) {
          const mine = candidates.filter((s) => s.resourceId === rid).sort(byNewest);
          for (const s of mine.slice(0, i.p.keepNewest)) expect(dels.has(s)).toBe(false);
          const avail = mine.filter((s) => s.status === "available");
          if (avail[0]) expect(dels.has(avail[0])).toBe(false);
          const latest = [...avail].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
          if (latest) expect(dels.has(latest)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("accounts for every snapshot exactly once (ours in keep or delete, the rest counted as foreign)", () => {
    fc.assert(
      fc.property(messyInput, (i) => {
        const plans = run(i);
        const listed = plans.flatMap((p) => [...p.keep, ...p.delete].map((d) => d.target));
        const foreign = plans.reduce((n, p) => n + p.foreign, 0);
        expect(new Set(listed).size).toBe(listed.length);
        expect(listed.length + foreign).toBe(i.snapshots.length);
        // A frozen resource loses nothing but failed snapshots.
        for (const p of plans) if (p.frozen) expect(p.delete.filter((d) => d.target.status !== "error")).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it("pruning twice equals pruning once", () => {
    fc.assert(
      fc.property(messyInput, (i) => {
        const first = run(i);
        const gone = new Set(deleted(first));
        const second = run(
          i,
          i.snapshots.filter((s) => !gone.has(s)),
        );
        expect(deleted(second)).toEqual([]);
        const kept = (ps: PrunePlan[]) => ps.flatMap((p) => p.keep.map((d) => d.target.id)).sort();
        expect(kept(second)).toEqual(kept(first));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Reference model of the policy set, written independently of core/: plain millisecond arithmetic and
 * Date#getUTCDay/getUTCDate, no shared helpers.
 */
function referenceKept(dayMs: number[], todayMs: number, p: BackupPolicy): Set<number> {
  const newestFirst = [...dayMs].sort((a, b) => b - a);
  const kept = new Set<number>();
  type Rule = { member: (ms: number) => boolean; keep: { days: number } | { count: number } };
  const rules: Rule[] = [{ member: () => true, keep: p.tiers.daily.keep }];
  const w = p.tiers.weekly;
  if (w) rules.push({ member: (ms) => new Date(ms).getUTCDay() === w.weekday, keep: w.keep });
  const m = p.tiers.monthly;
  if (m) rules.push({ member: (ms) => new Date(ms).getUTCDate() === m.dayOfMonth, keep: m.keep });
  for (const r of rules) {
    const members = newestFirst.filter(r.member);
    members.forEach((ms, idx) => {
      const k = r.keep;
      if ("days" in k ? (todayMs - ms) / DAY < k.days : idx < k.count) kept.add(ms);
    });
  }
  return kept;
}

const historyArb = fc.record({
  p: policyArb({ keepNewest: fc.constant(1), copyToDr: false }),
  length: fc.integer({ min: 1, max: 420 }),
  // Days without a backup (an outage, a skipped run); the last day always has one.
  gaps: fc.uniqueArray(fc.integer({ min: 1, max: 419 }), { maxLength: 60 }),
});

describe("planPrune keeps exactly the policy's set", () => {
  it("in one pass over a history of daily backups, matching a reference model", () => {
    fc.assert(
      fc.property(historyArb, ({ p, length, gaps }) => {
        const skip = new Set(gaps);
        const dayMs = Array.from({ length }, (_, i) => TODAY_MS - i * DAY).filter((_, i) => !skip.has(i));
        const snapshots = dayMs.map((ms) => snap({ day: iso(ms) }));
        const [plan] = planPrune({ snapshots, region: PRIMARY, primaryRegion: PRIMARY, policies: [p], owner: OWNER, now: new Date(TODAY_MS + 3 * 3_600_000) });
        const expected = [...referenceKept(dayMs, TODAY_MS, p)].map(iso).sort();
        expect(plan!.frozen).toBeUndefined();
        expect(plan!.keep.map((d) => d.target.tags[TAG.backupDate]).sort()).toEqual(expected);
        expect(plan!.keep.length + plan!.delete.length).toBe(dayMs.length);
      }),
      { numRuns: 300 },
    );
  });

  it("when pruning every night for a year, with the same result as the reference model", () => {
    fc.assert(
      fc.property(historyArb, ({ p, length, gaps }) => {
        const skip = new Set(gaps.map((g) => length - 1 - g));
        let held: Snapshot[] = [];
        const made: number[] = [];
        for (let i = 0; i < length; i++) {
          const ms = TODAY_MS - (length - 1 - i) * DAY;
          if (skip.has(i) && i !== length - 1) continue;
          made.push(ms);
          held.push(snap({ day: iso(ms) }));
          const [plan] = planPrune({
            snapshots: held,
            region: PRIMARY,
            primaryRegion: PRIMARY,
            policies: [p],
            owner: OWNER,
            now: new Date(ms + 3 * 3_600_000),
          });
          const gone = new Set(plan!.delete.map((d) => d.target));
          held = held.filter((s) => !gone.has(s));
        }
        const expected = [...referenceKept(made, TODAY_MS, p)].map(iso).sort();
        expect(held.map((s) => s.tags[TAG.backupDate]).sort()).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
