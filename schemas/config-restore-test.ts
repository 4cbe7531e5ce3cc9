// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { type RestoreTestContext, type RestoreTestPolicy, restoreTestRegion } from "../core/restore-test.ts";
import { scheduleExpressionProblem } from "./schedule-expression.ts";

/**
 * Configuration block `backup.policies[].restoreTest`: proven restores (issue 11). When present, the restore-test
 * runbook restores the newest available snapshot of each resource of the policy into a throwaway, waits until it
 * is available, runs the smoke checks, measures the time it took (the proven RTO) and deletes the throwaway.
 *
 * Defaults follow the team's runbook: tested monthly, in the first DR region (where a restore is needed when the
 * primary is gone), one restore at a time per region, an RTO target of 15 minutes ("Database: 15 minutes (restore
 * from latest backup)"), leftovers removed by the janitor after 6 hours.
 *
 * Checks that need the rest of the configuration (the restore region, the policy's selection) are made by
 * {@link restoreTestIssues}, which schemas/config.ts runs over every policy; the restore region by
 * core/restore-test.ts.
 */

/** Same shape as schemas/config.ts RegionSchema (not imported: config.ts imports this module). */
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Monthly, at 06:00 on the 1st (schedule timezone): after the 02:00 backup, with time for its DR copy to finish. */
export const DEFAULT_RESTORE_TEST_SCHEDULE = "cron(0 6 1 * ? *)";

const SqlExpectSchema = z
  .object({
    /** The query's first value (a count, say) is a number at least this. */
    atLeast: z.number().optional(),
    /** The query's first value equals this (numbers compare numerically, so `"42"` from Postgres equals 42). */
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    /** The query's first value is a timestamp within `seconds` of the restored snapshot's capture time. */
    withinSecondsOf: z.literal("snapshotTime").optional(),
    seconds: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const given = (["atLeast", "equals", "withinSecondsOf"] as const).filter((k) => e[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `expected exactly one of atLeast, equals or withinSecondsOf, got ${given.length ? given.join(" and ") : "none"}`,
      });
    }
    if (e.withinSecondsOf !== undefined && e.seconds === undefined) {
      ctx.addIssue({ code: "custom", path: ["seconds"], message: 'withinSecondsOf "snapshotTime" needs seconds (the RPO the data must be within)' });
    }
    if (e.withinSecondsOf === undefined && e.seconds !== undefined) {
      ctx.addIssue({ code: "custom", path: ["seconds"], message: "seconds goes with withinSecondsOf; it changes nothing here" });
    }
  })
  .transform((e): SqlExpect => {
    if (e.atLeast !== undefined) return { atLeast: e.atLeast };
    if (e.withinSecondsOf !== undefined) return { withinSecondsOf: e.withinSecondsOf, seconds: e.seconds! };
    return { equals: e.equals as string | number | boolean | null };
  });

/** What a SQL check's one value must satisfy (judged by core/smoke.ts judgeSmokeCheck). */
export type SqlExpect = { atLeast: number } | { equals: string | number | boolean | null } | { withinSecondsOf: "snapshotTime"; seconds: number };

/**
 * One statement that reads: a smoke check proves the data is there, it does not change it (the runner also runs it
 * in a read-only transaction). Comments and a trailing semicolon are allowed; a second statement is not.
 */
function queryProblem(query: string): string | undefined {
  const body = query
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .trim()
    .replace(/;\s*$/, "");
  if (!/^(select|with|values|table)\b/i.test(body)) return "expected one read-only query starting with SELECT, WITH, VALUES or TABLE";
  if (body.includes(";")) return "expected one statement: a smoke check runs a single query";
  return undefined;
}

export const SqlCheckSchema = z
  .object({
    /** Named in the report and the alert. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "expected lowercase letters, digits and hyphens, starting with a letter"),
    /** A Postgres query whose first column of the first row is judged, e.g. `select count(*) from orders`. */
    query: z
      .string()
      .min(1)
      .max(4000)
      .superRefine((q, ctx) => {
        const problem = queryProblem(q);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    expect: SqlExpectSchema,
  })
  .strict();

/** The longest a policy's sql checks may take together: they run in one invocation (stacks/functions.ts timeouts). */
export const MAX_SMOKE_SECONDS = 600;

export const SmokeSchema = z
  .object({
    /**
     * The throwaway is available as restored: status `available`, the snapshot's engine and version, its storage
     * (RDS, Aurora); an EBS volume `available` with the snapshot's size.
     */
    available: z.boolean().default(true),
    /** Queries against the restored Postgres database (Data API for Aurora, the VPC checker function for RDS). */
    sql: z.array(SqlCheckSchema).default([]),
    /** Database the queries run in; default the snapshot's database name, else `postgres`. */
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, "expected a Postgres database name (letters, digits, _ and $, at most 63)")
      .optional(),
    /**
     * Secrets Manager secret with `username` and `password`; default the source database's RDS-managed master user
     * secret (its MasterUserSecret, looked up in the primary region; a source without one fails the sql checks with
     * "no secret: <source> has no RDS-managed master user secret; set smoke.secretArn"). A restore keeps the password
     * of the day the snapshot was taken: the checker function tries the secret's current version, then its previous
     * one (a rotation since the snapshot); the Data API (Aurora) takes the current version only, and is expected to read
     * the secret in the restored cluster's region, so an Aurora restore test in a DR region should name a secret there.
     */
    secretArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "expected a Secrets Manager secret ARN")
      .optional(),
    /** Per query; a query still running then fails the check. */
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.available && s.sql.length === 0) {
      ctx.addIssue({ code: "custom", path: ["available"], message: "a smoke check that checks nothing: keep available or add sql checks" });
    }
    const seen = new Set<string>();
    s.sql.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: "custom", path: ["sql", i, "name"], message: `duplicate sql check "${c.name}"` });
      seen.add(c.name);
    });
    // One smoke step runs all its checks within one invocation of the restore-test function (900 s) or the checker.
    const total = s.sql.length * s.timeoutSeconds;
    if (total > MAX_SMOKE_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["timeoutSeconds"],
        message: `${s.sql.length} sql checks × ${s.timeoutSeconds} s = ${total} s: the checks run in one invocation, keep sql checks × timeoutSeconds at most ${MAX_SMOKE_SECONDS} s`,
      });
    }
    if (s.sql.length === 0) {
      for (const field of ["database", "secretArn"] as const) {
        if (s[field] !== undefined)
          ctx.addIssue({ code: "custom", path: [field], message: `${field} is used by sql checks only, and there are none: it changes nothing` });
      }
    }
  });

const SECURITY_GROUP = z.string().regex(/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/, "expected a security group id such as sg-0123456789abcdef0");

export const RestoreTestCheckerSchema = z
  .object({
    subnetIds: z
      .array(z.string().regex(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, "expected a subnet id such as subnet-0123456789abcdef0"))
      .min(1)
      .max(16, "Lambda takes at most 16 subnets"),
    securityGroupIds: z.array(SECURITY_GROUP).min(1).max(5, "Lambda takes at most 5 security groups"),
  })
  .strict();

export const RestoreTestRdsSchema = z
  .object({
    /** Class of the throwaway; default a small class the engine allows (core/restore-test.ts defaultInstanceClass). */
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, "expected a DB instance class such as db.t4g.micro")
      .optional(),
    /** DB subnet group in the restore region the throwaway is placed in (private subnets: it is never public). */
    dbSubnetGroupName: z.string().regex(/^[A-Za-z0-9._ -]{1,255}$/, "expected a DB subnet group name (letters, digits, periods, underscores, spaces, hyphens)"),
    /** Security groups of the throwaway: the checker function's group must be let in on the database port. */
    vpcSecurityGroupIds: z.array(SECURITY_GROUP).min(1),
    /**
     * Where the checker function runs: the Lambda function that connects to a restored RDS instance with `pg` to run
     * the sql checks (Aurora's run through the Data API and need none). Subnets of the restore region's VPC that
     * reach the database and Secrets Manager (an interface endpoint or a NAT gateway); its security groups must be
     * let in by vpcSecurityGroupIds on the database port. One checker per restore region: policies restoring in the
     * same region give the same checker.
     */
    checker: RestoreTestCheckerSchema.optional(),
  })
  .strict();

export const RestoreTestEbsSchema = z
  .object({
    /** Availability Zone of the restore region the volume is created in, e.g. eu-central-1a. */
    availabilityZone: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d(-[a-z0-9]+)*[a-z]$/, "expected an Availability Zone name such as eu-central-1a"),
  })
  .strict();

export const RestoreTestSchema = z
  .object({
    /** EventBridge Scheduler expression in the top-level `timezone`; a resource is tested once per interval. */
    schedule: z.string().default(DEFAULT_RESTORE_TEST_SCHEDULE),
    /** `"primary"`, or the primary or a DR region by name; default the first DR region (see {@link restoreTestRegion}). */
    region: z
      .string()
      .refine((s) => s === "primary" || REGION.test(s), 'expected "primary" or an AWS region such as eu-central-1')
      .optional(),
    /** A passing test slower than this (requested → smoke check passed) alerts critically. */
    rtoTargetMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    /** Restore tests in flight at once in the restore region (all policies restoring there count). */
    maxConcurrentRestores: z.number().int().min(1).max(20).default(1),
    /** The janitor deletes restore-test throwaways older than this, whatever became of their run. */
    maxAgeHours: z.number().positive().max(72).default(6),
    rds: RestoreTestRdsSchema.optional(),
    ebs: RestoreTestEbsSchema.optional(),
    smoke: SmokeSchema.prefault({}),
  })
  .strict()
  .superRefine((t, ctx) => {
    const problem = scheduleExpressionProblem(t.schedule);
    if (problem) ctx.addIssue({ code: "custom", path: ["schedule"], message: problem });
    else if (t.schedule.startsWith("at(")) {
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message: "a restore test repeats: use cron(...) or rate(...); run a one-off test with a manual event",
      });
    }
    // The janitor must not remove a throwaway a run within its target may still be using.
    if (t.maxAgeHours * 60 <= t.rtoTargetMinutes) {
      ctx.addIssue({
        code: "custom",
        path: ["maxAgeHours"],
        message: `${t.maxAgeHours} h is not above rtoTargetMinutes (${t.rtoTargetMinutes} min): the janitor would delete a throwaway before a restore within target is done`,
      });
    }
  });

export type RestoreTestConfig = z.output<typeof RestoreTestSchema>;
export type RestoreTestInput = z.input<typeof RestoreTestSchema>;
export type SqlCheck = z.output<typeof SqlCheckSchema>;
export type SmokeConfig = z.output<typeof SmokeSchema>;

/** The kinds a policy can select: known only when it selects by ids alone (a tag selects any kind). */
function selectableKinds(policy: RestoreTestPolicy): Set<string> | undefined {
  if (policy.selection.tag !== undefined) return undefined;
  return new Set(policy.selection.ids.map((r) => r.kind));
}

/**
 * The problems of a policy's restoreTest block that the block alone cannot show, each with its path inside the
 * policy: a restore region that is neither the primary nor a DR region (or a DR region without copies), an
 * Availability Zone outside the restore region, sql checks on a policy that selects only EBS volumes, a missing
 * rds or ebs block for kinds the policy selects by id, a block for kinds it cannot select.
 */
export function restoreTestIssues(
  policy: RestoreTestPolicy & { restoreTest?: RestoreTestConfig },
  cfg: RestoreTestContext,
): { path: (string | number)[]; message: string }[] {
  const t = policy.restoreTest;
  if (!t) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  const dr = cfg.drRegions.map((d) => d.region);
  if (t.region !== undefined && t.region !== "primary" && t.region !== cfg.primaryRegion) {
    if (!dr.includes(t.region)) {
      out.push({
        path: ["region"],
        message: `${t.region} is neither primaryRegion (${cfg.primaryRegion}) nor a DR region (${dr.join(", ") || "none"}): no snapshot of ours is there to restore`,
      });
    } else if (!policy.copyToDr) {
      out.push({
        path: ["region"],
        message: `copyToDr is false: this policy's snapshots stay in ${cfg.primaryRegion}, so ${t.region} has none to restore; use "primary"`,
      });
    }
  }
  const { region } = restoreTestRegion(policy, cfg);
  const az = t.ebs?.availabilityZone;
  if (az !== undefined && !(az.startsWith(region) && /^(-[a-z0-9]+)*[a-z]$/.test(az.slice(region.length)))) {
    out.push({ path: ["ebs", "availabilityZone"], message: `${az} is not in the restore region ${region}` });
  }
  const kinds = selectableKinds(policy);
  const db = kinds === undefined || kinds.has("rds-instance") || kinds.has("aurora-cluster");
  const ebs = kinds === undefined || kinds.has("ebs-volume");
  if (!t.rds && !t.ebs) {
    out.push({ path: [], message: "configure rds (dbSubnetGroupName, vpcSecurityGroupIds), ebs (availabilityZone), or both: where would the throwaway go?" });
  } else if (kinds !== undefined) {
    if (db && !t.rds)
      out.push({ path: ["rds"], message: "the policy selects RDS or Aurora resources by id: their throwaways need dbSubnetGroupName and vpcSecurityGroupIds" });
    if (ebs && !t.ebs) out.push({ path: ["ebs"], message: "the policy selects EBS volumes by id: their throwaway volumes need an availabilityZone" });
    if (!db && t.rds) out.push({ path: ["rds"], message: "the policy selects only EBS volumes: rds changes nothing" });
    if (!ebs && t.ebs) out.push({ path: ["ebs"], message: "the policy selects no EBS volume: ebs changes nothing" });
  }
  const rdsInstances = kinds === undefined || kinds.has("rds-instance");
  if (rdsInstances && t.smoke.sql.length > 0 && t.rds && !t.rds.checker) {
    out.push({
      path: ["rds", "checker"],
      message: "sql checks on an RDS instance run from the checker function in the VPC: give its subnetIds and securityGroupIds",
    });
  }
  if (t.rds?.checker && (!rdsInstances || t.smoke.sql.length === 0)) {
    out.push({
      path: ["rds", "checker"],
      message: !rdsInstances
        ? "the policy selects no RDS instance (Aurora's sql checks use the Data API): checker changes nothing"
        : "there are no sql checks: checker changes nothing",
    });
  }
  const aurora = kinds === undefined || kinds.has("aurora-cluster");
  if (aurora && t.smoke.sql.length > 0 && t.rds?.instanceClass?.startsWith("db.t")) {
    out.push({
      path: ["rds", "instanceClass"],
      message: `${t.rds.instanceClass} is a T class, and the RDS Data API that runs Aurora's sql checks isn't supported on T classes: use db.r6g.large or larger`,
    });
  }
  if (!db && t.smoke.sql.length > 0) {
    out.push({
      path: ["smoke", "sql"],
      message: "the policy selects only EBS volumes: a volume has no database to query (its smoke check is available with the expected size)",
    });
  }
  return out;
}

/** The checker function each restore region needs (the one `rds.checker` of its policies), and the conflicts. */
export function restoreTestCheckers(
  policies: readonly (RestoreTestPolicy & { restoreTest?: RestoreTestConfig })[],
  cfg: RestoreTestContext,
): { byRegion: Map<string, { subnetIds: string[]; securityGroupIds: string[]; policies: string[] }>; issues: { policy: number; message: string }[] } {
  const byRegion = new Map<string, { subnetIds: string[]; securityGroupIds: string[]; policies: string[] }>();
  const issues: { policy: number; message: string }[] = [];
  const key = (c: { subnetIds: string[]; securityGroupIds: string[] }) => JSON.stringify([[...c.subnetIds].sort(), [...c.securityGroupIds].sort()]);
  policies.forEach((p, i) => {
    const checker = p.restoreTest?.rds?.checker;
    if (!checker) return;
    const { region } = restoreTestRegion(p, cfg);
    const seen = byRegion.get(region);
    if (!seen) byRegion.set(region, { ...checker, policies: [p.name] });
    else if (key(seen) !== key(checker)) {
      issues.push({
        policy: i,
        message: `policies ${seen.policies.join(", ")} and ${p.name} restore in ${region} with different checkers: one checker runs per region, give them the same subnetIds and securityGroupIds`,
      });
    } else seen.policies.push(p.name);
  });
  return { byRegion, issues };
}
