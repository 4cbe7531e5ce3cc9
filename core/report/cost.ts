import type { CostConfig } from "../../schemas/config-cost.ts";
import {
  accountLabel,
  addDays,
  analyzeCosts,
  formatMoney,
  monthStart,
  reportDateFor,
  serviceSpend,
  type CostDay,
  type CostFinding,
  type CostSummary,
  type ForecastInput,
} from "../cost.ts";
import { decideAlerts, emptyAlertState, HOUR_MS, type AlertDecision, type AlertLifecycleState } from "../alert-lifecycle.ts";
import { costConditions, costKey, costKeyResolves, incidentDay, type CostIncidentDetail } from "../cost-alerts.ts";
import { context, divider, fields, header, section, type SlackMessage } from "./blocks.ts";
import { sparkline } from "./text.ts";

/**
 * Every Slack message of the cost alerts: the daily digest, the alert when cost incidents start and the message
 * when they end (core/cost-alerts.ts). Nothing else formats cost messages; the handler and the drill only pass
 * these along.
 *
 * While an incident lasts, its reminder is a line in the morning digest, not a message of its own: the digest goes
 * to the same channel at the same time every morning, so a separate reminder would be the same news twice a day,
 * and the digest cannot be missed by anyone who reads the channel at all.
 */

export interface CostReportMeta {
  config: CostConfig;
  /** Cost Explorer requests the run made ($0.01 each). */
  apiCalls: number;
  /** Each service's daily spend over the window, for the sparklines ({@link spendTrends}); none shown when absent. */
  trends?: ServiceTrend[];
  /** The alert lifecycle's decisions of this run: each finding says whether it is new or open since when. */
  incidents?: readonly AlertDecision<CostIncidentDetail>[];
}

/** One service's daily spend over the window, oldest first; `null` for a day missing from Cost Explorer's answer. */
export interface ServiceTrend {
  service: string;
  amounts: (number | null)[];
  total: number;
}

/** Services drawn as sparklines in the digest: the largest spenders of the window. */
export const TREND_SERVICES = 6;

/**
 * The `windowDays` days ending on `reportDate`, per service, largest window spend first (at most `top`).
 * A day Cost Explorer returned without a line for a service is $0 for it; a day it did not return is `null`.
 */
export function spendTrends(days: readonly CostDay[], reportDate: string, windowDays: number, top = TREND_SERVICES): ServiceTrend[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const dates = Array.from({ length: windowDays }, (_, i) => addDays(reportDate, i + 1 - windowDays));
  const services = new Set(dates.flatMap((d) => Object.keys(byDate.get(d)?.services ?? {})));
  return [...services]
    .map((service) => {
      const amounts = dates.map((d) => {
        const day = byDate.get(d);
        return day ? (day.services[service] ?? 0) : null;
      });
      return { service, amounts, total: amounts.reduce<number>((a, v) => a + (v ?? 0), 0) };
    })
    .filter((t) => t.total >= 0.005)
    .sort((a, b) => b.total - a.total || (a.service < b.service ? -1 : 1))
    .slice(0, top);
}

/**
 * The daily digest: total and change vs the same weekday last week, month to date and forecast vs
 * budget, findings, top movers, links to Cost Explorer.
 *
 * @example
 *   const message = renderCostDigest(summary, findings, { config: config.cost, apiCalls: 2 });
 */
export function renderCostDigest(summary: CostSummary, findings: CostFinding[], meta: CostReportMeta): SlackMessage {
  const { config } = meta;
  const d = summary.reportDate;
  const money = (amount: number): string => formatMoney(amount, summary.currency);
  const signedMoney = (amount: number): string => (amount >= 0.005 ? `+${money(amount)}` : money(amount));
  const dayMissing = summary.missingDays.includes(d);
  const otherMissing = summary.missingDays.filter((m) => m !== d);
  const lastWeek = summary.lastWeek
    ? `${signedMoney(summary.lastWeek.change)}${summary.lastWeek.percent === null ? "" : ` (${signedPct(summary.lastWeek.percent)})`} vs ${money(summary.lastWeek.total)}`
    : dayMissing
      ? "—"
      : "no data for that day";
  const mtd = summary.monthToDate;
  const forecast =
    summary.forecast.kind === "projected"
      ? `${money(summary.forecast.monthEnd)} · ${pct(summary.forecast.percentOfBudget)} of budget${summary.forecast.monthComplete ? " (month complete)" : ""}${summary.forecast.monthEnd > config.monthlyBudget ? " :warning:" : ""}`
      : `unavailable (${escapeMrkdwn(summary.forecast.reason)})`;

  const gaps = [
    ...(dayMissing ? [`:grey_question: No Cost Explorer data for ${d} (the reported day): its spend, spikes and new services cannot be judged.`] : []),
    ...(otherMissing.length ? [`:grey_question: No Cost Explorer data for ${otherMissing.join(", ")}: month to date and medians leave them out.`] : []),
  ];
  const incidents = new Map((meta.incidents ?? []).map((i) => [i.key, i]));
  const findingLine = (f: CostFinding): string => {
    const incident = incidents.get(costKey(f, d));
    if (f.action !== "alert" || !incident) return `${f.action === "alert" ? ":rotating_light:" : ":warning:"} ${escapeMrkdwn(f.reason)}`;
    if (incident.kind === "started") return `:rotating_light: ${escapeMrkdwn(f.reason)} _(new: alert sent)_`;
    return `${incident.kind === "reminder" ? ":alarm_clock:" : ":rotating_light:"} ${escapeMrkdwn(f.reason)} _(${openSince(incident.incident.detail, d)})_`;
  };
  const carried = (meta.incidents ?? [])
    .filter((i) => i.kind !== "resolved" && i.incident.detail.carried)
    .map((i) => `:grey_question: Not judged today, still open: ${escapeMrkdwn(i.incident.detail.reason)} _(${openSince(i.incident.detail, d)})_`);
  const ended = (meta.incidents ?? [])
    .filter((i) => i.kind === "resolved" && costKeyResolves(i.key))
    .map((i) => `:white_check_mark: Ended: ${escapeMrkdwn(incidentLabel(i.incident.detail))}, open ${spanOf(i.incident.detail)}`);
  const findingLines = [
    ...gaps,
    ...(findings.length
      ? findings.map(findingLine)
      : dayMissing
        ? []
        : [`:white_check_mark: No findings: under ${money(config.dailyThreshold)}/day, within budget, no spike or new service.`]),
    ...carried,
    ...ended,
  ].join("\n");
  const moverLines = summary.movers.length
    ? summary.movers
        .map(
          (m) =>
            `• ${escapeMrkdwn(m.service)}: ${money(m.amount)} (${signedMoney(m.change)}${m.percent === null ? ", new spend" : `, ${signedPct(m.percent)}`})`,
        )
        .join("\n")
    : dayMissing
      ? "No data for the day."
      : "No service moved by a cent.";

  const accountsSection = summary.accounts ? [section(topAccountsText(summary, money, signedMoney))] : [];

  const trendLines = (meta.trends ?? []).map((t) => {
    const known = t.amounts.filter((v): v is number => v !== null);
    const lo = Math.min(...known);
    const hi = Math.max(...known);
    const range = money(lo) === money(hi) ? money(hi) : `${money(lo)}–${money(hi)}`;
    return `\`${sparkline(t.amounts)}\` ${escapeMrkdwn(t.service)} · ${range}`;
  });

  const notes = [
    ...(summary.estimated ? [`:hourglass: Figures for ${d} are still estimated by AWS and may change.`] : []),
    `${config.metric}, UTC days, excluding ${config.excludeRecordTypes.join(", ")} · ${meta.apiCalls} Cost Explorer call(s) ($${(meta.apiCalls * 0.01).toFixed(2)})`,
    costLinks(config, d)
      .map((l) => `<${l.url}|${l.label}>`)
      .join(" · "),
  ];

  const change = summary.lastWeek?.percent != null ? ` (${signedPct(summary.lastWeek.percent)} vs last week)` : "";
  return {
    text: `AWS cost ${d}: ${dayMissing ? "no Cost Explorer data for the day" : `${money(summary.total)}${change}`}; ${findings.length} finding(s)`,
    blocks: [
      header(`AWS cost digest · ${d}`),
      fields([
        [`Spend on ${d}`, dayMissing ? "no data" : `${money(summary.total)}${summary.estimated ? " _(estimated)_" : ""}`],
        [`vs ${summary.lastWeek?.date ?? addDays(d, -7)}`, lastWeek],
        [`Month to date (from ${mtd.from})`, `${money(mtd.total)} · ${pct(mtd.percentOfBudget)} of ${money(mtd.budget)}`],
        ["Month-end forecast", forecast],
      ]),
      section(`*Findings*\n${findingLines}`),
      ...accountsSection,
      section(`*Top movers* (vs ${config.spike.trailingDays}-day median)\n${moverLines}`),
      ...(trendLines.length
        ? [
            section(
              `*Last ${config.windowDays} days by service* (${addDays(d, 1 - config.windowDays)} → ${d}; each line scaled to its own range)\n${trendLines.join("\n")}`,
            ),
          ]
        : []),
      divider(),
      context(notes.join("\n")),
    ],
  };
}

/**
 * The digest's "Top accounts" block: the largest spenders of the reported day with their names and the change from the
 * day before, or why there are none.
 */
function topAccountsText(summary: CostSummary, money: (n: number) => string, signedMoney: (n: number) => string): string {
  const accounts = summary.accounts;
  if (!accounts) return "";
  const d = summary.reportDate;
  const title = `*Top accounts* (${accounts.top.length} of ${accounts.count} with spend on ${d}; change vs ${addDays(d, -1)})`;
  if (!accounts.judged) return `*Top accounts*\n:grey_question: No Cost Explorer data by account for ${d}.`;
  if (!accounts.top.length) return `${title}\nNo account spent a cent.`;
  const lines = accounts.top.map((a) => {
    const change = a.previous
      ? Math.abs(a.previous.change) < 0.005
        ? "unchanged"
        : `${signedMoney(a.previous.change)}${a.previous.percent === null ? (a.previous.amount === 0 && a.amount > 0 ? ", new spend" : "") : `, ${signedPct(a.previous.percent)}`}`
      : "no data for the day before";
    return `• ${escapeMrkdwn(accountLabel(a.id, a.name))}: ${money(a.amount)} (${change})`;
  });
  return `${title}\n${lines.join("\n")}`;
}

/** "spike Amazon EC2", "daily-total", "forecast 2026-11", "account prod (111122223333)": what an incident is about, in a few words. */
export function incidentLabel(detail: Pick<CostIncidentDetail, "kind" | "target" | "reportDate" | "name">): string {
  if (detail.kind === "forecast") return `forecast ${detail.reportDate.slice(0, 7)}`;
  if (detail.kind === "account-daily") return `account ${accountLabel(detail.target, detail.name ?? detail.target)}`;
  return detail.target === "account" ? detail.kind : `${detail.kind} ${detail.target}`;
}

/** "open since 2026-11-05, day 3": the digest's reminder of an incident that still holds. */
function openSince(detail: CostIncidentDetail, date: string): string {
  const day = incidentDay(detail.since, date);
  return day <= 1 ? "open since today" : `open since ${detail.since}, day ${day}`;
}

/** "2026-11-05 to 2026-11-07 (3 days)": the reported days an incident held on. */
function spanOf(detail: CostIncidentDetail): string {
  const days = incidentDay(detail.since, detail.reportDate);
  return detail.since === detail.reportDate ? `on ${detail.since} (1 day)` : `${detail.since} to ${detail.reportDate} (${days} days)`;
}

/**
 * The alert for the cost incidents that start this run (one message for all of them, so a morning that breaks the
 * daily threshold because one service spiked says so once, not twice).
 *
 * @example
 *   renderCostAlert([detail], summary, config.cost) // ":rotating_light: AWS cost alert · 2025-03-09"
 */
export function renderCostAlert(started: readonly CostIncidentDetail[], summary: CostSummary, config: CostConfig): SlackMessage {
  const d = summary.reportDate;
  return {
    // An account's name is its owner's to set (Cost Explorer gives it back): escaped, so it cannot mention or link.
    text: `AWS cost alert ${d}: ${started.map((i) => (i.kind === "account-daily" ? escapeMrkdwn(incidentLabel(i)) : i.target === "account" ? i.kind : `${i.kind} ${i.target}`)).join(", ")}`,
    blocks: [
      header(`:rotating_light: AWS cost alert · ${d}`),
      section(started.map((i) => `• ${escapeMrkdwn(i.reason)}`).join("\n")),
      context(
        [
          ...(summary.estimated ? [`Figures for ${d} are still estimated by AWS.`] : []),
          "Each morning's cost digest lists it while it lasts; a message here when it ends.",
          costLinks(config, d)
            .map((l) => `<${l.url}|${l.label}>`)
            .join(" · "),
        ].join("\n"),
      ),
    ],
  };
}

/**
 * The message for the cost incidents that end this run, each with what it is now.
 *
 * @example
 *   renderCostResolved([decision], { summary, days, config }) // ":white_check_mark: AWS cost incidents ended · 2025-03-12"
 */
export function renderCostResolved(
  ended: readonly AlertDecision<CostIncidentDetail>[],
  at: { summary: CostSummary; days: CostDay[]; config: CostConfig },
): SlackMessage {
  const { summary, config } = at;
  const d = summary.reportDate;
  const money = (amount: number): string => formatMoney(amount, summary.currency);
  const now = (i: CostIncidentDetail): string => {
    switch (i.kind) {
      case "daily-total":
        return `spend on ${d} was ${money(summary.total)}, within the ${money(i.threshold)} daily threshold`;
      case "forecast":
        if (i.reportDate.slice(0, 7) !== d.slice(0, 7)) {
          return `${i.reportDate.slice(0, 7)} is over; its last projection was ${money(i.value)} against the ${money(i.threshold)} budget`;
        }
        return summary.forecast.kind === "projected"
          ? `the month-end projection is now ${money(summary.forecast.monthEnd)}, within the ${money(i.threshold)} budget`
          : `month to date is ${money(summary.monthToDate.total)}, within the ${money(i.threshold)} budget (no forecast today)`;
      case "spike": {
        const s = serviceSpend(at.days, d, i.target, config.spike.trailingDays);
        return s
          ? `${money(s.amount)} on ${d}, no longer over ${config.spike.ratio}× its ${config.spike.trailingDays}-day median of ${money(s.median)} (or no longer ${money(config.spike.minIncrease)} above it)`
          : `no longer a spike on ${d}`;
      }
      case "new-service":
        return "no longer new";
      case "account-daily": {
        if (!summary.accounts) return "no longer watched (cost.accounts is off)";
        const spend = summary.accounts.judged ? (at.days.find((x) => x.date === d)?.accounts?.[i.target] ?? 0) : undefined;
        const threshold = thresholdOf(config, i.target);
        if (spend === undefined) return `no longer judged on ${d}`;
        return threshold === undefined
          ? `${money(spend)} on ${d}; no threshold is configured for it any more`
          : `${money(spend)} on ${d}, within its ${money(threshold)} daily threshold`;
      }
    }
  };
  const lines = ended.map(
    (e) => `• *${escapeMrkdwn(incidentLabel(e.incident.detail))}*: open ${spanOf(e.incident.detail)}; ${escapeMrkdwn(now(e.incident.detail))}.`,
  );
  return {
    text: `AWS cost ended ${d}: ${ended.map((e) => `${escapeMrkdwn(incidentLabel(e.incident.detail))} (${formatDays(e.incident.detail)})`).join(", ")}`,
    blocks: [header(`:white_check_mark: AWS cost incidents ended · ${d}`), section(lines.join("\n"))],
  };
}

/** The daily threshold `cost.accounts` sets for an account now (its own, else the default), if any. */
function thresholdOf(config: CostConfig, id: string): number | undefined {
  return config.accounts?.linked.find((a) => a.id === id)?.dailyThreshold ?? config.accounts?.dailyThreshold;
}

function formatDays(detail: CostIncidentDetail): string {
  const n = incidentDay(detail.since, detail.reportDate);
  return `${n} day${n === 1 ? "" : "s"}`;
}

export interface CostRunInput {
  /** Complete UTC days covering the month to date and the trailing window. */
  days: CostDay[];
  /** ISO 4217 code of the amounts (Cost Explorer's `Unit`); default USD. */
  currency?: string;
  /** Linked account names from Cost Explorer (`DimensionValueAttributes`), by id. */
  accountNames?: Readonly<Record<string, string>>;
  /** Default: the last complete UTC day before `now`. */
  reportDate?: string;
  /** Default: unavailable. */
  forecast?: ForecastInput;
  config: CostConfig;
  now: Date;
  apiCalls?: number;
  /**
   * The cost incidents open before this run and the reminder interval (default: none open, 6 h: a first morning);
   * `"off"` for a run that reports a day other than the latest complete one, which must not start or end incidents.
   */
  alerts?: { state: AlertLifecycleState<CostIncidentDetail>; remindEveryMs: number } | "off";
}

export interface CostRun {
  reportDate: string;
  summary: CostSummary;
  findings: CostFinding[];
  /** The lifecycle's decisions (sorted by key; holds included) and the state to store; empty when alerts are off. */
  decisions: AlertDecision<CostIncidentDetail>[];
  state: AlertLifecycleState<CostIncidentDetail>;
  /** Keys that start now (their alert is {@link CostRun.alert}) and keys whose end is {@link CostRun.resolved}. */
  startedKeys: string[];
  resolvedKeys: string[];
  digest: SlackMessage;
  /** The alert for the incidents that start now. */
  alert: SlackMessage | null;
  /** The message for the incidents that end now (a new service's end is silent). */
  resolved: SlackMessage | null;
}

/**
 * Everything a cost run decides, from data to messages, with no I/O: the handler and the drill both call this.
 * The handler stores `state` (conditionally) before it posts `alert` and `resolved`, and the digest after.
 *
 * @example
 *   const run = buildCostRun({ days, forecast: { kind: "forecast", remaining: 8000 }, config: config.cost, now: new Date() });
 *   console.log(renderText(run.digest));
 */
export function buildCostRun(input: CostRunInput): CostRun {
  const reportDate = input.reportDate ?? reportDateFor(input.now);
  const { summary, findings } = analyzeCosts(
    {
      days: input.days,
      reportDate,
      forecast: input.forecast ?? { kind: "unavailable", reason: "not requested" },
      ...(input.currency ? { currency: input.currency } : {}),
      ...(input.accountNames ? { accountNames: input.accountNames } : {}),
    },
    input.config,
  );
  const alerts = input.alerts ?? { state: emptyAlertState<CostIncidentDetail>(), remindEveryMs: 6 * HOUR_MS };
  const decided =
    alerts === "off"
      ? { decisions: [], state: emptyAlertState<CostIncidentDetail>() }
      : decideAlerts({
          state: alerts.state,
          conditions: costConditions(findings, summary, alerts.state),
          now: input.now,
          remindEveryMs: alerts.remindEveryMs,
        });
  const started = decided.decisions.filter((d) => d.kind === "started");
  const ended = decided.decisions.filter((d) => d.kind === "resolved" && costKeyResolves(d.key));
  return {
    reportDate,
    summary,
    findings,
    decisions: decided.decisions,
    state: decided.state,
    startedKeys: started.map((d) => d.key),
    resolvedKeys: ended.map((d) => d.key),
    digest: renderCostDigest(summary, findings, {
      config: input.config,
      apiCalls: input.apiCalls ?? 0,
      trends: spendTrends(input.days, reportDate, input.config.windowDays),
      incidents: decided.decisions,
    }),
    alert: started.length
      ? renderCostAlert(
          started.map((d) => d.incident.detail),
          summary,
          input.config,
        )
      : null,
    resolved: ended.length ? renderCostResolved(ended, { summary, days: input.days, config: input.config }) : null,
  };
}

const AGGREGATE: Record<CostConfig["metric"], string> = {
  UnblendedCost: "unBlendedCost",
  NetUnblendedCost: "netUnblendedCost",
  AmortizedCost: "amortizedCost",
  NetAmortizedCost: "netAmortizedCost",
  BlendedCost: "blendedCost",
};

/** Cost Explorer console links: the trailing window by service, and the month to date by service. */
export function costLinks(config: CostConfig, reportDate: string): { label: string; url: string }[] {
  const link = (start: string, end: string): string => {
    const params = new URLSearchParams({
      chartStyle: "STACK",
      costAggregate: AGGREGATE[config.metric],
      granularity: "Daily",
      groupBy: JSON.stringify(["Service"]),
      startDate: start,
      endDate: end,
    });
    return `${config.consoleUrl}?region=us-east-1#/cost-explorer?${params.toString()}`;
  };
  return [
    { label: `Cost Explorer: last ${config.windowDays} days by service`, url: link(addDays(reportDate, 1 - config.windowDays), reportDate) },
    { label: "Month to date by service", url: link(monthStart(reportDate), reportDate) },
  ];
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
function pct(value: number): string {
  return `${value.toFixed(Math.abs(value) >= 10 ? 0 : 1)}%`;
}
function signedPct(value: number): string {
  return `${value >= 0 ? "+" : ""}${pct(value)}`;
}
