import { planVaultPrune } from "../../core/vault-plan.ts";
import { deleteVaultCopy, listVaultCopies } from "../../adapters/vault.ts";
import type { VaultEvent } from "../../schemas/events-vault.ts";
import { executeAll } from "../lib/execute.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { backupTimeZone, failuresOf, owner } from "../backup/common.ts";
import { requireVault, type VaultRunDeps } from "./copy.ts";

/**
 * The vault's own retention, in the backup account (functions/vault-prune.ts): the vault's copies → per workload
 * account, resource and vault region, the vault's GFS (core/vault-plan.ts planVaultPrune) → one delete each. Never a
 * copy without our vault-copy tag, never a locked one (EC2 would refuse it anyway, SnapshotLocked), never the newest of
 * a resource. Its role can delete only copies named and tagged as the vault's (stacks/vault-scopes.ts).
 */
export async function runVaultPrune(event: VaultEvent, ctx: RunContext, deps: VaultRunDeps = {}): Promise<RunOutcome> {
  const { config } = ctx;
  const vault = requireVault(config, "vault-prune");
  const copies = (await Promise.all(vault.regions.map((r) => listVaultCopies(r.region, deps.creds)))).flat();
  const plans = planVaultPrune({ copies, retention: vault.retention, owner: owner(config), now: ctx.now(), timeZone: backupTimeZone(config) });
  const deletes = plans.flatMap((p) => p.delete);
  for (const p of plans) {
    for (const d of [...p.keep, ...p.delete])
      ctx.logger.info("decision", { action: d.action, target: `${d.target.id} (${p.account} ${p.resourceId})`, reason: d.reason });
  }
  const results = event.dryRun
    ? []
    : await executeAll(
        deletes,
        async (d) => {
          await deleteVaultCopy(d.target, deps.creds);
          return `deleted ${d.target.id}`;
        },
        {
          concurrency: config.backup.concurrency,
          nearDeadline: ctx.nearDeadline,
          label: (d) => ({ item: d.target.id, region: d.target.region }),
          facts: ["not-found"],
        },
      );
  const failures = failuresOf(results);
  const deleted = results.filter((r) => r.status === "done").length;
  const report = {
    trigger: event.trigger,
    note: event.note,
    dryRun: event.dryRun,
    vaultAccountId: vault.accountId,
    counts: { keep: plans.reduce((n, p) => n + p.keep.length, 0), delete: deletes.length, deleted },
    plans: plans.map((p) => ({
      account: p.account,
      kind: p.kind,
      resourceId: p.resourceId,
      region: p.region,
      keep: p.keep.map((d) => ({ id: d.target.id, reason: d.reason })),
      delete: p.delete.map((d) => ({ id: d.target.id, reason: d.reason })),
    })),
    results: results.map((r) => ({ id: r.item.target.id, status: r.status, detail: r.detail })),
    failures,
  };
  const text =
    `Vault ${vault.accountId} prune${event.dryRun ? " (dry-run)" : ""}: ${event.dryRun ? deletes.length : deleted} cop${(event.dryRun ? deletes.length : deleted) === 1 ? "y" : "ies"} ` +
    `${event.dryRun ? "would be " : ""}deleted, ${report.counts.keep} kept` +
    (failures.length ? `, ${failures.length} failure(s): ${failures.map((f) => `${f.item}: ${f.message}`).join("; ")}` : "");
  return { report, message: { text }, failures, changed: deleted > 0 };
}
