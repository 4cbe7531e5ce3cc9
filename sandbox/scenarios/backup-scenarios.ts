/**
 * The backup year: nightly backup → DR copy → prune, and the watchdog, for a small fleet in two regions,
 * run day after day through the real handlers (middy chain, adapters, SDK clients) against the sandbox.
 * Used by the scenario tests (which check every day against an independent GFS model) and by `npm run drill`.
 *
 * @example
 *   const year = await runBackupYear({ days: 400, outage: { fromDay: 200, days: 3 } });
 *   console.log(year.totals, year.summary);
 */
import type { Context } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { createSandbox, FakeClock, HOUR, MINUTE, type Sandbox } from "../index.ts";
import type { SandboxSnapshot } from "../aws/types.ts";
import { resetClients } from "../../adapters/clients.ts";
import { createHandler, AggregateRunError, type MetricPoint, type Runtime } from "../../runbooks/lib/handler.ts";
import { runBackup } from "../../runbooks/backup/backup.ts";
import { runCopy } from "../../runbooks/backup/copy.ts";
import { runPrune } from "../../runbooks/backup/prune.ts";
import { runWatchdog } from "../../runbooks/backup/watchdog.ts";
import { backupDeps } from "../../runbooks/backup/deps.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent } from "../../schemas/events-backup.ts";
import { parseConfig, type Config, type ConfigInput } from "../../schemas/config.ts";
import { addDays } from "../../core/calendar.ts";
import { tiersFor } from "../../core/backup-plan.ts";
import { TAG } from "../../core/types.ts";
import { observeMarker, PRUNE_OBSERVE_KEY } from "../../core/observe.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";

export const PRIMARY = "eu-west-1";
export const DR = "eu-central-1";
export const DR_KEY = "arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-dr";
export const REPORTS_BUCKET = "ops-autopilot-reports-drill";

/** The drill's configuration: the runbook's defaults, two policies (one with a count-based monthly tier). */
export const SCENARIO_CONFIG: ConfigInput = {
  app: "ops-autopilot",
  stage: "drill",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: DR_KEY }],
  // The drill measures retention itself: a new stage's observe window would hold every delete for 14 days.
  observe: false,
  backup: {
    policies: [
      { name: "db", selection: { tag: {}, ids: [{ kind: "aurora-cluster", id: "orders" }] } },
      {
        name: "volumes",
        tiers: { daily: { keep: { days: 7 } }, weekly: { keep: { days: 30 } }, monthly: { keep: { count: 6 } } },
        selection: { tag: {} },
      },
    ],
  },
};

/** The watchdog at 05:00, 11:00, 17:00 and 23:00 UTC: enough for the retention checks, and fast. */
export const WATCHDOG_4_A_DAY: readonly number[] = [5, 11, 17, 23];
/** The watchdog every hour, as its production schedule (`rate(1 hour)`) runs it. */
export const WATCHDOG_HOURLY: readonly number[] = Array.from({ length: 24 }, (_, h) => h);

/** One resource of the fleet and the policy that backs it up. */
export interface FleetEntry {
  kind: "rds-instance" | "aurora-cluster" | "ebs-volume";
  id: string;
  policy: "db" | "volumes";
}

/** The fleet: what is backed up, by which policy. */
export const FLEET = [
  { kind: "rds-instance", id: "app-db", policy: "db" },
  { kind: "rds-instance", id: "billing-db", policy: "db" },
  { kind: "aurora-cluster", id: "orders", policy: "db" },
  { kind: "ebs-volume", id: "vol-0a1b2c3d4e5f60001", policy: "volumes" },
  { kind: "ebs-volume", id: "vol-0a1b2c3d4e5f60002", policy: "volumes" },
] as const;

export interface DayState {
  index: number;
  day: string;
  /** After the day's prune: backup days kept, per `<region>/<resource>`, sorted. */
  kept: Record<string, string[]>;
  /** Snapshots deleted by this day's prune (ids). */
  deleted: string[];
  /** Deletes of snapshots we did not create: must stay empty. */
  foreignDeletes: string[];
  created: number;
  copiesStarted: number;
  /** `<region>/<resource>` pairs whose pruning was frozen, with the reason. */
  frozen: string[];
  alerts: string[];
  failures: string[];
  /** Manual snapshots per region and kind after the day (quota: 100). */
  manualCounts: Record<string, number>;
  outage: boolean;
}

export interface BackupYearOptions {
  days?: number;
  /** The `notifications` config section (default: the schema's defaults). */
  notifications?: Record<string, unknown>;
  /**
   * Write the deploy's start marker (stacks/observe-start.ts) at the scenario's start, as deploying a new stage does
   * (default true): until a resource's first backup, the watchdog then counts it pending, not stale.
   */
  deployMarker?: boolean;
  /** First simulated day (UTC). */
  start?: string;
  /** Days on which every snapshot creation fails (an IAM change gone wrong); null for none. */
  outage?: { fromDay: number; days: number } | null;
  /** On this day, after the backup, an AMI is registered from the first volume's snapshot of that day (never pruned afterwards). */
  amiOnDay?: number | null;
  /** Where the handlers log; default: a silent logger (a simulated year writes ~100k log lines). */
  logger?: Logger;
  /** Called after each day (a promise it returns is awaited); scenario tests assert here, or run more functions at the day's end. */
  onDay?: (state: DayState, sb: Sandbox) => unknown;
  /** The resources to back up (default: {@link FLEET}); fewer make a faster scenario. */
  fleet?: readonly FleetEntry[];
  /**
   * Seeds more of the account before day one (what people made) and returns the `<region>/<id>` of every snapshot
   * it seeded: those are not ours whatever their tags say, and must all survive the year.
   */
  seed?: (sb: Sandbox, context: { start: string; config: Config }) => string[];
  /** UTC hours the watchdog runs at each day (default {@link WATCHDOG_4_A_DAY}; production: {@link WATCHDOG_HOURLY}). */
  watchdogHours?: readonly number[];
}

export interface ResourceSummary {
  resource: string;
  region: string;
  kept: number;
  keptByTier: { daily: number; weekly: number; monthly: number };
  oldest?: string;
  deleted: number;
  copies: number;
}

export interface BackupYearResult {
  days: number;
  start: string;
  end: string;
  totals: { created: number; copies: number; deleted: number; alerts: number; failedRuns: number; awsCalls: number; frozenDays: number };
  summary: ResourceSummary[];
  /** Watchdog and prune alerts as sent to Slack (plain text), with the simulated time. */
  alerts: { at: string; text: string }[];
  /** Every Slack message of every run (the `text` line and the plain-text rendering), with the simulated time. */
  messages: { at: string; text: string; rendered: string; destination?: string }[];
  /** Every message published to the pager topic (core/notify-routing.ts: criticals), with the simulated time. */
  paged: { at: string; text: string }[];
  /** The watchdog's alert-lifecycle messages (started, reminder, resolved) by incident key (`stale:<policy>:<region>`). */
  incidents: Record<string, { at: string; kind: string; text: string }[]>;
  /** Foreign snapshots present at the start and the end: the end must hold all of the start. */
  foreign: { before: string[]; after: string[] };
  maxManualSnapshots: number;
  quotaErrors: number;
  wallMs: number;
  reports: number;
}

/** A message that asks for attention: a watchdog critical or reminder, or a summary flagged with ⚠️. */
function isAlert(message: SlackMessage): boolean {
  return message.text.includes("CRITICAL") || message.text.includes("REMINDER") || renderText(message).startsWith("== ⚠️");
}

const ctx = (id: string) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

/**
 * Snapshots the scenario made: manual, with the managed-by value of this stage, and not seeded as someone else's.
 * (Ground truth for the checks; what the jobs themselves call ours is core/ownership.ts.)
 */
function isScenarioOurs(s: SandboxSnapshot, config: Config, seeded: ReadonlySet<string>): boolean {
  return s.tags[TAG.managedBy] === `${config.app}:${config.stage}` && s.type === "manual" && !seeded.has(`${s.region}/${s.id}`);
}

function seedFleet(sb: Sandbox, start: string, fleet: readonly FleetEntry[]): void {
  const has = (id: string) => fleet.some((r) => r.id === id);
  if (has("app-db")) sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" }, automatedBackups: { retentionDays: 7 } });
  if (has("billing-db")) sb.rds.addInstance(PRIMARY, { id: "billing-db", tags: { "ops-autopilot:backup": "db" } });
  if (has("orders")) sb.rds.addCluster(PRIMARY, { id: "orders", members: ["orders-a"] });
  for (const id of ["vol-0a1b2c3d4e5f60001", "vol-0a1b2c3d4e5f60002"]) {
    if (has(id)) sb.ec2.addVolume(PRIMARY, { id, status: "in-use", tags: { "ops-autopilot:backup": "volumes" } });
  }
  // What must never be touched: a person's snapshot, another stage's, and an old one with a foreign tool's tags.
  const old = new Date(`${addDays(start, -400)}T03:00:00Z`);
  sb.rds.addSnapshot(PRIMARY, { id: "app-db-before-pg16-upgrade", sourceId: "app-db", createdAt: old });
  sb.rds.addSnapshot(PRIMARY, {
    id: "oa-app-db-staging-copy",
    sourceId: "app-db",
    createdAt: old,
    tags: { [TAG.managedBy]: "ops-autopilot:staging", [TAG.policy]: "db", [TAG.backupDate]: addDays(start, -400), [TAG.source]: "app-db" },
  });
  sb.rds.addSnapshot(DR, { id: "billing-db-legal-hold-2024", sourceId: "billing-db", createdAt: old, tags: { "legal-hold": "true" } });
}

/**
 * Run the simulated days. Each day: 02:00 backup, 02:30 and 03:30 copy, 04:30 prune, and the watchdog at
 * `watchdogHours` (UTC; a watchdog on the hour of a job runs just before it).
 */
export async function runBackupYear(options: BackupYearOptions = {}): Promise<BackupYearResult> {
  const days = options.days ?? 400;
  const start = options.start ?? "2025-10-01";
  const outage = options.outage === undefined ? { fromDay: 200, days: 3 } : options.outage;
  const fleet = options.fleet ?? FLEET;
  // Policies select what the fleet has: an explicit id the fleet leaves out would be reported missing every day.
  const config = parseConfig({
    ...SCENARIO_CONFIG,
    ...(options.notifications ? { notifications: options.notifications } : {}),
    backup: {
      ...SCENARIO_CONFIG.backup,
      policies: SCENARIO_CONFIG.backup!.policies!.map((p) => ({
        ...p,
        selection: { ...p.selection, ids: (p.selection.ids ?? []).filter((ref) => fleet.some((r) => r.id === ref.id)) },
      })),
    },
  });
  const firstVolume = fleet.find((r) => r.kind === "ebs-volume");
  const clock = new FakeClock(`${start}T00:00:00Z`);
  const sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [REPORTS_BUCKET], recordInputs: true, mockHistoryLimit: 0 });
  resetClients();
  const wall = performance.now();
  try {
    seedFleet(sb, start, fleet);
    if (options.deployMarker !== false) {
      sb.s3.put(REPORTS_BUCKET, PRUNE_OBSERVE_KEY, JSON.stringify(observeMarker(clock.now(), "deploy", "first deploy")), "application/json");
    }
    const seeded = new Set(options.seed?.(sb, { start, config }) ?? []);
    const ours = (s: SandboxSnapshot) => isScenarioOurs(s, config, seeded);
    const foreignBefore = sb
      .snapshots()
      .filter((s) => !ours(s))
      .map((s) => `${s.region}/${s.id}`)
      .sort();

    const posted: { at: string; message: SlackMessage; destination?: string }[] = [];
    const paged: { at: string; text: string }[] = [];
    let reports = 0;
    const runtime: Runtime = {
      config: () => config,
      now: () => clock.now(),
      reportBucket: () => ({ bucket: REPORTS_BUCKET, region: PRIMARY }),
      postSlack: async (message, destination) => void posted.push({ at: clock.now().toISOString(), message, ...(destination ? { destination } : {}) }),
      publish: async (message) => void paged.push({ at: clock.now().toISOString(), text: message.text }),
      emitMetrics: (_points: MetricPoint[]) => {},
      logger: options.logger ?? new Logger({ serviceName: "ops-autopilot", logLevel: "SILENT" }),
    };
    // EBS claims, prune's day ledger and the watchdog's alert state live in the reports bucket, next to the run reports.
    const stateBucket = { bucket: REPORTS_BUCKET, region: PRIMARY };
    const handlers = {
      backup: createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime),
      copy: createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, runtime),
      prune: createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime),
      watchdog: createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: (e, c) => runWatchdog(e, c, backupDeps(c, { stateBucket })) }, runtime),
    };
    let failedRuns = 0;
    let seq = 0;
    const incidents: BackupYearResult["incidents"] = {};
    const invoke = async (name: keyof typeof handlers, failures: string[]): Promise<Record<string, unknown> | undefined> => {
      seq++;
      try {
        const out = (await handlers[name]({ trigger: "schedule" }, ctx(`${name}-${seq}`))) as Record<string, unknown>;
        reports++;
        return out;
      } catch (err) {
        reports++;
        failedRuns++;
        if (err instanceof AggregateRunError) failures.push(...err.failures.map((f) => `${name}: ${f.item}: ${f.kind}: ${f.message}`));
        else failures.push(`${name}: ${(err as Error).message}`);
        return undefined;
      }
    };

    const totals = { created: 0, copies: 0, deleted: 0, alerts: 0, failedRuns: 0, awsCalls: 0, frozenDays: 0 };
    const deletedBy = new Map<string, number>();
    const copiesBy = new Map<string, number>();
    let maxManual = 0;
    let outageHandle: { clear(): void }[] = [];

    for (let i = 0; i < days; i++) {
      const day = addDays(start, i);
      const inOutage = !!outage && i >= outage.fromDay && i < outage.fromDay + outage.days;
      if (inOutage && outageHandle.length === 0) {
        outageHandle = [
          sb.inject({ service: "rds", command: "CreateDBSnapshot", error: "accessDenied", times: Infinity }),
          sb.inject({ service: "rds", command: "CreateDBClusterSnapshot", error: "accessDenied", times: Infinity }),
          sb.inject({ service: "ec2", command: "CreateSnapshot", error: "accessDenied", times: Infinity }),
        ];
      } else if (!inOutage && outageHandle.length) {
        for (const h of outageHandle) h.clear();
        outageHandle = [];
      }
      const callsBefore = sb.calls.length;
      const alertsBefore = posted.length;
      const failures: string[] = [];
      const at = (h: number, m = 0) => clock.set(new Date(`${day}T00:00:00Z`).getTime() + h * HOUR + m * MINUTE);

      // The watchdog runs on its own schedule, in between the day's jobs (production: every hour).
      const watchdogHours = options.watchdogHours ?? WATCHDOG_4_A_DAY;
      let watchdogDone = 0;
      const watchdogsUntil = async (minutes: number) => {
        for (const h of watchdogHours.filter((x) => x * 60 >= watchdogDone && x * 60 <= minutes)) {
          at(h);
          const out = await invoke("watchdog", failures);
          for (const a of (out?.alerts as { key: string; kind: string; text?: string }[] | undefined) ?? []) {
            if (a.text !== undefined) (incidents[a.key] ??= []).push({ at: clock.now().toISOString(), kind: a.kind, text: a.text });
          }
        }
        watchdogDone = minutes + 1;
      };

      await watchdogsUntil(2 * 60);
      at(2);
      const backup = await invoke("backup", failures);
      if (i === (options.amiOnDay === undefined ? 10 : options.amiOnDay)) {
        const pinned = sb.ec2.snapshots(PRIMARY).find((s) => ours(s) && s.tags[TAG.source] === firstVolume?.id && s.tags[TAG.backupDate] === day);
        if (pinned) sb.ec2.addImage(PRIMARY, { snapshotIds: [pinned.id], name: `app-server-golden-${day}` });
      }
      await watchdogsUntil(2 * 60 + 30);
      at(2, 30);
      const copy1 = await invoke("copy", failures);
      await watchdogsUntil(3 * 60 + 30);
      at(3, 30);
      const copy2 = await invoke("copy", failures);
      await watchdogsUntil(4 * 60 + 30);
      at(4, 30);
      const before = sb.snapshots();
      const idsBefore = new Set(before.map((s) => `${s.region}/${s.id}`));
      const resourceOf = new Map(before.map((s) => [`${s.region}/${s.id}`, `${s.region}/${s.tags[TAG.source] ?? s.sourceId}`]));
      const foreignNow = new Map(
        sb
          .snapshots()
          .filter((s) => !ours(s))
          .map((s) => [`${s.region}/${s.id}`, s]),
      );
      const prune = await invoke("prune", failures);
      const idsAfter = new Set(sb.snapshots().map((s) => `${s.region}/${s.id}`));
      const deleted = [...idsBefore].filter((id) => !idsAfter.has(id));
      const foreignDeletes = deleted.filter((id) => foreignNow.has(id));

      await watchdogsUntil(24 * 60);

      // The day's state, as the scenario tests and the drill summary see it.
      const kept: Record<string, string[]> = {};
      for (const s of sb.snapshots()) {
        if (!ours(s) || !s.ready) continue;
        const key = `${s.region}/${s.tags[TAG.source] ?? s.sourceId}`;
        (kept[key] ??= []).push(s.tags[TAG.backupDate] ?? "?");
      }
      for (const k of Object.keys(kept)) kept[k]!.sort();
      for (const id of deleted) {
        const key = resourceOf.get(id) ?? id;
        deletedBy.set(key, (deletedBy.get(key) ?? 0) + 1);
      }
      const frozen = ((prune?.plans as { resource: string; region: string; frozen?: string }[] | undefined) ?? [])
        .filter((p) => p.frozen)
        .map((p) => `${p.region}/${p.resource}: ${p.frozen}`);
      const manualCounts: Record<string, number> = {};
      for (const region of [PRIMARY, DR]) {
        manualCounts[`${region}/instance`] = sb.rds.manualCount(region, "instance");
        manualCounts[`${region}/cluster`] = sb.rds.manualCount(region, "cluster");
        maxManual = Math.max(maxManual, manualCounts[`${region}/instance`]!, manualCounts[`${region}/cluster`]!);
      }
      const copiesStarted = [copy1, copy2].reduce(
        (n, r) => n + ((r?.results as { status: string }[] | undefined) ?? []).filter((x) => x.status === "done").length,
        0,
      );
      for (const r of [copy1, copy2]) {
        for (const x of (r?.results as { source: string; region: string; status: string }[] | undefined) ?? []) {
          if (x.status !== "done") continue;
          const key = `${x.region}/${(resourceOf.get(`${PRIMARY}/${x.source}`) ?? x.source).split("/")[1]}`;
          copiesBy.set(key, (copiesBy.get(key) ?? 0) + 1);
        }
      }
      const created = ((backup?.results as { status: string }[] | undefined) ?? []).filter((x) => x.status === "done").length;
      const alerts = posted.slice(alertsBefore).filter((p) => isAlert(p.message));
      totals.created += created;
      totals.copies += copiesStarted;
      totals.deleted += deleted.length;
      totals.alerts += alerts.length;
      totals.awsCalls += sb.calls.length - callsBefore;
      if (frozen.length) totals.frozenDays++;
      // Keep the call log bounded over a long simulation.
      if (sb.calls.length > 50_000) sb.resetCalls();

      await options.onDay?.(
        {
          index: i,
          day,
          kept,
          deleted,
          foreignDeletes,
          created,
          copiesStarted,
          frozen,
          alerts: alerts.map((a) => a.message.text),
          failures,
          manualCounts,
          outage: inOutage,
        },
        sb,
      );
    }
    totals.failedRuns = failedRuns;

    const end = addDays(start, days - 1);
    const summary: ResourceSummary[] = [];
    const policies = new Map(config.backup.policies.map((p) => [p.name, p]));
    for (const region of [PRIMARY, DR]) {
      for (const r of fleet) {
        const mine = sb.snapshots(region).filter((s) => ours(s) && (s.tags[TAG.source] ?? s.sourceId) === r.id && s.ready);
        const daysKept = mine.map((s) => s.tags[TAG.backupDate]!).sort();
        const policy = policies.get(r.policy)!;
        const keptByTier = { daily: 0, weekly: 0, monthly: 0 };
        for (const d of daysKept) {
          const tiers = tiersFor(d, policy);
          if (tiers.includes("monthly")) keptByTier.monthly++;
          else if (tiers.includes("weekly")) keptByTier.weekly++;
          else keptByTier.daily++;
        }
        const key = `${region}/${r.id}`;
        summary.push({
          resource: r.id,
          region,
          kept: daysKept.length,
          keptByTier,
          ...(daysKept[0] ? { oldest: daysKept[0] } : {}),
          deleted: deletedBy.get(key) ?? 0,
          copies: copiesBy.get(key) ?? 0,
        });
      }
    }
    const foreignAfter = sb
      .snapshots()
      .filter((s) => !ours(s))
      .map((s) => `${s.region}/${s.id}`)
      .sort();
    const quotaErrors = sb.calls.filter((c) => /Quota|LimitExceeded/.test(c.error?.name ?? "")).length;
    return {
      days,
      start,
      end,
      totals,
      summary,
      alerts: posted.filter((p) => isAlert(p.message)).map((p) => ({ at: p.at, text: p.message.text })),
      messages: posted.map((p) => ({
        at: p.at,
        text: p.message.text,
        rendered: renderText(p.message),
        ...(p.destination ? { destination: p.destination } : {}),
      })),
      paged,
      incidents,
      foreign: { before: foreignBefore, after: foreignAfter },
      maxManualSnapshots: maxManual,
      quotaErrors,
      wallMs: Math.round(performance.now() - wall),
      reports,
    };
  } finally {
    sb.restore();
    resetClients();
  }
}
