import middy from "@middy/core";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Context } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { configFromFile, deployedConfigFile, type Config } from "../../schemas/config.ts";
import type { ItemFailure } from "../../core/types.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import { redactSecrets, renderRunAlert } from "../../core/report/run-error.ts";
import { withReportLink, type ReportLink } from "../../core/report/report-link.ts";
import { s3ObjectConsoleUrl } from "../../core/console-urls.ts";
import { HOUR_MS } from "../../core/alert-lifecycle.ts";
import { describeItemFailures, type RunFailureDetail, type RunResult } from "../../core/run-alerts.ts";
import { putJson, type BucketRef } from "../../adapters/s3.ts";
import { s3AlertState, type AlertStatePort } from "../../adapters/alert-state.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { publishToTopic, type TopicRef } from "../../adapters/sns.ts";
import { alertSeverity, quietReason, routeMessage, type Destination, type MessageRouteInput } from "../../core/notify-routing.ts";
import { classifyError, errorName } from "../../adapters/errors.ts";
import { linkedBucket, linkedSlackUrl, linkedSlackUrlFor, linkedTopic } from "./resources.ts";
import { noteInvocationConfig, runInvocation } from "./invocation.ts";
import { planRunAlert, type RunAlertPlan } from "./run-alerts.ts";

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
 * failure report behind, redacted, before the original error is rethrown.
 * A run with nothing worth a report (`nothingToReport`: an ignored OK alarm) writes and posts nothing.
 *
 * Failed runs are on the alert lifecycle (core/run-alerts.ts, one incident per function): the first run that throws or
 * finishes with item failures sends a critical (pager and alerts channel), failed runs after it a reminder at most
 * every `alerts.remindEveryHours` (Lambda's retries of a failed run send nothing), and the first run without failures
 * "resolved". The state is `state/alerts/runs/<function>.json` in the Reports bucket; dry runs and functions that do
 * not post never touch it. Every message the chain sends (summary, lifecycle, `ctx.post`) links the run's report
 * (core/report/report-link.ts), or says that it could not be saved.
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
   * alert, which pages and goes to the alerts channel). Absent outside the handler chain. The message gets the link
   * to the report this run saves when it finishes (its key is fixed when the run starts); should that save fail, the
   * run fails with {@link ReportDeliveryError} and its summary says the report was not saved.
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
  /**
   * The invocation's answer instead of the whole report (with `reportKey` added): a fleet item's counts for the
   * fan-out's Map, which must stay within Step Functions' 256 KiB task result
   * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html) however long the report grows.
   */
  response?: Record<string, unknown>;
}

/** A fleet item's member account and region (schemas/events-fleet.ts), as its reports name it. */
export interface FleetItemRef {
  account: string;
  accountName: string;
  region: string;
}

export interface HandlerSpec<E> {
  /** Function name as in `functions/<name>.ts` and `stacks/`. */
  name: string;
  /** Validates the raw event; throws a ValidationError naming the field. */
  parse: (event: unknown) => E;
  run: (event: E, ctx: RunContext) => Promise<RunOutcome>;
  /** Post `message` to Slack (functions that post are linked to the secret). Default true. */
  posts?: boolean;
  /**
   * The fleet item an event is, if any: its run posts no summary and opens no failed-run alert of its own (the fleet
   * summary reports every item, runbooks/fleet/summary.ts), and its reports, failed ones too, name its account and
   * region. Messages the run sends itself (`ctx.post`: the watchdog's stale alerts) still go out.
   */
  fleetItem?: (event: E) => FleetItemRef | undefined;
}

/** Everything a handler reads from its environment, replaceable for tests and the drill. */
export interface Runtime {
  config?: () => Config;
  now?: () => Date;
  /** The Reports bucket: reports, the failed-run alert state, and where the messages' report links point. */
  reportBucket?: () => BucketRef;
  slackUrl?: () => string;
  /** The pager topic (default: the linked `AlertsTopic`, absent when not linked). */
  topic?: () => TopicRef | undefined;
  /** Replaces the SNS publish to the pager topic. */
  publish?: (message: SlackMessage) => Promise<void>;
  /**
   * Replaces the S3 write of the report. Messages then link the report by key only, unless `reportBucket` names
   * where it goes.
   */
  saveReport?: (key: string, report: unknown) => Promise<void>;
  /** Replaces the failed-run alert state of a function (default: `state/alerts/runs/<function>.json` in the report bucket). */
  runAlertState?: (functionName: string) => AlertStatePort<RunFailureDetail>;
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

/** The failed-run alert state's source: `state/alerts/runs/<function>.json` (adapters/alert-state.ts alertStateKey). */
export function runAlertSource(functionName: string): string {
  return `runs/${functionName}`;
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
    const item = spec.fleetItem?.(event);
    const posts = spec.posts !== false && !item;
    /** What every run report starts with, finished or failed. */
    const reportHeader = (finished: Date) => ({
      function: spec.name,
      app: config.app,
      stage: config.stage,
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - startedAt.getTime(),
      ...(item ? { account: item.account, accountName: item.accountName, region: item.region } : {}),
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
      post: (message, route) => post(withReportLink(message, linkTo(true)), { kind: "alert", severity: "critical", ...route }),
    };

    const key = reportKey(spec.name, startedAt, runId);
    /** Where the report's link points: the report bucket named by the runtime or linked; none when the store is replaced. */
    const linkBucket = (): BucketRef | undefined => {
      if (runtime.reportBucket) return runtime.reportBucket();
      if (runtime.saveReport) return undefined;
      try {
        return linkedBucket(config);
      } catch {
        return undefined;
      }
    };
    const linkTo = (saved: boolean): ReportLink => {
      if (!saved) return { unsaved: key };
      const ref = linkBucket();
      return ref ? { url: s3ObjectConsoleUrl(ref, key) } : { key };
    };
    const remindEveryMs = config.alerts.remindEveryHours * HOUR_MS;
    /** This run on the failed-run lifecycle; only for functions that post, never on a dry run. */
    const planAlert = (run: RunResult): Promise<RunAlertPlan> =>
      planRunAlert({
        functionName: spec.name,
        run,
        remindEveryMs,
        store: () =>
          runtime.runAlertState
            ? runtime.runAlertState(spec.name)
            : s3AlertState<RunFailureDetail>((runtime.reportBucket ?? (() => linkedBucket(config)))(), runAlertSource(spec.name)),
        logger,
      });
    /** Send the lifecycle's message with the report link; a message that does not go out is given back to the next run. */
    const sendAlert = async (plan: RunAlertPlan | undefined, saved: boolean, finished: Date): Promise<string | undefined> => {
      if (!plan?.decision) return undefined;
      const message = renderRunAlert(plan.decision, {
        app: config.app,
        stage: config.stage,
        remindEveryHours: config.alerts.remindEveryHours,
        runId,
        now: finished,
      });
      try {
        await post(withReportLink(message, linkTo(saved)), { kind: "run-failed", severity: alertSeverity(plan.decision.kind) });
        return undefined;
      } catch (err) {
        await plan.giveBack?.();
        return `${plan.decision.kind} alert not delivered: ${(err as Error).message}`;
      }
    };
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

    /** Failure report and lifecycle alert for a run that threw; their own delivery problems are logged, never thrown. */
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
      const failureText = message.startsWith(`${name}: `) || name === "Error" ? message : `${name}: ${message}`;
      const plan = !posts || dryRun ? undefined : await planAlert({ runId, at: finished, failure: { threw: true, headline: name, message: failureText } });
      const report = {
        ...reportHeader(finished),
        ...(dryRun ? { dryRun: true } : {}),
        status: "failed",
        error: { name, message },
        failures: [{ item: "run", kind: kind === "exists" || kind === "not-found" ? "fatal" : kind, message: failureText }],
        ...(plan ? { runAlert: plan.entry } : {}),
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
      const problem = await sendAlert(plan, saved, finished);
      // SlackDeliveryError messages never contain the webhook URL; redacted all the same.
      if (problem) logger.error("failure alert not delivered", { error: redactSecrets(problem, secrets) });
    }

    const finishedAt = now();
    if (outcome.nothingToReport !== undefined && outcome.failures.length === 0) {
      // One S3 object per ignored alarm would be noise and cost; the log line is the record.
      logger.info("nothing to report", { reason: outcome.nothingToReport });
      return { ...reportHeader(finishedAt), ...outcome.report, failures: outcome.failures };
    }
    const plan =
      !posts || outcome.report.dryRun
        ? undefined
        : await planAlert({
            runId,
            at: finishedAt,
            ...(outcome.failures.length ? { failure: { threw: false, ...describeItemFailures(outcome.failures) } } : {}),
          });
    const report = {
      ...reportHeader(finishedAt),
      ...outcome.report,
      failures: outcome.failures,
      ...(plan ? { runAlert: plan.entry } : {}),
    };

    // Deliver the report, the summary and the lifecycle's message even when one of them fails, then fail loudly.
    const deliveryErrors: string[] = [];
    let saved = false;
    try {
      await save(report);
      saved = true;
      logger.info("run report saved", { key });
    } catch (err) {
      deliveryErrors.push(`report not saved to ${key}: ${(err as Error).message}`);
    }
    if (outcome.message && posts && !outcome.report.dryRun) {
      try {
        const failed = outcome.failures.length > 0;
        await post(withReportLink(outcome.message, linkTo(saved)), {
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
    const alertProblem = await sendAlert(plan, saved, finishedAt);
    if (alertProblem) deliveryErrors.push(alertProblem);

    if (outcome.failures.length > 0) {
      // Delivery problems travel with the item failures so neither hides the other.
      const all = [...outcome.failures, ...deliveryErrors.map((message) => ({ item: "run report / Slack", kind: "fatal" as const, message }))];
      logger.error("run finished with failures", { failures: all });
      throw new AggregateRunError(spec.name, all);
    }
    if (deliveryErrors.length > 0) throw new ReportDeliveryError(deliveryErrors.join("; "));
    logger.info("run finished", { durationMs: report.durationMs });
    return { ...(outcome.response ?? report), reportKey: key };
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
