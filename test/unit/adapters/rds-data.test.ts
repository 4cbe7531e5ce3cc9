/**
 * adapters/rds-data.ts on its own: the Data API's Field turned into Postgres' text output so core/smoke.ts judges an
 * Aurora check exactly as the pg path's (a property over values of each type), and the runner's handling of a
 * transaction it cannot begin, a rollback that fails, and a timeout above the Data API's 45 s call limit
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html).
 */
import type { RDSDataClient } from "@aws-sdk/client-rds-data";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DATA_API_STATEMENT_LIMIT_MS, fieldText, rdsDataSmoke, sessionStatements } from "../../../adapters/rds-data.ts";
import { judgeSmokeCheck, parsePgTimestamp, type SmokeCheck } from "../../../core/smoke.ts";

const CONTEXT = { snapshotTime: new Date("2026-11-30T02:00:00Z") };

/** What Postgres prints for a timestamptz in a UTC session: fractional seconds without trailing zeros, then +00. */
function pgTimestamptz(d: Date): string {
  const iso = d.toISOString();
  const ms = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${ms}` : ""}+00`;
}
/** What the Data API gives for it: UTC, no offset (the sandbox's form). */
const dataApiTimestamp = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");

const verdict = (check: SmokeCheck, text: string | null) => judgeSmokeCheck(check, { columns: 1, rows: [[text]] }, CONTEXT);

describe("Field → Postgres text (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Field.html)", () => {
  it("property: a bigint (as the string longReturnType STRING asks for), a long, a boolean and NULL give pg's text and the same verdict", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n }), (big, bound) => {
        const check: SmokeCheck = { name: "n", query: "select 1", expect: { atLeast: Number(bound) } };
        expect(fieldText({ stringValue: String(big) }, { typeName: "int8" })).toBe(String(big));
        expect(verdict(check, fieldText({ stringValue: String(big) }))).toEqual(verdict(check, String(big)));
        const safe = Number(big % 2n ** 53n);
        expect(verdict(check, fieldText({ longValue: safe }))).toEqual(verdict(check, String(safe)));
      }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom<boolean | null>(true, false, null), (value, expected) => {
        const check: SmokeCheck = { name: "b", query: "select true", expect: { equals: expected } };
        expect(fieldText({ booleanValue: value })).toBe(value ? "t" : "f");
        expect(verdict(check, fieldText({ booleanValue: value }))).toEqual(verdict(check, value ? "t" : "f"));
        expect(verdict(check, fieldText({ isNull: true }))).toEqual(verdict(check, null));
      }),
    );
  });

  it("property: a timestamptz names the same instant as pg's text and is judged the same against the snapshot time", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        (at, seconds) => {
          const check: SmokeCheck = { name: "t", query: "select max(created_at) from orders", expect: { withinSecondsOf: "snapshotTime", seconds } };
          const text = fieldText({ stringValue: dataApiTimestamp(at) }, { typeName: "timestamptz" })!;
          expect(text.endsWith("+00")).toBe(true);
          expect(parsePgTimestamp(text)?.getTime()).toBe(at.getTime());
          const ours = verdict(check, text);
          const pg = verdict(check, pgTimestamptz(at));
          expect([ours.passed, ours.reason.replace(/observed "[^"]+"/, "")]).toEqual([pg.passed, pg.reason.replace(/observed "[^"]+"/, "")]);
        },
      ),
    );
  });

  it("property: a double is judged as pg's float8 text would be (same number, same verdict)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }), (x, bound) => {
        const check: SmokeCheck = { name: "d", query: "select 1.5::float8", expect: { atLeast: bound } };
        expect(Number(fieldText({ doubleValue: x }))).toBe(x === 0 ? 0 : x);
        expect(verdict(check, fieldText({ doubleValue: x })).passed).toBe(x >= bound);
      }),
    );
  });

  it("decimals (decimalReturnType STRING), text, dates, bytea and arrays as Postgres prints them", () => {
    expect(fieldText({ stringValue: "12.50" }, { typeName: "numeric" })).toBe("12.50");
    expect(fieldText({ stringValue: "2026-11-30" }, { typeName: "date" })).toBe("2026-11-30");
    expect(fieldText({ stringValue: "2026-11-30 02:00:00" }, { typeName: "timestamp" })).toBe("2026-11-30 02:00:00");
    expect(fieldText({ blobValue: new Uint8Array([0xde, 0xad]) })).toBe("\\xdead");
    expect(fieldText({ arrayValue: { longValues: [1, 2] } })).toBe("{1,2}");
    expect(fieldText({ arrayValue: { stringValues: ["a", "b c", "NULL"] } })).toBe('{a,"b c","NULL"}');
  });
});

/** A Data API client that answers from a script and records what it was sent. */
function scripted(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const sent: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push(name === "ExecuteStatement" ? `${name} ${command.input.sql}` : name);
      const out = answer(name, command.input);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as RDSDataClient;
  return { sent, client: () => client };
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const CHECKS: SmokeCheck[] = [
  { name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } },
  { name: "alive", query: "select 1", expect: { equals: 1 } },
];
const INPUT = {
  region: "eu-west-1",
  clusterArn: "arn:aws:rds:eu-west-1:123456789012:cluster:oa-app-prod-rt-orders-0123456789",
  database: "app",
  secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0123-AbCdEf",
  timeoutMs: 30_000,
  checks: CHECKS,
  context: CONTEXT,
};

describe("rdsDataSmoke", () => {
  it("a transaction that cannot begin fails every check as not run with the cause, and sends nothing else", async () => {
    const api = scripted(() => named("HttpEndpointNotEnabledException", "HTTP endpoint is not enabled"));
    const out = await rdsDataSmoke({ client: api.client, now: () => 0 }).run(INPUT);
    const cause = `could not begin a transaction on app on ${INPUT.clusterArn}: HttpEndpointNotEnabledException: HTTP endpoint is not enabled`;
    expect(out).toEqual([
      { name: "orders", passed: false, observed: null, reason: `check "orders" not run: ${cause}`, ms: 0 },
      { name: "alive", passed: false, observed: null, reason: `check "alive" not run: ${cause}`, ms: 0 },
    ]);
    expect(api.sent).toEqual(["BeginTransaction"]);
  });

  it("a failed rollback is not an error (the Data API rolls an idle transaction back after three minutes); each check has its own transaction", async () => {
    const api = scripted((name, input) => {
      if (name === "BeginTransaction") return { transactionId: "tx" };
      if (name === "RollbackTransaction") return named("InternalServerErrorException", "An internal error occurred.");
      if (input.sql === "select 1") return { records: [[{ stringValue: "1" }]], columnMetadata: [{ typeName: "int4" }] };
      if (input.sql === "select count(*) from orders") return { records: [[{ stringValue: "1200" }]], columnMetadata: [{ typeName: "int8" }] };
      return { records: [] };
    });
    const out = await rdsDataSmoke({ client: api.client, now: () => 0 }).run(INPUT);
    expect(out.map((r) => [r.name, r.passed, r.observed])).toEqual([
      ["orders", true, "1200"],
      ["alive", true, "1"],
    ]);
    expect(api.sent.filter((s) => s === "BeginTransaction" || s === "RollbackTransaction")).toEqual([
      "BeginTransaction",
      "RollbackTransaction",
      "BeginTransaction",
      "RollbackTransaction",
    ]);
  });

  it("a timeout above the 45 s call limit is held under it, and the reason says so", async () => {
    expect(sessionStatements(120_000)).toEqual([
      "SET TRANSACTION READ ONLY",
      `SET LOCAL statement_timeout = ${DATA_API_STATEMENT_LIMIT_MS}`,
      "SET LOCAL TimeZone = 'UTC'",
    ]);
    const api = scripted((name, input) => {
      if (name === "BeginTransaction") return { transactionId: "tx" };
      if (typeof input.sql === "string" && input.sql.startsWith("select")) return named("StatementTimeoutException", "The statement timed out.");
      return { records: [] };
    });
    const out = await rdsDataSmoke({ client: api.client, now: () => 0 }).run({ ...INPUT, checks: [CHECKS[0]!], timeoutMs: 120_000 });
    expect(out[0]!.reason).toBe(
      'check "orders" failed: timed out after 44000 ms (the Data API ends a call at 45 s, so the timeout is 44000 ms, not 120000); the query was cancelled and its transaction rolled back',
    );
    expect(api.sent.at(-1)).toBe("RollbackTransaction");
  });
});
