import { describe, expect, it } from "vitest";
import { restoreTestName, restoreTestPrefix } from "../../../core/ownership.ts";
import {
  type RestoreTestHistoryEntry,
  type RestoreTestLeftover,
  defaultInstanceClass,
  dueAfterHours,
  inFlightRestoreTests,
  janitor,
  janitorLimits,
  judgeRestoreTest,
  pickSnapshot,
  planRestoreTests,
  restoreTestCost,
  restoreTestRegion,
  smokeChecks,
  throwaway,
} from "../../../core/restore-test.ts";
import { TAG } from "../../../core/types.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { SmokeSchema } from "../../../schemas/config-restore-test.ts";
import { DR, OWNER, drCopy, snap } from "./builders.ts";

const NOW = new Date("2026-12-01T06:00:00Z");
const H = 3_600_000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * H);
const RDS = { dbSubnetGroupName: "private-db", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] };

function config(restoreTest: Record<string, unknown> = {}, more: Record<string, unknown>[] = []) {
  return parseConfig({
    stage: "prod",
    primaryRegion: "eu-west-1",
    drRegions: [{ region: DR, kmsKeyId: "k" }],
    backup: { policies: [{ name: "db", selection: { tag: {} }, restoreTest: { rds: RDS, ...restoreTest } }, ...more] },
  });
}
const target = (resourceId: string, kind: "rds-instance" | "aurora-cluster" | "ebs-volume" = "rds-instance", policy = "db") => ({ policy, kind, resourceId });
const tested = (resourceId: string, hoursAgo: number, verdict: RestoreTestHistoryEntry["verdict"] = "passed"): RestoreTestHistoryEntry => ({
  kind: "rds-instance",
  resourceId,
  runId: `r-${resourceId}-${hoursAgo}`,
  startedAt: ago(hoursAgo),
  verdict,
});

describe("restore region", () => {
  const cfg = { primaryRegion: "eu-west-1", drRegions: [{ region: "eu-central-1" }, { region: "us-east-1" }] };
  const policy = (restoreTest: { region?: string }, copyToDr = true) => ({ name: "db", copyToDr, selection: { ids: [] }, restoreTest });
  it.each([
    [policy({}), { region: "eu-central-1", reason: "the first DR region (default)" }],
    [policy({ region: "primary" }), { region: "eu-west-1", reason: "the primary region (restoreTest.region)" }],
    [policy({ region: "us-east-1" }), { region: "us-east-1", reason: "a DR region (restoreTest.region)" }],
    [policy({}, false), { region: "eu-west-1", reason: "the primary region: the policy does not copy to DR (copyToDr false)" }],
  ])("%j restores in %j", (p, expected) => {
    expect(restoreTestRegion(p, cfg)).toEqual(expected);
  });
  it("restores in the primary region when there is no DR region", () => {
    expect(restoreTestRegion(policy({}), { primaryRegion: "eu-west-1", drRegions: [] })).toEqual({
      region: "eu-west-1",
      reason: "the primary region: there is no DR region",
    });
  });
});

describe("which resources are due", () => {
  it("tests a monthly schedule's resources once per month: due half an interval after the last test", () => {
    expect(dueAfterHours("cron(0 6 1 * ? *)")).toBe(365);
    expect(dueAfterHours("rate(7 days)")).toBe(84);
  });

  it("starts the never-tested first, then the oldest last test, up to the cap; says why each other one waits", () => {
    const plan = planRestoreTests({
      config: config(),
      targets: [target("a"), target("b"), target("c"), target("d")],
      history: [tested("a", 24 * 31), tested("b", 24 * 62, "smoke-failed"), tested("d", 24 * 2)],
      inFlight: [],
      now: NOW,
    });
    expect(plan.map((d) => [d.action, d.target.resourceId, d.target.region, d.reason])).toEqual([
      [
        "not-due",
        "d",
        DR,
        "not due: last test 2026-11-29T06:00:00.000Z (passed, run r-d-48) 2.0 days ago; due after 15.2 days (half the interval of cron(0 6 1 * ? *))",
      ],
      ["start", "c", DR, "due: never restore-tested; 1 of 1 slot in eu-central-1 (the first DR region (default))"],
      [
        "capped",
        "b",
        DR,
        "due: last test 2026-09-30T06:00:00.000Z (smoke-failed, run r-b-1488) 62.0 days ago; waits: 1 restore test in flight in eu-central-1, maxConcurrentRestores is 1 (3 due there, oldest test first)",
      ],
      [
        "capped",
        "a",
        DR,
        "due: last test 2026-10-31T06:00:00.000Z (passed, run r-a-744) 31.0 days ago; waits: 1 restore test in flight in eu-central-1, maxConcurrentRestores is 1 (3 due there, oldest test first)",
      ],
    ]);
  });

  it("counts what is in flight in the region against the cap, and never starts a resource twice", () => {
    const plan = planRestoreTests({
      config: config({ maxConcurrentRestores: 2 }),
      targets: [target("a"), target("b"), target("c")],
      history: [],
      inFlight: [{ kind: "rds-instance", resourceId: "a", region: DR, runId: "r-1", startedAt: ago(1) }],
      now: NOW,
    });
    expect(plan.map((d) => [d.action, d.target.resourceId])).toEqual([
      ["in-flight", "a"],
      ["start", "b"],
      ["capped", "c"],
    ]);
    expect(plan[0]!.reason).toBe("in flight: run r-1 started 2026-12-01T05:00:00.000Z in eu-central-1");
    expect(plan[1]!.reason).toBe("due: never restore-tested; 2 of 2 slots in eu-central-1 (the first DR region (default))");
  });

  it("lets a manual run request a resource that is not due, still within the cap", () => {
    const plan = planRestoreTests({
      config: config(),
      targets: [target("a")],
      history: [tested("a", 1)],
      inFlight: [],
      now: NOW,
      requested: ["rds-instance a"],
    });
    expect(plan).toEqual([
      {
        action: "start",
        target: { ...target("a"), region: DR },
        reason: "requested (manual run); 1 of 1 slot in eu-central-1 (the first DR region (default))",
      },
    ]);
  });

  it("skips a kind the policy has nowhere to restore into, and a policy without restoreTest", () => {
    const cfg = config({}, [{ name: "logs", selection: { tag: { key: "logs" } } }]);
    const plan = planRestoreTests({
      config: cfg,
      targets: [target("vol-1", "ebs-volume"), target("x", "rds-instance", "logs")],
      history: [],
      inFlight: [],
      now: NOW,
    });
    expect(plan.map((d) => [d.action, d.reason])).toEqual([
      ["not-configured", "policy db sets no restoreTest.ebs.availabilityZone: nowhere to restore a ebs-volume into"],
      ["not-configured", "policy logs has no restoreTest block"],
    ]);
  });
});

describe("which snapshot to restore", () => {
  /** A DR copy as the copy job makes it: the source's capture time in the captured-at tag. */
  const mine = (day: string, status: "available" | "pending" = "available", lagHours = 1) => {
    const source = snap({ day, resourceId: "orders-db" });
    const copy = drCopy(source, { region: DR, status, lagHours });
    return { ...copy, tags: { ...copy.tags, [TAG.capturedAt]: source.createdAt.toISOString() } };
  };

  it("orders by capture time, not by when the copy landed", () => {
    const late = mine("2026-11-28", "available", 40);
    const d = pickSnapshot({ kind: "rds-instance", resourceId: "orders-db", region: DR, owner: OWNER, snapshots: [late, mine("2026-11-29")] });
    expect(d.target?.id).toBe("oa-ops-autopilot-prod-orders-db-20261129");
  });

  it("restores the newest available copy of ours, saying a newer one is still copying", () => {
    const d = pickSnapshot({
      kind: "rds-instance",
      resourceId: "orders-db",
      region: DR,
      owner: OWNER,
      snapshots: [mine("2026-11-28"), mine("2026-11-29"), mine("2026-11-30", "pending")],
    });
    expect(d.action).toBe("restore");
    expect(d.target?.id).toBe("oa-ops-autopilot-prod-orders-db-20261129");
    expect(d.reason).toBe(
      "newest available of ours in eu-central-1: oa-ops-autopilot-prod-orders-db-20261129 captured 2026-11-29T02:00:00.000Z (3 snapshots of ours there); 1 newer one not available yet (pending)",
    );
  });

  it("never restores a snapshot it cannot prove ours", () => {
    const copy = { ...mine("2026-11-30"), id: "someones-copy" };
    const d = pickSnapshot({ kind: "rds-instance", resourceId: "orders-db", region: DR, owner: OWNER, snapshots: [copy] });
    expect(d).toEqual({
      action: "none",
      target: undefined,
      reason: "nothing to restore for rds-instance orders-db in eu-central-1: 1 snapshot of it there, none ours",
    });
  });

  it("says when there is nothing, or nothing available", () => {
    const none = pickSnapshot({ kind: "rds-instance", resourceId: "orders-db", region: DR, owner: OWNER, snapshots: [] });
    expect(none.reason).toBe("nothing to restore for rds-instance orders-db in eu-central-1: no snapshot of it there");
    const pending = pickSnapshot({ kind: "rds-instance", resourceId: "orders-db", region: DR, owner: OWNER, snapshots: [mine("2026-11-30", "pending")] });
    expect(pending.reason).toBe("nothing to restore for rds-instance orders-db in eu-central-1: 1 snapshot of ours, none available (pending)");
  });
});

describe("the throwaway", () => {
  it("is named with our restore-test prefix, deterministically per run and resource", () => {
    const a = restoreTestName(OWNER, "rds-instance", "orders-db", "run-1");
    expect(a).toMatch(/^oa-ops-autopilot-prod-rt-orders-db-[0-9a-f]{10}$/);
    expect(restoreTestName(OWNER, "rds-instance", "orders-db", "run-1")).toBe(a);
    expect(restoreTestName(OWNER, "rds-instance", "orders-db", "run-2")).not.toBe(a);
    expect(restoreTestPrefix(OWNER)).toBe("oa-ops-autopilot-prod-rt-");
  });

  it("keeps a valid RDS identifier whatever the resource id (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html)", () => {
    const owner = { app: "a".repeat(20), stage: "s".repeat(9) };
    for (const id of ["Orders_DB--Prod", "-", "x".repeat(200), "vol-0123456789abcdef0", "9lives"]) {
      const name = restoreTestName(owner, "aurora-cluster", id, "run-1");
      expect(name.length).toBeLessThanOrEqual(61);
      expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    }
  });

  it("is tagged as ours and as this run's restore test with the request time; an Aurora throwaway names its instance", () => {
    const t = throwaway(OWNER, target("orders", "aurora-cluster"), "run-1", NOW);
    expect(t.instanceName).toBe(`${t.name}-1`);
    expect(t.tags).toEqual({
      [TAG.managedBy]: "ops-autopilot:prod",
      [TAG.name]: t.name,
      [TAG.policy]: "db",
      [TAG.source]: "orders",
      [TAG.restoreTest]: "run-1",
      [TAG.restoreTestAt]: "2026-12-01T06:00:00.000Z",
    });
    expect(throwaway(OWNER, target("vol-1", "ebs-volume"), "run-1", NOW).tags.Name).toMatch(/^oa-ops-autopilot-prod-rt-vol-1-/);
    expect(() => throwaway(OWNER, target("x"), "run;1", NOW)).toThrow('run id "run;1" cannot be a tag value');
  });

  it.each([
    ["postgres", undefined, "db.t4g.micro"],
    ["aurora-postgresql", undefined, "db.t4g.medium"],
    ["sqlserver-ex", undefined, "db.t3.small"],
    ["postgres", "db.m6g.large", "db.m6g.large"],
  ])("runs %s on %s → %s", (engine, configured, expected) => {
    expect(defaultInstanceClass(engine, configured).instanceClass).toBe(expected);
  });

  it("an Aurora throwaway checked through the Data API gets db.r6g.large: the Data API isn't supported on T classes (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html); a configured class still wins", () => {
    expect(defaultInstanceClass("aurora-postgresql", undefined, { dataApi: true })).toEqual({
      instanceClass: "db.r6g.large",
      reason: "the smallest Graviton class the RDS Data API supports (not T classes), for aurora-postgresql",
    });
    expect(defaultInstanceClass("aurora-postgresql", "db.r7g.large", { dataApi: true }).instanceClass).toBe("db.r7g.large");
    expect(defaultInstanceClass("postgres", undefined, { dataApi: true }).instanceClass).toBe("db.t4g.micro");
  });
});

describe("smoke checks", () => {
  const smoke = SmokeSchema.parse({ sql: [{ name: "orders", query: "select count(*) from orders", expect: { atLeast: 1000 } }] });

  it("runs sql through the Data API for Aurora and the checker function for RDS, and refuses them on another engine", () => {
    expect(smokeChecks("aurora-cluster", "aurora-postgresql", smoke, "shop").map((c) => c.reason)).toEqual([
      "status available, the snapshot's engine and version, its storage",
      "orders in shop via the RDS Data API",
    ]);
    expect(smokeChecks("rds-instance", "postgres", smoke).map((c) => c.reason)).toEqual([
      "status available, the snapshot's engine and version, its storage",
      "orders in postgres via the VPC checker function (pg)",
    ]);
    expect(smokeChecks("rds-instance", "mysql", smoke).at(-1)).toEqual({
      type: "refused",
      reason: "1 sql check configured, but the engine is mysql: sql checks run against Postgres only",
    });
    expect(smokeChecks("ebs-volume", undefined, SmokeSchema.parse({}))).toEqual([
      { type: "available", reason: "the volume is available with the snapshot's size" },
    ]);
  });
});

describe("measure and judge", () => {
  const t0 = new Date("2026-12-01T06:00:00Z");
  const plus = (min: number) => new Date(t0.getTime() + min * 60_000);
  it.each([
    [
      { requestedAt: t0, availableAt: plus(11), smokePassedAt: plus(12) },
      {
        verdict: "passed",
        restoreSeconds: 660,
        smokeSeconds: 60,
        provenRtoSeconds: 720,
        alert: "none",
        reason: "proven RTO 12.0 min (restore 11.0 min + smoke 1.0 min), within the 15 min target",
      },
    ],
    [
      { requestedAt: t0, availableAt: plus(19), smokePassedAt: plus(20.5) },
      {
        verdict: "rto-over-target",
        restoreSeconds: 1140,
        smokeSeconds: 90,
        provenRtoSeconds: 1230,
        alert: "critical",
        reason: "proven RTO 20.5 min (restore 19.0 min + smoke 1.5 min), over the 15 min target",
      },
    ],
    [
      { requestedAt: t0, availableAt: plus(9), failure: { step: "smoke", message: "orders: 982 is below 1000" } },
      { verdict: "smoke-failed", restoreSeconds: 540, alert: "critical", reason: "smoke check failed after a 9.0 min restore: orders: 982 is below 1000" },
    ],
    [
      { requestedAt: t0, failure: { step: "restore", message: "storage-full after 42 min" } },
      { verdict: "restore-failed", alert: "critical", reason: "restore failed: storage-full after 42 min" },
    ],
    [{ requestedAt: t0 }, { verdict: "restore-failed", alert: "critical", reason: "restore failed: it never became available (no outcome recorded)" }],
  ] as const)("%j → %j", (record, expected) => {
    expect(judgeRestoreTest(record, 15)).toEqual(expected);
  });

  it("estimates a test's cost from instance-hours by class (10-minute RDS minimum) and storage, saying the prices are unconfirmed", () => {
    const c = restoreTestCost({ kind: "rds-instance", instanceClass: "db.t4g.micro", storageGb: 20, from: t0, to: plus(30) });
    expect(c.usd).toBeCloseTo(0.5 * 0.016 + (20 * 0.5 * 0.115) / 730, 10);
    expect(c.reason).toBe("db.t4g.micro instance 0.50 hours $0.0080 + storage 10.00 GB-hours $0.0016 = $0.0096 (unconfirmed prices)");
    expect(restoreTestCost({ kind: "rds-instance", instanceClass: "db.t4g.micro", storageGb: 0, from: t0, to: plus(2) }).lines[0]!.quantity).toBeCloseTo(
      1 / 6,
      10,
    );
    const unknown = restoreTestCost({ kind: "aurora-cluster", instanceClass: "db.r7g.large", storageGb: 10, from: t0, to: plus(60) });
    expect(unknown.reason).toMatch(/; no price for aurora db\.r7g\.large \(not counted\)$/);
    expect(unknown.confirmed).toBe(false);
  });
});

describe("the janitor", () => {
  const limits = { byPolicy: { db: 6 }, fallback: 6 };
  const name = restoreTestName(OWNER, "rds-instance", "orders-db", "run-1");
  const ours = (o: Partial<RestoreTestLeftover> = {}, tags: Record<string, string | undefined> = {}): RestoreTestLeftover => {
    const all: Record<string, string | undefined> = { ...throwaway(OWNER, target("orders-db"), "run-1", ago(7)).tags, ...tags };
    return {
      type: "db-instance",
      id: name,
      region: DR,
      status: "available",
      createdAt: ago(7),
      ...o,
      tags: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>,
    };
  };
  const decide = (r: RestoreTestLeftover) => janitor([r], { owner: OWNER, limits, now: NOW })[0]!;

  it.each([
    ["deletes our throwaway past maxAgeHours", ours(), "delete", "a restore-test throwaway of run run-1, 7.0 h old, over maxAgeHours 6 of policy db"],
    [
      "keeps it while its run may still use it",
      ours({ createdAt: ago(2) }, { [TAG.restoreTestAt]: ago(2).toISOString() }),
      "keep",
      "a restore-test throwaway of run run-1, 2.0 h old, under maxAgeHours 6 of policy db: its run may still use it",
    ],
    [
      "ages an instance still creating (no create time) by its tag",
      ours({ createdAt: undefined, status: "creating" }),
      "delete",
      "a restore-test throwaway of run run-1, 7.0 h old, over maxAgeHours 6 of policy db",
    ],
    [
      "keeps anything without the restore-test tag",
      ours({}, { [TAG.restoreTest]: undefined }),
      "keep",
      "not a restore test: no ops-autopilot:restore-test tag",
    ],
    [
      "keeps another stage's",
      ours({}, { [TAG.managedBy]: "ops-autopilot:staging" }),
      "keep",
      "not ours: ops-autopilot:managed-by is ops-autopilot:staging, not ops-autopilot:prod",
    ],
    [
      "keeps a name without our restore-test prefix",
      ours({ id: "orders-db" }),
      "keep",
      "not ours: identifier orders-db does not start with oa-ops-autopilot-prod-rt-",
    ],
    ["keeps what is already being deleted", ours({ status: "deleting" }), "keep", "already being deleted (deleting)"],
    [
      "uses the longest maxAgeHours for a policy no longer configured",
      ours({}, { [TAG.policy]: "gone" }),
      "delete",
      "a restore-test throwaway of run run-1, 7.0 h old, over 6 h (the longest maxAgeHours; policy gone is not configured)",
    ],
    [
      "reads a volume's name from its name tag",
      ours({ type: "ebs-volume", id: "vol-0123" }),
      "delete",
      "a restore-test throwaway of run run-1, 7.0 h old, over maxAgeHours 6 of policy db",
    ],
  ])("%s", (_what, leftover, action, reason) => {
    const { young: _young, ...decision } = decide(leftover);
    expect(decision).toEqual({ action, target: leftover, reason });
    expect(_young).toBe(reason.endsWith("its run may still use it") ? true : undefined);
  });

  it("deletes an Aurora throwaway's instance before its cluster", () => {
    const cluster = ours({ type: "db-cluster", id: `${name}` });
    const member = ours({ type: "db-instance", id: `${name}-1`, clusterId: name });
    const out = janitor([cluster, member], { owner: OWNER, limits, now: NOW });
    expect(out.map((d) => [d.target.type, d.action, d.after])).toEqual([
      ["db-instance", "delete", undefined],
      ["db-cluster", "delete", [`${name}-1`]],
    ]);
    expect(out[1]!.reason).toMatch(/; after its 1 instance \(.*-1\): a cluster with instances cannot be deleted$/);
  });

  it("takes each policy's maxAgeHours from the configuration", () => {
    expect(janitorLimits(config({ maxAgeHours: 3 }))).toEqual({ byPolicy: { db: 3 }, fallback: 3 });
  });
});

describe("tests in flight (whichever execution started them)", () => {
  const limits = { byPolicy: { db: 6 }, fallback: 6 };
  const live = (
    resourceId: string,
    runId: string,
    hoursAgo: number,
    o: Partial<RestoreTestLeftover> = {},
    kind: "rds-instance" | "aurora-cluster" = "rds-instance",
  ): RestoreTestLeftover => {
    const t = throwaway(OWNER, target(resourceId, kind), runId, ago(hoursAgo));
    return {
      type: kind === "aurora-cluster" ? "db-cluster" : "db-instance",
      id: t.name,
      region: DR,
      status: "available",
      createdAt: ago(hoursAgo),
      tags: t.tags,
      ...o,
    };
  };
  const inFlight = (listing: RestoreTestLeftover[]) => inFlightRestoreTests(listing, { owner: OWNER, limits, now: NOW });

  it("counts our young throwaways, one per run (an Aurora cluster with its instance once), with the resource and start the tags name", () => {
    const cluster = live("orders-aurora", "run-2", 1, {}, "aurora-cluster");
    const member: RestoreTestLeftover = { ...cluster, type: "db-instance", id: `${cluster.id}-1`, clusterId: cluster.id };
    expect(inFlight([live("orders-db", "run-1", 2), cluster, member])).toEqual([
      { kind: "rds-instance", resourceId: "orders-db", region: DR, runId: "run-1", startedAt: ago(2) },
      { kind: "aurora-cluster", resourceId: "orders-aurora", region: DR, runId: "run-2", startedAt: ago(1) },
    ]);
  });

  it("does not count what the janitor deletes or what is not ours: too old, being deleted, another stage's, untagged", () => {
    const other = live("orders-db", "run-3", 1);
    expect(
      inFlight([
        live("orders-db", "run-1", 7),
        live("billing-db", "run-2", 1, { status: "deleting" }),
        { ...other, tags: { ...other.tags, [TAG.managedBy]: "ops-autopilot:staging" } },
        { ...other, tags: Object.fromEntries(Object.entries(other.tags).filter(([k]) => k !== TAG.restoreTest)) },
      ]),
    ).toEqual([]);
  });
});
