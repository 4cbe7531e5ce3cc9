import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, InitializeMiddleware, MetadataBearer, Pluggable } from "@smithy/types";

/**
 * Read-only clients, for `npm run plan`: a middleware on every SDK client that refuses any command not on an
 * explicit allow-list of reads, before the request is built, signed or sent. Deny by default, by command
 * name: a command added to an adapter tomorrow is refused until someone lists it here as a read.
 *
 * The list holds only the reads the plan makes (each one declared as an IAM action in adapters/calls.ts;
 * test/unit/plan/read-only.test.ts checks both, and that every mutating call of ADAPTER_CALLS is refused).
 */

/** Services of adapters/clients.ts, by the client names the SDK puts in the handler context. */
export type ReadOnlyService =
  | "rds"
  | "ec2"
  | "s3"
  | "cloudwatch"
  | "route53"
  | "ce"
  | "rds-data"
  | "secretsmanager"
  | "lambda"
  | "sns"
  | "sts"
  | "organizations";

/** The reads the plan sends, per service (command names without `Command`). Route 53: none. */
export const READ_ONLY_OPERATIONS: Readonly<Record<ReadOnlyService, readonly string[]>> = {
  rds: ["DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots", "DescribeDBClusterSnapshots", "DescribeGlobalClusters"],
  ec2: ["DescribeVolumes", "DescribeImages", "DescribeSnapshots"],
  s3: ["GetObject"],
  cloudwatch: ["GetMetricData"],
  route53: [],
  ce: ["GetCostAndUsage", "GetCostForecast"],
  // Restore tests are not planned: the plan reads no secret, runs no SQL and invokes nothing.
  "rds-data": [],
  secretsmanager: [],
  lambda: [],
  // The plan pages nobody.
  sns: [],
  // The plan reads the central account only: it assumes no member role.
  sts: [],
  // fleet-targets' discovery of the OU's accounts, a read.
  organizations: ["ListAccountsForParent"],
};

/** The verbs a read operation starts with; anything else is never allowed, whatever the list says. */
export const READ_VERBS = ["Describe", "List", "Get", "Head"] as const;

export const isReadName = (operation: string): boolean => READ_VERBS.some((v) => operation.startsWith(v) && /^[A-Z]/.test(operation.slice(v.length)));

/** True when `operation` of `service` may be sent by a read-only client. */
export function isAllowedRead(service: ReadOnlyService, operation: string): boolean {
  return isReadName(operation) && READ_ONLY_OPERATIONS[service].includes(operation);
}

/** A command a read-only client refused; nothing was sent. */
export class ReadOnlyViolation extends Error {
  override name = "ReadOnlyViolation";
  readonly service: string;
  readonly operation: string;
  constructor(service: string, operation: string) {
    super(`read-only mode: ${service}:${operation} refused before sending (the plan sends only ${READ_VERBS.join("/")}* reads on its allow-list)`);
    this.service = service;
    this.operation = operation;
  }
}

export const READ_ONLY_MIDDLEWARE_NAME = "opsAutopilotReadOnly";

/** The operation name of a command from its handler context (`DescribeDBInstancesCommand` → `DescribeDBInstances`). */
export function operationOf(context: HandlerExecutionContext): string {
  const name = String((context as { commandName?: unknown }).commandName ?? "");
  return name.endsWith("Command") ? name.slice(0, -"Command".length) : name;
}

/**
 * The middleware: first in the `initialize` step, so a refused command throws before serialization, signing,
 * retries or any network I/O. An unnamed command (no `commandName` in the context) is refused too.
 */
export function readOnlyMiddleware(service: ReadOnlyService): InitializeMiddleware<object, MetadataBearer> {
  return (next: InitializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) => async (args: InitializeHandlerArguments<object>) => {
    const operation = operationOf(context);
    if (!operation || !isAllowedRead(service, operation)) throw new ReadOnlyViolation(service, operation || "(unnamed command)");
    return next(args);
  };
}

/** The middleware as a plugin: `client.middlewareStack.use(readOnlyPlugin("rds"))`. */
export function readOnlyPlugin(service: ReadOnlyService): Pluggable<object, MetadataBearer> {
  return {
    applyToStack(stack) {
      stack.add(readOnlyMiddleware(service), { step: "initialize", priority: "high", name: READ_ONLY_MIDDLEWARE_NAME, override: true });
    },
  };
}
