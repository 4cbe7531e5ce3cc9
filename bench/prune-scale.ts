/**
 * Benchmark: planning a prune over 100,000 snapshots (500 resources × 2 regions × 100 days),
 * timed and measured in a fresh child process so peak memory (max RSS) is the planner's own.
 * Targets: ≤ 1 s, ≤ 256 MB.
 *
 *   node bench/prune-scale.ts            # prints the figures
 *   node bench/prune-scale.ts --json     # one JSON line (used by bench/run-all)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { planPrune } from "../core/retention.ts";
import { applyDeleteCaps } from "../core/guardrails.ts";
import { snapshotName } from "../core/backup-plan.ts";
import { addDays, utcDay } from "../core/calendar.ts";
import { BackupPolicySchema } from "../schemas/config.ts";
import { TAG, type Snapshot } from "../core/types.ts";

const RESOURCES = 500;
const DAYS = 100;
const REGIONS = ["eu-west-1", "eu-central-1"];
const NOW = new Date("2026-11-21T04:30:00Z");

function fleet(): Snapshot[] {
  const out: Snapshot[] = [];
  const today = utcDay(NOW);
  for (const region of REGIONS) {
    for (let r = 0; r < RESOURCES; r++) {
      const resourceId = `db-${r}`;
      for (let d = 0; d < DAYS; d++) {
        const day = addDays(today, -d);
        const name = snapshotName({ app: "ops-autopilot", stage: "prod" }, resourceId, day);
        const kind = r % 5 === 0 ? "ebs-volume" : "rds-instance";
        out.push({
          kind,
          // EBS ownership is checked against the description, which backup and copy set to the name.
          ...(kind === "ebs-volume" ? { description: name } : {}),
          id: region === REGIONS[0] ? name : `${name}`,
          arn: `arn:aws:rds:${region}:123456789012:snapshot:${name}`,
          region,
          resourceId,
          status: "available",
          createdAt: new Date(`${day}T02:05:00Z`),
          automated: false,
          tags: {
            [TAG.managedBy]: "ops-autopilot:prod",
            [TAG.policy]: "db",
            [TAG.source]: resourceId,
            [TAG.backupDate]: day,
            [TAG.name]: name,
            [TAG.sourceRegion]: REGIONS[0]!,
            ...(region === REGIONS[0] ? {} : { [TAG.copyOf]: name }),
          },
        });
      }
    }
  }
  return out;
}

function child(): void {
  const policy = BackupPolicySchema.parse({ name: "db", selection: { tag: {} }, maxDeletesPerRun: 1_000_000, maxDeletePercent: 100 });
  const snapshots = fleet();
  const byRegion = new Map<string, Snapshot[]>(REGIONS.map((r) => [r, snapshots.filter((s) => s.region === r)]));
  // Collect the garbage of building the fixtures so the peak below is the planner's.
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const plans = REGIONS.flatMap((region) =>
    planPrune({
      snapshots: byRegion.get(region)!,
      region,
      primaryRegion: REGIONS[0]!,
      policies: [policy],
      owner: { app: "ops-autopilot", stage: "prod" },
      now: NOW,
      ...(region === REGIONS[0] ? { drCopies: byRegion.get(REGIONS[1]!)!, drRegions: [REGIONS[1]!] } : {}),
    }),
  );
  const capped = applyDeleteCaps(plans, { maxDeletesPerRun: policy.maxDeletesPerRun, maxDeletePercent: policy.maxDeletePercent });
  const ms = performance.now() - t0;
  const deletes = capped.plans.reduce((n, p) => n + p.delete.length, 0);
  const keeps = capped.plans.reduce((n, p) => n + p.keep.length, 0);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const heapAfter = process.memoryUsage().heapUsed;
  process.stdout.write(
    `${JSON.stringify({ snapshots: snapshots.length, plans: plans.length, deletes, keeps, planMs: Math.round(ms), maxRssMb: Math.round(maxRssMb), rssBeforeMb: Math.round(rssBefore / 1048576), planHeapMb: Math.round((heapAfter - heapBefore) / 1048576) })}\n`,
  );
}

if (process.argv.includes("--child")) {
  child();
} else {
  const runs = 5;
  const results: {
    planMs: number;
    maxRssMb: number;
    rssBeforeMb: number;
    planHeapMb: number;
    snapshots: number;
    deletes: number;
    keeps: number;
    plans: number;
  }[] = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--child"], { encoding: "utf8" });
    if (out.status !== 0) throw new Error(`benchmark child failed: ${out.stderr}`);
    results.push(JSON.parse(out.stdout.trim()));
  }
  const times = results.map((r) => r.planMs).sort((a, b) => a - b);
  const rss = Math.max(...results.map((r) => r.maxRssMb));
  const r0 = results[0]!;
  const summary = {
    benchmark: "prune planning",
    snapshots: r0.snapshots,
    resources: RESOURCES,
    regions: REGIONS.length,
    plans: r0.plans,
    deletes: r0.deletes,
    keeps: r0.keeps,
    planMsMedian: times[Math.floor(runs / 2)],
    planMsMax: times[runs - 1],
    peakRssMb: rss,
    inputRssMb: Math.max(...results.map((r) => r.rssBeforeMb)),
    planHeapMb: Math.max(...results.map((r) => r.planHeapMb)),
    targets: { planMs: 1000, peakRssMb: 256 },
  };
  if (process.argv.includes("--json")) console.log(JSON.stringify(summary));
  else {
    console.log(
      `prune planning: ${summary.snapshots} snapshots, ${RESOURCES} resources × ${REGIONS.length} regions → ${summary.plans} plans, ${summary.deletes} deletes, ${summary.keeps} keeps`,
    );
    console.log(`  time   median ${summary.planMsMedian} ms, max ${summary.planMsMax} ms over ${runs} fresh processes (target ≤ 1000 ms)`);
    console.log(
      `  memory peak RSS ${rss} MB for the whole process (target ≤ 256 MB); ${summary.inputRssMb} MB of it before planning (runtime + the 100k snapshots); plan retained on the heap: ${summary.planHeapMb} MB`,
    );
  }
}
