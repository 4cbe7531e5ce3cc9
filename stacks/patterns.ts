import type { Config } from "../schemas/config.ts";

/**
 * The pure parts of the infra (names, event patterns, the state machine definition): no SST globals,
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

/** Standard execution cap: a runbook that has not finished in 2 hours needs a human. */
export const EXECUTION_TIMEOUT_SECONDS = 7200;
/** Alarm events older than this are not worth starting a failover for. */
export const RULE_MAX_EVENT_AGE_SECONDS = 3600;

/** The task errors a redelivered step may safely retry: every step is checkpointed in S3. */
export const RETRIED_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "States.Timeout",
  "States.TaskFailed",
];

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

/** The state machine of the runbook (JSONata): Advance -> Choice -> Wait -> Advance ... */
export function stateMachineDefinition(functionArn: string) {
  return {
    Comment: "ops-autopilot failover runbook: each Advance runs at most one checkpointed step",
    QueryLanguage: "JSONata",
    TimeoutSeconds: EXECUTION_TIMEOUT_SECONDS,
    StartAt: "Advance",
    States: {
      Advance: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Arguments: { FunctionName: functionArn, Payload: { source: "sfn", event: "{% $states.input %}" } },
        Output: "{% $states.result.Payload %}",
        Retry: [{ ErrorEquals: RETRIED_ERRORS, IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 6 }],
        Next: "Route",
      },
      Route: {
        Type: "Choice",
        Choices: [
          { Condition: "{% $states.input.next = 'wait' %}", Next: "Wait" },
          { Condition: "{% $states.input.next = 'failed' %}", Next: "Failed" },
        ],
        // done, ignored, in-progress, planned: nothing more to do.
        Default: "Done",
      },
      Wait: {
        Type: "Wait",
        Seconds: "{% $states.input.waitSeconds %}",
        Output: "{% $states.input.advance %}",
        Next: "Advance",
      },
      Done: { Type: "Succeed" },
      Failed: { Type: "Fail", Error: "FailoverFailed", Cause: "{% $states.input.reason %}" },
    },
  };
}

