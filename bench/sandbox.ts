/**
 * Sandbox speed: a simulated year of nightly backup → DR copy → prune plus an hourly watchdog,
 * for 4 RDS instances, 2 Aurora clusters and 4 EBS volumes in two regions, driven through the
 * real SDK clients. Prints wall time, calls and memory; not a test.
 *
 *   ./node_modules/.bin/node bench/sandbox.ts [days=365]
 */
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  RDSClient,
} from "@aws-sdk/client-rds";
import { CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, EC2Client, paginateDescribeSnapshots } from "@aws-sdk/client-ec2";
import { createSandbox, DAY, FakeClock, HOUR, MINUTE } from "../sandbox/index.ts";

const days = Number(process.argv[2] ?? 365);
const P = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/dr`;
const TAG = "ops-autopilot:managed-by";
const KEEP_DAYS = 7;

const sb = createSandbox({ clock: new FakeClock("2025-01-01T00:00:00Z"), regions: [P, DR] });
const instances = ["db-a", "db-b", "db-c", "db-d"];
const clusters = ["aurora-a", "aurora-b"];
for (const id of instances) sb.rds.addInstance(P, { id, automatedBackups: { retentionDays: 7 } });
for (const id of clusters) sb.rds.addCluster(P, { id });
const volumes = [0, 1, 2, 3].map((i) => sb.ec2.addVolume(P, { id: `vol-${i.toString(16).padStart(8, "0")}`, tags: { backup: "default" } }));

const rds: Record<string, RDSClient> = {
  [P]: new RDSClient({ region: P, maxAttempts: 6, retryMode: "adaptive" }),
  [DR]: new RDSClient({ region: DR, maxAttempts: 6, retryMode: "adaptive" }),
};
const ec2: Record<string, EC2Client> = {
  [P]: new EC2Client({ region: P, maxAttempts: 6, retryMode: "adaptive" }),
  [DR]: new EC2Client({ region: DR, maxAttempts: 6, retryMode: "adaptive" }),
};
const tags = (date: string) => [
  { Key: TAG, Value: "ops-autopilot:bench" },
  { Key: "ops-autopilot:backup-date", Value: date },
];

async function listOurs(region: string) {
  const inst = [];
  for await (const p of paginateDescribeDBSnapshots({ client: rds[region]! }, { SnapshotType: "manual" })) inst.push(...(p.DBSnapshots ?? []));
  const cl = [];
  for await (const p of paginateDescribeDBClusterSnapshots({ client: rds[region]! }, { SnapshotType: "manual" })) cl.push(...(p.DBClusterSnapshots ?? []));
  const ebs = [];
  for await (const p of paginateDescribeSnapshots(
    { client: ec2[region]!, pageSize: 1000 },
    { OwnerIds: ["self"], Filters: [{ Name: `tag:${TAG}`, Values: ["ops-autopilot:bench"] }] },
  )) {
    ebs.push(...(p.Snapshots ?? []));
  }
  return { inst, cl, ebs };
}

const dateOf = (t: { Key?: string; Value?: string }[] | undefined) => t?.find((x) => x.Key === "ops-autopilot:backup-date")?.Value ?? "";

const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let d = 0; d < days; d++) {
  sb.clock.set(new Date(Date.UTC(2025, 0, 1) + d * DAY + 2 * HOUR));
  const date = sb.clock.now().toISOString().slice(0, 10);
  const ymd = date.replaceAll("-", "");
  // backup
  for (const id of instances)
    await rds[P]!.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: id, DBSnapshotIdentifier: `${id}-daily-${ymd}`, Tags: tags(date) }));
  for (const id of clusters)
    await rds[P]!.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: id, DBClusterSnapshotIdentifier: `${id}-daily-${ymd}`, Tags: tags(date) }));
  const ebsIds: string[] = [];
  for (const v of volumes)
    ebsIds.push(
      (await ec2[P]!.send(new CreateSnapshotCommand({ VolumeId: v, TagSpecifications: [{ ResourceType: "snapshot", Tags: tags(date) }] }))).SnapshotId!,
    );
  // copy once available
  sb.clock.advance(30 * MINUTE);
  for (const id of instances) {
    await rds[DR]!.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: `arn:aws:rds:${P}:${ACCOUNT}:snapshot:${id}-daily-${ymd}`,
        TargetDBSnapshotIdentifier: `${id}-daily-${ymd}`,
        KmsKeyId: KEY,
        CopyTags: true,
      }),
    );
  }
  for (const id of clusters) {
    await rds[DR]!.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: `arn:aws:rds:${P}:${ACCOUNT}:cluster-snapshot:${id}-daily-${ymd}`,
        TargetDBClusterSnapshotIdentifier: `${id}-daily-${ymd}`,
        KmsKeyId: KEY,
        CopyTags: true,
      }),
    );
  }
  for (const id of ebsIds)
    await ec2[DR]!.send(
      new CopySnapshotCommand({
        SourceRegion: P,
        SourceSnapshotId: id,
        Encrypted: true,
        KmsKeyId: KEY,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: tags(date) }],
      }),
    );
  // prune: keep KEEP_DAYS days in each region
  sb.clock.advance(HOUR);
  const cutoff = new Date(sb.clock.now().getTime() - KEEP_DAYS * DAY).toISOString().slice(0, 10);
  for (const region of [P, DR]) {
    const { inst, cl, ebs } = await listOurs(region);
    for (const s of inst)
      if (dateOf(s.TagList) < cutoff) await rds[region]!.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: s.DBSnapshotIdentifier }));
    for (const s of cl)
      if (dateOf(s.TagList) < cutoff)
        await rds[region]!.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: s.DBClusterSnapshotIdentifier }));
    for (const s of ebs) if (dateOf(s.Tags) < cutoff) await ec2[region]!.send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId }));
  }
  // hourly watchdog
  for (let h = 0; h < 24; h++) {
    sb.clock.advance(HOUR / 24);
    for (const region of [P, DR]) await listOurs(region);
  }
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const mem = process.memoryUsage();
const kept = sb.snapshots().filter((s) => s.type === "manual");
console.log(`sandbox: ${days} simulated days, 10 resources x 2 regions`);
console.log(`  wall ${(ms / 1000).toFixed(2)} s, cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
console.log(`  SDK calls ${sb.calls.length} (${Math.round(sb.calls.length / (ms / 1000))}/s), ${((ms * 1000) / sb.calls.length).toFixed(0)} µs/call`);
console.log(`  manual snapshots at the end: ${kept.length}; automated: ${sb.snapshots().length - kept.length}`);
console.log(`  heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MB`);
sb.restore();
