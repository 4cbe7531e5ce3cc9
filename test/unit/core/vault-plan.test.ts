import { describe, expect, it } from "vitest";
import {
  applyVaultHolds,
  planVaultCopies,
  planVaultLocks,
  planVaultPrune,
  planVaultShares,
  sharesOfOurs,
  vaultCopyName,
  vaultFreshness,
  vaultPruneHolds,
} from "../../../core/vault-plan.ts";
import { TAG } from "../../../core/types.ts";
import type { WorkloadSnapshot } from "../../../core/vault-plan.ts";
import { OWNER, PRIMARY, snap } from "./builders.ts";
import { CMK, RETENTION, VAULT, VAULT_KEY, WORKLOAD, vcopy, wsnap } from "./vault-fixtures.ts";

const vaultCfg = { accountId: VAULT, regions: [{ region: PRIMARY, kmsKeyAlias: VAULT_KEY }] };
const lockCfg = { ebs: { mode: "compliance" as const, coolOffHours: 24, durationDays: 35 } };
const reasons = (ds: { reason: string; target: { id?: string } | { source: { id: string } } }[]) =>
  ds.map((d) => ["id" in d.target ? d.target.id : (d.target as { source: { id: string } }).source.id, d.reason]);

describe("vault share", () => {
  it("shares ours with a customer managed key, refuses aws/rds with AWS's rule and the fix, skips what is shared, pending or foreign", () => {
    const ok = wsnap({ day: "2026-11-20" });
    const managed = wsnap({ day: "2026-11-19", encryption: { type: "aws-managed", alias: "aws/rds" } });
    const shared = wsnap({ day: "2026-11-18", sharedWith: [VAULT] });
    const pending = wsnap({ day: "2026-11-21", status: "pending" });
    const foreign = wsnap({ day: "2026-11-17", managedBy: "other-app:prod" });
    const plain = wsnap({ day: "2026-11-16", kind: "ebs-volume", resourceId: "vol-1", encryption: { type: "unencrypted" } });
    const plan = planVaultShares({ snapshots: [ok, managed, shared, pending, foreign, plain], owner: OWNER, vaultAccountId: VAULT });
    expect(reasons(plan.share)).toEqual([
      [
        ok.id,
        `ours, encrypted with customer managed key ${CMK}, whose key policy must let account ${VAULT} use it for the copy: share with the vault account ${VAULT}`,
      ],
      [plain.id, `ours, unencrypted: share with the vault account ${VAULT}`],
    ]);
    expect(reasons(plan.unshareable)).toEqual([
      [
        managed.id,
        `encrypted with the AWS managed key aws/rds, which AWS does not let any other account use (its key policy cannot be changed), so ${managed.id} cannot be shared with the vault: re-encrypt the source with a customer managed key (CopyDBSnapshot with a customer managed KmsKeyId, or encrypt the RDS DB instance itself with one) whose key policy lets the vault account use it`,
      ],
    ]);
    expect(reasons(plan.skip)).toEqual([
      [shared.id, `already shared with the vault account ${VAULT}`],
      [pending.id, "pending: shared once available"],
    ]);
    expect(plan.foreign).toBe(1);
  });

  it("does not share again what the vault already holds", () => {
    const s = wsnap({ day: "2026-11-20" });
    const plan = planVaultShares({ snapshots: [s], owner: OWNER, vaultAccountId: VAULT, vaultCopies: [vcopy(s)] });
    expect(reasons(plan.skip)).toEqual([[s.id, "the vault already holds a copy"]]);
  });
});

describe("vault copy", () => {
  it("copies a share in its region with the vault's key and tags naming the source; skips what is copied; ignores other accounts", () => {
    const s = wsnap({ day: "2026-11-20" });
    const done = wsnap({ day: "2026-11-19" });
    const stranger = wsnap({ day: "2026-11-18", account: "444455556666" });
    const plan = planVaultCopies({ shared: [s, done, stranger], copies: [vcopy(done)], vault: vaultCfg, workloadAccounts: [WORKLOAD], owner: OWNER });
    expect(plan.copy).toEqual([
      {
        action: "copy",
        target: {
          source: s,
          region: PRIMARY,
          kmsKeyId: VAULT_KEY,
          name: `${s.id}-${WORKLOAD}`,
          tags: {
            "ops-autopilot:vault-copy": "ops-autopilot:prod",
            [TAG.managedBy]: "ops-autopilot:prod",
            "ops-autopilot:source-account": WORKLOAD,
            [TAG.copyOf]: s.id,
            [TAG.source]: "app-db",
            [TAG.sourceRegion]: PRIMARY,
            [TAG.capturedAt]: "2026-11-20T02:00:00.000Z",
            [TAG.backupDate]: "2026-11-20",
            [TAG.policy]: "default",
            [TAG.name]: s.id,
          },
        },
        reason: `shared from ${WORKLOAD}, no vault copy yet: copy in ${PRIMARY}, the share's region, encrypted with the vault's key ${VAULT_KEY}`,
      },
    ]);
    expect(reasons(plan.skip)).toEqual([[done.id, `already copied to the vault as ${done.id}-vault in ${PRIMARY} (available)`]]);
    expect(plan.foreign).toBe(1);
  });

  it("refuses an encrypted RDS share outside the vault's regions (same-region rule, USER_CopySnapshot) but copies EBS across", () => {
    const rds = wsnap({ day: "2026-11-20", region: "us-east-1" });
    const ebs = wsnap({ day: "2026-11-20", region: "us-east-1", kind: "ebs-volume", resourceId: "vol-1" });
    const plan = planVaultCopies({ shared: [rds, ebs], copies: [], vault: vaultCfg, workloadAccounts: [WORKLOAD], owner: OWNER });
    expect(reasons(plan.uncopyable)).toEqual([
      [
        rds.id,
        "an encrypted RDS DB instance snapshot shared from another account can be copied only in its own region us-east-1 (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html), which is not a vault region: add us-east-1 to vault.regions",
      ],
    ]);
    expect(reasons(plan.copy)).toEqual([
      [
        ebs.id,
        `shared from ${WORKLOAD}, no vault copy yet: copy in ${PRIMARY}, across from us-east-1 (EBS copies shared snapshots across regions), encrypted with the vault's key ${VAULT_KEY}`,
      ],
    ]);
    expect(plan.copy[0]!.target.region).toBe(PRIMARY);
  });

  it("copies an unencrypted Aurora share without a key, saying why (CopyDBClusterSnapshot cannot encrypt it)", () => {
    const s = wsnap({ day: "2026-11-20", kind: "aurora-cluster", resourceId: "app-cluster", encryption: { type: "unencrypted" } });
    const plan = planVaultCopies({ shared: [s], copies: [], vault: vaultCfg, workloadAccounts: [WORKLOAD], owner: OWNER });
    expect(plan.copy[0]!.target.kmsKeyId).toBeUndefined();
    expect(plan.copy[0]!.reason).toBe(
      `shared from ${WORKLOAD}, no vault copy yet: copy in ${PRIMARY}, the share's region, left unencrypted: CopyDBClusterSnapshot cannot encrypt an unencrypted cluster snapshot (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html); encrypt the cluster to have encrypted vault copies`,
    );
  });

  it("takes a share as the vault sees it (no tags, RDS by ARN, EBS by description) for ours by account and name; tags from the name", () => {
    const rdsName = "oa-ops-autopilot-prod-app-db-20261120";
    const seen = (o: Partial<WorkloadSnapshot> & Pick<WorkloadSnapshot, "kind" | "id">): WorkloadSnapshot => ({
      region: PRIMARY,
      resourceId: "",
      status: "available",
      createdAt: new Date("2026-11-20T02:00:00Z"),
      tags: {},
      automated: false,
      account: WORKLOAD,
      encryption: { type: "customer-managed", keyArn: CMK },
      sharedWith: [],
      ...o,
    });
    const rds = seen({ kind: "rds-instance", id: `arn:aws:rds:${PRIMARY}:${WORKLOAD}:snapshot:${rdsName}` });
    const ebs = seen({ kind: "ebs-volume", id: "snap-0123abcd", description: "oa-ops-autopilot-prod-vol-1-20261120-2" });
    const person = seen({ kind: "rds-instance", id: `arn:aws:rds:${PRIMARY}:${WORKLOAD}:snapshot:before-upgrade` });
    const twin = seen({ kind: "ebs-volume", id: "snap-0123abce", description: "oa-ops-autopilot-prod-vol-2-20261120" });
    const twin2 = seen({ kind: "ebs-volume", id: "snap-0123abcf", description: "oa-ops-autopilot-prod-vol-2-20261120" });
    const plan = planVaultCopies({ shared: [rds, ebs, person, twin, twin2], copies: [], vault: vaultCfg, workloadAccounts: [WORKLOAD], owner: OWNER });
    expect(plan.copy.map((d) => [d.target.source.id, d.target.name, d.target.tags])).toEqual([
      [
        rds.id,
        `${rdsName}-${WORKLOAD}`,
        {
          "ops-autopilot:vault-copy": "ops-autopilot:prod",
          [TAG.managedBy]: "ops-autopilot:prod",
          "ops-autopilot:source-account": WORKLOAD,
          [TAG.copyOf]: rds.id,
          [TAG.source]: "app-db",
          [TAG.sourceRegion]: PRIMARY,
          [TAG.capturedAt]: "2026-11-20T02:00:00.000Z",
          [TAG.backupDate]: "2026-11-20",
          [TAG.name]: rdsName,
        },
      ],
      [
        ebs.id,
        `oa-ops-autopilot-prod-vol-1-20261120-2-${WORKLOAD}`,
        {
          "ops-autopilot:vault-copy": "ops-autopilot:prod",
          [TAG.managedBy]: "ops-autopilot:prod",
          "ops-autopilot:source-account": WORKLOAD,
          [TAG.copyOf]: ebs.id,
          [TAG.source]: "vol-1",
          [TAG.sourceRegion]: PRIMARY,
          [TAG.capturedAt]: "2026-11-20T02:00:00.000Z",
          [TAG.backupDate]: "2026-11-20",
          [TAG.name]: "oa-ops-autopilot-prod-vol-1-20261120-2",
        },
      ],
    ]);
    expect(plan.foreign).toBe(3);
    expect(sharesOfOurs([person, twin, twin2], [WORKLOAD], OWNER).map((v) => v.reason)).toEqual([
      "name before-upgrade is not of the form oa-ops-autopilot-prod-<resource>-<yyyymmdd>",
      `2 shares of ${WORKLOAD} in ${PRIMARY} claim the name oa-ops-autopilot-prod-vol-2-20261120 (snap-0123abce, snap-0123abcf)`,
      `2 shares of ${WORKLOAD} in ${PRIMARY} claim the name oa-ops-autopilot-prod-vol-2-20261120 (snap-0123abce, snap-0123abcf)`,
    ]);
  });

  it("names a copy within the kind's limit (Aurora: 63)", () => {
    const id = `oa-ops-autopilot-prod-${"c".repeat(30)}-20261120`;
    const name = vaultCopyName({ kind: "aurora-cluster", id, account: WORKLOAD });
    expect(name).toBe(`${id.slice(0, 63 - 13)}-${WORKLOAD}`);
    expect(name.length).toBe(63);
  });
});

describe("vault lock", () => {
  it("locks unlocked EBS copies in compliance mode with the cooling-off; RDS has none and points at Vault Lock; skips locked ones", () => {
    const ebs = wsnap({ day: "2026-11-20", kind: "ebs-volume", resourceId: "vol-1" });
    const fresh = vcopy(ebs);
    const locked = vcopy(ebs, { id: "snap-locked", lock: { state: "compliance", expiresAt: new Date("2026-12-25T00:00:00Z") } });
    const notOurs = vcopy(ebs, { id: "snap-foreign", ours: false });
    const rds = vcopy(wsnap({ day: "2026-11-20" }));
    const plan = planVaultLocks({ copies: [fresh, locked, notOurs, rds], lock: lockCfg, owner: OWNER });
    expect(plan.lock).toEqual([
      {
        action: "lock",
        target: { copy: fresh, mode: "compliance", coolOffHours: 24, durationDays: 35 },
        reason: "not locked: lock in compliance mode for 35 days, undoable for 24 h",
      },
    ]);
    expect(reasons(plan.skip)).toEqual([["snap-locked", "already locked (compliance)"]]);
    expect(reasons(plan.unsupported)).toEqual([
      [
        rds.id,
        "RDS has no snapshot lock (LockSnapshot is EBS only, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html): enable vault.lock.backupVault (AWS Backup Vault Lock) to make them immutable",
      ],
    ]);
  });

  it("omits the cooling-off in governance mode", () => {
    const c = vcopy(wsnap({ day: "2026-11-20", kind: "ebs-volume", resourceId: "vol-1" }));
    const plan = planVaultLocks({ copies: [c], lock: { ebs: { mode: "governance", coolOffHours: 0, durationDays: 7 } }, owner: OWNER });
    expect(plan.lock[0]!.target).toEqual({ copy: c, mode: "governance", durationDays: 7 });
  });
});

describe("vault prune", () => {
  const now = new Date("2026-11-21T03:00:00Z");
  it("deletes expired copies by the vault's GFS, never a locked one, one not ours, or the newest", () => {
    // 2026-10-14 is a Wednesday, 38 days old: past daily 35, not a Sunday or the 1st.
    const expired = vcopy(wsnap({ day: "2026-10-14" }));
    const lockedOld = vcopy(wsnap({ day: "2026-10-15" }), { lock: { state: "compliance", expiresAt: new Date("2026-11-30T00:00:00Z") } });
    const lockExpired = vcopy(wsnap({ day: "2026-10-13" }), { lock: { state: "compliance", expiresAt: new Date("2026-11-20T00:00:00Z") } });
    const sunday = vcopy(wsnap({ day: "2026-10-11" }));
    const foreign = vcopy(wsnap({ day: "2026-10-12" }), { ours: false });
    const recent = [18, 19, 20].map((d) => vcopy(wsnap({ day: `2026-11-${d}` })));
    const [plan, ...rest] = planVaultPrune({ copies: [expired, lockedOld, lockExpired, sunday, foreign, ...recent], retention: RETENTION, owner: OWNER, now });
    expect(rest).toEqual([]);
    expect(plan!.delete.map((d) => [d.target.id, d.reason])).toEqual([
      [lockExpired.id, "expired: daily 39 days old ≥ 35 days; not a weekly (Sunday) or monthly (day 1) backup"],
      [expired.id, "expired: daily 38 days old ≥ 35 days; not a weekly (Sunday) or monthly (day 1) backup"],
    ]);
    expect(plan!.keep.map((d) => [d.target.id, d.reason])).toEqual([
      [recent[2]!.id, "the newest vault copy of the resource: always kept"],
      [recent[1]!.id, "among the newest 3"],
      [recent[0]!.id, "among the newest 3"],
      [lockedOld.id, "locked (compliance) until 2026-11-30T00:00:00.000Z: cannot be deleted before"],
      [sunday.id, "weekly (Sunday): 41 days old, keep 90 days"],
    ]);
  });

  it("keeps a locked newest copy and a copy without a backup date", () => {
    const s = wsnap({ day: "2026-09-01" });
    const undated = vcopy(wsnap({ day: "2026-08-05" }));
    delete undated.tags[TAG.backupDate];
    const plan = planVaultPrune({ copies: [vcopy(s), undated], retention: { ...RETENTION, keepNewest: 1 }, owner: OWNER, now })[0]!;
    expect(plan.delete).toEqual([]);
    expect(plan.keep.map((d) => d.reason)).toEqual([
      "the newest vault copy of the resource: always kept",
      "no ops-autopilot:backup-date tag: its age is unknown, kept",
    ]);
  });
});

describe("vault freshness and the prune freeze", () => {
  const pol = [{ name: "default", freshnessHours: 25 }];
  it("stale past freshnessHours + copyLagHours of data age; pending while the first copy is within the lag", () => {
    const now = new Date("2026-11-21T12:00:00Z");
    const a = wsnap({ day: "2026-11-20" });
    const b = wsnap({ day: "2026-11-19", resourceId: "old-db" });
    const c = wsnap({ day: "2026-11-21", resourceId: "new-db" });
    const d = wsnap({ day: "2026-11-10", resourceId: "lost-db" });
    const out = vaultFreshness({ workload: [a, b, c, d], copies: [vcopy(a), vcopy(b)], policies: pol, copyLagHours: 12, owner: OWNER, now });
    expect(out.map((x) => [x.target.resourceId, x.action, x.reason])).toEqual([
      ["app-db", "fresh", "newest vault copy holds data 34.0 h old, within 37 h (freshness 25 h + copy lag 12 h)"],
      ["lost-db", "stale", "no vault copy at all (limit 37 h (freshness 25 h + copy lag 12 h))"],
      ["new-db", "pending", "no vault copy yet; the first backup is 10.0 h old, within the copy lag of 12 h"],
      ["old-db", "stale", "newest vault copy holds data 58.0 h old, older than 37 h (freshness 25 h + copy lag 12 h)"],
    ]);
  });

  const guardOf = (snapshots: Parameters<typeof vaultPruneHolds>[0]["snapshots"], copies: ReturnType<typeof vcopy>[], now: Date) =>
    vaultPruneHolds({ account: WORKLOAD, snapshots, copies, owner: OWNER, policies: pol, copyLagHours: 12, now });
  const expiredPlan = (snaps: ReturnType<typeof snap>[]) => ({
    resourceId: "app-db",
    kind: "rds-instance" as const,
    region: PRIMARY,
    keep: [],
    foreign: 0,
    delete: snaps.map((t) => ({ action: "delete" as const, target: t, reason: "expired" })),
  });

  it("holds every snapshot captured after the newest fresh vault copy's data, and the prune then keeps them", () => {
    // Copy of 11-19 02:00 is 25 h old at 11-20 03:00: within 37 h.
    const now = new Date("2026-11-20T03:00:00Z");
    const s18 = snap({ day: "2026-11-18" });
    const s19 = snap({ day: "2026-11-19" });
    const s20a = snap({ day: "2026-11-20", createdAt: new Date("2026-11-20T01:00:00Z") });
    const s20b = snap({ day: "2026-11-20", createdAt: new Date("2026-11-20T02:00:00Z"), attempt: 2 });
    const guard = guardOf([s18, s19, s20a, s20b], [vcopy(s18), vcopy(s19)], now);
    expect(guard.frozen).toEqual([]);
    const hold = "the vault has no copy of it yet (the newest vault copy holds data of 2026-11-19T02:00:00.000Z): kept until it does";
    expect(guard.holds).toEqual([
      { action: "hold", target: s20a, reason: hold },
      { action: "hold", target: s20b, reason: hold },
    ]);
    const [held] = applyVaultHolds([expiredPlan([s18, s19, s20a, s20b])], guard);
    expect(held!.frozen).toBeUndefined();
    expect(held!.delete.map((d) => d.target.id)).toEqual([s18.id, s19.id]);
    expect(held!.keep).toEqual([
      { action: "keep", target: s20b, reason: hold },
      { action: "keep", target: s20a, reason: hold },
    ]);
    expect(guardOf([s19, s20b], [vcopy(s19), vcopy(s20b)], now)).toEqual({ frozen: [], holds: [] });
  });

  it("freezes a resource whose newest vault copy is stale or missing, with the DR freeze's wording; failed snapshots still go", () => {
    const now = new Date("2026-11-21T12:00:00Z");
    const s18 = snap({ day: "2026-11-18" });
    const s19 = snap({ day: "2026-11-19" });
    const failed = snap({ day: "2026-11-20", status: "error", id: "app-db-failed" });
    const lost = snap({ day: "2026-11-19", resourceId: "lost-db" });
    const guard = guardOf([s18, s19, failed, lost], [vcopy(s18), vcopy(s19, { id: "later", status: "pending" })], now);
    const stale = `no available vault copy newer than 37 h (freshness 25 h + copy lag 12 h): the newest, ${s18.id}-vault, holds data 82.0 h old`;
    const missing = "no available vault copy newer than 37 h (freshness 25 h + copy lag 12 h): the vault has no copy of the resource";
    expect(guard.frozen).toEqual([
      { action: "freeze", target: { kind: "rds-instance", resourceId: "app-db" }, reason: stale },
      { action: "freeze", target: { kind: "rds-instance", resourceId: "lost-db" }, reason: missing },
    ]);
    const plan = { ...expiredPlan([s18, s19, failed]), frozen: "newest available backup x is 60 h old (limit 25 h)" };
    const [held] = applyVaultHolds([plan], guard);
    expect(held!.frozen).toBe(`newest available backup x is 60 h old (limit 25 h); ${stale}`);
    expect(held!.delete.map((d) => [d.target.id, d.reason])).toEqual([[failed.id, "expired"]]);
    expect(held!.keep.map((d) => [d.target.id, d.reason])).toEqual([
      [s19.id, `frozen (${stale}); otherwise expired`],
      [s18.id, `frozen (${stale}); otherwise expired`],
    ]);
  });

  it("freezes every resource when the vault could not be read, naming the error", () => {
    const now = new Date("2026-11-20T03:00:00Z");
    const s19 = snap({ day: "2026-11-19" });
    const guard = vaultPruneHolds({
      account: WORKLOAD,
      snapshots: [s19],
      copies: [vcopy(s19)],
      owner: OWNER,
      policies: pol,
      copyLagHours: 12,
      now,
      unreadable: "AccessDenied: not authorized to perform sts:AssumeRole",
    });
    expect(guard).toEqual({
      frozen: [
        {
          action: "freeze",
          target: { kind: "rds-instance", resourceId: "app-db" },
          reason: "the vault's copies could not be read (AccessDenied: not authorized to perform sts:AssumeRole): whether the vault holds them is unknown",
        },
      ],
      holds: [],
    });
  });

  it("freezes a resource whose newest backup is encrypted with the AWS managed key: it can never reach the vault, the reason says the fix", () => {
    // The copy of 11-18 02:00 is 34 h old: fresh.
    const now = new Date("2026-11-19T12:00:00Z");
    const s18 = wsnap({ day: "2026-11-18" });
    const s19 = wsnap({ day: "2026-11-19", encryption: { type: "aws-managed", alias: "aws/rds" } });
    const guard = guardOf([s18, s19], [vcopy(s18)], now);
    expect(guard).toEqual({
      frozen: [
        {
          action: "freeze",
          target: { kind: "rds-instance", resourceId: "app-db" },
          reason: `its newest backup can never reach the vault: encrypted with the AWS managed key aws/rds, which AWS does not let any other account use (its key policy cannot be changed), so ${s19.id} cannot be shared with the vault: re-encrypt the source with a customer managed key (CopyDBSnapshot with a customer managed KmsKeyId, or encrypt the RDS DB instance itself with one) whose key policy lets the vault account use it`,
        },
      ],
      holds: [],
    });
    // Once the newest is under a customer managed key again, the rule is the vault copy's age.
    const s19b = wsnap({ day: "2026-11-19", createdAt: new Date("2026-11-19T10:00:00Z"), attempt: 2 });
    const again = guardOf([s18, s19, s19b], [vcopy(s18)], now);
    expect(again.frozen).toEqual([]);
    expect(again.holds.map((h) => h.target.id).sort()).toEqual([s19.id, s19b.id].sort());
  });
});

describe("vault copy against the vault's retention", () => {
  it("does not copy a share the vault's GFS would delete at once, and copies an old monthly it keeps", () => {
    const now = new Date("2026-11-21T03:00:00Z");
    // 2026-10-14 (a Wednesday) is 38 days old: past daily 35 days; 2025-12-01 (the 1st) is within monthly 730 days.
    const old = wsnap({ day: "2026-10-14" });
    const monthly = wsnap({ day: "2025-12-01" });
    const plan = planVaultCopies({
      shared: [old, monthly],
      copies: [],
      vault: vaultCfg,
      workloadAccounts: [WORKLOAD],
      owner: OWNER,
      retention: { policy: RETENTION, now },
    });
    expect(reasons(plan.skip)).toEqual([
      [
        old.id,
        "the vault's retention would delete it at once (expired: daily 38 days old ≥ 35 days; not a weekly (Sunday) or monthly (day 1) backup): not copied",
      ],
    ]);
    expect(plan.copy.map((d) => d.target.source.id)).toEqual([monthly.id]);
  });
});
