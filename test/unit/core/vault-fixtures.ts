/** Fixture builders for the vault planner tests (core/vault-plan.ts). */
import { VaultRetentionSchema } from "../../../schemas/config-vault.ts";
import { TAG, managedByValue } from "../../../core/types.ts";
import type { Snapshot } from "../../../core/types.ts";
import { VAULT_TAG } from "../../../core/vault-plan.ts";
import type { SnapshotEncryption, VaultCopy, WorkloadSnapshot } from "../../../core/vault-plan.ts";
import { OWNER, snap } from "./builders.ts";
import type { SnapOpts } from "./builders.ts";

export const WORKLOAD = "111122223333";
export const VAULT = "999988887777";
export const CMK = `arn:aws:kms:eu-west-1:${WORKLOAD}:key/1111aaaa-22bb-33cc-44dd-555555eeeeee`;
export const VAULT_KEY = "alias/vault-backups";
export const RETENTION = VaultRetentionSchema.parse({});

/** A workload snapshot of ours (builders.snap), in WORKLOAD, encrypted with CMK, not shared. */
export function wsnap(o: SnapOpts & { account?: string; encryption?: SnapshotEncryption; sharedWith?: string[] }): WorkloadSnapshot {
  return { ...snap(o), account: o.account ?? WORKLOAD, encryption: o.encryption ?? { type: "customer-managed", keyArn: CMK }, sharedWith: o.sharedWith ?? [] };
}

/** The vault's copy of `source`, made `lagHours` after it, with the tags copy sets (or `tags` instead). */
export function vcopy(
  source: Snapshot & { account?: string },
  o: {
    id?: string;
    region?: string;
    lagHours?: number;
    status?: VaultCopy["status"];
    lock?: VaultCopy["lock"];
    tags?: Record<string, string>;
    ours?: boolean;
  } = {},
): VaultCopy {
  const tags: Record<string, string> = o.tags ?? {
    ...(o.ours === false ? {} : { [VAULT_TAG.vaultCopy]: managedByValue(OWNER) }),
    [VAULT_TAG.sourceAccount]: source.account ?? WORKLOAD,
    [TAG.copyOf]: source.id,
    [TAG.source]: source.resourceId,
    [TAG.sourceRegion]: source.region,
    [TAG.capturedAt]: source.createdAt.toISOString(),
    [TAG.backupDate]: source.tags[TAG.backupDate]!,
    [TAG.policy]: source.tags[TAG.policy] ?? "default",
  };
  return {
    kind: source.kind,
    id: o.id ?? `${source.id}-vault`,
    region: o.region ?? source.region,
    sourceId: source.id,
    createdAt: new Date(source.createdAt.getTime() + (o.lagHours ?? 2) * 3_600_000),
    status: o.status ?? "available",
    tags,
    ...(o.lock ? { lock: o.lock } : {}),
  };
}
