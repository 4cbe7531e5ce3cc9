import { describe, expect, it } from "vitest";
import { judgeSmokeCheck, parsePgTimestamp, redactSecret, type SmokeCheck, type SmokeExpectation } from "../../../core/smoke.ts";
import type { SqlCheck } from "../../../schemas/config-restore-test.ts";

const SNAPSHOT = { snapshotTime: new Date("2026-11-30T02:00:00Z") };

function judge(expect: SmokeExpectation, value: string | null, name = "c") {
  const check: SmokeCheck = { name, query: "select 1", expect };
  return judgeSmokeCheck(check, { columns: 1, rows: [[value]] }, SNAPSHOT);
}

describe("judgeSmokeCheck: atLeast", () => {
  it("passes a count at the bound and says so", () => {
    expect(judge({ atLeast: 1000 }, "1000", "orders-count")).toEqual({
      passed: true,
      observed: "1000",
      reason: 'check "orders-count" passed: observed 1000, expected at least 1000',
    });
  });

  it("fails a count below the bound, naming the check, the expectation and the observation", () => {
    expect(judge({ atLeast: 1000 }, "999", "orders-count")).toEqual({
      passed: false,
      observed: "999",
      reason: 'check "orders-count" failed: observed 999, expected at least 1000',
    });
  });

  it("compares a bigint beyond 2^53 and a numeric with decimals as numbers", () => {
    expect(judge({ atLeast: 1 }, "9007199254740993").passed).toBe(true);
    expect(judge({ atLeast: 12.5 }, "12.50").passed).toBe(true);
  });

  it("fails text and NULL as not a number", () => {
    expect(judge({ atLeast: 1 }, "abc").reason).toBe('check "c" failed: observed "abc" (not a number), expected at least 1');
    expect(judge({ atLeast: 1 }, null).reason).toBe('check "c" failed: observed NULL (not a number), expected at least 1');
    expect(judge({ atLeast: 0 }, "").passed).toBe(false);
  });
});

describe("judgeSmokeCheck: equals", () => {
  it("compares numbers numerically, booleans against t/f, strings exactly, null against NULL", () => {
    expect(judge({ equals: 42 }, "42.0").passed).toBe(true);
    expect(judge({ equals: 42 }, "43").passed).toBe(false);
    expect(judge({ equals: true }, "t").passed).toBe(true);
    expect(judge({ equals: false }, "t").passed).toBe(false);
    expect(judge({ equals: "ok" }, "ok").passed).toBe(true);
    expect(judge({ equals: "ok" }, "OK").passed).toBe(false);
    expect(judge({ equals: null }, null).passed).toBe(true);
    expect(judge({ equals: null }, "0").passed).toBe(false);
    expect(judge({ equals: "0" }, null).passed).toBe(false);
  });

  it("quotes strings and names NULL in the reason", () => {
    expect(judge({ equals: "ok" }, "degraded", "status").reason).toBe('check "status" failed: observed "degraded", expected equal to "ok"');
    expect(judge({ equals: null }, "7", "orphans").reason).toBe('check "orphans" failed: observed 7, expected equal to NULL');
  });
});

describe("judgeSmokeCheck: withinSecondsOf the snapshot time", () => {
  const rpo = (seconds: number): SmokeExpectation => ({ withinSecondsOf: "snapshotTime", seconds });

  it("passes a newest row 600 s before the snapshot with a 900 s RPO", () => {
    expect(judge(rpo(900), "2026-11-30 01:50:00+00", "orders-fresh")).toEqual({
      passed: true,
      observed: "2026-11-30 01:50:00+00",
      reason:
        'check "orders-fresh" passed: observed "2026-11-30 01:50:00+00" (600 s before the snapshot time), expected within 900 s of the snapshot time 2026-11-30T02:00:00.000Z',
    });
  });

  it("fails it with a 300 s RPO", () => {
    expect(judge(rpo(300), "2026-11-30 01:50:00+00", "orders-fresh")).toEqual({
      passed: false,
      observed: "2026-11-30 01:50:00+00",
      reason:
        'check "orders-fresh" failed: observed "2026-11-30 01:50:00+00" (600 s before the snapshot time), expected within 300 s of the snapshot time 2026-11-30T02:00:00.000Z',
    });
  });

  it("passes at exactly the bound, on either side, and reads offsets and timestamps without a zone as UTC", () => {
    expect(judge(rpo(600), "2026-11-30 01:50:00").passed).toBe(true);
    expect(judge(rpo(600), "2026-11-30 07:40:00+05:30").passed).toBe(true);
    expect(judge(rpo(60), "2026-11-30 02:01:00.5+00").reason).toBe(
      'check "c" failed: observed "2026-11-30 02:01:00.5+00" (60.5 s after the snapshot time), expected within 60 s of the snapshot time 2026-11-30T02:00:00.000Z',
    );
  });

  it("fails NULL (an empty table) and non-timestamps", () => {
    expect(judge(rpo(900), null).reason).toBe(
      'check "c" failed: observed NULL (not a timestamp), expected within 900 s of the snapshot time 2026-11-30T02:00:00.000Z',
    );
    expect(judge(rpo(900), "infinity").passed).toBe(false);
    expect(judge(rpo(900), "2026-11-30").passed).toBe(false);
  });
});

describe("judgeSmokeCheck: the query must return one value", () => {
  const check: SmokeCheck = { name: "orders-count", query: "select id from orders", expect: { atLeast: 1 } };

  it("fails no rows, several rows and several columns, saying what came back", () => {
    expect(judgeSmokeCheck(check, { columns: 1, rows: [] }, SNAPSHOT)).toEqual({
      passed: false,
      observed: null,
      reason: 'check "orders-count" failed: the query returned no rows, so it has no value to compare; expected one value at least 1',
    });
    expect(judgeSmokeCheck(check, { columns: 1, rows: [["1"], ["2"]] }, SNAPSHOT).reason).toBe(
      'check "orders-count" failed: the query returned 2 rows of 1 column, so it has no value to compare; expected one value at least 1',
    );
    expect(judgeSmokeCheck(check, { columns: 2, rows: [["1", "2"]] }, SNAPSHOT).reason).toBe(
      'check "orders-count" failed: the query returned 1 row of 2 columns, so it has no value to compare; expected one value at least 1',
    );
  });
});

describe("configuration", () => {
  it("takes a configured sql check as it is", () => {
    const configured: SqlCheck = { name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1 } };
    const check: SmokeCheck = configured;
    expect(judgeSmokeCheck(check, { columns: 1, rows: [["5"]] }, SNAPSHOT).passed).toBe(true);
  });
});

describe("parsePgTimestamp", () => {
  it("reads Postgres' ISO output with and without a zone", () => {
    expect(parsePgTimestamp("2026-11-30 01:50:00+00")?.toISOString()).toBe("2026-11-30T01:50:00.000Z");
    expect(parsePgTimestamp("2026-11-30 01:50:00.123456-03:30")?.toISOString()).toBe("2026-11-30T05:20:00.123Z");
    expect(parsePgTimestamp("2026-11-30 01:50:00")?.toISOString()).toBe("2026-11-30T01:50:00.000Z");
    expect(parsePgTimestamp("-infinity")).toBeUndefined();
    expect(parsePgTimestamp("2026-11-30 01:50:00 BC")).toBeUndefined();
  });
});

describe("redactSecret", () => {
  it("replaces every occurrence and leaves other text alone", () => {
    expect(redactSecret('database "hunter2" does not exist (hunter2)', "hunter2")).toBe('database "[redacted]" does not exist ([redacted])');
    expect(redactSecret("nothing here", "")).toBe("nothing here");
  });
});
