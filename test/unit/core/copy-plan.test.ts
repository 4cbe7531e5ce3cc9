import { describe, expect, it } from "vitest";
import { planCopies } from "../../../core/copy-plan.ts";
import type { CopyInput } from "../../../core/copy-plan.ts";
import { TAG } from "../../../core/types.ts";
import type { Snapshot } from "../../../core/types.ts";
import { DR, OWNER, at, days, drCopy, policy, snap } from "./builders.ts";

const KEY = "arn:aws:kms:eu-central-1:111122223333:key/dr";
const US = { region: "us-east-1", kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/us" };

function copies(o: Partial<CopyInput>) {
  return planCopies({
    sources: [],
    copies: [],
    drRegions: [{ region: DR, kmsKeyId: KEY }],
    inFlight: {},
    maxInFlight: 20,
    owner: OWNER,
    policies: [policy()],
    ...o,
  });
}
const dayOf = (s: Snapshot) => s.tags[TAG.backupDate];

describe("planCopies", () => {
  it("copies an available source with the region's KMS key, its name and its tags plus copy-of", () => {
    const src = snap({ day: "2026-11-21" });
    const [d] = copies({ sources: [src] });
    expect(d).toMatchObject({
      action: "copy",
      target: { source: src, region: DR, kmsKeyId: KEY, name: "oa-ops-autopilot-prod-app-db-20261121", tags: { ...src.tags, [TAG.copyOf]: src.id } },
    });
    expect(d?.reason).toContain(KEY);
  });

  it("never starts a copy before the source is available", () => {
    const [d] = copies({ sources: [snap({ day: "2026-11-21", status: "pending" })] });
    expect(d?.action).toBe("wait-source");
    expect(d?.reason).toMatch(/is pending/);
  });

  it("finds a copy already made (or in flight) by copy-of, and an EBS copy by its name tag", () => {
    const rds = snap({ day: "2026-11-21" });
    const ebs = snap({ day: "2026-11-21", kind: "ebs-volume", resourceId: "vol-1", id: "snap-src" });
    // A copy of an earlier source of the same name (the source was made again after it failed): found by name.
    const ebsCopy: Snapshot = { ...ebs, id: "snap-other", region: DR, status: "pending", tags: { ...ebs.tags, [TAG.copyOf]: "snap-earlier" } };
    const out = copies({ sources: [rds, ebs], copies: [drCopy(rds, { status: "pending" }), ebsCopy] });
    expect(out.map((d) => d.action)).toEqual(["exists", "exists"]);
    expect(out[0]?.reason).toMatch(/is pending/);
  });

  it("reports our copy that ended in error with the key it tried, and starts no second copy beside it", () => {
    const src = snap({ day: "2026-11-21" });
    const failed = drCopy(src, { status: "error" });
    failed.statusMessage = "The KMS key is disabled";
    const [d] = copies({ sources: [src], copies: [failed] });
    expect(d).toMatchObject({ action: "failed", target: { failedCopy: failed, kmsKeyId: KEY } });
    expect(d?.reason).toMatch(new RegExp(`failed \\(The KMS key is disabled\\) with KMS key ${KEY}`));
  });

  it("never treats a failed snapshot that is not ours as our failed copy", () => {
    const src = snap({ day: "2026-11-21" });
    const theirs = { ...drCopy(src, { status: "error" }), tags: {} };
    const [d] = copies({ sources: [src], copies: [theirs] });
    expect(d?.action).toBe("copy");
    expect(d?.target.failedCopy).toBeUndefined();
  });

  it("copies under the next alternative name when the RDS name in DR is held by a snapshot that is not ours, and says so", () => {
    const src = snap({ day: "2026-11-21" });
    const theirs = { ...drCopy(src), tags: {} };
    const [d] = copies({ sources: [src], copies: [theirs] });
    expect(d?.action).toBe("copy");
    expect(d?.target.name).toBe("oa-ops-autopilot-prod-app-db-20261121-2");
    expect(d?.target.tags[TAG.name]).toBe("oa-ops-autopilot-prod-app-db-20261121-2");
    expect(d?.target.tags[TAG.copyOf]).toBe(src.id);
    expect(d?.reason).toBe(
      `copy ${src.id} to ${DR} with KMS key ${KEY} as oa-ops-autopilot-prod-app-db-20261121-2; oa-ops-autopilot-prod-app-db-20261121 in ${DR} is taken by a snapshot that is not ours (not ours: no ${TAG.managedBy} tag)`,
    );
    // The next run finds that copy by copy-of.
    const made = { ...drCopy(src), id: d!.target.name, tags: d!.target.tags };
    expect(copies({ sources: [src], copies: [theirs, made] })[0]?.action).toBe("exists");
  });

  it("does not take another region's copy or another stage's copy for ours", () => {
    const src = snap({ day: "2026-11-21" });
    const elsewhere = drCopy(src, { region: "us-east-1" });
    const otherStage = { ...drCopy(src), id: "x", tags: { ...drCopy(src).tags, [TAG.managedBy]: "ops-autopilot:staging" } };
    expect(copies({ sources: [src], copies: [elsewhere, otherStage] })[0]?.action).toBe("copy");
  });

  it("starts at most maxInFlight minus what is in flight per region, oldest first, and defers the rest", () => {
    const sources = days("2026-11-10", 5)
      .map((day) => snap({ day }))
      .reverse();
    const out = copies({ sources, inFlight: { [DR]: 17, "us-east-1": 0 }, drRegions: [{ region: DR, kmsKeyId: KEY }, US] });
    const inDr = out.filter((d) => d.target.region === DR);
    expect(inDr.map((d) => [dayOf(d.target.source), d.action])).toEqual([
      ["2026-11-10", "copy"],
      ["2026-11-11", "copy"],
      ["2026-11-12", "copy"],
      ["2026-11-13", "defer-limit"],
      ["2026-11-14", "defer-limit"],
    ]);
    expect(out.filter((d) => d.target.region === "us-east-1" && d.action === "copy")).toHaveLength(5);
    expect(out.find((d) => d.target.region === "us-east-1")?.target.kmsKeyId).toBe(US.kmsKeyId);
  });

  it("starts nothing when the region is already over the limit", () => {
    const out = copies({ sources: [snap({ day: "2026-11-21" })], inFlight: { [DR]: 25 } });
    expect(out[0]?.action).toBe("defer-limit");
  });

  it("catches up after an outage: the next run copies what was deferred", () => {
    const sources = days("2026-11-01", 30).map((day) => snap({ day }));
    const first = copies({ sources });
    expect(first.filter((d) => d.action === "copy")).toHaveLength(20);
    const made = first.filter((d) => d.action === "copy").map((d) => drCopy(d.target.source, { status: "pending" }));
    const second = copies({ sources, copies: made, inFlight: { [DR]: 0 } });
    expect(second.filter((d) => d.action === "copy").map((d) => dayOf(d.target.source))).toEqual(days("2026-11-21", 10));
    expect(second.filter((d) => d.action === "exists")).toHaveLength(20);
  });

  it.each([
    ["copyToDr is false", [policy({ copyToDr: false })], /copyToDr: false/],
    ["the policy is unknown", [policy({ name: "other" })], /unknown policy "default"/],
  ])("skips when %s", (_, policies, reason) => {
    const [d] = copies({ sources: [snap({ day: "2026-11-21" })], policies });
    expect(d?.action).toBe("skip-policy");
    expect(d?.reason).toMatch(reason);
  });

  it("never copies a snapshot that is not ours, and says why", () => {
    const out = copies({ sources: [snap({ day: "2026-11-21", managedBy: null }), snap({ day: "2026-11-20", automated: true })] });
    expect(out.map((d) => [d.action, d.reason])).toEqual([
      ["skip-policy", "not ours: an automated snapshot (made by AWS)"],
      ["skip-policy", `not ours: no ${TAG.managedBy} tag`],
    ]);
  });

  it("with now, does not ship to DR what retention already let go (DR would prune it at once)", () => {
    const sources = days("2026-10-01", 51).map((day) => snap({ day })); // through 2026-11-20
    const out = copies({ sources, now: at("2026-11-21T03:00:00Z"), maxInFlight: 100 });
    const copied = out.filter((d) => d.action === "copy").map((d) => dayOf(d.target.source));
    expect(copied).toEqual(["2026-10-01", "2026-10-25", "2026-11-01", "2026-11-08", ...days("2026-11-15", 6)]);
    expect(out.find((d) => dayOf(d.target.source) === "2026-10-02")?.reason).toMatch(/expired under policy "default"/);
  });

  it("with now, still copies the newest backups kept only by the floor after an outage", () => {
    const sources = days("2026-10-01", 5).map((day) => snap({ day })); // backups stopped 7 weeks ago
    const out = copies({ sources, now: at("2026-11-21T03:00:00Z"), policies: [policy({ tiers: { daily: {} } })] });
    expect(out.filter((d) => d.action === "copy").map((d) => dayOf(d.target.source))).toEqual(["2026-10-03", "2026-10-04", "2026-10-05"]);
  });
});
