import { beforeAll, describe, expect, it } from "vitest";
import { runBackupYear, PRIMARY, DR, type DayState, type BackupYearResult, type FleetEntry } from "../../sandbox/scenarios/backup-scenarios.ts";
import { addDays, dayOfMonth, daysBetween, weekday } from "../../core/calendar.ts";
import { snapshotName } from "../../core/ownership.ts";
import { TAG } from "../../core/types.ts";
import type { Sandbox } from "../../sandbox/index.ts";

/**
 * A user account full of snapshots that look like ours, then a year of nightly backup → copy → prune → watchdog
 * through the real handlers: none of them is deleted, no night's backup is suppressed by one, and our own GFS
 * retention still keeps exactly the policy's set.
 *
 * What the account holds, seeded through the sandbox API (RDS tag inheritance on copies and restores:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags):
 * copies made with CopyTags, an instance restored from one of ours (with CopyTagsToSnapshot, so its automated and
 * manual snapshots inherit our tags), another stage's backups, `oa-…` names squatting nights of the year, our
 * managed-by tag added by hand, EBS copies carrying our tags, and copies in the DR region under our names.
 */

const START = "2025-10-01";
const DAYS = 365;
const OWNER = { app: "ops-autopilot", stage: "drill" };
const FLEET: FleetEntry[] = [
  { kind: "rds-instance", id: "app-db", policy: "db" },
  { kind: "ebs-volume", id: "vol-0a1b2c3d4e5f60001", policy: "volumes" },
];
const DB = FLEET[0]!.id;
const VOL = FLEET[1]!.id;
const day = (i: number) => addDays(START, i);
const ours = (resource: string, i: number) => snapshotName(OWNER, resource, day(i));

/** The tags backup writes for `resource` on day `i` (what a copy made with CopyTags, or a restore, inherits). */
function ourTags(resource: string, i: number, policy: "db" | "volumes"): Record<string, string> {
  return {
    [TAG.managedBy]: `${OWNER.app}:${OWNER.stage}`,
    [TAG.policy]: policy,
    [TAG.tiers]: "daily",
    [TAG.source]: resource,
    [TAG.sourceRegion]: PRIMARY,
    [TAG.backupDate]: day(i),
    [TAG.name]: ours(resource, i),
  };
}

/** Nights whose name a person's snapshot already holds: backup must take the next alternative. */
const SQUATTED = { rdsNoTags: 20, rdsManagedBy: 30, ebsDescription: 40, drCopy: 50 } as const;

function seedLookAlikes(sb: Sandbox): string[] {
  const old = new Date(`${addDays(START, -1)}T09:00:00Z`);
  const keys: string[] = [];
  const rds = (region: string, id: string, sourceId: string, tags: Record<string, string>) => {
    sb.rds.addSnapshot(region, { id, sourceId, createdAt: old, tags });
    keys.push(`${region}/${id}`);
  };
  const ebs = (region: string, volumeId: string, description: string, tags: Record<string, string>) => {
    const s = sb.ec2.addSnapshot(region, { volumeId, createdAt: old, description, tags });
    keys.push(`${region}/${s.id}`);
  };
  // A person's copy of one of our backups, CopyTags ticked: our tags, another id.
  rds(PRIMARY, "my-copy-of-nightly", DB, ourTags(DB, 10, "db"));
  rds(PRIMARY, "before-migration-copy", DB, ourTags(DB, 200, "db"));
  // An instance restored from one of ours: it has the snapshot's tags, and CopyTagsToSnapshot passes them on to
  // its automated snapshots every night and to the manual one a person takes.
  sb.rds.addInstance(PRIMARY, { id: "app-db-restored", tags: ourTags(DB, 5, "db"), copyTagsToSnapshot: true, automatedBackups: { retentionDays: 3 } });
  rds(PRIMARY, "app-db-restored-final", "app-db-restored", ourTags(DB, 5, "db"));
  // Another stage's backups of the same database, named and tagged for that stage.
  for (const i of [3, 4, 100]) {
    const name = snapshotName({ app: OWNER.app, stage: "staging" }, DB, day(i));
    rds(PRIMARY, name, DB, { ...ourTags(DB, i, "db"), [TAG.managedBy]: `${OWNER.app}:staging`, [TAG.name]: name });
  }
  // `oa-…` names: squatting the names of future nights, with no tags or with our managed-by tag added by hand.
  rds(PRIMARY, ours(DB, SQUATTED.rdsNoTags), DB, {});
  rds(PRIMARY, ours(DB, SQUATTED.rdsManagedBy), DB, { [TAG.managedBy]: `${OWNER.app}:${OWNER.stage}`, [TAG.backupDate]: day(SQUATTED.rdsManagedBy) });
  rds(PRIMARY, `oa-${OWNER.app}-${OWNER.stage}-${DB}-manual`, DB, { ...ourTags(DB, 60, "db"), [TAG.name]: `oa-${OWNER.app}-${OWNER.stage}-${DB}-manual` });
  // EBS: a copy carrying our tags (AWS's description), and one whose description squats a future night's name.
  ebs(PRIMARY, "vol-ffffffff", `[Copied snap-0123 from ${PRIMARY}]`, ourTags(VOL, 15, "volumes"));
  ebs(PRIMARY, VOL, ours(VOL, SQUATTED.ebsDescription), { [TAG.managedBy]: `${OWNER.app}:${OWNER.stage}`, [TAG.name]: "golden-image-base" });
  // DR: a person's cross-region copy under our name for a future night (CopyTags, no copy-of), and an EBS copy
  // that inherited our DR copy's tags.
  rds(DR, ours(DB, SQUATTED.drCopy), DB, ourTags(DB, SQUATTED.drCopy, "db"));
  ebs(DR, "vol-ffffffff", `[Copied snap-0456 from ${DR}]`, { ...ourTags(VOL, 25, "volumes"), [TAG.copyOf]: "snap-0456" });
  return keys;
}

/** Reference model (as in backup-year.test.ts): the backup days the runbook keeps on `today`. */
function expectedKept(policy: "db" | "volumes", today: string): string[] {
  const existing: string[] = [];
  for (let d = START; d <= today; d = addDays(d, 1)) existing.push(d);
  const keep = new Set<string>();
  for (const d of existing) {
    const age = daysBetween(d, today);
    if (age < 7) keep.add(d);
    if (weekday(d) === 0 && age < 30) keep.add(d);
    if (policy === "db" && dayOfMonth(d) === 1 && age < 365) keep.add(d);
  }
  if (policy === "volumes") for (const d of existing.filter((x) => dayOfMonth(x) === 1).slice(-6)) keep.add(d);
  for (const d of existing.slice(-3)) keep.add(d);
  return [...keep].sort();
}

const days: DayState[] = [];
const namesOnSquattedNights: Record<string, string[]> = {};
let seeded: string[] = [];
let result: BackupYearResult;

beforeAll(async () => {
  result = await runBackupYear({
    days: DAYS,
    start: START,
    outage: null,
    amiOnDay: null,
    fleet: FLEET,
    // One watchdog run a day is enough here (the backup year checks the alerts); it keeps the scenario fast.
    watchdogHours: [5],
    seed: (sb) => (seeded = seedLookAlikes(sb)),
    onDay: (d, sb) => {
      days.push(d);
      for (const [what, i] of Object.entries(SQUATTED)) {
        if (d.index !== i) continue;
        const region = what === "drCopy" ? DR : PRIMARY;
        const resource = what === "ebsDescription" ? VOL : DB;
        namesOnSquattedNights[what] = sb
          .snapshots(region)
          .filter(
            (s) =>
              s.tags[TAG.backupDate] === day(i) &&
              s.tags[TAG.source] === resource &&
              s.tags[TAG.managedBy] === `${OWNER.app}:${OWNER.stage}` &&
              s.type === "manual" &&
              !seeded.includes(`${region}/${s.id}`),
          )
          .map((s) => s.tags[TAG.name]!);
      }
    },
  });
}, 120_000);

describe("a year next to look-alike snapshots", () => {
  it("seeded the look-alikes and ran every day, quickly", () => {
    expect(seeded).toHaveLength(13);
    expect(days).toHaveLength(DAYS);
    console.info(`look-alikes year: ${result.wallMs} ms simulated, ${result.totals.awsCalls} AWS calls`);
  });

  it("deletes none of them, on any day", () => {
    const hit = days.flatMap((d) => d.deleted.filter((id) => seeded.includes(id)).map((id) => `${d.day}: ${id}`));
    expect(hit).toEqual([]);
    expect(days.flatMap((d) => d.foreignDeletes)).toEqual([]);
    for (const key of seeded) expect(result.foreign.after).toContain(key);
  });

  it("backs up every resource every night: a squatted name never suppresses a backup", () => {
    expect(days.filter((d) => d.created !== FLEET.length).map((d) => `${d.day}: ${d.created}`)).toEqual([]);
    expect(namesOnSquattedNights).toEqual({
      rdsNoTags: [`${ours(DB, SQUATTED.rdsNoTags)}-2`],
      rdsManagedBy: [`${ours(DB, SQUATTED.rdsManagedBy)}-2`],
      ebsDescription: [`${ours(VOL, SQUATTED.ebsDescription)}-2`],
      drCopy: [`${ours(DB, SQUATTED.drCopy)}-2`],
    });
  });

  it("still keeps exactly the GFS set of our own backups, in both regions", () => {
    const mismatches: string[] = [];
    for (const d of days.filter((x) => x.index % 7 === 0 || x.index === DAYS - 1)) {
      for (const r of FLEET) {
        for (const region of [PRIMARY, DR]) {
          const want = expectedKept(r.policy, d.day);
          const got = d.kept[`${region}/${r.id}`] ?? [];
          if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${d.day} ${region}/${r.id}: kept ${got.join(",")} expected ${want.join(",")}`);
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(result.summary.reduce((n, s) => n + s.deleted, 0)).toBeGreaterThan(600);
  });

  it("runs clean: no failures, no alerts, nothing frozen", () => {
    expect(days.flatMap((d) => d.failures)).toEqual([]);
    expect(days.flatMap((d) => d.alerts)).toEqual([]);
    expect(days.flatMap((d) => d.frozen)).toEqual([]);
  });
});
