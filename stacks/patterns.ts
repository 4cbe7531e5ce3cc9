import type { Config } from "../schemas/config.ts";

/**
 * The pure parts of the infra (names, event patterns; the state machine definition is in
 * durable-runbook-definition.ts): no SST globals,
 * so tests and scripts import them without SST's platform types.
 */

/** Every alarm we own is named `<app>-<stage>-...`: the Slack route matches on this prefix. */
export function alarmPrefix(config: Config): string {
  return `${config.app}-${config.stage}`;
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

/** Alarm names per region they are evaluated in (default: the replica's region). */
export function alarmsByRegion(config: Config): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of config.failover.groups) {
    const region = g.alarmRegion ?? g.replica.region;
    out.set(region, [...(out.get(region) ?? []), ...g.alarms]);
  }
  for (const [region, names] of out) out.set(region, [...new Set(names)].sort());
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
