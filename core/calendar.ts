/**
 * UTC calendar-day helpers. Backup dates are calendar days ("yyyy-mm-dd") in UTC so that a
 * snapshot's tier and age do not depend on the Lambda's clock zone or on daylight-saving shifts.
 */

const DAY_MS = 86_400_000;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

// Retention parses the same few hundred days for 100k snapshots; a small memo keeps planning linear-ish.
const memo = new Map<string, number>();
const MEMO_MAX = 50_000;

/** Milliseconds since the epoch at 00:00 UTC of `day`, or NaN when `day` is not a real calendar day. */
function dayStart(day: string): number {
  const hit = memo.get(day);
  if (hit !== undefined) return hit;
  const ms = parseDay(day);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(day, ms);
  return ms;
}

function parseDay(day: string): number {
  const m = DAY_RE.exec(day);
  if (!m) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  // Date.UTC rolls 2026-02-30 over to March; a round trip rejects such days.
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return Number.NaN;
  return ms;
}

function requireDay(day: string): number {
  const ms = dayStart(day);
  if (Number.isNaN(ms)) throw new RangeError(`not a calendar day (yyyy-mm-dd): "${day}"`);
  return ms;
}

/** True when `s` is a real calendar day written "yyyy-mm-dd", e.g. `isDay("2026-02-28")` → true, `isDay("2026-02-30")` → false. */
export function isDay(s: unknown): s is string {
  return typeof s === "string" && s.length === 10 && !Number.isNaN(dayStart(s));
}

/** The UTC calendar day of an instant: `utcDay(new Date("2026-11-21T23:30:00-02:00"))` → "2026-11-22". */
export function utcDay(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("invalid Date");
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole days from `fromDay` to `toDay` (negative when `toDay` is earlier): `daysBetween("2026-11-01", "2026-11-08")` → 7. */
export function daysBetween(fromDay: string, toDay: string): number {
  return Math.round((requireDay(toDay) - requireDay(fromDay)) / DAY_MS);
}

/** The day `n` days after `day` (n may be negative): `addDays("2026-12-31", 1)` → "2027-01-01". */
export function addDays(day: string, n: number): string {
  return new Date(requireDay(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Day of the week, 0 = Sunday … 6 = Saturday: `weekday("2026-11-22")` → 0. */
export function weekday(day: string): number {
  return new Date(requireDay(day)).getUTCDay();
}

/** Day of the month, 1 … 31: `dayOfMonth("2026-11-22")` → 22. */
export function dayOfMonth(day: string): number {
  return new Date(requireDay(day)).getUTCDate();
}

const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

/** English name of a weekday number: `weekdayName(0)` → "Sunday". */
export function weekdayName(n: number): string {
  return WEEKDAY_NAMES[((n % 7) + 7) % 7] ?? String(n);
}
