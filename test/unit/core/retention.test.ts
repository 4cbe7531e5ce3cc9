import { describe, expect, it } from "vitest";
import { planPrune } from "../../../core/retention.ts";
import type { PrunePlan, PruneInput } from "../../../core/retention.ts";
import { TAG } from "../../../core/types.ts";
import type { Snapshot } from "../../../core/types.ts";
import { DR, OWNER, PRIMARY, at, days, drCopy, policy, snap } from "./builders.ts";

const NOW = at("2026-11-21T03:00:00Z"); // Saturday; backups run at 02:00
const RUNBOOK = policy();

function prune(snapshots: Snapshot[], o: Partial<PruneInput> = {}): PrunePlan[] {
  return planPrune({ snapshots, region: PRIMARY, primaryRegion: PRIMARY, policies: [RUNBOOK], owner: OWNER, now: NOW, ...o });
}
function only(plans: PrunePlan[]): PrunePlan {
  expect(plans).toHaveLength(1);
  return plans[0]!;
}
const dayOf = (s: Snapshot) => s.tags[TAG.backupDate];
const keptDays = (p: PrunePlan) => p.keep.map((d) => dayOf(d.target)).sort();
const deletedDays = (p: PrunePlan) => p.delete.map((d) => dayOf(d.target)).sort();
const reasonFor = (p: PrunePlan, day: string) => [...p.keep, ...p.delete].find((d) => dayOf(d.target) === day)?.reason;

describe("planPrune: grandfather-father-son", () => {
  const sixty = days("2026-09-23", 60).map((day) => snap({ day })); // through 2026-11-21

  it("keeps exactly the runbook's set: 7 dailies, Sundays for 30 days, 1sts for a year", () => {
    const p = only(prune(sixty));
    expect(keptDays(p)).toEqual(["2026-10-01", "2026-10-25", "2026-11-01", "2026-11-08", ...days("2026-11-15", 7)]);
    expect(p.delete).toHaveLength(60 - 11);
    expect(p.frozen).toBeUndefined();
    expect(p.policy).toBe("default");
  });

  it("gives a reason an operator can read for every snapshot", () => {
    const p = only(prune(sixty));
    expect(reasonFor(p, "2026-11-18")).toBe("daily: 3 days old, keep 7 days");
    expect(reasonFor(p, "2026-11-08")).toBe("weekly (Sunday): 13 days old, keep 30 days");
    expect(reasonFor(p, "2026-10-01")).toBe("monthly (day 1): 51 days old, keep 365 days");
    expect(reasonFor(p, "2026-11-12")).toBe("expired: daily 9 days old ≥ 7 days; not a weekly (Sunday) or monthly (day 1) backup");
    expect(reasonFor(p, "2026-10-18")).toBe("expired: daily 34 days old ≥ 7 days; weekly (Sunday) 34 days old ≥ 30 days; not a monthly (day 1) backup");
  });

  it("deletes the day a daily backup turns 7 days old", () => {
    const p = only(
      prune(
        days("2026-11-07", 15).map((day) => snap({ day })),
        { policies: [policy({ tiers: { daily: {} } })] },
      ),
    );
    expect(deletedDays(p)).toEqual(days("2026-11-07", 8));
  });

  it("recomputes the tier from the backup date and ignores the tiers tag", () => {
    const liar = snap({ day: "2026-11-11", tags: { [TAG.tiers]: "daily+monthly" } }); // a Wednesday, 10 days old
    const p = only(prune([...days("2026-11-15", 7).map((day) => snap({ day })), liar]));
    expect(deletedDays(p)).toEqual(["2026-11-11"]);
  });

  it("judges old backups by the current policy (a weekly day moved to Saturday)", () => {
    const p = only(prune(sixty, { policies: [policy({ tiers: { weekly: { weekday: 6 } } })] }));
    expect(keptDays(p)).toContain("2026-11-07"); // a Saturday
    expect(keptDays(p)).not.toContain("2026-11-08"); // a Sunday
  });

  it("keeps by count: the newest 5 dailies and the newest 2 weeklies, whatever their age", () => {
    const q = policy({ tiers: { daily: { keep: { count: 5 } }, weekly: { keep: { count: 2 } } } });
    const p = only(prune(sixty, { policies: [q] }));
    expect(keptDays(p)).toEqual(["2026-11-08", "2026-11-15", ...days("2026-11-17", 5)]);
    expect(reasonFor(p, "2026-11-15")).toBe("weekly (Sunday): #1 of the newest 2");
    expect(reasonFor(p, "2026-11-01")).toMatch(/^expired: daily #21, beyond the newest 5; weekly \(Sunday\) #3, beyond the newest 2/);
  });
});

describe("planPrune: floors", () => {
  const lenient = policy({ tiers: { daily: {} }, freshnessHours: 744 });

  it("keeps the newest 3 even past retention", () => {
    const old = days("2026-11-02", 5).map((day) => snap({ day })); // 15–19 days old
    const p = only(prune(old, { policies: [lenient] }));
    expect(keptDays(p)).toEqual(["2026-11-04", "2026-11-05", "2026-11-06"]);
    expect(reasonFor(p, "2026-11-04")).toBe("floor: among newest 3");
    expect(deletedDays(p)).toEqual(["2026-11-02", "2026-11-03"]);
  });

  it("keeps the newest available one when the newest are not available", () => {
    const q = policy({ tiers: { daily: {} }, freshnessHours: 744, keepNewest: 1 });
    const s = days("2026-11-01", 6).map((day, i) => snap({ day, status: i === 5 ? "pending" : "available" }));
    const p = only(prune(s, { policies: [q] }));
    expect(reasonFor(p, "2026-11-05")).toBe("newest available");
    expect(reasonFor(p, "2026-11-06")).toMatch(/^status pending/);
    expect(deletedDays(p)).toEqual(days("2026-11-01", 4));
  });

  it("keeps the most recently created available one even when its backup day is older", () => {
    const q = policy({ tiers: { daily: {} }, keepNewest: 1 });
    const s = [
      snap({ day: "2026-11-20", status: "pending" }),
      snap({ day: "2026-11-19" }),
      snap({ day: "2026-11-10", createdAt: at("2026-11-20T05:00:00Z") }), // e.g. a late catch-up copy
      snap({ day: "2026-11-09" }),
    ];
    const p = only(prune(s, { policies: [q] }));
    expect(reasonFor(p, "2026-11-19")).toBe("daily: 2 days old, keep 7 days");
    expect(reasonFor(p, "2026-11-10")).toBe("newest available");
    expect(deletedDays(p)).toEqual(["2026-11-09"]);
  });

  it.each(["pending", "deleting"] as const)("never deletes a %s snapshot", (status) => {
    const s = [...days("2026-11-15", 7).map((day) => snap({ day })), snap({ day: "2026-10-20", status })];
    const p = only(prune(s));
    expect(p.delete).toHaveLength(0);
    expect(reasonFor(p, "2026-10-20")).toBe(`status ${status}: only available snapshots are ever deleted`);
  });

  it("removes a failed snapshot of ours (no data, blocks the retry), even from a frozen resource and among the newest", () => {
    const failed = { ...snap({ day: "2026-11-21", status: "error" }), statusMessage: "KMS key disabled" };
    const fresh = [...days("2026-11-15", 6).map((day) => snap({ day })), failed];
    const p = only(prune(fresh));
    expect(p.delete.map((d) => d.target)).toEqual([failed]);
    expect(reasonFor(p, "2026-11-21")).toBe("failed snapshot (KMS key disabled): holds no data; removed so it can be made again");
    const stale = [...days("2026-10-01", 20).map((day) => snap({ day })), failed];
    const frozen = only(prune(stale));
    expect(frozen.frozen).toBeDefined();
    expect(frozen.delete.map((d) => d.target)).toEqual([failed]);
  });
});

describe("planPrune: ownership", () => {
  const recent = days("2026-11-15", 7).map((day) => snap({ day }));
  const old = "2026-10-20"; // expired under the runbook if it were ours

  it.each([
    ["another stage", { managedBy: "ops-autopilot:staging" }],
    ["another app", { managedBy: "other-app:prod" }],
    ["a near-miss value", { managedBy: "ops-autopilot:prod " }],
    ["no managed-by tag (made by a person)", { managedBy: null }],
    ["an automated snapshot", { managedBy: null, automated: true }],
  ] as const)("ignores %s: not kept, not deleted, only counted", (_, o) => {
    const p = only(prune([...recent, snap({ day: old, id: "theirs", ...o })]));
    expect([...p.keep, ...p.delete].map((d) => d.target.id)).not.toContain("theirs");
    expect(p.foreign).toBe(1);
  });

  it("ignores an automated snapshot even with all our tags (an instance restored from ours copies them): not ours", () => {
    const auto = snap({ day: old, automated: true });
    const p = only(prune([...recent, auto]));
    expect([...p.keep, ...p.delete].map((d) => d.target)).not.toContain(auto);
    expect(p.foreign).toBe(1);
    expect(p.lookAlikes).toEqual([{ id: auto.id, reason: "not ours: an automated snapshot (made by AWS)" }]);
  });

  it("keeps ours when used by an AMI", () => {
    const vol = (day: string, o: { usedByImage?: boolean } = {}) => snap({ day, kind: "ebs-volume", resourceId: "vol-0abc", ...o });
    const special = vol(old, { usedByImage: true });
    const p = only(prune([...days("2026-11-15", 7).map((d) => vol(d)), special]));
    expect(p.delete).toHaveLength(0);
    expect(p.keep.find((d) => d.target === special)?.reason).toBe("used by an AMI: never pruned");
  });

  it("keeps a snapshot of ours whose backup date cannot be read", () => {
    const bad = snap({ day: old, tags: { [TAG.backupDate]: "20261020" } });
    const p = only(prune([...recent, bad]));
    expect(p.keep.find((d) => d.target === bad)?.reason).toMatch(/no parseable/);
    expect(p.delete).toHaveLength(0);
  });

  it("keeps everything of a resource with an unknown policy and says so", () => {
    const mine = [...recent, snap({ day: old, policy: "gold" })];
    const p = only(prune(mine));
    expect(p.delete).toHaveLength(0);
    expect(p.keep).toHaveLength(8);
    expect(p.frozen).toMatch(/unknown policy "gold"/);
  });

  it("keeps everything when the policy tag is missing", () => {
    const p = only(prune([...recent, snap({ day: old, policy: null })]));
    expect(p.delete).toHaveLength(0);
    expect(p.frozen).toMatch(/unknown policy "\(none\)"/);
  });

  it("plans each resource on its own and reports resources that only have foreign snapshots", () => {
    const plans = prune([...recent, snap({ day: old }), snap({ day: old, resourceId: "other-db", managedBy: null, automated: true })]);
    expect(plans.map((p) => [p.resourceId, p.delete.length, p.foreign])).toEqual([
      ["app-db", 1, 0],
      ["other-db", 0, 1],
    ]);
  });

  it("ignores snapshots reported for another region", () => {
    const p = prune([...recent, snap({ day: old, region: DR })]);
    expect(only(p).delete).toHaveLength(0);
  });
});

describe("planPrune: freezes", () => {
  const upTo20th = days("2026-10-01", 51).map((day) => snap({ day, createdAt: at(`${day}T01:00:00Z`) })); // newest 2026-11-20T01:00

  it("freezes when the newest backup is 26 h old", () => {
    const p = only(prune(upTo20th));
    expect(p.frozen).toMatch(/is 26\.0 h old \(limit 25 h\)/);
    expect(p.delete).toHaveLength(0);
    expect(reasonFor(p, "2026-10-02")).toMatch(/^frozen \(.*\); otherwise expired: daily/);
  });

  it("prunes normally when the newest backup is 24 h old", () => {
    const p = only(prune(upTo20th, { now: at("2026-11-21T01:00:00Z") }));
    expect(p.frozen).toBeUndefined();
    expect(p.delete.length).toBeGreaterThan(0);
  });

  it("freezes when no backup is available", () => {
    const p = only(prune(days("2026-10-01", 50).map((day) => snap({ day, status: "pending" }))));
    expect(p.frozen).toBe("no available backup");
  });

  it("counts an AMI-pinned backup as fresh: pinning today's backup does not freeze the resource", () => {
    const s = [...days("2026-10-01", 51).map((day) => snap({ day })), snap({ day: "2026-11-21", usedByImage: true })];
    const p = only(prune(s));
    expect(p.frozen).toBeUndefined();
    expect(reasonFor(p, "2026-11-21")).toMatch(/AMI/);
    expect(p.delete.length).toBeGreaterThan(0);
  });

  it("measures staleness on the newest AVAILABLE backup", () => {
    const s = [...upTo20th.slice(0, -1), snap({ day: "2026-11-21", status: "pending" })];
    expect(only(prune(s)).frozen).toMatch(/2026-11-19|20261119/); // newest available is the 19th's
  });
});

describe("planPrune: DR copies", () => {
  const primary = days("2026-09-23", 60).map((day) => snap({ day }));
  const allCopies = primary.map((s) => drCopy(s));
  const dr = { drRegions: [DR] };

  it("freezes the primary region when the DR region has no copy", () => {
    const p = only(prune(primary, { ...dr, drCopies: [] }));
    expect(p.frozen).toBe(`no available DR copy in ${DR} newer than 25 h`);
    expect(p.delete).toHaveLength(0);
  });

  it("freezes the primary region when the newest DR copy is stale", () => {
    const p = only(prune(primary, { ...dr, drCopies: allCopies.slice(0, -2) }));
    expect(p.frozen).toMatch(/no available DR copy/);
  });

  it("prunes the primary region when every source has its DR copy", () => {
    const p = only(prune(primary, { ...dr, drCopies: allCopies }));
    expect(p.frozen).toBeUndefined();
    expect(p.delete).toHaveLength(49);
  });

  it("keeps a primary snapshot whose DR copy is still pending", () => {
    const copies = allCopies.map((c) => (dayOf(c) === "2026-11-12" ? { ...c, status: "pending" as const } : c));
    const p = only(prune(primary, { ...dr, drCopies: copies }));
    expect(reasonFor(p, "2026-11-12")).toBe(`DR copy in ${DR} is pending: source kept until it is available`);
    expect(p.delete).toHaveLength(48);
  });

  it("deletes an expired primary snapshot never copied once DR holds newer copies", () => {
    const copies = allCopies.filter((c) => dayOf(c)! < "2026-11-10" || dayOf(c)! > "2026-11-13");
    // The 10th–13th were never copied, but DR holds newer copies: it has moved past them.
    const p = only(prune(primary, { ...dr, drCopies: copies }));
    expect(deletedDays(p)).toContain("2026-11-12");
  });

  it("holds an uncopied expired source when the DR region has not moved past it", () => {
    const q = policy({ tiers: { daily: {} }, freshnessHours: 744 });
    const s = days("2026-11-01", 10).map((day) => snap({ day }));
    const copies = s.filter((x) => dayOf(x) !== "2026-11-02").map((c) => drCopy(c));
    const first = only(prune(s, { ...dr, policies: [q], drCopies: copies }));
    expect(deletedDays(first)).toContain("2026-11-02"); // DR holds newer copies
    const behind = copies.filter((c) => dayOf(c)! < "2026-11-02");
    const second = only(prune(s, { ...dr, policies: [q], drCopies: behind }));
    expect(reasonFor(second, "2026-11-02")).toBe(`not yet copied to ${DR}: kept until its DR copy is available`);
  });

  it("ignores DR copies made by another stage", () => {
    const theirs = allCopies.map((c) => ({ ...c, tags: { ...c.tags, [TAG.managedBy]: "ops-autopilot:staging" } }));
    expect(only(prune(primary, { ...dr, drCopies: theirs })).frozen).toMatch(/no available DR copy/);
  });

  it("does not check DR for a policy without copyToDr", () => {
    const p = only(prune(primary, { ...dr, drCopies: [], policies: [policy({ copyToDr: false })] }));
    expect(p.frozen).toBeUndefined();
    expect(p.delete).toHaveLength(49);
  });

  it("prunes a DR region on its own, by the same policy", () => {
    const p = only(prune(allCopies, { region: DR, now: at("2026-11-21T04:00:00Z") }));
    expect(p.frozen).toBeUndefined();
    expect(p.delete).toHaveLength(49);
  });
});

describe("planPrune: idempotency", () => {
  it("deleting what it says and planning again deletes nothing more", () => {
    const s = days("2026-01-01", 325).map((day) => snap({ day }));
    const first = only(prune(s));
    const gone = new Set(first.delete.map((d) => d.target));
    const second = only(prune(s.filter((x) => !gone.has(x))));
    expect(second.delete).toEqual([]);
    expect(keptDays(second)).toEqual(keptDays(first));
  });
});
