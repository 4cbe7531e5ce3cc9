import { Resource } from "sst/resource";
import type { Config } from "../../schemas/config.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import type { TopicRef } from "../../adapters/sns.ts";
import { UNSET_SECRET, type Destination } from "../../core/notify-routing.ts";

export { UNSET_SECRET };

/**
 * Linked SST resources, read at call time (SST injects them into the function's environment).
 * Link names must match `stacks/`: the bucket is `Reports`, the webhook secrets `SlackWebhookUrl` (runs channel, and
 * every channel's fallback), `SlackAlertsWebhookUrl` and `SlackCostWebhookUrl`, the pager topic `AlertsTopic`.
 */
interface Linked {
  Reports?: { name: string };
  SlackWebhookUrl?: { value: string };
  SlackAlertsWebhookUrl?: { value: string };
  SlackCostWebhookUrl?: { value: string };
  AlertsTopic?: { arn: string };
}

/** The secret each Slack destination reads (the runs channel's is also everyone's fallback). */
export const CHANNEL_SECRETS = {
  "alerts-slack": "SlackAlertsWebhookUrl",
  "cost-slack": "SlackCostWebhookUrl",
  "runs-slack": "SlackWebhookUrl",
} as const satisfies Record<Exclude<Destination, "pager">, keyof Linked>;

function linked(name: keyof Linked): unknown {
  try {
    return (Resource as unknown as Linked)[name];
  } catch {
    // SST's Resource proxy throws for names that were not linked to this function.
    return undefined;
  }
}

export function linkedBucket(config: Config): BucketRef {
  const bucket = linked("Reports") as Linked["Reports"];
  if (!bucket?.name) throw new Error("the Reports bucket is not linked to this function (stacks/ must link it)");
  return { bucket: bucket.name, region: config.primaryRegion };
}

export function linkedSlackUrl(): string {
  const secret = linked("SlackWebhookUrl") as Linked["SlackWebhookUrl"];
  if (!secret?.value) throw new Error("the SlackWebhookUrl secret is not linked to this function or has no value (sst secret set SlackWebhookUrl ...)");
  return secret.value;
}

/** The webhook of a Slack destination: its own secret when it is linked and set, else `SlackWebhookUrl`. */
export function linkedSlackUrlFor(destination: Exclude<Destination, "pager">): string {
  const name = CHANNEL_SECRETS[destination];
  if (name === "SlackWebhookUrl") return linkedSlackUrl();
  const secret = linked(name) as { value: string } | undefined;
  return secret?.value && secret.value !== UNSET_SECRET ? secret.value : linkedSlackUrl();
}

/**
 * The pager topic in its own region, read from its ARN (`arn:<partition>:sns:<region>:<account>:<name>`): the failover
 * control region when failover is configured (stacks/patterns.ts pagerTopicRegion), so functions of the primary
 * region publish cross-region. Undefined when it is not linked to this function.
 */
export function linkedTopic(_config?: Config): TopicRef | undefined {
  const topic = linked("AlertsTopic") as Linked["AlertsTopic"];
  if (!topic?.arn) return undefined;
  return { arn: topic.arn, region: topicRegion(topic.arn) };
}

/** The region of an SNS topic ARN; throws on anything else, so a bad link fails loudly instead of publishing nowhere. */
export function topicRegion(arn: string): string {
  const [prefix, , service, region] = arn.split(":");
  if (prefix !== "arn" || service !== "sns" || !region) throw new Error(`AlertsTopic link is not an SNS topic ARN: ${arn}`);
  return region;
}
