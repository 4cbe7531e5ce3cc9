/**
 * The one table of every Lambda function ops-autopilot deploys.
 *
 * Plain data, no SST globals: the infra modules, the offline synth test and the cold-start bench all
 * read it, so a function listed here whose handler file is missing fails all three in the same way.
 */

import type { Config } from "../schemas/config.ts";

export type FunctionName =
  | "backup"
  | "copy"
  | "prune"
  | "watchdog"
  | "warm"
  | "cost"
  | "failover"
  | "probe"
  | "restore-test"
  | "restore-test-checker"
  | "weekly-report"
  | "fleet-summary"
  | "fleet-targets"
  | "vault-copy"
  | "vault-prune";

/** Keys of `config.schedules` (schemas/config.ts). */
export type ScheduleKey = "backup" | "copy" | "prune" | "watchdog" | "warm" | "cost" | "weeklyReport";

export interface FunctionSpec {
  name: FunctionName;
  /** SST handler string: `functions/<name>.handler`, matching the file `functions/<name>.ts`. */
  handler: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** False for a function without an errors alarm of its own (the restore-test checker: its failures are failed smoke checks, alerted). */
  errorsAlarm?: false;
  /**
   * Posts messages: linked to the runs and alerts channels' secrets and the pager topic ({@link notifyLinkNames}; only
   * functions that post get them).
   */
  posts: boolean;
  /** Linked to the primary-region Reports bucket (the failover runbook keeps its reports in its own region). */
  reports: boolean;
  /**
   * The stage that deploys it: the workload stage (absent), or the vault stage (`vault`), which runs in the backup account
   * (stacks/vault-definition.ts) with its role derived for that account; the workload stage never deploys those.
   */
  stage?: "vault";
  /**
   * How it is started: a config schedule, the failover alarm rule, or the trigger kit's schedule (every
   * `trigger.periodSeconds` of the failover groups, stacks/failover.ts), or the restore-test state machine's
   * schedules (one per distinct `restoreTest.schedule`, stacks/restore-test.ts).
   */
  trigger:
    | { kind: "schedule"; schedule: ScheduleKey }
    | { kind: "alarm-rule" }
    | { kind: "probe-schedule" }
    | { kind: "restore-test-schedule" }
    /** Invoked synchronously by the restore-test function (adapters/checker.ts), one per restore region that needs it. */
    | { kind: "invoked-by-restore-test" }
    /** Invoked by each fleet job's state machine (stacks/fleet-fanout.ts) as its last step. */
    | { kind: "fleet-fanout" };
  /**
   * Where it runs: the primary region, or the DR region (it must work while the primary is down): the failover
   * groups' replica region for the failover runbook and its probe, the first of `drRegions` for the restore test.
   */
  region: "primary" | "dr" | "restore";
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: "backup",
    handler: "functions/backup.handler",
    description: "Nightly RDS/Aurora/EBS snapshots with deterministic ids and our tags",
    memoryMb: 512,
    // Stops starting new snapshots near the deadline (config.backup.deadlineMarginMs); the next run catches up.
    timeoutSeconds: 600,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "backup" },
    region: "primary",
  },
  {
    name: "copy",
    handler: "functions/copy.handler",
    description: "Copies available snapshots to the DR region(s) with the region's KMS key",
    memoryMb: 512,
    // Below the 30-minute schedule so two copy runs never overlap.
    timeoutSeconds: 600,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "copy" },
    region: "primary",
  },
  {
    name: "prune",
    handler: "functions/prune.handler",
    description: "GFS retention pruning of our own snapshots, per resource and region",
    memoryMb: 512,
    timeoutSeconds: 600,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "prune" },
    region: "primary",
  },
  {
    name: "watchdog",
    handler: "functions/watchdog.handler",
    description: "Hourly freshness check of the newest backup per resource and region; emits the heartbeat",
    memoryMb: 512,
    timeoutSeconds: 120,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "watchdog" },
    region: "primary",
  },
  {
    name: "warm",
    handler: "functions/warm.handler",
    description: "Rate-limited cache warming of the configured targets",
    memoryMb: 1024,
    // Lambda's maximum: a large sitemap at a gentle rate takes long; the engine stops near the deadline.
    timeoutSeconds: 900,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "warm" },
    region: "primary",
  },
  {
    name: "cost",
    handler: "functions/cost.handler",
    description: "Daily Cost Explorer digest and spike alerts",
    memoryMb: 512,
    // Slack delivery retries honour Retry-After; leave room for them.
    timeoutSeconds: 120,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "cost" },
    region: "primary",
  },
  {
    name: "failover",
    handler: "functions/failover.handler",
    description: "Failover runbook step function (promote, DNS, warm, verify), driven by Step Functions",
    memoryMb: 512,
    // One step plus short polls per invocation; long waits are Step Functions Wait states.
    timeoutSeconds: 120,
    posts: true,
    reports: false,
    trigger: { kind: "alarm-rule" },
    region: "dr",
  },
  {
    name: "probe",
    handler: "functions/probe.handler",
    description: "Failover trigger: probes each group's primary from the DR region and publishes what its alarm watches",
    // Runs every minute: small, and TLS to the primary is the heaviest thing it does.
    memoryMb: 256,
    // Above the longest probe timeout the config allows (30 s) plus the publish.
    timeoutSeconds: 45,
    posts: false,
    reports: false,
    trigger: { kind: "probe-schedule" },
    region: "dr",
  },
  {
    name: "restore-test",
    handler: "functions/restore-test.handler",
    description: "Restore-test runbook (restore the newest copy, smoke-check, delete, proven RTO), driven by Step Functions",
    memoryMb: 512,
    // The waits for a restore to become available are Step Functions Waits; an invocation's longest step is the
    // smoke step, whose sql checks the config bounds to 600 s in total (schemas/config-restore-test.ts), run here
    // (Data API) or in the checker it waits for.
    timeoutSeconds: 900,
    posts: true,
    reports: true,
    trigger: { kind: "restore-test-schedule" },
    region: "dr",
  },
  {
    name: "restore-test-checker",
    handler: "functions/restore-test-checker.handler",
    description: "Restore-test SQL smoke checks against a restored RDS instance, with pg from inside its VPC",
    memoryMb: 256,
    // A policy's checks together are bounded by 600 s (sql checks × smoke.timeoutSeconds, schemas/config-restore-test.ts)
    // plus pg's connect timeout; the restore-test function that waits for it has 900 s.
    timeoutSeconds: 660,
    posts: false,
    reports: false,
    trigger: { kind: "invoked-by-restore-test" },
    errorsAlarm: false,
    region: "restore",
  },
  {
    name: "weekly-report",
    handler: "functions/weekly-report.handler",
    description: "Weekly HTML report from the saved run reports (backup calendar, warming, spend), linked from Slack",
    // A week of run reports (~550 for the example, 2,000 at most, ~20 KB each) parsed in memory.
    memoryMb: 512,
    // Lists ~100 day prefixes and reads up to 2,000 objects, 16 at a time: seconds, with room for S3's retries.
    timeoutSeconds: 300,
    posts: true,
    // Not linked to Reports, whose grants cover every object: it reads `reports/*` and writes `reports/weekly/*`
    // (and its own run reports) only, with the bucket named in its environment (stacks/weekly-report.ts).
    reports: false,
    trigger: { kind: "schedule", schedule: "weeklyReport" },
    region: "primary",
  },
  {
    name: "fleet-summary",
    handler: "functions/fleet-summary.handler",
    description: "One run report and one Slack summary of a fleet job across its member accounts and regions",
    // Reads the Summary state's input (at most 256 KiB of item results) and writes one report: small and short.
    memoryMb: 256,
    // One S3 write and one Slack post, each with its retries (Slack honours Retry-After).
    timeoutSeconds: 60,
    posts: true,
    reports: true,
    trigger: { kind: "fleet-fanout" },
    region: "primary",
  },
  {
    name: "fleet-targets",
    handler: "functions/fleet-targets.handler",
    description: "The fleet's accounts: the Organizations OU's active accounts and the listed ones, as the fan-out's items",
    // One listing of at most a few hundred accounts (20 per page) and a small answer.
    memoryMb: 256,
    // Organizations pages at its rate (adaptive retries on TooManyRequestsException).
    timeoutSeconds: 60,
    posts: false,
    reports: false,
    trigger: { kind: "fleet-fanout" },
    region: "primary",
  },
  {
    name: "vault-copy",
    handler: "functions/vault-copy.handler",
    description: "Backup account: copies the workload accounts' shares with the vault's key, locks EBS copies",
    memoryMb: 512,
    // Starts copies and locks, never waits for one; a run that nears its deadline leaves the rest to the next.
    timeoutSeconds: 600,
    posts: true,
    reports: true,
    // The vault stage schedules it on the copy schedule (stacks/vault.ts).
    trigger: { kind: "schedule", schedule: "copy" },
    region: "primary",
    stage: "vault",
  },
  {
    name: "vault-prune",
    handler: "functions/vault-prune.handler",
    description: "Backup account: the vault's own GFS retention of its copies, never a locked copy or one it did not make",
    memoryMb: 512,
    timeoutSeconds: 600,
    posts: true,
    reports: true,
    trigger: { kind: "schedule", schedule: "prune" },
    region: "primary",
    stage: "vault",
  },
];

/**
 * The functions a configuration deploys: the failover runbook only with failover groups, the probe only when a
 * group has a `trigger`, the restore test only when a backup policy has a `restoreTest` block, its checker only when a
 * policy's restore test has a `rds.checker` (sql checks on RDS instances), the fleet summary only with a `fleet` section, the
 * fleet targets only with a `fleet.organizationalUnit`;
 * the others always, but the vault stage's functions (`stage: "vault"`), which only the vault stage deploys
 * (stacks/vault-definition.ts).
 */
export function deployedFunctions(config: Config): FunctionSpec[] {
  const groups = config.failover.groups;
  const deployed: Partial<Record<FunctionName, boolean>> = {
    failover: groups.length > 0,
    probe: groups.some((g) => g.trigger),
    "restore-test": config.backup.policies.some((p) => p.restoreTest),
    "restore-test-checker": config.backup.policies.some((p) => p.restoreTest?.rds?.checker),
    "fleet-summary": config.fleet !== undefined,
    "fleet-targets": config.fleet?.organizationalUnit !== undefined,
  };
  return FUNCTIONS.filter((f) => f.stage === undefined && (deployed[f.name] ?? true));
}

/** The link names of the message destinations (runbooks/lib/resources.ts reads them by these names). */
export const NOTIFY_LINKS = {
  runs: "SlackWebhookUrl",
  alerts: "SlackAlertsWebhookUrl",
  cost: "SlackCostWebhookUrl",
  topic: "AlertsTopic",
} as const;

/**
 * What a function is linked to for its messages (core/notify-routing.ts): a function that posts sends run summaries
 * (runs channel, also every channel's fallback) and its own failures as criticals (alerts channel and, with the pager
 * on, the topic); only the cost function posts cost digests. Functions that never post get nothing.
 */
export function notifyLinkNames(spec: FunctionSpec, pagerEnabled: boolean): string[] {
  if (!spec.posts) return [];
  return [NOTIFY_LINKS.runs, NOTIFY_LINKS.alerts, ...(spec.name === "cost" ? [NOTIFY_LINKS.cost] : []), ...(pagerEnabled ? [NOTIFY_LINKS.topic] : [])];
}

export function functionSpec(name: FunctionName): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`no function "${name}" in stacks/functions.ts`);
  return spec;
}

/** `functions/backup.handler` -> `functions/backup.ts` */
export function handlerFile(spec: FunctionSpec): string {
  return spec.handler.replace(/\.[A-Za-z_$][\w$]*$/, ".ts");
}

/**
 * Bundling settings for every function (SST `nodejs` option), chosen with bench/cold-start.ts:
 * ESM, minified, no source maps shipped, AWS SDK v3 bundled, code splitting on. Measured: taking the
 * SDK from the runtime (external) doubles module init (hundreds of small files to resolve and load),
 * CommonJS loads about 2x slower than ESM, and minifying halves the bytes at equal init time.
 * Init time follows the bytes V8 has to parse; with `splitting` what sits behind a dynamic `import()`
 * (the SDK's SSO/STS/login credential providers, ~110 kB, never used with Lambda's environment
 * credentials; the failover runbook's warming engine and undici) is a chunk read only when called.
 */
export const NODEJS = {
  format: "esm",
  minify: true,
  sourcemap: false,
  splitting: true,
} as const;

export const RUNTIME = "nodejs24.x" as const;
