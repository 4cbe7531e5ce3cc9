import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { restoreTestPrefix } from "../../../core/ownership.ts";
import {
  type JanitorLimits,
  type RestoreTestHistoryEntry,
  type RestoreTestLeftover,
  janitor,
  planRestoreTests,
  throwaway,
} from "../../../core/restore-test.ts";
import { TAG, managedByValue } from "../../../core/types.ts";
import { parseConfig } from "../../../schemas/config.ts";

const OWNER = { app: "ops-autopilot", stage: "prod" };
const REGION = "eu-central-1";
const MIN = 60_000;
const T0 = Date.parse("2026-12-01T00:00:00Z");
const TYPES = ["db-instance", "db-cluster", "ebs-volume"] as const;
const GONE = ["deleting", "deleted", "delete-precheck"];

/** The name the janitor reads: a DB identifier (RDS keeps them lowercase), a volume's name tag. */
const nameOf = (r: RestoreTestLeftover) => (r.type === "ebs-volume" ? r.tags[TAG.name] : r.id.toLowerCase());

describe("the janitor never deletes what is not a restore-test throwaway of ours", () => {
  it("every selected resource carries our restore-test tag, our managed-by value and our restore-test prefix, and is past its age, whatever the listing", () => {
    const prefix = restoreTestPrefix(OWNER);
    // Names and values close to ours: other stages and apps, case, our snapshot prefix without the marker, empty.
    const name = fc.constantFrom(
      `${prefix}orders-db-0123456789`,
      `${prefix.toUpperCase()}X-1`,
      "oa-ops-autopilot-prod-orders-db-20261121",
      "oa-ops-autopilot-staging-rt-x-1",
      "oa-ops-autopilot-prod2-rt-x",
      "orders-db",
      "vol-0abc",
      "",
    );
    const managedBy = fc.constantFrom(managedByValue(OWNER), "ops-autopilot:staging", "ops-autopilot:prod ", "OPS-AUTOPILOT:PROD", "other:prod", "");
    const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const leftover = fc
      .record({
        type: fc.constantFrom(...TYPES),
        id: name,
        status: fc.constantFrom("available", "creating", "failed", "deleting", "in-use", "storage-full"),
        createdMin: optional(fc.integer({ min: -24 * 60, max: 24 * 60 })),
        restoreTest: optional(fc.constantFrom("run-1", "", "x")),
        managedBy: optional(managedBy),
        nameTag: optional(name),
        policy: optional(fc.constantFrom("db", "gone", "")),
        at: optional(
          fc.oneof(
            fc.integer({ min: -24 * 60, max: 24 * 60 }).map((m) => new Date(T0 + m * MIN).toISOString()),
            fc.constantFrom("yesterday", ""),
          ),
        ),
      })
      .map((o): RestoreTestLeftover => {
        const tags: Record<string, string> = {};
        if (o.restoreTest !== undefined) tags[TAG.restoreTest] = o.restoreTest;
        if (o.managedBy !== undefined) tags[TAG.managedBy] = o.managedBy;
        if (o.nameTag !== undefined) tags[TAG.name] = o.nameTag;
        if (o.policy !== undefined) tags[TAG.policy] = o.policy;
        if (o.at !== undefined) tags[TAG.restoreTestAt] = o.at;
        return {
          type: o.type,
          id: o.id,
          region: REGION,
          status: o.status,
          tags,
          ...(o.createdMin === undefined ? {} : { createdAt: new Date(T0 + o.createdMin * MIN) }),
        };
      });
    const limits = { byPolicy: { db: 6 }, fallback: 12 };
    fc.assert(
      fc.property(fc.array(leftover, { maxLength: 30 }), fc.integer({ min: 0, max: 48 * 60 }), (listing, nowMin) => {
        const now = new Date(T0 + nowMin * MIN);
        for (const d of janitor(listing, { owner: OWNER, limits, now })) {
          if (d.action !== "delete") continue;
          const r = d.target;
          expect(r.tags[TAG.restoreTest]).toBeTruthy();
          expect(r.tags[TAG.managedBy]).toBe(managedByValue(OWNER));
          expect(nameOf(r)?.startsWith(prefix)).toBe(true);
          expect(GONE).not.toContain(r.status);
          const born = Math.min(
            ...[r.createdAt?.getTime(), Date.parse(r.tags[TAG.restoreTestAt] ?? "")].filter((t): t is number => t !== undefined && !Number.isNaN(t)),
          );
          const limit = r.tags[TAG.policy] === "db" ? 6 : 12;
          expect(now.getTime() - born).toBeGreaterThanOrEqual(limit * 60 * MIN);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * Restore-test runs as a pure state machine over time, at the level of what exists in the account: a run creates
 * its throwaway (an Aurora run a cluster and its instance, tagged as the runbook tags them), then crashes, or its
 * restore fails, gets stuck in `creating`, its smoke check fails, or it passes; every run that does not crash tries
 * to delete, and a delete may be throttled. AWS refuses to delete a cluster that still has instances, and a
 * deleted resource is `deleting` for a while before it is gone. Someone else's look-alikes sit in the account too.
 */
describe("no throwaway outlives the janitor", () => {
  type Outcome = "crash" | "restore-failed" | "stuck" | "smoke-failed" | "passed";
  interface Res {
    r: RestoreTestLeftover;
    born: number;
    goneAt?: number;
    ours: boolean;
  }

  const run = fc.record({
    at: fc.integer({ min: 0, max: 24 * 60 }),
    kind: fc.constantFrom("rds-instance", "aurora-cluster", "ebs-volume"),
    resourceId: fc.constantFrom("orders-db", "Users_DB", "vol-0123456789abcdef0"),
    outcome: fc.constantFrom<Outcome>("crash", "restore-failed", "stuck", "smoke-failed", "passed"),
    minutes: fc.integer({ min: 1, max: 10 * 60 }),
    deleteThrottled: fc.boolean(),
  });

  it("every throwaway, whatever became of its run, is selected once older than maxAgeHours, and is gone after the janitor's passes", () => {
    fc.assert(
      fc.property(
        fc.array(run, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 36 * 60 }), { maxLength: 15 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 12 }),
        (runs, janitorAt, throttles, maxAgeHours) => {
          const limits: JanitorLimits = { byPolicy: { db: maxAgeHours }, fallback: maxAgeHours };
          const world: Res[] = [
            // Look-alikes of someone else's: never ours, never selected.
            {
              r: {
                type: "db-instance",
                id: "oa-ops-autopilot-prod-rt-handmade",
                region: REGION,
                status: "available",
                createdAt: new Date(T0),
                tags: { [TAG.restoreTest]: "x" },
              },
              born: T0,
              ours: false,
            },
            {
              r: {
                type: "db-instance",
                id: "orders-db",
                region: REGION,
                status: "available",
                createdAt: new Date(T0),
                tags: { [TAG.managedBy]: managedByValue(OWNER), [TAG.restoreTest]: "x" },
              },
              born: T0,
              ours: false,
            },
          ];
          let throttle = 0;
          const throttled = () => throttles[throttle++ % throttles.length]!;
          const exists = (x: Res, t: number) => x.goneAt === undefined || x.goneAt > t;
          const del = (x: Res, t: number, mayThrottle: boolean): void => {
            if (!exists(x, t) || GONE.includes(x.r.status)) return;
            if (mayThrottle && throttled()) return;
            if (x.r.type === "db-cluster" && world.some((m) => m.r.clusterId === x.r.id && exists(m, t))) return; // InvalidDBClusterStateFault
            x.r.status = "deleting";
            x.goneAt = t + 10 * MIN;
          };

          type Event = { t: number; apply: () => void };
          const events: Event[] = [];
          runs.forEach((spec, i) => {
            const start = T0 + spec.at * MIN;
            const mine: Res[] = [];
            events.push({
              t: start,
              apply: () => {
                const t = throwaway(OWNER, { policy: "db", kind: spec.kind, resourceId: spec.resourceId }, `run-${i}`, new Date(start));
                const volume = spec.kind === "ebs-volume";
                const first: Res = {
                  r: {
                    type: volume ? "ebs-volume" : spec.kind === "aurora-cluster" ? "db-cluster" : "db-instance",
                    id: volume ? `vol-${i}` : t.name,
                    region: REGION,
                    status: "creating",
                    tags: { ...t.tags },
                    ...(volume ? { createdAt: new Date(start) } : {}),
                  },
                  born: start,
                  ours: true,
                };
                mine.push(first);
                if (t.instanceName)
                  mine.push({
                    r: { type: "db-instance", id: t.instanceName, region: REGION, status: "creating", clusterId: t.name, tags: { ...t.tags } },
                    born: start,
                    ours: true,
                  });
                world.push(...mine);
              },
            });
            const end = start + spec.minutes * MIN;
            events.push({
              t: end,
              apply: () => {
                if (spec.outcome === "crash") return;
                for (const x of mine) {
                  if (!exists(x, end) || GONE.includes(x.r.status)) continue;
                  if (spec.outcome === "restore-failed") x.r.status = "failed";
                  else if (spec.outcome !== "stuck") {
                    x.r.status = "available";
                    x.r.createdAt ??= new Date(start + Math.floor(spec.minutes / 2) * MIN);
                  }
                }
                if (spec.deleteThrottled) return;
                for (const x of [...mine].sort((a, b) => Number(a.r.type === "db-cluster") - Number(b.r.type === "db-cluster"))) del(x, end, false);
              },
            });
          });
          const pass = (t: number, mayThrottle: boolean) => {
            const now = new Date(t);
            const present = world.filter((x) => exists(x, t));
            const decisions = janitor(
              present.map((x) => x.r),
              { owner: OWNER, limits, now },
            );
            const selected = new Set(decisions.filter((d) => d.action === "delete").map((d) => d.target));
            for (const x of present) {
              if (!x.ours) expect(selected.has(x.r)).toBe(false);
              else if (!GONE.includes(x.r.status) && t - x.born >= maxAgeHours * 60 * MIN)
                expect(selected.has(x.r), `${x.r.id} is ${(t - x.born) / MIN} min old`).toBe(true);
            }
            for (const d of decisions) if (d.action === "delete") del(present.find((x) => x.r === d.target)!, t, mayThrottle);
          };
          for (const m of janitorAt) events.push({ t: T0 + m * MIN + 1, apply: () => pass(T0 + m * MIN + 1, true) });
          events.sort((a, b) => a.t - b.t);
          for (const e of events) e.apply();

          // After everything, the janitor's scheduled passes (unthrottled): instances, then their clusters.
          const last = Math.max(...events.map((e) => e.t));
          for (let k = 0; k < 3; k++) pass(last + maxAgeHours * 60 * MIN + k * 15 * MIN, false);
          const end = last + maxAgeHours * 60 * MIN + 60 * MIN;
          expect(world.filter((x) => x.ours && exists(x, end)).map((x) => x.r.id)).toEqual([]);
          expect(world.filter((x) => !x.ours).every((x) => exists(x, end) && x.r.status === "available")).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("rotation", () => {
  it("with N resources due and a cap of C, every resource starts within ceil(N / C) rounds, never more than C at once, across monthly ticks too", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.option(fc.integer({ min: 400, max: 5000 }), { nil: undefined }), { maxLength: 25 }),
        fc.constantFrom<RestoreTestHistoryEntry["verdict"]>("passed", "rto-over-target", "smoke-failed", "restore-failed"),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        (n, cap, lastTestedHoursAgo, verdict, nextTick) => {
          const config = parseConfig({
            stage: "prod",
            primaryRegion: "eu-west-1",
            drRegions: [{ region: REGION, kmsKeyId: "k" }],
            backup: {
              policies: [
                {
                  name: "db",
                  selection: { tag: {} },
                  restoreTest: { maxConcurrentRestores: cap, rds: { dbSubnetGroupName: "p", vpcSecurityGroupIds: ["sg-01234567"] } },
                },
              ],
            },
          });
          const ids = Array.from({ length: n }, (_, i) => `db-${i}`);
          const targets = ids.map((resourceId) => ({ policy: "db", kind: "rds-instance" as const, resourceId }));
          const history: RestoreTestHistoryEntry[] = [];
          ids.forEach((resourceId, i) => {
            const h = lastTestedHoursAgo[i];
            if (h !== undefined) history.push({ kind: "rds-instance", resourceId, runId: `old-${i}`, startedAt: new Date(T0 - h * 3_600_000), verdict });
          });
          const startedIn = new Map<string, number>();
          const rounds = Math.ceil(n / cap);
          let at = T0;
          for (let round = 1; round <= rounds; round++) {
            // A round starts after the last one's tests ended (whatever their verdict): in the same run, or at the
            // next monthly tick, when the resources tested a month ago are due again and the oldest must go first.
            at += nextTick[round - 1] ? 31 * 24 * 60 * MIN : 30 * MIN;
            const now = new Date(at);
            const started = planRestoreTests({ config, targets, history, inFlight: [], now }).filter((d) => d.action === "start");
            expect(started.length).toBeLessThanOrEqual(cap);
            // Those not started yet come first: every slot goes to one of them while any is left.
            expect(started.filter((d) => !startedIn.has(d.target.resourceId)).length).toBe(Math.min(cap, n - startedIn.size));
            for (const d of started) {
              if (!startedIn.has(d.target.resourceId)) startedIn.set(d.target.resourceId, round);
              history.push({ kind: "rds-instance", resourceId: d.target.resourceId, runId: `r-${round}`, startedAt: now, verdict });
            }
          }
          expect([...startedIn.keys()].sort()).toEqual([...ids].sort());
        },
      ),
      { numRuns: 300 },
    );
  });
});
