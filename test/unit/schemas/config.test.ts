import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_FILE_NAME, configFromFile, deployedConfigFile, parseConfig, scheduleTimezone } from "../../../schemas/config.ts";

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
    [
      {
        ...base,
        backup: {
          policies: [
            { name: "db", selection: { tag: {} } },
            { name: "db", selection: { tag: {} } },
          ],
        },
      },
      /backup\.policies\[1\]\.name: duplicate policy name "db"/,
    ],
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

  it("reads the configuration file a function package carries, naming the file (and the field) when it is missing or broken", () => {
    const dir = mkdtempSync(join(tmpdir(), "ops-autopilot-config-file-"));
    const file = join(dir, CONFIG_FILE_NAME);
    expect(deployedConfigFile({ LAMBDA_TASK_ROOT: dir })).toBe(file);
    expect(() => configFromFile(file)).toThrow(
      `${file} does not exist: the function package carries no configuration (stacks/lambda.ts ships it with copyFiles)`,
    );
    writeFileSync(file, "{");
    expect(() => configFromFile(file)).toThrow(new RegExp(`^${file.replace(/[.]/g, "\\.")} is not valid JSON: `));
    writeFileSync(file, JSON.stringify({ ...base, backup: { policies: [{ name: "db", selection: {} }] } }));
    expect(() => configFromFile(file)).toThrow(`Invalid config in ${file}: backup.policies[0].selection: select resources by tag, by ids, or both`);
    writeFileSync(file, JSON.stringify(base));
    expect(configFromFile(file)).toEqual(parseConfig(base));
  });

  it('accepts and ignores the editor\'s "$schema"', () => {
    const c = parseConfig({ $schema: "./config.schema.json", ...base });
    expect(c).toEqual(parseConfig(base));
    expect("$schema" in c).toBe(false);
    expect(() => parseConfig({ $schema: 1, ...base })).toThrow(/\$schema: Invalid input: expected string, received number/);
  });
});

/** The message parseConfig throws for `input` (fails the test when it accepts it). */
function rejection(input: unknown): string {
  try {
    parseConfig(input);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

// EventBridge Scheduler expressions: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
// (cron fields and wildcards as in https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html,
// rate units as in https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html).
describe("schedule expressions (EventBridge Scheduler syntax)", () => {
  it.each([
    "cron(0 2 * * ? *)",
    "cron(30 4 ? * MON-FRI *)",
    "cron(0/15 * * * ? *)",
    "cron(*/10 8-18 ? * 2-6 *)",
    "cron(0 9 L * ? *)",
    "cron(0 9 15W * ? 2026)",
    "cron(0 9 ? * 6L *)",
    "cron(0 9 ? * 3#2 *)",
    "cron(0 0 1 JAN,JUL ? 2026-2030)",
    "rate(1 minute)",
    "rate(30 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(7 days)",
    "at(2026-03-01T02:00:00)",
  ])("accepts %s", (expression) => {
    expect(parseConfig({ ...base, schedules: { backup: expression } }).schedules.backup).toBe(expression);
  });

  it.each([
    ["0 2 * * *", 'expected cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), got "0 2 * * *"'],
    ["cron(0 2 * * *)", "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got 5"],
    ["cron(0 2 * * * * *)", "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got 7"],
    ["cron(0 2 * * * *)", 'exactly one of day-of-month and day-of-week must be "?" (got "*" and "*")'],
    ["cron(0 2 ? * ? *)", 'exactly one of day-of-month and day-of-week must be "?" (got "?" and "?")'],
    ["cron(0 2 1 * MON *)", 'exactly one of day-of-month and day-of-week must be "?" (got "1" and "MON")'],
    ["cron(60 2 * * ? *)", "minutes: 60 is outside 0-59"],
    ["cron(0 24 * * ? *)", "hours: 24 is outside 0-23"],
    ["cron(0 2 32 * ? *)", "day-of-month: 32 is outside 1-31"],
    ["cron(0 2 * 13 ? *)", "month: 13 is outside 1-12"],
    ["cron(0 2 ? * 0 *)", "day-of-week: 0 is outside 1-7"],
    ["cron(0 2 * * ? 1969)", "year: 1969 is outside 1970-2199"],
    ["cron(0 ? * * ? *)", 'hours: "?" is allowed only in day-of-month and day-of-week'],
    ["cron(0 2 L * ? *x)", 'year: "*x" is not a value, range, list or increment'],
    ["cron(0 2 ? * 3#1,6#3 *)", "day-of-week: # allows a single expression, not a list"],
    ["cron(0 2 ? * 3#6 *)", "day-of-week: 3#6: the occurrence after # is 1-5"],
    ["cron(0/0 2 * * ? *)", "minutes: 0/0: the increment after / is a positive number"],
    ["rate(1 hours)", "a value of 1 takes a singular unit: rate(1 hour)"],
    ["rate(5 hour)", "a value above 1 takes a plural unit: rate(5 hours)"],
    ["rate(0 minutes)", 'the rate value is a positive integer, got "0"'],
    ["rate(1 week)", 'the rate unit is minute(s), hour(s) or day(s), got "week"'],
    ["rate(30)", "expected rate(value unit), e.g. rate(30 minutes)"],
    ["at(2026-02-30T02:00:00)", 'expected at(yyyy-mm-ddThh:mm:ss) with a real date and time, got "2026-02-30T02:00:00"'],
    ["at(2026-03-01 02:00)", 'expected at(yyyy-mm-ddThh:mm:ss) with a real date and time, got "2026-03-01 02:00"'],
  ])("rejects %s naming the schedule", (expression, message) => {
    expect(rejection({ ...base, schedules: { backup: expression } })).toBe(`Invalid config: schedules.backup: ${message}`);
  });

  it("checks every schedule, the optional warm one included", () => {
    expect(rejection({ ...base, schedules: { copy: "rate(30 minute)", warm: "daily" } })).toBe(
      "Invalid config: schedules.copy: a value above 1 takes a plural unit: rate(30 minutes); " +
        'schedules.warm: expected cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), got "daily"',
    );
  });
});

const kms = (region: string) => `arn:aws:kms:${region}:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab`;
const policy = (o: Record<string, unknown> = {}) => ({ name: "db", selection: { tag: {} }, ...o });
const group = (dns: Record<string, unknown> = {}, o: Record<string, unknown> = {}) => ({
  name: "orders-db",
  alarms: ["orders-db-primary-down"],
  primary: { kind: "rds-instance", id: "orders-primary", region: "eu-west-1" },
  replica: { kind: "rds-instance", id: "orders-dr", region: "eu-central-1" },
  dns: {
    hostedZoneId: "Z0123456789ABC",
    recordName: "db.example.com",
    primary: { values: ["primary.example.com"] },
    dr: { values: ["dr.example.com"] },
    ...dns,
  },
  healthUrl: "https://dr.example.com/health",
  ...o,
});
const target = (o: Record<string, unknown> = {}) => ({ name: "www", urls: ["https://www.example.com/"], ...o });

describe("the configuration refuses what cannot work, naming the field", () => {
  it.each([
    [
      "a DR region listed twice",
      {
        drRegions: [
          { region: "eu-central-1", kmsKeyId: "k1" },
          { region: "eu-central-1", kmsKeyId: "k2" },
        ],
      },
      'drRegions[1].region: duplicate DR region "eu-central-1"',
    ],
    [
      "a DR region equal to the primary",
      { drRegions: [{ region: "eu-west-1", kmsKeyId: "k" }] },
      "drRegions[0].region: a DR region must differ from primaryRegion",
    ],
    [
      "a DR copy key of another region",
      { drRegions: [{ region: "eu-central-1", kmsKeyId: kms("eu-west-1") }] },
      "drRegions[0].kmsKeyId: the key is in eu-west-1; copies to eu-central-1 need a key of that region (KMS keys are regional)",
    ],
    [
      "a source key of another region",
      { backup: { sourceKmsKeyIds: [kms("us-east-1")] } },
      "backup.sourceKmsKeyIds[0]: the key is in us-east-1, not in primaryRegion eu-west-1, where the snapshots it decrypts are made",
    ],
    [
      "an A value that is no IPv4 address",
      { failover: { groups: [group({ recordType: "A", primary: { values: ["10.0.0.300"] }, dr: { values: ["192.0.2.1"] } })] } },
      'failover.groups[0].dns.primary.values[0]: an A record takes an IPv4 address in dotted decimal notation, got "10.0.0.300"',
    ],
    [
      "an A value that is a hostname",
      { failover: { groups: [group({ recordType: "A", primary: { values: ["192.0.2.1"] }, dr: { values: ["dr.example.com"] } })] } },
      'failover.groups[0].dns.dr.values[0]: an A record takes an IPv4 address in dotted decimal notation, got "dr.example.com"',
    ],
    [
      "an AAAA value that is no IPv6 address",
      { failover: { groups: [group({ recordType: "AAAA", primary: { values: ["2001:db8::1"] }, dr: { values: ["2001:db8::g"] } })] } },
      'failover.groups[0].dns.dr.values[0]: an AAAA record takes an IPv6 address in colon-separated hexadecimal notation, got "2001:db8::g"',
    ],
    [
      "an AAAA value that is IPv4",
      { failover: { groups: [group({ recordType: "AAAA", primary: { values: ["192.0.2.1"] }, dr: { values: ["2001:db8::1"] } })] } },
      'failover.groups[0].dns.primary.values[0]: an AAAA record takes an IPv6 address in colon-separated hexadecimal notation, got "192.0.2.1"',
    ],
    [
      "a CNAME value that is an IP address",
      { failover: { groups: [group({ dr: { values: ["192.0.2.1"] } })] } },
      'failover.groups[0].dns.dr.values[0]: a CNAME record takes a domain name, not an IP address: use recordType "A" or "AAAA"',
    ],
    [
      "DNS values that are the same on both sides",
      { failover: { groups: [group({ dr: { values: ["primary.example.com"] } })] } },
      "failover.groups[0].dns.dr: the same as dns.primary: a failover would change nothing",
    ],
    [
      "a replica in the primary's region",
      { failover: { groups: [group({}, { replica: { kind: "rds-instance", id: "orders-dr", region: "eu-west-1" } })] } },
      "failover.groups[0].replica.region: the replica must be in another region than the primary",
    ],
    [
      "two groups with one name",
      { failover: { groups: [group(), group({}, { alarms: ["other"] })] } },
      'failover.groups[1].name: duplicate group name "orders-db"',
    ],
    [
      "a weekly weekday out of range",
      { backup: { policies: [policy({ tiers: { weekly: { weekday: 7 } } })] } },
      "backup.policies[0].tiers.weekly.weekday: Too big: expected number to be <=6",
    ],
    [
      "two policies with one name",
      { backup: { policies: [policy(), policy({ selection: { tag: { value: "other" } } })] } },
      'backup.policies[1].name: duplicate policy name "db"',
    ],
    [
      "an id selected by two policies",
      {
        backup: {
          policies: [
            policy({ name: "a", selection: { ids: [{ kind: "rds-instance", id: "app-db" }] } }),
            policy({ name: "b", selection: { ids: [{ kind: "rds-instance", id: "app-db" }] } }),
          ],
        },
      },
      'backup.policies[1].selection.ids[0]: rds-instance "app-db" is already selected by policy "a": a resource claimed by two policies is backed up by neither',
    ],
    [
      "an id listed twice in one policy",
      {
        backup: {
          policies: [
            policy({
              selection: {
                ids: [
                  { kind: "ebs-volume", id: "vol-1" },
                  { kind: "ebs-volume", id: "vol-1" },
                ],
              },
            }),
          ],
        },
      },
      'backup.policies[0].selection.ids[1]: ebs-volume "vol-1" is listed twice',
    ],
    [
      "two policies selecting one tag",
      {
        backup: {
          policies: [
            policy({ name: "a", selection: { tag: { value: "nightly" } } }),
            policy({ name: "b", selection: { tag: { key: "ops-autopilot:backup", value: "nightly" } } }),
          ],
        },
      },
      'backup.policies[1].selection.tag: the same tag as policy "a" (ops-autopilot:backup=nightly): a resource claimed by two policies is backed up by neither',
    ],
    [
      "a 0 % delete cap with deletes allowed",
      { backup: { policies: [policy({ maxDeletePercent: 0 })] } },
      "backup.policies[0].maxDeletePercent: 0 % lets prune delete nothing while maxDeletesPerRun is 50, so retention never applies and snapshots pile up to the quota; to pause deletes on purpose set maxDeletesPerRun to 0 as well",
    ],
    [
      "a freshness limit shorter than the backup interval",
      { schedules: { backup: "rate(2 days)" }, backup: { policies: [policy()] } },
      "backup.policies[0].freshnessHours: 25 h is shorter than the backup schedule rate(2 days) (48 h): every resource would be stale between backups and pruning frozen",
    ],
    [
      "a monthly budget below the daily threshold",
      { cost: { dailyThreshold: 500, monthlyBudget: 400 } },
      "cost.monthlyBudget: 400 is below dailyThreshold (500): a budget smaller than one day's threshold",
    ],
    ["a negative daily threshold", { cost: { dailyThreshold: -1 } }, "cost.dailyThreshold: Too small: expected number to be >0"],
    [
      "excluding Usage from the figures",
      { cost: { excludeRecordTypes: ["Credit", "Usage"] } },
      "cost.excludeRecordTypes[1]: excluding Usage leaves no usage to report",
    ],
    ["two warm target sets with one name", { warm: { targets: [target(), target()] } }, 'warm.targets[1].name: duplicate target set "www"'],
    [
      "a target URL outside allowedHosts",
      { warm: { targets: [target({ allowedHosts: ["cdn.example.com"] })] } },
      'warm.targets[0].urls[0]: host "www.example.com" is not in allowedHosts',
    ],
    [
      "a 5xx stop that needs more samples than its window holds",
      { warm: { targets: [target({ stopOn5xx: { window: 10, minSamples: 20 } })] } },
      "warm.targets[0].stopOn5xx.minSamples: 20 is above window (10): the window never holds that many responses, so warming would never stop on 5xx",
    ],
    [
      "a retry delay above the longest pause",
      { warm: { targets: [target({ retry: { defaultDelayMs: 5000, maxDelayMs: 1000 } })] } },
      "warm.targets[0].retry.defaultDelayMs: 5000 is above maxDelayMs (1000): a 429 without Retry-After would never be retried",
    ],
  ])("refuses %s", (_what, input, message) => {
    expect(rejection({ ...base, ...input })).toContain(message);
  });

  it("config/example.json is valid", () => {
    const example = JSON.parse(readFileSync(join(import.meta.dirname, "../../../config/example.json"), "utf8")) as Record<string, unknown>;
    expect(parseConfig({ ...example, stage: "ci" }).stage).toBe("ci");
  });

  it("refuses an app and stage too long to leave room in an Aurora cluster snapshot id", () => {
    expect(() => parseConfig({ app: "ops-autopilot-platform", stage: "production-eu", primaryRegion: "eu-west-1" } as never)).toThrow(
      'stage: app and stage make the snapshot name prefix "oa-ops-autopilot-platform-production-eu-" 40 characters long; at most 34 leave room in an Aurora cluster snapshot id (63 characters)',
    );
    expect(() => parseConfig({ app: "ops-autopilot", stage: "production", primaryRegion: "eu-west-1" } as never)).not.toThrow();
  });
});
