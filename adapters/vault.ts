import type { TargetCredentials } from "./assume-role.ts";
import { copyEbsShare, deleteEbsVaultCopy, ebsSharedWith, listEbsShares, listEbsVaultCopies, lockEbsCopy, shareEbsSnapshot } from "./vault-ec2.ts";
import { copyRdsShare, deleteRdsVaultCopy, listRdsShares, listRdsVaultCopies, rdsSharedWith, shareRdsSnapshot } from "./vault-rds.ts";
import type { Snapshot } from "../core/types.ts";
import type { CopyOrder, LockOrder, VaultCopy, WorkloadSnapshot } from "../core/vault-plan.ts";

/**
 * The backup account ("vault"), both sides, over every kind (adapters/vault-rds.ts, adapters/vault-ec2.ts send;
 * core/vault-plan.ts decides):
 * - workload side: share one of our snapshots with the vault account, and read whom ours are shared with;
 * - vault side: list what the workload accounts shared with the vault, copy a share with the vault's key, list the vault's
 *   own copies (EBS ones with their locks), lock an EBS copy, delete a copy.
 *
 * Every call takes an optional `creds`: without it, the function's own account (the vault functions run in the vault
 * account; the copy job shares in the workload account); with it, that role's account (a fleet member's role, or the
 * vault's reader role the central watchdog and prune read the vault with).
 */

export async function shareSnapshot(s: Pick<Snapshot, "kind" | "id" | "region">, vaultAccountId: string, creds?: TargetCredentials): Promise<void> {
  if (s.kind === "ebs-volume") await shareEbsSnapshot(s, vaultAccountId, creds);
  else await shareRdsSnapshot(s, vaultAccountId, creds);
}

/**
 * Whether each of our snapshots (of one region) is already shared with `vaultAccountId`: EBS from one listing, RDS and
 * Aurora one attribute call each (RDS lists no sharing), so the caller passes only the snapshots it would share.
 */
export async function sharedWithVault(
  region: string,
  snapshots: readonly Pick<Snapshot, "kind" | "id" | "region">[],
  vaultAccountId: string,
  creds?: TargetCredentials,
): Promise<Set<string>> {
  const out = new Set<string>();
  if (snapshots.some((s) => s.kind === "ebs-volume")) for (const id of await ebsSharedWith(region, vaultAccountId, creds)) out.add(id);
  for (const s of snapshots) if (s.kind !== "ebs-volume" && (await rdsSharedWith(s, creds)).includes(vaultAccountId)) out.add(s.id);
  return out;
}

/** Everything the workload accounts shared with the vault in a region (no owner tags; RDS shares by ARN). */
export async function listShares(region: string, workloadAccounts: readonly string[], creds?: TargetCredentials): Promise<WorkloadSnapshot[]> {
  const [rdsShares, ebsShares] = await Promise.all([listRdsShares(region, creds), listEbsShares(region, workloadAccounts, creds)]);
  return [...rdsShares, ...ebsShares];
}

/** The vault's own snapshots in a region, ours or not (core/vault-plan.ts isVaultCopyOfOurs decides). */
export async function listVaultCopies(region: string, creds?: TargetCredentials): Promise<VaultCopy[]> {
  const [rdsCopies, ebsCopies] = await Promise.all([listRdsVaultCopies(region, creds), listEbsVaultCopies(region, creds)]);
  return [...rdsCopies, ...ebsCopies];
}

/** Start one copy of a share in the vault; answers the copy's id. */
export async function copyShare(order: CopyOrder, creds?: TargetCredentials): Promise<string> {
  return order.source.kind === "ebs-volume" ? copyEbsShare(order, creds) : copyRdsShare(order, creds);
}

/** Lock one EBS copy (the only kind AWS can lock). */
export async function lockCopy(order: LockOrder, creds?: TargetCredentials): Promise<string | undefined> {
  return lockEbsCopy(order, creds);
}

export async function deleteVaultCopy(c: Pick<VaultCopy, "kind" | "id" | "region">, creds?: TargetCredentials): Promise<void> {
  if (c.kind === "ebs-volume") await deleteEbsVaultCopy(c, creds);
  else await deleteRdsVaultCopy(c, creds);
}
