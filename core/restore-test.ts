/**
 * Restore-test decisions (issue 11): which resources are due, which snapshot to restore, what the throwaway is
 * called and tagged, how a test is judged and what it cost, and which leftovers the janitor deletes.
 *
 * Pure: no AWS SDK, no clock (`now` is a parameter). Every decision is data with a reason; the runbook logs it,
 * executes it unless dry-run, and reports it.
 */
import type { Config } from "../schemas/config.ts";
import type { RestoreTestConfig, SmokeConfig, SqlCheck } from "../schemas/config-restore-test.ts";
import { classifyByOwner, restoreTestName, restoreTestPrefix } from "./ownership.ts";
import { HOURS_PER_MONTH, runsPerMonth } from "./run-cost.ts";
import { TAG, managedByValue } from "./types.ts";
import type { Decision, Owner, ResourceKind, Snapshot } from "./types.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// ---------------------------------------------------------------------------------------------------------------
// Where
// ---------------------------------------------------------------------------------------------------------------

/** What {@link restoreTestRegion} reads from the whole configuration. */
export interface RestoreTestContext {
  primaryRegion: string;
  drRegions: readonly { region: string }[];
}

/** What they read from the policy. */
export interface RestoreTestPolicy {
  name: string;
  copyToDr: boolean;
  selection: { tag?: unknown; ids: readonly { kind: string; id: string }[] };
  restoreTest?: { region?: string };
}

/**
 * Where a policy's restore tests run, and why: `region` when set (`"primary"` is the primary region); otherwise
 * the first DR region, where the copies are and where a restore is needed when the primary is gone; the primary
 * region when the policy has no DR copies (`copyToDr` false, or no DR regions).
 *
 * @example restoreTestRegion({ ...policy, restoreTest: {} }, { primaryRegion: "eu-west-1", drRegions: [{ region: "eu-central-1" }] })
 *   // { region: "eu-central-1", reason: "the first DR region (default)" }
 */
export function restoreTestRegion(policy: RestoreTestPolicy, cfg: RestoreTestContext): { region: string; reason: string } {
  const set = policy.restoreTest?.region;
  if (set === "primary" || set === cfg.primaryRegion) return { region: cfg.primaryRegion, reason: "the primary region (restoreTest.region)" };
  if (set !== undefined) return { region: set, reason: "a DR region (restoreTest.region)" };
  const first = cfg.drRegions[0]?.region;
  if (first !== undefined && policy.copyToDr) return { region: first, reason: "the first DR region (default)" };
  const why = policy.copyToDr ? "there is no DR region" : "the policy does not copy to DR (copyToDr false)";
  return { region: cfg.primaryRegion, reason: `the primary region: ${why}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Which resources are due
// ---------------------------------------------------------------------------------------------------------------

/** A resource a policy selects (in the primary region): what a restore test proves can be restored. */
export interface RestoreTestTarget {
  policy: string;
  kind: ResourceKind;
  resourceId: string;
}

export type RestoreTestVerdict = "passed" | "rto-over-target" | "smoke-failed" | "restore-failed";

/** One past test of a resource, from the trend kept in the reports bucket. */
export interface RestoreTestHistoryEntry {
  kind: ResourceKind;
  resourceId: string;
  runId: string;
  /** When the restore was requested. */
  startedAt: Date;
  verdict: RestoreTestVerdict;
}

/** A restore test started and not finished (its throwaway may still exist). */
export interface RestoreTestInFlight {
  kind: ResourceKind;
  resourceId: string;
  region: string;
  runId: string;
  startedAt: Date;
}

export type DueAction = "start" | "not-due" | "in-flight" | "capped" | "not-configured";

export type DueDecision = Decision<DueAction, RestoreTestTarget & { region: string }>;

/** A verdict that proves the backup restores (slowly, for `rto-over-target`). */
export function proven(v: RestoreTestVerdict): boolean {
  return v === "passed" || v === "rto-over-target";
}

/**
 * Hours after which a resource tested on `schedule` is due again: half the schedule's mean interval (730 h a
 * month / runs a month). Half, so a monthly schedule retests every resource on each 1st whatever the month's
 * length or when the last run finished, while further rounds of the same run never retest it.
 *
 * @example dueAfterHours("cron(0 6 1 * ? *)") // 365
 */
export function dueAfterHours(schedule: string): number {
  return HOURS_PER_MONTH / runsPerMonth(schedule) / 2;
}

const keyOf = (kind: string, id: string) => `${kind} ${id}`;
const iso = (d: Date) => d.toISOString();
const days = (ms: number) => `${(ms / DAY_MS).toFixed(1)} days`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What {@link planRestoreTests} needs of the configuration. */
export type RestoreTestPlanConfig = Pick<Config, "primaryRegion" | "drRegions"> & {
  backup: { policies: readonly (Config["backup"]["policies"][number] & { restoreTest?: RestoreTestConfig })[] };
};

export interface RestoreTestPlanInput {
  config: RestoreTestPlanConfig;
  /** What the policies select now, one entry per resource. */
  targets: readonly RestoreTestTarget[];
  history: readonly RestoreTestHistoryEntry[];
  inFlight: readonly RestoreTestInFlight[];
  now: Date;
  /** A manual run: these resources (`kind id`) are due whatever their history (caps and in-flight still hold). */
  requested?: readonly string[];
}

/**
 * Which resources to start a restore test for now, and why each other one waits. A resource is due when it was
 * never tested, or its last test (of any verdict: a failed one has alerted, and retrying it every round would
 * starve the others) started more than {@link dueAfterHours} ago. Due resources rotate, the oldest last test
 * first (never tested first of all), and start while their restore region has fewer tests in flight than the
 * policy's `maxConcurrentRestores` (every policy's tests in that region count, whichever execution started them:
 * {@link inFlightRestoreTests}). The ones `capped` queue in the execution and start as its tests end
 * (runbooks/restore-test/handler.ts): with N due and a cap of C, one execution runs them in ceil(N / C) rounds.
 *
 * @example planRestoreTests({ config, targets: [{ policy: "db", kind: "rds-instance", resourceId: "orders-db" }], history: [], inFlight: [], now })
 *   // [{ action: "start", target: { …, region: "eu-central-1" }, reason: "due: never restore-tested; 1 of 1 slot in eu-central-1 (the first DR region (default))" }]
 */
export function planRestoreTests(input: RestoreTestPlanInput): DueDecision[] {
  const { config, now } = input;
  const requested = new Set(input.requested ?? []);
  const policies = new Map(config.backup.policies.map((p) => [p.name, p]));
  const last = new Map<string, RestoreTestHistoryEntry>();
  for (const h of input.history) {
    const k = keyOf(h.kind, h.resourceId);
    const prev = last.get(k);
    if (!prev || h.startedAt.getTime() > prev.startedAt.getTime()) last.set(k, h);
  }
  const flying = new Map(input.inFlight.map((f) => [keyOf(f.kind, f.resourceId), f]));
  const perRegion = new Map<string, number>();
  for (const f of input.inFlight) perRegion.set(f.region, (perRegion.get(f.region) ?? 0) + 1);

  const out: DueDecision[] = [];
  const due: { target: RestoreTestTarget & { region: string }; cap: number; why: string; regionWhy: string; order: number; key: string }[] = [];
  for (const t of input.targets) {
    const p = policies.get(t.policy);
    const rt = p?.restoreTest;
    const key = keyOf(t.kind, t.resourceId);
    if (!p || !rt) {
      const why = p ? `policy ${t.policy} has no restoreTest block` : `policy ${t.policy} is not in the configuration`;
      out.push({ action: "not-configured", target: { ...t, region: config.primaryRegion }, reason: why });
      continue;
    }
    const where = restoreTestRegion(p, config);
    const target = { ...t, region: where.region };
    const missing = t.kind === "ebs-volume" ? (rt.ebs ? undefined : "restoreTest.ebs.availabilityZone") : rt.rds ? undefined : "restoreTest.rds";
    if (missing) {
      out.push({ action: "not-configured", target, reason: `policy ${t.policy} sets no ${missing}: nowhere to restore a ${t.kind} into` });
      continue;
    }
    const f = flying.get(key);
    if (f) {
      out.push({ action: "in-flight", target, reason: `in flight: run ${f.runId} started ${iso(f.startedAt)} in ${f.region}` });
      continue;
    }
    const h = last.get(key);
    const dueAfterMs = dueAfterHours(rt.schedule) * HOUR_MS;
    let why: string;
    if (requested.has(key)) why = "requested (manual run)";
    else if (!h) why = "due: never restore-tested";
    else {
      const age = now.getTime() - h.startedAt.getTime();
      const lastText = `last test ${iso(h.startedAt)} (${h.verdict}, run ${h.runId}) ${days(age)} ago`;
      if (age < dueAfterMs) {
        out.push({ action: "not-due", target, reason: `not due: ${lastText}; due after ${days(dueAfterMs)} (half the interval of ${rt.schedule})` });
        continue;
      }
      why = `due: ${lastText}`;
    }
    due.push({
      target,
      cap: rt.maxConcurrentRestores,
      why,
      regionWhy: where.reason,
      order: requested.has(key) ? -Infinity : (h?.startedAt.getTime() ?? -Infinity),
      key,
    });
  }
  // Oldest last test first; the key breaks ties so a plan is the same whatever the listing order.
  due.sort((a, b) => a.order - b.order || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const dueIn = new Map<string, number>();
  for (const d of due) dueIn.set(d.target.region, (dueIn.get(d.target.region) ?? 0) + 1);
  for (const d of due) {
    const region = d.target.region;
    const busy = perRegion.get(region) ?? 0;
    if (busy < d.cap) {
      perRegion.set(region, busy + 1);
      out.push({ action: "start", target: d.target, reason: `${d.why}; ${busy + 1} of ${plural(d.cap, "slot")} in ${region} (${d.regionWhy})` });
    } else {
      out.push({
        action: "capped",
        target: d.target,
        reason: `${d.why}; waits: ${plural(busy, "restore test")} in flight in ${region}, maxConcurrentRestores is ${d.cap} (${dueIn.get(region)} due there, oldest test first)`,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Which snapshot to restore
// ---------------------------------------------------------------------------------------------------------------

/** When the snapshot's data was captured: a DR copy carries its source's time, else its own creation time. */
export function snapshotTime(s: Snapshot): Date {
  const captured = s.tags[TAG.capturedAt];
  const t = captured === undefined ? Number.NaN : Date.parse(captured);
  return Number.isNaN(t) ? s.createdAt : new Date(t);
}

export type SnapshotDecision = Decision<"restore", Snapshot> | Decision<"none", undefined>;

/**
 * The snapshot to restore `resource` from in `region`: the newest (by capture time) `available` one of ours
 * (core/ownership.ts, duplicate claims included). Never a snapshot we cannot prove ours: a restore test of a
 * person's copy proves nothing about our backups.
 *
 * @example pickSnapshot({ kind: "rds-instance", resourceId: "orders-db", region: "eu-central-1", snapshots, owner })
 *   // { action: "restore", target: <snapshot>, reason: "newest available of ours in eu-central-1: oa-…-orders-db-20261129 captured 2026-11-29T02:00:00.000Z (3 of ours there)" }
 */
export function pickSnapshot(input: {
  kind: ResourceKind;
  resourceId: string;
  region: string;
  snapshots: readonly Snapshot[];
  owner: Owner;
}): SnapshotDecision {
  const { kind, resourceId, region, owner } = input;
  const here = input.snapshots.filter((s) => s.kind === kind && s.region === region);
  const verdicts = classifyByOwner(here, owner);
  const mine = here.filter((s, i) => s.resourceId === resourceId && verdicts[i]!.ours);
  const what = `${kind} ${resourceId}`;
  if (mine.length === 0) {
    const others = here.filter((s) => s.resourceId === resourceId).length;
    const why = others ? `${plural(others, "snapshot")} of it there, none ours` : "no snapshot of it there";
    return { action: "none", target: undefined, reason: `nothing to restore for ${what} in ${region}: ${why}` };
  }
  const byTime = [...mine].sort((a, b) => snapshotTime(b).getTime() - snapshotTime(a).getTime() || (a.id < b.id ? 1 : -1));
  const pick = byTime.find((s) => s.status === "available");
  if (!pick) {
    const states = [...new Set(mine.map((s) => s.status))].join(", ");
    return {
      action: "none",
      target: undefined,
      reason: `nothing to restore for ${what} in ${region}: ${plural(mine.length, "snapshot")} of ours, none available (${states})`,
    };
  }
  const newer = byTime.indexOf(pick);
  const skipped = newer > 0 ? `; ${plural(newer, "newer one")} not available yet (${byTime[0]!.status})` : "";
  return {
    action: "restore",
    target: pick,
    reason: `newest available of ours in ${region}: ${pick.id} captured ${iso(snapshotTime(pick))} (${plural(mine.length, "snapshot")} of ours there)${skipped}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The throwaway's identity
// ---------------------------------------------------------------------------------------------------------------

/** Tag values RDS accepts (letters, digits, spaces, `_ . : / = + - @`, at most 256): a run id lands in one. */
const RUN_ID = /^[A-Za-z0-9_.:/=+@-]{1,128}$/;

export interface Throwaway {
  /** The DB instance identifier, DB cluster identifier, or (EBS) the volume's Name and name tag. */
  name: string;
  /** Aurora only: the one instance created in the throwaway cluster. */
  instanceName?: string;
  tags: Record<string, string>;
}

/**
 * The throwaway `runId` restores `target` into: its deterministic name (core/ownership.ts restoreTestName) and
 * its tags, our managed-by value plus the restore-test tag (the run id) and the time the restore was requested,
 * which is what the janitor requires and ages it by. A volume also gets `Name`, so a person sees what it is.
 *
 * @example throwaway({ app: "ops-autopilot", stage: "prod" }, { policy: "db", kind: "aurora-cluster", resourceId: "orders" }, "run-1", now)
 *   // { name: "oa-ops-autopilot-prod-rt-orders-<10 hex>", instanceName: "…-1", tags: { "ops-autopilot:managed-by": "ops-autopilot:prod", … } }
 */
export function throwaway(owner: Owner, target: RestoreTestTarget, runId: string, requestedAt: Date): Throwaway {
  if (!RUN_ID.test(runId)) throw new RangeError(`run id ${JSON.stringify(runId)} cannot be a tag value: 1-128 letters, digits and _ . : / = + - @`);
  const name = restoreTestName(owner, target.kind, target.resourceId, runId);
  const tags: Record<string, string> = {
    [TAG.managedBy]: managedByValue(owner),
    [TAG.name]: name,
    [TAG.policy]: target.policy,
    [TAG.source]: target.resourceId,
    [TAG.restoreTest]: runId,
    [TAG.restoreTestAt]: iso(requestedAt),
  };
  if (target.kind === "ebs-volume") tags.Name = name;
  return { name, ...(target.kind === "aurora-cluster" ? { instanceName: `${name}-1` } : {}), tags };
}

/**
 * A small instance class the engine allows, for a throwaway nobody queries but the smoke check: Graviton
 * burstable for the open-source engines, `db.t4g.medium` for Aurora (its smallest provisioned class), `db.t3.small`
 * for commercial engines. An Aurora throwaway whose sql checks use the RDS Data API gets `db.r6g.large`: "Data API
 * isn't supported on T DB instance classes" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html).
 * An engine version without that class needs `restoreTest.rds.instanceClass`.
 * Supported classes: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html
 *
 * @example defaultInstanceClass("postgres") // { instanceClass: "db.t4g.micro", reason: "…" }
 * @example defaultInstanceClass("aurora-postgresql", undefined, { dataApi: true }) // { instanceClass: "db.r6g.large", reason: "…" }
 */
export function defaultInstanceClass(engine: string, configured?: string, options: { dataApi?: boolean } = {}): { instanceClass: string; reason: string } {
  if (configured) return { instanceClass: configured, reason: "restoreTest.rds.instanceClass" };
  if (engine.startsWith("aurora") && options.dataApi) {
    return { instanceClass: "db.r6g.large", reason: `the smallest Graviton class the RDS Data API supports (not T classes), for ${engine}` };
  }
  if (engine.startsWith("aurora")) return { instanceClass: "db.t4g.medium", reason: `the smallest provisioned Aurora class, for ${engine}` };
  if (/^(postgres|mysql|mariadb)$/.test(engine)) return { instanceClass: "db.t4g.micro", reason: `the smallest Graviton burstable class, for ${engine}` };
  return { instanceClass: "db.t3.small", reason: `a small class commercial engines accept, for ${engine}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Smoke checks
// ---------------------------------------------------------------------------------------------------------------

export type SmokeStep =
  | { type: "available"; reason: string }
  | { type: "sql"; via: "data-api" | "pg-checker"; check: SqlCheck; database: string; reason: string }
  | { type: "refused"; reason: string };

/**
 * The smoke checks to run on a throwaway of `kind` restored from a snapshot of `engine`: `available` when
 * configured (and always for a volume, which has nothing else), and each sql check through the Data API (Aurora)
 * or the VPC checker function with `pg` (RDS). SQL checks on another engine than Postgres are refused, which fails
 * the smoke check: the configuration asked for a proof that cannot be run.
 */
export function smokeChecks(kind: ResourceKind, engine: string | undefined, smoke: SmokeConfig, snapshotDbName?: string): SmokeStep[] {
  const out: SmokeStep[] = [];
  if (smoke.available || kind === "ebs-volume") {
    const what =
      kind === "ebs-volume" ? "the volume is available with the snapshot's size" : "status available, the snapshot's engine and version, its storage";
    out.push({ type: "available", reason: what });
  }
  if (kind === "ebs-volume" || smoke.sql.length === 0) return out;
  const postgres = engine === "postgres" || engine === "aurora-postgresql";
  if (!postgres) {
    out.push({
      type: "refused",
      reason: `${plural(smoke.sql.length, "sql check")} configured, but the engine is ${engine ?? "unknown"}: sql checks run against Postgres only`,
    });
    return out;
  }
  const database = smoke.database ?? snapshotDbName ?? "postgres";
  const via = kind === "aurora-cluster" ? "data-api" : "pg-checker";
  for (const check of smoke.sql) {
    out.push({
      type: "sql",
      via,
      check,
      database,
      reason: `${check.name} in ${database} via ${via === "data-api" ? "the RDS Data API" : "the VPC checker function (pg)"}`,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Measure and judge
// ---------------------------------------------------------------------------------------------------------------

/** What a run recorded of one test (times are when the runbook observed them). */
export interface RestoreTestRecord {
  requestedAt: Date;
  /** First seen available. */
  availableAt?: Date;
  /** The smoke check passed (every check). */
  smokePassedAt?: Date;
  /** Where and why the test stopped short: a failed or stuck restore, a failed smoke check, a timeout. */
  failure?: { step: "restore" | "smoke"; message: string };
}

export interface RestoreTestJudgment {
  verdict: RestoreTestVerdict;
  /** Requested → available. */
  restoreSeconds?: number;
  /** Available → smoke check passed. */
  smokeSeconds?: number;
  /** Requested → smoke check passed: the proven RTO (only when the restore was proven). */
  provenRtoSeconds?: number;
  alert: "critical" | "none";
  reason: string;
}

const secondsBetween = (a: Date, b: Date) => Math.round((b.getTime() - a.getTime()) / 1000);
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;

/**
 * The verdict of one test: `restore-failed` (never available), `smoke-failed` (available, smoke check not passed),
 * `rto-over-target` (passed, slower than `rtoTargetMinutes`), `passed`; all but `passed` alert critically.
 *
 * @example judgeRestoreTest({ requestedAt, availableAt: +11 min, smokePassedAt: +12 min }, 15)
 *   // { verdict: "passed", restoreSeconds: 660, smokeSeconds: 60, provenRtoSeconds: 720, alert: "none", reason: "proven RTO 12.0 min (restore 11.0 min + smoke 1.0 min), within the 15 min target" }
 */
export function judgeRestoreTest(r: RestoreTestRecord, rtoTargetMinutes: number): RestoreTestJudgment {
  if (!r.availableAt) {
    const why = r.failure?.message ?? "it never became available (no outcome recorded)";
    return { verdict: "restore-failed", alert: "critical", reason: `restore failed: ${why}` };
  }
  const restoreSeconds = secondsBetween(r.requestedAt, r.availableAt);
  if (!r.smokePassedAt) {
    const why = r.failure?.message ?? "no passing smoke check recorded";
    return { verdict: "smoke-failed", restoreSeconds, alert: "critical", reason: `smoke check failed after a ${minutes(restoreSeconds)} restore: ${why}` };
  }
  const smokeSeconds = secondsBetween(r.availableAt, r.smokePassedAt);
  const total = secondsBetween(r.requestedAt, r.smokePassedAt);
  const measured = `proven RTO ${minutes(total)} (restore ${minutes(restoreSeconds)} + smoke ${minutes(smokeSeconds)})`;
  if (total > rtoTargetMinutes * 60) {
    return {
      verdict: "rto-over-target",
      restoreSeconds,
      smokeSeconds,
      provenRtoSeconds: total,
      alert: "critical",
      reason: `${measured}, over the ${rtoTargetMinutes} min target`,
    };
  }
  return {
    verdict: "passed",
    restoreSeconds,
    smokeSeconds,
    provenRtoSeconds: total,
    alert: "none",
    reason: `${measured}, within the ${rtoTargetMinutes} min target`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cost of a test
// ---------------------------------------------------------------------------------------------------------------

export interface RestoreTestPrice {
  usdPerHour?: number;
  usdPerGbMonth?: number;
  url: string;
  /** When the figure was read (YYYY-MM-DD). */
  read: string;
  /** False when the figure was not read on AWS's own pricing page (check it before relying on it). */
  confirmed: boolean;
  note?: string;
}

const RDS_PRICING = "https://aws.amazon.com/rds/postgresql/pricing/";
const AURORA_PRICING = "https://aws.amazon.com/rds/aurora/pricing/";
const EBS_PRICING = "https://aws.amazon.com/ebs/pricing/";
const READ = "2026-11-30";
const SUMMARY = "US East (N. Virginia) On-Demand Single-AZ, from a 2026 summary of the pricing page; the page itself was not read";

/**
 * List prices a test's estimate multiplies by: instance classes (per hour) and storage (per GB-month). Other regions
 * differ by a few percent; a class missing here gives no estimate for that line, said so in the reason.
 */
export const RESTORE_TEST_PRICES: Record<string, RestoreTestPrice> = {
  "rds:db.t4g.micro": { usdPerHour: 0.016, url: RDS_PRICING, read: READ, confirmed: false, note: SUMMARY },
  "rds:db.t4g.small": { usdPerHour: 0.032, url: RDS_PRICING, read: READ, confirmed: false, note: SUMMARY },
  "rds:db.t4g.medium": { usdPerHour: 0.065, url: RDS_PRICING, read: READ, confirmed: false, note: SUMMARY },
  "rds:db.t3.micro": { usdPerHour: 0.018, url: RDS_PRICING, read: READ, confirmed: false, note: "long-standing list price; not read" },
  "rds:db.t3.small": {
    usdPerHour: 0.036,
    url: RDS_PRICING,
    read: READ,
    confirmed: false,
    note: "long-standing list price (PostgreSQL); commercial engines cost more; not read",
  },
  "aurora:db.t4g.medium": {
    usdPerHour: 0.073,
    url: AURORA_PRICING,
    read: READ,
    confirmed: false,
    note: "Aurora PostgreSQL Standard, long-standing list price; not read",
  },
  "aurora:db.r6g.large": {
    usdPerHour: 0.26,
    url: AURORA_PRICING,
    read: READ,
    confirmed: false,
    note: "Aurora PostgreSQL Standard, long-standing list price; not read",
  },
  "storage:rds": { usdPerGbMonth: 0.115, url: RDS_PRICING, read: READ, confirmed: false, note: "gp3/gp2 Single-AZ, from a 2026 summary; not read" },
  "storage:aurora": {
    usdPerGbMonth: 0.1,
    url: AURORA_PRICING,
    read: READ,
    confirmed: false,
    note: "Aurora Standard storage, long-standing list price; not read",
  },
  "storage:ebs": { usdPerGbMonth: 0.08, url: EBS_PRICING, read: READ, confirmed: false, note: "gp3, long-standing list price; not read" },
};

/**
 * RDS bills "in one-second increments, with a minimum of 10 minutes" from when the instance is available
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html); the estimate counts from
 * the request, which errs high by the restore's minutes.
 */
const RDS_MIN_SECONDS = 600;

export interface RestoreTestCost {
  usd: number;
  /** False when a price used is unconfirmed or missing. */
  confirmed: boolean;
  lines: { item: string; quantity: number; unit: string; usd: number }[];
  reason: string;
}

/**
 * Estimated cost of one test from its throwaway's instance-hours by class and storage GB-hours, from the request
 * to the delete (or `now` when still up).
 *
 * @example restoreTestCost({ kind: "rds-instance", instanceClass: "db.t4g.micro", storageGb: 20, from, to: +30 min })
 *   // { usd: 0.0112, lines: [0.5 h × $0.016, 20 GB × 0.5 h × $0.115/730], … }
 */
export function restoreTestCost(input: { kind: ResourceKind; instanceClass?: string; storageGb: number; from: Date; to: Date }): RestoreTestCost {
  const seconds = Math.max(0, secondsBetween(input.from, input.to));
  const lines: RestoreTestCost["lines"] = [];
  const missing: string[] = [];
  let confirmed = true;
  if (input.kind !== "ebs-volume") {
    const family = input.kind === "aurora-cluster" ? "aurora" : "rds";
    const cls = input.instanceClass ?? "(no class)";
    const price = RESTORE_TEST_PRICES[`${family}:${cls}`];
    const hours = Math.max(seconds, RDS_MIN_SECONDS) / 3600;
    if (price?.usdPerHour === undefined) missing.push(`${family} ${cls}`);
    else {
      confirmed &&= price.confirmed;
      lines.push({ item: `${cls} instance`, quantity: hours, unit: "hour", usd: hours * price.usdPerHour });
    }
  }
  const storage = RESTORE_TEST_PRICES[`storage:${input.kind === "ebs-volume" ? "ebs" : input.kind === "aurora-cluster" ? "aurora" : "rds"}`]!;
  confirmed &&= storage.confirmed;
  const gbHours = input.storageGb * (seconds / 3600);
  lines.push({ item: "storage", quantity: gbHours, unit: "GB-hour", usd: (gbHours * storage.usdPerGbMonth!) / HOURS_PER_MONTH });
  const usd = lines.reduce((a, l) => a + l.usd, 0);
  const parts = lines.map((l) => `${l.item} ${l.quantity.toFixed(2)} ${l.unit}s $${l.usd.toFixed(4)}`).join(" + ");
  const gaps = missing.length ? `; no price for ${missing.join(", ")} (not counted)` : "";
  return {
    usd,
    confirmed: confirmed && missing.length === 0,
    lines,
    reason: `${parts} = $${usd.toFixed(4)}${confirmed ? "" : " (unconfirmed prices)"}${gaps}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The janitor
// ---------------------------------------------------------------------------------------------------------------

/** What the janitor lists in a region: DB instances (Aurora members with their cluster), DB clusters, volumes. */
export interface RestoreTestLeftover {
  type: "db-instance" | "db-cluster" | "ebs-volume";
  /** DBInstanceIdentifier, DBClusterIdentifier or VolumeId. */
  id: string;
  region: string;
  status: string;
  /** InstanceCreateTime, ClusterCreateTime or CreateTime, when AWS reports one (not while an instance is being created). */
  createdAt?: Date;
  tags: Record<string, string>;
  /** A DB instance's DBClusterIdentifier. */
  clusterId?: string;
}

export type JanitorDecision = Decision<"delete" | "keep", RestoreTestLeftover> & {
  after?: string[];
  /** Kept because its run may still use it: ours, not being deleted, younger than its policy's maxAgeHours. */
  young?: true;
};

/** The janitor's age limit per policy (the policy tag on a throwaway), and for throwaways of a policy since removed. */
export interface JanitorLimits {
  byPolicy: Record<string, number>;
  fallback: number;
}

/** The limits of a configuration: each policy's `maxAgeHours`; the longest of them for a policy no longer configured (6 h without any). */
export function janitorLimits(config: Pick<RestoreTestPlanConfig, "backup">): JanitorLimits {
  const byPolicy: Record<string, number> = {};
  for (const p of config.backup.policies) if (p.restoreTest) byPolicy[p.name] = p.restoreTest.maxAgeHours;
  const all = Object.values(byPolicy);
  return { byPolicy, fallback: all.length ? Math.max(...all) : 6 };
}

const GONE = new Set(["deleting", "deleted", "delete-precheck"]);

/**
 * Which leftovers to delete: exactly those that carry our restore-test tag, our managed-by value and a name with our
 * restore-test prefix (the identifier of a DB instance or cluster, the name tag of a volume), older than the
 * policy's `maxAgeHours` (aged from the earlier of AWS's create time and the tag written at the request, so a
 * throwaway stuck in `creating` without a create time ages too). Everything else is kept with the reason.
 * Aurora: instances come before their cluster, whose delete names them in `after`.
 *
 * @example janitor(listing, { owner, limits: { byPolicy: { db: 6 }, fallback: 6 }, now })
 *   // [{ action: "delete", target: <oa-…-rt-orders-db-…>, reason: "a restore-test throwaway of run r-1 (policy db), 7.2 h old, over maxAgeHours 6" }, …]
 */
export function janitor(listing: readonly RestoreTestLeftover[], input: { owner: Owner; limits: JanitorLimits; now: Date }): JanitorDecision[] {
  const prefix = restoreTestPrefix(input.owner);
  const managedBy = managedByValue(input.owner);
  const keep = (target: RestoreTestLeftover, reason: string): JanitorDecision => ({ action: "keep", target, reason });
  const decide = (r: RestoreTestLeftover): JanitorDecision => {
    const run = r.tags[TAG.restoreTest];
    if (!run) return keep(r, `not a restore test: no ${TAG.restoreTest} tag`);
    const mb = r.tags[TAG.managedBy];
    if (mb !== managedBy) return keep(r, `not ours: ${TAG.managedBy} is ${mb ?? "missing"}, not ${managedBy}`);
    const name = r.type === "ebs-volume" ? r.tags[TAG.name] : r.id.toLowerCase();
    if (!name?.startsWith(prefix))
      return keep(r, `not ours: ${r.type === "ebs-volume" ? "name tag" : "identifier"} ${name ?? "(none)"} does not start with ${prefix}`);
    if (GONE.has(r.status)) return keep(r, `already being deleted (${r.status})`);
    const tagged = Date.parse(r.tags[TAG.restoreTestAt] ?? "");
    const times = [r.createdAt?.getTime(), tagged].filter((t): t is number => t !== undefined && !Number.isNaN(t));
    if (times.length === 0) return keep(r, `age unknown: no create time and no valid ${TAG.restoreTestAt} tag`);
    const ageHours = (input.now.getTime() - Math.min(...times)) / HOUR_MS;
    const policy = r.tags[TAG.policy];
    const known = policy !== undefined && Object.hasOwn(input.limits.byPolicy, policy);
    const limit = known ? input.limits.byPolicy[policy]! : input.limits.fallback;
    const limitWhy = known
      ? `maxAgeHours ${limit} of policy ${policy}`
      : `${limit} h (the longest maxAgeHours; policy ${policy ?? "untagged"} is not configured)`;
    if (ageHours < limit)
      return { ...keep(r, `a restore-test throwaway of run ${run}, ${ageHours.toFixed(1)} h old, under ${limitWhy}: its run may still use it`), young: true };
    return { action: "delete", target: r, reason: `a restore-test throwaway of run ${run}, ${ageHours.toFixed(1)} h old, over ${limitWhy}` };
  };
  const out = listing.map(decide);
  for (const d of out) {
    if (d.action !== "delete" || d.target.type !== "db-cluster") continue;
    const members = listing
      .filter((r) => r.type === "db-instance" && r.region === d.target.region && r.clusterId === d.target.id && !GONE.has(r.status))
      .map((r) => r.id);
    if (members.length) {
      d.after = members;
      d.reason += `; after its ${plural(members.length, "instance")} (${members.join(", ")}): a cluster with instances cannot be deleted`;
    }
  }
  const rank = { "db-instance": 0, "ebs-volume": 1, "db-cluster": 2 } as const;
  return out.sort((a, b) => rank[a.target.type] - rank[b.target.type]);
}

const KIND_OF_TYPE = { "db-instance": "rds-instance", "db-cluster": "aurora-cluster", "ebs-volume": "ebs-volume" } as const;

/**
 * The restore tests in flight in a listing, whichever execution started them: our throwaways the janitor keeps as
 * young (ours, not being deleted, under their policy's maxAgeHours), one per run (an Aurora cluster's instance counts
 * with its cluster). Planning counts them against `maxConcurrentRestores` and does not start a second test of the
 * same resource, so overlapping executions (a manual start during a scheduled one) share the cap.
 */
export function inFlightRestoreTests(
  listing: readonly RestoreTestLeftover[],
  input: { owner: Owner; limits: JanitorLimits; now: Date },
): RestoreTestInFlight[] {
  const out: RestoreTestInFlight[] = [];
  const seen = new Set<string>();
  for (const d of janitor(listing, input)) {
    const r = d.target;
    if (!d.young || (r.type === "db-instance" && r.clusterId)) continue;
    const runId = r.tags[TAG.restoreTest]!;
    const source = r.tags[TAG.source];
    if (!source || seen.has(`${r.region} ${runId}`)) continue;
    seen.add(`${r.region} ${runId}`);
    const tagged = Date.parse(r.tags[TAG.restoreTestAt] ?? "");
    const startedAt = Number.isNaN(tagged) ? (r.createdAt ?? input.now) : new Date(tagged);
    out.push({ kind: KIND_OF_TYPE[r.type], resourceId: source, region: r.region, runId, startedAt });
  }
  return out;
}
