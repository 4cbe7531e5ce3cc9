import { vaultFreshness, vaultPruneHolds, type VaultCopy } from "../../core/vault-plan.ts";
import type { Decision, ItemFailure, Snapshot } from "../../core/types.ts";
import { describeError } from "../../adapters/errors.ts";
import type { RunContext } from "../lib/handler.ts";
import { owner } from "../backup/common.ts";

/**
 * What the workload's watchdog and prune read of the backup account (`config.vault`), through its read-only reader
 * role (adapters/vault-reader.ts): the watchdog reports the age of each resource's newest vault copy
 * (core/vault-plan.ts vaultFreshness), prune keeps the newest snapshot of a resource the vault has no copy of yet
 * (vaultPruneHolds). A vault that cannot be read is a failure of the run, never a reason to delete: prune then holds as
 * if the vault had nothing.
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

async function read(port: VaultCopiesPort): Promise<{ copies: VaultCopy[]; failure?: ItemFailure }> {
  try {
    return { copies: await port() };
  } catch (err) {
    return { copies: [], failure: { item: "vault", kind: "retryable", message: `the vault's copies could not be read: ${describeError(err)}` } };
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

/** The holds prune applies for the vault, and a failure when the vault could not be read (then everything newest is held). */
export async function vaultHolds(
  ctx: RunContext,
  port: VaultCopiesPort,
  snapshots: readonly Snapshot[],
  account: string,
): Promise<{ holds: Decision<"hold", Snapshot>[]; failures: ItemFailure[] }> {
  const got = await read(port);
  const holds = vaultPruneHolds({ account, snapshots, copies: got.copies, owner: owner(ctx.config) });
  return { holds, failures: got.failure ? [got.failure] : [] };
}
