/**
 * Benchmark: a fleet's nightly backup, copy and prune at the API's speed limit. 50 member accounts × 3 regions
 * (eu-west-1 primary, eu-central-1 and eu-north-1 DR) × 100 resources (50 RDS instances, 50 EBS volumes): 15,000
 * resources on the sandbox with its rate limits on (sandbox/aws/rate-limits.ts), every job run through the fan-out
 * (one item per account × region, at most FLEET_MAX_CONCURRENCY at once, then the summary function) and the real
 * handlers, each item as its member role in its account.
 *
 * For each job it prints: the simulated wall time against minimumWallTime of the calls the job strictly needs (target
 * ≤ 1.2); the member-account API calls against that minimum (target ≤ 1.01): for each listing the job needs, one call
 * per page of what it lists (RDS 100 a page, EC2 1,000) and one call per snapshot created, copied or deleted; the
 * throttling errors that reached a report (target 0) and the throttles the SDK's retries absorbed; the central
 * account's calls apart (AssumeRole, run reports, claims). Then the peak memory of one fan-out worker: one item's
 * invocation alone in a fresh process (`--worker`).
 *
 *   node bench/fleet.ts [accounts=50] [resourcesPerRegion=100] [--jobs=backup,copy,prune] [--copy-rounds=N] [--history=days]
 *     [--concurrency=N] [--json]
 *   node bench/fleet.ts 5 1000 --jobs=prune,backup --history=4   # the same 15,000 resources, 1,000 per account and
 *                                                                  # region: beyond the buckets' bursts
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EC2Client } from "@aws-sdk/client-ec2";
import { RDSClient } from "@aws-sdk/client-rds";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { minimumWallTime, type CallSpec, type CallRecord } from "../sandbox/index.ts";
import {
  benchAccounts,
  createFleetWorld,
  FLEET_DR,
  FLEET_DR_KEY_ALIAS,
  FLEET_PRIMARY,
  FLEET_REPORTS_BUCKET,
  fleetInvoker,
  runFleetJob,
  type FleetJobRun,
  type FleetWorld,
} from "../sandbox/scenarios/fleet-scenarios.ts";
import { FLEET_MAX_CONCURRENCY } from "../stacks/fleet-fanout-definition.ts";
import { snapshotName } from "../core/backup-plan.ts";
import { addDays } from "../core/calendar.ts";
import { TAG } from "../core/types.ts";
import type { FleetFunction } from "../schemas/config-fleet.ts";

process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";

const WORKER = process.argv.indexOf("--worker");
const argv = process.argv.slice(2).filter((a, i) => !a.startsWith("--") && !(WORKER >= 0 && i === WORKER - 1));
/** A worker's item acts in one account: the others would only add to the heap it starts with. */
const ACCOUNTS = WORKER >= 0 ? 1 : Number(argv[0] ?? 50);
const PER_REGION = Number(argv[1] ?? 100);
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** The jobs to run (`--jobs=backup,prune`; default all three, in the night's order). */
const JOBS = (flag("jobs") ?? "backup,copy,prune").split(",") as FleetFunction[];
/** Items' own concurrency (`--concurrency=N`, config backup.concurrency; default the schema's). */
const CONCURRENCY = flag("concurrency") === undefined ? undefined : Number(flag("concurrency"));
const DR2 = "eu-north-1";
const REGIONS = [FLEET_PRIMARY, FLEET_DR, DR2];
const TODAY = "2026-03-02";
/** Days of backups already there (and copied): prune then has the oldest to delete in every region. */
const HISTORY_DAYS = Number(process.argv.find((a) => a.startsWith("--history="))?.slice(10) ?? 3);
/** RDS allows 100 manual snapshots per region by default (adjustable): a fleet of 50 databases per region raises it. */
const LIMITS = { rdsManualSnapshotsPerRegion: 10_000 };
/** Copy rounds at most (`--copy-rounds=N`): each copies 20 per destination region and account (AWS's in-flight limit). */
const COPY_ROUNDS = Number(flag("copy-rounds") ?? 12);
const POLICY = { tiers: { daily: { keep: { days: 2 } } }, keepNewest: 3 };
const MINUTE = 60_000;

/** Mutating calls: one per change a job makes. */
const MUTATING = /^(Create|Copy|Delete|Modify|Lock)/;
/** What the member account's API answers per page: RDS MaxRecords 100; EC2 MaxResults 1,000 (DescribeVolumes 500). */
const PAGE: Record<string, number> = {
  DescribeDBInstances: 100,
  DescribeDBClusters: 100,
  DescribeDBSnapshots: 100,
  DescribeDBClusterSnapshots: 100,
  DescribeSnapshots: 1000,
  DescribeVolumes: 500,
  DescribeImages: 1000,
};

function world(): FleetWorld {
  const rds = Math.floor(PER_REGION / 2);
  const w = createFleetWorld({
    stage: "bench",
    accounts: benchAccounts(ACCOUNTS),
    drRegions: [FLEET_DR, DR2],
    // Encrypted with each member's customer managed key (its alias is the configuration's source key), as a fleet's
    // volumes and instances are: the copies use it as their source key, through the member roles' alias-scoped grant.
    resources: { rdsInstances: rds, ebsVolumes: PER_REGION - rds, regions: REGIONS, encrypted: true },
    limits: LIMITS,
    policy: POLICY,
    ...(CONCURRENCY !== undefined ? { concurrency: CONCURRENCY } : {}),
    start: TODAY,
  });
  seedHistory(w);
  return w;
}

/**
 * The primary's backups of the last HISTORY_DAYS days and their DR copies, named, tagged and encrypted as backup and
 * copy make them: a backup with its source's key, a DR copy with the DR region's key as the copy job names it.
 */
function seedHistory(w: FleetWorld): void {
  const owner = { app: w.config.app, stage: w.config.stage };
  for (const a of w.accounts) {
    const acc = w.workload.get(a.id)!;
    for (const id of w.seeded[`${a.id}/${FLEET_PRIMARY}`] ?? []) {
      for (let d = 1; d <= HISTORY_DAYS; d++) {
        const day = addDays(TODAY, -d);
        const name = snapshotName(owner, id, day);
        const createdAt = new Date(`${day}T02:05:00Z`);
        for (const region of REGIONS) {
          const tags = {
            [TAG.managedBy]: `${owner.app}:${owner.stage}`,
            [TAG.policy]: "fleet",
            [TAG.source]: id,
            [TAG.backupDate]: day,
            [TAG.name]: name,
            [TAG.sourceRegion]: FLEET_PRIMARY,
            ...(region === FLEET_PRIMARY ? {} : { [TAG.copyOf]: name }),
          };
          const encryption = { encrypted: true, kmsKeyId: region === FLEET_PRIMARY ? w.workloadKeys[a.id]![FLEET_PRIMARY]! : FLEET_DR_KEY_ALIAS };
          if (id.startsWith("vol-")) acc.ec2.addSnapshot(region, { volumeId: id, createdAt, tags, description: name, ...encryption });
          else acc.rds.addSnapshot(region, { id: name, sourceId: id, createdAt, tags, ...encryption });
        }
      }
    }
  }
}

/** The listings a job's item needs in its member account, by region: what the plan reads, nothing twice. */
function neededListings(job: FleetFunction, region: string): { region: string; command: string }[] {
  const snapshots = (r: string) => ["DescribeDBSnapshots", "DescribeDBClusterSnapshots", "DescribeSnapshots"].map((command) => ({ region: r, command }));
  switch (job) {
    case "backup":
      // Backups are made in the primary: the resources and the day's existing snapshots (idempotence).
      return region === FLEET_PRIMARY
        ? [...["DescribeDBInstances", "DescribeDBClusters", "DescribeVolumes"].map((command) => ({ region, command })), ...snapshots(region)]
        : [];
    case "copy":
      // A DR region's copies: the primary's snapshots and the copies already there.
      return region === FLEET_PRIMARY ? [] : [...snapshots(FLEET_PRIMARY), ...snapshots(region)];
    case "prune":
      // The region's snapshots and the AMIs using them; the primary also reads the DR copies (no prune without them).
      return [
        ...snapshots(region),
        { region, command: "DescribeImages" },
        ...(region === FLEET_PRIMARY ? REGIONS.filter((r) => r !== FLEET_PRIMARY).flatMap(snapshots) : []),
      ];
    default:
      return [];
  }
}

/** How many items a listing returns in an account and region now (RDS: every manual snapshot; EC2: ours, tag-filtered). */
function listed(w: FleetWorld, account: string, region: string, command: string): number {
  const acc = w.workload.get(account)!;
  const managedBy = `${w.config.app}:${w.config.stage}`;
  switch (command) {
    case "DescribeDBInstances":
      return Math.floor(PER_REGION / 2);
    case "DescribeDBClusters":
      return 0;
    case "DescribeVolumes":
      return PER_REGION - Math.floor(PER_REGION / 2);
    case "DescribeDBSnapshots":
      return acc.rds.snapshots(region).filter((s) => s.type === "manual" && s.kind === "rds-instance").length;
    case "DescribeDBClusterSnapshots":
      return acc.rds.snapshots(region).filter((s) => s.type === "manual" && s.kind === "aurora-cluster").length;
    case "DescribeSnapshots":
      return acc.ec2.snapshots(region).filter((s) => s.tags[TAG.managedBy] === managedBy).length;
    default:
      return 0;
  }
}

interface RunMeasure {
  run: FleetJobRun;
  calls: CallRecord[];
  /** The minimum calls: per account and region, the needed listings' pages plus one call per change. */
  minimum: CallSpec[];
  simulatedMs: number;
}

async function measuredRun(w: FleetWorld, invoker: ReturnType<typeof fleetInvoker>, job: FleetFunction): Promise<RunMeasure> {
  // The listings' sizes as the run starts (what its items list first).
  const minimum: CallSpec[] = [];
  for (const item of w.items(job)) {
    if (!w.workload.has(item.account)) continue;
    for (const l of neededListings(job, item.region)) {
      const n = listed(w, item.account, l.region, l.command);
      const pages = Math.max(1, Math.ceil(n / PAGE[l.command]!));
      minimum.push({
        service: l.command.includes("DB") ? "rds" : "ec2",
        command: l.command,
        region: l.region,
        account: item.account,
        count: pages,
        input: { MaxResults: PAGE[l.command] },
      });
    }
  }
  const from = w.sb.calls.length;
  const run = await runFleetJob(w, invoker, job, { maxConcurrency: FLEET_MAX_CONCURRENCY });
  const calls = w.sb.calls.slice(from);
  // One call per change made: every mutating call that succeeded in a member account.
  for (const c of calls) {
    if (c.account && MUTATING.test(c.command) && !c.error)
      minimum.push({ service: c.service, command: c.command, region: c.region, account: c.account, input: c.input });
  }
  return { run, calls, minimum, simulatedMs: run.simulatedMs };
}

interface JobFigures {
  job: FleetFunction;
  runs: number;
  items: number;
  failedItems: number;
  changes: number;
  simulatedMs: number;
  minimumMs: number;
  minimumMsOfCallsMade: number;
  bottleneck?: string;
  memberCalls: number;
  minimumCalls: number;
  byCommand: Record<string, { made: number; minimum: number }>;
  central: Record<string, number>;
  throttled: number;
  throttleErrorsInReports: number;
  retryCapacityRefusals: number;
}

const THROTTLE_TEXT = /Throttl|RequestLimitExceeded|Rate exceeded|SlowDown/;

function figures(w: FleetWorld, job: FleetFunction, runs: RunMeasure[], refusalsBefore: number): JobFigures {
  const calls = runs.flatMap((r) => r.calls);
  const first = calls.filter((c) => c.attempt === 1);
  const member = first.filter((c) => c.account);
  const minimum = runs.flatMap((r) => r.minimum);
  const byCommand: JobFigures["byCommand"] = {};
  for (const c of member) (byCommand[c.command] ??= { made: 0, minimum: 0 }).made++;
  for (const m of minimum) (byCommand[m.command] ??= { made: 0, minimum: 0 }).minimum += m.count ?? 1;
  const central: Record<string, number> = {};
  for (const c of first.filter((x) => !x.account)) {
    const what =
      c.service === "s3" && c.command === "PutObject"
        ? /^claims\//.test((c.input as { Key?: string }).Key ?? "")
          ? "s3:PutObject claims"
          : "s3:PutObject reports and state"
        : `${c.service}:${c.command}`;
    central[what] = (central[what] ?? 0) + 1;
  }
  // Minimum wall time, run by run (runs are separated by the copy rounds' waits): the minimum calls', and the calls made.
  const spec = (c: CallRecord): CallSpec => ({
    service: c.service,
    command: c.command,
    region: c.region,
    account: c.account ?? w.sb.accountId,
    input: c.input,
  });
  let minimumMs = 0;
  let minimumMsOfCallsMade = 0;
  let bottleneck: string | undefined;
  for (const r of runs) {
    const m = minimumWallTime(r.minimum);
    minimumMs += m.ms;
    if (m.bottleneck && !bottleneck)
      bottleneck = `${m.bottleneck.key} (${m.bottleneck.calls} calls, burst ${m.bottleneck.capacity}, ${m.bottleneck.refillPerSecond}/s)`;
    minimumMsOfCallsMade += minimumWallTime(r.calls.filter((c) => c.attempt === 1).map(spec)).ms;
  }
  // Throttling errors that reached a report: the item results and the run reports the job wrote.
  const reportKeys = new Set(runs.flatMap((r) => r.run.results.flatMap((x) => (x.ok && x.reportKey ? [x.reportKey] : []))));
  let inReports = 0;
  for (const key of reportKeys) {
    const text = w.sb.s3.text(FLEET_REPORTS_BUCKET, key) ?? "";
    const failures = (JSON.parse(text) as { failures?: { message?: string }[] }).failures ?? [];
    inReports += failures.filter((f) => THROTTLE_TEXT.test(f.message ?? "")).length;
  }
  inReports += runs.flatMap((r) => r.run.results).filter((x) => !x.ok && THROTTLE_TEXT.test(`${x.error} ${x.cause ?? ""}`)).length;
  const results = runs.flatMap((r) => r.run.results);
  const count = job === "backup" ? "created" : job === "copy" ? "copied" : "pruned";
  return {
    job,
    runs: runs.length,
    items: results.length,
    failedItems: results.filter((x) => !x.ok).length,
    changes: results.reduce((n, x) => n + (x.ok ? (x.counts[count] ?? 0) : 0), 0),
    simulatedMs: runs.reduce((n, r) => n + r.simulatedMs, 0),
    minimumMs,
    minimumMsOfCallsMade,
    ...(bottleneck ? { bottleneck } : {}),
    memberCalls: member.length,
    minimumCalls: minimum.reduce((n, m) => n + (m.count ?? 1), 0),
    byCommand,
    central,
    throttled: calls.filter((c) => c.throttled).length,
    throttleErrorsInReports: inReports,
    retryCapacityRefusals: (w.sb.rateLimits?.retryCapacityRefusals ?? 0) - refusalsBefore,
  };
}

/** One item's invocation alone in this process: its peak heap above the process's own, sampled at each AWS call. */
async function worker(job: FleetFunction): Promise<void> {
  const w = world();
  const invoker = fleetInvoker(w);
  // The state the item finds: the jobs before it in the night's order (copy: until its rounds have nothing left).
  for (const before of JOBS.slice(0, Math.max(0, JOBS.indexOf(job)))) {
    if (before !== "copy") {
      await runFleetJob(w, invoker, before);
      w.clock.advance(30 * MINUTE);
      continue;
    }
    for (let round = 0; round < COPY_ROUNDS; round++) {
      const r = await runFleetJob(w, invoker, "copy");
      w.clock.advance(45 * MINUTE);
      if (r.results.every((x) => !x.ok || !x.counts.copied)) break;
    }
  }
  const item = w.items(job).find((i) => i.region === (job === "copy" ? FLEET_DR : FLEET_PRIMARY))!;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage();
  let peak = base.heapUsed;
  const sample = () => {
    const h = process.memoryUsage().heapUsed;
    if (h > peak) peak = h;
  };
  for (const cls of [EC2Client, RDSClient, S3Client, STSClient]) {
    const proto = cls.prototype as unknown as { send: (...a: unknown[]) => unknown };
    const send = proto.send;
    proto.send = function (this: unknown, ...a: unknown[]) {
      sample();
      return send.apply(this, a);
    };
  }
  const calls = w.sb.calls.length;
  await invoker.invoke(job, { source: "fleet", target: item });
  sample();
  const after = process.memoryUsage().heapUsed;
  gc?.();
  const retained = process.memoryUsage().heapUsed;
  process.stdout.write(
    `${JSON.stringify({
      job,
      item: `${item.accountName} ${item.region}`,
      calls: w.sb.calls.length - calls,
      baseHeapMb: base.heapUsed / 1048576,
      peakAboveBaseMb: (peak - base.heapUsed) / 1048576,
      afterAboveBaseMb: (after - base.heapUsed) / 1048576,
      retainedAboveBaseMb: (retained - base.heapUsed) / 1048576,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
  w.restore();
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const w = world();
  const setupMs = performance.now() - t0;
  const invoker = fleetInvoker(w);
  const out: JobFigures[] = [];
  try {
    let refusals = 0;
    for (const job of JOBS) {
      const runs: RunMeasure[] = [];
      if (job === "copy") {
        // Copy every 45 minutes: at most 20 copies in flight per destination region (config maxCopiesInFlight, AWS's
        // limit), each taking the sandbox's 30 (EBS) or 40 (RDS) minutes; until a round has nothing left to copy.
        for (let round = 0; round < COPY_ROUNDS; round++) {
          w.clock.advance(round === 0 ? 30 * MINUTE : 45 * MINUTE);
          const r = await measuredRun(w, invoker, "copy");
          runs.push(r);
          if (r.run.results.every((x) => !x.ok || !x.counts.copied)) break;
        }
      } else {
        if (job === "prune" && JOBS.indexOf("prune") > 0) w.clock.advance(45 * MINUTE);
        runs.push(await measuredRun(w, invoker, job));
      }
      out.push(figures(w, job, runs, refusals));
      refusals = w.sb.rateLimits?.retryCapacityRefusals ?? 0;
    }
  } finally {
    w.restore();
  }
  const benchMs = performance.now() - t0;

  const workers: Record<string, unknown>[] = [];
  for (const job of JOBS) {
    const r = spawnSync(
      process.execPath,
      [
        "--expose-gc",
        fileURLToPath(import.meta.url),
        "--worker",
        job,
        "1",
        String(PER_REGION),
        ...process.argv.filter((a) => /^--(jobs|copy-rounds|history|concurrency)=/.test(a)),
      ],
      {
        encoding: "utf8",
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: "SILENT" },
      },
    );
    if (r.status !== 0) throw new Error(`worker ${job} failed: ${r.stderr}`);
    workers.push(JSON.parse(r.stdout.trim().split("\n").at(-1)!));
  }

  if (process.argv.includes("--json")) {
    console.log(
      JSON.stringify({ benchmark: "fleet", accounts: ACCOUNTS, regions: REGIONS.length, resourcesPerRegion: PER_REGION, jobs: out, workers, setupMs, benchMs }),
    );
    return;
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? "1.00 (both 0)" : "∞ (minimum 0)") : (a / b).toFixed(3));
  console.log(
    `fleet: ${ACCOUNTS} accounts × ${REGIONS.length} regions × ${PER_REGION} resources = ${ACCOUNTS * REGIONS.length * PER_REGION} resources ` +
      `(${Math.floor(PER_REGION / 2)} RDS instances + ${PER_REGION - Math.floor(PER_REGION / 2)} EBS volumes per account and region; backups made in ${FLEET_PRIMARY}, copied to ${FLEET_DR} and ${DR2}); ` +
      `rate limits on; fan-out ${FLEET_MAX_CONCURRENCY} items at once`,
  );
  for (const f of out) {
    console.log(
      `\n${f.job}: ${f.runs} fan-out run(s), ${f.items} items (${f.failedItems} failed), ${f.changes} ${f.job === "backup" ? "created" : f.job === "copy" ? "copied" : "pruned"}`,
    );
    console.log(
      `  wall time   ${s(f.simulatedMs)} simulated vs minimumWallTime ${s(f.minimumMs)} of the minimum calls → ratio ${ratio(f.simulatedMs, f.minimumMs)} (target ≤ 1.2)` +
        `; of the calls made: ${s(f.minimumMsOfCallsMade)}${f.bottleneck ? `; bottleneck ${f.bottleneck}` : ""}`,
    );
    console.log(
      `  API calls   ${f.memberCalls} in member accounts vs minimum ${f.minimumCalls} → ratio ${ratio(f.memberCalls, f.minimumCalls)} (target ≤ 1.01)`,
    );
    for (const [cmd, n] of Object.entries(f.byCommand).sort()) {
      if (n.made !== n.minimum) console.log(`              ${cmd}: ${n.made} made, ${n.minimum} needed`);
    }
    console.log(
      `  central     ${Object.entries(f.central)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
    console.log(
      `  throttling  ${f.throttleErrorsInReports} errors reached a report (target 0); ${f.throttled} throttled attempts absorbed by the SDK's retries; ${f.retryCapacityRefusals} retries refused for want of retry capacity`,
    );
  }
  console.log("\none fan-out worker (one item's invocation alone, in a fresh process):");
  for (const r of workers as {
    job: string;
    item: string;
    calls: number;
    baseHeapMb: number;
    peakAboveBaseMb: number;
    retainedAboveBaseMb: number;
    maxRssMb: number;
  }[]) {
    console.log(
      `  ${r.job.padEnd(6)} ${r.item}: ${r.calls} calls; peak heap ${r.peakAboveBaseMb.toFixed(1)} MB above the ${r.baseHeapMb.toFixed(0)} MB before it (sampled at each AWS call), ` +
        `${r.retainedAboveBaseMb.toFixed(1)} MB retained; process max RSS ${r.maxRssMb.toFixed(0)} MB (Node, the SDK and the sandbox's account included)`,
    );
  }
  console.log(`\n(bench: setup ${s(setupMs)}, jobs ${s(benchMs - setupMs)} on this machine)`);
}

if (WORKER >= 0) await worker(process.argv[WORKER + 1] as FleetFunction);
else await main();
