/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { alarmPrefix, alarmRoutePattern } from "./patterns.ts";

/** SQS keeps a message at most 14 days: the DLQ holds failed runs for the whole window. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

const deadLetterQueues: { name: string; queue: sst.aws.Queue }[] = [];

/**
 * A dead-letter queue for failed scheduled runs: EventBridge Scheduler sends what it could not deliver,
 * Lambda sends an asynchronous invocation that failed after its retries. One per region, as both
 * services require the queue in the region of the schedule / function.
 */
export function deadLetterQueue(name: string, provider?: aws.Provider): sst.aws.Queue {
  const queue = new sst.aws.Queue(
    name,
    {
      transform: {
        queue: (args) => {
          args.messageRetentionSeconds = DLQ_RETENTION_SECONDS;
          args.sqsManagedSseEnabled = true;
        },
      },
    },
    provider ? { provider } : undefined,
  );
  deadLetterQueues.push({ name, queue });
  return queue;
}

/** Every dead-letter queue declared so far, with the name given to {@link deadLetterQueue} (the dashboard charts their depth). */
export function declaredDeadLetterQueues(): readonly { name: string; queue: sst.aws.Queue }[] {
  return [...deadLetterQueues];
}

/**
 * Alarm notifications to Slack without code: an EventBridge rule on "CloudWatch Alarm State Change"
 * for our own alarms, delivered to the webhook through an API destination.
 *
 * Why not SNS + a notifier Lambda: the notifier would be one more function whose own failure nobody
 * hears about, with its own cold start, code and IAM; an API destination retries for up to 24 h
 * with backoff and sends what it could not deliver to the DLQ. (AWS Chatbot is not available to us.)
 * The trade-off: the webhook URL is stored in the API destination's configuration, readable by
 * principals allowed `events:DescribeApiDestination` (as a Lambda environment would be to
 * `lambda:GetFunctionConfiguration`). It never reaches logs or reports.
 */
export function alarmsToSlack(
  name: string,
  config: Config,
  secret: sst.Secret,
  dlq: sst.aws.Queue,
  provider?: aws.Provider,
  namePrefix?: string,
): { rule: aws.cloudwatch.EventRule; destination: aws.cloudwatch.EventApiDestination } {
  const opts = provider ? { provider } : undefined;
  // With a prefix (the vault stage), each resource is named inside it, so a deployer scoped to the prefix may manage
  // them (stacks/vault-deployer.ts); without one Pulumi names them `<logical name>-<random>`.
  const physical = namePrefix === undefined ? {} : { name: `${namePrefix}alarms-to-slack` };
  // Slack ignores the header; EventBridge connections must carry some authorization.
  const connection = new aws.cloudwatch.EventConnection(
    `${name}Connection`,
    {
      ...physical,
      authorizationType: "API_KEY",
      authParameters: { apiKey: { key: "X-Ops-Autopilot", value: "slack-incoming-webhook" } },
    },
    opts,
  );
  const destination = new aws.cloudwatch.EventApiDestination(
    `${name}Destination`,
    {
      ...physical,
      connectionArn: connection.arn,
      httpMethod: "POST",
      invocationEndpoint: secret.value,
      // Slack's incoming webhooks allow about one message per second.
      invocationRateLimitPerSecond: 1,
    },
    opts,
  );
  const rule = new aws.cloudwatch.EventRule(
    `${name}Rule`,
    {
      ...physical,
      description: `Alarm state changes of ${alarmPrefix(config)} to Slack`,
      eventPattern: JSON.stringify(alarmRoutePattern(config)),
    },
    opts,
  );
  const role = new aws.iam.Role(
    `${name}Role`,
    {
      ...physical,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      inlinePolicies: [
        {
          name: "inline",
          policy: destination.arn.apply((arn) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: ["events:InvokeApiDestination"], Resource: [arn] }],
            }),
          ),
        },
      ],
    },
    opts,
  );
  new aws.cloudwatch.EventTarget(
    `${name}Target`,
    {
      rule: rule.name,
      arn: destination.arn,
      roleArn: role.arn,
      inputTransformer: {
        inputPaths: {
          alarm: "$.detail.alarmName",
          state: "$.detail.state.value",
          reason: "$.detail.state.reason",
          region: "$.region",
        },
        inputTemplate: '{"text": "[<state>] <alarm> (<region>): <reason>"}',
      },
      retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
      deadLetterConfig: { arn: dlq.arn },
    },
    opts,
  );
  // EventBridge needs the queue's resource policy to deliver failed events to the DLQ.
  queueAcceptsFrom(`${name}DlqPolicy`, dlq, "events.amazonaws.com", rule.arn, opts);
  return { rule, destination };
}

const policiesByQueue = new Map<sst.aws.Queue, { statements: $util.Output<unknown>[]; provider?: aws.Provider }>();

/**
 * Allow a service to send to a queue for one source ARN. A queue has one policy: statements are
 * collected and the policy is written by {@link writeQueuePolicies}.
 */
export function queueAcceptsFrom(
  _name: string,
  queue: sst.aws.Queue,
  service: string,
  sourceArn: $util.Input<string>,
  opts?: { provider?: aws.Provider },
): void {
  const entry = policiesByQueue.get(queue) ?? { statements: [], ...(opts?.provider ? { provider: opts.provider } : {}) };
  entry.statements.push(
    $resolve([queue.arn, $output(sourceArn)]).apply(([queueArn, arn]) => ({
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": arn } },
    })),
  );
  policiesByQueue.set(queue, entry);
}

export function writeQueuePolicies(): void {
  let i = 0;
  for (const [queue, entry] of policiesByQueue) {
    new aws.sqs.QueuePolicy(
      `DlqPolicy${i++ === 0 ? "" : i}`,
      {
        queueUrl: queue.url,
        policy: $resolve(entry.statements).apply((statements) => JSON.stringify({ Version: "2012-10-17", Statement: statements })),
      },
      entry.provider ? { provider: entry.provider } : undefined,
    );
  }
  policiesByQueue.clear();
}

export interface AlarmSpec {
  name: string;
  description: string;
}

/** Errors of one function: any error in 5 minutes (scheduled jobs run rarely; one failure matters). */
export function functionErrorsAlarm(config: Config, fnName: string, fn: sst.aws.Function, provider?: aws.Provider) {
  return new aws.cloudwatch.MetricAlarm(
    `${capitalizeFirst(fnName)}ErrorsAlarm`,
    {
      name: `${alarmPrefix(config)}-${fnName}-errors`,
      alarmDescription: `ops-autopilot ${fnName} failed (see its run report and logs)`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn.name },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    provider ? { provider } : undefined,
  );
}

export function dlqMessagesAlarm(config: Config, name: string, queue: sst.aws.Queue, provider?: aws.Provider) {
  return new aws.cloudwatch.MetricAlarm(
    `${name}MessagesAlarm`,
    {
      name: `${alarmPrefix(config)}-${kebab(name)}-messages`,
      alarmDescription: "A scheduled run or an alarm notification could not be delivered or failed after retries",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.nodes.queue.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    provider ? { provider } : undefined,
  );
}

/**
 * The watchdog's heartbeat (EMF metric `WatchdogHeartbeat`, namespace `ops-autopilot`, dimensions
 * `service` and `stage` as Powertools writes them). Missing data is breaching: silence is the failure
 * this alarm exists for (watchdog not scheduled, crashing before its report, or deleted).
 */
export function heartbeatAlarm(config: Config) {
  return new aws.cloudwatch.MetricAlarm("WatchdogHeartbeatAlarm", {
    name: `${alarmPrefix(config)}-watchdog-heartbeat-missing`,
    alarmDescription: "The freshness watchdog has not reported for 2 hours: backups are unwatched",
    namespace: "ops-autopilot",
    metricName: "WatchdogHeartbeat",
    dimensions: { service: "ops-autopilot", stage: config.stage },
    statistic: "Sum",
    period: 3600,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 1,
    comparisonOperator: "LessThanThreshold",
    treatMissingData: "breaching",
  });
}

function capitalizeFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function kebab(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}
