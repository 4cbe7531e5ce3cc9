import { describe, expect, it } from "vitest";
import { PRICES } from "../../../core/run-cost-prices.ts";
import { DEFAULT_ASSUMPTIONS, runCost, runsPerMonth, type RunCostAssumptions, type RunCostInput } from "../../../core/run-cost.ts";
import { alarmCount, renderCost, restoreTestCosts, runCostInput, unitPrice } from "../../../scripts/cost-to-run.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { deployedFunctions } from "../../../stacks/functions.ts";
import { exampleConfig } from "../../infra/builders.ts";

/** core/run-cost.ts: what the tool costs to run per month, from the deployment and stated assumptions. */

describe("runsPerMonth: runs of a schedule expression in a 730-hour month", () => {
  it.each([
    ["rate(30 minutes)", 1460],
    ["rate(1 minute)", 43_800],
    ["rate(1 hour)", 730],
    ["rate(73 hours)", 10],
    ["rate(2 days)", 730 / 48],
    ["cron(0 2 * * ? *)", 730 / 24],
    ["cron(0/15 * * * ? *)", 4 * 730],
    ["cron(0 8,20 * * ? *)", 2 * (730 / 24)],
    ["cron(0 9 ? * MON-FRI *)", (5 * (730 / 24)) / 7],
    ["cron(30 4 ? * SUN *)", 730 / 24 / 7],
    ["cron(0 3 1 * ? *)", 1],
    ["cron(0 3 1,15 * ? *)", 2],
    ["cron(0 3 L * ? *)", 1],
    ["cron(0 0 1 JAN,JUL ? *)", 2 / 12],
  ])("%s → %d", (expression, expected) => {
    expect(runsPerMonth(expression)).toBeCloseTo(expected, 10);
  });

  it("counts the query by linked account of a payer's cost digest (cost.accounts.byAccount): one more request a run", () => {
    const cost = runCost({ ...small, costByAccount: true }, assumed);
    const ce = cost.items.find((i) => i.service === "Cost Explorer")!;
    expect([ce.quantity, ce.reason]).toEqual([30, "10 cost runs × (1 GetCostAndUsage page(s) + 1 by linked account + 1 GetCostForecast)"]);
  });

  it("refuses what it cannot read", () => {
    expect(() => runsPerMonth("every day")).toThrow('cannot read the schedule expression "every day"');
    expect(() => runsPerMonth("cron(0 2 * *)")).toThrow('cannot read the schedule expression "cron(0 2 * *)"');
  });
});

const small: RunCostInput = {
  functions: [
    { name: "watchdog", memoryMb: 512, schedule: "rate(1 hour)", reports: true },
    { name: "cost", memoryMb: 512, schedule: "rate(73 hours)", reports: true },
  ],
  drRegions: 1,
  warmTargetSets: 0,
  triggeredGroups: 0,
  alarms: 4,
  reportRetentionDays: 365,
};
const assumed: RunCostAssumptions = {
  ...DEFAULT_ASSUMPTIONS,
  resources: 2,
  durationSeconds: { watchdog: 4, cost: 10 },
  drCopyGbPerDay: 1,
  costExplorerPagesPerRun: 1,
  reportKb: 1024,
};

describe("runCost", () => {
  it("prices a small deployment line by line, with exact quantities", () => {
    const cost = runCost(small, assumed);
    expect(cost.items.map((i) => [i.service, i.item, i.quantity, i.unitPriceUsd])).toEqual([
      ["Lambda", "watchdog compute", 730 * 4 * 0.5, 0.0000133334],
      ["Lambda", "cost compute", 10 * 10 * 0.5, 0.0000133334],
      ["Lambda", "requests", 740, 0.2 / 1e6],
      ["EventBridge Scheduler", "invocations", 740, 1 / 1e6],
      // 740 reports + 10 cost states; no backup, copy, prune, warm or failover deployed
      ["S3", "PUT requests", 750, 0.005 / 1000],
      // 730 watchdog alert-state reads + 10 cost states
      ["S3", "GET requests", 740, 0.0004 / 1000],
      // 740 reports a month kept 365 days = 12 months of them, 1 MB each
      ["S3", "report storage", (740 * 12) / 1024, 0.023],
      ["Cost Explorer", "API requests", 20, 0.01],
      // heartbeat + stale backups + 2 resources × 2 regions
      ["CloudWatch", "custom metrics", 6, 0.3],
      ["CloudWatch", "alarms", 4, 0.1],
      ["Data transfer", "DR snapshot copies", 730 / 24, 0.02],
    ]);
    expect(cost.items[0]!.reason).toBe("730 runs (rate(1 hour)) × 4 s (assumed) × 512 MB");
    expect(cost.items.find((i) => i.service === "Cost Explorer")!.reason).toBe("10 cost runs × (1 GetCostAndUsage page(s) + 1 GetCostForecast)");
    const expected =
      1460 * 0.0000133334 + 50 * 0.0000133334 + 740 * 2e-7 + 740 * 1e-6 + 750 * 5e-6 + 740 * 4e-7 + 8.671875 * 0.023 + 0.2 + 1.8 + 0.4 + (730 / 24) * 0.02;
    expect(cost.totalUsd).toBeCloseTo(expected, 12);
    expect(cost.totalUsd).toBeCloseTo(3.232853892, 8);
    for (const i of cost.items) expect(i.monthlyUsd).toBeCloseTo(i.quantity * i.unitPriceUsd, 15);
  });

  it("bills a failover run as advances × 3 state transitions plus its Lambda and S3 calls", () => {
    const input: RunCostInput = { ...small, functions: [...small.functions, { name: "failover", memoryMb: 512, reports: false }] };
    const a: RunCostAssumptions = { ...assumed, durationSeconds: { ...assumed.durationSeconds, failover: 3 }, failoversPerMonth: 1, advancesPerFailover: 16 };
    const cost = runCost(input, a);
    expect(cost.items.find((i) => i.service === "Step Functions")).toMatchObject({ quantity: 48, unitPriceUsd: 0.025 / 1000 });
    expect(cost.items.find((i) => i.item === "failover compute")).toMatchObject({ quantity: 16 * 3 * 0.5 });
    // Lambda 24 GB-s and 16 requests, 48 transitions, 17 PUTs and 16 GETs
    expect(cost.perFailoverRunUsd).toBeCloseTo(24 * 0.0000133334 + 16 * 2e-7 + 48 * 0.000025 + 17 * 5e-6 + 16 * 4e-7, 15);
    expect(runCost(input, { ...a, failoversPerMonth: 0 }).items.find((i) => i.service === "Step Functions")!.monthlyUsd).toBe(0);
  });

  it("bills restore tests: one per selected resource and schedule run, their advances, transitions, checker runs, S3 writes and throwaways", () => {
    const input: RunCostInput = {
      ...small,
      functions: [...small.functions, { name: "restore-test", memoryMb: 512, reports: false }, { name: "restore-test-checker", memoryMb: 256, reports: false }],
      restoreTests: [
        { policy: "db", schedule: "cron(0 6 1 * ? *)", resources: 3, throwawayUsd: 0.01, throwawayConfirmed: false, throwawayReason: "r", checker: true },
        { policy: "tagged", schedule: "cron(0 6 1,15 * ? *)", throwawayUsd: 0.02, throwawayConfirmed: false, throwawayReason: "r", checker: false },
      ],
    };
    const a: RunCostAssumptions = {
      ...assumed,
      durationSeconds: { ...assumed.durationSeconds, "restore-test": 2, "restore-test-checker": 4 },
      restoreTestResourcesPerTagPolicy: 5,
      advancesPerRestoreTest: 10,
    };
    const cost = runCost(input, a);
    const item = (name: string) => cost.items.find((i) => i.item === name)!;
    // 3 × 1 run + 5 × 2 runs = 13 tests; 13 × 10 advances + 3 starts (1 + 2 schedule runs) = 133 invocations.
    expect(item("restore-test compute")).toMatchObject({
      quantity: 133 * 2 * 0.5,
      reason: "13 restore tests × 10 advances + 3 starts × 2 s (assumed) × 512 MB",
    });
    expect(item("restore-test-checker compute")).toMatchObject({ quantity: 3 * 4 * 0.25 });
    expect(item("restore-test state transitions")).toMatchObject({ quantity: 133 * 3 });
    expect(item("db throwaways")).toMatchObject({ quantity: 3, unitPriceUsd: 0.01, monthlyUsd: 0.03, confirmed: false });
    expect(item("tagged throwaways")).toMatchObject({ quantity: 10, monthlyUsd: 0.2 });
    expect(item("tagged throwaways").reason).toBe("10 tests (5 resource(s) (assumed: a tag selection) × 2 runs of cron(0 6 1,15 * ? *)); one: r");
    expect(item("invocations").quantity).toBeCloseTo(runCost(small, a).items.find((i) => i.item === "invocations")!.quantity + 3, 10);
    expect(item("PUT requests").quantity - runCost(small, a).items.find((i) => i.item === "PUT requests")!.quantity).toBeCloseTo(13 * 12, 10);
  });

  it("prices one restore test's throwaway from the policy: its instance class, the kinds it selects by id, a PostgreSQL instance for a tag", () => {
    const cfg = ConfigSchema.parse({
      stage: "prod",
      primaryRegion: "eu-west-1",
      drRegions: [{ region: "eu-central-1", kmsKeyId: "k" }],
      backup: {
        policies: [
          {
            name: "db",
            selection: { tag: {} },
            restoreTest: { rds: { dbSubnetGroupName: "g", vpcSecurityGroupIds: ["sg-0123456789abcdef0"], instanceClass: "db.t4g.small" } },
          },
          {
            name: "vol",
            selection: { ids: [{ kind: "ebs-volume", id: "vol-0123456789abcdef0" }] },
            restoreTest: { ebs: { availabilityZone: "eu-central-1a" } },
          },
          { name: "none", selection: { tag: { key: "tier", value: "none" } } },
        ],
      },
    });
    const [db, vol] = restoreTestCosts(cfg, { ...DEFAULT_ASSUMPTIONS, restoreTestMinutes: 30, restoreTestStorageGb: 20 });
    expect(restoreTestCosts(cfg).map((r) => r.policy)).toEqual(["db", "vol"]);
    // db.t4g.small 0.5 h × $0.032 + 20 GB × 0.5 h × $0.115 / 730
    expect(db).toMatchObject({ policy: "db", schedule: "cron(0 6 1 * ? *)", checker: false, throwawayConfirmed: false });
    expect(db!.resources).toBeUndefined();
    expect(db!.throwawayUsd).toBeCloseTo(0.5 * 0.032 + (20 * 0.5 * 0.115) / 730, 12);
    expect(vol).toMatchObject({ resources: 1 });
    expect(vol!.throwawayUsd).toBeCloseTo((20 * 0.5 * 0.08) / 730, 12);
  });

  it("needs an assumed duration for every deployed function", () => {
    expect(() => runCost(small, { ...assumed, durationSeconds: { watchdog: 4 } })).toThrow('no assumed duration for function "cost"');
  });

  it("takes every price from the table, each with its page and the date it was read", () => {
    for (const p of Object.values(PRICES)) {
      expect(p.url).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(p.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.usd).toBeGreaterThan(0);
    }
  });
});

describe("npm run cost-to-run on config/example.json", () => {
  const config = exampleConfig();

  it("prices every function the example deploys, with the schedule that starts it", () => {
    const input = runCostInput(config);
    expect(input.functions.map((f) => f.name)).toEqual(deployedFunctions(config).map((f) => f.name));
    expect(input.functions.find((f) => f.name === "copy")).toEqual({ name: "copy", memoryMb: 512, reports: true, schedule: config.schedules.copy });
    expect(input.functions.find((f) => f.name === "failover")?.schedule).toBeUndefined();
    expect(input.alarms).toBe(alarmCount(config));
    const cost = runCost(input, DEFAULT_ASSUMPTIONS);
    for (const fn of input.functions) expect(DEFAULT_ASSUMPTIONS.durationSeconds[fn.name], fn.name).toBeDefined();
    expect(cost.totalUsd).toBeGreaterThan(0);
  });

  it("renders a markdown table whose total is the sum of its lines", () => {
    const cost = runCost(small, assumed);
    const md = renderCost(cost, assumed, "test", true).split("\n");
    expect(md[0]).toBe("| Service | Item | Quantity | Unit price | Monthly | Reason |");
    expect(md[2]).toBe(
      "| Lambda | watchdog compute | 1,460 GB-second (Arm, first tier) | $0.0000133334 * | $0.02 | 730 runs (rate(1 hour)) × 4 s (assumed) × 512 MB |",
    );
    expect(md.find((l) => l.startsWith("| **Total**"))).toBe("| **Total** |  |  |  | **$3.23** | one failover run adds $0.00 |");
    expect(unitPrice(0.0000002)).toBe("$0.0000002");
    expect(unitPrice(0.3)).toBe("$0.3");
  });
});
