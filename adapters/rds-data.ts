import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
  type ColumnMetadata,
  type Field,
  type RDSDataClient,
} from "@aws-sdk/client-rds-data";
import { judgeSmokeCheck, type SmokeCheck, type SmokeContext } from "../core/smoke.ts";
import { rdsData } from "./clients.ts";
import type { SmokeCheckResult } from "./pg-smoke.ts";

/**
 * Runs a policy's SQL smoke checks on an Aurora PostgreSQL cluster through the RDS Data API, read-only like the pg
 * path (adapters/pg-smoke.ts): each check in its own transaction (a failed statement aborts a Postgres transaction,
 * so one check's error must not fail the next), opened with BeginTransaction, made read-only, bounded by
 * `statement_timeout` and in UTC with `SET LOCAL`, and always rolled back. Nothing throws: every problem becomes a
 * failed result naming the check and the cause. The Data API reads the password from the secret itself; it never
 * passes through here.
 *
 * API: https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html ("A transaction
 * times out if no calls use its transaction ID in three minutes", then it is rolled back),
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html,
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_RollbackTransaction.html.
 */

export interface DataApiSmokeInput {
  region: string;
  /** The cluster's ARN (`resourceArn`). */
  clusterArn: string;
  database: string;
  /** Secrets Manager secret with the database's username and password, read by the Data API for the caller. */
  secretArn: string;
  /** Per query: the server cancels it then and the check fails as timed out. */
  timeoutMs: number;
  checks: readonly SmokeCheck[];
  context: SmokeContext;
}

export interface DataApiSmokePort {
  run(input: DataApiSmokeInput): Promise<SmokeCheckResult[]>;
}

/**
 * A Data API call ends after 45 seconds unless `continueAfterTimeout` (which would leave the query running after the
 * check gave up), so the server-side timeout stays under it and the server, not the call, ends a slow query
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html, "Data API limitations").
 */
export const DATA_API_STATEMENT_LIMIT_MS = 44_000;

/** What the adapter sends before each check's query, in order, inside the check's transaction. */
export function sessionStatements(timeoutMs: number): string[] {
  return ["SET TRANSACTION READ ONLY", `SET LOCAL statement_timeout = ${Math.min(timeoutMs, DATA_API_STATEMENT_LIMIT_MS)}`, "SET LOCAL TimeZone = 'UTC'"];
}

export function rdsDataSmoke(options: { now?: () => number; client?: (region: string) => RDSDataClient } = {}): DataApiSmokePort {
  const now = options.now ?? (() => performance.now());
  const client = options.client ?? rdsData;
  return {
    async run(input) {
      const data = client(input.region);
      const target = `${input.database} on ${input.clusterArn}`;
      const effectiveMs = Math.min(input.timeoutMs, DATA_API_STATEMENT_LIMIT_MS);
      const common = { resourceArn: input.clusterArn, secretArn: input.secretArn };
      const results: SmokeCheckResult[] = [];
      let cannotBegin: string | undefined;
      for (const check of input.checks) {
        const head = `check ${JSON.stringify(check.name)}`;
        const t0 = now();
        const result = (passed: boolean, observed: string | null, reason: string): SmokeCheckResult => ({
          name: check.name,
          passed,
          observed,
          reason,
          ms: Math.round(now() - t0),
        });
        if (cannotBegin) {
          results.push(result(false, null, `${head} not run: ${cannotBegin}`));
          continue;
        }
        let transactionId: string | undefined;
        try {
          transactionId = (await data.send(new BeginTransactionCommand({ ...common, database: input.database }))).transactionId;
          if (!transactionId) throw new Error("BeginTransaction answered no transactionId");
        } catch (err) {
          cannotBegin = `could not begin a transaction on ${target}: ${errorText(err)}`;
          results.push(result(false, null, `${head} not run: ${cannotBegin}`));
          continue;
        }
        try {
          const statement = (sql: string, extra: Partial<ExecuteStatementCommand["input"]> = {}) =>
            data.send(new ExecuteStatementCommand({ ...common, database: input.database, transactionId, sql, ...extra }));
          let setup: string | undefined;
          for (const sql of sessionStatements(input.timeoutMs)) {
            try {
              await statement(sql);
            } catch (err) {
              setup = `${sql} failed: ${errorText(err)}`;
              break;
            }
          }
          if (setup) {
            results.push(result(false, null, `${head} not run: ${setup}`));
            continue;
          }
          try {
            // Longs and decimals as strings: exact, as Postgres prints them (a bigint would lose digits as a number).
            const out = await statement(check.query, {
              includeResultMetadata: true,
              resultSetOptions: { longReturnType: "STRING", decimalReturnType: "STRING" },
            });
            const meta = out.columnMetadata ?? [];
            const rows = (out.records ?? []).map((r) => r.map((f, i) => fieldText(f, meta[i])));
            const verdict = judgeSmokeCheck(check, { columns: meta.length || (rows[0]?.length ?? 0), rows }, input.context);
            results.push(result(verdict.passed, verdict.observed, verdict.reason));
          } catch (err) {
            results.push(
              result(
                false,
                null,
                isTimeout(err)
                  ? `${head} failed: timed out after ${effectiveMs} ms${effectiveMs < input.timeoutMs ? ` (the Data API ends a call at 45 s, so the timeout is ${effectiveMs} ms, not ${input.timeoutMs})` : ""}; the query was cancelled and its transaction rolled back`
                  : `${head} failed: query error ${errorText(err)}`,
              ),
            );
          }
        } finally {
          // Always: a read-only transaction has nothing to keep, and one left open holds its snapshot until the Data
          // API's three-minute idle timeout rolls it back. A failed rollback leaves exactly that, so it is not an error.
          await data.send(new RollbackTransactionCommand({ ...common, transactionId })).catch(() => undefined);
        }
      }
      return results;
    },
  };
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return e?.name && e.message ? `${e.name}: ${e.message}` : String(err);
}

/** The Data API's own call timeout, or Postgres' statement_timeout (SQLSTATE 57014 query_canceled). */
function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === "StatementTimeoutException" || /SQLState: 57014|canceling statement due to statement timeout/i.test(e?.message ?? "");
}

/**
 * A Data API Field as Postgres' text output, so core/smoke.ts judges it exactly as the pg path's values
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Field.html): NULL → null, booleans t/f, longs and
 * decimals as the strings asked for (resultSetOptions), doubles as JavaScript prints them (the shortest round-trip
 * form, as Postgres 12+ prints float8), `timestamptz` (which the Data API gives as UTC without an offset) with
 * `+00` as Postgres prints it in a UTC session, bytea as `\x` hex, arrays as `{a,b}`.
 *
 * @example fieldText({ stringValue: "2026-11-30 02:00:00" }, { typeName: "timestamptz" }) // "2026-11-30 02:00:00+00"
 */
export function fieldText(field: Field, meta?: ColumnMetadata): string | null {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue ? "t" : "f";
  if (field.longValue !== undefined) return String(field.longValue);
  if (field.doubleValue !== undefined) return String(field.doubleValue);
  if (field.blobValue !== undefined) return `\\x${Buffer.from(field.blobValue).toString("hex")}`;
  if (field.arrayValue !== undefined) return `{${arrayItems(field.arrayValue).join(",")}}`;
  if (field.stringValue !== undefined) {
    const s = field.stringValue;
    return meta?.typeName?.toLowerCase() === "timestamptz" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(s) ? `${s}+00` : s;
  }
  return null;
}

function arrayItems(a: NonNullable<Field["arrayValue"]>): string[] {
  if (a.booleanValues) return a.booleanValues.map((b) => (b ? "t" : "f"));
  if (a.longValues) return a.longValues.map(String);
  if (a.doubleValues) return a.doubleValues.map(String);
  if (a.stringValues) return a.stringValues.map((s) => (s === null ? "NULL" : /^[^\s",{}\\]+$/.test(s) && s.toUpperCase() !== "NULL" ? s : JSON.stringify(s)));
  if (a.arrayValues) return a.arrayValues.map((x) => (x === null ? "NULL" : `{${arrayItems(x).join(",")}}`));
  return [];
}
