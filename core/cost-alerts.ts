/**
 * Cost findings as alert-lifecycle conditions (core/alert-lifecycle.ts): one incident per finding that lasts, so a
 * spike that holds for three mornings is one alert, a line in each digest while it lasts, and one "resolved".
 *
 * Keys, and why:
 * - `cost:daily`: the account's daily total over `cost.dailyThreshold`. One key for the account: consecutive
 *   expensive days are one incident, whatever drives them (the spikes name the services).
 * - `cost:forecast:<yyyy-mm>`: the month-end projection over `cost.monthlyBudget`. The budget is per month, so the
 *   month is part of the key: next month's overrun is a new incident, and last month's ends when its month does
 *   instead of running on into a month that may be within budget.
 * - `cost:spike:<service>`: one per service, because two services spiking are two causes with two owners; a
 *   service's spike ends when its day is no longer over `spike.ratio` × its trailing median (a spend that stays at
 *   the new level becomes the median after about half the trailing window, and the spike ends then: that is a new
 *   level, which the daily total and the forecast keep watching).
 * - `cost:new-service:<service>`: an event, not a state: it starts once and ends silently the next day, when the
 *   service is no longer new.
 * - `cost:account:<account id>`: a linked account's day over its threshold (`cost.accounts`), one per account: in a
 *   payer account, two accounts over their thresholds are two teams to tell, and one account's incident ends when
 *   its own day is back under its threshold, whatever the others do.
 *
 * What cannot be judged is not "ended": on a morning Cost Explorer did not answer for the reported day, the open
 * daily-total, spike and account incidents hold as they were (the account ones also when only the answer by account
 * lacked the day); with the forecast unavailable, the month's open forecast incident holds.
 */
import type { AlertLifecycleState, Condition } from "./alert-lifecycle.ts";
import type { CostFinding, CostFindingKind, CostSummary } from "./cost.ts";

/** What a cost incident carries between runs: the finding as last seen, and the first day it was seen on. */
export interface CostIncidentDetail {
  kind: CostFindingKind;
  /** "account", a service name, or a linked account id (`account-daily`). */
  target: string;
  /** The linked account's name as the digest shows it (`account-daily` only). */
  name?: string;
  /** The first reported day the finding held on. */
  since: string;
  /** The reported day it was last judged on. */
  reportDate: string;
  value: number;
  threshold: number;
  currency: string;
  reason: string;
  /** True when this run could not judge it (no data for the day, no forecast) and it holds as last seen. */
  carried?: boolean;
}

/** The key of a finding's incident (see the module comment). */
export function costKey(f: Pick<CostFinding, "kind" | "target">, reportDate: string): string {
  switch (f.kind) {
    case "daily-total":
      return "cost:daily";
    case "forecast":
      return `cost:forecast:${reportDate.slice(0, 7)}`;
    case "spike":
      return `cost:spike:${f.target}`;
    case "new-service":
      return `cost:new-service:${f.target}`;
    case "account-daily":
      return `cost:account:${f.target}`;
  }
}

/** True for a key whose end is worth a "resolved" message (a new service's end is only that it is known now). */
export function costKeyResolves(key: string): boolean {
  return !key.startsWith("cost:new-service:");
}

/**
 * The conditions that hold on `summary.reportDate`: every `alert` finding (kinds in `cost.immediateAlerts`), plus the
 * open incidents this run cannot judge, carried as they were last seen.
 *
 * @example
 *   costConditions([{ kind: "spike", target: "Amazon EC2", action: "alert", ... }], summary, emptyAlertState())
 *   // → [{ key: "cost:spike:Amazon EC2", detail: { kind: "spike", target: "Amazon EC2", since: "2026-11-05", ... } }]
 */
export function costConditions(
  findings: readonly CostFinding[],
  summary: CostSummary,
  open: AlertLifecycleState<CostIncidentDetail>,
): Condition<CostIncidentDetail>[] {
  const date = summary.reportDate;
  const out = new Map<string, CostIncidentDetail>();
  for (const f of findings) {
    if (f.action !== "alert") continue;
    const key = costKey(f, date);
    out.set(key, {
      kind: f.kind,
      target: f.target,
      ...(f.name && f.name !== f.target ? { name: f.name } : {}),
      since: open.incidents[key]?.detail.since ?? date,
      reportDate: date,
      value: f.value,
      threshold: f.threshold,
      currency: summary.currency,
      reason: f.reason,
    });
  }
  const dayUnknown = summary.missingDays.includes(date);
  const forecastUnknown = summary.forecast.kind === "unavailable";
  // No answer by account for the day: an open account incident cannot be judged either way. (With grouping turned
  // off, `summary.accounts` is absent and the account incidents end: nothing watches them any more.)
  const accountsUnknown = dayUnknown || summary.accounts?.judged === false;
  for (const [key, incident] of Object.entries(open.incidents)) {
    if (out.has(key)) continue;
    const { kind } = incident.detail;
    const unknown =
      (dayUnknown && (kind === "daily-total" || kind === "spike")) ||
      (accountsUnknown && kind === "account-daily") ||
      (forecastUnknown && kind === "forecast" && key === `cost:forecast:${date.slice(0, 7)}`);
    if (unknown) out.set(key, { ...incident.detail, carried: true });
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, detail]) => ({ key, detail }));
}

/** Reported days from `since` to `date`, both counted: "day 3" of an incident seen on three mornings. */
export function incidentDay(since: string, date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / 86_400_000) + 1;
}
