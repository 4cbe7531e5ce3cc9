import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import type { Runtime } from "../../runbooks/lib/handler.ts";
import type { Config } from "../../schemas/config.ts";

/** A runtime for handler tests on the sandbox: the given config and clock; reports, Slack and metrics go nowhere. */
export function quietRuntime(config: Config, clock: { now(): Date }, extra: Partial<Runtime> = {}): Runtime {
  return {
    config: () => config,
    now: () => clock.now(),
    saveReport: async () => {},
    postSlack: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ logLevel: "SILENT" }),
    ...extra,
  };
}

/** The Lambda context a handler sees: its request id (Lambda keeps it on async retries) and time left. */
export const lambdaContext = (requestId: string, remainingMs: number | (() => number) = 600_000): Context =>
  ({ awsRequestId: requestId, getRemainingTimeInMillis: typeof remainingMs === "number" ? () => remainingMs : remainingMs }) as unknown as Context;
