import { describe, expect, it } from "vitest";
import { groupForAlarm } from "../../../core/failover.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { triggerTuning } from "../../../schemas/config-failover.ts";
import { groupInput } from "../failover/builders.ts";

/** A stage with one failover group; `group` overrides the group's fields, `failover` the section's. */
function config(group: Record<string, unknown> = {}, failover: Record<string, unknown> = {}) {
  return {
    stage: "prod",
    primaryRegion: "eu-west-1",
    drRegions: [{ region: "eu-central-1", kmsKeyId: "alias/dr" }],
    failover: { groups: [groupInput(group)], ...failover },
  };
}

const PROBE = { probe: { url: "https://app.example.com/health", tcp: { host: "orders-primary.abc.eu-west-1.rds.amazonaws.com", port: 5432 } } };

/** The message parseConfig throws, or "" when it parses. */
function problem(input: unknown): string {
  try {
    parseConfig(input);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("failover group trigger (config)", () => {
  it("applies safe defaults: one probe a minute, 3 failures of 4 periods, 5 s timeout, 300 s detection budget", () => {
    const g = parseConfig(config({ trigger: PROBE })).failover.groups[0]!;
    expect(g.trigger).toEqual({ ...PROBE, periodSeconds: 60, failuresToAlarm: 3, timeoutMs: 5000, maxDetectionSeconds: 300 });
    expect(triggerTuning(g.trigger!)).toEqual({ periodSeconds: 60, failuresToAlarm: 3, evaluationPeriods: 4, timeoutMs: 5000 });
  });

  it("adds the trigger's alarm to the group's alarms, after its own, so the rule and the runbook know it", () => {
    const cfg = parseConfig(config({ trigger: PROBE }));
    expect(cfg.failover.groups[0]!.alarms).toEqual(["orders-db-primary-down", "ops-autopilot-prod-failover-orders-db-primary-down"]);
    expect(groupForAlarm(cfg.failover, "ops-autopilot-prod-failover-orders-db-primary-down")?.name).toBe("orders-db");
    // Parsing the parsed configuration again (each function does at run time) adds nothing twice.
    expect(parseConfig(cfg).failover.groups[0]!.alarms).toEqual(cfg.failover.groups[0]!.alarms);
  });

  it("accepts a trigger without bring-your-own alarms, and bring-your-own alarms without a trigger", () => {
    expect(parseConfig(config({ alarms: undefined, trigger: PROBE })).failover.groups[0]!.alarms).toEqual([
      "ops-autopilot-prod-failover-orders-db-primary-down",
    ]);
    expect(parseConfig(config()).failover.groups[0]!.alarms).toEqual(["orders-db-primary-down"]);
  });

  it("refuses a group with neither alarms nor a trigger, naming the field", () => {
    expect(problem(config({ alarms: [] }))).toBe(
      "Invalid config: failover.groups[0].alarms: name at least one alarm, or set trigger to deploy a probe and its alarm",
    );
  });

  it("refuses a probe with no target, and targets of the wrong shape, naming the field", () => {
    expect(problem(config({ trigger: { probe: {} } }))).toBe(
      "Invalid config: failover.groups[0].trigger.probe: probe the application (url), the database endpoint (tcp), or both",
    );
    expect(problem(config({ trigger: { probe: { url: "ftp://x.example.com/" } } }))).toBe(
      "Invalid config: failover.groups[0].trigger.probe.url: expected an http(s) URL",
    );
    expect(problem(config({ trigger: { probe: { tcp: { host: "db", port: 70000 } } } }))).toMatch(
      /^Invalid config: failover\.groups\[0\]\.trigger\.probe\.tcp\.port: Too big/,
    );
  });

  it("refuses a tuning that alarms on one failed probe, a period that is not whole minutes, and a window N = M", () => {
    expect(problem(config({ trigger: { ...PROBE, failuresToAlarm: 1 } }))).toMatch(
      /^Invalid config: failover\.groups\[0\]\.trigger\.failuresToAlarm: Too small/,
    );
    expect(problem(config({ trigger: { ...PROBE, periodSeconds: 90, maxDetectionSeconds: 600 } }))).toBe(
      "Invalid config: failover.groups[0].trigger.periodSeconds: a multiple of 60 seconds",
    );
    expect(problem(config({ trigger: { ...PROBE, evaluationPeriods: 3 } }))).toBe(
      "Invalid config: failover.groups[0].trigger.evaluationPeriods: at least failuresToAlarm + 1 (4): the period in progress has no datapoint yet at some evaluations, so with N = M an outage can go unseen",
    );
  });

  it("refuses a tuning whose worst-case detection exceeds the budget, with the numbers", () => {
    expect(problem(config({ trigger: { ...PROBE, periodSeconds: 120 } }))).toBe(
      "Invalid config: failover.groups[0].trigger.maxDetectionSeconds: this tuning detects an outage in up to 427 s (3 of 4 periods of 120 s, 5000 ms timeout), over the 300 s budget: lower failuresToAlarm or periodSeconds, or raise the budget",
    );
    expect(problem(config({ trigger: { ...PROBE, periodSeconds: 120, maxDetectionSeconds: 600 } }))).toBe("");
  });

  it("refuses triggers on different periods (one probe schedule serves every group), naming the field", () => {
    const two = config({ trigger: PROBE });
    two.failover.groups.push(
      groupInput({
        name: "billing-db",
        alarms: [],
        trigger: { ...PROBE, periodSeconds: 120, maxDetectionSeconds: 600 },
        primary: { kind: "rds-instance", id: "billing-primary", region: "eu-west-1" },
        replica: { kind: "rds-instance", id: "billing-dr", region: "eu-central-1" },
        dns: { ...(groupInput().dns as object), recordName: "billing.example.com" },
      }),
    );
    expect(problem(two)).toBe(
      'Invalid config: failover.groups[1].trigger.periodSeconds: one probe schedule serves every group: use the periodSeconds of group "orders-db" (60)',
    );
  });

  it("refuses probeVpc when no group has a trigger, and a group listing another group's trigger alarm", () => {
    expect(problem(config({}, { probeVpc: { subnetIds: ["subnet-0abc"], securityGroupIds: ["sg-0abc"] } }))).toBe(
      "Invalid config: failover.probeVpc: no group has a trigger: there is no probe to place in a VPC",
    );
    expect(problem(config({ trigger: PROBE }, { probeVpc: { subnetIds: ["subnet-0abc"], securityGroupIds: ["sg-0abc"] } }))).toBe("");
    const two = config({ trigger: PROBE });
    two.failover.groups.push(
      groupInput({
        name: "billing-db",
        alarms: ["ops-autopilot-prod-failover-orders-db-primary-down"],
        primary: { kind: "rds-instance", id: "billing-primary", region: "eu-west-1" },
        replica: { kind: "rds-instance", id: "billing-dr", region: "eu-central-1" },
        dns: { ...(groupInput().dns as object), recordName: "billing.example.com" },
      }),
    );
    expect(problem(two)).toBe(
      'Invalid config: failover.groups[0].trigger: its alarm "ops-autopilot-prod-failover-orders-db-primary-down" is already listed by group "billing-db"',
    );
  });
});
