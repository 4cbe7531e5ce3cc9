import type { CostConfig } from "../../schemas/config-cost.ts";
import {
  addDays,
  alertsToSend,
  analyzeCosts,
  formatMoney,
  monthStart,
  reportDateFor,
  type CostDay,
  type CostFinding,
  type CostSummary,
  type ForecastInput,
} from "../cost.ts";
import { context, divider, fields, header, section, type SlackMessage } from "./blocks.ts";
import { sparkline } from "./text.ts";

/**
 * Every Slack message of the cost alerts: the daily digest and the immediate alert. Nothing else
 * formats cost messages; the handler and the drill only pass these along.
 */

export interface CostReportMeta {
  config: CostConfig;
  /** Cost Explorer requests the run made ($0.01 each). */
  apiCalls: number;
  /** Each service's daily spend over the window, for the sparklines ({@link spendTrends}); none shown when absent. */
  trends?: ServiceTrend[];
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
  const findingLines = [
    ...gaps,
    ...(findings.length
      ? findings.map((f) => `${f.action === "alert" ? ":rotating_light:" : ":warning:"} ${escapeMrkdwn(f.reason)}`)
      : dayMissing
        ? []
        : [`:white_check_mark: No findings: under ${money(config.dailyThreshold)}/day, within budget, no spike or new service.`]),
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
 * The immediate alert for findings that need one (already filtered and de-duplicated).
 *
 * @example
 *   const alert = renderCostAlert(toSend, summary, config.cost); // ":rotating_light: AWS cost alert · 2025-03-09"
 */
export function renderCostAlert(findings: CostFinding[], summary: CostSummary, config: CostConfig): SlackMessage {
  const d = summary.reportDate;
  return {
    text: `AWS cost alert ${d}: ${findings.map((f) => (f.target === "account" ? f.kind : `${f.kind} ${f.target}`)).join(", ")}`,
    blocks: [
      header(`:rotating_light: AWS cost alert · ${d}`),
      section(findings.map((f) => `• ${escapeMrkdwn(f.reason)}`).join("\n")),
      context(
        [
          ...(summary.estimated ? [`Figures for ${d} are still estimated by AWS.`] : []),
          costLinks(config, d)
            .map((l) => `<${l.url}|${l.label}>`)
            .join(" · "),
        ].join("\n"),
      ),
    ],
  };
}

export interface CostRunInput {
  /** Complete UTC days covering the month to date and the trailing window. */
  days: CostDay[];
  /** ISO 4217 code of the amounts (Cost Explorer's `Unit`); default USD. */
  currency?: string;
  /** Default: the last complete UTC day before `now`. */
  reportDate?: string;
  /** Default: unavailable. */
  forecast?: ForecastInput;
  config: CostConfig;
  now: Date;
  apiCalls?: number;
  /** Finding ids already alerted for this day. */
  alreadyAlerted?: readonly string[];
}

export interface CostRun {
  reportDate: string;
  summary: CostSummary;
  findings: CostFinding[];
  /** Findings that get the immediate alert now (alert findings not yet alerted today). */
  toAlert: CostFinding[];
  digest: SlackMessage;
  alert: SlackMessage | null;
}

/**
 * Everything a cost run decides, from data to messages, with no I/O: the handler and the drill
 * both call this.
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
    },
    input.config,
  );
  const toAlert = alertsToSend(findings, input.alreadyAlerted ?? []);
  return {
    reportDate,
    summary,
    findings,
    toAlert,
    digest: renderCostDigest(summary, findings, {
      config: input.config,
      apiCalls: input.apiCalls ?? 0,
      trends: spendTrends(input.days, reportDate, input.config.windowDays),
    }),
    alert: toAlert.length ? renderCostAlert(toAlert, summary, input.config) : null,
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
