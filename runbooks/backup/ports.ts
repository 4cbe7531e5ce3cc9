/**
 * The backup runbooks' ports: everything backup, copy, prune and the watchdog touch in the world. The real
 * adapters are wired in runbooks/backup/deps.ts; tests and the drill pass the same adapters over the sandbox,
 * with their own state bucket.
 */
import type { BackupPolicy } from "../../schemas/config.ts";
import type { Resource, ResourceKind, Snapshot } from "../../core/types.ts";
import type { ListSnapshotsOptions, SnapshotAdapter } from "../../adapters/snapshots.ts";
import type { ClaimPort } from "../../adapters/claims.ts";
import type { PruneLedgerPort } from "../../adapters/prune-ledger.ts";
import type { ObserveMarkerPort } from "../../adapters/observe-marker.ts";
import type { AlertStatePort } from "../../adapters/alert-state.ts";
import type { StaleGroupDetail } from "../../core/stale-alerts.ts";
import type { VaultSharePort } from "../vault/share.ts";
import type { VaultCopiesPort } from "../vault/coverage.ts";

/** What is there: the candidate resources of the primary region and our snapshots of a region. */
export interface InventoryPort {
  listCandidateResources(region: string, policies: BackupPolicy[]): Promise<Resource[]>;
  /** `{ amis: true }` only where prune deletes: AMI usage costs a DescribeImages listing per region. */
  listRegionSnapshots(region: string, managedBy: string, kinds: readonly ResourceKind[], options: ListSnapshotsOptions): Promise<Snapshot[]>;
}

export interface BackupDeps {
  inventory: InventoryPort;
  /** Sharing with the backup account (`config.vault`), in the account the job acts in; absent: the copy job shares nothing. */
  vault?: VaultSharePort;
  /**
   * The backup account's copies, read as its reader role (runbooks/vault/coverage.ts): the watchdog reports their age, prune
   * keeps what the vault has no copy of yet. Absent without a vault section.
   */
  vaultCopies?: VaultCopiesPort;
  /** One snapshot adapter per kind (list, create, copy, delete), so no runbook branches on kind. */
  snapshots: Record<ResourceKind, SnapshotAdapter>;
  /**
   * The name claims (`claims/<function>/<region>/<name>.json` in the state bucket). Opened only when a kind whose
   * names AWS does not enforce is created or copied, so a run with nothing to claim never reads the bucket link.
   */
  claims: () => ClaimPort;
  /** Prune's day ledger (`state/prune/<day>.json` in the state bucket), opened only when a plan has deletes. */
  pruneLedger: () => PruneLedgerPort;
  /**
   * Prune's observe-start marker (`state/observe.json` in the state bucket), opened only when observe counts days.
   * Without it no start is read or recorded: a window of days then counts from this run, as on a new stage.
   */
  observeMarker?: () => ObserveMarkerPort;
  /**
   * The watchdog's alert state (`state/alerts/watchdog.json` in the state bucket): its open stale-backup incidents,
   * written with If-None-Match / If-Match. Without it (the read-only plan) every stale group reads as a new incident
   * and nothing is stored.
   */
  alertState?: () => AlertStatePort<StaleGroupDetail>;
  /**
   * When the stage was first deployed: the deploy-time marker (stacks/observe-start.ts, `state/observe.json` in the
   * state bucket) when the deploy wrote it, undefined otherwise (missing, or recorded by a run after someone deleted
   * it). The watchdog reads it only when a resource has no backup at all, to tell a new stage's first night
   * (pending) from a backup that never came (missing). Without it every resource without a backup is missing.
   */
  stageDeployedAt?: () => Promise<Date | undefined>;
}
