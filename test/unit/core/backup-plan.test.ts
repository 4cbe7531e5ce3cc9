import { describe, expect, it } from "vitest";
import { planBackups, snapshotName, tiersFor } from "../../../core/backup-plan.ts";
import { TAG } from "../../../core/types.ts";
import { OWNER, PRIMARY, at, policy, resource, snap } from "./builders.ts";

const NOW = at("2026-11-21T02:00:05Z"); // a Saturday

describe("snapshotName", () => {
  it("keeps a clean RDS id readable, after the app and stage", () => {
    expect(snapshotName(OWNER, "app-db", "2026-11-21")).toBe("oa-ops-autopilot-prod-app-db-20261121");
    expect(snapshotName(OWNER, "vol-0abc123", "2026-01-02")).toBe("oa-ops-autopilot-prod-vol-0abc123-20260102");
  });

  it("numbers the alternatives used when a name is taken", () => {
    expect(snapshotName(OWNER, "app-db", "2026-11-21", 2)).toBe("oa-ops-autopilot-prod-app-db-20261121-2");
    expect(snapshotName(OWNER, "app-db", "2026-11-21", 20)).toBe("oa-ops-autopilot-prod-app-db-20261121-20");
    expect(() => snapshotName(OWNER, "app-db", "2026-11-21", 21)).toThrow(/attempt must be 1 to 20/);
  });

  it("puts two stages and two apps in one account under different names", () => {
    const names = [
      snapshotName({ app: "ops-autopilot", stage: "prod" }, "app-db", "2026-11-21"),
      snapshotName({ app: "ops-autopilot", stage: "staging" }, "app-db", "2026-11-21"),
      snapshotName({ app: "billing", stage: "prod" }, "app-db", "2026-11-21"),
    ];
    expect(new Set(names).size).toBe(3);
  });

  it("refuses an app or stage that cannot be part of an identifier", () => {
    expect(() => snapshotName({ app: "Ops_Autopilot", stage: "prod" }, "app-db", "2026-11-21")).toThrow(
      /app "Ops_Autopilot" cannot be part of a snapshot name/,
    );
  });

  it.each(["App_DB", "app--db", "app-db-", "-app", "a.b/c", "ÄÖÜ", "x".repeat(300)])("sanitises %j into a valid identifier", (id) => {
    const n = snapshotName(OWNER, id, "2026-11-21");
    expect(n).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    expect(n.length).toBeLessThanOrEqual(255);
    expect(n.endsWith("-20261121")).toBe(true);
  });

  it("gives ids that sanitise alike different names", () => {
    expect(snapshotName(OWNER, "app_db", "2026-11-21")).not.toBe(snapshotName(OWNER, "app.db", "2026-11-21"));
    expect(snapshotName(OWNER, "app_db", "2026-11-21")).not.toBe(snapshotName(OWNER, "app-db", "2026-11-21"));
  });

  it("refuses a day that is not yyyy-mm-dd", () => {
    expect(() => snapshotName(OWNER, "app-db", "2026-11-31")).toThrow(/calendar day/);
  });
});

describe("Aurora cluster snapshot names (DBClusterSnapshotIdentifier: at most 63 characters)", () => {
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html
  it("planBackups names a long cluster within 63 characters, every alternative included, and keeps instance names whole", () => {
    const owner = { app: "ops-autopilot", stage: "production" };
    const cluster = resource({ kind: "aurora-cluster", id: "orders-aurora-cluster-eu-west-1-primary" });
    const [d] = planBackups({ resources: [cluster], policy: policy(), owner, now: at("2026-11-21T02:00:00Z"), existing: [] });
    expect(d!.target.name).toBe("oa-ops-autopilot-production-x800534ee9f2970d9-order-20261121");
    expect(d!.target.name.length).toBeLessThanOrEqual(63);
    for (let k = 2; k <= 20; k++) expect(snapshotName(owner, cluster.id, "2026-11-21", k, 63).length).toBeLessThanOrEqual(63);
    const [i] = planBackups({
      resources: [resource({ id: "orders-aurora-cluster-eu-west-1-primary" })],
      policy: policy(),
      owner,
      now: at("2026-11-21T02:00:00Z"),
      existing: [],
    });
    expect(i!.target.name).toBe("oa-ops-autopilot-production-orders-aurora-cluster-eu-west-1-primary-20261121");
  });
});

describe("tiersFor", () => {
  const p = policy();
  it.each([
    ["2026-11-21", ["daily"]], // Saturday
    ["2026-11-22", ["daily", "weekly"]], // Sunday
    ["2026-12-01", ["daily", "monthly"]], // Tuesday the 1st
    ["2026-11-01", ["daily", "weekly", "monthly"]], // Sunday the 1st
  ])("a backup of %s belongs to %j", (day, tiers) => {
    expect(tiersFor(day, p)).toEqual(tiers);
  });

  it("follows the configured weekday and day of month", () => {
    const q = policy({ tiers: { weekly: { weekday: 6 }, monthly: { dayOfMonth: 21 } } });
    expect(tiersFor("2026-11-21", q)).toEqual(["daily", "weekly", "monthly"]);
  });

  it("has no weekly or monthly tier when the policy leaves them out", () => {
    expect(tiersFor("2026-11-01", policy({ tiers: { daily: {} } }))).toEqual(["daily"]);
  });
});

describe("planBackups", () => {
  const p = policy();

  it("creates today's snapshot with every tag", () => {
    const [d] = planBackups({ resources: [resource()], policy: p, owner: OWNER, now: NOW, existing: [] });
    expect(d?.action).toBe("create");
    expect(d?.target.name).toBe("oa-ops-autopilot-prod-app-db-20261121");
    expect(d?.target.day).toBe("2026-11-21");
    expect(d?.target.tiers).toEqual(["daily"]);
    expect(d?.target.tags).toEqual({
      [TAG.managedBy]: "ops-autopilot:prod",
      [TAG.policy]: "default",
      [TAG.tiers]: "daily",
      [TAG.source]: "app-db",
      [TAG.sourceRegion]: PRIMARY,
      [TAG.backupDate]: "2026-11-21",
      [TAG.name]: "oa-ops-autopilot-prod-app-db-20261121",
    });
  });

  it("writes all tiers of a Sunday the 1st", () => {
    const [d] = planBackups({ resources: [resource()], policy: p, owner: OWNER, now: at("2026-11-01T02:00:00Z"), existing: [] });
    expect(d?.target.tags[TAG.tiers]).toBe("daily+weekly+monthly");
  });

  it("reports an RDS snapshot that already exists as success, creating nothing", () => {
    const existing = [snap({ day: "2026-11-21", status: "pending" })];
    const [d] = planBackups({ resources: [resource()], policy: p, owner: OWNER, now: NOW, existing });
    expect(d?.action).toBe("exists");
    expect(d?.reason).toMatch(/already exists/);
  });

  it("finds an EBS snapshot by its description and name tag (AWS assigns the id)", () => {
    const vol = resource({ kind: "ebs-volume", id: "vol-0abc", status: "in-use" });
    const existing = [snap({ kind: "ebs-volume", resourceId: "vol-0abc", id: "snap-123", day: "2026-11-21" })];
    const [d] = planBackups({ resources: [vol], policy: p, owner: OWNER, now: NOW, existing });
    expect(d?.action).toBe("exists");
    expect(d?.reason).toContain("snap-123");
  });

  it("does not mistake yesterday's snapshot or another kind's for today's", () => {
    const existing = [
      snap({ day: "2026-11-20" }),
      snap({ kind: "aurora-cluster", day: "2026-11-21" }), // cluster "app-db": a separate namespace
    ];
    const [d] = planBackups({ resources: [resource()], policy: p, owner: OWNER, now: NOW, existing });
    expect(d?.action).toBe("create");
  });

  it.each([
    ["rds-instance", "stopped"],
    ["rds-instance", "backing-up"],
    ["aurora-cluster", "stopped"],
    ["ebs-volume", "creating"],
    ["ebs-volume", "error"],
  ] as const)("reports a %s in state %s instead of dropping it", (kind, status) => {
    const [d] = planBackups({ resources: [resource({ kind, status })], policy: p, owner: OWNER, now: NOW, existing: [] });
    expect(d?.action).toBe("skip-state");
    expect(d?.reason).toContain(`"${status}"`);
  });

  it.each([
    ["rds-instance", "available"],
    ["aurora-cluster", "available"],
    ["ebs-volume", "in-use"],
    ["ebs-volume", "available"],
  ] as const)("snapshots a %s that is %s", (kind, status) => {
    const [d] = planBackups({ resources: [resource({ kind, status })], policy: p, owner: OWNER, now: NOW, existing: [] });
    expect(d?.action).toBe("create");
  });

  it("decides once per resource even when it is selected twice", () => {
    const out = planBackups({ resources: [resource(), resource(), resource({ id: "other" })], policy: p, owner: OWNER, now: NOW, existing: [] });
    expect(out.map((d) => d.target.resource.id)).toEqual(["app-db", "other"]);
  });

  it("uses the UTC day, not the local one", () => {
    const [d] = planBackups({ resources: [resource()], policy: p, owner: OWNER, now: at("2026-11-21T23:30:00-02:00"), existing: [] });
    expect(d?.target.day).toBe("2026-11-22");
  });
});
