import { describe, expect, it } from "vitest";
import { decideFailover, type PrecheckResult } from "../../../core/failover.ts";
import { failoverConfig } from "./builders.ts";

/** How observe mode and the per-group `execution` combine in the trigger decision (core/failover.ts). */

const passed: PrecheckResult[] = [
  { name: "primary-down", ok: true, blocking: true, reason: "primary down" },
  { name: "replica-available", ok: true, blocking: true, reason: "replica available" },
  { name: "replica-lag", ok: true, blocking: true, reason: "lag 3 s" },
];
const lagging: PrecheckResult[] = [...passed.slice(0, 2), { name: "replica-lag", ok: false, blocking: true, reason: "lag 300 s > RPO 60 s" }];
const ON = { observing: true, reason: "observe mode until the end of 2026-12-13 (UTC): 14 days from the stage's first run on 2026-11-30" };
const OFF = { observing: false, reason: "observe mode ended with 2026-12-13 (UTC): 14 days from the stage's first run on 2026-11-30" };
const ALARM = { kind: "alarm" as const, alarmState: "ALARM" as const, alarmName: "db-down" };
const EXECUTE = { kind: "manual" as const };

describe("failover decision under observe mode", () => {
  it.each([
    ["automatic", "ALARM", "passed", "observing", "observe", ALARM, passed, ON],
    ["automatic", "ALARM", "passed", "window over", "start", ALARM, passed, OFF],
    ["automatic", "ALARM", "passed", "no observe port", "start", ALARM, passed, undefined],
    ["automatic", "ALARM", "lag too far", "observing", "refuse", ALARM, lagging, ON],
    ["automatic", "execute", "passed", "observing", "start", EXECUTE, passed, ON],
    ["plan-only", "ALARM", "passed", "observing", "plan-only", ALARM, passed, ON],
    ["plan-only", "ALARM", "passed", "window over", "plan-only", ALARM, passed, OFF],
    ["plan-only", "execute", "passed", "observing", "start", EXECUTE, passed, ON],
  ] as const)("%s group, %s, pre-checks %s, %s → %s", (execution, _t, _c, _o, action, trigger, checks, observe) => {
    const group = failoverConfig({ execution }).groups[0]!;
    expect(decideFailover(group, trigger, [...checks], undefined, observe).action).toBe(action);
  });

  it("says why, with the window, when it holds back an automatic failover", () => {
    const group = failoverConfig({ execution: "automatic" }).groups[0]!;
    expect(decideFailover(group, ALARM, passed, undefined, ON)).toEqual({
      action: "observe",
      target: group.name,
      reason: `${ON.reason}; group ${group.name} is automatic: pre-checks passed, it would have failed over now, planned only`,
    });
  });
});
