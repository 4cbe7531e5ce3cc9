import { describe, expect, it } from "vitest";
import { GuardrailError, applyDeleteCaps } from "../../../core/guardrails.ts";
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
    keep: all.slice(del).reverse().map((s) => ({ action: "keep", target: s, reason: "daily" })),
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
      "cap: at most 50% of 10 snapshots per resource and region per run (5); otherwise expired: daily",
    );
    expect(out.capped).toEqual([{ resourceId: "a", region: PRIMARY, deferred: 1, reason: "cap: at most 50% of 10 snapshots per resource and region per run (5)" }]);
  });

  it("rounds the percent cap down: 50% of 3 is 1", () => {
    const out = applyDeleteCaps([plan("a", 1, 2)], { maxDeletesPerRun: 50, maxDeletePercent: 50 });
    expect(out.plans[0]!.delete).toHaveLength(1);
  });

  it("stops after the per-run cap, deleting the oldest across resources and regions first", () => {
    const out = applyDeleteCaps(
      [plan("a", 10, 3, PRIMARY, "2026-09-05"), plan("b", 10, 3, PRIMARY, "2026-09-01"), plan("a", 10, 3, DR, "2026-09-03")],
      { maxDeletesPerRun: 4, maxDeletePercent: 100 },
    );
    const kept = out.plans.map((p) => [p.resourceId, p.region, p.delete.map(dayOf)]);
    expect(kept).toEqual([
      ["a", PRIMARY, []],
      ["b", PRIMARY, ["2026-09-01", "2026-09-02", "2026-09-03"]],
      ["a", DR, ["2026-09-03"]],
    ]);
    expect(out.capped.map((c) => [c.resourceId, c.region, c.deferred, c.reason])).toEqual([
      ["a", PRIMARY, 3, "cap: at most 4 deletes per run"],
      ["a", DR, 2, "cap: at most 4 deletes per run"],
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
