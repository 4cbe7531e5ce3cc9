import { inventoryOf, listCandidateResources, listRegionSnapshots } from "../../adapters/inventory.ts";
import { SNAPSHOT_ADAPTERS, snapshotAdapters } from "../../adapters/snapshots.ts";
import { s3Claims } from "../../adapters/claims.ts";
import { s3PruneLedger } from "../../adapters/prune-ledger.ts";
import { PRUNE_OBSERVE_KEY, pruneObserveKey, s3ObserveMarker } from "../../adapters/observe-marker.ts";
import { alertStateKey, memberAlertStateKey, s3AlertState } from "../../adapters/alert-state.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import { memberCredentials, type AssumeRoleDeps, type TargetCredentials } from "../../adapters/assume-role.ts";
import { listVaultCopies, shareSnapshot, sharedWithVault } from "../../adapters/vault.ts";
import { vaultReaderCredentials } from "../../adapters/vault-reader.ts";
import { vaultReaderRoleArn } from "../vault/coverage.ts";
import type { ObserveMarker } from "../../core/observe.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../../schemas/config-fleet.ts";
import type { FleetTargetEvent } from "../../schemas/events-fleet.ts";
import { linkedBucket } from "../lib/resources.ts";
import type { RunContext } from "../lib/handler.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * Real dependencies of the backup runbooks (used by functions/{backup,copy,prune,watchdog}.ts).
 *
 * The state bucket (prune's day ledger and observe-start marker, the EBS name claims, the watchdog's alert state) is the linked Reports bucket unless `stateBucket`
 * names another (tests and the drill); it is read only when a port that needs it is opened.
 *
 * With a fleet `target` (the fan-out's item), every RDS and EC2 call goes to the member account as the function's
 * member role there (adapters/assume-role.ts memberCredentials: the account's external id from the configuration,
 * assumed with the function's own STS client on the first call), and the state documents a run writes get the account
 * in their keys: claims `claims/<function>/<account>/<region>/<name>.json`, prune's ledger
 * `state/prune/<account>/<day>.json` and marker `state/observe/<account>.json`, the watchdog's alert state
 * `state/alerts/watchdog/<account>/<region>.json`. The state bucket stays the central stage's.
 */
export interface BackupDepsOptions {
  stateBucket?: BucketRef;
  /** The fleet item's member account and region (schemas/events-fleet.ts). */
  target?: FleetTargetEvent;
  /** Replaces the STS client and the clock the member role's session is cached by (default: the run's clock). */
  assume?: AssumeRoleDeps;
}

const isFleetFunction = (name: string): name is FleetFunction => (FLEET_FUNCTIONS as readonly string[]).includes(name);

/** Lambda's longest run: the member role's session lasts a run of at most this long (plus the refresh margin). */
const MAX_JOB_SECONDS = 900;

export function backupDeps(ctx: RunContext, options: BackupDepsOptions = {}): BackupDeps {
  const stateBucket = () => options.stateBucket ?? linkedBucket(ctx.config);
  const target = options.target;
  let snapshots = SNAPSHOT_ADAPTERS;
  let inventory: BackupDeps["inventory"] = { listCandidateResources, listRegionSnapshots };
  let creds: TargetCredentials | undefined;
  if (target) {
    const fn = ctx.functionName;
    if (!isFleetFunction(fn)) throw new Error(`the ${fn} function has no member role: only ${FLEET_FUNCTIONS.join(", ")} act in fleet accounts`);
    creds = memberCredentials(
      {
        config: ctx.config,
        fn,
        target,
        // The function's own region: STS's regional endpoints answer for every account.
        region: process.env.AWS_REGION ?? ctx.config.primaryRegion,
        jobSeconds: Math.ceil(Math.min(ctx.remainingMs(), MAX_JOB_SECONDS * 1000) / 1000),
      },
      { now: () => ctx.now().getTime(), ...options.assume },
    );
    snapshots = snapshotAdapters(creds);
    inventory = inventoryOf(snapshots);
  }
  const account = target?.account;
  const vault = ctx.config.vault;
  const reader =
    vault && (ctx.functionName === "watchdog" || ctx.functionName === "prune")
      ? vaultReaderCredentials({
          roleArn: vaultReaderRoleArn(ctx.config),
          sessionName: `${ctx.config.app}-${ctx.config.stage}-${ctx.functionName}`.slice(0, 64),
          region: process.env.AWS_REGION ?? ctx.config.primaryRegion,
          now: () => ctx.now().getTime(),
        })
      : undefined;
  return {
    ...(vault && reader ? { vaultCopies: async () => (await Promise.all(vault.regions.map((r) => listVaultCopies(r.region, reader)))).flat() } : {}),
    inventory,
    snapshots,
    vault: {
      shareSnapshot: (s, vaultAccountId) => shareSnapshot(s, vaultAccountId, creds),
      sharedWithVault: (region, snapshots, vaultAccountId) => sharedWithVault(region, snapshots, vaultAccountId, creds),
    },
    claims: () => s3Claims(stateBucket()),
    pruneLedger: () => s3PruneLedger(stateBucket(), account),
    observeMarker: () => s3ObserveMarker(stateBucket(), pruneObserveKey(account)),
    alertState: () =>
      s3AlertState(stateBucket(), "watchdog", target ? memberAlertStateKey("watchdog", target.account, target.region) : alertStateKey("watchdog")),
    stageDeployedAt: async () => {
      // Only the deploy's own marker dates the deploy: one prune recorded (the deploy's was deleted) is later than it.
      // A fleet member is dated by the stage's deploy: an account that joins later is watched as strictly (missing at once).
      const got = await jsonDocuments(stateBucket()).get<Partial<ObserveMarker>>(PRUNE_OBSERVE_KEY);
      const at = got?.body.by === "deploy" ? new Date(String(got.body.startedAt)) : undefined;
      return at && !Number.isNaN(at.getTime()) ? at : undefined;
    },
  };
}
