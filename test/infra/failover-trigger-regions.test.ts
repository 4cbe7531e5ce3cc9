import { describe, expect, it } from "vitest";
import { parseConfig } from "../../schemas/config.ts";
import { ruleAlarmsByRegion } from "../../stacks/patterns.ts";
import { groupInput } from "../unit/failover/builders.ts";

/**
 * Where the runbook's rules listen for each alarm: a group's own alarms in its `alarmRegion`, its trigger's alarm in
 * the control region, where the probe publishes and stacks/failover.ts creates that alarm.
 */
describe("failover rule alarms by region", () => {
  const config = parseConfig({
    stage: "prod",
    primaryRegion: "eu-west-1",
    drRegions: [{ region: "eu-central-1", kmsKeyId: "alias/dr" }],
    failover: {
      groups: [
        groupInput({
          // Bring-your-own: a Route 53 health-check alarm, which can only live in us-east-1.
          alarms: ["orders-db-route53-health"],
          alarmRegion: "us-east-1",
          trigger: { probe: { url: "https://eu-west-1.example.com/health" } },
        }),
      ],
    },
  });

  it("keeps the trigger's alarm in the control region when the group's own alarms live elsewhere", () => {
    expect(Object.fromEntries(ruleAlarmsByRegion(config, "eu-central-1"))).toEqual({
      "us-east-1": ["orders-db-route53-health"],
      "eu-central-1": ["ops-autopilot-prod-failover-orders-db-primary-down"],
    });
  });
});
