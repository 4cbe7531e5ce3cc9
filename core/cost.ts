import type { Decision } from "./types.ts";
import type { CostAccountsConfig, CostConfig } from "../schemas/config-cost.ts";

/**
 * Cost findings from a daily per-service cost series: pure, no AWS, `now` always a parameter.
 *
 * Days are Cost Explorer's UTC days (`yyyy-mm-dd`). The reported day is the last complete one: the
 * current day is always partial in Cost Explorer and counting it is how other notifiers post numbers
 * that are wrong or shrink later (iandees/aws-billing-to-slack#13).
 */

/** One complete UTC day of spend, per service, in the configured metric (in the billing currency). */
export interface CostDay {
  date: string;
  /** Cost Explorer marks days whose figures are still provisional. */
  estimated: boolean;
  services: Record<string, number>;
  /**
   * The day's spend per linked account id, when the run groups by account (`cost.accounts.byAccount`); absent when
   * it does not, or when Cost Explorer's answer by account lacked the day.
   */
  accounts?: Record<string, number>;
}

/** AWS's month-end forecast as the adapter obtained it. */
export type ForecastInput =
  /** GetCostForecast for the rest of the month, today included (month-to-date ends yesterday). */
  | { kind: "forecast"; remaining: number }
  /** The reported day is the month's last: month-to-date is the month. */
  | { kind: "month-complete" }
  /** No forecast (new account without enough history, the call failed, or it was not made). */
  | { kind: "unavailable"; reason: string };

export interface CostInput {
  /**
   * Complete days, any order: the window and the month to date ({@link costPeriod}), the reported day
   * included. A day Cost Explorer did not answer for is simply absent: it is named in `missingDays`.
   */
  days: CostDay[];
  reportDate: string;
  forecast: ForecastInput;
  /** ISO 4217 code of the amounts (Cost Explorer's `Unit`); default USD. */
  currency?: string;
  /** Account names Cost Explorer gave (its `DimensionValueAttributes` descriptions), by account id. */
  accountNames?: Readonly<Record<string, string>>;
}

export type CostFindingKind = "daily-total" | "forecast" | "spike" | "new-service" | "account-daily";

/**
 * A finding: `alert` ones are alert incidents too (kinds in `config.immediateAlerts`; core/cost-alerts.ts),
 * `report` ones appear in the digest only. `id` is stable for a kind and target, so the same
 * finding on the same day is recognised across runs.
 */
export interface CostFinding extends Decision<"alert" | "report", string> {
  id: string;
  kind: CostFindingKind;
  /** The observed figure (or the projection for `forecast`), in the summary's currency. */
  value: number;
  /** The figure it was compared with, in the summary's currency. */
  threshold: number;
  /** The linked account's name (`account-daily`): Cost Explorer's, else the configured one, else the id. */
  name?: string;
}

export interface CostMover {
  service: string;
  amount: number;
  /** Trailing median the change is measured against. */
  baseline: number;
  change: number;
  /** `null` when the baseline is zero. */
  percent: number | null;
}

export interface CostSummary {
  reportDate: string;
  /** ISO 4217 code of every amount here (Cost Explorer's `Unit`). */
  currency: string;
  /** 0 when the reported day is missing (see `missingDays`). */
  total: number;
  estimated: boolean;
  /** The same weekday a week earlier, when it is in the data. */
  lastWeek: { date: string; total: number; change: number; percent: number | null } | null;
  monthToDate: {
    from: string;
    total: number;
    budget: number;
    percentOfBudget: number;
    /** Days of the month up to the reported day that were missing from the data (0 when complete). */
    daysMissing: number;
  };
  forecast: { kind: "projected"; monthEnd: number; percentOfBudget: number; monthComplete: boolean } | { kind: "unavailable"; reason: string };
  movers: CostMover[];
  services: number;
  /**
   * Days of the period ({@link costPeriod}) absent from Cost Explorer's answer, oldest first; the reported
   * day among them means its spend, spikes and new services could not be judged.
   */
  missingDays: string[];
  /** Spend by linked account (`cost.accounts.byAccount`); absent when the run does not group by account. */
  accounts?: AccountsSummary;
}

/** One linked account's reported day, with its change from the day before. */
export interface AccountSpend {
  id: string;
  /** Cost Explorer's name for it, else the configured one, else the id. */
  name: string;
  amount: number;
  /** The day before, when Cost Explorer answered for it by account. */
  previous: { date: string; amount: number; change: number; percent: number | null } | null;
}

export interface AccountsSummary {
  /** False when Cost Explorer's answer by account lacked the reported day: no account could be judged. */
  judged: boolean;
  /** Accounts with spend on the reported day. */
  count: number;
  /** The `cost.accounts.top` largest spenders of the reported day, largest first (ties by id). */
  top: AccountSpend[];
}

/** Spend below this counts as none (Cost Explorer returns zero-ish residues like 0.0000001). */
const NEGLIGIBLE = 0.005;

/**
 * Find what the runbook cares about in a cost series, with a reason for each finding.
 *
 * - daily total over `dailyThreshold`;
 * - month-to-date plus AWS's forecast for the rest of the month over `monthlyBudget` (with % used);
 * - per service: the day over `spike.ratio` × its median over the `spike.trailingDays` before it
 *   and at least `spike.minIncrease` dollars above that median;
 * - services with no spend on any earlier day that spend at least `newService.minDaily`.
 *
 * @example
 *   const { summary, findings } = analyzeCosts({ days, reportDate: "2025-03-09", forecast: { kind: "forecast", remaining: 9000 } }, config.cost);
 *   // findings[0] → { action: "alert", kind: "spike", target: "Amazon EC2", reason: "Amazon EC2: $300.00 on 2025-03-09, 3.0× its 7-day median of $100.00 (+$200.00) …" }
 */
export function analyzeCosts(input: CostInput, config: CostConfig): { summary: CostSummary; findings: CostFinding[] } {
  const currency = input.currency ?? "USD";
  const money = (amount: number): string => formatMoney(amount, currency);
  const byDate = new Map(input.days.map((d) => [d.date, d]));
  const period = costPeriod(input.reportDate, config.windowDays);
  const missingDays: string[] = [];
  for (let d = period.start; d < period.end; d = addDays(d, 1)) if (!byDate.has(d)) missingDays.push(d);
  // A missing reported day is reported (missingDays), not guessed: nothing is judged on it.
  const day = byDate.get(input.reportDate);

  const total = day ? sumServices(day) : 0;
  const findings: CostFinding[] = [];
  const action = (kind: CostFindingKind): "alert" | "report" => (config.immediateAlerts.includes(kind) ? "alert" : "report");

  if (day && total > config.dailyThreshold) {
    findings.push({
      id: "daily-total:account",
      kind: "daily-total",
      action: action("daily-total"),
      target: "account",
      value: total,
      threshold: config.dailyThreshold,
      reason: `Spend on ${input.reportDate} was ${money(total)}, over the ${money(config.dailyThreshold)} daily threshold${day.estimated ? " (estimated by AWS, may still change)" : ""}.`,
    });
  }

  const accounts = config.accounts?.byAccount ? accountsOf(input, config.accounts, day) : undefined;
  if (accounts && config.accounts) {
    for (const a of accountThresholdBreaches(day?.accounts ?? {}, config.accounts, accounts.names)) {
      findings.push({
        id: `account-daily:${a.id}`,
        kind: "account-daily",
        action: action("account-daily"),
        target: a.id,
        name: a.name,
        value: a.amount,
        threshold: a.threshold,
        reason: `Account ${accountLabel(a.id, a.name)} spent ${money(a.amount)} on ${input.reportDate}, over its ${money(a.threshold)} daily threshold${day?.estimated ? " (estimated by AWS, may still change)" : ""}.`,
      });
    }
  }

  const monthToDate = monthToDateOf(byDate, input.reportDate, config.monthlyBudget);
  const forecast = projectMonth(input.forecast, monthToDate.total, config.monthlyBudget);
  const projected = forecast.kind === "projected" ? forecast.monthEnd : monthToDate.total;
  if (projected > config.monthlyBudget) {
    const basis =
      forecast.kind === "projected"
        ? forecast.monthComplete
          ? `The month ended at ${money(projected)}`
          : `The month-end projection is ${money(projected)} (month to date ${money(monthToDate.total)} plus AWS's forecast for the rest)`
        : `Month to date is already ${money(monthToDate.total)}`;
    findings.push({
      id: "forecast:account",
      kind: "forecast",
      action: action("forecast"),
      target: "account",
      value: projected,
      threshold: config.monthlyBudget,
      reason: `${basis}: ${pct((projected / config.monthlyBudget) * 100)} of the ${money(config.monthlyBudget)} monthly budget; ${pct(monthToDate.percentOfBudget)} used so far.`,
    });
  }

  const stats = serviceStats(input.days, input.reportDate, config.spike.trailingDays);
  for (const s of stats.filter((s) => s.isNew && s.amount >= config.newService.minDaily).sort(byAmountDesc)) {
    findings.push({
      id: `new-service:${s.service}`,
      kind: "new-service",
      action: action("new-service"),
      target: s.service,
      value: s.amount,
      threshold: config.newService.minDaily,
      reason: `${s.service} is new: ${money(s.amount)} on ${input.reportDate} and nothing on the ${s.history} day(s) before it.`,
    });
  }
  for (const s of stats.filter((s) => isSpike(s, config.spike)).sort((a, b) => b.amount - b.median - (a.amount - a.median))) {
    findings.push({
      id: `spike:${s.service}`,
      kind: "spike",
      action: action("spike"),
      target: s.service,
      value: s.amount,
      threshold: s.median * config.spike.ratio,
      reason:
        `${s.service}: ${money(s.amount)} on ${input.reportDate}, ` +
        (s.median > 0
          ? `${ratioText(s.amount / s.median)} its ${config.spike.trailingDays}-day median of ${money(s.median)}`
          : `against a ${config.spike.trailingDays}-day median of ${money(0)}`) +
        ` (+${money(s.amount - s.median)}; alert above ${ratioText(config.spike.ratio)} and +${money(config.spike.minIncrease)}).`,
    });
  }

  const lastWeekDate = addDays(input.reportDate, -7);
  const lastWeekDay = byDate.get(lastWeekDate);
  const lastWeek =
    day && lastWeekDay
      ? (() => {
          const before = sumServices(lastWeekDay);
          return { date: lastWeekDate, total: before, change: total - before, percent: before > 0 ? ((total - before) / before) * 100 : null };
        })()
      : null;

  const movers = stats
    .map((s) => ({
      service: s.service,
      amount: s.amount,
      baseline: s.median,
      change: s.amount - s.median,
      percent: s.median > 0 ? ((s.amount - s.median) / s.median) * 100 : null,
    }))
    .filter((m) => Math.abs(m.change) >= 0.01)
    .sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.service.localeCompare(b.service))
    .slice(0, config.topMovers);

  return {
    summary: {
      reportDate: input.reportDate,
      currency,
      total,
      estimated: day?.estimated ?? false,
      lastWeek,
      monthToDate,
      forecast,
      movers,
      services: day ? Object.values(day.services).filter((v) => Math.abs(v) >= NEGLIGIBLE).length : 0,
      missingDays,
      ...(accounts ? { accounts: accounts.summary } : {}),
    },
    findings,
  };
}

/**
 * An account's name for the digest: Cost Explorer's (the `description` attribute of the LINKED_ACCOUNT value, its
 * AWS Organizations name), else the one configured in `cost.accounts.linked`, else the id itself.
 *
 * @example
 *   accountName("111122223333", { "111122223333": "prod" }, config.cost.accounts) // "prod"
 */
export function accountName(id: string, fromCostExplorer: Readonly<Record<string, string>> | undefined, config: CostAccountsConfig | undefined): string {
  const ce = fromCostExplorer?.[id]?.trim();
  if (ce) return ce;
  return config?.linked.find((a) => a.id === id)?.name ?? id;
}

/** "prod (111122223333)", or the id alone when it has no name. */
export function accountLabel(id: string, name: string): string {
  return name === id ? id : `${name} (${id})`;
}

/**
 * The accounts over their daily threshold on a day (their own in `linked`, else `accounts.dailyThreshold`), sorted by
 * id so a run's findings and incidents come in a stable order.
 *
 * @example
 *   accountThresholdBreaches({ "111122223333": 320 }, { byAccount: true, top: 5, linked: [{ id: "111122223333", dailyThreshold: 300 }] }, new Map())
 *   // [{ id: "111122223333", name: "111122223333", amount: 320, threshold: 300 }]
 */
export function accountThresholdBreaches(
  spend: Readonly<Record<string, number>>,
  config: CostAccountsConfig,
  names: ReadonlyMap<string, string>,
): { id: string; name: string; amount: number; threshold: number }[] {
  const out: { id: string; name: string; amount: number; threshold: number }[] = [];
  for (const id of Object.keys(spend).sort()) {
    const threshold = config.linked.find((a) => a.id === id)?.dailyThreshold ?? config.dailyThreshold;
    const amount = spend[id] ?? 0;
    if (threshold !== undefined && amount > threshold) out.push({ id, name: names.get(id) ?? id, amount, threshold });
  }
  return out;
}

function accountsOf(input: CostInput, config: CostAccountsConfig, day: CostDay | undefined): { summary: AccountsSummary; names: Map<string, string> } {
  const before = input.days.find((d) => d.date === addDays(input.reportDate, -1));
  const spend = day?.accounts ?? {};
  const ids = Object.keys(spend).filter((id) => Math.abs(spend[id] ?? 0) >= NEGLIGIBLE);
  const names = new Map([...Object.keys(spend), ...config.linked.map((a) => a.id)].map((id) => [id, accountName(id, input.accountNames, config)]));
  const top = ids
    .map((id): AccountSpend => {
      const amount = spend[id] ?? 0;
      const prior = before?.accounts ? (before.accounts[id] ?? 0) : undefined;
      return {
        id,
        name: names.get(id) ?? id,
        amount,
        previous:
          prior === undefined || !before
            ? null
            : { date: before.date, amount: prior, change: amount - prior, percent: prior > 0 ? ((amount - prior) / prior) * 100 : null },
      };
    })
    .sort((a, b) => b.amount - a.amount || a.id.localeCompare(b.id))
    .slice(0, config.top);
  return { summary: { judged: day?.accounts !== undefined, count: ids.length, top }, names };
}

interface ServiceStat {
  service: string;
  amount: number;
  median: number;
  /** No positive spend on any earlier day of the data, and at least one earlier day to tell. */
  isNew: boolean;
  /** Earlier days the new-service verdict is based on. */
  history: number;
}

function serviceStats(days: CostDay[], reportDate: string, trailingDays: number): ServiceStat[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const day = byDate.get(reportDate);
  if (!day) return [];
  const earlier = days.filter((d) => d.date < reportDate);
  const trailing: CostDay[] = [];
  for (let i = 1; i <= trailingDays; i++) {
    const d = byDate.get(addDays(reportDate, -i));
    if (d) trailing.push(d);
  }
  const names = new Set([...Object.keys(day.services), ...trailing.flatMap((d) => Object.keys(d.services))]);
  return [...names].sort().map((service) => {
    const amount = day.services[service] ?? 0;
    return {
      service,
      amount,
      // A day in the data without the service is a day it cost nothing.
      median: median(trailing.map((d) => d.services[service] ?? 0)),
      // Strictly no positive spend before: a dollar epsilon here would make the verdict depend on
      // the currency unit (found by the scaling property test); a trace of history means "spike" instead.
      isNew: earlier.length > 0 && earlier.every((d) => (d.services[service] ?? 0) <= 0),
      history: earlier.length,
    };
  });
}

function isSpike(s: ServiceStat, spike: CostConfig["spike"]): boolean {
  return !s.isNew && s.amount > 0 && s.amount > spike.ratio * s.median && s.amount - s.median >= spike.minIncrease;
}

/**
 * The services that spike on `reportDate` (see {@link analyzeCosts}), sorted by name.
 *
 * @example
 *   spikingServices(days, "2025-03-09", { ratio: 1.5, minIncrease: 20, trailingDays: 7 }) // ["Amazon EC2"]
 */
export function spikingServices(days: CostDay[], reportDate: string, spike: CostConfig["spike"]): string[] {
  return serviceStats(days, reportDate, spike.trailingDays)
    .filter((s) => isSpike(s, spike))
    .map((s) => s.service);
}

function monthToDateOf(byDate: Map<string, CostDay>, reportDate: string, budget: number): CostSummary["monthToDate"] {
  const from = monthStart(reportDate);
  let total = 0;
  let daysMissing = 0;
  for (let d = from; d <= reportDate; d = addDays(d, 1)) {
    const day = byDate.get(d);
    if (day) total += sumServices(day);
    else daysMissing++;
  }
  return { from, total, budget, percentOfBudget: (total / budget) * 100, daysMissing };
}

function projectMonth(forecast: ForecastInput, monthToDate: number, budget: number): CostSummary["forecast"] {
  if (forecast.kind === "unavailable") return { kind: "unavailable", reason: forecast.reason };
  const monthEnd = forecast.kind === "forecast" ? monthToDate + forecast.remaining : monthToDate;
  return { kind: "projected", monthEnd, percentOfBudget: (monthEnd / budget) * 100, monthComplete: forecast.kind === "month-complete" };
}

/**
 * One service's spend on `reportDate` and its median over the `trailingDays` before it (what a spike is judged on),
 * or undefined when the day is not in the data.
 *
 * @example
 *   serviceSpend(days, "2025-03-09", "Amazon EC2", 7) // { amount: 100, median: 100 }
 */
export function serviceSpend(days: CostDay[], reportDate: string, service: string, trailingDays: number): { amount: number; median: number } | undefined {
  const s = serviceStats(days, reportDate, trailingDays).find((x) => x.service === service);
  if (s) return { amount: s.amount, median: s.median };
  return days.some((d) => d.date === reportDate) ? { amount: 0, median: 0 } : undefined;
}

/**
 * The days a digest covers, End exclusive: from the earlier of the window start and the 1st of the month to
 * the reported day. One GetCostAndUsage query over it gives the trailing window, the week-ago comparison and
 * the month to date.
 *
 * @example
 *   costPeriod("2025-03-03", 14) // { start: "2025-02-18", end: "2025-03-04" }
 */
export function costPeriod(reportDate: string, windowDays: number): { start: string; end: string } {
  const windowStart = addDays(reportDate, 1 - windowDays);
  const mStart = monthStart(reportDate);
  // biome-ignore lint/complexity/useMathMinMax: ISO dates, compared as strings
  return { start: windowStart < mStart ? windowStart : mStart, end: addDays(reportDate, 1) };
}

/**
 * The day a run at `now` reports on: the last complete UTC day (Cost Explorer's days are UTC and
 * the current one is still accumulating).
 *
 * @example
 *   reportDateFor(new Date("2025-03-10T08:00:00Z")) // "2025-03-09"
 */
export function reportDateFor(now: Date): string {
  return addDays(now.toISOString().slice(0, 10), -1);
}

/** Median of a list of numbers; 0 for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sumServices(day: CostDay): number {
  return Object.values(day.services).reduce((a, b) => a + b, 0);
}

/** `yyyy-mm-dd` plus `n` days (UTC). */
export function addDays(date: string, n: number): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(t)) throw new Error(`not a date: ${date}`);
  return new Date(t + n * 86_400_000).toISOString().slice(0, 10);
}

export function monthStart(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

export function nextMonthStart(date: string): string {
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
}

const byAmountDesc = (a: ServiceStat, b: ServiceStat): number => b.amount - a.amount || a.service.localeCompare(b.service);

const formats = new Map<string, Intl.NumberFormat | null>();
/**
 * An amount in its currency: `$1,234.56`, `€1,234.56`, `¥1,235` (Intl knows each currency's decimals);
 * negative as `-$3.00`. A unit that is no ISO 4217 code is written after the number: `12.50 credits`.
 *
 * @example
 *   formatMoney(1234.5, "EUR") // "€1,234.50"
 */
export function formatMoney(amount: number, currency = "USD"): string {
  const value = Math.abs(amount) < 0.005 ? 0 : amount;
  let format = formats.get(currency);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat("en-US", { style: "currency", currency });
    } catch {
      // RangeError: not a well-formed currency code.
      format = null;
    }
    formats.set(currency, format);
  }
  return format ? format.format(value) : `${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

/** {@link formatMoney} in US dollars. */
export function money(amount: number): string {
  return formatMoney(amount, "USD");
}
function pct(value: number): string {
  return `${value.toFixed(value >= 10 || value <= -10 ? 0 : 1)}%`;
}
function ratioText(r: number): string {
  return `${r.toFixed(1)}×`;
}
