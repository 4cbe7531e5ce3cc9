// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseOrThrow } from "./validate.ts";
import { FailoverConfigSchema, withTriggerAlarms } from "./config-failover.ts";
import { WarmConfigSchema } from "./config-warm.ts";
import { CostConfigSchema } from "./config-cost.ts";
import { ObserveConfigSchema } from "./config-observe.ts";
import { AlertsConfigSchema } from "./config-alerts.ts";
import { NotificationsConfigSchema } from "./config-notifications.ts";
import { RestoreTestSchema, restoreTestCheckers, restoreTestIssues } from "./config-restore-test.ts";
import { FleetConfigSchema, fleetIssues } from "./config-fleet.ts";
import { VaultConfigSchema, vaultIssues } from "./config-vault.ts";
import { rateHours, scheduleExpressionProblem } from "./schedule-expression.ts";
import { skippedLocalTime } from "../core/calendar.ts";
import { MAX_NAME_PREFIX, OWNER_PART } from "../core/ownership.ts";
import { RESOURCE_KINDS } from "../core/resource-kinds.ts";

/**
 * The one configuration of ops-autopilot, per stage.
 *
 * Validated twice: at deploy (`stacks/config.ts` parses it before declaring anything) and at run time
 * (every function reads the copy its package carries, {@link CONFIG_FILE_NAME}, once per container). Defaults follow the team's
 * runbook: daily backups kept 7 days, Sunday backups kept 30 days, backups of the 1st kept 365 days,
 * a critical alert after 25 h without a backup.
 */

export const RegionSchema = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "expected an AWS region such as eu-west-1");

/** How long a tier keeps its snapshots: for a number of days after the backup date, or the newest N of the tier. */
export const KeepSchema = z.union([z.object({ days: z.number().int().positive() }).strict(), z.object({ count: z.number().int().positive() }).strict()]);

const DailyTierSchema = z.object({ keep: KeepSchema.default({ days: 7 }) }).strict();
const WeeklyTierSchema = z
  .object({
    /** Day of the week whose backup belongs to the weekly tier (0 = Sunday), in the backup schedule's timezone. */
    weekday: z.number().int().min(0).max(6).default(0),
    keep: KeepSchema.default({ days: 30 }),
  })
  .strict();
const MonthlyTierSchema = z
  .object({
    /** Day of the month whose backup belongs to the monthly tier (backup schedule's timezone); 1 to 28 so every month has one. */
    dayOfMonth: z.number().int().min(1).max(28).default(1),
    keep: KeepSchema.default({ days: 365 }),
  })
  .strict();

export const ResourceKindSchema = z.enum(RESOURCE_KINDS);

export const SelectionSchema = z
  .object({
    /**
     * Resources carrying this tag are selected. The value defaults to the policy name,
     * so `ops-autopilot:backup=<policy>` selects a resource for that policy.
     */
    tag: z
      .object({ key: z.string().min(1).default("ops-autopilot:backup"), value: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** Resources selected by identifier, whatever their tags. */
    ids: z.array(z.object({ kind: ResourceKindSchema, id: z.string().min(1) }).strict()).default([]),
  })
  .strict()
  .refine((s) => s.tag !== undefined || s.ids.length > 0, {
    message: "select resources by tag, by ids, or both",
  });

export const BackupPolicySchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "expected lowercase letters, digits and hyphens, starting with a letter"),
    tiers: z
      .object({
        daily: DailyTierSchema.prefault({}),
        weekly: WeeklyTierSchema.optional(),
        monthly: MonthlyTierSchema.optional(),
      })
      .strict()
      .prefault({ weekly: {}, monthly: {} }),
    /** Alert, and freeze pruning, when the newest available backup of a resource is older than this. */
    freshnessHours: z
      .number()
      .positive()
      .max(24 * 31)
      .default(25),
    /** Floor: the newest N backups of a resource in a region are always kept, whatever their age. */
    keepNewest: z.number().int().min(1).default(3),
    /** A prune run deletes at most this many snapshots in all; the rest waits and an alert is sent. */
    maxDeletesPerRun: z.number().int().min(0).default(50),
    /** ... and at most this share (in %) of the snapshots it sees for one resource in one region. */
    maxDeletePercent: z.number().min(0).max(100).default(50),
    /** Copy this policy's snapshots to every DR region. */
    copyToDr: z.boolean().default(true),
    selection: SelectionSchema,
    /** Scheduled restore tests of this policy's backups (schemas/config-restore-test.ts); none when absent. */
    restoreTest: RestoreTestSchema.optional(),
  })
  .strict();

export const DrRegionSchema = z
  .object({
    region: RegionSchema,
    /** KMS key (ARN, id or alias ARN) copies are encrypted with in that region. */
    kmsKeyId: z.string().min(1),
  })
  .strict();

export const BackupConfigSchema = z
  .object({
    policies: z.array(BackupPolicySchema).default([]),
    /**
     * KMS keys (ARNs) the primary region's snapshots are encrypted with. A cross-region copy of an encrypted
     * snapshot reads it with its source key, so the copy function is allowed to use exactly these.
     */
    sourceKmsKeyIds: z.array(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, "expected a KMS key or alias ARN")).default([]),
    /** Copies in flight per destination region (RDS and EBS both allow 20 per account). */
    maxCopiesInFlight: z.number().int().min(1).max(20).default(20),
    /** Concurrent API calls per run (throttling guard). */
    concurrency: z.number().int().min(1).max(20).default(4),
    /** Stop starting new work when less than this is left before the Lambda deadline. */
    deadlineMarginMs: z.number().int().min(0).default(30_000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    // A resource claimed by two policies is refused at run time (core/selection.ts): catch what the config alone shows.
    const CLAIMED = "a resource claimed by two policies is backed up by neither";
    const ids = new Map<string, string>();
    const tags = new Map<string, string>();
    cfg.policies.forEach((p, i) => {
      if (seen.has(p.name)) {
        ctx.addIssue({ code: "custom", path: ["policies", i, "name"], message: `duplicate policy name "${p.name}"` });
      }
      seen.add(p.name);
      p.selection.ids.forEach((ref, j) => {
        const key = `${ref.kind} ${JSON.stringify(ref.id)}`;
        const other = ids.get(key);
        if (other !== undefined) {
          const message = other === p.name ? `${key} is listed twice` : `${key} is already selected by policy "${other}": ${CLAIMED}`;
          ctx.addIssue({ code: "custom", path: ["policies", i, "selection", "ids", j], message });
        } else ids.set(key, p.name);
      });
      if (p.selection.tag) {
        const tag = `${p.selection.tag.key}=${p.selection.tag.value ?? p.name}`;
        const other = tags.get(tag);
        if (other !== undefined) {
          ctx.addIssue({ code: "custom", path: ["policies", i, "selection", "tag"], message: `the same tag as policy "${other}" (${tag}): ${CLAIMED}` });
        } else tags.set(tag, p.name);
      }
      if (p.maxDeletePercent === 0 && p.maxDeletesPerRun > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["policies", i, "maxDeletePercent"],
          message:
            `0 % lets prune delete nothing while maxDeletesPerRun is ${p.maxDeletesPerRun}, so retention never applies and snapshots pile up ` +
            "to the quota; to pause deletes on purpose set maxDeletesPerRun to 0 as well",
        });
      }
    });
  });

export const ScheduleSchema = z
  .object({
    /** EventBridge Scheduler expressions, evaluated in `timezone`. */
    backup: z.string().default("cron(0 2 * * ? *)"),
    copy: z.string().default("rate(30 minutes)"),
    prune: z.string().default("cron(30 4 * * ? *)"),
    watchdog: z.string().default("rate(1 hour)"),
    warm: z.string().optional(),
    cost: z.string().default("cron(0 9 * * ? *)"),
    /** The weekly HTML report of the week that just ended (runbooks/weekly-report/), Monday morning. */
    weeklyReport: z.string().default("cron(0 6 ? * MON *)"),
    /**
     * Per-schedule timezone overrides of the top-level `timezone`, e.g. `{ "cost": "Europe/Paris" }` for a
     * local-morning digest while backups stay at 02:00 UTC.
     */
    timezones: z
      .object({
        backup: z.string().optional(),
        copy: z.string().optional(),
        prune: z.string().optional(),
        watchdog: z.string().optional(),
        warm: z.string().optional(),
        cost: z.string().optional(),
        weeklyReport: z.string().optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((schedules, ctx) => {
    for (const name of SCHEDULE_NAMES) {
      const expression = schedules[name];
      const problem = expression === undefined ? undefined : scheduleExpressionProblem(expression);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
    }
  });

export type ScheduleName = "backup" | "copy" | "prune" | "watchdog" | "warm" | "cost" | "weeklyReport";
const SCHEDULE_NAMES: readonly ScheduleName[] = ["backup", "copy", "prune", "watchdog", "warm", "cost", "weeklyReport"];

const OWNER_PART_MESSAGE = "expected lowercase letters, digits and single hyphens, starting with a letter (it is part of every snapshot name)";

export const ConfigSchema = z
  .object({
    /** The JSON Schema an editor checks the file against (`./config.schema.json`); ignored by the tool. */
    $schema: z.string().optional(),
    /** App and stage are part of every snapshot name (`oa-<app>-<stage>-…`), so they must be valid inside an RDS identifier. */
    app: z.string().max(40).regex(OWNER_PART, OWNER_PART_MESSAGE).default("ops-autopilot"),
    stage: z.string().min(1).max(40).regex(OWNER_PART, OWNER_PART_MESSAGE),
    primaryRegion: RegionSchema,
    drRegions: z.array(DrRegionSchema).default([]),
    /** IANA timezone the schedules run in. */
    timezone: z.string().min(1).default("UTC"),
    schedules: ScheduleSchema.prefault({}),
    backup: BackupConfigSchema.prefault({}),
    failover: FailoverConfigSchema,
    warm: WarmConfigSchema,
    cost: CostConfigSchema,
    /** Observe mode (schemas/config-observe.ts): on for a new stage's first 14 days unless switched off. */
    observe: ObserveConfigSchema,
    /** The alert lifecycle (schemas/config-alerts.ts): started once, a reminder every `remindEveryHours`, resolved once. */
    alerts: AlertsConfigSchema,
    /** Where messages go (schemas/config-notifications.ts): the pager topic and one Slack channel per kind. */
    notifications: NotificationsConfigSchema,
    /** Workload accounts besides the deploying one (schemas/config-fleet.ts); none when absent. */
    fleet: FleetConfigSchema.optional(),
    /** The backup account that holds copies out of the workload accounts' reach (schemas/config-vault.ts); none when absent. */
    vault: VaultConfigSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const prefix = `oa-${cfg.app}-${cfg.stage}-`;
    if (prefix.length > MAX_NAME_PREFIX) {
      ctx.addIssue({
        code: "custom",
        path: ["stage"],
        message: `app and stage make the snapshot name prefix "${prefix}" ${prefix.length} characters long; at most ${MAX_NAME_PREFIX} leave room in an Aurora cluster snapshot id (63 characters)`,
      });
    }
    const drSeen = new Set<string>();
    cfg.drRegions.forEach((dr, i) => {
      if (dr.region === cfg.primaryRegion) {
        ctx.addIssue({ code: "custom", path: ["drRegions", i, "region"], message: "a DR region must differ from primaryRegion" });
      } else if (drSeen.has(dr.region)) {
        ctx.addIssue({ code: "custom", path: ["drRegions", i, "region"], message: `duplicate DR region "${dr.region}"` });
      }
      drSeen.add(dr.region);
      // "KMS keys are specific to the Region that they are created in": a cross-region copy needs a key of the
      // destination region (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html, KmsKeyId).
      const keyRegion = arnRegion(dr.kmsKeyId);
      if (keyRegion && keyRegion !== dr.region) {
        ctx.addIssue({
          code: "custom",
          path: ["drRegions", i, "kmsKeyId"],
          message: `the key is in ${keyRegion}; copies to ${dr.region} need a key of that region (KMS keys are regional)`,
        });
      }
    });
    cfg.backup.sourceKmsKeyIds.forEach((key, i) => {
      const keyRegion = arnRegion(key);
      if (keyRegion && keyRegion !== cfg.primaryRegion) {
        ctx.addIssue({
          code: "custom",
          path: ["backup", "sourceKmsKeyIds", i],
          message: `the key is in ${keyRegion}, not in primaryRegion ${cfg.primaryRegion}, where the snapshots it decrypts are made`,
        });
      }
    });
    // A freshness limit shorter than the backup interval: stale between every two backups, pruning always frozen.
    const interval = rateHours(cfg.schedules.backup);
    if (interval !== undefined) {
      cfg.backup.policies.forEach((p, i) => {
        if (p.freshnessHours < interval) {
          ctx.addIssue({
            code: "custom",
            path: ["backup", "policies", i, "freshnessHours"],
            message:
              `${p.freshnessHours} h is shorter than the backup schedule ${cfg.schedules.backup} (${interval} h): ` +
              "every resource would be stale between backups and pruning frozen",
          });
        }
      });
    }
    cfg.backup.policies.forEach((p, i) => {
      for (const issue of restoreTestIssues(p, cfg))
        ctx.addIssue({ code: "custom", path: ["backup", "policies", i, "restoreTest", ...issue.path], message: issue.message });
    });
    for (const issue of restoreTestCheckers(cfg.backup.policies, cfg).issues)
      ctx.addIssue({ code: "custom", path: ["backup", "policies", issue.policy, "restoreTest", "rds", "checker"], message: issue.message });
    for (const issue of fleetIssues(cfg)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    for (const issue of vaultIssues(cfg)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    const checkZone = (zone: string, path: (string | number)[]) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
      } catch {
        ctx.addIssue({ code: "custom", path, message: `unknown IANA timezone "${zone}"` });
      }
    };
    checkZone(cfg.timezone, ["timezone"]);
    for (const [name, zone] of Object.entries(cfg.schedules.timezones)) if (zone) checkZone(zone, ["schedules", "timezones", name]);
    const dst = backupSkippedByDst(cfg.schedules.backup, cfg.schedules.timezones.backup ?? cfg.timezone);
    if (dst) ctx.addIssue({ code: "custom", path: ["schedules", "backup"], message: dst });
  });

/**
 * Why a nightly backup at these times would lose a night to daylight saving, if it would: EventBridge Scheduler
 * skips a cron run whose local time does not exist (the spring-forward gap) and runs the repeated fall-back hour
 * once (https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst). Refused only when every time of day
 * the expression fires at falls in the same gap; checked over this year's and next year's transitions.
 */
function backupSkippedByDst(expression: string, timeZone: string): string | undefined {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return undefined;
  // Deploy validates one config per stage and the tests many: scan a zone's year once per process.
  const key = `${expression}\u0000${timeZone}\u0000${new Date().getUTCFullYear()}`;
  if (!dstMemo.has(key)) dstMemo.set(key, scanBackupDst(expression, timeZone));
  return dstMemo.get(key);
}

const dstMemo = new Map<string, string | undefined>();

function scanBackupDst(expression: string, timeZone: string): string | undefined {
  const m = /^cron\(\s*(\S+)\s+(\S+)\s+/.exec(expression.trim());
  if (!m) return undefined;
  const minutes = expandCronField(m[1]!, 0, 59);
  const hours = expandCronField(m[2]!, 0, 23);
  if (!minutes || !hours || minutes.length * hours.length > 48) return undefined;
  const from = `${new Date().getUTCFullYear()}-01-01`;
  let first: { day: string; hh: number; mm: number } | undefined;
  try {
    const skippedOn = new Map<string, number>();
    for (const hh of hours) {
      for (const mm of minutes) {
        const day = skippedLocalTime(hh, mm, timeZone, from, 731);
        if (!day) return undefined;
        skippedOn.set(day, (skippedOn.get(day) ?? 0) + 1);
        first ??= { day, hh, mm };
      }
    }
    // Every run time skipped, and all on one night: that night has no backup.
    if (skippedOn.size !== 1 || !first) return undefined;
  } catch {
    return undefined; // an unknown zone is reported on its own
  }
  const at = `${String(first.hh).padStart(2, "0")}:${String(first.mm).padStart(2, "0")}`;
  return (
    `${at} does not exist in ${timeZone} on ${first.day} (daylight saving starts): EventBridge Scheduler skips that run, ` +
    "so that night would have no backup; choose a time outside the spring-forward gap (e.g. an hour later) or a timezone without daylight saving"
  );
}

/** The values a numeric cron field (`5`, `1,2`, `0-5`, `*\/15`, `10-20/5`, `*`) fires at, or undefined when it is not numeric. */
function expandCronField(field: string, min: number, max: number): number[] | undefined {
  const out = new Set<number>();
  for (const item of field.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) return undefined;
    const lo = m[1] === "*" ? min : Number(m[2]);
    const hi = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (step < 1 || lo < min || hi > max) return undefined;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

export type Config = Omit<z.output<typeof ConfigSchema>, "$schema">;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type BackupPolicy = z.output<typeof BackupPolicySchema>;
export type Keep = z.output<typeof KeepSchema>;

/** The region of a KMS key or alias ARN; undefined for a key id or alias name (resolved in the caller's region). */
function arnRegion(key: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(key)?.[1];
}

/** The timezone a schedule runs in: its override, else the top-level `timezone`. */
export function scheduleTimezone(config: Config, name: ScheduleName): string {
  return config.schedules.timezones[name] ?? config.timezone;
}

/**
 * The file every function package carries its stage's validated configuration in, at the package root
 * (stacks/lambda.ts ships it with SST's `copyFiles`; Lambda unpacks the package into `$LAMBDA_TASK_ROOT`).
 */
export const CONFIG_FILE_NAME = "ops-autopilot.config.json";

/** Parse and validate a configuration object; throws a ValidationError naming each bad field. */
export function parseConfig(input: unknown, what = "config"): Config {
  const { $schema: _editorHint, ...config } = parseOrThrow(ConfigSchema, input, what);
  // A failover group's trigger deploys an alarm named after the app and stage: it joins the group's alarms here.
  return withTriggerAlarms(config);
}

/**
 * Where the running function's package put the configuration: `$LAMBDA_TASK_ROOT` ("the path to your Lambda function
 * code", https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * else the working directory.
 */
export function deployedConfigFile(env: Record<string, string | undefined> = process.env): string {
  return path.join(env.LAMBDA_TASK_ROOT || process.cwd(), CONFIG_FILE_NAME);
}

/** Read and validate a configuration file (run time); every error names the file, a bad field is named too. */
export function configFromFile(file: string): Config {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`${file} does not exist: the function package carries no configuration (stacks/lambda.ts ships it with copyFiles)`);
    throw new Error(`${file} could not be read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(json, `config in ${file}`);
}
