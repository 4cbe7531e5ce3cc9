import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyByOwner, matchesNameScheme, snapshotName } from "../../../core/ownership.ts";
import { newestFirst } from "../../../core/retention.ts";
import { TAG, managedByValue } from "../../../core/types.ts";
import type { ResourceKind, Snapshot } from "../../../core/types.ts";
import {
  VAULT_TAG,
  applyVaultHolds,
  lockedAt,
  planVaultCopies,
  planVaultPrune,
  planVaultShares,
  shareName,
  vaultPruneHolds,
} from "../../../core/vault-plan.ts";
import type { VaultCopy, WorkloadSnapshot } from "../../../core/vault-plan.ts";
import { OWNER, PRIMARY, snap } from "./builders.ts";
import { RETENTION, VAULT, WORKLOAD, vcopy, wsnap } from "./vault-fixtures.ts";

const NOW = new Date("2026-11-21T03:00:00Z");
const kindArb = fc.constantFrom<ResourceKind>("rds-instance", "aurora-cluster", "ebs-volume");
const resourceArb = fc.constantFrom("app-db", "orders-db", "vol-1");
/** A backup day within the last ~800 days. */
const dayArb = fc.integer({ min: 0, max: 800 }).map((n) => new Date(NOW.getTime() - n * 86_400_000).toISOString().slice(0, 10));
const lockArb: fc.Arbitrary<VaultCopy["lock"]> = fc.option(
  fc.record({
    state: fc.constantFrom("compliance-cooloff", "governance", "compliance", "expired"),
    expiresAt: fc.option(
      fc.integer({ min: -30, max: 30 }).map((d) => new Date(NOW.getTime() + d * 86_400_000)),
      { nil: undefined },
    ),
  }),
  { nil: undefined },
) as fc.Arbitrary<VaultCopy["lock"]>;
/** The vault-copy tag: ours, another stage's, or none at all. */
const vaultTagArb = fc.constantFrom<string | undefined>(managedByValue(OWNER), managedByValue(OWNER), "ops-autopilot:staging", undefined);

const copyArb = fc
  .record({
    kind: kindArb,
    resourceId: resourceArb,
    day: dayArb,
    account: fc.constantFrom(WORKLOAD, "444455556666"),
    status: fc.constantFrom<VaultCopy["status"]>("available", "available", "pending", "error"),
    lock: lockArb,
    vaultTag: vaultTagArb,
    dropDate: fc.boolean(),
    n: fc.nat(999),
  })
  .map((o) => {
    const c = vcopy(
      { ...snap({ day: o.day, kind: o.kind, resourceId: o.resourceId }), account: o.account },
      { id: `copy-${o.n}`, status: o.status, lock: o.lock },
    );
    if (o.vaultTag === undefined) delete c.tags[VAULT_TAG.vaultCopy];
    else c.tags[VAULT_TAG.vaultCopy] = o.vaultTag;
    if (o.dropDate && o.n % 5 === 0) delete c.tags[TAG.backupDate];
    return c;
  });
const copiesArb = fc.uniqueArray(copyArb, { selector: (c) => c.id, maxLength: 40 });

const ours = (c: VaultCopy) => c.tags[VAULT_TAG.vaultCopy] === managedByValue(OWNER);

describe("vault prune properties", () => {
  it("(a) never selects a locked copy, or one without our vault-copy tag, whatever the input", () => {
    fc.assert(
      fc.property(copiesArb, fc.integer({ min: 1, max: 5 }), (copies, keepNewest) => {
        for (const plan of planVaultPrune({ copies, retention: { ...RETENTION, keepNewest }, owner: OWNER, now: NOW })) {
          for (const d of plan.delete) {
            expect(lockedAt(d.target, NOW)).toBe(false);
            expect(ours(d.target)).toBe(true);
            // A failed copy (error) is removed so its share is copied again; a pending or deleting one never.
            expect(["available", "error"]).toContain(d.target.status);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(c) every resource with copies of ours keeps at least its newest", () => {
    fc.assert(
      fc.property(copiesArb, (copies) => {
        const plans = planVaultPrune({ copies, retention: { ...RETENTION, keepNewest: 1 }, owner: OWNER, now: NOW });
        const groups = new Map<string, VaultCopy[]>();
        for (const c of copies.filter(ours)) {
          const key = `${c.tags[VAULT_TAG.sourceAccount]}\u0000${c.kind}\u0000${c.tags[TAG.source]}\u0000${c.region}`;
          groups.set(key, [...(groups.get(key) ?? []), c]);
        }
        expect(plans.length).toBe(groups.size);
        for (const plan of plans) {
          const group = groups.get(`${plan.account}\u0000${plan.kind}\u0000${plan.resourceId}\u0000${plan.region}`)!;
          const asSnap = (c: VaultCopy) => ({ ...c, resourceId: plan.resourceId, automated: false }) as Snapshot;
          const newest = [...group].sort((a, b) => newestFirst(asSnap(a), asSnap(b)))[0]!;
          expect(plan.keep.map((d) => d.target)).toContain(newest);
          expect(plan.keep.length + plan.delete.length).toBe(group.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("vault share properties", () => {
  const encArb = fc.constantFrom(
    { type: "customer-managed" as const, keyArn: "arn:aws:kms:eu-west-1:111122223333:key/k" },
    { type: "aws-managed" as const, alias: "aws/rds" as const },
    { type: "aws-managed" as const, alias: "aws/ebs" as const },
    { type: "unencrypted" as const },
  );
  const wsArb = fc.record({
    kind: kindArb,
    resourceId: resourceArb,
    day: dayArb,
    encryption: encArb,
    managedBy: fc.constantFrom<string | null | undefined>(undefined, undefined, "ops-autopilot:staging", null),
    automated: fc.boolean(),
    status: fc.constantFrom<Snapshot["status"]>("available", "pending"),
    shared: fc.boolean(),
  });
  it("(b) never shares a snapshot that is not ours or is encrypted with an AWS managed key", () => {
    fc.assert(
      fc.property(fc.array(wsArb, { maxLength: 30 }), (specs) => {
        const snapshots = specs.map((o) => wsnap({ ...o, sharedWith: o.shared ? [VAULT] : [] }));
        const plan = planVaultShares({ snapshots, owner: OWNER, vaultAccountId: VAULT });
        const verdict = new Map(snapshots.map((s, i) => [s, classifyByOwner(snapshots, OWNER)[i]!.ours]));
        for (const d of plan.share) {
          expect(verdict.get(d.target)).toBe(true);
          expect(d.target.tags[TAG.managedBy]).toBe(managedByValue(OWNER));
          expect(d.target.automated).toBe(false);
          expect(d.target.encryption.type).not.toBe("aws-managed");
        }
        // Every snapshot gets exactly one outcome.
        expect(plan.share.length + plan.unshareable.length + plan.skip.length + plan.foreign).toBe(snapshots.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("vault copy properties", () => {
  /** Names a share may carry: ours, another stage's, look-alikes of ours (no day, a date that is not one, a bad suffix), a person's. */
  const nameArb = fc.oneof(
    fc.tuple(resourceArb, dayArb).map(([r, d]) => snapshotName(OWNER, r, d)),
    fc.tuple(resourceArb, dayArb).map(([r, d]) => snapshotName({ app: "ops-autopilot", stage: "staging" }, r, d)),
    resourceArb.map((r) => `oa-ops-autopilot-prod-${r}`),
    resourceArb.map((r) => `oa-ops-autopilot-prod-${r}-20261331`),
    fc.tuple(resourceArb, dayArb).map(([r, d]) => `${snapshotName(OWNER, r, d)}-21`),
    fc.tuple(resourceArb, dayArb).map(([r, d]) => `OA-OPS-AUTOPILOT-PROD-${r}-${d.replaceAll("-", "")}-x`),
    fc.constantFrom("my-manual-snapshot", "rds:app-db-2026-11-20-03-00", ""),
  );
  const shareArb = fc.record({
    kind: kindArb,
    name: nameArb,
    account: fc.constantFrom(WORKLOAD, WORKLOAD, "444455556666"),
    n: fc.nat(9999),
    status: fc.constantFrom<Snapshot["status"]>("available", "available", "pending"),
  });
  /** A share as the vault sees it: no tags, an RDS share named by its ARN, an EBS share by its description. */
  const asSeen = (o: { kind: ResourceKind; name: string; account: string; n: number; status: Snapshot["status"] }): WorkloadSnapshot => ({
    kind: o.kind,
    id:
      o.kind === "ebs-volume"
        ? `snap-${o.n.toString(16).padStart(8, "0")}`
        : `arn:aws:rds:${PRIMARY}:${o.account}:${o.kind === "aurora-cluster" ? "cluster-snapshot" : "snapshot"}:${o.name || `s${o.n}`}`,
    ...(o.kind === "ebs-volume" ? { description: o.name } : {}),
    region: PRIMARY,
    resourceId: "",
    status: o.status,
    createdAt: new Date("2026-11-20T02:00:00Z"),
    tags: {},
    automated: false,
    account: o.account,
    encryption: { type: "customer-managed", keyArn: `arn:aws:kms:${PRIMARY}:${o.account}:key/k` },
    sharedWith: [],
  });
  it("(e) a share not in our name scheme, or shared by an account that is not a workload account, is never copied", () => {
    fc.assert(
      fc.property(fc.uniqueArray(shareArb, { selector: (o) => `${o.kind}${o.account}${o.n}${o.name}`, maxLength: 30 }), (specs) => {
        const shared = specs.map(asSeen);
        const plan = planVaultCopies({
          shared,
          copies: [],
          vault: { accountId: VAULT, regions: [{ region: PRIMARY, kmsKeyAlias: "alias/vault" }] },
          workloadAccounts: [WORKLOAD],
          owner: OWNER,
        });
        for (const d of plan.copy) {
          expect(d.target.source.account).toBe(WORKLOAD);
          expect(matchesNameScheme(OWNER, shareName(d.target.source)!)).toBe(true);
          expect(d.target.name.startsWith("oa-ops-autopilot-prod-")).toBe(true);
        }
        expect(plan.copy.length + plan.uncopyable.length + plan.skip.length + plan.foreign).toBe(shared.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("vault prune freeze properties", () => {
  const POLICIES = [{ name: "default", freshnessHours: 25 }];
  const LAG = 12;
  const LIMIT_MS = (25 + LAG) * 3_600_000;
  /** Backups of the last few days (some failed), vault copies of some of them (ours or not, any account, shifted), and an adversarial prune plan. */
  const caseArb = fc
    .record({
      specs: fc.uniqueArray(
        fc.record({
          resourceId: fc.constantFrom("app-db", "orders-db"),
          kind: fc.constantFrom<ResourceKind>("rds-instance", "ebs-volume"),
          day: fc.integer({ min: 0, max: 4 }).map((n) => new Date(NOW.getTime() - n * 86_400_000).toISOString().slice(0, 10)),
          // Two backups of a day (attempt 2 an hour before 02:00): several snapshots newer than one vault copy.
          attempt: fc.constantFrom(1, 2),
          status: fc.constantFrom<Snapshot["status"]>("available", "available", "available", "pending", "error"),
        }),
        { selector: (o) => `${o.kind}${o.resourceId}${o.day}${o.attempt}`, maxLength: 25 },
      ),
      copySpecs: fc.array(
        fc.record({
          pick: fc.nat(),
          shiftHours: fc.integer({ min: -48, max: 48 }),
          ours: fc.constantFrom(true, true, true, false),
          account: fc.constantFrom(WORKLOAD, WORKLOAD, "444455556666"),
          status: fc.constantFrom<VaultCopy["status"]>("available", "available", "pending", "error"),
        }),
        { maxLength: 15 },
      ),
      deletes: fc.func(fc.boolean()),
    })
    .map(({ specs, copySpecs, deletes }) => {
      const snapshots = specs.map((o) => snap({ ...o, createdAt: new Date(`${o.day}T0${3 - o.attempt}:00:00Z`) }));
      const copies = snapshots.length
        ? copySpecs.map((c, i) => {
            const source = snapshots[c.pick % snapshots.length]!;
            const copy = vcopy({ ...source, account: c.account }, { id: `copy-${i}`, status: c.status, ours: c.ours });
            copy.tags[TAG.capturedAt] = new Date(source.createdAt.getTime() + c.shiftHours * 3_600_000).toISOString();
            return copy;
          })
        : [];
      const groups = new Map<string, Snapshot[]>();
      for (const s of snapshots) groups.set(`${s.kind}\u0000${s.resourceId}`, [...(groups.get(`${s.kind}\u0000${s.resourceId}`) ?? []), s]);
      const plans = [...groups.values()].map((g) => ({
        resourceId: g[0]!.resourceId,
        kind: g[0]!.kind,
        region: PRIMARY,
        keep: [],
        foreign: 0,
        delete: g.filter((s) => deletes(s.id)).map((s) => ({ action: "delete" as const, target: s, reason: "expired" })),
      }));
      const guard = vaultPruneHolds({ account: WORKLOAD, snapshots, copies, owner: OWNER, policies: POLICIES, copyLagHours: LAG, now: NOW });
      const pruned = applyVaultHolds(plans, guard);
      const deleted = new Set(pruned.flatMap((p) => p.delete.map((d) => d.target)));
      /** The data time of the newest available vault copy of ours, from this account, of the group's resource. */
      const newestCopy = (g: Snapshot[]) =>
        Math.max(
          ...copies
            .filter(
              (c) =>
                ours(c) &&
                c.status === "available" &&
                c.tags[VAULT_TAG.sourceAccount] === WORKLOAD &&
                c.kind === g[0]!.kind &&
                c.tags[TAG.source] === g[0]!.resourceId,
            )
            .map((c) => Date.parse(c.tags[TAG.capturedAt]!)),
        );
      return { groups: [...groups.values()], copies, pruned, deleted, newestCopy };
    });

  it("(d) the workload prune never deletes the newest workload snapshot of a resource without a vault copy at or after it", () => {
    fc.assert(
      fc.property(caseArb, ({ groups, deleted, newestCopy }) => {
        for (const g of groups) {
          const newest = g.filter((s) => s.status !== "error").reduce<Snapshot | undefined>((a, b) => (!a || b.createdAt > a.createdAt ? b : a), undefined);
          if (newest && !(newestCopy(g) >= newest.createdAt.getTime())) expect(deleted.has(newest)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(e) prune never deletes a snapshot captured after the newest fresh vault copy of its resource", () => {
    fc.assert(
      fc.property(caseArb, ({ groups, deleted, newestCopy }) => {
        for (const g of groups) {
          const at = newestCopy(g);
          if (!(NOW.getTime() - at <= LIMIT_MS)) continue;
          for (const s of g) if (s.status !== "error" && s.createdAt.getTime() > at) expect(deleted.has(s)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(f) with a stale or missing vault copy nothing of the resource is deleted but its failed snapshots, and its plan says frozen", () => {
    fc.assert(
      fc.property(caseArb, ({ groups, pruned, deleted, newestCopy }) => {
        for (const g of groups) {
          const at = newestCopy(g);
          if (NOW.getTime() - at <= LIMIT_MS || !g.some((s) => s.status !== "error")) continue;
          for (const s of g) if (s.status !== "error") expect(deleted.has(s)).toBe(false);
          const plan = pruned.find((p) => p.kind === g[0]!.kind && p.resourceId === g[0]!.resourceId)!;
          expect(plan.frozen).toMatch(
            /^no available vault copy newer than 37 h \(freshness 25 h \+ copy lag 12 h\): (the vault has no copy of the resource|the newest, copy-\d+, holds data \d+\.\d h old)$/,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
