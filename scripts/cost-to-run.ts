/**
 * `npm run cost-to-run [-- --stage <s>] [--markdown]`: what ops-autopilot costs to run per month for a stage's
 * config (config/example.json without --stage), computed by core/run-cost.ts from the functions that config
 * deploys (stacks/functions.ts: memory, trigger), its schedules, its counts, and stated assumptions.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { probeSchedule } from "../core/failover-trigger.ts";
import { defaultInstanceClass, restoreTestCost } from "../core/restore-test.ts";
import { DEFAULT_ASSUMPTIONS, type RunCost, type RunCostAssumptions, type RunCostInput, type RunCostRestoreTest, runCost } from "../core/run-cost.ts";
import { PRICES } from "../core/run-cost-prices.ts";
import type { Config } from "../schemas/config.ts";
import { FLEET_FUNCTIONS } from "../schemas/config-fleet.ts";
import { loadConfig } from "../stacks/config.ts";
import { deployedFunctions } from "../stacks/functions.ts";
import { REPORT_RETENTION_DAYS } from "../stacks/patterns.ts";

type Triggered = { trigger?: { periodSeconds: number } };
const triggered = (config: Config) => config.failover.groups.filter((g) => (g as Triggered).trigger) as Triggered[];

/**
 * The alarms a config deploys (stacks/): an errors alarm per function (not the restore-test checker), the dead-letter
 * queue's, the watchdog heartbeat; with failover the failover queue's and the failed-executions alarm; with a probe its
 * silence alarm and one trigger alarm per triggered group; with restore tests their queue's and failed-executions alarm;
 * with a fleet one failed-executions alarm per fleet job. test/infra/test-events.test.ts and test/infra/fleet-synth.test.ts
 * hold it to the synth.
 */
export function alarmCount(config: Config): number {
  const fns = deployedFunctions(config);
  const failover = fns.some((f) => f.name === "failover");
  const probe = fns.some((f) => f.name === "probe");
  const restoreTest = fns.some((f) => f.name === "restore-test");
  const errors = fns.filter((f) => f.errorsAlarm !== false).length;
  // With a fleet, each fleet job's state machine has its failed-executions alarm (stacks/fleet-fanout.ts).
  const fleet = config.fleet ? FLEET_FUNCTIONS.length : 0;
  return errors + 1 + 1 + (failover ? 2 : 0) + (probe ? 1 + triggered(config).length : 0) + (restoreTest ? 2 : 0) + fleet;
}

/**
 * Each restore-tested policy: its schedule, how many resources it selects by id (undefined for a tag), and one
 * test's throwaway cost (core/restore-test.ts restoreTestCost for `restoreTestMinutes` and `restoreTestStorageGb`;
 * the mean over the kinds it selects by id, a PostgreSQL instance for a tag selection).
 */
export function restoreTestCosts(config: Config, a: RunCostAssumptions = DEFAULT_ASSUMPTIONS): RunCostRestoreTest[] {
  const from = new Date(0);
  const to = new Date(a.restoreTestMinutes * 60_000);
  return config.backup.policies.flatMap((p) => {
    const t = p.restoreTest;
    if (!t) return [];
    const kinds = p.selection.tag !== undefined ? (["rds-instance"] as const) : p.selection.ids.map((r) => r.kind);
    const one = kinds.map((kind) =>
      restoreTestCost({
        kind,
        ...(kind === "ebs-volume"
          ? {}
          : {
              instanceClass: defaultInstanceClass(kind === "aurora-cluster" ? "aurora-postgresql" : "postgres", t.rds?.instanceClass, {
                dataApi: kind === "aurora-cluster" && t.smoke.sql.length > 0,
              }).instanceClass,
            }),
        storageGb: a.restoreTestStorageGb,
        from,
        to,
      }),
    );
    const usd = one.reduce((n, c) => n + c.usd, 0) / Math.max(1, one.length);
    const reason = one.length === 1 ? one[0]!.reason : `mean of ${one.length}: ${one.map((c) => `$${c.usd.toFixed(4)}`).join(", ")}`;
    return [
      {
        policy: p.name,
        schedule: t.schedule,
        ...(p.selection.tag !== undefined ? {} : { resources: p.selection.ids.length }),
        throwawayUsd: usd,
        throwawayConfirmed: one.every((c) => c.confirmed),
        throwawayReason: `${reason} (${a.restoreTestMinutes} min, ${a.restoreTestStorageGb} GB assumed)`,
        checker: t.smoke.sql.length > 0 && kinds.includes("rds-instance"),
      },
    ];
  });
}

/** The deployment as core/run-cost.ts sees it. */
export function runCostInput(config: Config): RunCostInput {
  const probePeriod = triggered(config)[0]?.trigger?.periodSeconds;
  return {
    functions: deployedFunctions(config).map((f) => {
      const schedule =
        f.trigger.kind === "schedule"
          ? config.schedules[f.trigger.schedule]
          : f.trigger.kind === "probe-schedule" && probePeriod
            ? probeSchedule(probePeriod)
            : undefined;
      return { name: f.name, memoryMb: f.memoryMb, reports: f.reports, ...(schedule ? { schedule } : {}) };
    }),
    drRegions: config.drRegions.length,
    warmTargetSets: config.warm.targets.length,
    triggeredGroups: triggered(config).length,
    alarms: alarmCount(config),
    reportRetentionDays: REPORT_RETENTION_DAYS,
    restoreTests: restoreTestCosts(config),
    ...(config.cost.accounts?.byAccount ? { costByAccount: true } : {}),
  };
}

const usd = (n: number): string => (n === 0 ? "$0.00" : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`);
/** A unit price in plain decimals, however small ($0.0000002, not 2e-7). */
export const unitPrice = (n: number): string => `$${n >= 0.01 ? String(n) : n.toFixed(12).replace(/0+$/, "")}`;
const qty = (n: number): string => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 2 }));

/** The cost table as text (aligned) or markdown. */
export function renderCost(cost: RunCost, a: RunCostAssumptions, source: string, markdown: boolean): string {
  const head = ["Service", "Item", "Quantity", "Unit price", "Monthly", "Reason"];
  const rows = cost.items.map((i) => [
    i.service,
    i.item,
    `${qty(i.quantity)} ${i.unit}`,
    `${unitPrice(i.unitPriceUsd)}${i.confirmed ? "" : " *"}`,
    usd(i.monthlyUsd),
    i.reason,
  ]);
  const total = ["Total", "", "", "", usd(cost.totalUsd), `one failover run adds ${usd(cost.perFailoverRunUsd)}`];
  const notes = [
    `Config: ${source}. A month is 730 hours; list prices, no free tier (core/run-cost-prices.ts, read ${PRICES.costExplorerRequest.read}).`,
    `Assumed: ${a.resources} resources selected, ${a.drCopyGbPerDay} GB of incremental DR copies a day per DR region, ${a.failoversPerMonth} failovers a month (${a.advancesPerFailover} advances each), ${a.costExplorerPagesPerRun} Cost Explorer page per run, ${a.reportKb} KB per report; a restore test ${a.restoreTestMinutes} min on ${a.restoreTestStorageGb} GB with ${a.advancesPerRestoreTest} advances, ${a.restoreTestResourcesPerTagPolicy} resources per tag-selected policy; run durations ${Object.entries(
      a.durationSeconds,
    )
      .map(([k, v]) => `${k} ${v} s`)
      .join(", ")}.`,
    "* price not confirmed on the pricing page when read (see core/run-cost-prices.ts).",
    "Not included: the snapshots' own storage, CloudWatch Logs ingestion, idle SQS queues.",
  ];
  if (markdown) {
    const md = (r: string[]) => `| ${r.join(" | ")} |`;
    return [md(head), md(head.map(() => "---")), ...rows.map(md), md(total.map((c, i) => (i === 0 || i === 4 ? `**${c}**` : c))), "", ...notes].join("\n");
  }
  const all = [head, ...rows, total];
  const widths = head.map((_, c) => (c === 5 ? 0 : Math.max(...all.map((r) => r[c]!.length))));
  const fmt = (r: string[]) =>
    r.map((cell, c) => (c === 2 || c === 3 || c === 4 ? cell.padStart(widths[c]!) : c === 5 ? cell : cell.padEnd(widths[c]!))).join("  ");
  return [fmt(head), ...rows.map(fmt), fmt(total), "", ...notes].join("\n");
}

export function parseArgs(argv: readonly string[]): { stage?: string; markdown: boolean } {
  let stage: string | undefined;
  let markdown = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stage") {
      stage = argv[++i];
      if (!stage || stage.startsWith("--")) throw new Error("--stage needs a value");
    } else if (argv[i] === "--markdown") markdown = true;
    else throw new Error(`unknown argument ${argv[i]}: usage: npm run cost-to-run [-- --stage <stage>] [--markdown]`);
  }
  return { ...(stage ? { stage } : {}), markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
  try {
    const args = parseArgs(process.argv.slice(2));
    const config = args.stage
      ? loadConfig("ops-autopilot", args.stage, root)
      : loadConfig("ops-autopilot", "example", root, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
    const source = args.stage ? `stage ${args.stage}` : "config/example.json";
    console.log(renderCost(runCost(runCostInput(config), DEFAULT_ASSUMPTIONS), DEFAULT_ASSUMPTIONS, source, args.markdown));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
  }
}
