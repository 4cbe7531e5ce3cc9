/**
 * EventBridge Scheduler schedule expressions, checked the way Scheduler checks them, so a bad one fails at
 * config load with the field named instead of at deploy (or never, for a schedule that silently never fires).
 *
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields; exactly one of day-of-month and
 *   day-of-week is `?`; `#` takes a single expression
 *   (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based,
 *   fields and wildcards: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html);
 * - `rate(value unit)`: a positive integer and minute(s) | hour(s) | day(s), singular for 1 and plural above
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html);
 * - `at(yyyy-mm-ddThh:mm:ss)`: a one-time schedule.
 */

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` allowed (day-of-month, day-of-week). */
  any?: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const FIELDS: readonly CronField[] = [
  { name: "minutes", min: 0, max: 59 },
  { name: "hours", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31, any: true },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day-of-week", min: 1, max: 7, names: WEEKDAYS, any: true },
  { name: "year", min: 1970, max: 2199 },
];

const SHAPES = "expected cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)";

/**
 * What is wrong with a schedule expression, or undefined when EventBridge Scheduler accepts it.
 *
 * @example
 *   scheduleExpressionProblem("cron(0 2 * * ? *)") // undefined
 *   scheduleExpressionProblem("rate(1 hours)")     // "a value of 1 takes a singular unit: rate(1 hour)"
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const m = /^(cron|rate|at)\((.*)\)$/.exec(expression);
  if (!m) return `${SHAPES}, got ${JSON.stringify(expression)}`;
  const [, kind, body] = m as unknown as [string, "cron" | "rate" | "at", string];
  if (kind === "rate") return rateProblem(body);
  if (kind === "at") return atProblem(body);
  return cronProblem(body);
}

/** The interval of a `rate(...)` expression in hours; undefined for cron and at expressions. */
export function rateHours(expression: string): number | undefined {
  const m = /^rate\(([1-9]\d*) (minutes?|hours?|days?)\)$/.exec(expression);
  if (!m) return undefined;
  const unit = m[2]!.replace(/s$/, "");
  return Number(m[1]) * (unit === "minute" ? 1 / 60 : unit === "hour" ? 1 : 24);
}

function rateProblem(body: string): string | undefined {
  const m = /^(\S+) (\S+)$/.exec(body);
  if (!m) return "expected rate(value unit), e.g. rate(30 minutes)";
  const [, value, unit] = m as unknown as [string, string, string];
  if (!/^[1-9]\d*$/.test(value)) return `the rate value is a positive integer, got ${JSON.stringify(value)}`;
  const singular = unit.replace(/s$/, "");
  if (!["minute", "hour", "day"].includes(singular)) return `the rate unit is minute(s), hour(s) or day(s), got ${JSON.stringify(unit)}`;
  if (value === "1" && unit !== singular) return `a value of 1 takes a singular unit: rate(1 ${singular})`;
  if (value !== "1" && unit === singular) return `a value above 1 takes a plural unit: rate(${value} ${singular}s)`;
  return undefined;
}

function atProblem(body: string): string | undefined {
  const ok =
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(body) &&
    // Date.parse rolls 2026-02-30 over to March: a round trip catches it.
    !Number.isNaN(Date.parse(`${body}Z`)) &&
    new Date(`${body}Z`).toISOString().startsWith(body);
  return ok ? undefined : `expected at(yyyy-mm-ddThh:mm:ss) with a real date and time, got ${JSON.stringify(body)}`;
}

function cronProblem(body: string): string | undefined {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(parts[i]!, field);
    if (problem) return `${field.name}: ${problem}`;
  }
  const [dom, dow] = [parts[2]!, parts[4]!];
  if ((dom === "?") === (dow === "?")) {
    return `exactly one of day-of-month and day-of-week must be "?" (got ${JSON.stringify(dom)} and ${JSON.stringify(dow)})`;
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  if (text === "?") return field.any ? undefined : `"?" is allowed only in day-of-month and day-of-week`;
  const items = text.split(",");
  if (field.name === "day-of-week" && text.includes("#") && items.length > 1) return "# allows a single expression, not a list";
  for (const item of items) {
    const problem = itemProblem(item, field);
    if (problem) return problem;
  }
  return undefined;
}

function itemProblem(item: string, field: CronField): string | undefined {
  const value = (s: string): number | undefined => {
    const byName = field.names?.indexOf(s.toUpperCase() as never) ?? -1;
    if (byName >= 0) return byName + 1;
    return /^\d+$/.test(s) ? Number(s) : undefined;
  };
  const inRange = (n: number): string | undefined => (n < field.min || n > field.max ? `${n} is outside ${field.min}-${field.max}` : undefined);

  if (field.name === "day-of-month") {
    if (item === "L" || item === "LW") return undefined;
    const w = /^(\d+)W$/.exec(item);
    if (w) return inRange(Number(w[1]));
  }
  if (field.name === "day-of-week") {
    if (item === "L") return undefined;
    const last = /^(\w+)L$/.exec(item);
    if (last && value(last[1]!) !== undefined) return inRange(value(last[1]!)!);
    const nth = /^(\w+)#(\d+)$/.exec(item);
    if (nth && value(nth[1]!) !== undefined) {
      const n = Number(nth[2]);
      return inRange(value(nth[1]!)!) ?? (n < 1 || n > 5 ? `${item}: the occurrence after # is 1-5` : undefined);
    }
  }
  const slash = item.split("/");
  if (slash.length > 2) return `${JSON.stringify(item)} is not a value, range, list or increment`;
  const [base, step] = slash as [string, string | undefined];
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `${item}: the increment after / is a positive number`;
  if (base === "*") return undefined;
  const range = base.split("-");
  if (range.length > 2) return `${JSON.stringify(item)} is not a value, range, list or increment`;
  const bounds = range.map(value);
  if (bounds.some((b) => b === undefined)) return `${JSON.stringify(item)} is not a value, range, list or increment`;
  for (const b of bounds) {
    const problem = inRange(b!);
    if (problem) return problem;
  }
  return undefined;
}
