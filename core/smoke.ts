/**
 * SQL smoke checks of a restored database, judged as data: each check is one query returning one value and an
 * expectation about it. The adapter (adapters/pg-smoke.ts) runs the query and hands over what Postgres returned as
 * text; everything about whether that value passes, and the sentence that says why, is decided here.
 *
 * Values arrive as Postgres' text output (the adapter turns off pg's type parsing), so a `count(*)` is "1200", a
 * boolean is "t", and a timestamp is "2026-11-30 02:00:00+00" (the session runs in UTC). Judging text keeps the
 * verdict independent of the checker's time zone and of pg's JavaScript conversions (a bigint would lose digits).
 */

/** What a check expects of its one value. */
export type SmokeExpectation =
  /** A number (row count, sum) at least `atLeast`. */
  | { atLeast: number }
  /** Exactly this value: a number compares numerically, a boolean against Postgres' t/f, null against SQL NULL. */
  | { equals: string | number | boolean | null }
  /** A timestamp within `seconds` of the restored snapshot's creation time (e.g. `max(created_at)` within the RPO). */
  | { withinSecondsOf: "snapshotTime"; seconds: number };

export interface SmokeCheck {
  name: string;
  /** One statement returning one row of one column. */
  query: string;
  expect: SmokeExpectation;
}

export interface SmokeContext {
  /** Creation time of the snapshot the database was restored from. */
  snapshotTime: Date;
}

/** What the query returned: the number of columns and the rows, each value as Postgres text (null for SQL NULL). */
export interface SmokeRows {
  columns: number;
  rows: readonly (readonly (string | null)[])[];
}

export interface SmokeVerdict {
  passed: boolean;
  /** The one value the query returned (Postgres text), null when it returned NULL or no single value. */
  observed: string | null;
  /** A sentence naming the check, what was expected and what was observed. */
  reason: string;
}

/** The expectation as words: "at least 1000", "equal to 'ok'", "within 900 s of the snapshot time 2026-...Z". */
export function describeExpectation(expect: SmokeExpectation, context: SmokeContext): string {
  if ("atLeast" in expect) return `at least ${expect.atLeast}`;
  if ("equals" in expect) return `equal to ${literal(expect.equals)}`;
  return `within ${expect.seconds} s of the snapshot time ${context.snapshotTime.toISOString()}`;
}

/**
 * Judges one check's query result. Example: `{ atLeast: 1000 }` and a count of "3" →
 * `{ passed: false, observed: "3", reason: 'check "orders-count" failed: observed 3, expected at least 1000' }`.
 */
export function judgeSmokeCheck(check: SmokeCheck, result: SmokeRows, context: SmokeContext): SmokeVerdict {
  const head = `check ${JSON.stringify(check.name)}`;
  const expected = describeExpectation(check.expect, context);
  const shape = shapeProblem(result);
  if (shape) return { passed: false, observed: null, reason: `${head} failed: ${shape}, so it has no value to compare; expected one value ${expected}` };
  const observed = result.rows[0]?.[0] ?? null;
  const verdict = (passed: boolean, note = "") =>
    ({ passed, observed, reason: `${head} ${passed ? "passed" : "failed"}: observed ${shown(observed)}${note}, expected ${expected}` }) satisfies SmokeVerdict;

  const expect = check.expect;
  if ("atLeast" in expect) {
    const n = numeric(observed);
    if (n === undefined) return verdict(false, " (not a number)");
    return verdict(n >= expect.atLeast);
  }
  if ("equals" in expect) return verdict(equalsExpected(observed, expect.equals));

  const at = observed === null ? undefined : parsePgTimestamp(observed);
  if (!at) return verdict(false, " (not a timestamp)");
  const offsetSeconds = (at.getTime() - context.snapshotTime.getTime()) / 1000;
  const side = offsetSeconds <= 0 ? "before" : "after";
  return verdict(Math.abs(offsetSeconds) <= expect.seconds, ` (${trim(Math.abs(offsetSeconds))} s ${side} the snapshot time)`);
}

/**
 * Parses Postgres' ISO text output of `timestamptz` ("2026-11-30 02:00:00.123+00", "…+05:30") or `timestamp`
 * ("2026-11-30 02:00:00", read as UTC). Undefined for anything else (infinity, BC dates, a date alone).
 */
export function parsePgTimestamp(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?$/.exec(text.trim());
  if (!m) return undefined;
  const [, date, time, offH, offM, offS] = m;
  if (offS && offS !== "00") return undefined;
  const zone = offH ? `${offH}:${offM ?? "00"}` : "Z";
  const parsed = new Date(`${date}T${time}${zone}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** Replaces every occurrence of the secret in a message, so a driver or server message quoting it cannot leak it. */
export function redactSecret(text: string, secret: string): string {
  return secret.length === 0 ? text : text.split(secret).join("[redacted]");
}

function shapeProblem(result: SmokeRows): string | undefined {
  if (result.rows.length === 0) return "the query returned no rows";
  if (result.rows.length > 1 || result.columns !== 1) {
    return `the query returned ${result.rows.length} row${result.rows.length === 1 ? "" : "s"} of ${result.columns} column${result.columns === 1 ? "" : "s"}`;
  }
  return undefined;
}

function numeric(text: string | null): number | undefined {
  if (text === null || text.trim() === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function equalsExpected(observed: string | null, expected: string | number | boolean | null): boolean {
  if (expected === null) return observed === null;
  if (observed === null) return false;
  if (typeof expected === "number") return numeric(observed) === expected;
  if (typeof expected === "boolean") return (expected ? ["t", "true"] : ["f", "false"]).includes(observed);
  return observed === expected;
}

function shown(value: string | null): string {
  if (value === null) return "NULL";
  return numeric(value) === undefined ? JSON.stringify(value) : value;
}

function literal(value: string | number | boolean | null): string {
  if (value === null) return "NULL";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
