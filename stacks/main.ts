/// <reference path="../.sst/platform/config.d.ts" />
import { loadConfig } from "./config.ts";
import { storage } from "./storage.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, writeQueuePolicies } from "./ops.ts";
import { backups } from "./backups.ts";
import { cache } from "./cache.ts";
import { cost } from "./cost.ts";
import { weeklyReport } from "./weekly-report.ts";
import { failover } from "./failover.ts";
import { restoreTest } from "./restore-test.ts";
import { shareableTestEvents } from "./test-events.ts";
import { opsDashboard } from "./dashboard.ts";
import { notifications } from "./notifications.ts";
import { fleet } from "./fleet.ts";

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

  const identity = $resolve([aws.getCallerIdentityOutput({}).accountId, aws.getPartitionOutput({}).partition]).apply(([account, partition]) => ({
    account,
    partition,
  }));

  const secret = new sst.Secret("SlackWebhookUrl");
  const notify = notifications(config, secret, providerFor);
  const { bucket, link: reports } = storage(production);
  const dlq = deadLetterQueue("DeadLetters");
  dlqMessagesAlarm(config, "DeadLetters", dlq);
  alarmsToSlack("AlarmsToSlack", config, secret, dlq);

  const deps = { config, identity, reports, secret, notify, dlq };
  const jobs = backups(config, deps);
  const warm = cache(config, deps);
  const digest = cost(config, deps);
  const weekly = weeklyReport(config, deps, bucket);
  const runbook = failover(config, { config, identity, reports, secret, notify }, production, providerFor);
  const restores = restoreTest(config, { config, identity, reports, secret, notify }, providerFor);
  const members = fleet(config, deps, jobs);

  writeQueuePolicies();
  opsDashboard(config, identity, { jobs, warm, digest, weekly, runbook, restores, fleet: members }, providerFor);

  // Each function's deployed name and region: `npm run invoke` (scripts/invoke.ts) reads them from
  // .sst/outputs.json, which holds one stage's outputs at a time, hence `stage`.
  const primary = { region: config.primaryRegion };
  const functions = {
    backup: { name: jobs.backup.fn.name, ...primary },
    copy: { name: jobs.copy.fn.name, ...primary },
    prune: { name: jobs.prune.fn.name, ...primary },
    watchdog: { name: jobs.watchdog.fn.name, ...primary },
    warm: { name: warm.fn.name, ...primary },
    cost: { name: digest.fn.name, ...primary },
    "weekly-report": { name: weekly.fn.name, ...primary },
    ...(runbook ? { failover: { name: runbook.fn.name, region: runbook.region } } : {}),
    ...(runbook?.probe ? { probe: { name: runbook.probe.name, region: runbook.region } } : {}),
    ...(restores ? { "restore-test": { name: restores.fn.name, region: restores.region } } : {}),
    ...(members ? { "fleet-summary": { name: members.summary.name, ...primary } } : {}),
    ...(members?.targets ? { "fleet-targets": { name: members.targets.name, ...primary } } : {}),
  };
  shareableTestEvents(functions, config.primaryRegion, providerFor);

  return {
    app,
    stage,
    reportsBucket: bucket.name,
    deadLetterQueue: dlq.url,
    functions,
    ...(runbook ? { failoverStateMachine: runbook.stateMachine.arn, failoverRegion: runbook.region } : {}),
    ...(restores ? { restoreTestStateMachine: restores.stateMachine.arn, restoreTestRegion: restores.region } : {}),
    // Each fleet job's fan-out, in the primary region (start one by hand: aws stepfunctions start-execution).
    ...(members
      ? {
          fleetStateMachines: Object.fromEntries(Object.entries(members.fanouts).map(([job, f]) => [job, f.stateMachine.arn])) as Record<
            string,
            $util.Output<string>
          >,
        }
      : {}),
  };
}
