/**
 * Calendar-day helpers. Backup dates are calendar days ("yyyy-mm-dd") of the backup schedule's timezone
 * (`localDay`), so the night a backup stands for, its weekday and its day of the month are the ones the
 * operator configured, whatever the Lambda's clock zone and across daylight-saving shifts. Arithmetic on
 * days (ages, weekdays) is done on the day strings alone, in UTC, where every day has 24 hours.
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

const dayFormats = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dayFormats.get(timeZone);
  if (!f) {
    // Creating a formatter is the expensive part; a handful of zones are ever used.
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    dayFormats.set(timeZone, f);
  }
  return f;
}

function wallParts(ms: number, timeZone: string): { day: string; hh: string; mm: string } {
  const p: Record<string, string> = {};
  for (const x of dayFormat(timeZone).formatToParts(new Date(ms))) p[x.type] = x.value;
  return { day: `${p.year}-${p.month}-${p.day}`, hh: p.hour ?? "00", mm: p.minute ?? "00" };
}

/**
 * The calendar day of an instant in an IANA timezone: `localDay(new Date("2026-11-21T11:30:00Z"), "Pacific/Auckland")`
 * → "2026-11-22" (00:30 on Sunday in Auckland is still Saturday in UTC). "UTC" (the default) is `utcDay`.
 * Throws a RangeError for an unknown zone.
 */
export function localDay(date: Date, timeZone = "UTC"): string {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return utcDay(date);
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("invalid Date");
  return wallParts(ms, timeZone).day;
}

/**
 * The first local day in [`fromDay`, `fromDay` + `days`) on which the wall-clock time `hh:mm` does not exist in
 * `timeZone` (it falls in a daylight-saving spring-forward gap), or undefined. EventBridge Scheduler skips a cron
 * invocation that falls in such a gap (https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst), so a
 * nightly job scheduled then would miss that night.
 * Example: `skippedLocalTime(2, 0, "Europe/Berlin", "2026-01-01", 365)` → "2026-03-29".
 */
export function skippedLocalTime(hour: number, minute: number, timeZone: string, fromDay: string, days: number): string | undefined {
  const start = requireDay(fromDay);
  const hh = String(hour).padStart(2, "0");
  const mm = String(minute).padStart(2, "0");
  let prevOffset: number | undefined;
  for (let i = 0; i <= days; i++) {
    // A gap can only fall on a day whose UTC offset differs from the previous day's: check those days only.
    const noon = start + i * DAY_MS + 12 * 3_600_000;
    const w = wallParts(noon, timeZone);
    const offset = Date.parse(`${w.day}T${w.hh}:${w.mm}:00Z`) - noon;
    if (prevOffset !== undefined && offset !== prevOffset) {
      const utc = new Date(noon).toISOString().slice(0, 10);
      for (const day of [addDays(utc, -1), utc, addDays(utc, 1)]) {
        const naive = Date.parse(`${day}T${hh}:${mm}:00Z`);
        const exists = [offset, prevOffset].some((off) => {
          const p = wallParts(naive - off, timeZone);
          return p.day === day && p.hh === hh && p.mm === mm;
        });
        if (!exists) return day;
      }
    }
    prevOffset = offset;
  }
  return undefined;
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
