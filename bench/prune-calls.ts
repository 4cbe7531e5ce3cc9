/**
 * Benchmark: the AWS calls one prune run makes against the minimum it could make.
 *
 * The minimum is what any correct prune must do: one describe page per 100 RDS snapshots (RDS's page limit),
 * one page per 1,000 EBS snapshots, one AMI listing page per region, and one delete per snapshot deleted.
 * Per-snapshot tag calls (ListTagsForResource), which throttled other tools, would push the ratio far above 1.
 * Target: ratio ≤ 1.01.
 *
 *   node bench/prune-calls.ts [resources=300] [days=60]
 */
import type { Context } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { createSandbox, FakeClock } from "../sandbox/index.ts";
import { resetClients } from "../adapters/clients.ts";
import { createHandler } from "../runbooks/lib/handler.ts";
import { runPrune } from "../runbooks/backup/prune.ts";
import { backupDeps } from "../runbooks/backup/deps.ts";
import { parsePruneEvent } from "../schemas/events-backup.ts";
import { parseConfig } from "../schemas/config.ts";
import { addDays } from "../core/calendar.ts";
import { snapshotName } from "../core/backup-plan.ts";
import { TAG } from "../core/types.ts";

const RESOURCES = Number(process.argv[2] ?? 300);
const DAYS = Number(process.argv[3] ?? 60);
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const TODAY = "2026-11-21";

const config = parseConfig({
  stage: "bench",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
  observe: false,
  backup: { policies: [{ name: "db", selection: { tag: {} }, maxDeletesPerRun: 1_000_000, maxDeletePercent: 100 }], concurrency: 8 },
});
const clock = new FakeClock(`${TODAY}T04:30:00Z`);
const sb = createSandbox({
  clock,
  regions: [PRIMARY, DR],
  buckets: ["reports"],
  limits: { rdsManualSnapshotsPerRegion: 1_000_000 },
  recordInputs: false,
  mockHistoryLimit: 10,
});
resetClients();

let rdsSnapshots = 0;
let ebsSnapshots = 0;
for (let r = 0; r < RESOURCES; r++) {
  const ebs = r % 3 === 0;
  const id = ebs ? `vol-${r.toString(16).padStart(17, "0")}` : `db-${r}`;
  if (ebs) sb.ec2.addVolume(PRIMARY, { id, tags: { "ops-autopilot:backup": "db" } });
  else sb.rds.addInstance(PRIMARY, { id, tags: { "ops-autopilot:backup": "db" } });
  for (let d = 0; d < DAYS; d++) {
    const day = addDays(TODAY, -d);
    const name = snapshotName({ app: config.app, stage: config.stage }, id, day);
    const created = new Date(`${day}T02:05:00Z`);
    for (const region of [PRIMARY, DR]) {
      const tags = {
        [TAG.managedBy]: `${config.app}:${config.stage}`,
        [TAG.policy]: "db",
        [TAG.source]: id,
        [TAG.backupDate]: day,
        [TAG.name]: name,
        [TAG.sourceRegion]: PRIMARY,
        ...(region === DR ? { [TAG.copyOf]: name } : {}),
      };
      if (ebs) {
        // Backup and copy set the description to the name: what EBS ownership is checked against.
        sb.ec2.addSnapshot(region, { volumeId: id, createdAt: created, tags, description: name });
        ebsSnapshots++;
      } else {
        sb.rds.addSnapshot(region, { id: name, sourceId: id, createdAt: created, tags });
        rdsSnapshots++;
      }
    }
  }
}

const handler = createHandler(
  // The day's delete reservation (state/prune/<day>.json) goes to the reports bucket; S3 calls are not counted below.
  { name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket: { bucket: "reports", region: PRIMARY } })) },
  {
    config: () => config,
    now: () => clock.now(),
    reportBucket: () => ({ bucket: "reports", region: PRIMARY }),
    postSlack: async () => {},
    logger: new Logger({ logLevel: "SILENT" }),
  },
);
sb.resetCalls();
const t0 = performance.now();
const out = (await handler({ trigger: "schedule" }, { awsRequestId: "bench", getRemainingTimeInMillis: () => 900_000 } as unknown as Context)) as {
  results: unknown[];
};
const ms = performance.now() - t0;

const calls = sb.calls.filter((c) => c.service !== "s3");
const deletes = calls.filter((c) => /^Delete/.test(c.command)).length;
const byCommand: Record<string, number> = {};
for (const c of calls) byCommand[c.command] = (byCommand[c.command] ?? 0) + 1;
const perRegionRds = rdsSnapshots / 2;
const perRegionEbs = ebsSnapshots / 2;
// One page per 100 RDS snapshots (at least one call even when empty), per 1,000 EBS snapshots, one AMI page, per region.
const minDescribes = 2 * (Math.max(1, Math.ceil(perRegionRds / 100)) + 1 /* cluster snapshots */ + Math.max(1, Math.ceil(perRegionEbs / 1000)) + 1);
const minimum = minDescribes + out.results.length;
console.log(
  `prune API calls: ${RESOURCES} resources × ${DAYS} days × 2 regions = ${rdsSnapshots + ebsSnapshots} snapshots (${rdsSnapshots} RDS, ${ebsSnapshots} EBS)`,
);
console.log(`  calls made ${calls.length} = ${JSON.stringify(byCommand)}`);
console.log(`  minimum    ${minimum} = ${minDescribes} describe pages + ${out.results.length} deletes`);
console.log(`  ratio      ${(calls.length / minimum).toFixed(4)} (target ≤ 1.01); per-snapshot tag calls: ${byCommand.ListTagsForResource ?? 0}`);
console.log(`  deletes    ${deletes}; handler wall time ${Math.round(ms)} ms against the in-memory sandbox`);
sb.restore();
