/**
 * The RDS Data API (`ExecuteStatement`) against the sandbox's Aurora clusters
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html).
 *
 * The sandbox runs no SQL: a test registers what a statement answers (`sb.rdsData.answer(sql, rows)`), and a
 * statement nobody registered fails loudly with DatabaseErrorException. AWS's refusals are kept: the cluster must
 * exist in the client's region (NotFoundException), have its HTTP endpoint enabled
 * (HttpEndpointNotEnabledException: "The HTTP endpoint for using RDS Data API isn't enabled for the DB cluster"),
 * and an available writer (DatabaseUnavailableException); `resourceArn`, `secretArn` and `sql` are required.
 */
import {
  BadRequestException,
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
  statements(): Array<{ region: string; resourceArn: string; secretArn: string; database?: string; sql: string; at: Date }>;
}

type Ctor = new (opts: { message: string; $metadata: SandboxServiceError["$metadata"] }) => Error;

/** A Data API error (restJson1): the SDK's modelled class, HTTP status as its schema says. */
function dataError(cls: Ctor, status: number, message: string): Error {
  const $metadata = { httpStatusCode: status, requestId: "sandbox-rds-data", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 };
  return new cls({ message, $metadata });
}

const norm = (sql: string) => sql.trim().replace(/\s+/g, " ");

/** JavaScript value → Data API Field (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Field.html). */
function field(v: SqlValue): Record<string, unknown> {
  if (v === null) return { isNull: true };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { longValue: v } : { doubleValue: v };
  if (v instanceof Date) return { stringValue: v.toISOString().replace("T", " ").replace("Z", "") };
  return { stringValue: v };
}

export function createRdsDataSim(core: SandboxCore, rds: RdsSim): RdsDataSim {
  const answers: Array<{ test: (sql: string) => boolean; answer: Parameters<RdsDataSim["answer"]>[1] }> = [];
  const executed: ReturnType<RdsDataSim["statements"]> = [];

  const execute: CommandHandler = (
    input: { resourceArn?: string; secretArn?: string; sql?: string; database?: string; includeResultMetadata?: boolean },
    ctx: CommandContext,
  ) => {
    for (const f of ["resourceArn", "secretArn", "sql"] as const) {
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
    const sql = String(input.sql);
    executed.push({
      region: ctx.region,
      resourceArn: String(input.resourceArn),
      secretArn: String(input.secretArn),
      ...(input.database !== undefined ? { database: input.database } : {}),
      sql,
      at: new Date(ctx.nowMs),
    });
    const found = [...answers].reverse().find((a) => a.test(sql));
    if (!found) throw dataError(DatabaseErrorException as unknown as Ctor, 400, `ERROR: the sandbox has no answer registered for: ${norm(sql)}`);
    const raw =
      typeof found.answer === "function"
        ? found.answer({ sql, resourceArn: String(input.resourceArn), ...(input.database ? { database: input.database } : {}) })
        : found.answer;
    const ans: SqlAnswer = Array.isArray(raw) ? { rows: raw } : raw;
    if ("error" in ans) throw dataError(DatabaseErrorException as unknown as Ctor, 400, ans.error);
    if ("timeout" in ans) throw dataError(StatementTimeoutException as unknown as Ctor, 400, "The statement timed out.");
    const out: Record<string, unknown> = { records: ans.rows.map((r) => r.map(field)), numberOfRecordsUpdated: 0 };
    if (input.includeResultMetadata)
      out.columnMetadata = (ans.columns ?? ans.rows[0]?.map((_, i) => `column${i + 1}`) ?? []).map((name) => ({ name, label: name }));
    return out;
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [[ExecuteStatementCommand, execute]];

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
  };
}
