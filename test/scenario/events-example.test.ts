import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpDeps, type HttpDeps } from "../../adapters/http-warm.ts";
import { FAILOVER_STATE_MACHINE } from "../../functions/failover.ts";
import { directInvokeRefusal } from "../../runbooks/failover/index.ts";
import { DAY, HOUR, MINUTE } from "../../sandbox/index.ts";
import {
  EXAMPLE_REPORTS_BUCKET,
  EXAMPLE_STATE_BUCKET,
  type ExampleAccount,
  type ExampleAccountOptions,
  exampleAccount,
  exampleConfig,
} from "../../sandbox/scenarios/example-account.ts";
import { lambdaContext } from "../../sandbox/scenarios/harness.ts";
import { startWarmServer, staticRoute, urlsetXml, type WarmServer } from "../../sandbox/scenarios/http-origin.ts";
import type { Config } from "../../schemas/config.ts";
import { EVENT_PARSERS } from "../../schemas/events.ts";
import { type FailoverInnerEvent, parseFailoverEvent } from "../../schemas/events-failover.ts";
import { deployedFunctions, FUNCTIONS, type FunctionName, handlerFile } from "../../stacks/functions.ts";
import { SCHEDULE_INPUT } from "../../stacks/patterns.ts";

/**
 * Every sample in events/ against the deployment config/example.json describes: (a) it parses with its function's
 * schema and names only what the example defines; (b) it runs through that function's handler on a sandbox account
 * built from the example, each AWS call checked against the function's role, with a specific outcome asserted per
 * file; (c) the scheduled samples are exactly the input EventBridge Scheduler delivers. A new file in events/ is
 * picked up by all three and fails until its expected outcome is written in EXPECTED below.
 */

const ROOT = path.join(import.meta.dirname, "../..");
const DIR = path.join(ROOT, "events");
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();
const config = exampleConfig();
const read = (file: string): unknown => JSON.parse(readFileSync(path.join(DIR, file), "utf8"));

/** The function a sample belongs to: the prefix of its name, `<function>-<what>.json`. */
function functionOf(file: string): FunctionName {
  const prefix = file.split("-")[0]!;
  // The longest function name followed by `-` (`restore-test-manual.json` is restore-test's, not a `restore` function's).
  const spec = FUNCTIONS.filter((f) => file.startsWith(`${f.name}-`)).sort((a, b) => b.name.length - a.name.length)[0];
  if (!spec) {
    throw new Error(
      `events/${file}: its prefix "${prefix}" names no function of stacks/functions.ts (${FUNCTIONS.map((f) => f.name).join(", ")}); name it <function>-<what>.json`,
    );
  }
  return spec.name;
}

// ---------------------------------------------------------------------------------------------------------
// (a) names

/** Samples that name an alarm no group has, on purpose: the outcome asserted below is that it is ignored. */
const FOREIGN_ALARMS: Record<string, string> = { "failover-other-alarm.json": "checkout-api-5xx-high" };

/** What a sample names that config/example.json does not define, each as a sentence. */
function unknownNames(file: string, raw: unknown, cfg: Config): string[] {
  const fn = functionOf(file);
  const out: string[] = [];
  const groups = cfg.failover.groups;
  const group = (name: string | undefined, where: string) => {
    if (name !== undefined && !groups.some((g) => g.name === name))
      out.push(`${where} names failover group "${name}"; the example defines ${groups.map((g) => g.name).join(", ")}`);
  };
  const e = raw as Record<string, unknown>;
  if (fn === "failover") {
    const parsed = parseFailoverEvent(raw);
    const inner = parsed.event as FailoverInnerEvent & Record<string, unknown>;
    if ("detail" in inner && inner.detail) {
      const alarm = (inner.detail as { alarmName: string }).alarmName;
      const owner = groups.find((g) => g.alarms.includes(alarm));
      if (!owner && FOREIGN_ALARMS[file] !== alarm)
        out.push(`alarm "${alarm}" triggers no group of the example (${groups.flatMap((g) => g.alarms).join(", ")})`);
      // The rule that starts the runbook listens where the alarm lives; its events come from that region.
      const regions = owner ? [owner.alarmRegion ?? owner.replica.region] : [...new Set(groups.map((g) => g.alarmRegion ?? g.replica.region))];
      const region = (inner as { region?: string }).region;
      if (region && !regions.includes(region)) out.push(`region "${region}": the example's alarms live in ${regions.join(", ")}`);
      for (const arn of (inner as { resources?: string[] }).resources ?? []) {
        if (arn !== `arn:aws:cloudwatch:${region}:123456789012:alarm:${alarm}`) out.push(`resources names ${arn}, not the alarm ${alarm} in ${region}`);
      }
    } else {
      group(inner.group as string | undefined, "group");
      if (inner.mode === "advance" && !String(inner.runId).startsWith(`${String(inner.group)}-`))
        out.push(`runId "${String(inner.runId)}" is no run id of group ${String(inner.group)}`);
    }
  }
  if (fn === "warm") {
    for (const t of (e.targets as string[] | undefined) ?? []) {
      if (!cfg.warm.targets.some((x) => x.name === t))
        out.push(`targets names warm target set "${t}"; the example defines ${cfg.warm.targets.map((x) => x.name).join(", ") || "none"}`);
    }
    group(e.group as string | undefined, "group");
  }
  if (typeof e.policy === "string" && !cfg.backup.policies.some((p) => p.name === e.policy)) out.push(`policy "${e.policy}" is not a policy of the example`);
  const resource = e.resource as { kind: string; id: string } | undefined;
  if (resource) {
    // What the example names: resources selected by id, and the failover groups' databases (the primary carries the databases policy's tag).
    const named = [...cfg.backup.policies.flatMap((p) => p.selection.ids), ...groups.flatMap((g) => [g.primary, g.replica])];
    if (!named.some((r) => r.kind === resource.kind && r.id === resource.id))
      out.push(`resource ${resource.kind} "${resource.id}" is named nowhere in the example (policies' selection.ids, failover groups' databases)`);
  }
  return out;
}

describe("(a) every sample parses with its function's schema and names only what config/example.json defines", () => {
  it.each(FILES)("events/%s", (file) => {
    const fn = functionOf(file);
    const parse = EVENT_PARSERS[fn];
    expect(parse, `no parser for function ${fn} in schemas/events.ts`).toBeDefined();
    const raw = read(file);
    expect(() => parse!(raw)).not.toThrow();
    expect(unknownNames(file, raw, config)).toEqual([]);
    // The handler the sample is for exists where stacks/ deploys it from.
    expect(existsSync(path.join(ROOT, handlerFile(FUNCTIONS.find((f) => f.name === fn)!)))).toBe(true);
  });

  it("a sample named for no function fails with a message that says how to name it", () => {
    expect(() => functionOf("restore-test.json")).toThrow(
      `events/restore-test.json: its prefix "restore" names no function of stacks/functions.ts (${FUNCTIONS.map((f) => f.name).join(", ")}); name it <function>-<what>.json`,
    );
    expect(FUNCTIONS.map((f) => f.name)).toEqual(expect.arrayContaining(["backup", "copy", "prune", "watchdog", "warm", "cost", "failover"]));
  });

  it("the name check catches what the old samples named: group orders, target www without a warm section, an alarm of the primary region", () => {
    const bare = { ...config, warm: { ...config.warm, targets: [] } };
    expect(unknownNames("warm-failover.json", { trigger: "failover", group: "orders" }, config)).toEqual([
      'group names failover group "orders"; the example defines orders-db',
    ]);
    expect(unknownNames("warm-manual.json", { trigger: "manual", targets: ["www"] }, bare)).toEqual([
      'targets names warm target set "www"; the example defines none',
    ]);
    const alarm = read("failover-alarm.json") as Record<string, unknown>;
    expect(unknownNames("failover-alarm.json", { ...alarm, region: "eu-west-1" }, config)).toEqual([
      'region "eu-west-1": the example\'s alarms live in eu-central-1',
      "resources names arn:aws:cloudwatch:eu-central-1:123456789012:alarm:orders-db-primary-down, not the alarm orders-db-primary-down in eu-west-1",
    ]);
    expect(unknownNames("backup-manual-resource.json", { trigger: "manual", resource: { kind: "rds-instance", id: "app-db" } }, config)).toEqual([
      "resource rds-instance \"app-db\" is named nowhere in the example (policies' selection.ids, failover groups' databases)",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// (b) runs

interface Run {
  a: ExampleAccount;
  /** The handler's last answer (after the state machine's waits, for a run through it). */
  result?: Record<string, unknown>;
  /** Every answer the handler gave for this sample, in order. */
  results: Record<string, unknown>[];
  error?: Error;
  /** How the sample was delivered: directly, or as the state machine's input (wrapped by its Task). */
  via: "direct" | "state machine";
}

interface Expected {
  /** Fake time the account starts at. */
  start: string;
  options?: (ctx: { origin?: WarmServer }) => Partial<ExampleAccountOptions>;
  /** What happened before the sample arrived (a history of backups, a failover run). */
  before?: (a: ExampleAccount) => Promise<void>;
  assert: (run: Run, ctx: { origin?: WarmServer }) => void;
}

const PRIMARY = config.primaryRegion;
const DR = config.drRegions[0]!.region;
const GROUP = config.failover.groups[0]!;
const DB = GROUP.primary.id;
const VOL = config.backup.policies.flatMap((p) => p.selection.ids).find((r) => r.kind === "ebs-volume")?.id ?? "(the example selects no EBS volume by id)";
const RUN_ID = "orders-db-20250304T101502Z";
const INCIDENT = "2025-03-04T10:15:02Z";
const ctx = (id: string) => lambdaContext(id);
const calls = (a: ExampleAccount, command: string) => a.sb.calls.filter((c) => c.command === command && !c.error);
const mutating = (a: ExampleAccount) =>
  a.sb.calls
    .filter((c) => /^(Create|Copy|Delete|Promote|Change|Deregister|Modify|Restore|Failover|Switchover|Add|Remove)/.test(c.command))
    .map((c) => `${c.service}:${c.command}`);

/** Nightly backup at 02:00, DR copy at 03:00 (and one prune, which starts the stage's observe window), from `from` for `days` days. */
async function backupHistory(a: ExampleAccount, from: string, days: number): Promise<void> {
  for (let i = 0; i < days; i++) {
    const day = new Date(Date.parse(`${from}T02:00:00Z`) + i * DAY);
    a.clock.set(day);
    await a.handlers.backup({ trigger: "schedule" }, ctx(`backup-${i}`));
    a.clock.advance(HOUR);
    await a.handlers.copy({ trigger: "schedule" }, ctx(`copy-${i}`));
    if (i === 0) {
      a.clock.advance(90 * MINUTE);
      await a.handlers.prune({ trigger: "schedule" }, ctx("prune-first"));
    }
  }
}

/** 21 nights, Monday 10 February to Sunday 2 March 2025; the sample arrives at 04:30, prune's scheduled time. */
const HISTORY = { start: "2025-02-10T00:00:00Z", from: "2025-02-10", days: 21, at: "2025-03-02T04:30:00Z" };
const withHistory = async (a: ExampleAccount) => {
  await backupHistory(a, HISTORY.from, HISTORY.days);
  a.clock.set(HISTORY.at);
  a.slack.length = 0;
  a.metrics.length = 0;
};

/** The primary region is dark: every RDS call there times out, and the primary's probe URL does not answer. */
function outage(a: ExampleAccount): void {
  a.sb.inject({
    service: "rds",
    region: PRIMARY,
    error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
    times: Number.POSITIVE_INFINITY,
  });
  for (const alarm of GROUP.alarms) a.sb.cloudwatch.setAlarmState(GROUP.alarmRegion ?? DR, alarm, "ALARM", "primary unreachable");
}
const outageProbe = (): Partial<ExampleAccountOptions> => ({ probe: (url) => url !== GROUP.primaryProbeUrl });

/** A failover of orders-db run to the end through the state machine (the status, failback and reset samples come after one). */
async function completedFailover(a: ExampleAccount): Promise<void> {
  outage(a);
  let out = await a.handlers.failover({ source: "sfn", event: { mode: "execute", group: GROUP.name, reason: "drill before the sample" } }, ctx("sfn-0"));
  for (let i = 1; out.next === "wait" && i < 200; i++) {
    a.clock.advance(Number(out.waitSeconds ?? 1) * 1000);
    out = await a.handlers.failover({ source: "sfn", event: out.advance }, ctx(`sfn-${i}`));
  }
  expect(out).toMatchObject({ next: "done", runId: RUN_ID });
  a.clock.advance(HOUR);
  a.slack.length = 0;
}

const latch = (a: ExampleAccount) => a.sb.s3.json(EXAMPLE_STATE_BUCKET, `failover/${GROUP.name}/latch.json`) as Record<string, unknown> | undefined;

/** What prune keeps of the 21 nights (policy rules, worked out by hand below) and what it may delete today. */
const PRUNE = {
  // volumes (count-based): the newest 7 dailies (24 Feb – 2 Mar) and the Sundays (16, 23 Feb; 2 Mar among the
  // dailies); the 12 others are past retention, but at most 40 % of the 21 seen go in one day: 8, oldest first.
  volumeDeleted: ["20250210", "20250211", "20250212", "20250213", "20250214", "20250215", "20250217", "20250218"],
  // databases (days-based): dailies of the last 7 days (23 Feb on), Sundays for 35 days, the 1st for 365 days; the 12
  // others (10–22 Feb but Sunday 16) are past retention in each region, and the 50 % cap lets 10 of the 21 go, oldest first.
  dbDeleted: ["20250210", "20250211", "20250212", "20250213", "20250214", "20250215", "20250217", "20250218", "20250219", "20250220"],
};
/** The nights of the history, yyyymmdd. */
const NIGHTS = Array.from({ length: HISTORY.days }, (_, i) =>
  new Date(Date.parse(`${HISTORY.from}T00:00:00Z`) + i * DAY).toISOString().slice(0, 10).replace(/-/g, ""),
);
/** The nights whose snapshot of the volume is still there (its name ends with the backup date). */
const volumeNightsLeft = (a: ExampleAccount) =>
  a.sb.ec2
    .snapshots(PRIMARY, { volumeId: VOL })
    .map((s) => s.tags["ops-autopilot:name"]!.slice(-8))
    .sort();
const deletedIds = (a: ExampleAccount, command: "DeleteSnapshot" | "DeleteDBSnapshot", region: string) =>
  calls(a, command)
    .filter((c) => c.region === region)
    .map((c) => String((c.input as Record<string, unknown>).SnapshotId ?? (c.input as Record<string, unknown>).DBSnapshotIdentifier));

const WARM_URLS = ["https://www.example.com/", "https://www.example.com/checkout", "https://www.example.com/products/1", "https://www.example.com/products/2"];
const SITEMAP = urlsetXml([
  { loc: "https://www.example.com/products/1", priority: 0.6 },
  { loc: "https://www.example.com/products/2", priority: 0.5 },
  { loc: "https://www.example.com/admin/login", priority: 0.9 },
]);

/**
 * The web the warm function sees: www.example.com resolves to a public address, and every request is sent to a
 * local origin instead (the warmer's host and address checks run unchanged on the public address).
 */
function exampleWeb(origin: WarmServer): () => HttpDeps {
  return () => {
    const real = createHttpDeps();
    return {
      lookup: async (host) => {
        if (host !== "www.example.com") throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
        return [{ address: "93.184.215.14", family: 4 }];
      },
      send: (req) => real.send({ ...req, url: new URL(`${req.url.pathname}${req.url.search}`, origin.origin), address: { address: "127.0.0.1", family: 4 } }),
      close: real.close,
    };
  };
}
const pagePaths = (origin: WarmServer) => origin.requests.filter((r) => r.path !== "/sitemap.xml").map((r) => r.path);

/** The cost series Cost Explorer answers: EC2 jumps from $100 to $300 on 9 March, RDS steady at $140. */
const COSTS = (date: string) => ({ "Amazon Elastic Compute Cloud - Compute": date === "2025-03-09" ? 300 : 100, "Amazon Relational Database Service": 140 });
const COST_DIGEST = "== AWS cost digest · 2025-03-09 ==";
const SPIKE_ALERT =
  "== :rotating_light: AWS cost alert · 2025-03-09 ==\n• Amazon Elastic Compute Cloud - Compute: $300.00 on 2025-03-09, 3.0× its 7-day median of $100.00 (+$200.00; alert above 1.5× and +$20.00).";
const DIGEST_TOTAL = "*Spend on 2025-03-09*: $440.00\n*vs 2025-03-02*: +$200.00 (+83%) vs $240.00";
/** The spike alert, then the digest: what the cost function posts for 9 March. */
const expectCostPosts = (slack: string[]) => {
  expect(slack).toHaveLength(2);
  expect(slack[0]!.startsWith(SPIKE_ALERT)).toBe(true);
  expect(slack[1]!.startsWith(`${COST_DIGEST}\n${DIGEST_TOTAL}`)).toBe(true);
};

const EXPECTED: Record<string, Expected> = {
  "backup-scheduled.json": {
    start: "2025-03-10T02:00:00Z",
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "schedule", counts: { create: 2 }, failures: [] });
      expect((result!.results as { resource: string; name: string; status: string }[]).map((r) => [r.resource, r.name, r.status])).toEqual([
        [DB, `oa-ops-autopilot-ci-${DB}-20250310`, "done"],
        [VOL, `oa-ops-autopilot-ci-${VOL}-20250310`, "done"],
      ]);
      expect(a.sb.rds.snapshots(PRIMARY, { sourceId: DB }).map((s) => s.id)).toEqual([`oa-ops-autopilot-ci-${DB}-20250310`]);
      expect(a.sb.ec2.snapshots(PRIMARY, { volumeId: VOL })).toHaveLength(1);
    },
  },
  "backup-manual-resource.json": {
    start: "2025-03-10T09:30:00Z",
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", note: "snapshot before the schema migration", counts: { create: 1 } });
      expect(a.sb.rds.snapshots(PRIMARY, { sourceId: DB }).map((s) => s.id)).toEqual([`oa-ops-autopilot-ci-${DB}-20250310`]);
      // Only the resource it names.
      expect(a.sb.ec2.snapshots(PRIMARY, { volumeId: VOL })).toEqual([]);
    },
  },
  ...Object.fromEntries(
    ["copy-scheduled.json", "copy-manual.json"].map((file): [string, Expected] => [
      file,
      {
        start: "2025-03-10T02:00:00Z",
        before: async (a) => {
          await a.handlers.backup({ trigger: "schedule" }, ctx("backup"));
          a.clock.advance(HOUR);
        },
        assert: ({ a, result }) => {
          expect(result).toMatchObject({ counts: { copy: 1 }, failures: [] });
          // databases copy to DR with the DR region's key; volumes say copyToDr: false.
          const copies = calls(a, "CopyDBSnapshot");
          expect(
            copies.map((c) => [c.region, (c.input as Record<string, unknown>).TargetDBSnapshotIdentifier, (c.input as Record<string, unknown>).KmsKeyId]),
          ).toEqual([[DR, `oa-ops-autopilot-ci-${DB}-20250310`, config.drRegions[0]!.kmsKeyId]]);
          expect(calls(a, "CopySnapshot")).toEqual([]);
        },
      },
    ]),
  ),
  "prune-scheduled.json": {
    start: HISTORY.start,
    before: withHistory,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "schedule", dryRun: false });
      expect(deletedIds(a, "DeleteDBSnapshot", PRIMARY).sort()).toEqual(PRUNE.dbDeleted.map((d) => `oa-ops-autopilot-ci-${DB}-${d}`));
      expect(deletedIds(a, "DeleteDBSnapshot", DR).sort()).toEqual(PRUNE.dbDeleted.map((d) => `oa-ops-autopilot-ci-${DB}-${d}`));
      expect(volumeNightsLeft(a)).toEqual(NIGHTS.filter((d) => !PRUNE.volumeDeleted.includes(d)));
    },
  },
  "prune-dry-run.json": {
    start: HISTORY.start,
    before: withHistory,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: true, note: "show what the next prune would delete and why" });
      expect(mutating(a)).toEqual([]);
      const planned = JSON.stringify(result);
      for (const d of PRUNE.dbDeleted) expect(planned).toContain(`oa-ops-autopilot-ci-${DB}-${d}`);
    },
  },
  "prune-manual-execute.json": {
    start: HISTORY.start,
    before: withHistory,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: false });
      // Only the volume it names: no database snapshot is touched.
      expect(calls(a, "DeleteDBSnapshot")).toEqual([]);
      expect(volumeNightsLeft(a)).toEqual(NIGHTS.filter((d) => !PRUNE.volumeDeleted.includes(d)));
      expect(a.sb.rds.snapshots(PRIMARY, { sourceId: DB, type: "manual" })).toHaveLength(HISTORY.days);
    },
  },
  ...Object.fromEntries(
    ["watchdog-scheduled.json", "watchdog-manual.json"].map((file): [string, Expected] => [
      file,
      {
        start: HISTORY.start,
        before: withHistory,
        assert: ({ a, result }) => {
          expect(result).toMatchObject({ stale: 0, failures: [] });
          expect(a.slack).toEqual([]);
          expect(a.metrics).toContainEqual({ name: "WatchdogHeartbeat", unit: "Count", value: 1 });
          const ages = a.metrics
            .filter((m) => m.name === "BackupAgeHours")
            .map((m) => `${m.dimensions?.resource ?? m.dimensions?.resourceId}@${m.dimensions?.region}:${m.value.toFixed(1)}`);
          // 02:00 backups seen at 04:30: 2.5 h in both regions (a copy holds the primary's data); the volume has no DR copy.
          expect(ages.sort()).toEqual([`${DB}@${DR}:2.5`, `${DB}@${PRIMARY}:2.5`, `${VOL}@${PRIMARY}:2.5`].sort());
        },
      },
    ]),
  ),
  "fleet-summary-backup.json": {
    start: "2025-03-10T02:30:00Z",
    assert: ({ a, result }) => {
      // One run report for the fleet, one Slack summary with a section per account; no AWS call but the report's write.
      expect(result).toMatchObject({ job: "backup", ok: true, totals: { created: 6, accounts: 2, failedAccounts: 0, items: 3, failedItems: 0 } });
      expect(a.slack).toHaveLength(1);
      expect(a.slack[0]!.split("\n")[0]).toBe("== Fleet backup: 2 accounts ok, 6 created ==");
      expect(a.slack[0]).toContain("✅ *payments* (111122223333): ok, 4 created\n• eu-west-1: ok, 3 created\n• eu-central-1: ok, 1 created");
      expect(a.sb.calls.filter((c) => !c.error).map((c) => `${c.service}:${c.command}`)).toEqual(["s3:PutObject"]);
      const key = a.sb.calls.find((c) => c.command === "PutObject")!.input as { Key: string };
      expect(key.Key).toMatch(/^reports\/fleet-summary\/2025-03-10\//);
    },
  },
  "cost-scheduled.json": {
    start: "2025-03-10T08:00:00Z",
    options: () => ({ costs: COSTS }),
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "schedule", reportDate: "2025-03-09", sent: ["alert"] });
      expectCostPosts(a.slack);
      expect(a.sb.s3.json(EXAMPLE_REPORTS_BUCKET, "state/alerts/cost.json")).toMatchObject({
        incidents: { "cost:spike:Amazon Elastic Compute Cloud - Compute": { openedAt: "2025-03-10T08:00:00.000Z", reminders: 0 } },
      });
    },
  },
  "cost-digest.json": {
    start: "2025-03-12T08:00:00Z",
    options: () => ({ costs: COSTS }),
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", reportDate: "2025-03-09", note: "re-send the digest for 9 March", alerts: [], sent: [] });
      // A past day's digest only: it neither starts nor ends an incident, so no alert and no alert state.
      expect(a.slack).toHaveLength(1);
      expect(a.slack[0]!.startsWith(`${COST_DIGEST}\n${DIGEST_TOTAL}`)).toBe(true);
      expect(a.sb.s3.objects(EXAMPLE_REPORTS_BUCKET, "state/alerts/")).toEqual([]);
      expect(a.costCalls().map((c) => c.command)).toEqual(["GetCostAndUsage", "GetCostForecast"]);
    },
  },
  "cost-dry-run.json": {
    start: "2025-03-12T08:00:00Z",
    options: () => ({ costs: COSTS }),
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: true, reportDate: "2025-03-09", alerts: [], sent: [] });
      expect(String(result!.digestText)).toContain(COST_DIGEST);
      // Nothing posted, no alert state recorded.
      expect(a.slack).toEqual([]);
      expect(a.sb.s3.objects(EXAMPLE_REPORTS_BUCKET, "state/alerts/")).toEqual([]);
    },
  },
  // From the console a restore-test event only plans: one invocation cannot wait out a restore, so it names the state
  // machine to start instead (the schedule starts that state machine with this very input).
  "restore-test-schedule.json": {
    start: HISTORY.start,
    before: withHistory,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({
        next: "planned",
        plan: [{ action: "start", policy: "databases", kind: "rds-instance", resourceId: DB, region: DR }],
      });
      expect((result!.plan as { reason: string }[])[0]!.reason).toBe(`due: never restore-tested; 1 of 1 slot in ${DR} (the first DR region (default))`);
      // Nothing restored: the only write is the run report.
      expect(a.sb.calls.filter((c) => !/^(Describe|List|Get|Head)/.test(c.command)).map((c) => `${c.command} ${(c.input as { Key?: string }).Key}`)).toEqual([
        expect.stringMatching(/^PutObject reports\/restore-test\//),
      ]);
    },
  },
  "restore-test-manual.json": {
    start: HISTORY.start,
    before: withHistory,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ next: "planned", plan: [{ action: "start", policy: "volumes", kind: "ebs-volume", resourceId: VOL, region: PRIMARY }] });
      expect((result!.plan as { reason: string }[])[0]!.reason).toMatch(/^requested \(manual run\); 1 of 1 slot in /);
      // Nothing restored: the only write is the run report.
      expect(a.sb.calls.filter((c) => !/^(Describe|List|Get|Head)/.test(c.command)).map((c) => `${c.command} ${(c.input as { Key?: string }).Key}`)).toEqual([
        expect.stringMatching(/^PutObject reports\/restore-test\//),
      ]);
    },
  },
  // The week that ended on Sunday 2 March 2025 (2025-W09), from the history's saved run reports.
  "weekly-report-scheduled.json": {
    start: HISTORY.start,
    before: async (a) => {
      await withHistory(a);
      a.clock.set("2025-03-03T06:00:00Z");
    },
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "schedule", week: "2025-W09", htmlKey: "reports/weekly/2025-W09.html", written: true, failures: [] });
      const objects = result!.objects as { read: number; leftOut: number };
      expect(objects.read).toBeGreaterThan(0);
      expect(objects.leftOut).toBe(0);
      expect(a.sb.s3.objects(EXAMPLE_REPORTS_BUCKET, "reports/weekly/").map((o) => [o.key, o.contentType])).toEqual([
        ["reports/weekly/2025-W09.html", "text/html; charset=utf-8"],
      ]);
      expect(a.slack).toHaveLength(1);
      expect(a.slack[0]).toContain("reports/weekly/2025-W09.html");
    },
  },
  "weekly-report-manual.json": {
    start: "2026-11-30T09:00:00Z",
    assert: ({ a, result }) => {
      // A week with no run reports still renders, and says so: nothing read, nothing left out.
      expect(result).toMatchObject({ trigger: "manual", week: "2026-W47", htmlKey: "reports/weekly/2026-W47.html", written: true });
      expect(result!.objects).toMatchObject({ read: 0, leftOut: 0 });
      expect(a.sb.s3.objects(EXAMPLE_REPORTS_BUCKET, "reports/weekly/").map((o) => o.key)).toEqual(["reports/weekly/2026-W47.html"]);
      expect(a.slack).toHaveLength(1);
    },
  },
  "weekly-report-dry-run.json": {
    start: HISTORY.start,
    before: async (a) => {
      await withHistory(a);
      a.clock.set("2025-03-03T06:00:00Z");
    },
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: true, week: "2025-W09", written: false });
      expect(String(result!.messageText)).toContain("2025-W09");
      // Rendered, nothing written under reports/weekly/, nothing posted.
      expect(a.sb.s3.objects(EXAMPLE_REPORTS_BUCKET, "reports/weekly/").map((o) => o.key)).toEqual([]);
      expect(a.slack).toEqual([]);
    },
  },
  "warm-scheduled.json": warmRun("schedule"),
  "warm-manual.json": warmRun("manual"),
  "warm-failover.json": warmRun("failover"),
  "warm-dry-run.json": {
    start: "2025-03-10T05:00:00Z",
    options: ({ origin }) => ({ http: exampleWeb(origin!) }),
    assert: ({ result }, { origin }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: true });
      // Only the sitemap is fetched; the plan lists the URLs by priority, the /admin/ one excluded with its reason.
      expect(origin!.requests.map((r) => r.path)).toEqual(["/sitemap.xml"]);
      const [report] = result!.targets as { plan: { url: string }[]; skipped: { url: string; kind: string }[] }[];
      expect(report!.plan.map((p) => p.url)).toEqual(WARM_URLS);
      expect(report!.skipped.map((x) => [x.url, x.kind])).toEqual([["https://www.example.com/admin/login", "excluded"]]);
    },
  },
  "probe-scheduled.json": {
    start: "2025-03-10T05:00:00Z",
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "schedule", dryRun: false, down: [] });
      expect(a.probed).toEqual([GROUP.trigger!.probe.url]);
      // One datapoint per group in the DR region, in the stage's namespace: the trigger kit's alarm watches it.
      expect(a.sb.cloudwatch.published(GROUP.replica.region, "ops-autopilot-ci/failover-probe")).toEqual([
        { metric: "PrimaryProbeFailed", dimensions: { group: GROUP.name }, value: 0, at: a.clock.now() },
      ]);
    },
  },
  "probe-dry-run.json": {
    start: "2025-03-10T05:00:00Z",
    options: () => outageProbe(),
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ trigger: "manual", dryRun: true, down: [GROUP.name] });
      expect(a.sb.cloudwatch.published(GROUP.replica.region, "ops-autopilot-ci/failover-probe")).toEqual([]);
    },
  },
  "failover-alarm.json": alarmPlanOnly(),
  "failover-probe-alarm.json": alarmPlanOnly(),
  ...Object.fromEntries(
    [
      ["failover-ok.json", "alarm orders-db-primary-down went to OK: only a transition into ALARM starts a failover"],
      ["failover-insufficient-data.json", "alarm orders-db-primary-down went to INSUFFICIENT_DATA: only a transition into ALARM starts a failover"],
      ["failover-other-alarm.json", "alarm checkout-api-5xx-high triggers no configured failover group"],
    ].map(([file, reason]): [string, Expected] => [
      file!,
      {
        start: INCIDENT,
        assert: ({ a, result, via }) => {
          expect(via).toBe("direct");
          expect(result).toMatchObject({ next: "ignored", action: "ignore", reason });
          // The cheap exit: no AWS call, no Slack message, no report.
          expect(a.sb.calls).toEqual([]);
          expect(a.slack).toEqual([]);
        },
      },
    ]),
  ),
  "failover-plan.json": {
    start: INCIDENT,
    options: outageProbe,
    before: async (a) => outage(a),
    assert: ({ a, result, via }) => {
      expect(via).toBe("direct");
      expect(result).toMatchObject({ next: "ignored", action: "plan", reason: "would start: all blocking pre-checks passed" });
      expect((result!.checks as { name: string; ok: boolean }[]).map((c) => [c.name, c.ok])).toEqual([
        ["primary-down", true],
        ["replica-available", true],
        ["replica-lag", true],
      ]);
      expect(a.slack[0]).toContain("== Failover plan: orders-db (nothing changed) ==");
      expect(mutating(a)).toEqual([]);
      expect(latch(a)).toBeUndefined();
    },
  },
  "failover-execute.json": {
    start: INCIDENT,
    options: outageProbe,
    before: async (a) => outage(a),
    assert: ({ a, result, via }) => {
      expect(via).toBe("state machine");
      expect(result).toMatchObject({ next: "done", reason: "failover complete", runId: RUN_ID });
      expectFailedOver(a);
      expect(latch(a)).toMatchObject({ state: "done", trigger: { kind: "manual", reason: "eu-west-1 outage confirmed by AWS Health; incident INC-4711" } });
    },
  },
  "failover-execute-force.json": {
    start: INCIDENT,
    options: outageProbe,
    before: async (a) => {
      outage(a);
      // The lag the sample's reason speaks of: 240 s, beyond the group's RPO (maxReplicaLagSeconds 60).
      a.sb.cloudwatch.setMetric(DR, "ReplicaLag", GROUP.replica.id, 240, new Date(a.clock.nowMs() - 10 * MINUTE));
    },
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ next: "done", runId: RUN_ID });
      expectFailedOver(a);
      const record = latch(a) as { trigger: unknown; prechecks: { name: string; ok: boolean }[] };
      expect(record.trigger).toMatchObject({ kind: "manual", force: { reason: "CTO accepts up to 4 min of order data loss (INC-4711)" } });
      expect(record.prechecks.find((c) => c.name === "replica-lag")).toMatchObject({ ok: false });
    },
  },
  "failover-advance.json": {
    start: INCIDENT,
    options: outageProbe,
    before: async (a) => {
      // The state machine started the execute at 10:15:02 and waits: the sample is its next Advance.
      outage(a);
      const first = await a.handlers.failover({ source: "sfn", event: { mode: "execute", group: GROUP.name, reason: "outage" } }, ctx("sfn-start"));
      expect(first).toMatchObject({ next: "wait", advance: { mode: "advance", group: GROUP.name, runId: RUN_ID } });
      a.clock.advance(Number(first.waitSeconds) * 1000);
    },
    assert: ({ a, results, result }) => {
      expect(results[0]).toMatchObject({ action: "advance", runId: RUN_ID });
      expect(result).toMatchObject({ next: "done", runId: RUN_ID });
      // Promoted before the sample (the run's first invocation); the sample's advances finish it.
      expectFailedOver(a, { promotedBefore: true });
    },
  },
  "failover-status.json": {
    start: INCIDENT,
    options: outageProbe,
    before: completedFailover,
    assert: ({ result, via }) => {
      expect(via).toBe("direct");
      expect(result).toMatchObject({ next: "ignored", action: "status", reason: `orders-db: ${RUN_ID} done` });
    },
  },
  "failover-failback-plan.json": {
    start: INCIDENT,
    options: outageProbe,
    before: completedFailover,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({ next: "ignored", action: "failback-plan", reason: "failback is manual; steps reported" });
      expect(a.slack[0]).toContain("== Failback plan: orders-db (manual, nothing changed) ==");
      expect(a.slack[0]).not.toContain("No failover has run");
      expect(mutating(a).filter((c) => c !== "s3:PutObject" && !c.startsWith("route53") && !c.startsWith("rds"))).toEqual([]);
    },
  },
  "failover-reset.json": {
    start: INCIDENT,
    options: outageProbe,
    before: completedFailover,
    assert: ({ a, result }) => {
      expect(result).toMatchObject({
        next: "done",
        action: "reset",
        reason: "latch released: failback completed and verified (INC-4711 closed)",
        runId: RUN_ID,
      });
      expect(latch(a)).toMatchObject({ state: "released", release: { reason: "failback completed and verified (INC-4711 closed)" } });
    },
  },
};

/** The failover did what the group says: promoted the replica, pointed the record at it, warmed www, checked health. */
function expectFailedOver(a: ExampleAccount, opts: { promotedBefore?: boolean } = {}): void {
  expect(calls(a, "PromoteReadReplica").map((c) => [c.region, (c.input as Record<string, unknown>).DBInstanceIdentifier])).toEqual(
    opts.promotedBefore ? [] : [[DR, GROUP.replica.id]],
  );
  const change = calls(a, "ChangeResourceRecordSets").map(
    (c) => (c.input as { ChangeBatch: { Changes: { Action: string; ResourceRecordSet: Record<string, unknown> }[] } }).ChangeBatch.Changes,
  );
  expect(change).toEqual([
    [
      {
        Action: "UPSERT",
        ResourceRecordSet: {
          Name: "db.example.com",
          Type: "CNAME",
          TTL: 60,
          ResourceRecords: [{ Value: "orders-db-dr.abcdefghijkl.eu-central-1.rds.amazonaws.com" }],
        },
      },
    ],
  ]);
  expect(a.warmed).toEqual(["www"]);
  expect(a.probed.filter((u) => u === GROUP.healthUrl)).toHaveLength(GROUP.healthChecks);
  expect(a.slack.at(-1)).toContain("== RESOLVED: Failover orders-db complete ==");
}

/** An ALARM of a group whose execution is plan-only: the runbook plans, posts, and asks a human; nothing changes. */
function alarmPlanOnly(): Expected {
  return {
    start: INCIDENT,
    options: outageProbe,
    before: async (a) => outage(a),
    assert: ({ a, result, via }) => {
      expect(via).toBe("state machine");
      expect(GROUP.execution).toBe("plan-only");
      expect(result).toMatchObject({ next: "ignored", action: "plan-only", group: GROUP.name });
      expect(a.slack).toHaveLength(1);
      expect(a.slack[0]).toContain('To proceed, a human runs mode "execute" for group orders-db with a reason.');
      expect(mutating(a)).toEqual([]);
      expect(latch(a)).toBeUndefined();
    },
  };
}

function warmRun(trigger: "schedule" | "manual" | "failover"): Expected {
  return {
    start: "2025-03-10T05:00:00Z",
    options: ({ origin }) => ({ http: exampleWeb(origin!) }),
    assert: ({ result }, { origin }) => {
      expect(result).toMatchObject({ trigger, dryRun: false, failures: [], ...(trigger === "failover" ? { group: GROUP.name } : {}) });
      const [report] = result!.targets as { targetSet: string; first: { requested: number }; verify: { cache: { hitRatio: number } } }[];
      expect(report).toMatchObject({ targetSet: "www", first: { requested: WARM_URLS.length }, verify: { cache: { hitRatio: 1 } } });
      // Every URL twice (warm, then verify), the /admin/ URL of the sitemap never.
      const paths = pagePaths(origin!).sort();
      expect(paths).toEqual(["/", "/", "/checkout", "/checkout", "/products/1", "/products/1", "/products/2", "/products/2"]);
    },
  };
}

/** Deliver a sample as it arrives in production: directly, or (execute, advance, an ALARM of a group) through the state machine. */
async function deliver(a: ExampleAccount, fn: FunctionName, raw: unknown): Promise<Omit<Run, "a">> {
  const handler = (a.handlers as Partial<Record<FunctionName, (typeof a.handlers)[keyof typeof a.handlers]>>)[fn];
  if (!handler) throw new Error(`no handler for function ${fn} in sandbox/scenarios/example-account.ts: add it there to run its samples`);
  let event = raw;
  let via: Run["via"] = "direct";
  if (fn === "failover") {
    const parsed = parseFailoverEvent(raw);
    if (parsed.viaStateMachine) via = "state machine";
    else if (directInvokeRefusal(a.config.failover, parsed.event, FAILOVER_STATE_MACHINE)) {
      // The state machine's Task wraps its input (stacks/durable-runbook-definition.ts: Payload { source: "sfn", event }).
      event = { source: "sfn", event: raw };
      via = "state machine";
    }
  }
  const results: Record<string, unknown>[] = [];
  try {
    let out = await handler(event, ctx("sample"));
    results.push(out);
    // The state machine's loop: Wait waitSeconds, then Advance.
    for (let i = 0; via === "state machine" && out.next === "wait" && i < 500; i++) {
      a.clock.advance(Number(out.waitSeconds ?? 1) * 1000);
      out = await handler({ source: "sfn", event: out.advance }, ctx(`advance-${i}`));
      results.push(out);
    }
    return { result: out, results, via };
  } catch (error) {
    return { results, error: error as Error, via };
  }
}

/**
 * Functions deployed only with a `fleet` section, which config/example.json has none of: their samples run on the
 * example account all the same (the fleet summary reads nothing of the fleet's configuration; its role is the same).
 */
const FLEET_ONLY: readonly FunctionName[] = ["fleet-summary"];

/** Samples of functions config/example.json deploys (run below), and of those it does not. */
const DEPLOYED = new Set([...deployedFunctions(config).map((f) => f.name), ...FLEET_ONLY]);
const RUN_FILES = FILES.filter((f) => DEPLOYED.has(functionOf(f)));
const NOT_DEPLOYED = FILES.filter((f) => !DEPLOYED.has(functionOf(f)));

describe("(b) every sample runs through its function's handler on the example account, as its role allows", () => {
  let account: ExampleAccount | undefined;
  let origin: WarmServer | undefined;
  afterEach(async () => {
    account?.restore();
    account = undefined;
    await origin?.close();
    origin = undefined;
  });

  it.each(RUN_FILES)("events/%s", async (file) => {
    const fn = functionOf(file);
    const expected = EXPECTED[file];
    if (!expected) throw new Error(`events/${file} has no expected outcome: add one to EXPECTED in test/scenario/events-example.test.ts`);
    if (fn === "warm") origin = await startWarmServer({ routes: { "/sitemap.xml": staticRoute(SITEMAP, { contentType: "application/xml" }) } });
    account = exampleAccount({ start: expected.start, ...expected.options?.({ origin }) });
    await expected.before?.(account);
    const callsBefore = account.sb.calls.length;
    const run = await deliver(account, fn, read(file));
    if (run.error) throw run.error;
    expected.assert({ a: { ...account, sb: sinceCall(account, callsBefore) }, ...run }, { origin });
    expect(account.sb.iam?.denials).toEqual([]);
  });

  it("every sample has an expected outcome and every expected outcome a sample", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(RUN_FILES);
  });

  it("the example deploys every function a sample is for, so every sample runs here", () => {
    // fleet-targets lists an Organizations OU, which the example has none of: its sample runs in
    // test/unit/fleet/targets.test.ts, on a sandbox with an organization.
    expect(NOT_DEPLOYED).toEqual(["fleet-targets-backup.json"]);
  });
});

/** The account as the sample left it, with only the calls the sample's own run made. */
function sinceCall(a: ExampleAccount, from: number): ExampleAccount["sb"] {
  return new Proxy(a.sb, {
    get(target, prop, receiver) {
      if (prop === "calls") return target.calls.slice(from);
      return Reflect.get(target, prop, receiver);
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// (c) schedules

describe("(c) events/*-scheduled.json are exactly what EventBridge Scheduler delivers", () => {
  /**
   * SST's CronV2 (stacks/schedules.ts) creates an EventBridge Scheduler schedule whose target input is
   * JSON.stringify(event) (.sst/platform/src/components/aws/cron-v2.ts, `target.input`; "For Lambda functions, the
   * event will be passed to the function as an event", https://sst.dev/docs/component/aws/cron-v2/), and the Lambda
   * Invoke templated target delivers that input as the invocation payload
   * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html). So the Lambda receives
   * SCHEDULE_INPUT verbatim, with no envelope.
   */
  const scheduled = FILES.filter((f) => f.endsWith("-scheduled.json"));

  it.each(scheduled)("events/%s is SCHEDULE_INPUT verbatim", (file) => {
    expect(read(file)).toEqual(SCHEDULE_INPUT);
    expect(JSON.stringify(read(file))).toBe(JSON.stringify(SCHEDULE_INPUT));
  });

  it("every function on a schedule in the example has its scheduled sample, and only those", () => {
    // The vault stage's functions (stage "vault") are scheduled by the vault stage in the backup account, not here.
    const onSchedule = FUNCTIONS.filter(
      (f) =>
        (f.stage === undefined &&
          f.trigger.kind === "schedule" &&
          config.schedules[(f.trigger as { schedule: keyof Config["schedules"] }).schedule] !== undefined) ||
        // The trigger kit's probe runs on its own schedule when a group has a trigger.
        (f.trigger.kind === "probe-schedule" && config.failover.groups.some((g) => g.trigger)),
    );
    expect(scheduled).toEqual(onSchedule.map((f) => `${f.name}-scheduled.json`).sort());
  });
});
