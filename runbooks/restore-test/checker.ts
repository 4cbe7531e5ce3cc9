/**
 * The restore-test checker: the SQL smoke checks of one restored RDS instance, run from inside its VPC with `pg`
 * (functions/restore-test-checker.ts; deployed per restore region by stacks/restore-test.ts, invoked synchronously
 * by the restore-test function through adapters/checker.ts).
 *
 * The credentials come from the secret the event names, read here and never passed on: the event, the answer, the
 * logs and every error carry the secret's ARN and the user, never the password. A restored database keeps the
 * password of the day its snapshot was taken, so when Postgres refuses the current version's password (SQLSTATE
 * 28P01) the checker tries the secret's previous version once: a rotation since the snapshot moved the old password
 * to AWSPREVIOUS (https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version).
 * Refused with both, the run fails with an error naming the secret, the user(s) and both versions.
 */
import { getDbCredentials, type DbCredentials } from "../../adapters/secrets.ts";
import { pgSmoke, type PgSmokeInput, type PgSmokePort, type PgSmokeSsl, type SmokeCheckResult } from "../../adapters/pg-smoke.ts";
import { redactSecret } from "../../core/smoke.ts";
import { parseCheckerEvent, type CheckerEvent } from "../../schemas/events-restore-test-checker.ts";
import { createHandler, type RunContext, type Runtime } from "../lib/handler.ts";

export type SecretStage = "AWSCURRENT" | "AWSPREVIOUS";

export interface CheckerDeps {
  credentials(secretArn: string, stage: SecretStage): Promise<DbCredentials>;
  pg: PgSmokePort;
  /** TLS to the database: "require" in Lambda (RDS expects TLS); tests against a local server disable it. */
  ssl: PgSmokeSsl;
  log?: (message: string, data: Record<string, unknown>) => void;
}

/** The checker's answer, parsed by the restore-test function's SQL port (adapters/checker.ts). */
export interface CheckerResult {
  results: SmokeCheckResult[];
  /** The secret version whose password the database took. */
  secretStage: SecretStage;
  /** Said when the previous version was used: the secret was rotated after the snapshot. */
  note?: string;
}

/** Postgres' "invalid_password" (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const INVALID_PASSWORD = "28P01";

const refused = (results: SmokeCheckResult[]): boolean => results.length > 0 && results.every((r) => r.connectCode === INVALID_PASSWORD);

export async function runChecker(event: CheckerEvent, deps: CheckerDeps): Promise<CheckerResult> {
  const passwords: string[] = [];
  const clean = (text: string) => passwords.reduce((t, p) => redactSecret(t, p), text);
  try {
    const attempt = async (stage: SecretStage) => {
      const creds = await deps.credentials(event.secretArn, stage);
      passwords.push(creds.password);
      const input: PgSmokeInput = {
        host: event.host,
        port: event.port,
        database: event.database,
        user: creds.username,
        password: creds.password,
        ssl: deps.ssl,
        timeoutMs: event.timeoutMs,
        checks: event.checks,
        context: { snapshotTime: new Date(event.context.snapshotTime) },
      };
      return { user: creds.username, results: (await deps.pg.run(input)).map((r) => ({ ...r, reason: clean(r.reason) })) };
    };

    const current = await attempt("AWSCURRENT");
    if (!refused(current.results)) return { results: current.results, secretStage: "AWSCURRENT" };
    deps.log?.("password of AWSCURRENT refused (28P01): trying AWSPREVIOUS", { secretArn: event.secretArn, user: current.user });
    let previous: Awaited<ReturnType<typeof attempt>>;
    try {
      previous = await attempt("AWSPREVIOUS");
    } catch (err) {
      throw new Error(
        `Postgres refused the password of secret ${event.secretArn} for user ${current.user} (AWSCURRENT), and its AWSPREVIOUS version could not be read: ${clean(String((err as Error).message ?? err))}`,
      );
    }
    if (refused(previous.results)) {
      const users = previous.user === current.user ? `user ${current.user}` : `users ${current.user} (AWSCURRENT) and ${previous.user} (AWSPREVIOUS)`;
      throw new Error(
        `Postgres refused the password of secret ${event.secretArn} for ${users} at ${event.host}:${event.port}/${event.database}: tried both AWSCURRENT and AWSPREVIOUS (${INVALID_PASSWORD} invalid_password)`,
      );
    }
    const note = `the database took the password of secret ${event.secretArn} version AWSPREVIOUS (user ${previous.user}): the secret was rotated after the snapshot`;
    deps.log?.(note, { secretArn: event.secretArn, user: previous.user });
    return { results: previous.results, secretStage: "AWSPREVIOUS", note };
  } catch (err) {
    // Whatever failed, no password leaves in the error (pg's own messages do not carry it; this holds if one ever did).
    if (err instanceof Error) {
      err.message = clean(err.message);
      if (err.stack) err.stack = clean(err.stack);
    }
    throw err;
  }
}

export interface CheckerHandlerOptions {
  deps?: (ctx: RunContext) => CheckerDeps;
  runtime?: Runtime;
}

/** The production ports: Secrets Manager (in the secret's own region), `pg` with TLS required. */
export function realCheckerDeps(ctx: RunContext): CheckerDeps {
  return { credentials: getDbCredentials, pg: pgSmoke(), ssl: "require", log: (message, data) => ctx.logger.info(message, data) };
}

/**
 * The checker on the one handler chain. It keeps no report object and posts nothing: its answer goes back to the
 * restore-test function, which reports the run; a failure is thrown, so the caller gets it as the function's error.
 */
export function makeCheckerHandler(options: CheckerHandlerOptions = {}) {
  return createHandler(
    {
      name: "restore-test-checker",
      parse: parseCheckerEvent,
      posts: false,
      run: async (event, ctx) => {
        const result = await runChecker(event, options.deps?.(ctx) ?? realCheckerDeps(ctx));
        const failed = result.results.filter((r) => !r.passed).length;
        return {
          report: { ...result },
          message: null,
          failures: [],
          nothingToReport: `${result.results.length} check(s), ${failed} failed, secret version ${result.secretStage}`,
        };
      },
    },
    { saveReport: async () => undefined, ...options.runtime },
  );
}
