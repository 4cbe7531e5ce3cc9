import { describe, expect, it } from "vitest";
import { configFromEnv, parseConfig, scheduleTimezone } from "../../../schemas/config.ts";

const base = { stage: "prod", primaryRegion: "eu-west-1" };

describe("configuration", () => {
  it("fills the runbook's defaults", () => {
    const c = parseConfig({ ...base, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });
    const p = c.backup.policies[0]!;
    expect(p.tiers).toEqual({
      daily: { keep: { days: 7 } },
      weekly: { weekday: 0, keep: { days: 30 } },
      monthly: { dayOfMonth: 1, keep: { days: 365 } },
    });
    expect([p.freshnessHours, p.keepNewest, p.maxDeletesPerRun, p.maxDeletePercent, p.copyToDr]).toEqual([25, 3, 50, 50, true]);
    expect(c.schedules.backup).toBe("cron(0 2 * * ? *)");
    expect(c.timezone).toBe("UTC");
  });

  it.each([
    [{ ...base, primaryRegion: "europe" }, /primaryRegion: expected an AWS region/],
    [{ ...base, drRegions: [{ region: "eu-west-1", kmsKeyId: "k" }] }, /drRegions\[0\]\.region: a DR region must differ/],
    [{ ...base, drRegions: [{ region: "eu-central-1" }] }, /drRegions\[0\]\.kmsKeyId/],
    [{ ...base, backup: { policies: [{ name: "Bad Name", selection: { tag: {} } }] } }, /backup\.policies\[0\]\.name/],
    [{ ...base, backup: { policies: [{ name: "db", selection: {} }] } }, /backup\.policies\[0\]\.selection: select resources by tag, by ids, or both/],
    [{ ...base, backup: { policies: [{ name: "db", tiers: { daily: { keep: { days: 0 } } }, selection: { tag: {} } }] } }, /tiers\.daily\.keep/],
    [{ ...base, backup: { policies: [{ name: "db", selection: { tag: {} } }, { name: "db", selection: { tag: {} } }] } }, /backup\.policies\[1\]\.name: duplicate policy name "db"/],
    [{ ...base, timezone: "Mars/Olympus" }, /timezone: unknown IANA timezone/],
    [{ ...base, schedules: { timezones: { cost: "Nowhere/City" } } }, /schedules\.timezones\.cost: unknown IANA timezone/],
    [{ ...base, backup: { polices: [] } }, /backup: Unrecognized key: "polices"/],
  ])("rejects %j naming the field", (input, message) => {
    expect(() => parseConfig(input)).toThrow(message);
  });

  it("lets one schedule run in another timezone than the rest", () => {
    const c = parseConfig({ ...base, schedules: { timezones: { cost: "Europe/Paris" } } });
    expect(scheduleTimezone(c, "cost")).toBe("Europe/Paris");
    expect(scheduleTimezone(c, "backup")).toBe("UTC");
  });

  it("reads the configuration from the environment at run time, with a clear error when absent or broken", () => {
    expect(() => configFromEnv({})).toThrow(/OPS_AUTOPILOT_CONFIG is not set/);
    expect(() => configFromEnv({ OPS_AUTOPILOT_CONFIG: "{" })).toThrow(/not valid JSON/);
    expect(configFromEnv({ OPS_AUTOPILOT_CONFIG: JSON.stringify(base) }).stage).toBe("prod");
  });
});
