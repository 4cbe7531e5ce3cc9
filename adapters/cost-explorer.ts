import {
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  type CostExplorerClient,
  type Expression,
  type GetCostAndUsageCommandOutput,
  type Metric,
} from "@aws-sdk/client-cost-explorer";
import { costExplorer } from "./clients.ts";
import { costPeriod, nextMonthStart, type CostDay, type ForecastInput } from "../core/cost.ts";
import type { CostMetric } from "../schemas/config-cost.ts";

/**
 * Cost Explorer reads for the cost digest: at most `maxCalls` requests per run, since every request
 * (each page included) is billed $0.01.
 *
 * Call plan (2 calls on a normal day, 3 with `byAccount`):
 *  1. GetCostAndUsage, DAILY, grouped by SERVICE, from the earlier of (window start, 1st of the month)
 *     to the reported day inclusive, with the RECORD_TYPE exclusions: one query gives the trailing
 *     window, the week-ago comparison and the month to date. Further pages (NextPageToken) use the
 *     remaining budget.
 *  2. With `byAccount` (a payer account): the same query grouped by LINKED_ACCOUNT, whose answer also names the
 *     accounts (DimensionValueAttributes). Two queries of one GroupBy each rather than one grouped by both (AWS
 *     allows two): the per-account split of every service multiplies the groups, hence the pages, by the number of
 *     accounts, and nothing here needs it
 *     (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html).
 *  3. GetCostForecast for today → 1st of next month, same metric and filter, unless the reported
 *     day closed its month. A failed forecast is "unavailable", never a failed run: the digest and the
 *     threshold and spike alerts do not depend on it.
 */

export interface FetchCostsRequest {
  /** Last complete UTC day to report (`yyyy-mm-dd`), strictly before `today`. */
  reportDate: string;
  /** Current UTC day: never included, Cost Explorer's figure for it is partial. */
  today: string;
  windowDays: number;
  metric: CostMetric;
  excludeRecordTypes: string[];
  maxCalls: number;
  /** Also query by LINKED_ACCOUNT (`cost.accounts.byAccount`): every day gets its `accounts`. */
  byAccount?: boolean;
}

export interface FetchCostsResult {
  days: CostDay[];
  forecast: ForecastInput;
  /** Requests we sent (the billed unit, as far as we control it). */
  calls: number;
  /** HTTP attempts including the SDK's own retries (`$metadata.attempts`). */
  attempts: number;
  /** The usage query's period, End exclusive. */
  period: { start: string; end: string };
  /** The `Unit` Cost Explorer states the amounts in (ISO 4217, e.g. USD, EUR, JPY). */
  currency: string;
  /** With `byAccount`: the linked accounts' names Cost Explorer gave, by id (an account it named not is absent). */
  accountNames?: Record<string, string>;
}

/** `retryable`: throttled or transient, the next run can succeed; `fatal`: fix config or permissions. */
export class CostExplorerError extends Error {
  override name = "CostExplorerError";
  kind: "retryable" | "fatal";
  calls: number;
  constructor(message: string, kind: "retryable" | "fatal", calls: number) {
    super(message);
    this.kind = kind;
    this.calls = calls;
  }
}

const FORECAST_METRIC: Record<CostMetric, Metric> = {
  UnblendedCost: "UNBLENDED_COST",
  NetUnblendedCost: "NET_UNBLENDED_COST",
  AmortizedCost: "AMORTIZED_COST",
  NetAmortizedCost: "NET_AMORTIZED_COST",
  BlendedCost: "BLENDED_COST",
};

/** The RECORD_TYPE exclusion as a Cost Explorer expression (undefined when nothing is excluded). */
export function recordTypeFilter(excluded: readonly string[]): Expression | undefined {
  return excluded.length ? { Not: { Dimensions: { Key: "RECORD_TYPE", Values: [...excluded] } } } : undefined;
}

/**
 * Daily per-service costs covering the trailing window and the month to date, plus the month-end
 * forecast. Throws {@link CostExplorerError} when the data needs more requests than `maxCalls`
 * allows (partial data would give wrong totals) or when GetCostAndUsage fails; a failed forecast is
 * returned as `{ kind: "unavailable", reason }`.
 */
export async function fetchCosts(req: FetchCostsRequest, client: CostExplorerClient = costExplorer()): Promise<FetchCostsResult> {
  if (!(req.reportDate < req.today)) {
    throw new CostExplorerError(`report date ${req.reportDate} is not a complete day (today is ${req.today} UTC)`, "fatal", 0);
  }
  const period = costPeriod(req.reportDate, req.windowDays);
  const filter = recordTypeFilter(req.excludeRecordTypes);
  // The reported day's month is still running only when today is in the same month.
  const needsForecast = req.today < nextMonthStart(req.reportDate);
  const pageBudget = req.maxCalls - (needsForecast ? 1 : 0);

  let calls = 0;
  let attempts = 0;
  let currency = "USD";
  const accountNames: Record<string, string> = {};
  /**
   * One GetCostAndUsage query over the period, DAILY, grouped by one dimension, every page within the budget; `add`
   * gets each day's groups (a later page repeats a day to carry more of its groups, so amounts add up), and each day
   * once with an empty key: a day in the answer is known even when nothing was spent on it.
   */
  const query = async (dimension: "SERVICE" | "LINKED_ACCOUNT", add: (date: string, estimated: boolean, key: string, amount: number) => void) => {
    let token: string | undefined;
    do {
      if (calls >= pageBudget) {
        throw new CostExplorerError(
          `Cost Explorer data for ${period.start}..${req.reportDate} needs more than ${pageBudget} page(s); ` +
            `raise cost.maxApiCalls (now ${req.maxCalls}) or lower cost.windowDays`,
          "fatal",
          calls,
        );
      }
      calls++;
      const page: GetCostAndUsageCommandOutput = await send(
        () =>
          client.send(
            new GetCostAndUsageCommand({
              TimePeriod: { Start: period.start, End: period.end },
              Granularity: "DAILY",
              Metrics: [req.metric],
              GroupBy: [{ Type: "DIMENSION", Key: dimension }],
              ...(filter ? { Filter: filter } : {}),
              ...(token ? { NextPageToken: token } : {}),
            }),
          ),
        "GetCostAndUsage",
        calls,
      );
      attempts += page.$metadata.attempts ?? 1;
      for (const result of page.ResultsByTime ?? []) {
        const date = result.TimePeriod?.Start;
        // The current day is partial; guard even though End excludes it.
        if (!date || date >= req.today || date < period.start) continue;
        add(date, result.Estimated === true, "", 0);
        for (const group of result.Groups ?? []) {
          const key = group.Keys?.[0];
          const value = group.Metrics?.[req.metric];
          if (!key || value?.Amount === undefined) continue;
          const amount = Number(value.Amount);
          if (!Number.isFinite(amount)) continue;
          if (value.Unit) currency = value.Unit;
          add(date, result.Estimated === true, key, amount);
        }
      }
      // A LINKED_ACCOUNT value's attributes carry the account's name as `description` (the response's
      // DimensionValueAttributes: "if the value is a linked account, the attribute is that account name").
      for (const v of page.DimensionValueAttributes ?? []) {
        const name = v.Attributes?.description?.trim();
        if (dimension === "LINKED_ACCOUNT" && v.Value && name) accountNames[v.Value] = name;
      }
      token = page.NextPageToken || undefined;
    } while (token);
  };

  const byDate = new Map<string, CostDay>();
  await query("SERVICE", (date, estimated, service, amount) => {
    const day = byDate.get(date) ?? { date, estimated: false, services: {} };
    day.estimated ||= estimated;
    if (service) day.services[service] = (day.services[service] ?? 0) + amount;
    byDate.set(date, day);
  });
  if (req.byAccount) {
    const byAccount = new Map<string, Record<string, number>>();
    await query("LINKED_ACCOUNT", (date, _estimated, account, amount) => {
      const day = byAccount.get(date) ?? {};
      if (account) day[account] = (day[account] ?? 0) + amount;
      byAccount.set(date, day);
    });
    // Only on days the query by service answered for: a day is judged on both or neither.
    for (const [date, accounts] of byAccount) {
      const day = byDate.get(date);
      if (day) day.accounts = accounts;
    }
  }

  let forecast: ForecastInput = { kind: "month-complete" };
  if (needsForecast) {
    calls++;
    try {
      const out = await client.send(
        new GetCostForecastCommand({
          TimePeriod: { Start: req.today, End: nextMonthStart(req.reportDate) },
          Metric: FORECAST_METRIC[req.metric],
          Granularity: "MONTHLY",
          ...(filter ? { Filter: filter } : {}),
        }),
      );
      attempts += out.$metadata.attempts ?? 1;
      const remaining = Number(out.Total?.Amount);
      forecast = Number.isFinite(remaining) ? { kind: "forecast", remaining } : { kind: "unavailable", reason: "Cost Explorer returned no forecast amount" };
    } catch (err) {
      attempts += attemptsOf(err);
      // A fact, not a failure: accounts with too little history (or early in a month) get no forecast.
      // Any other error is named in the digest; the figures and alerts that do not need a forecast still go out.
      forecast =
        errorName(err) === "DataUnavailableException"
          ? { kind: "unavailable", reason: "not enough cost history for an AWS forecast" }
          : { kind: "unavailable", reason: `GetCostForecast failed: ${errorName(err)}: ${(err as Error).message ?? String(err)}` };
    }
  }

  return {
    days: [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date)),
    forecast,
    calls,
    attempts,
    period,
    currency,
    ...(req.byAccount ? { accountNames } : {}),
  };
}

async function send<T>(call: () => Promise<T>, operation: string, calls: number): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classify(err, operation, calls);
  }
}

const RETRYABLE = new Set(["LimitExceededException", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailableException"]);

function classify(err: unknown, operation: string, calls: number): CostExplorerError {
  const name = errorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const retryable = RETRYABLE.has(name) || (status !== undefined && status >= 500);
  const hint = name === "AccessDeniedException" ? " (the function needs ce:GetCostAndUsage and ce:GetCostForecast)" : "";
  return new CostExplorerError(`${operation} failed: ${name}: ${(err as Error).message ?? String(err)}${hint}`, retryable ? "retryable" : "fatal", calls);
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? "Error";
}

function attemptsOf(err: unknown): number {
  return (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
}
