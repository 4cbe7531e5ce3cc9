import {
  planVaultCopies,
  planVaultLocks,
  isVaultCopyOfOurs,
  vaultShareRegions,
  vaultWorkloadAccounts,
  type CopyOrder,
  type VaultCopy,
} from "../../core/vault-plan.ts";
import type { ItemFailure } from "../../core/types.ts";
import { copyShare, listShares, listVaultCopies, lockCopy } from "../../adapters/vault.ts";
import type { TargetCredentials } from "../../adapters/assume-role.ts";
import type { VaultEvent } from "../../schemas/events-vault.ts";
import type { Config } from "../../schemas/config.ts";
import { executeAll } from "../lib/execute.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";
import { backupTimeZone, countBy, failuresOf, logDecisions, owner } from "../backup/common.ts";

/**
 * The vault's copy run, in the backup account (functions/vault-copy.ts): what the workload accounts shared with the
 * vault and the vault's own copies → which shares to copy, where and with which key (core/vault-plan.ts) → one copy
 * each with the vault region's key, an EBS copy locked at once (a pending snapshot can be locked; the lock's duration
 * starts once it completes, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html); EBS copies
 * of earlier runs not locked yet are locked too.
 *
 * A share is ours by its workload account and its name (the vault sees none of the owner's tags). A copy that fails on
 * the share's key names the key and what its key policy must allow.
 */

export interface VaultRunDeps {
  /** The vault account's credentials for these calls; absent: the function's own (it runs in the vault account). */
  creds?: TargetCredentials;
}

export function requireVault(config: Config, fn: string): NonNullable<Config["vault"]> {
  if (!config.vault)
    throw new Error(`${fn}: the ${config.stage} configuration has no vault section (schemas/config-vault.ts): nothing to do in a backup account`);
  return config.vault;
}

/**
 * What a copy needs of the share's key: its key policy must give the vault account the calls (EBS checks Decrypt too,
 * RDS DescribeKey and CreateGrant), and the configuration must name it, since the vault-copy role may use only the
 * workload's source keys (stacks/vault-scopes.ts).
 */
export function keyFix(keyArn: string | undefined, vaultAccountId: string): string {
  const key = keyArn ?? "the share's KMS key";
  return (
    `the key policy of ${key} must allow arn:aws:iam::${vaultAccountId}:root kms:DescribeKey, kms:CreateGrant and kms:Decrypt ` +
    "(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html), " +
    "and backup.sourceKmsKeyIds must name it (by key ARN, or by an alias it has in its account): the vault-copy role may use no other key of a workload account"
  );
}

const label = (o: CopyOrder) => ({ item: `${o.source.id} → ${o.region}`, region: o.region });

export async function runVaultCopy(event: VaultEvent, ctx: RunContext, deps: VaultRunDeps = {}): Promise<RunOutcome> {
  const { config } = ctx;
  const vault = requireVault(config, "vault-copy");
  const me = owner(config);
  const accounts = vaultWorkloadAccounts(config);
  const creds = deps.creds;
  const [shareLists, copyLists] = await Promise.all([
    Promise.all(vaultShareRegions(config).map((r) => listShares(r, accounts, creds))),
    Promise.all(vault.regions.map((r) => listVaultCopies(r.region, creds))),
  ]);
  const shares = shareLists.flat();
  const copies = copyLists.flat();
  const plan = planVaultCopies({
    shared: shares,
    copies,
    vault,
    workloadAccounts: accounts,
    owner: me,
    retention: { policy: vault.retention, now: ctx.now(), timeZone: backupTimeZone(config) },
  });
  const locks = planVaultLocks({ copies, lock: vault.lock, owner: me });
  logDecisions(ctx, plan.copy, (i) => `${plan.copy[i]!.target.source.id} → ${plan.copy[i]!.target.region}`);
  for (const d of [...plan.uncopyable, ...plan.skip]) ctx.logger.info("decision", { action: d.action, target: d.target.id, reason: d.reason });

  const keyOf = new Map(shares.map((s) => [s.id, s.encryption.type === "customer-managed" ? s.encryption.keyArn : undefined]));
  // Copies of ours that failed: each a failure naming the share's key and the fix (their share is copied again).
  const earlier: ItemFailure[] = copies
    .filter((c) => c.status === "error" && isVaultCopyOfOurs(c, me))
    .map((c) => failedCopy(c, keyOf.get(c.sourceId), vault.accountId));
  const noAccounts: ItemFailure[] = accounts.length
    ? []
    : [
        {
          item: "vault.centralAccountId",
          kind: "fatal",
          message: "no workload account to take shares from: set vault.centralAccountId (and list the fleet's accounts) in the configuration",
        },
      ];

  // Locks applied as the copies are made (copyAndLock), counted with the lock plan's for the summary and the report.
  let locksAtCopy = 0;
  const results = event.dryRun
    ? []
    : await executeAll(plan.copy, (d) => copyAndLock(d.target, vault.lock, me, creds, () => locksAtCopy++), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => label(d.target),
        explain: (d, cls) =>
          cls === "kms" || cls === "fatal"
            ? keyFix(d.target.source.encryption.type === "customer-managed" ? d.target.source.encryption.keyArn : undefined, vault.accountId)
            : undefined,
        facts: ["exists"],
      });
  const lockResults = event.dryRun
    ? []
    : await executeAll(locks.lock, async (d) => `locked ${(await lockCopy(d.target, creds)) ?? ""}`.trim(), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: `lock ${d.target.copy.id}`, region: d.target.copy.region }),
        facts: [],
      });
  const failures = [...noAccounts, ...earlier, ...failuresOf(results), ...failuresOf(lockResults)];
  const copied = results.filter((r) => r.status === "done").length;
  const locksOfEarlierCopies = lockResults.filter((r) => r.status === "done").length;
  const locked = locksAtCopy + locksOfEarlierCopies;
  const report = {
    trigger: event.trigger,
    note: event.note,
    dryRun: event.dryRun,
    vaultAccountId: vault.accountId,
    workloadAccounts: accounts,
    counts: {
      ...countBy([...plan.copy, ...plan.uncopyable, ...plan.skip], (d) => d.action),
      foreign: plan.foreign,
      locks: locked,
      locksAtCopy,
      locksOfEarlierCopies,
      unsupportedLocks: locks.unsupported.length,
    },
    decisions: [
      ...plan.copy.map((d) => ({ action: d.action, source: d.target.source.id, region: d.target.region, name: d.target.name, reason: d.reason })),
      ...[...plan.uncopyable, ...plan.skip].map((d) => ({ action: d.action, source: d.target.id, region: d.target.region, reason: d.reason })),
    ],
    locks: locks.lock.map((d) => ({ copy: d.target.copy.id, region: d.target.copy.region, reason: d.reason })),
    results: results.map((r) => ({ source: r.item.target.source.id, region: r.item.target.region, status: r.status, detail: r.detail })),
    lockResults: lockResults.map((r) => ({ copy: r.item.target.copy.id, status: r.status, detail: r.detail })),
    failures,
  };
  const text =
    `Vault ${vault.accountId}${event.dryRun ? " (dry-run)" : ""}: ${copied} cop${copied === 1 ? "y" : "ies"} started, ${plan.skip.length} skipped, ` +
    `${plan.uncopyable.length} not copyable, ${locked} EBS cop${locked === 1 ? "y" : "ies"} locked (${locksAtCopy} as they were made, ${locksOfEarlierCopies} from earlier runs)` +
    (failures.length ? `, ${failures.length} failure(s): ${failures.map((f) => `${f.item}: ${f.message}`).join("; ")}` : "");
  return { report, message: { text }, failures, changed: copied > 0 || locked > 0 };
}

/**
 * Start one copy; an EBS copy is locked at once (planVaultLocks decides the lock, as for earlier copies), and
 * `onLocked` told so: the run's lock plan sees only copies listed before the run, so these locks are counted here.
 */
async function copyAndLock(
  order: CopyOrder,
  lock: NonNullable<Config["vault"]>["lock"],
  me: ReturnType<typeof owner>,
  creds: TargetCredentials | undefined,
  onLocked: () => void,
): Promise<string> {
  const id = await copyShare(order, creds);
  if (order.source.kind !== "ebs-volume") return `copy ${id} started`;
  const fresh: VaultCopy = {
    kind: order.source.kind,
    id,
    region: order.region,
    sourceId: order.source.id,
    createdAt: new Date(0),
    status: "pending",
    tags: order.tags,
  };
  const [todo] = planVaultLocks({ copies: [fresh], lock, owner: me }).lock;
  if (!todo) return `copy ${id} started`;
  const state = await lockCopy(todo.target, creds);
  onLocked();
  return `copy ${id} started, locked ${state ?? todo.target.mode}`;
}

function failedCopy(c: VaultCopy, keyArn: string | undefined, vaultAccountId: string): ItemFailure {
  const why = c.statusMessage ?? "status error";
  return {
    item: `${c.sourceId} → ${c.region}`,
    region: c.region,
    kind: /kms|key/i.test(why) ? "kms" : "fatal",
    message: `vault copy ${c.id} failed: ${why} (${keyFix(keyArn, vaultAccountId)}); the vault's prune removes it and the next run copies the share again`,
  };
}
