import { describe, expect, it } from "vitest";
import { GuardrailError, applyDeleteCaps, capKey, reserveDeletes, type PruneLedger } from "../../../core/guardrails.ts";
import { localDay } from "../../../core/calendar.ts";
import type { PrunePlan } from "../../../core/retention.ts";
import { TAG } from "../../../core/types.ts";
import { DR, PRIMARY, days, snap } from "./builders.ts";

/** A plan with `keep` kept and `del` expired snapshots (oldest days first), for one resource. */
function plan(resourceId: string, keep: number, del: number, region = PRIMARY, from = "2026-09-01"): PrunePlan {
  const all = days(from, keep + del).map((day) => snap({ day, resourceId, region }));
  return {
    resourceId,
    kind: "rds-instance",
    region,
    policy: "default",
    keep: all
      .slice(del)
      .reverse()
      .map((s) => ({ action: "keep", target: s, reason: "daily" })),
    delete: all.slice(0, del).map((s) => ({ action: "delete", target: s, reason: "expired: daily" })),
    foreign: 0,
  };
}
const dayOf = (d: { target: { tags: Record<string, string> } }) => d.target.tags[TAG.backupDate];

describe("applyDeleteCaps", () => {
  it("leaves plans within the caps untouched", () => {
    const input = [plan("a", 8, 1), plan("b", 8, 2)];
    const out = applyDeleteCaps(input, { maxDeletesPerRun: 50, maxDeletePercent: 50 });
    expect(out.capped).toEqual([]);
    expect(out.plans).toEqual(input);
  });

  it("deletes at most P% of what it sees per resource and region, oldest first", () => {
    const out = applyDeleteCaps([plan("a", 4, 6)], { maxDeletesPerRun: 50, maxDeletePercent: 50 });
    const p = out.plans[0]!;
    expect(p.delete.map(dayOf)).toEqual(days("2026-09-01", 5));
    expect(p.keep.find((d) => dayOf(d) === "2026-09-06")?.reason).toBe(
      "cap: at most 50% of 10 snapshots per resource and region per day (5); otherwise expired: daily",
    );
    expect(out.capped).toEqual([
      { resourceId: "a", region: PRIMARY, deferred: 1, reason: "cap: at most 50% of 10 snapshots per resource and region per day (5)" },
    ]);
  });

  it("rounds the percent cap down: 50% of 3 is 1", () => {
    const out = applyDeleteCaps([plan("a", 1, 2)], { maxDeletesPerRun: 50, maxDeletePercent: 50 });
    expect(out.plans[0]!.delete).toHaveLength(1);
  });

  it("stops after the daily total cap, deleting the oldest across resources and regions first", () => {
    const out = applyDeleteCaps([plan("a", 10, 3, PRIMARY, "2026-09-05"), plan("b", 10, 3, PRIMARY, "2026-09-01"), plan("a", 10, 3, DR, "2026-09-03")], {
      maxDeletesPerRun: 4,
      maxDeletePercent: 100,
    });
    const kept = out.plans.map((p) => [p.resourceId, p.region, p.delete.map(dayOf)]);
    expect(kept).toEqual([
      ["a", PRIMARY, []],
      ["b", PRIMARY, ["2026-09-01", "2026-09-02", "2026-09-03"]],
      ["a", DR, ["2026-09-03"]],
    ]);
    expect(out.capped.map((c) => [c.resourceId, c.region, c.deferred, c.reason])).toEqual([
      ["a", PRIMARY, 3, "cap: at most 4 deletes per day"],
      ["a", DR, 2, "cap: at most 4 deletes per day"],
    ]);
  });

  it("a cap of 0 deletes nothing", () => {
    expect(applyDeleteCaps([plan("a", 1, 9)], { maxDeletesPerRun: 0, maxDeletePercent: 100 }).plans[0]!.delete).toEqual([]);
    expect(applyDeleteCaps([plan("a", 1, 9)], { maxDeletesPerRun: 10, maxDeletePercent: 0 }).plans[0]!.delete).toEqual([]);
  });

  it("does not modify its input", () => {
    const input = [plan("a", 1, 9)];
    const copy = structuredClone(input);
    applyDeleteCaps(input, { maxDeletesPerRun: 1, maxDeletePercent: 10 });
    expect(input).toEqual(copy);
  });

  it("GuardrailError is an Error with a name and details", () => {
    const e = new GuardrailError("3 deletes deferred", { deferred: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("GuardrailError");
    expect(e.details).toEqual({ deferred: 3 });
  });
});

describe("applyDeleteCaps across the invocations of one day", () => {
  const key = `${PRIMARY}/rds-instance/a`;
  const ids = (p: PrunePlan) => p.delete.map((d) => d.target.id);
  const by = (run: string, list: readonly string[]) => Object.fromEntries(list.map((id) => [id, run]));

  it("counts what earlier invocations deleted today against the total cap, and reserves only new deletes", () => {
    const first = applyDeleteCaps([plan("a", 2, 10)], { maxDeletesPerRun: 4, maxDeletePercent: 100 }, {}, "run-1");
    expect(first.reserve).toEqual({ [key]: ids(first.plans[0]!) });
    // A manual re-run sees the 6 that are left of the expired ones; the 4 deleted are gone.
    const left = plan("a", 2, 10);
    left.delete = left.delete.filter((d) => !first.reserve[key]!.includes(d.target.id));
    const again = applyDeleteCaps([left], { maxDeletesPerRun: 4, maxDeletePercent: 100 }, { [key]: by("run-1", first.reserve[key]!) }, "run-2");
    expect(again.plans[0]!.delete).toEqual([]);
    expect(again.reserve).toEqual({});
    expect(again.capped).toEqual([{ resourceId: "a", region: PRIMARY, deferred: 6, reason: "cap: at most 4 deletes per day (4 already today)" }]);
  });

  it("a delete this run reserved before it crashed is free for Lambda's retry (same request id)", () => {
    const reserved = ids(applyDeleteCaps([plan("a", 2, 10)], { maxDeletesPerRun: 4, maxDeletePercent: 100 }, {}, "run-1").plans[0]!);
    const retry = applyDeleteCaps([plan("a", 2, 10)], { maxDeletesPerRun: 4, maxDeletePercent: 100 }, { [key]: by("run-1", reserved) }, "run-1");
    expect(ids(retry.plans[0]!)).toEqual(reserved);
    expect(retry.reserve).toEqual({});
  });

  it("a delete another run reserved is left to that run, and counts against the caps", () => {
    const reserved = ids(applyDeleteCaps([plan("a", 2, 10)], { maxDeletesPerRun: 6, maxDeletePercent: 100 }, {}, "run-1").plans[0]!).slice(0, 2);
    const other = applyDeleteCaps([plan("a", 2, 10)], { maxDeletesPerRun: 6, maxDeletePercent: 100 }, { [key]: by("run-1", reserved) }, "run-2");
    expect(ids(other.plans[0]!)).toHaveLength(4);
    expect(ids(other.plans[0]!).some((id) => reserved.includes(id))).toBe(false);
    expect(other.plans[0]!.keep.filter((d) => d.reason.startsWith("delete reserved today by run run-1: left to it; otherwise "))).toHaveLength(2);
    expect(other.capped[0]!.reason).toBe("cap: at most 6 deletes per day (2 already today)");
  });

  it("the percent cap is a share of what the day started with, not of what is left", () => {
    // 10 seen in the morning, 50 %: 5. The first run deleted 5; a re-run sees 5 (1 expired) and may delete none.
    const first = applyDeleteCaps([plan("a", 4, 6)], { maxDeletesPerRun: 50, maxDeletePercent: 50 }, {}, "run-1");
    const done = first.reserve[key]!;
    expect(done).toHaveLength(5);
    const later = plan("a", 4, 6);
    later.delete = later.delete.filter((d) => !done.includes(d.target.id));
    const again = applyDeleteCaps([later], { maxDeletesPerRun: 50, maxDeletePercent: 50 }, { [key]: by("run-1", done) }, "run-2");
    expect(again.plans[0]!.delete).toEqual([]);
    expect(again.capped[0]!.reason).toBe("cap: at most 50% of 10 snapshots per resource and region per day (5; 5 already deleted today)");
  });

  it("deletes of other resources today count against the policy's total", () => {
    const out = applyDeleteCaps(
      [plan("a", 2, 5)],
      { maxDeletesPerRun: 4, maxDeletePercent: 100 },
      { [`${PRIMARY}/rds-instance/b`]: by("run-0", ["x", "y", "z"]) },
      "run-1",
    );
    expect(out.plans[0]!.delete).toHaveLength(1);
    expect(out.capped[0]!.reason).toBe("cap: at most 4 deletes per day (3 already today)");
  });

  it("capKey names the resource and region", () => {
    expect(capKey({ region: PRIMARY, kind: "ebs-volume", resourceId: "vol-1" })).toBe(`${PRIMARY}/ebs-volume/vol-1`);
  });
});

describe("reserveDeletes", () => {
  const empty: PruneLedger = { day: "2026-11-21", timeZone: "UTC", policies: {} };

  it("adds ids in the run's name, sorted, once", () => {
    const one = reserveDeletes(empty, "db", { k: ["b", "a"] }, "run-1")!;
    expect(one.policies).toEqual({ db: { k: { a: "run-1", b: "run-1" } } });
    expect(reserveDeletes(one, "db", { k: ["c", "a"] }, "run-2")!.policies).toEqual({ db: { k: { a: "run-1", b: "run-1", c: "run-2" } } });
  });

  it("returns undefined when nothing new is reserved, so a retry writes nothing", () => {
    const one = reserveDeletes(empty, "db", { k: ["a"] }, "run-1")!;
    expect(reserveDeletes(one, "db", { k: ["a"] }, "run-1")).toBeUndefined();
    expect(reserveDeletes(one, "db", {}, "run-1")).toBeUndefined();
  });

  it("does not modify its input", () => {
    const one = reserveDeletes(empty, "db", { k: ["a"] }, "run-1")!;
    const copy = structuredClone(one);
    reserveDeletes(one, "db", { k: ["b"] }, "run-2");
    expect(one).toEqual(copy);
  });
});

describe("the prune day (localDay)", () => {
  it.each([
    ["2026-11-20T23:30:00Z", "UTC", "2026-11-20"],
    ["2026-11-20T23:30:00Z", "Asia/Tokyo", "2026-11-21"],
    ["2026-11-21T04:30:00Z", "America/Los_Angeles", "2026-11-20"],
    // The night Europe leaves summer time: 00:30 UTC is 01:30 local, the same day.
    ["2026-10-25T00:30:00Z", "Europe/Berlin", "2026-10-25"],
  ])("%s in %s is %s", (at, zone, day) => {
    expect(localDay(new Date(at), zone)).toBe(day);
  });
});
