import { describe, expect, it } from "vitest";
import { planPrune } from "../../../core/retention.ts";
import { planBackups } from "../../../core/backup-plan.ts";
import { planCopies } from "../../../core/copy-plan.ts";
import { assessFreshness } from "../../../core/freshness.ts";
import { TAG, type ResourceKind, type Snapshot } from "../../../core/types.ts";
import { BackupPolicySchema } from "../../../schemas/config.ts";

/**
 * Snapshots that carry our tags without being ours. Fixtures are written out literally (no builders) so the
 * same file states the behaviour whatever the naming helpers do.
 *
 * RDS gives a restored instance the snapshot's tags, and a copy made with CopyTags carries the source's tags:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags
 */

const OWNER = { app: "ops-autopilot", stage: "prod" };
const MB = "ops-autopilot:prod";
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const POLICY = BackupPolicySchema.parse({ name: "default", selection: { tag: {} } });
const NOW = new Date("2026-11-21T04:30:00Z");

const ymd = (day: string) => day.replaceAll("-", "");
const ourName = (resource: string, day: string) => `oa-ops-autopilot-prod-${resource}-${ymd(day)}`;

function tagsFor(resource: string, day: string, name = ourName(resource, day), region = PRIMARY): Record<string, string> {
  return {
    [TAG.managedBy]: MB,
    [TAG.policy]: "default",
    [TAG.tiers]: "daily",
    [TAG.source]: resource,
    [TAG.sourceRegion]: region,
    [TAG.backupDate]: day,
    [TAG.name]: name,
  };
}

function rds(id: string, tags: Record<string, string>, o: { region?: string; day?: string; kind?: ResourceKind } = {}): Snapshot {
  return {
    kind: o.kind ?? "rds-instance",
    id,
    region: o.region ?? PRIMARY,
    resourceId: tags[TAG.source] ?? "app-db",
    status: "available",
    createdAt: new Date(`${o.day ?? tags[TAG.backupDate] ?? "2026-11-01"}T02:00:00Z`),
    tags,
    automated: false,
  };
}

/** Ours: 30 nightly backups of app-db up to today, named and tagged as backup makes them. */
function ours(): Snapshot[] {
  const out: Snapshot[] = [];
  for (let i = 0; i < 30; i++) {
    const day = new Date(Date.parse("2026-11-21T00:00:00Z") - i * 86_400_000).toISOString().slice(0, 10);
    out.push(rds(ourName("app-db", day), tagsFor("app-db", day)));
  }
  return out;
}

/** An expired day of ours (not a Sunday, not the 1st, 12 days old) that prune deletes. */
const EXPIRED = "2026-11-09";

describe("look-alikes are never pruned", () => {
  const lookAlikes: [string, Snapshot][] = [
    ["a person's copy made with CopyTags (our tags, another id)", rds("my-copy-of-nightly", tagsFor("app-db", EXPIRED))],
    [
      "a snapshot of an instance restored from ours (tags inherited through CopyTagsToSnapshot)",
      { ...rds("restored-db-final", tagsFor("app-db", EXPIRED)), resourceId: "restored-db" },
    ],
    [
      "a person's snapshot named like ours, with our managed-by tag added by hand",
      rds(ourName("app-db", "2026-09-10"), { [TAG.managedBy]: MB, [TAG.backupDate]: "2026-09-10", [TAG.policy]: "default", [TAG.source]: "app-db" }),
    ],
    [
      "a snapshot whose name tag was changed to its own id, outside our naming scheme",
      rds("manual-before-upgrade", { ...tagsFor("app-db", EXPIRED), [TAG.name]: "manual-before-upgrade" }),
    ],
    ["a copy that was renamed into our scheme but keeps the source's name tag", rds(`${ourName("app-db", EXPIRED)}-copy`, tagsFor("app-db", EXPIRED))],
  ];

  it.each(lookAlikes)("keeps %s", (_label, lookAlike) => {
    const plans = planPrune({ snapshots: [...ours(), lookAlike], region: PRIMARY, primaryRegion: PRIMARY, policies: [POLICY], owner: OWNER, now: NOW });
    const deleted = plans.flatMap((p) => p.delete.map((d) => d.target.id));
    expect(deleted).not.toContain(lookAlike.id);
    // Retention of our own backups still works next to it.
    expect(deleted).toContain(ourName("app-db", EXPIRED));
  });

  it("says why a look-alike is not ours", () => {
    const copy = rds("my-copy-of-nightly", tagsFor("app-db", EXPIRED));
    const plans = planPrune({ snapshots: [...ours(), copy], region: PRIMARY, primaryRegion: PRIMARY, policies: [POLICY], owner: OWNER, now: NOW });
    const plan = plans.find((p) => p.resourceId === "app-db")!;
    expect(plan.lookAlikes).toEqual([
      { id: "my-copy-of-nightly", reason: `not ours: id my-copy-of-nightly differs from name tag ${ourName("app-db", EXPIRED)}` },
    ]);
  });

  it("keeps another stage's snapshots even when they are named with our prefix", () => {
    const staging = rds(`oa-ops-autopilot-prod-app-db-${ymd(EXPIRED)}-staging`, { ...tagsFor("app-db", EXPIRED), [TAG.managedBy]: "ops-autopilot:staging" });
    const plans = planPrune({ snapshots: [...ours(), staging], region: PRIMARY, primaryRegion: PRIMARY, policies: [POLICY], owner: OWNER, now: NOW });
    expect(plans.flatMap((p) => p.delete.map((d) => d.target.id))).not.toContain(staging.id);
  });

  it("keeps an EBS snapshot whose description differs from its name tag (a copy carrying our tags)", () => {
    const name = ourName("vol-0a1", EXPIRED);
    const copy: Snapshot = {
      ...rds("snap-0copy", tagsFor("vol-0a1", EXPIRED, name)),
      kind: "ebs-volume",
      resourceId: "vol-0a1",
      description: "[Copied snap-0orig from eu-west-1]",
    };
    const mine: Snapshot[] = ours().map((s, i) => ({
      ...s,
      kind: "ebs-volume",
      id: `snap-0${i}`,
      resourceId: "vol-0a1",
      description: ourName("vol-0a1", s.tags[TAG.backupDate]!),
      tags: tagsFor("vol-0a1", s.tags[TAG.backupDate]!),
    }));
    const plans = planPrune({ snapshots: [...mine, copy], region: PRIMARY, primaryRegion: PRIMARY, policies: [POLICY], owner: OWNER, now: NOW });
    const deleted = plans.flatMap((p) => p.delete.map((d) => d.target.id));
    expect(deleted).not.toContain("snap-0copy");
    expect(deleted).toContain(mine.find((s) => s.tags[TAG.backupDate] === EXPIRED)!.id);
  });
});

describe("a snapshot named like ours but not ours never suppresses today's backup", () => {
  const resource = { kind: "rds-instance" as const, id: "app-db", region: PRIMARY, status: "available", tags: {} };
  const today = "2026-11-21";
  const squatter = rds(ourName("app-db", today), { "created-by": "alice" });

  it("creates under the next deterministic alternative and says why", () => {
    const [d] = planBackups({ resources: [resource], policy: POLICY, owner: OWNER, now: NOW, existing: [squatter] });
    expect(d?.action).toBe("create");
    expect(d?.target.name).toBe(`${ourName("app-db", today)}-2`);
    expect(d?.target.tags[TAG.name]).toBe(`${ourName("app-db", today)}-2`);
    expect(d?.reason).toBe(
      `no backup for ${today} yet; tiers daily; ${ourName("app-db", today)} is taken by a snapshot that is not ours (not ours: no ${TAG.managedBy} tag)`,
    );
  });

  it("a rerun finds its own alternative and does nothing", () => {
    const mine = rds(`${ourName("app-db", today)}-2`, tagsFor("app-db", today, `${ourName("app-db", today)}-2`));
    const [d] = planBackups({ resources: [resource], policy: POLICY, owner: OWNER, now: NOW, existing: [squatter, mine] });
    expect(d?.action).toBe("exists");
    expect(d?.target.name).toBe(`${ourName("app-db", today)}-2`);
  });

  it("a copy of today's backup made with CopyTags is not today's backup", () => {
    const copy = rds("my-copy", tagsFor("app-db", today));
    const [d] = planBackups({ resources: [resource], policy: POLICY, owner: OWNER, now: NOW, existing: [copy] });
    expect(d?.action).toBe("create");
    expect(d?.target.name).toBe(ourName("app-db", today));
  });
});

describe("copies and freshness count only what is ours", () => {
  it("a copy-tagged look-alike in the primary region is not a copy source", () => {
    const copy = rds("my-copy-of-nightly", tagsFor("app-db", "2026-11-21"));
    const out = planCopies({
      sources: [copy],
      copies: [],
      drRegions: [{ region: DR, kmsKeyId: "k" }],
      inFlight: {},
      maxInFlight: 20,
      owner: OWNER,
      policies: [POLICY],
    });
    expect(out.map((d) => [d.action, d.reason])).toEqual([
      ["skip-policy", `not ours: id my-copy-of-nightly differs from name tag ${ourName("app-db", "2026-11-21")}`],
    ]);
  });

  it("a look-alike in the DR region is not our DR copy", () => {
    const src = rds(ourName("app-db", "2026-11-21"), tagsFor("app-db", "2026-11-21"));
    const lookAlike = rds("restored-final", { ...tagsFor("app-db", "2026-11-21"), [TAG.copyOf]: src.id }, { region: DR });
    const out = planCopies({
      sources: [src],
      copies: [lookAlike],
      drRegions: [{ region: DR, kmsKeyId: "k" }],
      inFlight: {},
      maxInFlight: 20,
      owner: OWNER,
      policies: [POLICY],
    });
    expect(out.map((d) => d.action)).toEqual(["copy"]);
  });

  it("a look-alike does not count as a fresh backup", () => {
    const fresh = rds("my-copy", tagsFor("app-db", "2026-11-21"));
    const [f] = assessFreshness({
      snapshots: [fresh],
      resources: [{ resourceId: "app-db", kind: "rds-instance", policy: POLICY }],
      regions: [PRIMARY],
      owner: OWNER,
      now: NOW,
    });
    expect(f?.status).toBe("missing");
  });
});
