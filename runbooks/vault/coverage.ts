import { vaultFreshness, vaultPruneHolds, type VaultCopy, type VaultPruneGuard } from "../../core/vault-plan.ts";
import type { ItemFailure, Snapshot } from "../../core/types.ts";
import { describeError } from "../../adapters/errors.ts";
import type { RunContext } from "../lib/handler.ts";
import { owner } from "../backup/common.ts";
import { encryptionOf } from "./share.ts";

/**
 * What the workload's watchdog and prune read of the backup account (`config.vault`), through its read-only reader
 * role (adapters/vault-reader.ts): the watchdog reports the age of each resource's newest vault copy
 * (core/vault-plan.ts vaultFreshness), prune counts the vault as it counts a DR region (vaultPruneHolds): a resource whose
 * vault copy is stale or missing, or whose backups can never reach the vault (AWS managed key), is frozen, and every
 * snapshot newer than its newest vault copy is kept. A vault that cannot be read is a failure of the run, never a reason
 * to delete: prune then freezes every resource, saying why.
 */

/**
 * The reader role of the vault stage, `<app>-<stage>-vault-reader` in the vault account (stacks/vault-definition.ts
 * vaultReaderRoleName names it the same way).
 */
export function vaultReaderRoleArn(config: RunContext["config"], partition = "aws"): string {
  return `arn:${partition}:iam::${config.vault!.accountId}:role/${config.app}-${config.stage}-vault-reader`;
}

/** The vault's copies in every vault region, read as the reader role. */
export type VaultCopiesPort = () => Promise<VaultCopy[]>;

async function read(port: VaultCopiesPort): Promise<{ copies: VaultCopy[]; failure?: ItemFailure; error?: string }> {
  try {
    return { copies: await port() };
  } catch (err) {
    const error = describeError(err);
    return { copies: [], error, failure: { item: "vault", kind: "retryable", message: `the vault's copies could not be read: ${error}` } };
  }
}

/** The vault's coverage per resource for the watchdog's report; a stale one is a failure naming the resource. */
export async function vaultCoverage(
  ctx: RunContext,
  port: VaultCopiesPort,
  workload: readonly Snapshot[],
  account: string,
): Promise<{ report: Record<string, unknown>[]; failures: ItemFailure[] }> {
  const { config } = ctx;
  const got = await read(port);
  const decisions = vaultFreshness({
    workload: workload.map((s) => ({ ...s, account, encryption: { type: "unencrypted" as const }, sharedWith: [] })),
    copies: got.copies,
    policies: config.backup.policies,
    copyLagHours: config.vault!.copyLagHours,
    owner: owner(config),
    now: ctx.now(),
  });
  const failures: ItemFailure[] = got.failure ? [got.failure] : [];
  for (const d of decisions) {
    if (d.action === "stale")
      failures.push({ item: `vault copy of ${d.target.kind} ${d.target.resourceId} (${d.target.account})`, kind: "fatal", message: d.reason });
  }
  const report = decisions.map((d) => ({
    status: d.action,
    account: d.target.account,
    kind: d.target.kind,
    resourceId: d.target.resourceId,
    ...(d.target.ageHours !== undefined ? { ageHours: Math.round(d.target.ageHours * 10) / 10 } : {}),
    limitHours: d.target.limitHours,
    reason: d.reason,
  }));
  return { report, failures };
}

/** The freezes and holds prune applies for the vault, and a failure when the vault could not be read (then every resource is frozen). */
export async function vaultHolds(
  ctx: RunContext,
  port: VaultCopiesPort,
  snapshots: readonly Snapshot[],
  account: string,
): Promise<{ guard: VaultPruneGuard; failures: ItemFailure[] }> {
  const { config } = ctx;
  const got = await read(port);
  const guard = vaultPruneHolds({
    account,
    snapshots: snapshots.map((s) => ({ ...s, encryption: encryptionOf(s) })),
    copies: got.copies,
    owner: owner(config),
    policies: config.backup.policies,
    copyLagHours: config.vault!.copyLagHours,
    now: ctx.now(),
    ...(got.error !== undefined ? { unreadable: got.error } : {}),
  });
  return { guard, failures: got.failure ? [got.failure] : [] };
}
