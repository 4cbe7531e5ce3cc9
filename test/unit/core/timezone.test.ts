import { describe, expect, it } from "vitest";
import { planBackups } from "../../../core/backup-plan.ts";
import { planPrune } from "../../../core/retention.ts";
import { TAG, type Resource, type Snapshot } from "../../../core/types.ts";
import { BackupPolicySchema, parseConfig, type ConfigInput } from "../../../schemas/config.ts";

/**
 * The backup day and the GFS tiers follow the backup schedule's timezone, and DST never loses or doubles a
 * night. EventBridge Scheduler evaluates cron expressions in the schedule's timezone; an invocation that falls
 * in the spring-forward gap is skipped, and in the fall-back hour it runs once
 * (https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst,
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time).
 */

const OWNER = { app: "ops-autopilot", stage: "prod" };
const POLICY = BackupPolicySchema.parse({ name: "default", selection: { tag: {} } });
const RESOURCE: Resource = { kind: "rds-instance", id: "app-db", region: "eu-west-1", status: "available", tags: {} };

const formats = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock time of an instant in a zone ("yyyy-mm-ddThh:mm"), written independently of core/calendar.ts. */
function wall(ms: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/**
 * The instant EventBridge Scheduler invokes a daily `cron(mm hh * * ? *)` in `timeZone` on local `day`: none in
 * the spring-forward gap, the first one in the fall-back hour (it does not repeat).
 */
function invocation(day: string, hhmm: string, timeZone: string): Date | undefined {
  const target = `${day}T${hhmm}`;
  const naive = Date.parse(`${target}:00Z`);
  // Every offset in use lies within ±14 h; try the zone's offsets around the naive instant, earliest first.
  const offsets = new Set<number>();
  for (const probe of [naive - 86_400_000, naive, naive + 86_400_000]) offsets.add(Date.parse(`${wall(probe, timeZone)}:00Z`) - probe);
  const hits = [...offsets]
    .map((off) => naive - off)
    .filter((ms) => wall(ms, timeZone) === target)
    .sort((a, b) => a - b);
  return hits.length ? new Date(hits[0]!) : undefined;
}

function days(from: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
}

/** Run the nightly backup planner at `hhmm` local for each day, creating what it says; returns the backup dates. */
function nightly(timeZone: string, hhmm: string, from: string, n: number): { created: string[]; perNight: string[]; weekly: string[] } {
  const existing: Snapshot[] = [];
  const created: string[] = [];
  const weekly: string[] = [];
  const perNight: string[] = [];
  for (const day of days(from, n)) {
    const now = invocation(day, hhmm, timeZone);
    if (!now) continue;
    const decisions = planBackups({ resources: [RESOURCE], policy: POLICY, owner: OWNER, now, existing, timeZone });
    perNight.push(`${day}:${decisions.map((d) => d.action).join(",")}`);
    for (const d of decisions.filter((x) => x.action === "create")) {
      created.push(d.target.day);
      if (d.target.tiers.includes("weekly")) weekly.push(d.target.day);
      existing.push({
        kind: "rds-instance",
        id: d.target.name,
        region: RESOURCE.region,
        resourceId: RESOURCE.id,
        status: "available",
        createdAt: now,
        tags: d.target.tags,
        automated: false,
      });
    }
  }
  return { created, perNight, weekly };
}

describe("the backup day is the schedule's local day", () => {
  it("a 00:30 Sunday backup in Pacific/Auckland (Saturday in UTC) is Sunday's, in the weekly tier", () => {
    const now = new Date("2026-11-21T11:30:00Z"); // Sunday 2026-11-22 00:30 NZDT
    const [d] = planBackups({ resources: [RESOURCE], policy: POLICY, owner: OWNER, now, existing: [], timeZone: "Pacific/Auckland" });
    expect(d?.target.day).toBe("2026-11-22");
    expect(d?.target.name).toBe("oa-ops-autopilot-prod-app-db-20261122");
    expect(d?.target.tags[TAG.backupDate]).toBe("2026-11-22");
    expect(d?.target.tiers).toEqual(["daily", "weekly"]);
  });

  it.each([
    ["Europe/Berlin", "01:30", "2026-03-20", 20], // spring forward 2026-03-29: 01:30 CET = 00:30Z, next night 01:30 CEST = 23:30Z
    ["Europe/Berlin", "01:30", "2026-10-17", 20], // fall back 2026-10-25
    ["America/New_York", "20:30", "2026-03-01", 20], // spring forward 2026-03-08: 20:30 EST = 01:30Z next day
    ["America/New_York", "01:30", "2026-10-25", 20], // fall back 2026-11-01: 01:30 happens twice, runs once
    ["Pacific/Auckland", "00:30", "2026-09-20", 20], // spring forward 2026-09-27
    ["Pacific/Auckland", "00:30", "2026-03-30", 20], // fall back 2026-04-05
  ])("%s at %s from %s: one backup per local night, none lost or doubled", (timeZone, hhmm, from, n) => {
    const { created, perNight } = nightly(timeZone, hhmm, from, n);
    expect(
      perNight.every((p) => p.endsWith(":create")),
      perNight.join(" "),
    ).toBe(true);
    expect(created).toEqual(days(from, n));
  });

  it("the repeated fall-back hour (a duplicate delivery at 01:30 EST after 01:30 EDT) finds the night's backup", () => {
    const first = new Date("2026-11-01T05:30:00Z"); // 01:30 EDT
    const second = new Date("2026-11-01T06:30:00Z"); // 01:30 EST
    const [d1] = planBackups({ resources: [RESOURCE], policy: POLICY, owner: OWNER, now: first, existing: [], timeZone: "America/New_York" });
    const made: Snapshot = {
      kind: "rds-instance",
      id: d1!.target.name,
      region: RESOURCE.region,
      resourceId: RESOURCE.id,
      status: "available",
      createdAt: first,
      tags: d1!.target.tags,
      automated: false,
    };
    const [d2] = planBackups({ resources: [RESOURCE], policy: POLICY, owner: OWNER, now: second, existing: [made], timeZone: "America/New_York" });
    expect(d2?.action).toBe("exists");
    expect(d2?.target.day).toBe("2026-11-01");
  });

  it("weekly backups land on the configured local weekday all year in Pacific/Auckland", () => {
    const { created, weekly } = nightly("Pacific/Auckland", "00:30", "2026-01-01", 365);
    expect(created).toEqual(days("2026-01-01", 365));
    const sundays = days("2026-01-01", 365).filter((d) => new Date(`${d}T12:00:00Z`).getUTCDay() === 0);
    expect(weekly).toEqual(sundays);
  });
});

describe("retention counts days in the backup schedule's timezone", () => {
  const dailyOnly = BackupPolicySchema.parse({ name: "default", tiers: { daily: { keep: { days: 7 } } }, selection: { tag: {} } });
  const snap = (day: string, createdAt: string): Snapshot => {
    const name = `oa-ops-autopilot-prod-app-db-${day.replaceAll("-", "")}`;
    return {
      kind: "rds-instance",
      id: name,
      region: "eu-west-1",
      resourceId: "app-db",
      status: "available",
      createdAt: new Date(createdAt),
      tags: {
        [TAG.managedBy]: "ops-autopilot:prod",
        [TAG.policy]: "default",
        [TAG.source]: "app-db",
        [TAG.sourceRegion]: "eu-west-1",
        [TAG.backupDate]: day,
        [TAG.name]: name,
      },
      automated: false,
    };
  };

  it("a daily backup 7 local days old expires at 04:30 Auckland time, which is still the day before in UTC", () => {
    // Backups made at 00:30 NZDT, i.e. 11:30Z the day before.
    const snaps = ["2026-11-15", "2026-11-20", "2026-11-21", "2026-11-22"].map((d) => snap(d, new Date(Date.parse(`${d}T00:30:00+13:00`)).toISOString()));
    const now = new Date("2026-11-21T15:30:00Z"); // 2026-11-22 04:30 NZDT
    const [plan] = planPrune({
      snapshots: snaps,
      region: "eu-west-1",
      primaryRegion: "eu-west-1",
      policies: [dailyOnly],
      owner: OWNER,
      now,
      timeZone: "Pacific/Auckland",
    });
    expect(plan?.delete.map((d) => [d.target.tags[TAG.backupDate], d.reason])).toEqual([["2026-11-15", "expired: daily 7 days old ≥ 7 days"]]);
    expect(plan?.keep.map((d) => d.reason)).toEqual(["daily: 0 days old, keep 7 days", "daily: 1 day old, keep 7 days", "daily: 2 days old, keep 7 days"]);
  });
});

describe("the configuration refuses a backup time that DST can skip", () => {
  const base: ConfigInput = { stage: "prod", primaryRegion: "eu-west-1" };

  it.each([
    // The check scans this year's transitions: the last Sunday of March, the second Sunday of March, the last Sunday of September.
    [
      "Europe/Berlin",
      "cron(0 2 * * ? *)",
      /02:00 does not exist in Europe\/Berlin on \d{4}-03-(2[5-9]|3[01]) \(daylight saving starts\): EventBridge Scheduler skips that run/,
    ],
    ["America/New_York", "cron(30 2 * * ? *)", /02:30 does not exist in America\/New_York on \d{4}-03-(0[89]|1[0-4])/],
    ["Pacific/Auckland", "cron(15 2 * * ? *)", /02:15 does not exist in Pacific\/Auckland on \d{4}-09-(2[4-9]|30)/],
  ])("%s %s", (timezone, backup, message) => {
    expect(() => parseConfig({ ...base, timezone, schedules: { backup } })).toThrow(message);
  });

  it("accepts a schedule with another run the same night outside the gap", () => {
    expect(() => parseConfig({ ...base, timezone: "Europe/Berlin", schedules: { backup: "cron(0 2,4 * * ? *)" } })).not.toThrow();
  });

  it.each([
    ["app", { app: "Ops_Autopilot" }],
    ["stage", { stage: "prod--eu" }],
    ["stage", { stage: "1prod" }],
  ])("refuses an %s that cannot be part of a snapshot name", (field, o) => {
    expect(() => parseConfig({ ...base, ...o })).toThrow(new RegExp(`${field}.*lowercase letters, digits and single hyphens`));
  });

  it("names the per-schedule override when that is the zone", () => {
    expect(() => parseConfig({ ...base, schedules: { backup: "cron(0 2 * * ? *)", timezones: { backup: "Europe/Berlin" } } })).toThrow(
      /schedules\.backup.*02:00 does not exist in Europe\/Berlin/,
    );
  });

  it.each([
    ["UTC", "cron(0 2 * * ? *)"],
    ["Europe/Berlin", "cron(0 3 * * ? *)"],
    ["Europe/Berlin", "cron(30 1 * * ? *)"],
    ["America/New_York", "cron(30 1 * * ? *)"],
    ["Asia/Tokyo", "cron(0 2 * * ? *)"],
  ])("accepts %s %s", (timezone, backup) => {
    expect(() => parseConfig({ ...base, timezone, schedules: { backup } })).not.toThrow();
  });
});
