// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { SqlCheckSchema } from "./config-restore-test.ts";
import { parseOrThrow } from "./validate.ts";

/**
 * The event of the `restore-test-checker` function: the restore-test runbook's SQL smoke checks against one restored
 * RDS instance (runbooks/restore-test/checker.ts), invoked synchronously by the restore-test function
 * (adapters/checker.ts). It names the secret, never a password: the checker reads the credentials itself.
 *
 * @example
 * { "host": "oa-app-prod-rt-orders.abc.eu-central-1.rds.amazonaws.com", "port": 5432, "database": "app",
 *   "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0f…-AbCdEf",
 *   "checks": [{ "name": "orders", "query": "select count(*) from orders", "expect": { "atLeast": 1 } }],
 *   "context": { "snapshotTime": "2026-11-30T02:00:00.000Z" }, "timeoutMs": 30000 }
 */
export const CheckerEventSchema = z
  .object({
    host: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.-]+$/, "expected a host name or an IPv4 address"),
    port: z.number().int().min(1).max(65_535),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, "expected a Postgres database name (letters, digits, _ and $, at most 63)"),
    secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "expected a Secrets Manager secret ARN"),
    checks: z.array(SqlCheckSchema).min(1).max(50),
    context: z.object({ snapshotTime: z.iso.datetime() }).strict(),
    /** Per query (the server's statement_timeout); the function's own timeout bounds the whole run. */
    timeoutMs: z.number().int().min(1000).max(300_000),
  })
  .strict();

export type CheckerEvent = z.output<typeof CheckerEventSchema>;

/** Parse the checker's event; throws a ValidationError naming the bad field. */
export function parseCheckerEvent(raw: unknown): CheckerEvent {
  return parseOrThrow(CheckerEventSchema, raw, "restore-test-checker event");
}
