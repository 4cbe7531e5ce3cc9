/// <reference path="../.sst/platform/config.d.ts" />
import { loadConfig } from "./config.ts";
import { storage } from "./storage.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, writeQueuePolicies } from "./ops.ts";
import { backups } from "./backups.ts";
import { cache } from "./cache.ts";
import { cost } from "./cost.ts";
import { failover } from "./failover.ts";

/**
 * Everything ops-autopilot deploys for one stage. The primary region is the default provider
 * (sst.config.ts); resources that must survive a primary-region outage (the failover runbook, its
 * latch bucket, its rules and alarms) get an explicit provider for their region.
 */
export function main(app: string, stage: string, production: boolean) {
  const config = loadConfig(app, stage);

  const providers = new Map<string, aws.Provider>();
  const providerFor = (region: string): aws.Provider => {
    let p = providers.get(region);
    if (!p) {
      p = new aws.Provider(`Aws${region.replace(/-/g, "")}`, { region: region as aws.Region });
      providers.set(region, p);
    }
    return p;
  };

  const identity = $resolve([aws.getCallerIdentityOutput({}).accountId, aws.getPartitionOutput({}).partition]).apply(
    ([account, partition]) => ({ account, partition }),
  );

  const secret = new sst.Secret("SlackWebhookUrl");
  const { bucket, link: reports } = storage(production);
  const dlq = deadLetterQueue("DeadLetters");
  dlqMessagesAlarm(config, "DeadLetters", dlq);
  alarmsToSlack("AlarmsToSlack", config, secret, dlq);

  const deps = { config, identity, reports, secret, dlq };
  const jobs = backups(config, deps);
  const warm = cache(config, deps);
  const digest = cost(config, deps);
  const runbook = failover(config, { config, identity, reports, secret }, production, providerFor);

  writeQueuePolicies();

  return {
    reportsBucket: bucket.name,
    deadLetterQueue: dlq.url,
    functions: {
      backup: jobs.backup.fn.name,
      copy: jobs.copy.fn.name,
      prune: jobs.prune.fn.name,
      watchdog: jobs.watchdog.fn.name,
      warm: warm.fn.name,
      cost: digest.fn.name,
      ...(runbook ? { failover: runbook.fn.name } : {}),
    },
    ...(runbook ? { failoverStateMachine: runbook.stateMachine.arn, failoverRegion: runbook.region } : {}),
  };
}
