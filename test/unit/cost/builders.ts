/** Small fixture builders for the cost tests. */
import { addDays, type CostDay } from "../../../core/cost.ts";
import { CostConfigSchema, type CostConfig } from "../../../schemas/config-cost.ts";

/** The runbook defaults plus overrides (parsed, so defaults fill the rest). */
export function costConfig(overrides: Record<string, unknown> = {}): CostConfig {
  return CostConfigSchema.parse(overrides);
}

export const REPORT_DATE = "2025-03-19";
export const EC2 = "Amazon Elastic Compute Cloud - Compute";
export const RDS = "Amazon Relational Database Service";
export const S3 = "Amazon Simple Storage Service";

type Amount = number | ((date: string, daysBefore: number) => number);

/**
 * Days from `from` to `to` inclusive; each service's amount is a constant or a function of the date and
 * of how many days before `to` it is (0 = the reported day). `undefined`/absent = no line for that day.
 */
export function series(services: Record<string, Amount>, opts: { from?: string; to?: string; estimatedLast?: boolean } = {}): CostDay[] {
  const to = opts.to ?? REPORT_DATE;
  const from = opts.from ?? `${to.slice(0, 7)}-01`;
  const days: CostDay[] = [];
  let n = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
  for (let d = from; d <= to; d = addDays(d, 1), n--) {
    const row: Record<string, number> = {};
    for (const [name, amount] of Object.entries(services)) {
      const v = typeof amount === "function" ? amount(d, n) : amount;
      if (v !== undefined && !Number.isNaN(v)) row[name] = v;
    }
    days.push({ date: d, estimated: opts.estimatedLast === true && d === to, services: row });
  }
  return days;
}

/** `base` every day, `onDay` on the reported day. */
export const jumpTo =
  (base: number, onDay: number): Amount =>
  (_d, before) =>
    before === 0 ? onDay : base;
