import { describe, expect, it } from "vitest";
import { assessFreshness } from "../../../core/freshness.ts";
import type { FreshnessInput } from "../../../core/freshness.ts";
import { DR, OWNER, PRIMARY, at, drCopy, policy, snap } from "./builders.ts";

const NOW = at("2026-11-21T12:00:00Z");
const P = policy();
const R = [{ resourceId: "app-db", kind: "rds-instance" as const, policy: P }];

function assess(o: Partial<FreshnessInput>) {
  return assessFreshness({ snapshots: [], resources: R, regions: [PRIMARY], owner: OWNER, now: NOW, ...o });
}

describe("assessFreshness", () => {
  it("is ok when the newest available backup is within the limit", () => {
    const [f] = assess({ snapshots: [snap({ day: "2026-11-20" }), snap({ day: "2026-11-21" })] });
    expect(f).toMatchObject({ status: "ok", ageHours: 10, limitHours: 25, newestId: "oa-ops-autopilot-prod-app-db-20261121", region: PRIMARY });
    expect(f?.newestAt).toEqual(at("2026-11-21T02:00:00Z"));
  });

  it("is stale when the newest backup is 26 h old", () => {
    const [f] = assess({ snapshots: [snap({ day: "2026-11-20", createdAt: at("2026-11-20T10:00:00Z") })] });
    expect(f?.status).toBe("stale");
    expect(f?.ageHours).toBe(26);
    expect(f?.reason).toBe("newest available backup oa-ops-autopilot-prod-app-db-20261120 is 26.0 h old (limit 25 h)");
  });

  it("is ok at exactly the limit", () => {
    const [f] = assess({ snapshots: [snap({ day: "2026-11-20", createdAt: at("2026-11-20T11:00:00Z") })] });
    expect(f?.status).toBe("ok");
  });

  it("ignores a newer backup that is still pending", () => {
    const [f] = assess({ snapshots: [snap({ day: "2026-11-19" }), snap({ day: "2026-11-21", status: "pending" })] });
    expect(f?.status).toBe("stale");
    expect(f?.newestId).toBe("oa-ops-autopilot-prod-app-db-20261119");
  });

  it.each([
    ["another stage", { managedBy: "ops-autopilot:staging" }],
    ["a person", { managedBy: null }],
    ["AWS (automated)", { managedBy: null, automated: true }],
  ])("does not count a backup made by %s", (_, o) => {
    const [f] = assess({ snapshots: [snap({ day: "2026-11-21", ...o })] });
    expect(f?.status).toBe("missing");
    expect(f?.reason).toBe(`no available backup of app-db in ${PRIMARY}`);
  });

  it("checks every region on its own", () => {
    const src = snap({ day: "2026-11-21" });
    const out = assess({ snapshots: [src, drCopy(snap({ day: "2026-11-19" }))], regions: [PRIMARY, DR] });
    expect(out.map((f) => [f.region, f.status])).toEqual([
      [PRIMARY, "ok"],
      [DR, "stale"],
    ]);
  });

  it("does not confuse resources or kinds", () => {
    const out = assess({
      snapshots: [snap({ day: "2026-11-21", resourceId: "other-db" }), snap({ day: "2026-11-21", kind: "aurora-cluster" })],
    });
    expect(out[0]?.status).toBe("missing");
  });

  it("skips DR regions for a policy without copyToDr when the primary region is known", () => {
    const q = policy({ copyToDr: false });
    const out = assess({
      resources: [{ resourceId: "app-db", kind: "rds-instance", policy: q }],
      regions: [PRIMARY, DR],
      primaryRegion: PRIMARY,
      snapshots: [snap({ day: "2026-11-21" })],
    });
    expect(out.map((f) => f.region)).toEqual([PRIMARY]);
  });

  it("uses each resource's own limit", () => {
    const q = policy({ name: "hourly-ish", freshnessHours: 6 });
    const [f] = assess({ resources: [{ resourceId: "app-db", kind: "rds-instance", policy: q }], snapshots: [snap({ day: "2026-11-21" })] });
    expect(f).toMatchObject({ status: "stale", limitHours: 6 });
  });

  describe("a resource never backed up, by how long the stage has been deployed", () => {
    const deployed = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000);

    it.each([
      [0, "pending"],
      [10, "pending"],
      [25, "pending"],
      [25.5, "missing"],
      [400, "missing"],
      // A deployer's clock a little fast is still a deploy that just happened; a marker far ahead dates nothing.
      [-0.5, "pending"],
      [-2, "missing"],
    ])("deployed %s h ago → %s (limit 25 h)", (hours, status) => {
      expect(assess({ watchedSince: deployed(hours) })[0]?.status).toBe(status);
    });

    it("is missing at once when nothing says when the stage was deployed: never silence", () => {
      expect(assess({})[0]).toMatchObject({ status: "missing", reason: `no available backup of app-db in ${PRIMARY}` });
    });

    it("says why it waits, and why it no longer does", () => {
      expect(assess({ watchedSince: deployed(5) })[0]?.reason).toBe(
        `no backup of app-db in ${PRIMARY} yet: the stage was deployed 5.0 h ago, the first is due within 25 h of it`,
      );
      expect(assess({ watchedSince: deployed(26) })[0]?.reason).toBe(
        `no available backup of app-db in ${PRIMARY} (the stage was deployed 26.0 h ago, limit 25 h)`,
      );
    });

    it("does not excuse a stale backup on a new stage: pending is only for none at all", () => {
      const [f] = assess({ watchedSince: deployed(1), snapshots: [snap({ day: "2026-11-20", createdAt: at("2026-11-20T10:00:00Z") })] });
      expect(f?.status).toBe("stale");
    });
  });
});
