/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { UNSET_SECRET } from "../core/notify-routing.ts";
import { NOTIFY_LINKS } from "./functions.ts";
import { alertsTopicName, pagerTopicRegion } from "./patterns.ts";

export { pagerTopicRegion };

/** The message destinations functions link to, by the names runbooks/lib/resources.ts reads. */
export interface NotifyLinks {
  /** `SlackWebhookUrl`: the runs channel, and every channel's fallback. The one secret a stage must set. */
  runs: sst.Secret;
  alerts: sst.Secret;
  cost: sst.Secret;
  /** The pager topic's ARN, absent with `notifications.pager.enabled: false`. */
  topic?: sst.Linkable<{ arn: $util.Output<string> }>;
}

/**
 * One secret per Slack channel, and the pager topic.
 *
 * The alerts and cost channels' secrets have a placeholder (`new sst.Secret(name, placeholder)`): SST deploys a secret
 * never set with its placeholder as its value (https://sst.dev/docs/component/secret), so a stage deploys with only
 * `SlackWebhookUrl` set and every message goes to that one channel, as before routing; `sst secret set
 * SlackAlertsWebhookUrl …` moves criticals to their own channel at the next deploy. `SlackWebhookUrl` has no
 * placeholder: a deploy without it fails loudly rather than post nowhere.
 *
 * The topic is in the failover control region when failover is configured ({@link pagerTopicRegion}), else the primary
 * region, named inside the stage's prefix (the deployer may create no other, stacks/deployer.ts). Functions link a Linkable carrying its ARN only: the Publish grant is the scoped one of
 * stacks/iam-scopes.ts, not the `sns:*` an SnsTopic component's link would add. A pager subscribes to it outside the
 * stack (PagerDuty's or Opsgenie's HTTPS endpoint, or an email address), so no endpoint sits in the config.
 */
export function notifications(config: Config, runs: sst.Secret, providerFor: (region: string) => aws.Provider): NotifyLinks {
  const alerts = new sst.Secret(NOTIFY_LINKS.alerts, UNSET_SECRET);
  const cost = new sst.Secret(NOTIFY_LINKS.cost, UNSET_SECRET);
  if (!config.notifications.pager.enabled) return { runs, alerts, cost };
  const region = pagerTopicRegion(config);
  const topic = new aws.sns.Topic(
    "AlertsPagerTopic",
    { name: alertsTopicName(config) },
    region === config.primaryRegion ? {} : { provider: providerFor(region) },
  );
  return { runs, alerts, cost, topic: new sst.Linkable(NOTIFY_LINKS.topic, { properties: { arn: topic.arn } }) };
}
