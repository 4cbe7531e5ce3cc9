import { snapshotCalls, type AdapterCall } from "../../adapters/calls.ts";
import type { FunctionName } from "../../stacks/functions.ts";

/**
 * The adapter functions each Lambda function's run calls (its imports from adapters/, composites
 * included), next to the run code in runbooks/. stacks/iam.ts derives every role from this table and
 * adapters/calls.ts, and the sandbox evaluates every call a function makes against that role, so a run
 * that starts calling an adapter not listed here fails its tests with AccessDenied.
 */
/**
 * Every function that posts pages its criticals (a run that failed, a new incident) through the handler chain
 * (runbooks/lib/handler.ts, core/notify-routing.ts); functions that never post (probe, checker) never page.
 */
const PAGES: AdapterCall = "sns.publishToTopic";
/**
 * Every function whose runs post through the handler chain keeps its failed-run alert state
 * (`state/alerts/runs/<function>.json` in the Reports bucket, runbooks/lib/run-alerts.ts): read on every run, written
 * when an incident starts, reminds or ends. (The watchdog and cost functions declare it for their own state too.)
 */
const RUN_ALERTS: AdapterCall = "alert-state.s3AlertState";
/**
 * The fleet functions act in each member account as their own member role (adapters/assume-role.ts); without a fleet
 * section the scope (stacks/iam-scopes.ts `sts:AssumeRole`) grants nothing.
 */
const MEMBER_ROLE: AdapterCall = "assume-role.memberCredentials";
/**
 * With a vault (config.vault) the watchdog and prune read the backup account's copies as its reader role
 * (adapters/vault-reader.ts, runbooks/vault/coverage.ts): their own role only assumes it; without a vault the scope
 * (stacks/vault-scopes.ts `sts:AssumeRole`) grants nothing.
 */
const VAULT_READER: AdapterCall = "vault-reader.vaultReaderCredentials";

export const FUNCTION_CALLS: Record<FunctionName, readonly AdapterCall[]> = {
  backup: [
    "inventory.listCandidateResources",
    "inventory.listRegionSnapshots",
    // Every kind's create (adapters/snapshots.ts), so a new kind's role follows its adapter.
    ...snapshotCalls("create"),
    "claims.s3Claims",
    "s3.putJson",
    PAGES,
    RUN_ALERTS,
    MEMBER_ROLE,
  ],
  // With a vault (config.vault) it shares our backups with the backup account (runbooks/vault/share.ts); without one the
  // sharing scope (stacks/vault-scopes.ts) grants nothing.
  copy: [
    "inventory.listRegionSnapshots",
    ...snapshotCalls("copy"),
    "claims.s3Claims",
    "vault.shareSnapshot",
    "vault.sharedWithVault",
    "s3.putJson",
    PAGES,
    RUN_ALERTS,
    MEMBER_ROLE,
  ],
  // AMI usage where it deletes (`{ amis: true }`): a snapshot an AMI uses is never deleted. Backup, copy and the watchdog list no AMIs.
  prune: [
    "inventory.listRegionSnapshots",
    "ec2.listAmiSnapshotIds",
    ...snapshotCalls("delete"),
    "prune-ledger.s3PruneLedger",
    "observe-marker.s3ObserveMarker",
    "s3.putJson",
    PAGES,
    RUN_ALERTS,
    MEMBER_ROLE,
    VAULT_READER,
  ],
  // json-document: the deploy-time marker that dates a new stage (runbooks/backup/deps.ts stageDeployedAt).
  watchdog: [
    "inventory.listCandidateResources",
    "inventory.listRegionSnapshots",
    "alert-state.s3AlertState",
    "json-document.jsonDocuments",
    "s3.putJson",
    PAGES,
    MEMBER_ROLE,
    VAULT_READER,
  ],
  warm: ["json-document.jsonDocuments", "s3.putJson", PAGES, RUN_ALERTS],
  cost: ["cost-explorer.fetchCosts", "alert-state.s3AlertState", "s3.putJson", PAGES],
  probe: ["probe-metrics.putProbeResults"],
  // The restore-test runbook (runbooks/restore-test/deps.ts): its throwaways, the source snapshots, its checkpoint and reports.
  "restore-test": [
    "restore.restoreDbInstance",
    "restore.describeDbInstance",
    "restore.describeDbSnapshot",
    "restore.deleteDbInstance",
    "restore.restoreDbCluster",
    "restore.createClusterInstance",
    "restore.describeDbCluster",
    "restore.describeClusterSnapshot",
    "restore.deleteDbCluster",
    "restore.listRestoreTestLeftovers",
    "restore.enableHttpEndpoint",
    "restore.sourceMasterSecret",
    "rds-data.rdsDataSmoke",
    "restore-ebs.createVolumeFromSnapshot",
    "restore-ebs.describeVolume",
    "restore-ebs.findVolumesByName",
    "restore-ebs.describeEbsSnapshot",
    "restore-ebs.deleteVolume",
    "inventory.listCandidateResources",
    "inventory.listRegionSnapshots",
    "json-document.jsonDocuments",
    "checker.invokeChecker",
    PAGES,
  ],
  // The restore-test checker (runbooks/restore-test/checker.ts): the database credentials; pg is not an AWS call.
  "restore-test-checker": ["secrets.getDbCredentials"],
  // The weekly report (runbooks/weekly-report/): lists and reads the saved run reports, writes its HTML; the chain saves its run report.
  "weekly-report": ["report-store.listReportKeys", "report-store.readReportText", "report-store.putHtml", "s3.putJson", PAGES],
  // The fleet fan-out's summary (runbooks/fleet/summary.ts) calls no AWS API of its own: the chain saves its one run
  // report, posts its Slack summary and, when an item failed, keeps its failed-run alert state and pages.
  "fleet-summary": ["s3.putJson", PAGES, RUN_ALERTS],
  // The fleet's target discovery (runbooks/fleet/targets.ts) lists the OU's accounts; it keeps no report and posts nothing.
  "fleet-targets": ["organizations.listAccountsForParent"],
  // The backup account's functions (runbooks/vault/), deployed by the vault stage in that account: the shares and the
  // vault's own copies; copy starts copies and locks EBS ones, prune deletes. The chain saves their reports in the vault
  // stage's own bucket.
  "vault-copy": ["vault.listShares", "vault.listVaultCopies", "vault.copyShare", "vault.lockCopy", "s3.putJson", PAGES, RUN_ALERTS],
  "vault-prune": ["vault.listVaultCopies", "vault.deleteVaultCopy", "s3.putJson", PAGES, RUN_ALERTS],
  failover: [
    "rds-failover.rdsFailover",
    "cloudwatch.cloudwatchMetrics",
    "route53.route53Dns",
    "latch.s3Latch",
    "observe-marker.s3ObserveMarker",
    // The groups' failover incidents (runbooks/failover/alerts.ts), next to each latch in the state bucket.
    "alert-state.s3AlertState",
    "s3.putJson",
    PAGES,
  ],
};
