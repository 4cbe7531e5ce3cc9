import { FLEET_FUNCTIONS } from "../schemas/config-fleet.ts";
import { PRICES, type PriceKey } from "./run-cost-prices.ts";

/**
 * What ops-autopilot itself costs to run per month: the bill of its own Lambda runs, Step Functions
 * transitions, S3 requests and storage, Cost Explorer requests, CloudWatch metrics and alarms, and the
 * cross-region transfer of DR copies. Not the snapshots it keeps (that is the data's cost, whatever tool
 * makes them), CloudWatch Logs ingestion, nor the SQS queues (idle: no messages unless something fails).
 *
 * Pure: the caller passes the functions a config deploys (memory from stacks/functions.ts, the schedule
 * expression that starts each), counts read from the config, and {@link RunCostAssumptions} for what the code
 * cannot know (how many resources the tags select, how long a run takes, how many GB a DR copy moves).
 * A month is 730 hours, as on AWS's pricing pages.
 */

export const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** Every failover Advance is three transitions (Advance, Route, then Wait or the end state): stacks/durable-runbook-definition.ts. */
export const TRANSITIONS_PER_ADVANCE = 3;
/** The watchdog's own metrics besides one BackupAgeHours per resource and region: WatchdogHeartbeat, StaleBackups. */
export const WATCHDOG_FIXED_METRICS = 2;
/** Metrics per warm target set (runbooks/warm/warm.ts): WarmUrls, WarmSuccessPercent, WarmLatencyP95, WarmStopped, WarmHitRatioAfter. */
export const WARM_METRICS_PER_SET = 5;

export interface RunCostFunction {
  name: string;
  memoryMb: number;
  /** The schedule expression that starts it; undefined for one that runs only during a failover, or not scheduled. */
  schedule?: string;
  /** Writes one run report to S3 per run (FunctionSpec.reports). */
  reports: boolean;
}

export interface RunCostInput {
  functions: readonly RunCostFunction[];
  drRegions: number;
  warmTargetSets: number;
  /** Failover groups with a trigger (the probe publishes one metric per group). */
  triggeredGroups: number;
  /** CloudWatch alarms the stage deploys. */
  alarms: number;
  /** Days run reports are kept (stacks/storage.ts lifecycle). */
  reportRetentionDays: number;
  /** The policies with a restoreTest block (none: no restore tests). */
  restoreTests?: readonly RunCostRestoreTest[];
  /** The cost digest also queries by linked account (`cost.accounts.byAccount`, a payer account): one more request a run. */
  costByAccount?: boolean;
}

/** One policy's restore tests as the month's bill sees them. */
export interface RunCostRestoreTest {
  policy: string;
  /** Its restoreTest.schedule: every selected resource is tested once per run (core/restore-test.ts planRestoreTests). */
  schedule: string;
  /** Resources it tests each run: its ids; undefined for a tag selection ({@link RunCostAssumptions.restoreTestResourcesPerTagPolicy}). */
  resources?: number;
  /** One test's throwaway: instance-hours by class and storage (core/restore-test.ts restoreTestCost). */
  throwawayUsd: number;
  throwawayConfirmed: boolean;
  throwawayReason: string;
  /** Its sql checks run in the VPC checker function (one invocation a test). */
  checker: boolean;
}

export interface RunCostAssumptions {
  /** Resources the backup policies select (by tag or id). */
  resources: number;
  /** Typical billed duration of one run, per function name. */
  durationSeconds: Readonly<Record<string, number>>;
  /** GB a day's incremental DR copies move to each DR region. */
  drCopyGbPerDay: number;
  /** Failover runs in the month (0 in a normal month). */
  failoversPerMonth: number;
  /** Advances (failover function invocations) in one failover run: six steps plus polls. */
  advancesPerFailover: number;
  /** GetCostAndUsage pages per cost run (one GetCostForecast comes on top). */
  costExplorerPagesPerRun: number;
  /** Size of one run report. */
  reportKb: number;
  /** Resources a restore-tested policy that selects by tag tests each run. */
  restoreTestResourcesPerTagPolicy: number;
  /** Requested → deleted, for one restore test's throwaway. */
  restoreTestMinutes: number;
  /** Allocated storage of a restored database or volume. */
  restoreTestStorageGb: number;
  /** Advances (restore-test invocations) in one test: its steps plus the polls while it restores and deletes. */
  advancesPerRestoreTest: number;
}

export const DEFAULT_ASSUMPTIONS: RunCostAssumptions = {
  resources: 10,
  durationSeconds: {
    backup: 20,
    copy: 5,
    prune: 15,
    watchdog: 5,
    warm: 60,
    cost: 5,
    failover: 3,
    probe: 2,
    "restore-test": 3,
    "restore-test-checker": 5,
    "weekly-report": 10,
    "fleet-summary": 2,
    "fleet-targets": 2,
  },
  drCopyGbPerDay: 5,
  failoversPerMonth: 0,
  advancesPerFailover: 16,
  costExplorerPagesPerRun: 1,
  reportKb: 10,
  restoreTestResourcesPerTagPolicy: 2,
  restoreTestMinutes: 30,
  restoreTestStorageGb: 20,
  advancesPerRestoreTest: 12,
};

export interface LineItem {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  /** The PRICES row; none for a line priced from several (a restore test's throwaway). */
  price?: PriceKey;
  /** Every price behind it was confirmed on its pricing page. */
  confirmed: boolean;
  unitPriceUsd: number;
  monthlyUsd: number;
  reason: string;
}

export interface RunCost {
  items: LineItem[];
  totalUsd: number;
  /** What one failover run adds (Lambda, Step Functions, S3), whatever failoversPerMonth says. */
  perFailoverRunUsd: number;
}

const DOW = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** How many values a cron field selects in [min, max] (lists, ranges, steps, names). */
function fieldCount(field: string, min: number, max: number, names: string[] = [], nameBase = min): number {
  const value = (s: string): number => {
    const i = names.indexOf(s.toUpperCase());
    return i >= 0 ? i + nameBase : Number(s);
  };
  const picked = new Set<number>();
  for (const part of field.split(",")) {
    const [range = "*", stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a = "", b] = range.split("-");
      lo = value(a);
      hi = b !== undefined ? value(b) : stepText ? max : lo;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(step > 0)) throw new Error(`cannot read the cron field "${field}"`);
    for (let v = lo; v <= hi; v += step) picked.add(v);
  }
  return picked.size;
}

/**
 * Runs per month (730 hours) of an EventBridge Scheduler expression: `rate(n unit)`, or
 * `cron(minutes hours day-of-month month day-of-week year)` where one of the two day fields is `?`.
 * A day-of-month of `L`, `W` or `n#k` forms counts one day a month.
 *
 * @example runsPerMonth("rate(30 minutes)") // 1460
 * @example runsPerMonth("cron(0 2 * * ? *)") // 30.416…
 */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const minutes = rate[2]!.startsWith("minute") ? n : rate[2]!.startsWith("hour") ? n * 60 : n * 1440;
    return (HOURS_PER_MONTH * 60) / minutes;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  const fields = cron?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) throw new Error(`cannot read the schedule expression "${expression}"`);
  const [minutes, hours, dom, month, dow] = fields as [string, string, string, string, string];
  const perDay = fieldCount(minutes, 0, 59) * fieldCount(hours, 0, 23);
  const any = (f: string) => f === "*" || f === "?";
  let days: number;
  if (any(dom) && any(dow)) days = DAYS_PER_MONTH;
  else if (!any(dow)) days = /[#L]/.test(dow) ? 1 : (fieldCount(dow, 1, 7, DOW, 1) * DAYS_PER_MONTH) / 7;
  else days = /[LW]/.test(dom) ? 1 : fieldCount(dom, 1, 31);
  const months = any(month) ? 12 : fieldCount(month, 1, 12, MONTHS, 1);
  return perDay * days * (months / 12);
}

/** Prefixes the weekly report lists a run (core/report/weekly.ts weeklyPrefixes: 5 functions × 7 days + cost × 14). */
export const WEEKLY_REPORT_PREFIXES = 5 * 7 + 14;

function line(service: string, item: string, quantity: number, price: PriceKey, reason: string): LineItem {
  const p = PRICES[price];
  return { service, item, quantity, unit: p.unit, price, confirmed: p.confirmed, unitPriceUsd: p.usd, monthlyUsd: quantity * p.usd, reason };
}

/**
 * The month's line items for a deployment and the assumptions, each with its quantity, unit price and reason.
 *
 * @example runCost({ functions: [{ name: "watchdog", memoryMb: 512, schedule: "rate(1 hour)", reports: true }], ... }, DEFAULT_ASSUMPTIONS)
 *   // items: Lambda watchdog 730 runs × 5 s × 0.5 GB = 1825 GB-s, ...
 */
export function runCost(input: RunCostInput, a: RunCostAssumptions): RunCost {
  const items: LineItem[] = [];
  const runs = (name: string): number => {
    const fn = input.functions.find((f) => f.name === name);
    return fn?.schedule ? runsPerMonth(fn.schedule) : 0;
  };
  const duration = (name: string): number => {
    const d = a.durationSeconds[name];
    if (d === undefined) throw new Error(`no assumed duration for function "${name}"`);
    return d;
  };
  const failover = input.functions.some((f) => f.name === "failover");
  const failoverInvocations = failover ? a.failoversPerMonth * a.advancesPerFailover : 0;
  const restore = input.restoreTests ?? [];
  const resourcesOf = (r: RunCostRestoreTest) => r.resources ?? a.restoreTestResourcesPerTagPolicy;
  const testsOf = (r: RunCostRestoreTest) => resourcesOf(r) * runsPerMonth(r.schedule);
  const restoreTests = restore.reduce((n, r) => n + testsOf(r), 0);
  const restoreSchedules = [...new Set(restore.map((r) => r.schedule))];
  const restoreExecutions = restoreSchedules.reduce((n, s) => n + runsPerMonth(s), 0);
  const restoreAdvances = restoreTests * a.advancesPerRestoreTest + restoreExecutions;
  const checkerTests = restore.filter((r) => r.checker).reduce((n, r) => n + testsOf(r), 0);

  // The fleet summary runs once per execution of a fleet job's state machine, on that job's schedule.
  const fleetSummaries = FLEET_FUNCTIONS.reduce((n, job) => n + runs(job), 0);

  // Lambda: one line of compute per function, one of requests for all.
  let invocations = 0;
  for (const fn of input.functions) {
    const n =
      fn.name === "failover"
        ? failoverInvocations
        : fn.name === "restore-test"
          ? restoreAdvances
          : fn.name === "restore-test-checker"
            ? checkerTests
            : fn.name === "fleet-summary" || fn.name === "fleet-targets"
              ? fleetSummaries
              : runs(fn.name);
    invocations += n;
    const gbSeconds = n * duration(fn.name) * (fn.memoryMb / 1024);
    const how =
      fn.name === "failover"
        ? `${a.failoversPerMonth} failover(s) × ${a.advancesPerFailover} advances`
        : fn.name === "restore-test"
          ? `${fmt(restoreTests)} restore tests × ${a.advancesPerRestoreTest} advances + ${fmt(restoreExecutions)} starts`
          : fn.name === "restore-test-checker"
            ? `${fmt(checkerTests)} restore tests with sql checks on RDS instances`
            : fn.name === "fleet-summary"
              ? `${fmt(fleetSummaries)} fleet job executions (one summary each)`
              : fn.name === "fleet-targets"
                ? `${fmt(fleetSummaries)} fleet job executions (one OU discovery each)`
                : fn.schedule
                  ? `${fmt(n)} runs (${fn.schedule})`
                  : "not scheduled";
    items.push(line("Lambda", `${fn.name} compute`, gbSeconds, "lambdaArmGbSecond", `${how} × ${duration(fn.name)} s (assumed) × ${fn.memoryMb} MB`));
  }
  items.push(line("Lambda", "requests", invocations, "lambdaRequest", "every invocation above"));

  const scheduled = input.functions.filter((f) => f.schedule).reduce((n, f) => n + runsPerMonth(f.schedule!), 0) + restoreExecutions;
  items.push(
    line(
      "EventBridge Scheduler",
      "invocations",
      scheduled,
      "schedulerInvocation",
      `one per scheduled run${restoreExecutions ? ", restore-test starts included" : ""} (within the 14M free a month, billed here at list price)`,
    ),
  );

  if (failover) {
    const transitions = a.failoversPerMonth * a.advancesPerFailover * TRANSITIONS_PER_ADVANCE;
    items.push(
      line(
        "Step Functions",
        "failover state transitions",
        transitions,
        "stepFunctionsTransition",
        `${a.failoversPerMonth} failover(s) × ${a.advancesPerFailover} advances × ${TRANSITIONS_PER_ADVANCE} transitions; only when failing over`,
      ),
    );
  }

  if (restoreTests > 0) {
    items.push(
      line(
        "Step Functions",
        "restore-test state transitions",
        restoreAdvances * TRANSITIONS_PER_ADVANCE,
        "stepFunctionsTransition",
        `${fmt(restoreAdvances)} advances × ${TRANSITIONS_PER_ADVANCE} transitions`,
      ),
    );
    for (const r of restore) {
      const n = testsOf(r);
      items.push({
        service: "Restore tests",
        item: `${r.policy} throwaways`,
        quantity: n,
        unit: "test",
        confirmed: r.throwawayConfirmed,
        unitPriceUsd: r.throwawayUsd,
        monthlyUsd: n * r.throwawayUsd,
        reason: `${fmt(n)} tests (${resourcesOf(r)} resource(s)${r.resources === undefined ? " (assumed: a tag selection)" : ""} × ${fmt(runsPerMonth(r.schedule))} runs of ${r.schedule}); one: ${r.throwawayReason}`,
      });
    }
  }

  // S3: run reports, claims, ledgers and state documents.
  const reportPuts = input.functions.filter((f) => f.reports).reduce((n, f) => n + runs(f.name), 0);
  const backupClaims = runs("backup") * a.resources;
  const copyClaims = input.functions.some((f) => f.name === "copy") ? a.resources * input.drRegions * DAYS_PER_MONTH : 0;
  const pruneRuns = runs("prune");
  const costRuns = runs("cost");
  const warmStateOps = runs("warm") * input.warmTargetSets;
  const failoverS3 = failoverInvocations;
  // A restore test: a checkpoint write per advance, its trend entry and its report.
  const restoreS3 = restoreTests * (a.advancesPerRestoreTest + 2);
  // The weekly report: its HTML and its run report, and a LIST (billed as a PUT) per function-and-day prefix
  // it lists ({@link WEEKLY_REPORT_PREFIXES}); it reads a week of the others' run reports and two weeks of cost reports.
  const weeklyRuns = runs("weekly-report");
  const weeklyLists = weeklyRuns * WEEKLY_REPORT_PREFIXES;
  const weeklyPuts = weeklyRuns * 2 + weeklyLists;
  const weeklyGets = weeklyRuns * ((reportPuts * 7) / DAYS_PER_MONTH + (costRuns * 7) / DAYS_PER_MONTH);
  const puts =
    reportPuts + backupClaims + copyClaims + pruneRuns + costRuns + warmStateOps + failoverS3 + (failover ? a.failoversPerMonth : 0) + restoreS3 + weeklyPuts;
  items.push(
    line(
      "S3",
      "PUT requests",
      puts,
      "s3Put",
      `${fmt(reportPuts)} run reports + ${fmt(backupClaims)} backup claims (${a.resources} resources a run) + ${fmt(copyClaims)} copy claims (one per resource and DR region a day) + ${fmt(pruneRuns)} prune ledgers + ${fmt(costRuns)} cost states + ${fmt(warmStateOps)} warm states + ${fmt(failoverS3 + (failover ? a.failoversPerMonth : 0))} failover checkpoints and reports${restoreS3 ? ` + ${fmt(restoreS3)} restore-test checkpoints, trends and reports` : ""}${weeklyRuns ? ` + ${fmt(weeklyPuts)} weekly report writes and LISTs (${WEEKLY_REPORT_PREFIXES} a run)` : ""}`,
    ),
  );
  // The watchdog reads its alert state every run; it writes it only when an incident starts, reminds or ends.
  const watchdogRuns = runs("watchdog");
  const gets = pruneRuns * 2 + costRuns + watchdogRuns + warmStateOps + failoverS3 + restoreTests * a.advancesPerRestoreTest + weeklyGets;
  items.push(
    line(
      "S3",
      "GET requests",
      gets,
      "s3Get",
      `prune ledger and observe marker per prune run, cost state per cost run, alert state per watchdog run, warm state per set and run, failover checkpoint per advance${restoreTests ? ", restore-test checkpoint per advance" : ""}${weeklyRuns ? `, a week of run reports per weekly report (${fmt(weeklyGets)})` : ""}`,
    ),
  );
  const storedGb = (reportPuts * (input.reportRetentionDays / DAYS_PER_MONTH) * a.reportKb) / (1024 * 1024);
  items.push(
    line(
      "S3",
      "report storage",
      storedGb,
      "s3StorageGbMonth",
      `reports kept ${input.reportRetentionDays} days at ${a.reportKb} KB (assumed) each, steady state`,
    ),
  );

  // Cost Explorer: the cost function's pages plus one forecast per run.
  if (input.functions.some((f) => f.name === "cost")) {
    const byAccount = input.costByAccount ? 1 : 0;
    const perRun = a.costExplorerPagesPerRun + byAccount + 1;
    items.push(
      line(
        "Cost Explorer",
        "API requests",
        costRuns * perRun,
        "costExplorerRequest",
        `${fmt(costRuns)} cost runs × (${a.costExplorerPagesPerRun} GetCostAndUsage page(s)${byAccount ? " + 1 by linked account" : ""} + 1 GetCostForecast)`,
      ),
    );
  }

  // CloudWatch: custom metrics (EMF from the functions, PutMetricData from the probe), alarms.
  const regions = 1 + input.drRegions;
  const metrics = WATCHDOG_FIXED_METRICS + a.resources * regions + input.warmTargetSets * WARM_METRICS_PER_SET + input.triggeredGroups;
  items.push(
    line(
      "CloudWatch",
      "custom metrics",
      metrics,
      "cloudwatchCustomMetric",
      `watchdog ${WATCHDOG_FIXED_METRICS} + BackupAgeHours per resource and region (${a.resources} × ${regions}) + ${WARM_METRICS_PER_SET} per warm target set (${input.warmTargetSets}) + one probe metric per triggered group (${input.triggeredGroups})`,
    ),
  );
  items.push(line("CloudWatch", "alarms", input.alarms, "cloudwatchAlarm", "every alarm the stage deploys"));
  const probeRuns = runs("probe");
  if (probeRuns > 0)
    items.push(line("CloudWatch", "probe PutMetricData", probeRuns, "cloudwatchPutMetricData", "one request per probe run (all groups in one)"));

  // Cross-region transfer of the DR copies.
  if (input.drRegions > 0) {
    const gb = a.drCopyGbPerDay * DAYS_PER_MONTH * input.drRegions;
    items.push(
      line(
        "Data transfer",
        "DR snapshot copies",
        gb,
        "interRegionTransferGb",
        `${a.drCopyGbPerDay} GB a day (assumed incremental copy size) × ${input.drRegions} DR region(s)`,
      ),
    );
  }

  const totalUsd = items.reduce((n, i) => n + i.monthlyUsd, 0);
  const one = failover ? perFailoverRun(input, a) : 0;
  return { items, totalUsd, perFailoverRunUsd: one };
}

function perFailoverRun(input: RunCostInput, a: RunCostAssumptions): number {
  const fn = input.functions.find((f) => f.name === "failover")!;
  const advances = a.advancesPerFailover;
  const lambda = advances * (a.durationSeconds.failover ?? 0) * (fn.memoryMb / 1024) * PRICES.lambdaArmGbSecond.usd + advances * PRICES.lambdaRequest.usd;
  const sfn = advances * TRANSITIONS_PER_ADVANCE * PRICES.stepFunctionsTransition.usd;
  const s3 = (advances + 1) * PRICES.s3Put.usd + advances * PRICES.s3Get.usd;
  return lambda + sfn + s3;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
