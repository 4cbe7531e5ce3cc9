/**
 * `npm run drill`: ops-autopilot's whole runbook on a machine with no AWS account.
 *
 * 1. A simulated year (400 days) of nightly backups, DR copies, retention and the freshness watchdog (hourly, as
 *    in production) for a small fleet in two regions, with three days of failing backups in the middle — the real
 *    handlers against the in-memory sandbox account; the watchdog's messages printed per incident.
 * 2. A region outage: the database alarm fires, the failover runbook promotes the DR replica, switches DNS,
 *    warms a local HTTP origin (its cache-hit ratio going up) and checks health; then a replica that lags
 *    too far, which the runbook refuses to promote.
 * 3. A cost morning on which one service triples its spend: the Slack digest and alert it would send.
 * 4. Restore tests: an RDS instance, an Aurora cluster and an EBS volume restored, smoke-checked and deleted by the
 *    restore-test runbook, each proven RTO against its target; a failing smoke check alerted; a crashed run's
 *    leftover removed by the janitor.
 *
 * 5. A fleet: three workload accounts (one whose member roles were never deployed) and a backup account; the nightly
 *    backup and copy fanned out over every account × region and summarized once, naming the failed account; a copy in
 *    the backup account, locked, that survives a delete from the workload account.
 *
 * Prints a readable summary and writes the full report to out/drill-report.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runBackupYear, WATCHDOG_HOURLY, type BackupYearResult } from "../sandbox/scenarios/backup-scenarios.ts";
import { runLagTooFarScenario, runRegionOutageScenario, scenarioConfig, type FailoverScenarioResult } from "../sandbox/scenarios/failover-scenarios.ts";
import { startWarmServer } from "../sandbox/scenarios/http-origin.ts";
import { runWarm } from "../runbooks/warm/engine.ts";
import { httpProbe } from "../adapters/health.ts";
import { WarmTargetSetSchema } from "../schemas/config-warm.ts";
import type { WarmReport } from "../core/warm/report.ts";
import { buildCostRun } from "../core/report/cost.ts";
import { addDays, type CostDay } from "../core/cost.ts";
import { CostConfigSchema } from "../schemas/config-cost.ts";
import { renderText } from "../core/report/blocks.ts";
import { formatTable, summaryCells } from "../core/report/restore-test.ts";
import { restoreDrillSummary, runRestoreDrill, type RestoreDrillResult } from "../sandbox/scenarios/restore-scenarios.ts";
import { drillHtml, FAILOVER_RTO_TARGET_SECONDS } from "./drill-html.ts";
import { drillHelp, parseDrillArgs, type DrillSection } from "./drill-cli.ts";
import { DRILL_WIDTH, failoverLines } from "../core/report/drill-text.ts";
import { plainLinks, wrap } from "../core/report/text.ts";
import { withoutReportLinkLine } from "../core/report/report-link.ts";
import { runFleetDrill, type FleetDrillResult } from "../sandbox/scenarios/fleet-scenarios.ts";

process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outFile = join(root, "out", "drill-report.json");
/** `npm run drill` runs every section; `npm run drill -- backup failover` only those; `--help` lists them (scripts/drill-cli.ts). */
const args = parseDrillArgs(process.argv.slice(2));
if ("error" in args) {
  console.error(args.error);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(drillHelp());
  process.exit(0);
}
/** `--html` also writes out/drill-report.html (scripts/drill-html.ts). */
const html = process.argv.includes("--html") ? drillHtml() : undefined;

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (typeof cell === "number" ? String(cell).padStart(widths[c]!) : String(cell).padEnd(widths[c]!))).join("  "))
    .join("\n");
}

function heading(text: string): void {
  console.log(`\n${"=".repeat(DRILL_WIDTH)}\n${wrap(text, DRILL_WIDTH, 3).join("\n")}\n${"=".repeat(DRILL_WIDTH)}`);
}

/** Prints `text` wrapped at the drill's width, continuation lines `indent` further in than their paragraph. */
function say(text: string, indent = 2): void {
  console.log(wrap(text, DRILL_WIDTH, indent).join("\n"));
}

/** The watchdog's alert-lifecycle messages, per incident; a run of reminders on one line. */
function printIncidents(year: BackupYearResult): void {
  const hours = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 3_600_000);
  say(`\nWatchdog messages per incident (the watchdog runs hourly; one incident per policy and region; ${year.reports} runs in all):`);
  for (const [key, messages] of Object.entries(year.incidents).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const n = (kind: string) => messages.filter((m) => m.kind === kind).length;
    console.log(`  ${key}: ${n("started")} started, ${n("reminder")} reminders, ${n("resolved")} resolved`);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.kind !== "reminder") {
        say(`    ${m.at.slice(0, 16)}  ${m.kind.padEnd(9)} ${plainLinks(m.text, "label")}`, 28);
        continue;
      }
      let j = i;
      while (messages[j + 1]?.kind === "reminder") j++;
      const last = messages[j]!;
      const count = j - i + 1;
      const every = count > 1 ? `, every ${hours(m.at, messages[i + 1]!.at)} h` : "";
      say(
        `    ${m.at.slice(0, 16)}  ${`${count} reminder${count === 1 ? "" : "s"}`.padEnd(9)} to ${last.at.slice(0, 16)}${every}; the last: ${plainLinks(last.text, "label")}`,
        28,
      );
      i = j;
    }
  }
}

async function backupYear(): Promise<BackupYearResult> {
  heading("1. Backups: 400 simulated days, 5 resources, primary eu-west-1 + DR eu-central-1, backups failing on days 200–202, watchdog hourly");
  const year = await runBackupYear({ days: 400, outage: { fromDay: 200, days: 3 }, watchdogHours: WATCHDOG_HOURLY, ...(html ? { onDay: html.onDay } : {}) });
  const rows: (string | number)[][] = [["resource", "region", "kept", "daily", "weekly", "monthly", "oldest kept", "deleted", "copies made"]];
  for (const s of year.summary) {
    rows.push([s.resource, s.region, s.kept, s.keptByTier.daily, s.keptByTier.weekly, s.keptByTier.monthly, s.oldest ?? "—", s.deleted, s.copies]);
  }
  console.log(table(rows));
  const t = year.totals;
  say(
    `\n${year.start} → ${year.end}: ${t.created} snapshots created, ${t.copies} DR copies, ${t.deleted} pruned, ` +
      `${t.failedRuns} failed runs, ${t.frozenDays} days with pruning frozen, ${t.alerts} alerts; ${t.awsCalls} AWS calls (simulated).`,
  );
  console.log(`Most manual snapshots in one region: ${year.maxManualSnapshots} (quota 100); quota errors: ${year.quotaErrors}.`);
  say(
    `Snapshots ops-autopilot did not create (people's, another stage's, automated): ${year.foreign.before.length} at the start, all still there at the end: ${year.foreign.before.every((id) => year.foreign.after.includes(id)) ? "yes" : "NO"}.`,
  );
  console.log("The volume snapshot an AMI was made from (day 10) is kept in eu-west-1 past its retention.");
  console.log("\nAlerts sent to Slack:");
  // Each message's last line links its run report in the sandbox's bucket, a console page that does not exist: left out.
  for (const a of year.alerts.slice(0, 12)) say(`  ${a.at}  ${withoutReportLinkLine(plainLinks(a.text, "label"))}`, 26);
  if (year.alerts.length > 12) console.log(`  … ${year.alerts.length - 12} more in the report`);
  printIncidents(year);
  console.log(`(${year.reports} run reports written to the sandbox bucket; simulated in ${(year.wallMs / 1000).toFixed(1)} s)`);
  return year;
}

async function failover(): Promise<{ outage: FailoverScenarioResult; lag: FailoverScenarioResult; warm?: WarmReport }> {
  heading("2. Failover: the primary region goes down");
  const origin = await startWarmServer({ missDelayMs: 15 });
  let warmReport: WarmReport | undefined;
  try {
    const targets = WarmTargetSetSchema.parse({
      name: "orders-dr",
      urls: Array.from({ length: 60 }, (_, i) => ({ url: `${origin.origin}/products/${i}`, priority: i < 10 ? 1 : 0.5 })),
      // The DR origin in the drill is a local server: loopback must be allowed explicitly.
      allowPrivate: true,
      concurrency: 8,
      ratePerSecond: 200,
    });
    const outage = await runRegionOutageScenario({
      healthUrl: `${origin.origin}/healthz`,
      probe: httpProbe(),
      warm: {
        warm: async () => {
          warmReport = await runWarm({ targets, now: Date.now });
          const first = warmReport.first?.cache.hitRatio ?? 0;
          const verify = warmReport.verify?.cache.hitRatio ?? 0;
          return {
            ok: warmReport.failed.length === 0,
            summary: `${warmReport.planned} URLs warmed, cache-hit ratio ${(first * 100).toFixed(0)} % → ${(verify * 100).toFixed(0)} %`,
          };
        },
      },
    });
    printFailover(outage);
    if (warmReport) {
      const f = warmReport.first!;
      const v = warmReport.verify;
      const pct = (r: number | null | undefined) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(0)} %`);
      const warmLine =
        `Cache warming of the DR origin (local HTTP server): ${warmReport.planned} URLs; first pass hit ratio ${pct(f.cache.hitRatio)}, ` +
        `p50 ${f.latencyMs.p50} ms, p95 ${f.latencyMs.p95} ms; verification pass hit ratio ${pct(v?.cache.hitRatio)}, p50 ${v?.latencyMs.p50 ?? "—"} ms.`;
      console.log(`\n${wrap(warmLine, DRILL_WIDTH, 2).join("\n")}`);
    }
    heading("2b. Failover refused: the replica lags four minutes behind (RPO 60 s)");
    const lag = await runLagTooFarScenario();
    printFailover(lag);
    return { outage, lag, ...(warmReport ? { warm: warmReport } : {}) };
  } finally {
    await origin.close();
  }
}

function printFailover(r: FailoverScenarioResult): void {
  const rpoSeconds = scenarioConfig().groups[0]!.maxReplicaLagSeconds;
  console.log(failoverLines(r, { rtoSeconds: FAILOVER_RTO_TARGET_SECONDS, rpoSeconds }).join("\n"));
}

function cost(): ReturnType<typeof buildCostRun> & { days: CostDay[] } {
  heading("3. Cost: EC2 spend triples overnight (a payer account: prod, staging and data-lake linked)");
  const reportDate = "2026-11-20";
  const days: CostDay[] = [];
  for (let d = "2026-11-01"; d <= reportDate; d = addDays(d, 1)) {
    const i = Number(d.slice(8));
    const ec2 = d === reportDate ? 330 : 105 + (i % 3) * 5;
    const rds = 140 + (i % 2) * 4;
    days.push({
      date: d,
      estimated: d === reportDate,
      services: {
        "Amazon Elastic Compute Cloud - Compute": ec2,
        "Amazon Relational Database Service": rds,
        "Amazon Simple Storage Service": 40,
        "AWS Lambda": 6.2,
      },
      // The same spend by linked account (Cost Explorer's query grouped by LINKED_ACCOUNT).
      accounts: { "111111111111": ec2 + rds - 30, "222222222222": 36.2, "333333333333": 40 },
    });
  }
  const run = buildCostRun({
    days,
    forecast: { kind: "forecast", remaining: 3900 },
    // Names as Cost Explorer gives them (DimensionValueAttributes); staging's comes from the configuration.
    accountNames: { "111111111111": "prod", "333333333333": "data-lake" },
    config: CostConfigSchema.parse({
      accounts: {
        top: 3,
        linked: [
          { id: "111111111111", dailyThreshold: 400 },
          { id: "222222222222", name: "staging", dailyThreshold: 100 },
        ],
      },
    }),
    now: new Date("2026-11-21T09:00:00Z"),
    apiCalls: 3,
  });
  console.log("Daily digest as it would be posted:\n");
  say(renderText(run.digest, { links: "label" }));
  if (run.alert) {
    console.log("\nImmediate alert:\n");
    say(renderText(run.alert, { links: "label" }));
  }
  return { ...run, days };
}

async function restore(): Promise<RestoreDrillResult> {
  heading("4. Restore tests: each resource restored from its newest snapshot, smoke-checked, deleted (eu-west-1)");
  const r = await runRestoreDrill();
  console.log("Proven RTO (restore requested → smoke check passed) against each policy's target:\n");
  console.log(formatTable(summaryCells(r.rows)));
  const critical = r.messages.filter((m) => m.critical);
  console.log(`\n${r.messages.length} Slack summaries (one per run), ${critical.length} critical:`);
  for (const m of r.messages) say(`  ${plainLinks(m.message.text, "label")}`);
  say(
    `\nAurora sql check "${r.dataApi.check}" through the RDS Data API (secret ${r.dataApi.secret}, the source's RDS-managed master secret): ` +
      `${r.dataApi.passed ? "passed" : "FAILED"}, observed ${r.dataApi.observed}; ${r.dataApi.calls.length} Data API calls:`,
  );
  for (const c of r.dataApi.calls) console.log(`  ${c}`);
  say(
    `\nJanitor: the leftover of a crashed run (${r.janitor.leftover}) deleted: ${r.janitor.deleted.includes(r.janitor.leftover) ? "yes" : "NO"}; ` +
      `the look-alike without the restore-test tag (${r.janitor.lookAlike}) kept: ${r.janitor.lookAlikeSurvived ? "yes" : "NO"}.`,
  );
  say(
    `Restore-test resources left after the runs: ${r.remaining.length}. Trend documents in the bucket: ${Object.keys(r.trend).length}; ${r.awsCalls} AWS calls (simulated), ` +
      `${r.iamDenials.length} denied by the restore-test role.`,
  );
  for (const d of r.iamDenials) console.log(`  denied: ${d}`);
  return r;
}

async function fleet(): Promise<FleetDrillResult> {
  heading("5. Fleet: 3 workload accounts and a backup account; one account's member roles never deployed");
  const r = await runFleetDrill();
  const missing = r.accounts.filter((a) => a.roles === false);
  const each = `${r.resourcesPerAccount.rdsInstances} RDS instance and ${r.resourcesPerAccount.ebsVolumes} EBS volumes in ${r.regions[0]}`;
  say(
    `Central account ${r.central}; workload accounts ${r.accounts.map((a) => `${a.name} ${a.id}${a.roles === false ? " (member roles never deployed)" : ""}`).join(", ")}, ` +
      `each with ${each}; regions ${r.regions.join(", ")}; backup account ${r.vault.name} ${r.vault.id} (${r.vault.region}, its own key).`,
  );
  say(`\nNightly backup: one Distributed Map item per account × region (${r.backup.items}), then the summary function. Its Slack summary:`);
  for (const line of withoutReportLinkLine(r.backup.message ?? "(no summary posted)").split("\n")) say(`  ${line}`, 4);
  const done = (run: typeof r.copy) => run.results.filter((x) => x.ok);
  const copied = done(r.copy).reduce((n, x) => n + (x.ok ? (x.counts.copied ?? 0) : 0), 0);
  const failedCopy = r.copy.results.filter((x) => !x.ok).map((x) => `${x.accountName} (${x.account}) in ${x.region}: ${x.ok ? "" : x.error}`);
  say(
    `Summary run: ${r.backup.summary.ok ? "ok" : `failed (${r.backup.summary.error}), so the execution fails and pages, naming ${missing.map((a) => `${a.name} (${a.id})`).join(", ")}`}.`,
  );
  say(`\nCopy, 30 min later: ${copied} DR copies started; failed: ${failedCopy.join(", ") || "none"}.`);
  say(
    `\nBackup account: the copy job shared ${r.vaultCopy.shared} backups with ${r.vault.id}; vault-copy, run there as its own role, ` +
      `copied them with the vault's key (${r.vault.key}) and locked the ${r.vaultCopy.locked} EBS copies (RDS has no snapshot lock). ` +
      `Its summary: ${withoutReportLinkLine(plainLinks(r.vaultCopy.summary, "label"))}`,
  );
  say(`The calls for one EBS backup of ${r.vaultCopy.accountName}:`);
  for (const c of r.vaultCopy.calls) say(`  ${c}`, 4);
  say(`Delete of the locked vault copy ${r.vaultCopy.copy}:`);
  for (const d of r.deletes) say(`  from ${d.who}: ${d.error === "none" ? "DELETED" : `refused, ${d.error}: ${d.message}`}`, 4);
  say(`The copy is still in the backup account: ${r.survived ? "yes" : "NO"}.`);
  say(
    `(${r.awsCalls} AWS calls (simulated), ${r.assumeRoleRefused} AssumeRole refused, ${r.iamDenials} denied by the functions' roles; ${(r.wallMs / 1000).toFixed(1)} s)`,
  );
  return r;
}

const SECTIONS = ["backup", "failover", "cost", "restore", "fleet"] as const;
const want = (s: DrillSection) => args.sections.length === 0 || args.sections.includes(s);

const started = performance.now();
const year = want("backup") ? await backupYear() : undefined;
const fo = want("failover") ? await failover() : undefined;
const costRun = want("cost") ? cost() : undefined;
const restoreRun = want("restore") ? await restore() : undefined;
const fleetRun = want("fleet") ? await fleet() : undefined;
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      sections: SECTIONS.filter(want),
      ...(year ? { backupYear: year } : {}),
      ...(fo ? { failover: fo } : {}),
      ...(costRun ? { cost: { findings: costRun.findings, digest: costRun.digest, alert: costRun.alert, digestText: renderText(costRun.digest) } } : {}),
      ...(restoreRun
        ? {
            restore: {
              table: formatTable(summaryCells(restoreRun.rows)),
              rows: restoreRun.rows,
              summaries: restoreRun.messages.map((m) => ({ runId: m.runId, critical: m.critical, text: m.message.text })),
              combinedSummaryText: renderText(restoreDrillSummary(restoreRun)),
              trend: restoreRun.trend,
              janitor: restoreRun.janitor,
              remaining: restoreRun.remaining,
              awsCalls: restoreRun.awsCalls,
              dataApi: restoreRun.dataApi,
              iamDenials: restoreRun.iamDenials,
            },
          }
        : {}),
      ...(fleetRun ? { fleet: fleetRun } : {}),
    },
    null,
    2,
  ),
);
if (html) {
  const htmlFile = join(root, "out", "drill-report.html");
  const bytes = html.write(htmlFile, { ...(year ? { year } : {}), ...(fo ? { failover: fo } : {}), ...(costRun ? { cost: costRun } : {}) });
  console.log(`\nHTML report: ${relative(process.cwd(), htmlFile)} (${bytes} bytes)`);
}
heading(`Drill finished in ${((performance.now() - started) / 1000).toFixed(1)} s. Full report: ${relative(process.cwd(), outFile)}`);
