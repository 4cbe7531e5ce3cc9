import { awsManagedKeyReason, planVaultShares, type WorkloadSnapshot } from "../../core/vault-plan.ts";
import { describeError } from "../../adapters/errors.ts";
import { TAG, type ItemFailure, type Snapshot } from "../../core/types.ts";
import { AWS_MANAGED_ALIASES } from "../../schemas/config-vault.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import { executeAll } from "../lib/execute.ts";
import type { RunContext } from "../lib/handler.ts";
import { failuresOf, owner } from "../backup/common.ts";

/**
 * The workload side of the backup account (`config.vault`), run by the copy job after its DR copies
 * (runbooks/backup/copy.ts): our available snapshots of the primary region shared with the vault account, which copies
 * them there (runbooks/vault/copy.ts). Only our backups (core/ownership.ts; never a DR copy, whose backup is shared
 * already, never anything of someone else's), only those of the last {@link SHARE_WINDOW_HOURS} (what is older was
 * shared by an earlier run; sharing is idempotent), never one encrypted with the AWS managed key, which AWS does not let
 * leave the account: that one is explained (core/vault-plan.ts awsManagedKeyReason) and fails the run, so someone acts.
 */

/**
 * How far back each run looks for snapshots to share: two days, so a copy job that did not run for a day still shares
 * the night before; an older backup the share missed shows as a stale vault copy in the watchdog.
 */
export const SHARE_WINDOW_HOURS = 48;

/** The vault's sharing port (adapters/vault.ts), bound to the account the copy job acts in. */
export interface VaultSharePort {
  shareSnapshot(s: Pick<Snapshot, "kind" | "id" | "region">, vaultAccountId: string): Promise<void>;
  sharedWithVault(region: string, snapshots: readonly Pick<Snapshot, "kind" | "id" | "region">[], vaultAccountId: string): Promise<Set<string>>;
}

/**
 * How EC2 and RDS refuse to share a snapshot encrypted with the AWS managed key: EC2 `OperationNotPermitted` "Encrypted
 * snapshots with EBS default key cannot be shared" (as observed, https://github.com/hashicorp/packer/issues/7499), RDS
 * naming the default KMS key.
 */
const AWS_MANAGED_REFUSAL = /default (KMS )?key|EBS default key/i;

export interface ShareOutcome {
  report: Record<string, unknown>;
  failures: ItemFailure[];
  shared: number;
}

/** How a listed snapshot is encrypted: no key, the AWS managed key of its service, or a customer managed key. */
export function encryptionOf(s: Pick<Snapshot, "kind" | "kmsKeyId">, awsManagedKeyArns: ReadonlySet<string> = new Set()): WorkloadSnapshot["encryption"] {
  const key = s.kmsKeyId;
  if (!key) return { type: "unencrypted" };
  const alias = s.kind === "ebs-volume" ? "aws/ebs" : "aws/rds";
  // The listing names the key by ARN; the AWS managed keys are known by the aliases AWS gives them (the caller resolves
  // them) and, in the sandbox, by their fixed names.
  if (awsManagedKeyArns.has(key) || /:key\/aws-(ebs|rds)-default$/.test(key) || AWS_MANAGED_ALIASES.some((a) => key.endsWith(a)))
    return { type: "aws-managed", alias };
  return { type: "customer-managed", keyArn: key };
}

export async function shareWithVault(
  event: Pick<JobEvent, "dryRun">,
  ctx: RunContext,
  port: VaultSharePort,
  sources: readonly Snapshot[],
  account: string,
): Promise<ShareOutcome> {
  const vault = ctx.config.vault!;
  const since = ctx.now().getTime() - SHARE_WINDOW_HOURS * 3_600_000;
  const recent = sources.filter((s) => !s.tags[TAG.copyOf] && s.createdAt.getTime() >= since);
  const candidates = recent.filter((s) => s.status === "available" && encryptionOf(s).type !== "aws-managed");
  const byRegion = new Map<string, Snapshot[]>();
  for (const s of candidates) byRegion.set(s.region, [...(byRegion.get(s.region) ?? []), s]);
  const already = new Set<string>();
  for (const [region, list] of byRegion) for (const id of await port.sharedWithVault(region, list, vault.accountId)) already.add(id);
  const snapshots: WorkloadSnapshot[] = recent.map((s) => ({
    ...s,
    account,
    encryption: encryptionOf(s),
    sharedWith: already.has(s.id) ? [vault.accountId] : [],
  }));
  const plan = planVaultShares({ snapshots, owner: owner(ctx.config), vaultAccountId: vault.accountId });
  for (const d of [...plan.share, ...plan.unshareable, ...plan.skip]) ctx.logger.info("decision", { action: d.action, target: d.target.id, reason: d.reason });
  const results = event.dryRun
    ? []
    : await executeAll(
        plan.share,
        async (d) => {
          try {
            await port.shareSnapshot(d.target, vault.accountId);
          } catch (err) {
            // A listing names an AWS managed key by its ARN only; AWS's refusal to share is what tells it apart.
            if (!AWS_MANAGED_REFUSAL.test(describeError(err))) throw err;
            const alias = d.target.kind === "ebs-volume" ? "aws/ebs" : "aws/rds";
            throw Object.assign(new Error(`${describeError(err)}: ${awsManagedKeyReason(d.target, alias)}`), { name: "AwsManagedKey" });
          }
          return `shared with ${vault.accountId}`;
        },
        {
          concurrency: ctx.config.backup.concurrency,
          nearDeadline: ctx.nearDeadline,
          label: (d) => ({ item: `share ${d.target.id}`, region: d.target.region }),
          facts: [],
        },
      );
  const failures: ItemFailure[] = [
    ...plan.unshareable.map((d) => ({ item: `share ${d.target.id}`, region: d.target.region, kind: "kms" as const, message: d.reason })),
    ...failuresOf(results),
  ];
  const report = {
    vaultAccountId: vault.accountId,
    decisions: [...plan.share, ...plan.unshareable, ...plan.skip].map((d) => ({
      action: d.action,
      snapshot: d.target.id,
      region: d.target.region,
      reason: d.reason,
    })),
    results: results.map((r) => ({ snapshot: r.item.target.id, status: r.status, detail: r.detail })),
    foreign: plan.foreign,
  };
  return { report, failures, shared: results.filter((r) => r.status === "done").length };
}
