import { beforeAll, describe, expect, it } from "vitest";
import { runBackupYear, FLEET, PRIMARY, DR, type DayState, type BackupYearResult } from "../../sandbox/scenarios/backup-scenarios.ts";
import { addDays, dayOfMonth, daysBetween, weekday } from "../../core/calendar.ts";

/**
 * 400 simulated days of backup → copy → prune → watchdog for five resources in two regions, with three days
 * of failing backups in the middle, checked day by day against a reference model of the runbook's GFS policy
 * written here independently of core/retention.ts.
 */

const START = "2025-10-01";
const DAYS = 400;
const OUTAGE = { fromDay: 200, days: 3 };
const AMI_DAY = 10;

const outageDays = new Set(Array.from({ length: OUTAGE.days }, (_, i) => addDays(START, OUTAGE.fromDay + i)));

/** The days a resource has a backup for, up to and including `today` (none on outage days). */
function backupDays(today: string): string[] {
  const out: string[] = [];
  for (let d = START; d <= today; d = addDays(d, 1)) if (!outageDays.has(d)) out.push(d);
  return out;
}

/** Reference model: the backup days the runbook says to keep on `today`. */
function expectedKept(policy: "db" | "volumes", today: string): string[] {
  const existing = backupDays(today);
  const keep = new Set<string>();
  for (const d of existing) {
    const age = daysBetween(d, today);
    if (age < 7) keep.add(d); // daily: 7 days
    if (weekday(d) === 0 && age < 30) keep.add(d); // weekly: Sundays, 30 days
    if (policy === "db" && dayOfMonth(d) === 1 && age < 365) keep.add(d); // monthly: the 1st, 365 days
  }
  if (policy === "volumes") for (const d of existing.filter((x) => dayOfMonth(x) === 1).slice(-6)) keep.add(d); // monthly: newest 6
  for (const d of existing.slice(-3)) keep.add(d); // floor: newest 3
  return [...keep].sort();
}

const days: DayState[] = [];
let result: BackupYearResult;

beforeAll(async () => {
  result = await runBackupYear({ days: DAYS, start: START, outage: OUTAGE, amiOnDay: AMI_DAY, onDay: (d) => days.push(d) });
}, 120_000);

describe("a simulated year of nightly backups", () => {
  it("ran every day", () => {
    expect(days).toHaveLength(DAYS);
    expect(result.end).toBe(addDays(START, DAYS - 1));
  });

  it("keeps exactly the GFS set, day by day, in both regions, outside the outage", () => {
    const mismatches: string[] = [];
    for (const d of days) {
      if (outageDays.has(d.day)) continue;
      for (const r of FLEET) {
        for (const region of [PRIMARY, DR]) {
          const expected = expectedKept(r.policy, d.day);
          // The volume snapshot an AMI was registered from stays, in the primary region, forever.
          if (region === PRIMARY && r.id === FLEET[3].id && d.index >= AMI_DAY) expected.push(addDays(START, AMI_DAY));
          const want = [...new Set(expected)].sort();
          const got = d.kept[`${region}/${r.id}`] ?? [];
          if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${d.day} ${region}/${r.id}: kept ${got.join(",")} expected ${want.join(",")}`);
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it("never hits the 100-snapshot quota and never deletes a snapshot it did not create", () => {
    expect(result.quotaErrors).toBe(0);
    expect(result.maxManualSnapshots).toBeLessThan(100);
    expect(days.flatMap((d) => d.foreignDeletes)).toEqual([]);
    for (const id of result.foreign.before) expect(result.foreign.after).toContain(id);
  });

  it("runs clean outside the outage: no failures, no alerts, nothing frozen", () => {
    const normal = days.filter((d) => !outageDays.has(d.day) && d.day !== addDays(START, OUTAGE.fromDay + OUTAGE.days));
    expect(normal.flatMap((d) => d.failures)).toEqual([]);
    expect(normal.flatMap((d) => d.alerts)).toEqual([]);
    expect(normal.flatMap((d) => d.frozen)).toEqual([]);
  });
});

describe("three days of failing backups", () => {
  const outage = () => days.filter((d) => outageDays.has(d.day));

  it("reports every failed backup and fails the run so retries and alarms fire", () => {
    for (const d of outage()) {
      expect(d.created).toBe(0);
      expect(d.failures.filter((f) => f.startsWith("backup:"))).toHaveLength(FLEET.length);
      expect(d.failures.every((f) => /fatal: (AccessDenied|UnauthorizedOperation)/.test(f))).toBe(true);
    }
  });

  it("freezes pruning for every resource in both regions and deletes nothing", () => {
    for (const d of outage()) {
      expect(d.deleted).toEqual([]);
      expect(d.frozen).toHaveLength(FLEET.length * 2);
      expect(d.frozen.every((f) => /newest available backup .* old \(limit 25 h\)/.test(f))).toBe(true);
    }
  });

  it("keeps everything the policy would keep, and more, while frozen", () => {
    for (const d of outage()) {
      for (const r of FLEET) {
        const got = new Set(d.kept[`${PRIMARY}/${r.id}`] ?? []);
        for (const day of expectedKept(r.policy, d.day)) expect(got.has(day), `${d.day} ${r.id} ${day}`).toBe(true);
      }
    }
  });

  it("raises one critical per policy and region, reminds every 6 h while backups stay stale, and says resolved once they are fresh", () => {
    const count = (d: DayState, word: string) => d.alerts.filter((a) => a.includes(word)).length;
    // Two policies in two regions: four incidents. The watchdog runs at 05:00, 11:00, 17:00 and 23:00 here. And the
    // backup's own failed runs: one incident (core/run-alerts.ts), a critical the first night, a reminder each night after.
    expect(outage().map((d) => [count(d, "CRITICAL"), count(d, "REMINDER")])).toEqual([
      [5, 12],
      [0, 17],
      [0, 17],
    ]);
    const recovered = days.find((d) => d.day === addDays(START, OUTAGE.fromDay + OUTAGE.days))!;
    expect(recovered.created).toBe(FLEET.length);
    expect(recovered.frozen).toEqual([]);
    expect(recovered.alerts).toEqual([]);
    expect(result.messages.filter((m) => m.at.startsWith(recovered.day) && m.text.startsWith("✅ RESOLVED")).map((m) => m.at)).toEqual([
      `${recovered.day}T02:00:00.000Z`,
      ...Array(4).fill(`${recovered.day}T05:00:00.000Z`),
    ]);
    // The backlog of expired snapshots is pruned on the first fresh day.
    expect(recovered.deleted.length).toBeGreaterThan(FLEET.length * 2);
  });
});
