import { triggerAlarmName } from "../core/failover-trigger.ts";
import type { Config } from "../schemas/config.ts";

/**
 * The pure parts of the infra (names, event patterns; the state machine definition is in
 * durable-runbook-definition.ts): no SST globals,
 * so tests and scripts import them without SST's platform types.
 */

/** The input every schedule delivers (schemas/events-common.ts SchedulerInputSchema). */
export const SCHEDULE_INPUT = { trigger: "schedule" } as const;

/** Run reports older than this are deleted (`reports/` prefix only: manifests and latches stay). */
export const REPORT_RETENTION_DAYS = 400;
/**
 * Claims (`claims/`: one per EBS snapshot or copy, read only while it is being made) and prune's day ledgers
 * (`state/prune/<day>.json`, read only on their day) are deleted after this many days.
 */
export const WORKING_STATE_DAYS = 30;
/** Overwritten and deleted object versions (latches, manifests, alert state) are kept this long for forensics. */
export const NONCURRENT_VERSION_DAYS = 90;

/** Every alarm we own is named `<app>-<stage>-...`: the Slack route matches on this prefix. */
export function alarmPrefix(config: Config): string {
  return `${config.app}-${config.stage}`;
}

/** The pager topic (stacks/notifications.ts), inside the stage's prefix like every resource the deployer may create. */
export function alertsTopicName(config: Config): string {
  return `${alarmPrefix(config)}-alerts`;
}

/** Our own alarms (any state change into ALARM or back to OK) go to Slack. */
export function alarmRoutePattern(config: Config) {
  return {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: {
      alarmName: [{ prefix: `${alarmPrefix(config)}-` }],
      state: { value: ["ALARM", "OK"] },
    },
  };
}

/** Alarm events older than this are not worth starting a failover for. */
export const RULE_MAX_EVENT_AGE_SECONDS = 3600;

/** The region the runbook runs in: where the replicas are. One per deployment. */
export function controlRegion(config: Config): string | undefined {
  const regions = [...new Set(config.failover.groups.map((g) => g.replica.region))];
  if (regions.length > 1) {
    throw new Error(`failover groups have replicas in several regions (${regions.join(", ")}): deploy one control region per stage`);
  }
  return regions[0];
}

/**
 * Alarm names per region they are evaluated in: a group's own alarms in its `alarmRegion` (default: the replica's),
 * its trigger's alarm in the control region, where the probe publishes.
 */
export function ruleAlarmsByRegion(config: Config, control: string): Map<string, string[]> {
  const prefix = alarmPrefix(config);
  const out = new Map<string, string[]>();
  for (const g of config.failover.groups) {
    const trigger = g.trigger ? triggerAlarmName(prefix, g.name) : undefined;
    for (const a of g.alarms) {
      const r = a === trigger ? control : (g.alarmRegion ?? g.replica.region);
      out.set(r, [...(out.get(r) ?? []), a]);
    }
  }
  for (const [r, names] of out) out.set(r, [...new Set(names)].sort());
  return out;
}

/** Only a transition into ALARM of one of the configured alarms starts the runbook. */
export function failoverEventPattern(alarmNames: string[]) {
  return {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: { alarmName: alarmNames, state: { value: ["ALARM"] } },
  };
}

/**
 * The name pattern (ArnLike, `?` one character) of the IAM role SST creates for the component `component`: SST names a
 * function's role `<component>Role` and gives it the physical name `physicalName(64, ...)` of
 * .sst/platform/src/components/naming.ts: `<app>-<stage>-<name>` with non-alphanumerics removed from the name,
 * shortened to 55 characters, then `-` and 8 random characters. The random part is not predictable before the deploy,
 * so it is matched character by character, nothing more.
 */
export function sstRoleNamePattern(app: string, stage: string, component: string): string {
  const max = 64 - 9;
  const name = `${component}Role`.replace(/[^a-zA-Z0-9]/g, "");
  const main =
    name.length + 1 >= max
      ? name.substring(0, max)
      : name.length + stage.length + 2 >= max
        ? `${stage.substring(0, max - name.length - 1)}-${name}`
        : `${app.substring(0, max - stage.length - name.length - 2)}-${stage}-${name}`;
  return `${main}-????????`;
}

/**
 * Where the pager topic lives: the failover control region when failover groups are configured (the region the failover
 * runbook, its latch and the dashboard use, {@link controlRegion}), else the primary region. A failover runs
 * exactly when the primary region is down, and its criticals must still page: the failover function publishes in its
 * own region; every other function publishes to it cross-region (adapters/sns.ts sends in the topic's region).
 */
export function pagerTopicRegion(config: Config): string {
  return controlRegion(config) ?? config.primaryRegion;
}
