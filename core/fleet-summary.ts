import { context, header, section, type SlackMessage } from "./report/blocks.ts";

/**
 * One run report and one Slack summary for a fleet job's fan-out (stacks/fleet-fanout-definition.ts): every member
 * account × region's result, grouped by account, failing accounts first, each failure naming the account id, its name,
 * the region and the error.
 */

export type FleetJob = "backup" | "copy" | "prune" | "watchdog";

export interface FleetCountsIn {
  created?: number;
  copied?: number;
  pruned?: number;
  stale?: number;
}

export interface FleetTargetRef {
  account: string;
  accountName: string;
  region: string;
}

/** An item's result as the Map's child execution outputs it (schemas/events-fleet.ts FleetItemResultSchema). */
export type FleetItemOutcome =
  | (FleetTargetRef & { ok: true; counts: FleetCountsIn; reportKey?: string })
  | (FleetTargetRef & { ok: false; error: string; cause?: string });

export interface FleetSummaryInput {
  job: FleetJob;
  execution: string;
  targets: readonly FleetTargetRef[];
  results: readonly FleetItemOutcome[];
}

export interface FleetCounts {
  created: number;
  copied: number;
  pruned: number;
  stale: number;
}

export interface FleetRegionOutcome {
  region: string;
  ok: boolean;
  counts: FleetCounts;
  reportKey?: string;
  error?: string;
  message?: string;
  /** The member role could not be assumed: STS answers AccessDenied alike for a missing role and a refusing trust. */
  roleNotAssumed?: true;
}

export interface FleetAccountSection {
  account: string;
  accountName: string;
  ok: boolean;
  counts: FleetCounts;
  regions: FleetRegionOutcome[];
}

export interface FleetReport {
  job: FleetJob;
  execution: string;
  ok: boolean;
  totals: FleetCounts & { accounts: number; failedAccounts: number; items: number; failedItems: number };
  /** Failing accounts first, then by name. */
  accounts: FleetAccountSection[];
}

/** The count each job's summary line shows. */
export const JOB_COUNT: Record<FleetJob, keyof FleetCounts> = { backup: "created", copy: "copied", prune: "pruned", watchdog: "stale" };

/** The error of a target the fan-out started but that returned no result (its child execution failed outright). */
export const NO_RESULT_ERROR = "NoResult";
const NO_RESULT_MESSAGE = "the child execution ended without a result: see the Map Run of the execution";

const zero = (): FleetCounts => ({ created: 0, copied: 0, pruned: 0, stale: 0 });
const add = (a: FleetCounts, b: FleetCountsIn): FleetCounts => ({
  created: a.created + (b.created ?? 0),
  copied: a.copied + (b.copied ?? 0),
  pruned: a.pruned + (b.pruned ?? 0),
  stale: a.stale + (b.stale ?? 0),
});

/**
 * The message of a Step Functions cause. A Lambda function error's cause is its JSON error
 * (`{"errorType":..,"errorMessage":..,"trace":[..]}`), cut to 500 characters by the Catch, so it may not parse:
 * the errorMessage string is then read up to where it was cut.
 *
 * @example causeMessage('{"errorType":"AccessDenied","errorMessage":"not authorized","trace":["at x"]}') // "not authorized"
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return "";
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (parsed && typeof parsed === "object" && typeof (parsed as { errorMessage?: unknown }).errorMessage === "string") {
      return (parsed as { errorMessage: string }).errorMessage;
    }
  } catch {
    const m = /"errorMessage"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(cause);
    if (m) {
      const raw = m[1]!.replace(/\\$/, "");
      try {
        return JSON.parse(`"${raw}"`) as string;
      } catch {
        return raw;
      }
    }
  }
  return cause;
}

/**
 * STS answers AssumeRole with AccessDenied both when the role does not exist and when its trust policy refuses the
 * caller (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, Errors; IAM troubleshooting
 * "I can't assume a role"), so the two read as one: missing or denied.
 */
export function isRoleNotAssumed(error: string, message: string): boolean {
  return /sts:AssumeRole/.test(message) || (/^AccessDenied(Exception)?$/.test(error) && /assume/i.test(message));
}

/**
 * The run report of a fleet fan-out: each account once (targets and results together), its regions in the order the
 * fan-out listed them, a target without a result failed as {@link NO_RESULT_ERROR}; totals are the sums of the items.
 *
 * @example summarizeFleet({ job: "backup", execution, targets: [t], results: [{ ...t, ok: true, counts: { created: 2 } }] }).totals.created // 2
 */
export function summarizeFleet(input: FleetSummaryInput): FleetReport {
  const key = (t: FleetTargetRef) => `${t.account}\u0000${t.region}`;
  const results = new Map<string, FleetItemOutcome>();
  for (const r of input.results) if (!results.has(key(r))) results.set(key(r), r);
  const items: FleetItemOutcome[] = [];
  const seen = new Set<string>();
  for (const t of [...input.targets, ...input.results]) {
    if (seen.has(key(t))) continue;
    seen.add(key(t));
    items.push(results.get(key(t)) ?? { ...t, ok: false, error: NO_RESULT_ERROR, cause: NO_RESULT_MESSAGE });
  }

  const byAccount = new Map<string, FleetAccountSection>();
  for (const item of items) {
    let acc = byAccount.get(item.account);
    if (!acc) {
      acc = { account: item.account, accountName: item.accountName, ok: true, counts: zero(), regions: [] };
      byAccount.set(item.account, acc);
    }
    if (item.ok) {
      acc.counts = add(acc.counts, item.counts);
      acc.regions.push({ region: item.region, ok: true, counts: add(zero(), item.counts), ...(item.reportKey ? { reportKey: item.reportKey } : {}) });
    } else {
      const message = item.error === NO_RESULT_ERROR ? (item.cause ?? NO_RESULT_MESSAGE) : causeMessage(item.cause);
      acc.ok = false;
      acc.regions.push({
        region: item.region,
        ok: false,
        counts: zero(),
        error: item.error,
        message,
        ...(isRoleNotAssumed(item.error, message) ? { roleNotAssumed: true as const } : {}),
      });
    }
  }

  const accounts = [...byAccount.values()].sort(
    (a, b) => Number(a.ok) - Number(b.ok) || a.accountName.localeCompare(b.accountName) || a.account.localeCompare(b.account),
  );
  const counts = accounts.reduce((sum, a) => add(sum, a.counts), zero());
  const failedItems = items.filter((i) => !i.ok).length;
  const failedAccounts = accounts.filter((a) => !a.ok).length;
  return {
    job: input.job,
    execution: input.execution,
    ok: failedItems === 0,
    totals: { ...counts, accounts: accounts.length, failedAccounts, items: items.length, failedItems },
    accounts,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `*payments* (111122223333)`: accounts are named by name and id everywhere. */
const accountLabel = (a: Pick<FleetAccountSection, "account" | "accountName">) => `*${a.accountName}* (${a.account})`;

/** Slack allows 50 blocks per message: the header, the totals, this many account sections, one line for the rest, the context. */
export const MAX_ACCOUNT_SECTIONS = 45;

/** One account's section: its status, then a line per region; a failure names account, region and error. */
export function accountSectionText(job: FleetJob, a: FleetAccountSection): string {
  const count = JOB_COUNT[job];
  const lines = [`${a.ok ? "✅" : "❌"} ${accountLabel(a)}: ${a.ok ? `ok, ${a.counts[count]} ${count}` : "failed"}`];
  for (const r of a.regions) {
    if (r.ok) lines.push(`• ${r.region}: ok, ${r.counts[count]} ${count}`);
    else lines.push(`• ${r.region}: ${a.accountName} (${a.account}) failed: ${r.error}${r.message ? `: ${r.message}` : ""}`);
  }
  const denied = a.regions.filter((r) => r.roleNotAssumed).map((r) => r.region);
  if (denied.length)
    lines.push(`• member role not assumed in ${denied.join(", ")}: missing, or its trust refuses this deployment (deploy or fix the member roles)`);
  return lines.join("\n");
}

/** The first line of the summary: the job, how many accounts and items failed, the job's total. */
export function fleetSummaryLine(report: FleetReport): string {
  const t = report.totals;
  const count = JOB_COUNT[report.job];
  const status = report.ok
    ? `${plural(t.accounts, "account")} ok`
    : `${t.failedAccounts} of ${plural(t.accounts, "account")} failed (${t.failedItems} of ${plural(t.items, "account × region", "account × regions")})`;
  return `Fleet ${report.job}: ${status}, ${t[count]} ${count}`;
}

/**
 * The one Slack message: the summary line, the totals, one section per account (failing first), and the execution.
 * Past {@link MAX_ACCOUNT_SECTIONS} accounts, the rest share one section, each still named with its status.
 */
export function fleetSlackMessage(report: FleetReport): SlackMessage {
  const t = report.totals;
  const line = fleetSummaryLine(report);
  const shown = report.accounts.slice(0, MAX_ACCOUNT_SECTIONS);
  const rest = report.accounts.slice(MAX_ACCOUNT_SECTIONS);
  const blocks = [
    header(line),
    section(
      `Totals: ${plural(t.accounts, "account")} (${t.failedAccounts} failed), ${plural(t.items, "account × region", "account × regions")} (${t.failedItems} failed); created ${t.created}, copied ${t.copied}, pruned ${t.pruned}, stale ${t.stale}`,
    ),
    ...shown.map((a) => section(accountSectionText(report.job, a))),
    ...(rest.length ? [section(`${rest.length} more: ${rest.map((a) => `${a.ok ? "✅" : "❌"} ${accountLabel(a)}`).join(", ")}`)] : []),
    context(`Execution ${report.execution}`),
  ];
  const failed = report.accounts.filter((a) => !a.ok).map((a) => `${a.accountName} (${a.account})`);
  return { text: failed.length ? `${line}: ${failed.join(", ")}` : line, blocks };
}
