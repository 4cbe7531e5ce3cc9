/**
 * Cost Explorer: daily spend per linked account, service and record type that a test sets, served by GetCostAndUsage
 * (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html) and GetCostForecast
 * (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html), so a cost run is
 * tested with its role's `ce:` grants evaluated and its requests held to AWS's rules.
 *
 * The account the sandbox runs as is the organization's management (payer) account: its Cost Explorer answers for every
 * linked account the test adds ("Management account in an organization in AWS Organizations have access to all member
 * accounts", API_GetCostAndUsage.html).
 *
 * Rules kept from AWS (each a ValidationException unless named):
 * - the endpoint is in us-east-1 only (https://docs.aws.amazon.com/general/latest/gr/billing.html): a client in any
 *   other region cannot reach it;
 * - `TimePeriod` `Start` and `End` are `yyyy-MM-dd`, Start inclusive before End exclusive; `Granularity` and `Metrics`
 *   are required, metrics among the documented names;
 * - `GroupBy` holds at most two groups ("You can group Amazon Web Services costs using up to two different groups"),
 *   each of Type DIMENSION, TAG or COST_CATEGORY, a DIMENSION key among AZ, INSTANCE_TYPE, LEGAL_ENTITY_NAME,
 *   INVOICING_ENTITY, LINKED_ACCOUNT, OPERATION, PLATFORM, PURCHASE_TYPE, SERVICE, TENANCY, RECORD_TYPE and USAGE_TYPE;
 *   the same key twice is refused;
 * - pagination: an answer with more groups than a page holds carries `NextPageToken`; a later page repeats the day it
 *   continues. A token the service did not issue is InvalidNextTokenException; a token sent with other parameters than
 *   the request that got it is RequestChangedException ("Your request parameters changed between pages");
 * - with LINKED_ACCOUNT among the groups, `DimensionValueAttributes` names each account of the page
 *   (`{ Value: id, Attributes: { description: name } }`: "if the value is a linked account, the attribute is that
 *   account name");
 * - GetCostForecast: Start is today or later (UTC), End after Start; no forecast (DataUnavailableException) when the
 *   test says so;
 * - throttling is LimitExceededException ("You made too many calls in a short period of time").
 *
 * Simulated: DAILY granularity, the cost metrics, GroupBy SERVICE, LINKED_ACCOUNT and RECORD_TYPE, a Filter on one
 * dimension or its `Not`. Anything else fails loudly with SandboxUnsupportedError. AWS does not document the page size:
 * `groupsPerPage` (default 1,000 groups a page) is the sandbox's, small enough for tests to page.
 */
import {
  CostExplorerClient,
  CostExplorerServiceException,
  DataUnavailableException,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  InvalidNextTokenException,
  LimitExceededException,
  RequestChangedException,
} from "@aws-sdk/client-cost-explorer";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import { SandboxUnsupportedError, type FaultKind } from "./errors.ts";

/** One line of a day's spend. */
export interface CostLine {
  /** The linked account's id; default the sandbox's account. */
  account?: string;
  service: string;
  amount: number;
  /** Default "Usage". */
  recordType?: string;
}

export interface CostExplorerSim extends ServiceSim {
  /** The spend of every UTC day (`yyyy-mm-dd`), asked for each day a query covers. Default: none. */
  setCosts(series: (date: string) => readonly CostLine[]): void;
  /** A member account of the organization, with the name Cost Explorer gives it (its AWS Organizations name). */
  linkAccount(id: string, name?: string): void;
  /** The remaining month's forecast GetCostForecast answers; `"unavailable"`: DataUnavailableException. Default: none (unavailable). */
  setForecast(forecast: ((start: string, end: string) => number) | "unavailable"): void;
  /** Groups per GetCostAndUsage page (default 1,000). */
  setGroupsPerPage(n: number): void;
  /** The currency of the amounts (default USD). */
  setCurrency(unit: string): void;
}

type Ctor = new (opts: { message: string; $metadata: Record<string, unknown> }) => Error;

function ceError(cls: Ctor | string, status: number, message: string): Error {
  const $metadata = { httpStatusCode: status, requestId: "sandbox-ce", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 };
  if (typeof cls !== "string") return new cls({ message, $metadata });
  // Not modelled by the client (ValidationException, AccessDeniedException): the base exception with the wire code as name.
  return new CostExplorerServiceException({ name: cls, $fault: status >= 500 ? "server" : "client", $metadata, message });
}
const validation = (message: string): Error => ceError("ValidationException", 400, message);
/** The SDK always sets `$metadata` on an output; the adapter reads its `attempts`. */
const ok = () => ({ $metadata: { httpStatusCode: 200, requestId: "sandbox-ce", attempts: 1, totalRetryDelay: 0 } });

export const CE_REGION = "us-east-1";
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const METRICS = new Set(["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "NormalizedUsageAmount", "UnblendedCost", "UsageQuantity"]);
const COST_METRICS = new Set(["AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost"]);
/** GetCostForecast's Metric: the cost metrics only (USAGE_QUANTITY and NORMALIZED_USAGE_AMOUNT are GetUsageForecast's). */
const FORECAST_METRICS = new Set(["AMORTIZED_COST", "BLENDED_COST", "NET_AMORTIZED_COST", "NET_UNBLENDED_COST", "UNBLENDED_COST"]);
/** "The GetCostForecast operation supports only DAILY and MONTHLY granularities" (API_GetCostForecast.html). */
const FORECAST_GRANULARITIES = ["DAILY", "MONTHLY"];
const GROUP_TYPES = new Set(["DIMENSION", "TAG", "COST_CATEGORY"]);
const GROUP_DIMENSIONS = new Set([
  "AZ",
  "INSTANCE_TYPE",
  "LEGAL_ENTITY_NAME",
  "INVOICING_ENTITY",
  "LINKED_ACCOUNT",
  "OPERATION",
  "PLATFORM",
  "PURCHASE_TYPE",
  "SERVICE",
  "TENANCY",
  "RECORD_TYPE",
  "USAGE_TYPE",
]);
const SIMULATED_DIMENSIONS = { SERVICE: "service", LINKED_ACCOUNT: "account", RECORD_TYPE: "recordType" } as const;
type SimulatedDimension = keyof typeof SIMULATED_DIMENSIONS;
const MAX_GROUP_BY = 2;

interface GroupBy {
  Type?: string;
  Key?: string;
}
interface DimensionFilter {
  Dimensions?: { Key?: string; Values?: string[]; MatchOptions?: string[] };
  Not?: DimensionFilter;
  And?: unknown;
  Or?: unknown;
  Tags?: unknown;
  CostCategories?: unknown;
}
interface UsageInput {
  TimePeriod?: { Start?: string; End?: string };
  Granularity?: string;
  Metrics?: string[];
  GroupBy?: GroupBy[];
  Filter?: DimensionFilter;
  NextPageToken?: string;
}

const DAY_MS = 86_400_000;
const addDay = (date: string, n: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

function checkPeriod(p: UsageInput["TimePeriod"]): { start: string; end: string } {
  const start = p?.Start;
  const end = p?.End;
  if (!start || !end) throw validation("TimePeriod Start and End are required");
  for (const d of [start, end]) {
    if (!DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw validation(`Time period date ${d} is not in the yyyy-MM-dd format`);
  }
  if (!(start < end)) throw validation("Start date (and hour) should be before end date (and hour)");
  return { start, end };
}

const OPERATORS = ["And", "Or", "Not", "Dimensions", "Tags", "CostCategories"] as const;

/** A line matches a dimension filter (`Dimensions` on a simulated key, or its `Not`). */
function matcher(filter: DimensionFilter | undefined): (line: Required<CostLine>) => boolean {
  if (!filter) return () => true;
  // "Because each Expression can have only one operator, the service returns an error if more than one is specified" (API_Expression.html).
  const given = OPERATORS.filter((op) => filter[op] !== undefined);
  if (given.length > 1) throw validation(`An Expression takes one operator (And, Or, Not, Dimensions, Tags or CostCategories); got ${given.join(", ")}`);
  if (filter.Not) {
    const inner = matcher(filter.Not);
    return (line) => !inner(line);
  }
  const dim = filter.Dimensions;
  if (!dim || filter.And || filter.Or || filter.Tags || filter.CostCategories)
    throw new SandboxUnsupportedError("sandbox Cost Explorer: only a Dimensions filter or its Not");
  const key = dim.Key as SimulatedDimension;
  if (!(key in SIMULATED_DIMENSIONS)) throw new SandboxUnsupportedError(`sandbox Cost Explorer: filter on ${dim.Key}`);
  if (!dim.Values?.length) throw validation("Dimensions Values must not be empty");
  const values = new Set(dim.Values);
  return (line) => values.has(line[SIMULATED_DIMENSIONS[key]]);
}

export function createCostExplorerSim(core: SandboxCore): CostExplorerSim {
  let series: (date: string) => readonly CostLine[] = () => [];
  const names = new Map<string, string>();
  let forecast: ((start: string, end: string) => number) | "unavailable" = "unavailable";
  let groupsPerPage = 1000;
  let currency = "USD";
  /** Tokens issued: token -> the request (without its token) and the offset it continues from. */
  const tokens = new Map<string, { request: string; offset: number }>();
  let issued = 0;

  const checkRegion = (ctx: CommandContext): void => {
    if (ctx.region !== CE_REGION) {
      // The SDK would fail to resolve ce.<region>.amazonaws.com: not an AWS error.
      throw new SandboxUnsupportedError(`Cost Explorer has no endpoint in ${ctx.region}: its API is in ${CE_REGION} only`);
    }
  };

  const getCostAndUsage: CommandHandler = (input: UsageInput, ctx: CommandContext) => {
    checkRegion(ctx);
    const { start, end } = checkPeriod(input.TimePeriod);
    if (!input.Granularity) throw validation("Granularity is required");
    if (!["DAILY", "MONTHLY", "HOURLY"].includes(input.Granularity)) throw validation(`Granularity ${input.Granularity} is not one of DAILY, MONTHLY, HOURLY`);
    if (input.Granularity !== "DAILY") throw new SandboxUnsupportedError(`sandbox Cost Explorer: Granularity ${input.Granularity}`);
    const metrics = input.Metrics ?? [];
    if (!metrics.length) throw validation("Metrics is required");
    for (const m of metrics) {
      if (!METRICS.has(m)) throw validation(`Metrics ${m} is not valid`);
      if (!COST_METRICS.has(m)) throw new SandboxUnsupportedError(`sandbox Cost Explorer: metric ${m}`);
    }
    const groupBy = input.GroupBy ?? [];
    if (groupBy.length > MAX_GROUP_BY) throw validation(`GroupBy holds at most ${MAX_GROUP_BY} groups; got ${groupBy.length}`);
    const keys: SimulatedDimension[] = [];
    for (const g of groupBy) {
      if (!g.Type || !GROUP_TYPES.has(g.Type)) throw validation(`Group Definition type ${g.Type} is not one of DIMENSION, TAG, COST_CATEGORY`);
      if (g.Type !== "DIMENSION") throw new SandboxUnsupportedError(`sandbox Cost Explorer: GroupBy ${g.Type}`);
      if (!g.Key || !GROUP_DIMENSIONS.has(g.Key)) throw validation(`Group Definition dimension ${g.Key} is not valid`);
      if (!(g.Key in SIMULATED_DIMENSIONS)) throw new SandboxUnsupportedError(`sandbox Cost Explorer: GroupBy ${g.Key}`);
      if (keys.includes(g.Key as SimulatedDimension)) throw validation(`Group Definition dimension ${g.Key} is repeated`);
      keys.push(g.Key as SimulatedDimension);
    }
    const matches = matcher(input.Filter);

    const { NextPageToken: token, ...request } = input;
    const fingerprint = JSON.stringify(request);
    let offset = 0;
    if (token !== undefined) {
      const known = tokens.get(token);
      if (!known) throw ceError(InvalidNextTokenException as unknown as Ctor, 400, "The pagination token is invalid. Try again without a pagination token.");
      if (known.request !== fingerprint) {
        throw ceError(
          RequestChangedException as unknown as Ctor,
          400,
          "Your request parameters changed between pages. Try again with the old parameters or without a pagination token.",
        );
      }
      offset = known.offset;
    }

    // Every (day, group) of the answer in order; a day with no spend still has its entry (no group).
    const today = new Date(ctx.nowMs).toISOString().slice(0, 10);
    const entries: { date: string; keys?: string[]; amount?: number }[] = [];
    for (let d = start; d < end; d = addDay(d, 1)) {
      // Cost Explorer has nothing after today.
      const lines = d > today ? [] : series(d).map((l) => ({ account: core.accountId, recordType: "Usage", ...l }) as Required<CostLine>);
      const groups = new Map<string, number>();
      for (const l of lines) {
        if (!matches(l)) continue;
        const k = JSON.stringify(keys.map((key) => l[SIMULATED_DIMENSIONS[key]]));
        groups.set(k, (groups.get(k) ?? 0) + l.amount);
      }
      entries.push({ date: d });
      for (const [k, amount] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (keys.length) entries.push({ date: d, keys: JSON.parse(k) as string[], amount });
        else entries[entries.length - 1]!.amount = amount;
      }
    }

    // A page holds `groupsPerPage` groups; the days without groups ride along.
    const page: typeof entries = [];
    let groupsInPage = 0;
    let i = offset;
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.keys && groupsInPage === groupsPerPage) break;
      if (e.keys) groupsInPage++;
      page.push(e);
    }
    const byDay = new Map<string, { TimePeriod: { Start: string; End: string }; Total: Record<string, unknown>; Groups: unknown[]; Estimated: boolean }>();
    for (const e of page) {
      let day = byDay.get(e.date);
      if (!day) {
        const total = keys.length ? {} : Object.fromEntries(metrics.map((m) => [m, { Amount: String(e.amount ?? 0), Unit: currency }]));
        day = { TimePeriod: { Start: e.date, End: addDay(e.date, 1) }, Total: total, Groups: [], Estimated: false };
        byDay.set(e.date, day);
      }
      if (e.keys) day.Groups.push({ Keys: e.keys, Metrics: Object.fromEntries(metrics.map((m) => [m, { Amount: String(e.amount), Unit: currency }])) });
    }
    const out: Record<string, unknown> = {
      ...ok(),
      GroupDefinitions: groupBy.map((g) => ({ Type: g.Type, Key: g.Key })),
      ResultsByTime: [...byDay.values()],
    };
    if (keys.includes("LINKED_ACCOUNT")) {
      const at = keys.indexOf("LINKED_ACCOUNT");
      const ids = [...new Set(page.filter((e) => e.keys).map((e) => e.keys![at]!))].sort();
      out.DimensionValueAttributes = ids.map((id) => ({ Value: id, Attributes: names.has(id) ? { description: names.get(id)! } : {} }));
    }
    if (i < entries.length) {
      issued += 1;
      const next = `sandbox-ce-page-${issued}`;
      tokens.set(next, { request: fingerprint, offset: i });
      out.NextPageToken = next;
    }
    return out;
  };

  const getCostForecast: CommandHandler = (
    input: { TimePeriod?: { Start?: string; End?: string }; Metric?: string; Granularity?: string; Filter?: DimensionFilter },
    ctx: CommandContext,
  ) => {
    checkRegion(ctx);
    const { start, end } = checkPeriod(input.TimePeriod);
    if (!input.Metric || !FORECAST_METRICS.has(input.Metric)) throw validation(`Metric ${input.Metric} is not valid`);
    if (!input.Granularity) throw validation("Granularity is required");
    if (!FORECAST_GRANULARITIES.includes(input.Granularity))
      throw validation(`Granularity ${input.Granularity} is not one of ${FORECAST_GRANULARITIES.join(", ")}`);
    // Held to the same rules as GetCostAndUsage's; the forecast the test sets is the filtered one.
    matcher(input.Filter);
    const today = new Date(ctx.nowMs).toISOString().slice(0, 10);
    if (start < today) throw validation(`Start date ${start} must be equal to or later than the current date ${today}`);
    if (forecast === "unavailable")
      throw ceError(DataUnavailableException as unknown as Ctor, 400, "Insufficient amount of historical data to generate forecast.");
    const amount = forecast(start, end);
    return { ...ok(), Total: { Amount: String(amount), Unit: currency }, ForecastResultsByTime: [] };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [GetCostAndUsageCommand, getCostAndUsage],
    [GetCostForecastCommand, getCostForecast],
  ];

  function faultFor(kind: FaultKind): Error {
    switch (kind) {
      case "throttling":
        return ceError(LimitExceededException as unknown as Ctor, 400, "You made too many calls in a short period of time. Try again later.");
      case "notFound":
        return ceError(DataUnavailableException as unknown as Ctor, 400, "Data is not available.");
      case "accessDenied":
        return ceError("AccessDeniedException", 403, "User is not authorized to perform ce:GetCostAndUsage");
      default:
        return ceError("InternalServerException", 500, "Internal error");
    }
  }

  return {
    service: "costExplorer",
    clientClass: CostExplorerClient,
    commands,
    faultFor,
    setCosts(fn) {
      series = fn;
    },
    linkAccount(id, name) {
      if (!/^\d{12}$/.test(id)) throw new Error(`sandbox Cost Explorer: ${id} is not a 12-digit account id`);
      if (name !== undefined) names.set(id, name);
    },
    setForecast(f) {
      forecast = f;
    },
    setGroupsPerPage(n) {
      if (!Number.isInteger(n) || n < 1) throw new Error("sandbox Cost Explorer: groupsPerPage must be a positive integer");
      groupsPerPage = n;
    },
    setCurrency(unit) {
      currency = unit;
    },
  };
}
