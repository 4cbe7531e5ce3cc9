/**
 * The backup account ("vault"): which of our workload snapshots to share with it, which shared snapshots the vault
 * copies (re-encrypted with its own customer managed key), which of its copies to lock, which to prune under its own
 * GFS, how fresh its copies are per resource, and which workload snapshots the workload prune must hold until the
 * vault has them. Pure: the clock is a parameter, every decision carries a reason an operator can read.
 *
 * AWS rules relied on:
 * - A snapshot encrypted with an AWS managed key (`aws/rds`, `aws/ebs`) cannot be shared: the key's policy cannot be
 *   changed, so no other account can ever decrypt it (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html;
 *   "Snapshots encrypted with your default KMS key cannot be shared with other accounts",
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html;
 *   https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
 * - Copying a snapshot shared from another account needs a KmsKeyId of the copying account
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html), and an encrypted shared RDS or
 *   Aurora snapshot can be copied only in its own region (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html);
 *   EBS copies a shared snapshot across regions (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html).
 * - CopyDBClusterSnapshot cannot encrypt an unencrypted cluster snapshot ("If you copy an unencrypted DB cluster snapshot
 *   and specify a value for the KmsKeyId parameter, an error is returned").
 * - The sharee does not see the owner's tags on a shared snapshot: tags belong to the account that set them ("When you
 *   share an AMI, your user-defined tags are not available to any AWS account that the AMI is shared with",
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html; EBS snapshots and RDS snapshots
 *   alike: DescribeSnapshots / DescribeDBSnapshots in the vault return a share without the owner's tags). So the vault
 *   recognises a share of ours by who shared it (a workload account) and by its name, which our scheme makes encode
 *   the resource and the backup day (core/ownership.ts snapshotName), never by tags.
 * - Only EBS snapshots can be locked (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html); RDS has
 *   no snapshot lock, its copies are made immutable by an AWS Backup vault with Vault Lock
 *   (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html).
 */
import { isDay, localDay } from "./calendar.ts";
import { classifyByOwner, matchesNameScheme, namePrefix } from "./ownership.ts";
import { judgeByPolicy, newestFirst } from "./retention.ts";
import type { PruneDecision, PrunePlan } from "./retention.ts";
import { RESOURCE_TYPES } from "./resource-types.ts";
import { TAG, managedByValue } from "./types.ts";
import type { Decision, Owner, ResourceKind, Snapshot, SnapshotStatus } from "./types.ts";
import type { BackupPolicy } from "../schemas/config.ts";
import type { VaultConfig, VaultRetention } from "../schemas/config-vault.ts";

/** The tag keys the vault's copies carry besides the snapshot tags of core/types.ts. */
export const VAULT_TAG = {
  /** `<app>:<stage>` on every copy the vault made: the only copies its pruner may ever delete. */
  vaultCopy: "ops-autopilot:vault-copy",
  /** The workload account the copy's source snapshot was shared from. */
  sourceAccount: "ops-autopilot:source-account",
} as const;

/** How a snapshot is encrypted. */
export type SnapshotEncryption = { type: "customer-managed"; keyArn: string } | { type: "aws-managed"; alias: "aws/rds" | "aws/ebs" } | { type: "unencrypted" };

/** A snapshot in a workload account, as the workload (sharing) or the vault (copying a share) sees it. */
export interface WorkloadSnapshot extends Snapshot {
  /** The workload account it lives in. */
  account: string;
  encryption: SnapshotEncryption;
  /** Account ids it is shared with (RDS `restore` attribute, EBS createVolumePermission). */
  sharedWith: readonly string[];
}

/** EC2 LockState (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockedSnapshotsInfo.html); absent when never locked. */
export type LockState = "compliance-cooloff" | "governance" | "compliance" | "expired";

/** A snapshot in the vault account. */
export interface VaultCopy {
  kind: ResourceKind;
  id: string;
  region: string;
  /** The id of the workload snapshot it was copied from. */
  sourceId: string;
  createdAt: Date;
  status: SnapshotStatus;
  tags: Record<string, string>;
  lock?: { state: LockState; expiresAt?: Date };
  /** Why a copy ended in `error` (EBS StateMessage: a KMS refusal names the key). */
  statusMessage?: string;
}

const HOUR_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------------------------------
// Share (workload account)

export interface ShareInput {
  /** Everything the workload account sees, ours or not. */
  snapshots: readonly WorkloadSnapshot[];
  owner: Owner;
  vaultAccountId: string;
  /** The vault's copies, when known: a snapshot the vault already holds is not shared again. */
  vaultCopies?: readonly VaultCopy[];
}

export interface SharePlan {
  share: Decision<"share", WorkloadSnapshot>[];
  /** Ours, but AWS does not let it leave the account: the operator must act. */
  unshareable: Decision<"unshareable", WorkloadSnapshot>[];
  skip: Decision<"skip", WorkloadSnapshot>[];
  /** Snapshots that are not ours: never shared, only counted. */
  foreign: number;
}

/** Why AWS refuses to share a snapshot encrypted with an AWS managed key, and what the user does about it. */
export function awsManagedKeyReason(s: Pick<Snapshot, "kind" | "id">, alias: string): string {
  const copy =
    s.kind === "ebs-volume"
      ? "CopySnapshot with Encrypted and a customer managed KmsKeyId"
      : s.kind === "aurora-cluster"
        ? "CopyDBClusterSnapshot with a customer managed KmsKeyId"
        : "CopyDBSnapshot with a customer managed KmsKeyId";
  return (
    `encrypted with the AWS managed key ${alias}, which AWS does not let any other account use (its key policy cannot be changed), ` +
    `so ${s.id} cannot be shared with the vault: re-encrypt the source with a customer managed key (${copy}, or encrypt the ` +
    `${RESOURCE_TYPES[s.kind].label} itself with one) whose key policy lets the vault account use it`
  );
}

/** Our snapshots to share with the vault account, one decision each. */
export function planVaultShares(input: ShareInput): SharePlan {
  const { owner, vaultAccountId } = input;
  const out: SharePlan = { share: [], unshareable: [], skip: [], foreign: 0 };
  const verdicts = classifyByOwner(input.snapshots, owner);
  const copied = new Set<string>();
  for (const c of input.vaultCopies ?? []) if (isVaultCopyOfOurs(c, owner)) copied.add(sourceKey(c.tags[VAULT_TAG.sourceAccount] ?? "", c.kind, c.sourceId));
  input.snapshots.forEach((s, i) => {
    if (!verdicts[i]!.ours) {
      out.foreign++;
      return;
    }
    if (s.encryption.type === "aws-managed") {
      out.unshareable.push({ action: "unshareable", target: s, reason: awsManagedKeyReason(s, s.encryption.alias) });
    } else if (s.status !== "available") {
      out.skip.push({ action: "skip", target: s, reason: `${s.status}: shared once available` });
    } else if (s.sharedWith.includes(vaultAccountId)) {
      out.skip.push({ action: "skip", target: s, reason: `already shared with the vault account ${vaultAccountId}` });
    } else if (copied.has(sourceKey(s.account, s.kind, s.id))) {
      out.skip.push({ action: "skip", target: s, reason: "the vault already holds a copy" });
    } else {
      const how =
        s.encryption.type === "customer-managed"
          ? `encrypted with customer managed key ${s.encryption.keyArn}, whose key policy must let account ${vaultAccountId} use it for the copy`
          : "unencrypted";
      out.share.push({ action: "share", target: s, reason: `ours, ${how}: share with the vault account ${vaultAccountId}` });
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Copy (vault account)

export interface CopyOrder {
  source: WorkloadSnapshot;
  /** The vault region the copy is made in. */
  region: string;
  /** The vault's key for that region; absent when the copy cannot be encrypted (an unencrypted Aurora snapshot). */
  kmsKeyId?: string;
  /** The RDS identifier, or the EBS description, of the copy. */
  name: string;
  tags: Record<string, string>;
}

export interface VaultCopyInput {
  /**
   * Snapshots shared with the vault, as it sees them: no tags (the owner's are not visible to the vault), an RDS share's
   * id is its ARN, an EBS share's name is its description.
   */
  shared: readonly WorkloadSnapshot[];
  copies: readonly VaultCopy[];
  vault: Pick<VaultConfig, "accountId" | "regions">;
  /** The workload accounts whose shares the vault copies; a share from any other account is ignored. */
  workloadAccounts: readonly string[];
  owner: Owner;
  /**
   * With the clock: a share the vault's retention would delete at once (its backup day past every tier that could keep
   * it, judged alone) is not copied, so enabling a vault on old backups or shortening its retention never copies to prune.
   */
  retention?: { policy: VaultRetention; now: Date; timeZone?: string };
}

export interface VaultCopyPlan {
  copy: Decision<"copy", CopyOrder>[];
  /** Ours, but no copy is possible as configured: the operator must act. */
  uncopyable: Decision<"uncopyable", WorkloadSnapshot>[];
  skip: Decision<"skip", WorkloadSnapshot>[];
  foreign: number;
}

const isRds = (kind: ResourceKind): boolean => kind !== "ebs-volume";

/**
 * What a share calls itself, as the vault sees it: the RDS snapshot identifier (the last part of a shared snapshot's
 * ARN, which is how RDS lists shares), or the EBS description.
 */
export function shareName(s: Pick<WorkloadSnapshot, "kind" | "id" | "description">): string | undefined {
  if (!isRds(s.kind)) return s.description;
  const at = s.id.startsWith("arn:") ? s.id.lastIndexOf(":") : -1;
  return at < 0 ? s.id : s.id.slice(at + 1);
}

/**
 * The resource and backup day a name of our scheme encodes (`oa-<app>-<stage>-<resource>-<yyyymmdd>[-<n>]`,
 * core/ownership.ts snapshotName): the resource part as written in the name (a sanitised id keeps its digest marker),
 * undefined for a name not of our scheme. `nameParts(owner, "oa-ops-autopilot-prod-app-db-20261121-2")` →
 * `{ resource: "app-db", day: "2026-11-21" }`.
 */
export function nameParts(owner: Owner, name: string | undefined): { resource: string; day: string } | undefined {
  if (name === undefined || !matchesNameScheme(owner, name)) return undefined;
  const m = /^(.*)-(\d{4})(\d{2})(\d{2})(?:-\d{1,2})?$/.exec(name.slice(namePrefix(owner).length));
  return m ? { resource: m[1]!, day: `${m[2]}-${m[3]}-${m[4]}` } : undefined;
}

/** The copy's name: the share's, with the workload account so two accounts' same-named backups never collide. */
export function vaultCopyName(source: Pick<WorkloadSnapshot, "kind" | "id" | "description" | "account">): string {
  const identity = shareName(source) ?? source.id;
  const name = `${identity}-${source.account}`;
  const max = RESOURCE_TYPES[source.kind].maxNameLength;
  return name.length <= max ? name : `${identity.slice(0, max - source.account.length - 1).replace(/-+$/, "")}-${source.account}`;
}

/**
 * The tags a vault copy is made with: the resource and backup day from the share's name (the vault sees no tags of the
 * workload's), its account, id and region; the workload's policy and name tags only when the caller sees them (the
 * workload side does, the vault does not).
 */
export function vaultCopyTags(source: WorkloadSnapshot, owner: Owner): Record<string, string> {
  const t = source.tags;
  const name = shareName(source);
  const parts = nameParts(owner, name);
  const tags: Record<string, string> = {
    [VAULT_TAG.vaultCopy]: managedByValue(owner),
    // Our managed-by value too: IAM in the vault account limits tagging to requests that set it and deletes to
    // resources that carry it, as in the workload account (stacks/policy-lint.ts).
    [TAG.managedBy]: managedByValue(owner),
    [VAULT_TAG.sourceAccount]: source.account,
    [TAG.copyOf]: source.id,
    [TAG.source]: parts?.resource ?? source.resourceId,
    [TAG.sourceRegion]: source.region,
    [TAG.capturedAt]: capturedAt(source).toISOString(),
  };
  const day = parts?.day ?? t[TAG.backupDate];
  if (day !== undefined) tags[TAG.backupDate] = day;
  const policy = t[TAG.policy];
  if (policy !== undefined) tags[TAG.policy] = policy;
  if (name !== undefined) tags[TAG.name] = name;
  return tags;
}

/**
 * Which shares the vault takes for ours, aligned with `shared`: shared by one of the workload accounts AND named by our
 * scheme for this app and stage (the vault sees no tags). A name that two shares of one account, kind and region
 * claim (EBS descriptions are not unique) is ours for neither: which one the backup made cannot be told.
 */
export function sharesOfOurs(shared: readonly WorkloadSnapshot[], workloadAccounts: readonly string[], owner: Owner): { ours: boolean; reason: string }[] {
  const accounts = new Set(workloadAccounts);
  const verdicts = shared.map((s) => {
    if (!accounts.has(s.account)) return { ours: false, reason: `shared by ${s.account}, which is not a workload account` };
    const name = shareName(s);
    if (!nameParts(owner, name)) return { ours: false, reason: `name ${name ?? "(none)"} is not of the form ${namePrefix(owner)}<resource>-<yyyymmdd>` };
    return { ours: true, reason: `shared by workload account ${s.account}, named ${name}` };
  });
  const claims = new Map<string, Set<string>>();
  shared.forEach((s, i) => {
    if (!verdicts[i]!.ours) return;
    const key = `${s.account}\u0000${s.kind}\u0000${s.region}\u0000${nameKeyOf(s.kind, shareName(s)!)}`;
    const ids = claims.get(key) ?? new Set<string>();
    ids.add(s.id);
    claims.set(key, ids);
  });
  shared.forEach((s, i) => {
    if (!verdicts[i]!.ours) return;
    const ids = claims.get(`${s.account}\u0000${s.kind}\u0000${s.region}\u0000${nameKeyOf(s.kind, shareName(s)!)}`)!;
    if (ids.size > 1)
      verdicts[i] = { ours: false, reason: `${ids.size} shares of ${s.account} in ${s.region} claim the name ${shareName(s)} (${[...ids].sort().join(", ")})` };
  });
  return verdicts;
}

const nameKeyOf = (kind: ResourceKind, name: string): string => (RESOURCE_TYPES[kind].ownership.caseInsensitive ? name.toLowerCase() : name);

/** Which shared snapshots the vault copies, where, and with which key. */
export function planVaultCopies(input: VaultCopyInput): VaultCopyPlan {
  const { owner, vault } = input;
  const out: VaultCopyPlan = { copy: [], uncopyable: [], skip: [], foreign: 0 };
  const keys = new Map(vault.regions.map((r) => [r.region, r.kmsKeyAlias]));
  const existing = new Map<string, VaultCopy>();
  for (const c of input.copies) {
    if (!isVaultCopyOfOurs(c, owner)) continue;
    const key = sourceKey(c.tags[VAULT_TAG.sourceAccount] ?? "", c.kind, c.sourceId);
    // A good copy stands for the share whatever failed copies sit beside it.
    if (existing.get(key)?.status !== "error" && existing.has(key)) continue;
    existing.set(key, c);
  }
  const verdicts = sharesOfOurs(input.shared, input.workloadAccounts, owner);
  input.shared.forEach((s, i) => {
    if (!verdicts[i]!.ours) {
      out.foreign++;
      return;
    }
    const have = existing.get(sourceKey(s.account, s.kind, s.id));
    // A copy that failed is no copy: the share is copied again (the vault's prune removes the failed one).
    if (have && have.status !== "error") {
      out.skip.push({ action: "skip", target: s, reason: `already copied to the vault as ${have.id} in ${have.region} (${have.status})` });
      return;
    }
    if (s.encryption.type === "aws-managed") {
      out.uncopyable.push({ action: "uncopyable", target: s, reason: awsManagedKeyReason(s, s.encryption.alias) });
      return;
    }
    if (s.status !== "available") {
      out.skip.push({ action: "skip", target: s, reason: `${s.status}: copied once available` });
      return;
    }
    // Its backup day is the one its name encodes (the vault does not see the workload's backup-date tag).
    const day = nameParts(owner, shareName(s))?.day;
    const expired = input.retention && day !== undefined && expiredInVault({ ...s, tags: { ...s.tags, [TAG.backupDate]: day } }, input.retention);
    if (expired) {
      out.skip.push({ action: "skip", target: s, reason: `the vault's retention would delete it at once (${expired}): not copied` });
      return;
    }
    const encrypted = s.encryption.type === "customer-managed";
    let region: string;
    let where: string;
    if (keys.has(s.region)) {
      region = s.region;
      where = `in ${region}, the share's region`;
    } else if (isRds(s.kind) && encrypted) {
      out.uncopyable.push({
        action: "uncopyable",
        target: s,
        reason:
          `an encrypted ${RESOURCE_TYPES[s.kind].label} snapshot shared from another account can be copied only in its own region ${s.region} ` +
          `(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html), which is not a vault region: add ${s.region} to vault.regions`,
      });
      return;
    } else {
      region = vault.regions[0]!.region;
      where = `in ${region}, across from ${s.region} (${s.kind === "ebs-volume" ? "EBS copies shared snapshots across regions" : "an unencrypted share can be copied across regions"})`;
    }
    const key = keys.get(region)!;
    const unencryptedCluster = s.kind === "aurora-cluster" && !encrypted;
    const order: CopyOrder = { source: s, region, name: vaultCopyName(s), tags: vaultCopyTags(s, owner), ...(unencryptedCluster ? {} : { kmsKeyId: key }) };
    const enc = unencryptedCluster
      ? "left unencrypted: CopyDBClusterSnapshot cannot encrypt an unencrypted cluster snapshot (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html); encrypt the cluster to have encrypted vault copies"
      : `encrypted with the vault's key ${key}`;
    out.copy.push({ action: "copy", target: order, reason: `shared from ${s.account}, no vault copy yet: copy ${where}, ${enc}` });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Lock (vault account)

export interface LockOrder {
  copy: VaultCopy;
  mode: "compliance" | "governance";
  /** LockSnapshot CoolOffPeriod; absent to lock in compliance mode at once, or in governance mode. */
  coolOffHours?: number;
  durationDays: number;
}

export interface VaultLockPlan {
  lock: Decision<"lock", LockOrder>[];
  /** RDS and Aurora copies: no snapshot lock exists for them. */
  unsupported: Decision<"unsupported", VaultCopy>[];
  skip: Decision<"skip", VaultCopy>[];
}

/** Which of the vault's copies to lock (EBS Snapshot Lock), one decision per copy of ours. */
export function planVaultLocks(input: { copies: readonly VaultCopy[]; lock: VaultConfig["lock"]; owner: Owner }): VaultLockPlan {
  const { lock, owner } = input;
  const out: VaultLockPlan = { lock: [], unsupported: [], skip: [] };
  const backupVault = lock.backupVault?.enabled
    ? "this vault's copies are protected by the AWS Backup vault's Vault Lock (vault.lock.backupVault)"
    : "enable vault.lock.backupVault (AWS Backup Vault Lock) to make them immutable";
  for (const c of input.copies) {
    if (!isVaultCopyOfOurs(c, owner)) continue;
    if (isRds(c.kind)) {
      out.unsupported.push({
        action: "unsupported",
        target: c,
        reason: `RDS has no snapshot lock (LockSnapshot is EBS only, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html): ${backupVault}`,
      });
    } else if (c.status === "error" || c.status === "deleting") {
      out.skip.push({ action: "skip", target: c, reason: `${c.status}: nothing to lock` });
    } else if (c.lock) {
      out.skip.push({
        action: "skip",
        target: c,
        reason: c.lock.state === "expired" ? "its lock expired: not locked again (retention decides)" : `already locked (${c.lock.state})`,
      });
    } else {
      const coolOff = lock.ebs.mode === "compliance" && lock.ebs.coolOffHours > 0 ? lock.ebs.coolOffHours : undefined;
      // A pending snapshot can be locked: "the lock duration starts only once the snapshot enters the completed state".
      const order: LockOrder = {
        copy: c,
        mode: lock.ebs.mode,
        durationDays: lock.ebs.durationDays,
        ...(coolOff !== undefined ? { coolOffHours: coolOff } : {}),
      };
      const when = coolOff !== undefined ? `, undoable for ${coolOff} h` : "";
      out.lock.push({ action: "lock", target: order, reason: `not locked: lock in ${lock.ebs.mode} mode for ${lock.ebs.durationDays} days${when}` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Prune (vault account)

export interface VaultPrunePlan {
  account: string;
  kind: ResourceKind;
  resourceId: string;
  region: string;
  /** Newest first. */
  keep: Decision<"keep", VaultCopy>[];
  /** Oldest first. */
  delete: Decision<"delete", VaultCopy>[];
}

export interface VaultPruneInput {
  copies: readonly VaultCopy[];
  retention: VaultRetention;
  owner: Owner;
  now: Date;
  /** The backup schedule's IANA timezone, whose days backup dates are; default UTC. */
  timeZone?: string;
}

/** The vault policy as retention.ts judges one: the vault's tiers under the name "vault". */
function vaultPolicy(retention: VaultRetention): BackupPolicy {
  return { name: "vault", tiers: retention.tiers, keepNewest: retention.keepNewest } as unknown as BackupPolicy;
}

/** Why the vault's GFS would not keep `s` (judged alone, so count tiers keep it), or undefined when it would. */
function expiredInVault(s: Snapshot, r: { policy: VaultRetention; now: Date; timeZone?: string }): string | undefined {
  if (!isDay(s.tags[TAG.backupDate])) return undefined;
  const v = judgeByPolicy([s], vaultPolicy(r.policy), localDay(r.now, r.timeZone)).get(s)!;
  return v.keep.length ? undefined : v.expired;
}

/** Locked now: in a locked state and not past its expiry (an unknown expiry counts as locked). */
export function lockedAt(c: VaultCopy, now: Date): boolean {
  if (!c.lock || c.lock.state === "expired") return false;
  return c.lock.expiresAt === undefined || c.lock.expiresAt.getTime() > now.getTime();
}

/**
 * The vault's retention: per (workload account, resource, vault region), GFS under `retention` with the newest
 * `keepNewest` and the newest copy always kept. Never deletes a copy without our vault-copy tag (it is not counted at
 * all), a locked copy (until its lock expires), one pending or deleting, or one without a backup date; a failed copy
 * (`error`, not the newest) is deleted, so its share is copied again.
 */
export function planVaultPrune(input: VaultPruneInput): VaultPrunePlan[] {
  const { owner, now, retention } = input;
  const today = localDay(now, input.timeZone);
  const policy = vaultPolicy(retention);
  const groups = new Map<string, { plan: VaultPrunePlan; copies: VaultCopy[] }>();
  for (const c of input.copies) {
    if (!isVaultCopyOfOurs(c, owner)) continue;
    const account = c.tags[VAULT_TAG.sourceAccount] ?? "";
    const resourceId = c.tags[TAG.source] ?? "";
    const key = `${account}\u0000${c.kind}\u0000${resourceId}\u0000${c.region}`;
    let g = groups.get(key);
    if (!g) {
      g = { plan: { account, kind: c.kind, resourceId, region: c.region, keep: [], delete: [] }, copies: [] };
      groups.set(key, g);
    }
    g.copies.push(c);
  }
  const cache = new Map();
  const plans: VaultPrunePlan[] = [];
  for (const { plan, copies } of groups.values()) {
    const asSnap = new Map<Snapshot, VaultCopy>(copies.map((c) => [toSnapshot(c), c]));
    const sorted = [...asSnap.keys()].sort(newestFirst);
    const dated = sorted.filter((s) => isDay(s.tags[TAG.backupDate]));
    const verdicts = judgeByPolicy(dated, policy, today, cache);
    sorted.forEach((s, i) => {
      const c = asSnap.get(s)!;
      const keep = (reason: string) => plan.keep.push({ action: "keep", target: c, reason });
      if (i === 0) keep("the newest vault copy of the resource: always kept");
      else if (lockedAt(c, now))
        keep(`locked (${c.lock!.state})${c.lock!.expiresAt ? ` until ${c.lock!.expiresAt.toISOString()}` : ""}: cannot be deleted before`);
      else if (c.status === "error") plan.delete.push({ action: "delete", target: c, reason: "the copy failed (error): removed, its share is copied again" });
      else if (c.status !== "available") keep(`${c.status}: only an available copy is pruned`);
      else if (!isDay(s.tags[TAG.backupDate])) keep(`no ${TAG.backupDate} tag: its age is unknown, kept`);
      else if (i < retention.keepNewest) keep(`among the newest ${retention.keepNewest}`);
      else {
        const v = verdicts.get(s)!;
        if (v.keep.length) keep(v.keep.join("; "));
        else plan.delete.push({ action: "delete", target: c, reason: v.expired });
      }
    });
    plan.delete.reverse();
    plans.push(plan);
  }
  return plans.sort((a, b) =>
    cmp(`${a.account}\u0000${a.resourceId}\u0000${a.kind}\u0000${a.region}`, `${b.account}\u0000${b.resourceId}\u0000${b.kind}\u0000${b.region}`),
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// Watchdog and prune freeze

export interface VaultFreshnessTarget {
  account: string;
  kind: ResourceKind;
  resourceId: string;
  /** When the data of the newest available vault copy was captured (its source snapshot's creation). */
  newestCopyAt?: Date;
  ageHours?: number;
  limitHours: number;
}

export interface VaultFreshnessInput {
  /** Our workload snapshots (any region), per account. */
  workload: readonly WorkloadSnapshot[];
  copies: readonly VaultCopy[];
  policies: readonly Pick<BackupPolicy, "name" | "freshnessHours">[];
  copyLagHours: number;
  owner: Owner;
  now: Date;
  /** For a resource whose policy is unknown (its tag names no configured policy); the policies' default. */
  defaultFreshnessHours?: number;
}

/**
 * The age of the newest vault copy per resource, for the watchdog. Stale past the policy's freshnessHours plus the
 * vault's copyLagHours: a workload backup may be freshnessHours old before the workload watchdog calls it stale, and its
 * vault copy exists at the latest copyLagHours after it was made; a copy older than both together means a backup or its
 * copy to the vault was missed, while the workload side may look fine. Age is that of the data (the source's capture
 * time, which the copy carries), not of the copy. A resource without any vault copy is `pending` while its first
 * backup of ours is younger than the copy lag, stale after.
 */
export function vaultFreshness(input: VaultFreshnessInput): Decision<"fresh" | "stale" | "pending", VaultFreshnessTarget>[] {
  const { owner, now } = input;
  const hours = new Map(input.policies.map((p) => [p.name, p.freshnessHours]));
  const fallback = input.defaultFreshnessHours ?? 25;
  const res = new Map<string, { account: string; kind: ResourceKind; resourceId: string; oldest?: Date; policy?: string; newest?: Date }>();
  // Keyed by the resource as the names encode it: a vault copy knows its resource only from its share's name.
  const entry = (account: string, kind: ResourceKind, resource: string, resourceId: string) => {
    const key = `${account}\u0000${kind}\u0000${resource}`;
    let e = res.get(key);
    if (!e) res.set(key, (e = { account, kind, resourceId }));
    return e;
  };
  const verdicts = classifyByOwner(input.workload, owner);
  input.workload.forEach((s, i) => {
    if (!verdicts[i]!.ours) return;
    const e = entry(s.account, s.kind, resourceOfName(owner, s), s.resourceId);
    e.resourceId = s.resourceId;
    if (!e.oldest || s.createdAt < e.oldest) e.oldest = s.createdAt;
    e.policy ??= s.tags[TAG.policy];
  });
  for (const c of input.copies) {
    if (!isVaultCopyOfOurs(c, owner) || c.status !== "available") continue;
    const e = entry(c.tags[VAULT_TAG.sourceAccount] ?? "", c.kind, c.tags[TAG.source] ?? "", c.tags[TAG.source] ?? "");
    const at = copyCapturedAt(c);
    if (!e.newest || at > e.newest) e.newest = at;
    e.policy ??= c.tags[TAG.policy];
  }
  const out: Decision<"fresh" | "stale" | "pending", VaultFreshnessTarget>[] = [];
  for (const e of [...res.values()].sort((a, b) =>
    cmp(`${a.account}\u0000${a.resourceId}\u0000${a.kind}`, `${b.account}\u0000${b.resourceId}\u0000${b.kind}`),
  )) {
    const freshness = (e.policy !== undefined ? hours.get(e.policy) : undefined) ?? fallback;
    const limitHours = freshness + input.copyLagHours;
    const base = { account: e.account, kind: e.kind, resourceId: e.resourceId, limitHours };
    const limit = `${limitHours} h (freshness ${freshness} h + copy lag ${input.copyLagHours} h)`;
    if (!e.newest) {
      const firstAge = e.oldest ? (now.getTime() - e.oldest.getTime()) / HOUR_MS : Number.POSITIVE_INFINITY;
      if (firstAge < input.copyLagHours)
        out.push({
          action: "pending",
          target: base,
          reason: `no vault copy yet; the first backup is ${firstAge.toFixed(1)} h old, within the copy lag of ${input.copyLagHours} h`,
        });
      else out.push({ action: "stale", target: base, reason: `no vault copy at all (limit ${limit})` });
      continue;
    }
    const ageHours = (now.getTime() - e.newest.getTime()) / HOUR_MS;
    const t = { ...base, newestCopyAt: e.newest, ageHours };
    if (ageHours > limitHours)
      out.push({ action: "stale", target: t, reason: `newest vault copy holds data ${ageHours.toFixed(1)} h old, older than ${limit}` });
    else out.push({ action: "fresh", target: t, reason: `newest vault copy holds data ${ageHours.toFixed(1)} h old, within ${limit}` });
  }
  return out;
}

export interface VaultPruneGuardInput {
  /** The workload account pruned: only vault copies of its snapshots count. */
  account: string;
  /** Our snapshots as the workload prune lists them (every region, DR copies too), with their encryption when known. */
  snapshots: readonly (Snapshot & { encryption?: SnapshotEncryption })[];
  copies: readonly VaultCopy[];
  owner: Owner;
  policies: readonly Pick<BackupPolicy, "name" | "freshnessHours">[];
  copyLagHours: number;
  now: Date;
  /** For a resource whose policy is unknown (retention freezes it anyway); the policies' default. */
  defaultFreshnessHours?: number;
  /** Why the vault's copies could not be read, when they could not: every resource is then frozen, saying so. */
  unreadable?: string;
}

export interface VaultPruneGuard {
  /** Resources none of whose snapshots the workload prune may delete (a failed snapshot excepted: it holds no data). */
  frozen: Decision<"freeze", { kind: ResourceKind; resourceId: string }>[];
  /** Snapshots the vault has no copy of yet, of resources that are not frozen. */
  holds: Decision<"hold", Snapshot>[];
}

/**
 * What the vault changes in the workload prune, per resource of `account`, counted like a DR region (core/retention.ts
 * "Freeze conditions"):
 * - frozen when its newest backup (not a DR copy) is encrypted with the AWS managed key: it can never reach the vault
 *   (awsManagedKeyReason), so nothing is deleted until someone re-encrypts, rather than guessing the vault does not matter;
 * - frozen when its newest available vault copy of ours holds data older than the policy's freshnessHours plus the vault's
 *   copyLagHours (the watchdog's stale, vaultFreshness), or when it has none: the vault missed backups, and the workload
 *   keeps every one until it catches up;
 * - otherwise every snapshot captured after the newest vault copy's data is held: the vault has none of those yet.
 * A failed snapshot (error) holds no data: never held, deleted even while frozen, as retention does. A vault that could
 * not be read (`unreadable`) freezes every resource: not knowing is never a reason to delete.
 */
export function vaultPruneHolds(input: VaultPruneGuardInput): VaultPruneGuard {
  const { account, owner, now } = input;
  const newestCopy = new Map<string, VaultCopy>();
  for (const c of input.copies) {
    if (!isVaultCopyOfOurs(c, owner) || c.status !== "available" || c.tags[VAULT_TAG.sourceAccount] !== account) continue;
    const key = `${c.kind}\u0000${c.tags[TAG.source] ?? ""}`;
    const had = newestCopy.get(key);
    if (!had || copyCapturedAt(c) > copyCapturedAt(had)) newestCopy.set(key, c);
  }
  const hours = new Map(input.policies.map((p) => [p.name, p.freshnessHours]));
  const fallback = input.defaultFreshnessHours ?? 25;
  const groups = new Map<string, { kind: ResourceKind; resourceId: string; resource: string; snapshots: (Snapshot & { encryption?: SnapshotEncryption })[] }>();
  const verdicts = classifyByOwner(input.snapshots, owner);
  input.snapshots.forEach((s, i) => {
    if (!verdicts[i]!.ours || s.status === "error") return;
    const key = `${s.kind}\u0000${s.resourceId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { kind: s.kind, resourceId: s.resourceId, resource: resourceOfName(owner, s), snapshots: [] }));
    g.snapshots.push(s);
  });
  const out: VaultPruneGuard = { frozen: [], holds: [] };
  for (const g of groups.values()) {
    const byCapture = [...g.snapshots].sort((a, b) => capturedAt(b).getTime() - capturedAt(a).getTime() || newestFirst(a, b));
    const freeze = (reason: string) => out.frozen.push({ action: "freeze", target: { kind: g.kind, resourceId: g.resourceId }, reason });
    if (input.unreadable !== undefined) {
      freeze(`the vault's copies could not be read (${input.unreadable}): whether the vault holds them is unknown`);
      continue;
    }
    const newestBackup = byCapture.find((s) => s.tags[TAG.copyOf] === undefined);
    if (newestBackup?.encryption?.type === "aws-managed") {
      freeze(`its newest backup can never reach the vault: ${awsManagedKeyReason(newestBackup, newestBackup.encryption.alias)}`);
      continue;
    }
    const policy = byCapture[0]!.tags[TAG.policy];
    const freshness = (policy !== undefined ? hours.get(policy) : undefined) ?? fallback;
    const limitHours = freshness + input.copyLagHours;
    const limit = `no available vault copy newer than ${limitHours} h (freshness ${freshness} h + copy lag ${input.copyLagHours} h)`;
    const copy = newestCopy.get(`${g.kind}\u0000${g.resource}`);
    if (!copy) {
      freeze(`${limit}: the vault has no copy of the resource`);
      continue;
    }
    const copied = copyCapturedAt(copy);
    const ageHours = (now.getTime() - copied.getTime()) / HOUR_MS;
    if (ageHours > limitHours) {
      freeze(`${limit}: the newest, ${copy.id}, holds data ${ageHours.toFixed(1)} h old`);
      continue;
    }
    for (const s of byCapture) {
      if (capturedAt(s) <= copied) break;
      out.holds.push({
        action: "hold",
        target: s,
        reason: `the vault has no copy of it yet (the newest vault copy holds data of ${copied.toISOString()}): kept until it does`,
      });
    }
  }
  out.frozen.sort((a, b) => cmp(`${a.target.resourceId}\u0000${a.target.kind}`, `${b.target.resourceId}\u0000${b.target.kind}`));
  out.holds.sort((a, b) => cmp(a.target.id, b.target.id) || cmp(a.target.region, b.target.region));
  return out;
}

/**
 * Prune plans under the vault's guard: a frozen resource's plan is frozen (its reason added to any freeze retention
 * found) and keeps every delete but a failed snapshot's, worded as retention words its own freeze; a held snapshot moves
 * from delete to keep with the hold's reason.
 */
export function applyVaultHolds(plans: readonly PrunePlan[], guard: VaultPruneGuard): PrunePlan[] {
  const frozen = new Map(guard.frozen.map((f) => [`${f.target.kind}\u0000${f.target.resourceId}`, f.reason]));
  const held = new Map(guard.holds.map((h) => [`${h.target.kind}\u0000${h.target.region}\u0000${h.target.id}`, h.reason]));
  return plans.map((p) => {
    const freeze = frozen.get(`${p.kind}\u0000${p.resourceId}`);
    const moved: PruneDecision[] = [];
    const del = p.delete.filter((d) => {
      const reason =
        freeze !== undefined && d.target.status !== "error"
          ? `frozen (${freeze}); otherwise ${d.reason}`
          : held.get(`${d.target.kind}\u0000${d.target.region}\u0000${d.target.id}`);
      if (reason === undefined) return true;
      moved.push({ action: "keep", target: d.target, reason });
      return false;
    });
    if (!moved.length && freeze === undefined) return p;
    const keep = [...p.keep, ...moved].sort((a, b) => newestFirst(a.target, b.target));
    return { ...p, keep, delete: del, ...(freeze !== undefined ? { frozen: p.frozen ? `${p.frozen}; ${freeze}` : freeze } : {}) };
  });
}

// ---------------------------------------------------------------------------------------------------------------------

/** A copy the vault made for this app and stage: our vault-copy tag, and nothing else, says so. */
export function isVaultCopyOfOurs(c: Pick<VaultCopy, "tags">, owner: Owner): boolean {
  return c.tags[VAULT_TAG.vaultCopy] === managedByValue(owner);
}

/** The resource part of a workload snapshot's name (what its vault copies carry as their source), else its resource id. */
function resourceOfName(owner: Owner, s: Pick<Snapshot, "tags" | "resourceId">): string {
  return nameParts(owner, s.tags[TAG.name])?.resource ?? s.resourceId;
}

function sourceKey(account: string, kind: ResourceKind, id: string): string {
  return `${account}\u0000${kind}\u0000${RESOURCE_TYPES[kind].ownership.caseInsensitive ? id.toLowerCase() : id}`;
}

/** When a snapshot's data was captured: its captured-at tag (DR copies carry their source's), else its creation. */
function capturedAt(s: Pick<Snapshot, "createdAt" | "tags">): Date {
  const t = s.tags[TAG.capturedAt];
  const d = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isNaN(d) ? s.createdAt : new Date(d);
}

function copyCapturedAt(c: VaultCopy): Date {
  return capturedAt(c);
}

function toSnapshot(c: VaultCopy): Snapshot {
  return {
    kind: c.kind,
    id: c.id,
    region: c.region,
    resourceId: c.tags[TAG.source] ?? "",
    status: c.status,
    createdAt: c.createdAt,
    tags: c.tags,
    automated: false,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// Who and where, from the configuration

/** What of a stage's configuration says whose shares the vault takes, and where it looks for them. */
export interface VaultStageView {
  primaryRegion: string;
  vault?: Pick<VaultConfig, "accountId" | "regions"> & { centralAccountId?: string | undefined };
  fleet?: { accounts: readonly { id: string; regions?: readonly string[] | undefined }[] } | undefined;
}

/**
 * The workload accounts whose shares the vault copies: the account the workload stage runs in
 * (`vault.centralAccountId`) and the fleet's listed member accounts. An account of an Organizations OU is not listed, so
 * the vault does not take its shares until it is (an OU's membership changes without the vault knowing).
 */
export function vaultWorkloadAccounts(cfg: VaultStageView): string[] {
  const ids = [...(cfg.vault?.centralAccountId ? [cfg.vault.centralAccountId] : []), ...(cfg.fleet?.accounts.map((a) => a.id) ?? [])];
  return [...new Set(ids)].filter((id) => id !== cfg.vault?.accountId).sort();
}

/**
 * The regions the vault looks for shares in: its own regions, and the workload's primary region (an EBS share there is
 * copied across to the first vault region; an encrypted RDS share there is explained, not copied).
 */
export function vaultShareRegions(cfg: VaultStageView): string[] {
  return [...new Set([...(cfg.vault?.regions.map((r) => r.region) ?? []), cfg.primaryRegion])].sort();
}
