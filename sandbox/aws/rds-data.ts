/**
 * The RDS Data API against the sandbox's Aurora clusters: ExecuteStatement, BeginTransaction, RollbackTransaction and
 * CommitTransaction (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html,
 * …/API_BeginTransaction.html, …/API_RollbackTransaction.html, …/API_CommitTransaction.html).
 *
 * The sandbox runs no SQL: a test registers what a statement answers (`sb.rdsData.answer(sql, rows)`), and a
 * statement nobody registered fails loudly with DatabaseErrorException. `SET …` statements are understood (they answer
 * nothing; a transaction's `SET LOCAL statement_timeout` decides how a registered timeout ends). AWS's refusals are
 * kept: the cluster must exist in the client's region (NotFoundException), have its HTTP endpoint enabled
 * (HttpEndpointNotEnabledException: "The HTTP endpoint for using RDS Data API isn't enabled for the DB cluster"),
 * and an available writer (DatabaseUnavailableException); `resourceArn`, `secretArn` and `sql` are required.
 *
 * The secret: the Data API reads it for the caller, in the cluster's region. A secret the region does not have is
 * SecretsErrorException ("The secret provided wasn't found"), one without `username` and `password`
 * InvalidSecretException, and credentials other than the cluster's master user's fail as Postgres refuses them:
 * DatabaseErrorException `FATAL: password authentication failed for user "<name>"` (the text as reported from the
 * Data API, https://github.com/ArsenyYankovsky/typeorm-aurora-data-api-driver/issues/86, under BadRequestException,
 * which the current model marks deprecated; the class here is unconfirmed).
 *
 * Transactions: BeginTransaction answers a transactionId; a statement carrying it runs in it; an unknown, ended or
 * idle-expired id (no call in three minutes, API_BeginTransaction) is NotFoundException ("The resourceArn, secretArn,
 * or transactionId value can't be found."). After a failed statement the transaction is aborted, as in Postgres: the
 * next statements fail with SQLSTATE 25P02 until it ends. A registered timeout inside a transaction with
 * `SET LOCAL statement_timeout` under the 45 s call limit is cancelled by the server (DatabaseErrorException,
 * SQLSTATE 57014); otherwise the call times out (StatementTimeoutException).
 */
import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  InvalidSecretException,
  RollbackTransactionCommand,
  SecretsErrorException,
  DatabaseErrorException,
  DatabaseUnavailableException,
  ExecuteStatementCommand,
  HttpEndpointNotEnabledException,
  InternalServerErrorException,
  NotFoundException,
  RDSDataClient,
  RDSDataServiceException,
  StatementTimeoutException,
  AccessDeniedException,
} from "@aws-sdk/client-rds-data";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import type { FaultKind, SandboxServiceError } from "./errors.ts";
import type { RdsSim } from "./rds.ts";
import type { SecretsManagerSim } from "./secrets-manager.ts";

/** A value of a result column as JavaScript holds it; converted to the Data API's Field. */
export type SqlValue = string | number | boolean | null | Date;

/** What a registered statement answers: rows, or a database error (as Postgres would report it), or a timeout. */
export type SqlAnswer = { rows: SqlValue[][]; columns?: string[] } | { error: string } | { timeout: true };

export interface RdsDataSim extends ServiceSim {
  /**
   * Register the answer to statements whose SQL equals `sql` (whitespace and letter case ignored), matches the RegExp, or
   * satisfies the predicate; later registrations win. `answer` may be a function of the statement and its cluster ARN.
   */
  answer(
    sql: string | RegExp | ((sql: string) => boolean),
    answer: SqlAnswer | SqlValue[][] | ((input: { sql: string; resourceArn: string; database?: string }) => SqlAnswer | SqlValue[][]),
  ): void;
  /** Every statement executed (accepted by the checks above), in order. */
  statements(): Array<{ region: string; resourceArn: string; secretArn: string; database?: string; transactionId?: string; sql: string; at: Date }>;
  /** Transactions begun, with how each ended: `open`, `rolled-back`, `committed` or `expired`. */
  transactions(): Array<{ id: string; resourceArn: string; state: "open" | "rolled-back" | "committed" | "expired"; aborted: boolean }>;
}

/** "A transaction times out if no calls use its transaction ID in three minutes" (API_BeginTransaction). */
export const TRANSACTION_IDLE_MS = 3 * 60_000;
/** A Data API call ends after 45 s unless continueAfterTimeout. */
const CALL_LIMIT_MS = 45_000;

type Ctor = new (opts: { message: string; $metadata: SandboxServiceError["$metadata"] }) => Error;

/** A Data API error (restJson1): the SDK's modelled class, HTTP status as its schema says. */
function dataError(cls: Ctor, status: number, message: string): Error {
  const $metadata = { httpStatusCode: status, requestId: "sandbox-rds-data", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 };
  return new cls({ message, $metadata });
}

const norm = (sql: string) => sql.trim().replace(/\s+/g, " ");

/**
 * JavaScript value → Data API Field (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Field.html):
 * an integer is a longValue, or a stringValue with `resultSetOptions.longReturnType` STRING; a Date is a timestamp in
 * UTC without an offset, as the Data API gives timestamps.
 */
function field(v: SqlValue, longAsString: boolean): Record<string, unknown> {
  if (v === null) return { isNull: true };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? (longAsString ? { stringValue: String(v) } : { longValue: v }) : { doubleValue: v };
  if (v instanceof Date) return { stringValue: v.toISOString().replace("T", " ").replace("Z", "") };
  return { stringValue: v };
}

/** The Postgres type name the Data API reports in columnMetadata for a value of the sandbox's answer. */
function typeName(v: SqlValue | undefined): string {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int8" : "float8";
  if (v instanceof Date) return "timestamptz";
  return "text";
}

export function createRdsDataSim(core: SandboxCore, rds: RdsSim, secrets: SecretsManagerSim): RdsDataSim {
  const answers: Array<{ test: (sql: string) => boolean; answer: Parameters<RdsDataSim["answer"]>[1] }> = [];
  const executed: ReturnType<RdsDataSim["statements"]> = [];
  interface Tx {
    id: string;
    region: string;
    resourceArn: string;
    state: "open" | "rolled-back" | "committed" | "expired";
    lastMs: number;
    aborted: boolean;
    statementTimeoutMs?: number;
  }
  const txs = new Map<string, Tx>();
  let txCounter = 0;

  type Target = NonNullable<ReturnType<RdsSim["dataApiTarget"]>>;

  /** The checks every Data API call passes: parameters, cluster, secret, endpoint, writer, credentials. */
  function admit(input: { resourceArn?: string; secretArn?: string }, ctx: CommandContext): Target {
    for (const f of ["resourceArn", "secretArn"] as const) {
      if (typeof input[f] !== "string" || input[f] === "") throw dataError(BadRequestException as unknown as Ctor, 400, `Parameter ${f} is required.`);
    }
    const arn = String(input.resourceArn).split(":");
    const target =
      arn[2] === "rds" && arn[3] === ctx.region && arn[4] === core.accountId && arn[5] === "cluster"
        ? rds.dataApiTarget(ctx.region, arn.slice(6).join(":"))
        : undefined;
    if (!target) throw dataError(NotFoundException as unknown as Ctor, 404, `DB cluster not found: ${input.resourceArn}`);
    if (!/^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(String(input.secretArn))) {
      throw dataError(BadRequestException as unknown as Ctor, 400, `Invalid secretArn: ${input.secretArn}`);
    }
    if (!target.httpEndpoint) throw dataError(HttpEndpointNotEnabledException as unknown as Ctor, 400, `HTTP endpoint is not enabled for ${input.resourceArn}`);
    if (target.status !== "available" || !target.writerAvailable) {
      throw dataError(DatabaseUnavailableException as unknown as Ctor, 504, "The writer instance in the DB cluster isn't available.");
    }
    // "Data API isn't supported on T DB instance classes" (data-api.limitations.html); the error AWS answers is unconfirmed.
    if (target.writerClass?.startsWith("db.t")) {
      throw dataError(BadRequestException as unknown as Ctor, 400, `Data API isn't supported on T DB instance classes (the writer is ${target.writerClass}).`);
    }
    const value = secrets.currentValue(ctx.region, String(input.secretArn));
    if (value === undefined) throw dataError(SecretsErrorException as unknown as Ctor, 400, "The secret provided wasn't found.");
    let creds: { username?: unknown; password?: unknown } = {};
    try {
      creds = JSON.parse(value) ?? {};
    } catch {
      creds = {};
    }
    if (typeof creds.username !== "string" || typeof creds.password !== "string") {
      throw dataError(InvalidSecretException as unknown as Ctor, 400, "The Secrets Manager secret used with the request isn't valid.");
    }
    if (creds.username !== target.master.username || creds.password !== target.master.password) {
      throw dataError(DatabaseErrorException as unknown as Ctor, 400, `FATAL: password authentication failed for user "${creds.username}"`);
    }
    return target;
  }

  /** The open transaction `id` on this cluster, its idle clock restarted; NotFoundException otherwise. */
  function openTx(id: unknown, resourceArn: string, ctx: CommandContext): Tx {
    const tx = typeof id === "string" ? txs.get(id) : undefined;
    if (tx && tx.state === "open" && ctx.nowMs - tx.lastMs > TRANSACTION_IDLE_MS) tx.state = "expired";
    if (tx?.state !== "open" || tx.resourceArn !== resourceArn || tx.region !== ctx.region) {
      throw dataError(NotFoundException as unknown as Ctor, 404, `Transaction ${String(id)} is not found`);
    }
    tx.lastMs = ctx.nowMs;
    return tx;
  }

  const begin: CommandHandler = (input: { resourceArn?: string; secretArn?: string; database?: string }, ctx: CommandContext) => {
    admit(input, ctx);
    txCounter += 1;
    const id = Buffer.from(`sandbox-tx-${txCounter}-${ctx.nowMs}`).toString("base64");
    txs.set(id, { id, region: ctx.region, resourceArn: String(input.resourceArn), state: "open", lastMs: ctx.nowMs, aborted: false });
    return { transactionId: id };
  };

  const end =
    (state: "rolled-back" | "committed"): CommandHandler =>
    (input: { resourceArn?: string; secretArn?: string; transactionId?: string }, ctx: CommandContext) => {
      admit(input, ctx);
      const tx = openTx(input.transactionId, String(input.resourceArn), ctx);
      // Committing an aborted Postgres transaction rolls it back.
      tx.state = tx.aborted ? "rolled-back" : state;
      return { transactionStatus: tx.state === "committed" ? "Transaction Committed" : "Rollback Complete" };
    };

  const execute: CommandHandler = (
    input: {
      resourceArn?: string;
      secretArn?: string;
      sql?: string;
      database?: string;
      transactionId?: string;
      includeResultMetadata?: boolean;
      resultSetOptions?: { longReturnType?: string };
    },
    ctx: CommandContext,
  ) => {
    if (typeof input.sql !== "string" || input.sql === "") throw dataError(BadRequestException as unknown as Ctor, 400, "Parameter sql is required.");
    admit(input, ctx);
    const tx = input.transactionId !== undefined ? openTx(input.transactionId, String(input.resourceArn), ctx) : undefined;
    const sql = String(input.sql);
    executed.push({
      region: ctx.region,
      resourceArn: String(input.resourceArn),
      secretArn: String(input.secretArn),
      ...(input.database !== undefined ? { database: input.database } : {}),
      ...(input.transactionId !== undefined ? { transactionId: input.transactionId } : {}),
      sql,
      at: new Date(ctx.nowMs),
    });
    const fail = (message: string): never => {
      if (tx) tx.aborted = true;
      throw dataError(DatabaseErrorException as unknown as Ctor, 400, message);
    };
    if (tx?.aborted) fail("ERROR: current transaction is aborted, commands ignored until end of transaction block; SQLState: 25P02");
    if (/^\s*SET\s/i.test(sql)) {
      const timeout = /^\s*SET\s+LOCAL\s+statement_timeout\s*(?:=|TO)\s*'?(\d+)'?\s*$/i.exec(sql);
      if (timeout && tx) tx.statementTimeoutMs = Number(timeout[1]);
      return { records: [], numberOfRecordsUpdated: 0 };
    }
    const found = [...answers].reverse().find((a) => a.test(sql));
    if (!found) fail(`ERROR: the sandbox has no answer registered for: ${norm(sql)}`);
    const raw =
      typeof found!.answer === "function"
        ? found!.answer({ sql, resourceArn: String(input.resourceArn), ...(input.database ? { database: input.database } : {}) })
        : found!.answer;
    const ans: SqlAnswer = Array.isArray(raw) ? { rows: raw } : raw;
    if ("error" in ans) fail(ans.error);
    if ("timeout" in ans) {
      if (tx?.statementTimeoutMs !== undefined && tx.statementTimeoutMs > 0 && tx.statementTimeoutMs < CALL_LIMIT_MS) {
        fail("ERROR: canceling statement due to statement timeout; SQLState: 57014");
      }
      throw dataError(StatementTimeoutException as unknown as Ctor, 400, "The statement timed out.");
    }
    const rows = (ans as { rows: SqlValue[][] }).rows;
    const longAsString = input.resultSetOptions?.longReturnType === "STRING";
    const out: Record<string, unknown> = { records: rows.map((r) => r.map((v) => field(v, longAsString))), numberOfRecordsUpdated: 0 };
    if (input.includeResultMetadata) {
      const names = (ans as { columns?: string[] }).columns ?? rows[0]?.map((_, i) => `column${i + 1}`) ?? [];
      out.columnMetadata = names.map((name, i) => ({ name, label: name, typeName: typeName(rows[0]?.[i]) }));
    }
    return out;
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [ExecuteStatementCommand, execute],
    [BeginTransactionCommand, begin],
    [RollbackTransactionCommand, end("rolled-back")],
    [CommitTransactionCommand, end("committed")],
  ];

  function faultFor(kind: FaultKind): Error {
    switch (kind) {
      case "throttling":
        return Object.assign(
          new RDSDataServiceException({
            name: "ThrottlingException",
            $fault: "client",
            $metadata: { httpStatusCode: 429, requestId: "sandbox-rds-data", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 },
            message: "Rate exceeded",
          }),
        );
      case "accessDenied":
        return dataError(AccessDeniedException as unknown as Ctor, 403, "You don't have sufficient access to perform this action.");
      case "notFound":
        return dataError(NotFoundException as unknown as Ctor, 404, "The resourceArn, secretArn, or transactionId value can't be found.");
      case "state":
        return dataError(DatabaseUnavailableException as unknown as Ctor, 504, "The writer instance in the DB cluster isn't available.");
      case "internal":
        return dataError(InternalServerErrorException as unknown as Ctor, 500, "An internal error occurred.");
      default:
        return dataError(DatabaseErrorException as unknown as Ctor, 400, `ERROR: injected ${kind} failure`);
    }
  }

  return {
    service: "rdsData",
    clientClass: RDSDataClient,
    commands,
    faultFor,
    answer(sql, answer) {
      const test =
        typeof sql === "string" ? (s: string) => norm(s).toLowerCase() === norm(sql).toLowerCase() : sql instanceof RegExp ? (s: string) => sql.test(s) : sql;
      answers.push({ test, answer });
    },
    statements: () => executed.map((e) => ({ ...e })),
    transactions: () => [...txs.values()].map((t) => ({ id: t.id, resourceArn: t.resourceArn, state: t.state, aborted: t.aborted })),
  };
}
