import type { BackupPolicy } from "../../schemas/config.ts";
import { tiersFor } from "../backup-plan.ts";
import type { CostDay, CostSummary } from "../cost.ts";
import { snapshotName } from "../ownership.ts";
import type { Owner } from "../types.ts";
import { context, fields, header, section, type SlackMessage } from "./blocks.ts";
import type { BackupCalendar, CalendarCell, CalendarRow, CellKind, KeptTier } from "./html/backup-calendar.ts";
import type { DrillHtmlInput } from "./html/document.ts";
import type { SpendInput } from "./html/spend-bars.ts";
import type { WarmPassInput } from "./html/warm-histogram.ts";

/**
 * The weekly HTML report from saved run reports: which objects to read for an ISO week, and how the run reports
 * of the backup, copy, prune, watchdog, warm and cost functions become the input of the drill's renderer
 * (core/report/html/document.ts). Pure: the runbook (runbooks/weekly-report/) lists and reads the objects.
 *
 * Days are UTC days, as run report keys are (`reports/<function>/<yyyy-mm-dd>/…`, runbooks/lib/handler.ts).
 */

const DAY_MS = 86_400_000;

/** The functions whose run reports feed the weekly report, in the order they are listed. */
export const WEEKLY_SOURCES = ["backup", "copy", "prune", "watchdog", "warm", "cost"] as const;
export type WeeklySource = (typeof WEEKLY_SOURCES)[number];

/** Days of cost reports read: the spend chart shows 14 days (core/report/html/spend-bars.ts). */
export const COST_DAYS = 14;

const WEEK = /^(\d{4})-W(\d{2})$/;

function shift(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The ISO 8601 week of a UTC day: weeks start on Monday, week 1 holds the year's first Thursday.
 *
 * @example isoWeekOf("2025-12-29") // "2026-W01"
 */
export function isoWeekOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const mon0 = (new Date(t).getUTCDay() + 6) % 7;
  const thursday = new Date(t + (3 - mon0) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * The seven days (Monday to Sunday) of an ISO week; throws a RangeError for a week the year does not have.
 *
 * @example weekDays("2025-W41") // ["2025-10-06", …, "2025-10-12"]
 */
export function weekDays(week: string): string[] {
  const m = WEEK.exec(week);
  if (!m) throw new RangeError(`not an ISO week (yyyy-Www): "${week}"`);
  const jan4 = Date.UTC(Number(m[1]), 0, 4);
  const monday1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  const first = new Date(monday1 + (Number(m[2]) - 1) * 7 * DAY_MS).toISOString().slice(0, 10);
  if (Number(m[2]) < 1 || isoWeekOf(first) !== week) throw new RangeError(`${m[1]} has no week ${m[2]}`);
  return Array.from({ length: 7 }, (_, i) => shift(first, i));
}

/** The last complete ISO week before `now` (the scheduled run on a Monday reports the week that just ended). */
export function previousWeek(now: Date): string {
  return isoWeekOf(shift(now.toISOString().slice(0, 10), -7));
}

/** Where the week's HTML report is written in the Reports bucket. */
export function weeklyHtmlKey(week: string): string {
  return `reports/weekly/${week}.html`;
}

/** One day-prefix to list: `reports/<function>/<day>/`. */
export interface ReportPrefix {
  source: WeeklySource;
  day: string;
  prefix: string;
}

/**
 * The prefixes to list for a week: every source on each of the week's days, and the cost reports of the week
 * before too, since the spend chart shows 14 days. Listed per day so nothing outside the week is read.
 */
export function weeklyPrefixes(week: string): ReportPrefix[] {
  const days = weekDays(week);
  const costDays = Array.from({ length: COST_DAYS }, (_, i) => shift(days[6]!, i - COST_DAYS + 1));
  return WEEKLY_SOURCES.flatMap((source) => (source === "cost" ? costDays : days).map((day) => ({ source, day, prefix: `reports/${source}/${day}/` })));
}

/** A run report as read from the bucket: its key, the function and UTC day of its prefix, and its JSON. */
export interface SavedReport {
  key: string;
  source: WeeklySource;
  day: string;
  body: Record<string, unknown>;
}

/**
 * Which listed keys to read under a cap on objects: every source keeps its share, newest days first, so a cap cut
 * leaves out the oldest runs of the chattiest function (the watchdog's 24 a day) rather than whole functions.
 * Returns the keys to read in key order and the number left out.
 */
export function keysToRead(listed: readonly { source: WeeklySource; key: string }[], cap: number): { read: string[]; leftOut: number } {
  if (listed.length <= cap) return { read: listed.map((l) => l.key).sort(), leftOut: 0 };
  const bySource = new Map<WeeklySource, string[]>();
  for (const l of listed) (bySource.get(l.source) ?? bySource.set(l.source, []).get(l.source)!).push(l.key);
  for (const keys of bySource.values()) keys.sort().reverse();
  const read: string[] = [];
  // Round robin over the sources, newest first, until the cap.
  for (let i = 0; read.length < cap; i++) {
    let any = false;
    for (const keys of bySource.values()) {
      if (i < keys.length && read.length < cap) {
        read.push(keys[i]!);
        any = true;
      }
    }
    if (!any) break;
  }
  return { read: read.sort(), leftOut: listed.length - read.length };
}

// ---- reading the reports' JSON defensively: a report of an older or newer shape contributes what it has ----

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => typeof x === "object" && x !== null) : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
/** A report of a real run: dry runs changed nothing and are left out of the pictures. */
const real = (r: SavedReport): boolean => r.body.dryRun !== true;
const failedRun = (r: SavedReport): boolean => r.body.status === "failed" || arr(r.body.failures).length > 0;

export interface WeeklyInput {
  week: string;
  reports: readonly SavedReport[];
  owner: Owner;
  primaryRegion: string;
  drRegions: readonly string[];
  /** The backup policies, for the tier a kept backup counts in. */
  policies: readonly BackupPolicy[];
  /** `cost.dailyThreshold` of the configuration. */
  dailyThreshold: number;
  generatedAt: string;
  /** What the runbook listed and read. */
  reading: { listed: number; read: number; leftOut: number; unreadable: readonly string[] };
}

export interface WeeklySummary {
  week: string;
  start: string;
  end: string;
  /** Run reports read per function (dry runs included). */
  runs: Record<WeeklySource, number>;
  /** Runs that failed or reported failed items, per function. */
  failedRuns: Record<WeeklySource, number>;
  backups: { created: number; copied: number; failed: number; missing: number; pruned: number; frozenCells: number };
  /** Watchdog runs that found at least one stale backup, and its alert messages by kind. */
  watchdog: { staleRuns: number; alerts: Record<string, number> };
  warmRuns: number;
  /** Days with a cost figure among the 14 of the chart. */
  costDays: number;
}

export interface WeeklyReport {
  html: DrillHtmlInput;
  summary: WeeklySummary;
}

/**
 * The renderer's input and a summary for one ISO week of saved run reports. Sections without reports say so (the
 * failover keeps its reports in its own bucket, in the DR region, and is not read).
 *
 * @example
 *   const { html, summary } = weeklyReport({ week: "2025-W41", reports, owner, primaryRegion: "eu-west-1", drRegions: ["eu-central-1"], policies, dailyThreshold: 100, generatedAt, reading });
 *   renderDrillHtml(html); // the HTML file
 */
export function weeklyReport(input: WeeklyInput): WeeklyReport {
  const days = weekDays(input.week);
  const inWeek = new Set(days);
  const of = (s: WeeklySource) => input.reports.filter((r) => r.source === s);
  const weekOf = (s: WeeklySource) => of(s).filter((r) => inWeek.has(r.day));
  const runs = Object.fromEntries(WEEKLY_SOURCES.map((s) => [s, weekOf(s).length])) as Record<WeeklySource, number>;
  const failedRuns = Object.fromEntries(WEEKLY_SOURCES.map((s) => [s, weekOf(s).filter(failedRun).length])) as Record<WeeklySource, number>;

  const backup = backupCalendar(input, days);
  const warm = warmPasses(weekOf("warm").filter(real));
  const spend = spendInput(of("cost").filter(real), input.dailyThreshold);
  const watchdog = watchdogSummary(weekOf("watchdog").filter(real));

  const cells = backup?.rows.flatMap((r) => r.cells) ?? [];
  const count = (k: CellKind) => cells.filter((c) => c.kind === k).length;
  const summary: WeeklySummary = {
    week: input.week,
    start: days[0]!,
    end: days[6]!,
    runs,
    failedRuns,
    backups: {
      created: count("created"),
      copied: count("copied"),
      failed: count("failed"),
      missing: count("missing"),
      pruned: cells.reduce((n, c) => n + c.pruned, 0),
      frozenCells: cells.filter((c) => c.frozen).length,
    },
    watchdog,
    warmRuns: weekOf("warm").filter(real).length,
    costDays: spend ? spend.days.length : 0,
  };

  const { listed, read, leftOut, unreadable } = input.reading;
  const facts: [string, string][] = [
    ["Week", `${input.week}: ${days[0]} → ${days[6]} (UTC days)`],
    [
      "Run reports",
      `${read} read of ${listed} listed${leftOut ? `; ${leftOut} left out (over the cap on objects read)` : ""}${unreadable.length ? `; ${unreadable.length} unreadable` : ""}`,
    ],
    ["Runs (failed)", WEEKLY_SOURCES.map((s) => `${s} ${runs[s]}${failedRuns[s] ? ` (${failedRuns[s]})` : ""}`).join(", ")],
    [
      "Backups",
      `${summary.backups.created} created, ${summary.backups.copied} copied, ${summary.backups.failed} failed, ${summary.backups.missing} missing, ${summary.backups.pruned} pruned, ${summary.backups.frozenCells} frozen`,
    ],
    [
      "Watchdog",
      `${watchdog.staleRuns} of ${runs.watchdog} runs found stale backups; alerts: ${
        Object.entries(watchdog.alerts)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ") || "none"
      }`,
    ],
  ];
  if (spend && !spend.byService)
    facts.push(["Spend", "cost run reports keep each day's total and its movers, so the rest of a day is one segment (other services)"]);

  const html: DrillHtmlInput = {
    title: `ops-autopilot weekly report ${input.week} (${input.owner.app}/${input.owner.stage})`,
    generatedAt: input.generatedAt,
    ...(backup ? { backup } : {}),
    ...(warm.length ? { warm } : {}),
    ...(spend ? { spend: spend.input } : {}),
    facts,
    sections: {
      backupTitle: "Backups: the week per resource and region",
      missing: {
        backup: "No backup, copy or prune run reports this week.",
        failover:
          "The failover keeps its run reports in its own state bucket in the DR region, so that it survives a primary outage; this report does not read them (see the failover's Step Functions executions).",
        warm: "No cache warming run this week.",
        spend: "No cost run reports in the 14 days.",
      },
    },
  };
  return { html, summary };
}

/** Names of ours for a resource and day (the first choice and its alternatives, `-2`…). */
function nameMatcher(owner: Owner, resources: readonly string[], days: readonly string[]): (name: string) => { resource: string; day: string } | undefined {
  const bases = new Map<string, { resource: string; day: string }>();
  for (const resource of resources) for (const day of days) bases.set(snapshotName(owner, resource, day), { resource, day });
  return (name) => bases.get(name) ?? bases.get(name.replace(/-\d{1,2}$/, ""));
}

function backupCalendar(input: WeeklyInput, days: readonly string[]): BackupCalendar | undefined {
  const inWeek = new Set(days);
  const week = (s: WeeklySource) => input.reports.filter((r) => r.source === s && inWeek.has(r.day) && real(r));
  const backups = week("backup");
  const copies = week("copy");
  const prunes = week("prune");
  if (!backups.length && !copies.length && !prunes.length) return undefined;

  // Resources in the order the backup runs list them, then any only the prune or the watchdog saw.
  const resources: string[] = [];
  const see = (id: string | undefined) => id && !resources.includes(id) && resources.push(id);
  for (const r of backups) for (const d of arr(r.body.decisions)) see(str(d.resource));
  for (const r of prunes) for (const p of arr(r.body.plans)) see(str(p.resource));
  for (const r of week("watchdog")) for (const f of arr(r.body.findings)) see(str(f.resourceId));
  const match = nameMatcher(input.owner, resources, days);

  // Snapshot ids → (resource, day): RDS ids are our names; EBS ids come from the create and copy results.
  const idDay = new Map<string, { resource: string; day: string }>();
  for (const r of backups)
    for (const x of arr(r.body.results)) {
      const m = match(str(x.name) ?? "");
      const id = /^created (\S+)/.exec(str(x.detail) ?? "")?.[1];
      if (m && id) idDay.set(id, m);
    }
  const copyNames = (r: SavedReport) => new Map(arr(r.body.decisions).map((d) => [`${str(d.source)}|${str(d.region)}`, str(d.name) ?? ""]));
  for (const r of copies) {
    const names = copyNames(r);
    for (const x of arr(r.body.results)) {
      const m = match(names.get(`${str(x.source)}|${str(x.region)}`) ?? "");
      const id = /^copy (\S+) started/.exec(str(x.detail) ?? "")?.[1];
      if (m && id) idDay.set(id, m);
    }
  }
  const dayOfSnapshot = (id: string) => match(id) ?? idDay.get(id);

  const cellsFor = (region: string, resource: string, primary: boolean): CalendarCell[] =>
    days.map((day) => {
      const done = new Set<string>();
      let failed = false;
      if (primary) {
        for (const r of backups.filter((b) => b.day === day)) {
          if (r.body.status === "failed") failed = true;
          for (const x of arr(r.body.results)) {
            if (str(x.resource) !== resource) continue;
            if (x.status === "done" || x.status === "exists") done.add(day);
            if (x.status === "failed") failed = true;
          }
          if (arr(r.body.failures).some((f) => f.item === resource)) failed = true;
          for (const d of arr(r.body.decisions)) if (d.action === "exists" && d.resource === resource) done.add(day);
        }
      } else {
        // A copy of this day's backup, made on the day or a later day of the week.
        for (const r of copies) {
          const names = copyNames(r);
          for (const d of arr(r.body.decisions)) {
            if (str(d.region) !== region || match(str(d.name) ?? "")?.resource !== resource || match(str(d.name) ?? "")?.day !== day) continue;
            if (d.action === "exists") done.add(day);
            if (d.action === "failed") failed = true;
          }
          for (const x of arr(r.body.results)) {
            const m = match(names.get(`${str(x.source)}|${str(x.region)}`) ?? "");
            if (str(x.region) !== region || m?.resource !== resource || m.day !== day) continue;
            if (x.status === "done" || x.status === "exists") done.add(day);
            if (x.status === "failed") failed = true;
          }
        }
      }
      const todays = prunes.filter((p) => p.day === day);
      const plans = todays.flatMap((p) => arr(p.body.plans)).filter((p) => p.region === region && p.resource === resource);
      const deleted = new Set(plans.flatMap((p) => arr(p.delete).map((d) => str(d.id))));
      const pruned = new Set(
        todays
          .flatMap((p) => arr(p.body.results))
          .filter((x) => x.status === "done" && x.region === region && deleted.has(str(x.id)))
          .map((x) => str(x.id)),
      ).size;
      const kind: CellKind = done.has(day) ? (primary ? "created" : "copied") : failed ? "failed" : "missing";
      return { date: day, kind, frozen: plans.some((p) => typeof p.frozen === "string"), pruned };
    });

  // What the week's last prune keeps, by the tier it counts in (monthly over weekly over daily, as the drill counts).
  const lastPrune = prunes.at(-1);
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const tierOf = (day: string, policyName: string | undefined): KeptTier | undefined => {
    const policy = policyName ? policies.get(policyName) : undefined;
    if (!policy) return undefined;
    const tiers = tiersFor(day, policy);
    return tiers.includes("monthly") ? "monthly" : tiers.includes("weekly") ? "weekly" : tiers.includes("daily") ? "daily" : undefined;
  };
  const regions = [input.primaryRegion, ...input.drRegions];
  const rows: CalendarRow[] = regions.flatMap((region) =>
    resources.map((resource) => {
      const primary = region === input.primaryRegion;
      const cells = cellsFor(region, resource, primary);
      const plan = arr(lastPrune?.body.plans).find((p) => p.region === region && p.resource === resource);
      for (const k of arr(plan?.keep)) {
        const d = dayOfSnapshot(str(k.id) ?? "");
        const cell = d?.resource === resource ? cells.find((c) => c.date === d.day) : undefined;
        const tier = cell && tierOf(cell.date, str(plan?.policy));
        if (cell && tier) cell.tier = tier;
      }
      return { region, resource, primary, cells };
    }),
  );
  return { start: days[0]!, end: days[6]!, rows };
}

function watchdogSummary(reports: readonly SavedReport[]): WeeklySummary["watchdog"] {
  const alerts: Record<string, number> = {};
  let staleRuns = 0;
  for (const r of reports) {
    if ((num(r.body.stale) ?? 0) > 0) staleRuns++;
    for (const a of arr(r.body.alerts)) {
      const kind = str(a.kind);
      if (kind && kind !== "hold" && a.delivered !== false) alerts[kind] = (alerts[kind] ?? 0) + 1;
    }
  }
  return { staleRuns, alerts };
}

/**
 * Both passes over every warming run of the week: the histograms added up (same buckets), the hit ratio over all
 * classified responses, the percentiles the highest of any run (an upper bound: percentiles do not add up).
 */
function warmPasses(reports: readonly SavedReport[]): WarmPassInput[] {
  const out: WarmPassInput[] = [];
  for (const pass of ["first", "verify"] as const) {
    const stats = reports.flatMap((r) => arr(r.body.targets)).flatMap((t) => (t[pass] && typeof t[pass] === "object" ? [t[pass] as Obj] : []));
    if (!stats.length) continue;
    let requests = 0;
    let hit = 0;
    let classified = 0;
    const latency = { p50: 0, p95: 0, p99: 0, max: 0 };
    let histogram: { boundsMs: number[]; counts: number[] } | undefined;
    let sameBuckets = true;
    for (const s of stats) {
      requests += num(s.requested) ?? 0;
      const cache = (s.cache ?? {}) as Obj;
      hit += num(cache.hit) ?? 0;
      classified += (num(cache.hit) ?? 0) + (num(cache.miss) ?? 0) + (num(cache.bypass) ?? 0);
      const l = (s.latencyMs ?? {}) as Obj;
      for (const k of ["p50", "p95", "p99", "max"] as const) latency[k] = Math.max(latency[k], num(l[k]) ?? 0);
      const h = s.latencyHistogram as { boundsMs?: unknown; counts?: unknown } | undefined;
      const bounds = Array.isArray(h?.boundsMs) ? (h.boundsMs as number[]) : undefined;
      const counts = Array.isArray(h?.counts) ? (h.counts as number[]) : undefined;
      if (!bounds || !counts) sameBuckets = false;
      else if (!histogram) histogram = { boundsMs: [...bounds], counts: [...counts] };
      else if (JSON.stringify(histogram.boundsMs) === JSON.stringify(bounds)) {
        for (const [i, c] of counts.entries()) histogram.counts[i] = (histogram.counts[i] ?? 0) + c;
      } else sameBuckets = false;
    }
    out.push({
      pass,
      hitRatio: classified ? hit / classified : null,
      requests,
      latencyMs: latency,
      ...(histogram && sameBuckets ? { histogram } : {}),
    });
  }
  return out;
}

/**
 * 14 days of spend from the cost run reports: a report that keeps Cost Explorer's days (`days`) gives them by
 * service; otherwise each report gives its day: the movers by service and the rest as "other services".
 * Month to date and the forecast are the newest report's.
 */
function spendInput(reports: readonly SavedReport[], dailyThreshold: number): { input: SpendInput; days: CostDay[]; byService: boolean } | undefined {
  const summaries = reports
    .map((r) => ({ r, s: r.body.summary as (Partial<CostSummary> & Obj) | undefined }))
    .filter((x): x is { r: SavedReport; s: Partial<CostSummary> & Obj } => !!x.s && typeof x.s.reportDate === "string")
    .sort((a, b) => (a.s.reportDate! < b.s.reportDate! ? -1 : a.s.reportDate! > b.s.reportDate! ? 1 : a.r.key < b.r.key ? -1 : 1));
  const newest = summaries.at(-1);
  if (!newest) return undefined;
  const withDays = [...summaries].reverse().find((x) => Array.isArray(x.r.body.days));
  let days: CostDay[];
  if (withDays) days = withDays.r.body.days as CostDay[];
  else {
    const byDate = new Map<string, CostDay>();
    for (const { s } of summaries) {
      if ((s.missingDays ?? []).includes(s.reportDate!)) continue;
      const total = num(s.total) ?? 0;
      const services: Record<string, number> = {};
      let movers = 0;
      for (const m of arr(s.movers)) {
        const amount = num(m.amount);
        const name = str(m.service);
        if (name && amount !== undefined && amount > 0) {
          services[name] = amount;
          movers += amount;
        }
      }
      const rest = Math.round((total - movers) * 100) / 100;
      if (rest > 0) services["other services"] = rest;
      byDate.set(s.reportDate!, { date: s.reportDate!, estimated: s.estimated === true, services });
    }
    days = [...byDate.values()];
  }
  const s = newest.s;
  const monthToDate = (s.monthToDate ?? {}) as Obj;
  return {
    input: {
      days,
      reportDate: s.reportDate!,
      currency: str(s.currency) ?? "USD",
      dailyThreshold,
      monthToDate: { total: num(monthToDate.total) ?? 0, budget: num(monthToDate.budget) ?? 0 },
      forecast: (s.forecast as CostSummary["forecast"] | undefined) ?? { kind: "unavailable", reason: "not in the run report" },
    },
    days: days.filter((d) => d.date > shift(s.reportDate!, -COST_DAYS) && d.date <= s.reportDate!),
    byService: !!withDays,
  };
}

/**
 * The one run summary for the runs channel, linking the HTML report's S3 console page (core/console-urls.ts) in its
 * blocks and on the second line of its fallback text, which notifications show.
 *
 * @example weeklyMessage(summary, { url, key, stage: "prod", app: "ops-autopilot", bytes, leftOut: 0 }).text
 * // "Weekly report 2025-W41: 35 backups created, 35 copied, 0 failed; 2 failed runs\n<https://s3.console.aws.amazon.com/…|Open the weekly report>"
 */
export function weeklyMessage(
  summary: WeeklySummary,
  meta: { app: string; stage: string; key: string; url: string; bytes: number; leftOut: number },
): SlackMessage {
  const failed = Object.values(summary.failedRuns).reduce((a, b) => a + b, 0);
  const b = summary.backups;
  const link = `<${meta.url}|Open the weekly report>`;
  const text = `Weekly report ${summary.week}: ${b.created} backups created, ${b.copied} copied, ${b.failed} failed; ${failed} failed run${failed === 1 ? "" : "s"}\n${link}`;
  const alerts = Object.entries(summary.watchdog.alerts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  return {
    text,
    blocks: [
      header(`Weekly report ${summary.week} · ${meta.app}/${meta.stage}`),
      fields([
        ["Week", `${summary.start} → ${summary.end}`],
        ["Backups", `${b.created} created, ${b.copied} copied, ${b.failed} failed, ${b.pruned} pruned`],
        ["Failed runs", String(failed)],
        ["Watchdog alerts", alerts || "none"],
      ]),
      section(`${link} (\`${meta.key}\`, ${Math.round(meta.bytes / 1024)} KB)`),
      ...(meta.leftOut ? [context(`${meta.leftOut} run report(s) left out: over the cap on objects read.`)] : []),
    ],
  };
}
