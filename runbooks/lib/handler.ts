import middy from "@middy/core";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Context } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { configFromFile, deployedConfigFile, type Config } from "../../schemas/config.ts";
import type { ItemFailure } from "../../core/types.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import { redactSecrets, renderRunError } from "../../core/report/run-error.ts";
import { putJson, type BucketRef } from "../../adapters/s3.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { publishToTopic, type TopicRef } from "../../adapters/sns.ts";
import { quietReason, routeMessage, type Destination, type MessageRouteInput } from "../../core/notify-routing.ts";
import { classifyError, errorName } from "../../adapters/errors.ts";
import { linkedBucket, linkedSlackUrl, linkedSlackUrlFor, linkedTopic } from "./resources.ts";
import { noteInvocationConfig, runInvocation } from "./invocation.ts";

/**
 * The single middy chain every ops-autopilot function runs through:
 *
 *   parse event (zod; a bad event fails here, before any AWS call)
 *   → read and validate config → the function's `run` (core decides, adapters execute)
 *   → save the JSON run report to S3 → post one Slack summary
 *   → rethrow collected per-item failures as one {@link AggregateRunError}
 *     so Lambda retries, the DLQ and the error alarms fire.
 *
 * A `run` that throws (a listing that failed after the SDK's retries, Cost Explorer refusing) still leaves a
 * failure report and a short critical alert behind, both redacted, before the original error is rethrown.
 * A run with nothing worth a report (`nothingToReport`: an ignored OK alarm) writes and posts nothing.
 *
 * The report bucket and the Slack secret are read inside the invocation, never at import. The config is the
 * file the function's package carries, read and validated once per container ({@link deployedConfig}). Every
 * one of them can be replaced through {@link Runtime} (tests, the drill and the sandbox pass the config in).
 */

/** What a function's `run` gets besides its parsed event. */
export interface RunContext {
  config: Config;
  /** The clock. Scenario tests and the drill pass a simulated one. */
  now: () => Date;
  /** Milliseconds left before the Lambda deadline. */
  remainingMs: () => number;
  /** True once less than `config.backup.deadlineMarginMs` is left: stop starting new work. */
  nearDeadline: () => boolean;
  logger: Logger;
  runId: string;
  functionName: string;
  /** Publish CloudWatch metrics (EMF on stdout in Lambda); returns what was published. */
  emitMetrics: (points: MetricPoint[]) => void;
  /**
   * Send a message now, during the run (the alert lifecycle's messages, which go out only once their state is
   * stored), to the destinations its kind and severity route it to (core/notify-routing.ts; default: a critical
   * alert, which pages and goes to the alerts channel). Absent outside the handler chain.
   */
  post?: (message: SlackMessage, route?: Pick<MessageRouteInput, "kind" | "severity">) => Promise<void>;
}

/** One CloudWatch metric value with its dimensions (namespace `ops-autopilot`). */
export interface MetricPoint {
  name: string;
  unit: "Count" | "Seconds" | "Milliseconds" | "None";
  value: number;
  dimensions?: Record<string, string>;
}

/** What a function's `run` returns: the report, the Slack summary and the failures to rethrow. */
export interface RunOutcome {
  /** Saved as JSON to the reports bucket; also the invocation's response. */
  report: Record<string, unknown> & { dryRun?: boolean };
  /** One Slack summary, or null when the run has nothing worth a message. Not posted on dry-runs. */
  message: SlackMessage | null;
  failures: ItemFailure[];
  /**
   * Why this run has nothing worth a report (an OK alarm, an alarm that is not ours): the chain then saves no
   * report and posts nothing, only logs this reason, and still returns `report` as the response. Ignored
   * when there are failures: those are always reported.
   */
  nothingToReport?: string;
  /**
   * Whether the run changed anything (created, copied, deleted, promoted, ...): with `notifications.runSummaries.quiet`
   * the summary of a run that changed nothing and failed nothing is not sent. Absent: counted as changed.
   */
  changed?: boolean;
}

export interface HandlerSpec<E> {
  /** Function name as in `functions/<name>.ts` and `stacks/`. */
  name: string;
  /** Validates the raw event; throws a ValidationError naming the field. */
  parse: (event: unknown) => E;
  run: (event: E, ctx: RunContext) => Promise<RunOutcome>;
  /** Post `message` to Slack (functions that post are linked to the secret). Default true. */
  posts?: boolean;
}

/** Everything a handler reads from its environment, replaceable for tests and the drill. */
export interface Runtime {
  config?: () => Config;
  now?: () => Date;
  reportBucket?: () => BucketRef;
  slackUrl?: () => string;
  /** The pager topic (default: the linked `AlertsTopic`, absent when not linked). */
  topic?: () => TopicRef | undefined;
  /** Replaces the SNS publish to the pager topic. */
  publish?: (message: SlackMessage) => Promise<void>;
  /** Replaces the S3 write of the report. */
  saveReport?: (key: string, report: unknown) => Promise<void>;
  /** Replaces the webhook post, for every Slack destination (each message reaches at most one Slack channel). */
  postSlack?: (message: SlackMessage, destination?: Exclude<Destination, "pager">) => Promise<void>;
  logger?: Logger;
  /** Replaces the EMF output of metrics. */
  emitMetrics?: (points: MetricPoint[]) => void;
}

/** One error for every per-item failure of a run, thrown after the report is saved and posted. */
export class AggregateRunError extends Error {
  override name = "AggregateRunError";
  readonly failures: ItemFailure[];
  constructor(functionName: string, failures: ItemFailure[]) {
    const shown = failures
      .slice(0, 10)
      .map((f) => `${f.item}${f.region ? ` (${f.region})` : ""}: ${f.kind}: ${f.message}`)
      .join("; ");
    const more = failures.length > 10 ? `; and ${failures.length - 10} more (see the run report)` : "";
    super(`${functionName}: ${failures.length} item(s) failed: ${shown}${more}`);
    this.failures = failures;
  }
}

/** Thrown when saving the report or posting to Slack fails; the run's own work is done by then. */
export class ReportDeliveryError extends Error {
  override name = "ReportDeliveryError";
}

/** Report key: reports/<function>/<yyyy-mm-dd>/<iso time>-<run id>.json */
export function reportKey(functionName: string, at: Date, runId: string): string {
  const iso = at.toISOString();
  return `reports/${functionName}/${iso.slice(0, 10)}/${iso.replace(/[:.]/g, "-")}-${runId}.json`;
}

const sharedLogger = new Logger({ serviceName: "ops-autopilot" });

let deployed: { config: Config } | { error: unknown } | undefined;

/**
 * The stage's configuration from the file in the function's package (`$LAMBDA_TASK_ROOT/ops-autopilot.config.json`),
 * read and validated on the first call and kept for the container's life: the package cannot change under a
 * running container. A missing or bad file is remembered too, so every invocation fails with the same message.
 */
function deployedConfig(): Config {
  if (!deployed) {
    try {
      deployed = { config: configFromFile(deployedConfigFile()) };
    } catch (error) {
      deployed = { error };
    }
  }
  if ("error" in deployed) throw deployed.error;
  return deployed.config;
}

/** EMF through Powertools: one metric set per dimension set, flushed at once. */
function emitEmf(stage: string, points: MetricPoint[]): void {
  for (const p of points) {
    const metrics = new Metrics({ namespace: "ops-autopilot", serviceName: "ops-autopilot", defaultDimensions: { stage } });
    for (const [k, v] of Object.entries(p.dimensions ?? {})) metrics.addDimension(k, v);
    metrics.addMetric(p.name, p.unit === "None" ? MetricUnit.NoUnit : MetricUnit[p.unit], p.value);
    metrics.publishStoredMetrics();
  }
}

/**
 * Build the Lambda handler for a function.
 *
 * @example
 * export const handler = createHandler({ name: "watchdog", parse: parseWatchdogEvent, run: runWatchdog });
 */
export function createHandler<E>(spec: HandlerSpec<E>, runtime: Runtime = {}) {
  const logger = runtime.logger ?? sharedLogger;
  const configOf = runtime.config ?? deployedConfig;
  // In Lambda, read the config during INIT (handlers are created at import), so no invocation pays for it; its
  // error, if any, is thrown by the invocation, where the caller sees it.
  if (!runtime.config && process.env.LAMBDA_TASK_ROOT) {
    try {
      deployedConfig();
    } catch {
      // Remembered by deployedConfig and thrown by every invocation.
    }
  }

  const base = async (event: E, context: Context): Promise<Record<string, unknown>> => {
    const now = runtime.now ?? (() => new Date());
    const config = configOf();
    noteInvocationConfig(config);
    const startedAt = now();
    const runId = context.awsRequestId || randomUUID();
    /** What every run report starts with, finished or failed. */
    const reportHeader = (finished: Date) => ({
      function: spec.name,
      app: config.app,
      stage: config.stage,
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - startedAt.getTime(),
    });
    const remainingMs = () => (typeof context.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY);
    const ctx: RunContext = {
      config,
      now,
      remainingMs,
      nearDeadline: () => remainingMs() < config.backup.deadlineMarginMs,
      logger,
      runId,
      functionName: spec.name,
      emitMetrics: (points) => (runtime.emitMetrics ?? ((p) => emitEmf(config.stage, p)))(points),
      post: (message, route) => post(message, { kind: "alert", severity: "critical", ...route }),
    };

    const key = reportKey(spec.name, startedAt, runId);
    const save = async (report: unknown): Promise<void> => {
      if (runtime.saveReport) await runtime.saveReport(key, report);
      else await putJson((runtime.reportBucket ?? (() => linkedBucket(config)))(), key, report);
    };
    /**
     * Deliver to every destination the message is routed to, each tried even when another fails (a pager outage
     * must not cost the Slack message), then fail with what did not go out.
     */
    const post = async (message: SlackMessage, route: MessageRouteInput): Promise<void> => {
      const routes = routeMessage(route, config.notifications);
      if (!routes.length) {
        logger.info("message not sent", { reason: quietReason(route) });
        return;
      }
      const problems: string[] = [];
      for (const r of routes) {
        try {
          if (r.destination === "pager") await page(message);
          else if (runtime.postSlack) await runtime.postSlack(message, r.destination);
          else await postToSlack(runtime.slackUrl ? runtime.slackUrl() : linkedSlackUrlFor(r.destination), message);
          logger.info("message sent", { destination: r.destination, reason: r.reason });
        } catch (err) {
          // SlackDeliveryError messages never contain the webhook URL; SNS errors carry no secret.
          problems.push(`${r.destination}: ${(err as Error).message}`);
        }
      }
      if (problems.length) throw new Error(problems.join("; "));
    };
    const page = async (message: SlackMessage): Promise<void> => {
      if (runtime.publish) return runtime.publish(message);
      const topic = (runtime.topic ?? (() => linkedTopic(config)))();
      // Only functions that page are linked to the topic (stacks/lambda.ts); a run without it still posts to Slack.
      if (!topic) logger.warn("pager topic not linked to this function: not paged");
      else await publishToTopic(topic, message);
    };
    const slackUrl = (): string => (runtime.slackUrl ?? linkedSlackUrl)();

    let outcome: RunOutcome;
    try {
      outcome = await spec.run(event, ctx);
    } catch (err) {
      await reportRunError(err);
      // The original error, so Lambda's retries, the dead-letter queue and the error alarm see what failed.
      throw err;
    }

    /** Failure report and alert for a run that threw; their own delivery problems are logged, never thrown. */
    async function reportRunError(err: unknown): Promise<void> {
      const finished = now();
      const secrets: string[] = [];
      try {
        secrets.push(slackUrl());
      } catch {
        // Not linked to the webhook: there is no URL to leak.
      }
      const name = redactSecrets(errorName(err), secrets, 100);
      const message = redactSecrets(String((err as { message?: unknown } | undefined)?.message ?? err), secrets);
      const dryRun = (event as { dryRun?: unknown } | undefined)?.dryRun === true;
      const kind = classifyError(err);
      const report = {
        ...reportHeader(finished),
        ...(dryRun ? { dryRun: true } : {}),
        status: "failed",
        error: { name, message },
        failures: [
          {
            item: "run",
            kind: kind === "exists" || kind === "not-found" ? "fatal" : kind,
            message: message.startsWith(`${name}: `) || name === "Error" ? message : `${name}: ${message}`,
          },
        ],
      };
      logger.error("run failed before its report", { error: report.error, key });
      let saved = false;
      try {
        await save(report);
        saved = true;
        logger.info("failure report saved", { key });
      } catch (e) {
        logger.error("failure report not saved", { key, error: redactSecrets((e as Error).message, secrets) });
      }
      if (spec.posts === false || dryRun) return;
      try {
        await post(
          renderRunError({
            functionName: spec.name,
            app: config.app,
            stage: config.stage,
            runId,
            errorName: name,
            errorMessage: message,
            ...(saved ? { reportKey: key } : {}),
          }),
          { kind: "run-failed", severity: "critical" },
        );
      } catch (e) {
        // SlackDeliveryError messages never contain the webhook URL; redacted all the same.
        logger.error("failure alert not delivered", { error: redactSecrets((e as Error).message, secrets) });
      }
    }

    const finishedAt = now();
    const report = {
      ...reportHeader(finishedAt),
      ...outcome.report,
      failures: outcome.failures,
    };

    if (outcome.nothingToReport !== undefined && outcome.failures.length === 0) {
      // One S3 object per ignored alarm would be noise and cost; the log line is the record.
      logger.info("nothing to report", { reason: outcome.nothingToReport });
      return report;
    }

    // Deliver the report and the summary even when one of them fails, then fail loudly.
    const deliveryErrors: string[] = [];
    try {
      await save(report);
      logger.info("run report saved", { key });
    } catch (err) {
      deliveryErrors.push(`report not saved to ${key}: ${(err as Error).message}`);
    }
    if (outcome.message && spec.posts !== false && !outcome.report.dryRun) {
      try {
        const failed = outcome.failures.length > 0;
        await post(outcome.message, {
          kind: spec.name === "cost" ? "cost-digest" : "run-summary",
          severity: failed ? "warning" : "info",
          failed,
          ...(outcome.changed !== undefined ? { changed: outcome.changed } : {}),
        });
      } catch (err) {
        // SlackDeliveryError messages never contain the webhook URL.
        deliveryErrors.push(`Slack summary not delivered: ${(err as Error).message}`);
      }
    }

    if (outcome.failures.length > 0) {
      // Delivery problems travel with the item failures so neither hides the other.
      const all = [...outcome.failures, ...deliveryErrors.map((message) => ({ item: "run report / Slack", kind: "fatal" as const, message }))];
      logger.error("run finished with failures", { failures: all });
      throw new AggregateRunError(spec.name, all);
    }
    if (deliveryErrors.length > 0) throw new ReportDeliveryError(deliveryErrors.join("; "));
    logger.info("run finished", { durationMs: report.durationMs });
    return { ...report, reportKey: key };
  };

  return middy((event: E, context: Context) => runInvocation(spec.name, () => base(event, context)))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      name: "parse-event",
      before: (request) => {
        // A malformed event stops here: nothing else runs, no AWS call is made.
        request.event = spec.parse(request.event) as never;
      },
    });
}
