import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { planBackups } from "../../../core/backup-plan.ts";
import { planCopies } from "../../../core/copy-plan.ts";
import { planPrune } from "../../../core/retention.ts";
import { addDays } from "../../../core/calendar.ts";
import { snapshotName } from "../../../core/ownership.ts";
import { TAG, type Resource, type ResourceKind, type Snapshot } from "../../../core/types.ts";
import { OWNER, policy } from "./builders.ts";

/**
 * What people do in an account, interleaved with our nightly backup → copy → prune, over simulated days, at the
 * core level: prune never deletes a snapshot it did not create, and a look-alike never suppresses a night's backup.
 *
 * People: manual snapshots under any name (`oa-…` look-alikes included), with or without tags copied from another
 * snapshot; copies with CopyTags (same tags, another id; EBS copies get AWS's "[Copied …]" description, a typed
 * one, or the source's own); restores, whose snapshots (manual and automated) inherit the tags; tag edits by other
 * principals (our managed-by tag added to anything, name tags changed); other stages' and apps' snapshots.
 * Left out on purpose: a person giving a snapshot our name tag together with the identity that tag names (the
 * RDS identifier, or the EBS description) in our naming scheme, i.e. forging every mark at once. Nothing in an
 * account can tell that from our own snapshot; IAM keeps our roles from tagging what they did not create.
 * RDS tag inheritance: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const REGIONS = [PRIMARY, DR] as const;
const START = "2026-01-01";
const POLICY = policy({
  tiers: { daily: { keep: { days: 3 } }, weekly: { weekday: 0, keep: { days: 10 } }, monthly: { dayOfMonth: 1, keep: { count: 2 } } },
  keepNewest: 2,
});
const RESOURCES: Resource[] = [
  { kind: "rds-instance", id: "app-db", region: PRIMARY, status: "available", tags: {} },
  { kind: "aurora-cluster", id: "orders", region: PRIMARY, status: "available", tags: {} },
  { kind: "ebs-volume", id: "vol-0a1", region: PRIMARY, status: "in-use", tags: {} },
];

type Pick = number;
type Action =
  | { t: "manual"; kind: Pick; region: Pick; name: Pick; tagsFrom: Pick | null; day: number }
  | { t: "copy"; from: Pick; toRegion: Pick; name: Pick; copyTags: boolean; description: Pick }
  | { t: "restore"; from: Pick; name: Pick; automated: boolean }
  | { t: "add-managed-by"; target: Pick; value: Pick }
  | { t: "set-name-tag"; target: Pick; name: Pick }
  | { t: "other-stage"; kind: Pick; region: Pick; day: number; stage: Pick };

const pick = fc.nat(1_000_000);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    t: fc.constant("manual" as const),
    kind: pick,
    region: pick,
    name: pick,
    tagsFrom: fc.option(pick, { nil: null }),
    day: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({ t: fc.constant("copy" as const), from: pick, toRegion: pick, name: pick, copyTags: fc.boolean(), description: pick }),
  fc.record({ t: fc.constant("restore" as const), from: pick, name: pick, automated: fc.boolean() }),
  fc.record({ t: fc.constant("add-managed-by" as const), target: pick, value: pick }),
  fc.record({ t: fc.constant("set-name-tag" as const), target: pick, name: pick }),
  fc.record({ t: fc.constant("other-stage" as const), kind: pick, region: pick, day: fc.integer({ min: -5, max: 0 }), stage: pick }),
);

interface Account {
  snaps: Snapshot[];
  /** Ground truth: the snapshot objects our nightly runs created. */
  created: Set<Snapshot>;
  seq: number;
}

const of = <T>(list: readonly T[], p: Pick): T | undefined => (list.length ? list[p % list.length] : undefined);
const idKey = (s: { kind: ResourceKind; region: string; id: string }) => `${s.region}/${s.kind === "ebs-volume" ? "ebs" : s.kind}/${s.id.toLowerCase()}`;

function taken(acc: Account, kind: ResourceKind, region: string, id: string): boolean {
  return acc.snaps.some((s) => idKey(s) === idKey({ kind, region, id }));
}

/** Names a person might type: look-alikes of ours (any day, any resource, alternatives), other stages', their own. */
function personName(acc: Account, today: string, p: Pick): string {
  const resource = of(["app-db", "orders", "vol-0a1", "other-db"], p)!;
  const day = addDays(today, (p % 9) - 6);
  const choices = [
    snapshotName(OWNER, resource, day),
    `${snapshotName(OWNER, resource, day)}-${2 + (p % 3)}`,
    snapshotName({ app: OWNER.app, stage: "staging" }, resource, day),
    `oa-${OWNER.app}-${OWNER.stage}-${resource}-copy`,
    `${resource}-before-upgrade-${acc.seq}`,
    `my-copy-${acc.seq}`,
  ];
  return of(choices, p >> 3)!;
}

/** The identity a snapshot shows: RDS identifier, EBS description. */
const identity = (s: Snapshot) => (s.kind === "ebs-volume" ? (s.description ?? "") : s.id).toLowerCase();

/** A person's new snapshot, unless it would forge every mark of ours (see the file comment) or its id is taken. */
function add(acc: Account, s: Snapshot): void {
  const nameTag = s.tags[TAG.name];
  if (nameTag !== undefined && nameTag.toLowerCase() === identity(s)) return;
  if (s.kind !== "ebs-volume" && taken(acc, s.kind, s.region, s.id)) return;
  acc.snaps.push(s);
}

function person(acc: Account, a: Action, today: string, now: Date): void {
  acc.seq++;
  const kinds: ResourceKind[] = ["rds-instance", "aurora-cluster", "ebs-volume"];
  const base = (kind: ResourceKind, region: string, id: string, resourceId: string, tags: Record<string, string>, createdAt = now): Snapshot => ({
    kind,
    id: kind === "ebs-volume" ? `snap-p${acc.seq}` : id,
    region,
    resourceId,
    status: "available",
    createdAt,
    tags,
    automated: false,
    ...(kind === "ebs-volume" ? { description: id } : {}),
  });
  switch (a.t) {
    case "manual": {
      const kind = of(kinds, a.kind)!;
      const region = of(REGIONS, a.region)!;
      const from = a.tagsFrom === null ? undefined : of(acc.snaps, a.tagsFrom);
      const resourceId = from?.resourceId ?? of(["app-db", "orders", "vol-0a1"], a.kind)!;
      add(acc, base(kind, region, personName(acc, addDays(today, a.day), a.name), resourceId, { ...(from?.tags ?? {}) }));
      return;
    }
    case "copy": {
      const src = of(acc.snaps, a.from);
      if (!src) return;
      const region = of(REGIONS, a.toRegion)!;
      const id = personName(acc, today, a.name);
      const copy = base(src.kind, region, id, src.resourceId, a.copyTags ? { ...src.tags } : {});
      if (src.kind === "ebs-volume") {
        // What the person typed, or what AWS puts there when they type nothing.
        copy.description = of([`[Copied ${src.id} from ${src.region}]`, id, src.description ?? ""], a.description)!;
      }
      add(acc, copy);
      return;
    }
    case "restore": {
      // RDS gives the restored instance the snapshot's tags; with CopyTagsToSnapshot its snapshots carry them.
      const src = of(
        acc.snaps.filter((s) => s.kind !== "ebs-volume"),
        a.from,
      );
      if (!src) return;
      const restored = `restored-${acc.seq}`;
      const snap = base(src.kind, src.region, a.automated ? `rds:${restored}-${today}-03-00` : personName(acc, today, a.name), restored, { ...src.tags });
      snap.automated = a.automated;
      add(acc, snap);
      return;
    }
    case "add-managed-by": {
      const target = of(acc.snaps, a.target);
      if (!target) return;
      const value = of([`${OWNER.app}:${OWNER.stage}`, `${OWNER.app}:staging`, "other:prod"], a.value)!;
      const tags: Record<string, string> = { ...target.tags, [TAG.managedBy]: value };
      if (!acc.created.has(target) && tags[TAG.name]?.toLowerCase() === identity(target)) return; // forging every mark
      target.tags = tags;
      return;
    }
    case "set-name-tag": {
      const target = of(acc.snaps, a.target);
      if (!target) return;
      const ours = acc.snaps.filter((s) => acc.created.has(s)).map((s) => s.tags[TAG.name] ?? s.id);
      const name = of([...ours, personName(acc, today, a.name)], a.name)!;
      if (!acc.created.has(target) && name.toLowerCase() === identity(target)) return; // forging every mark
      target.tags = { ...target.tags, [TAG.name]: name };
      return;
    }
    case "other-stage": {
      const kind = of(kinds, a.kind)!;
      const region = of(REGIONS, a.region)!;
      const stage = of(["staging", "dev"], a.stage)!;
      const resourceId = of(["app-db", "orders", "vol-0a1"], a.kind)!;
      const day = addDays(today, a.day);
      const name = snapshotName({ app: OWNER.app, stage }, resourceId, day);
      const tags = {
        [TAG.managedBy]: `${OWNER.app}:${stage}`,
        [TAG.policy]: POLICY.name,
        [TAG.source]: resourceId,
        [TAG.sourceRegion]: region,
        [TAG.backupDate]: day,
        [TAG.name]: name,
      };
      // Their own snapshot, correctly named for their stage: it is theirs, so it may carry every mark of theirs.
      const s = base(kind, region, name, resourceId, tags);
      if (kind !== "ebs-volume" && taken(acc, kind, region, s.id)) return;
      acc.snaps.push(s);
      return;
    }
  }
}

/** One night of ours: backup, copy, prune; returns the deleted snapshots and what each resource's backup was. */
function night(acc: Account, today: string): { deleted: Snapshot[]; backups: { action: string; ours: boolean }[] } {
  const at = (h: number) => new Date(Date.parse(`${today}T00:00:00Z`) + h * 3_600_000);
  const inRegion = (r: string) => acc.snaps.filter((s) => s.region === r);

  const decisions = planBackups({ resources: RESOURCES, policy: POLICY, owner: OWNER, now: at(2), existing: inRegion(PRIMARY) });
  const backups: { action: string; ours: boolean }[] = [];
  for (const d of decisions) {
    if (d.action === "create") {
      const s: Snapshot = {
        kind: d.target.resource.kind,
        id: d.target.resource.kind === "ebs-volume" ? `snap-o${++acc.seq}` : d.target.name,
        region: PRIMARY,
        resourceId: d.target.resource.id,
        status: "available",
        createdAt: at(2),
        tags: { ...d.target.tags },
        automated: false,
        ...(d.target.resource.kind === "ebs-volume" ? { description: d.target.name } : {}),
      };
      // The adapter sends what the plan says; RDS would refuse a taken id, so the plan must never choose one.
      expect(s.kind === "ebs-volume" || !taken(acc, s.kind, PRIMARY, s.id)).toBe(true);
      acc.snaps.push(s);
      acc.created.add(s);
      backups.push({ action: "create", ours: true });
    } else {
      const found = acc.snaps.find((s) => acc.created.has(s) && s.region === PRIMARY && s.kind === d.target.resource.kind && s.tags[TAG.backupDate] === today);
      backups.push({ action: d.action, ours: found !== undefined });
    }
  }

  const copies = planCopies({
    sources: inRegion(PRIMARY).filter((s) => !s.tags[TAG.copyOf]),
    copies: inRegion(DR),
    drRegions: [{ region: DR, kmsKeyId: "k" }],
    inFlight: {},
    maxInFlight: 20,
    owner: OWNER,
    policies: [POLICY],
    now: at(3),
  });
  for (const d of copies.filter((x) => x.action === "copy")) {
    const s: Snapshot = {
      kind: d.target.source.kind,
      id: d.target.source.kind === "ebs-volume" ? `snap-o${++acc.seq}` : d.target.name,
      region: DR,
      resourceId: d.target.source.resourceId,
      status: "available",
      createdAt: at(3),
      tags: { ...d.target.tags },
      automated: false,
      ...(d.target.source.kind === "ebs-volume" ? { description: d.target.name } : {}),
    };
    expect(s.kind === "ebs-volume" || !taken(acc, s.kind, DR, s.id)).toBe(true);
    acc.snaps.push(s);
    acc.created.add(s);
  }

  const deleted: Snapshot[] = [];
  for (const region of REGIONS) {
    const plans = planPrune({
      snapshots: inRegion(region),
      region,
      primaryRegion: PRIMARY,
      policies: [POLICY],
      owner: OWNER,
      now: at(4.5),
      ...(region === PRIMARY ? { drCopies: inRegion(DR), drRegions: [DR] } : {}),
    });
    for (const d of plans.flatMap((p) => p.delete)) deleted.push(d.target);
  }
  const gone = new Set(deleted);
  acc.snaps = acc.snaps.filter((s) => !gone.has(s));
  return { deleted, backups };
}

describe("ownership over random account histories", () => {
  it("prune never deletes a snapshot it did not create, and a look-alike never suppresses a night's backup", () => {
    let deletes = 0;
    let lookAlikesSeen = 0;
    fc.assert(
      fc.property(fc.array(fc.array(actionArb, { maxLength: 5 }), { minLength: 20, maxLength: 45 }), (days) => {
        const acc: Account = { snaps: [], created: new Set(), seq: 0 };
        days.forEach((actions, i) => {
          const today = addDays(START, i);
          // People act during the day, before and after the night's runs.
          const split = Math.floor(actions.length / 2);
          for (const a of actions.slice(0, split)) person(acc, a, today, new Date(`${today}T01:00:00Z`));
          const { deleted, backups } = night(acc, today);
          for (const s of deleted) expect(acc.created.has(s), `deleted ${s.region}/${s.id} (${JSON.stringify(s.tags)}) which we did not create`).toBe(true);
          deletes += deleted.length;
          for (const b of backups) expect(b.ours, `a night's backup was suppressed (${b.action})`).toBe(true);
          for (const a of actions.slice(split)) person(acc, a, today, new Date(`${today}T12:00:00Z`));
          lookAlikesSeen += acc.snaps.filter((s) => !acc.created.has(s) && s.tags[TAG.managedBy] === `${OWNER.app}:${OWNER.stage}`).length;
        });
      }),
      { numRuns: 100 },
    );
    // Worth something only if retention did prune, next to look-alikes carrying our tag.
    expect(deletes).toBeGreaterThan(1000);
    expect(lookAlikesSeen).toBeGreaterThan(1000);
  }, 60_000);
});
