import { Client, type ClientConfig } from "pg";
import { judgeSmokeCheck, redactSecret, type SmokeCheck, type SmokeContext } from "../core/smoke.ts";

/**
 * Runs a policy's SQL smoke checks against a restored Postgres endpoint with `pg`, one check after the other on
 * one session, and returns one result per check. Nothing throws: a refused connection, a wrong password or a slow
 * query becomes a failed result whose reason says what happened. The password is removed from every reason.
 *
 * The session is read-only (`default_transaction_read_only`), so a misconfigured check cannot change the restored
 * database, and runs in UTC so timestamps come back comparable. Each query is bounded twice: the server cancels it
 * at the timeout (`statement_timeout`), and if the server does not answer even then, the client drops the socket.
 */

/**
 * TLS of the connection. `"require"` (the default) encrypts without verifying the server certificate: RDS for
 * PostgreSQL expects TLS from every client (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html),
 * and the checker reaches the throwaway's private endpoint from inside the VPC, so the RDS CA bundle is not shipped
 * with every function; pass it as `{ ca }` to verify the certificate and host name (verify-full). `"disable"` is
 * for tests against a local server.
 */
export type PgSmokeSsl = "require" | "disable" | { ca: string };

export interface PgSmokeInput {
  host: string;
  port: number;
  database: string;
  user: string;
  /** From the caller (Secrets Manager); never logged, and redacted from every reason. */
  password: string;
  ssl?: PgSmokeSsl;
  /** Per query: the server cancels it then and the check fails as timed out. */
  timeoutMs: number;
  /** To establish the session (TCP, TLS, authentication); default 10 s. */
  connectTimeoutMs?: number;
  checks: readonly SmokeCheck[];
  context: SmokeContext;
}

export interface SmokeCheckResult {
  name: string;
  passed: boolean;
  /** The value the query returned, as Postgres text; null when it returned NULL or did not run. */
  observed: string | null;
  reason: string;
  /** Wall time of the check, including opening the session when this check opened it. */
  ms: number;
  /**
   * Why the check did not run when the session could not be opened: the server's SQLSTATE (`28P01`: the password
   * was refused) or the socket's error code. The checker function retries with the secret's previous version on 28P01.
   */
  connectCode?: string;
}

export interface PgSmokePort {
  run(input: PgSmokeInput): Promise<SmokeCheckResult[]>;
}

export interface PgSmokeOptions {
  now?: () => number;
  /** How long after the server-side timeout the client gives up on a server that does not answer at all. */
  graceMs?: number;
}

const APPLICATION_NAME = "ops-autopilot-smoke";

/** Every value stays Postgres text: core/smoke.ts judges text, whatever the column type. */
const rawText = { getTypeParser: () => (value: string) => value } as unknown as NonNullable<ClientConfig["types"]>;

export function pgSmoke(options: PgSmokeOptions = {}): PgSmokePort {
  const now = options.now ?? (() => performance.now());
  const graceMs = options.graceMs ?? 2000;
  return {
    async run(input) {
      const clean = (text: string) => redactSecret(text, input.password);
      const target = `${input.user}@${input.host}:${input.port}/${input.database}`;
      const results: SmokeCheckResult[] = [];
      let session: Client | undefined;
      let cannotConnect: string | undefined;
      let connectCode: string | undefined;
      try {
        for (const check of input.checks) {
          const head = `check ${JSON.stringify(check.name)}`;
          const t0 = now();
          const result = (passed: boolean, observed: string | null, reason: string): SmokeCheckResult => ({
            name: check.name,
            passed,
            observed,
            reason: clean(reason),
            ms: Math.round(now() - t0),
            ...(cannotConnect && connectCode ? { connectCode } : {}),
          });
          if (cannotConnect) {
            results.push(result(false, null, `${head} not run: ${cannotConnect}`));
            continue;
          }
          if (!session) {
            const opened = await open(input);
            if ("error" in opened) {
              connectCode = opened.error.code;
              cannotConnect = `could not connect to ${target}: ${connectProblem(opened.error, input)}`;
              results.push(result(false, null, `${head} not run: ${cannotConnect}`));
              continue;
            }
            session = opened.client;
          }
          const outcome = await runQuery(session, check.query, input.timeoutMs + graceMs);
          if (outcome.kind === "rows") {
            const verdict = judgeSmokeCheck(check, outcome, input.context);
            results.push(result(verdict.passed, verdict.observed, verdict.reason));
            continue;
          }
          if (outcome.kind === "timeout") {
            // The server may still be working on it (client-side deadline) or the query was cancelled; either
            // way the session is closed and the next check opens a new one.
            close(session, true);
            session = undefined;
            results.push(result(false, null, `${head} failed: timed out after ${input.timeoutMs} ms; the query was cancelled and the connection closed`));
            continue;
          }
          const broken = outcome.error.code === undefined || outcome.error.code.startsWith("08") || outcome.error.code.startsWith("57P");
          if (broken) {
            close(session, true);
            session = undefined;
          }
          results.push(result(false, null, `${head} failed: ${queryProblem(outcome.error)}`));
        }
      } finally {
        if (session) close(session, false);
      }
      return results;
    },
  };
}

interface PgError {
  code?: string;
  message: string;
}

async function open(input: PgSmokeInput): Promise<{ client: Client } | { error: PgError }> {
  const client = new Client({
    host: input.host,
    port: input.port,
    database: input.database,
    user: input.user,
    password: input.password,
    ssl: sslConfig(input.ssl ?? "require"),
    connectionTimeoutMillis: input.connectTimeoutMs ?? 10_000,
    statement_timeout: input.timeoutMs,
    application_name: APPLICATION_NAME,
    options: "-c default_transaction_read_only=on -c TimeZone=UTC",
    types: rawText,
  });
  // A session that drops between checks emits "error" on the client; the next query reports it instead.
  client.on("error", () => {});
  try {
    await client.connect();
    return { client };
  } catch (err) {
    close(client, true);
    return { error: asPgError(err) };
  }
}

type QueryOutcome = { kind: "rows"; columns: number; rows: (string | null)[][] } | { kind: "timeout" } | { kind: "error"; error: PgError };

function runQuery(client: Client, sql: string, deadlineMs: number): Promise<QueryOutcome> {
  return new Promise<QueryOutcome>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: "timeout" }), deadlineMs);
    client.query<(string | null)[]>({ text: sql, rowMode: "array" }).then(
      (res) => {
        clearTimeout(timer);
        resolve({ kind: "rows", columns: res.fields.length, rows: res.rows });
      },
      (err: unknown) => {
        clearTimeout(timer);
        const error = asPgError(err);
        // 57014 query_canceled: the server's statement_timeout fired.
        resolve(error.code === "57014" ? { kind: "timeout" } : { kind: "error", error });
      },
    );
  });
}

/**
 * Ends the session. `abrupt` destroys the socket first: a server still running a query would otherwise hold
 * `end()` until the query finishes.
 */
function close(client: Client, abrupt: boolean): void {
  if (abrupt) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => {});
}

/** With `{ ca }`, pg checks the certificate chain and the host name (it sets the TLS server name from a DNS host). */
function sslConfig(ssl: PgSmokeSsl): ClientConfig["ssl"] {
  if (ssl === "disable") return false;
  if (ssl === "require") return { rejectUnauthorized: false };
  return { ca: ssl.ca, rejectUnauthorized: true };
}

function asPgError(err: unknown): PgError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { message: String(err) };
}

/** Why the session could not be opened, in words (the server's own message kept where it says more). */
function connectProblem(error: PgError, input: PgSmokeInput): string {
  switch (error.code) {
    case "28P01":
    case "28000":
      return `authentication failed (${error.message})`;
    case "ECONNREFUSED":
      return `connection refused (nothing listening on ${input.host}:${input.port})`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host ${input.host} not found`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no route to ${input.host}:${input.port} (${error.code})`;
  }
  // pg's connectionTimeoutMillis: "timeout expired" (8.2x), "Connection terminated due to connection timeout" (earlier).
  if (/timeout expired|connection timeout/i.test(error.message)) return `no answer within ${input.connectTimeoutMs ?? 10_000} ms`;
  if (/does not support SSL/i.test(error.message)) return "the server does not accept TLS connections";
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

function queryProblem(error: PgError): string {
  return error.code ? `query error ${error.code}: ${error.message}` : `connection lost: ${error.message}`;
}
