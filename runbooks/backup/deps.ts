import { listCandidateResources, listRegionSnapshots } from "../../adapters/inventory.ts";
import { SNAPSHOT_ADAPTERS } from "../../adapters/snapshots.ts";
import { s3Claims } from "../../adapters/claims.ts";
import { s3PruneLedger } from "../../adapters/prune-ledger.ts";
import { PRUNE_OBSERVE_KEY, s3ObserveMarker } from "../../adapters/observe-marker.ts";
import { s3AlertState } from "../../adapters/alert-state.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import type { ObserveMarker } from "../../core/observe.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { linkedBucket } from "../lib/resources.ts";
import type { RunContext } from "../lib/handler.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * Real dependencies of the backup runbooks (used by functions/{backup,copy,prune,watchdog}.ts).
 *
 * The state bucket (prune's day ledger and observe-start marker, the EBS name claims, the watchdog's alert state) is the linked Reports bucket unless `stateBucket`
 * names another (tests and the drill); it is read only when a port that needs it is opened.
 */
export function backupDeps(ctx: RunContext, options: { stateBucket?: BucketRef } = {}): BackupDeps {
  const stateBucket = () => options.stateBucket ?? linkedBucket(ctx.config);
  return {
    inventory: { listCandidateResources, listRegionSnapshots },
    snapshots: SNAPSHOT_ADAPTERS,
    claims: () => s3Claims(stateBucket()),
    pruneLedger: () => s3PruneLedger(stateBucket()),
    observeMarker: () => s3ObserveMarker(stateBucket(), PRUNE_OBSERVE_KEY),
    alertState: () => s3AlertState(stateBucket(), "watchdog"),
    stageDeployedAt: async () => {
      // Only the deploy's own marker dates the deploy: one prune recorded (the deploy's was deleted) is later than it.
      const got = await jsonDocuments(stateBucket()).get<Partial<ObserveMarker>>(PRUNE_OBSERVE_KEY);
      const at = got?.body.by === "deploy" ? new Date(String(got.body.startedAt)) : undefined;
      return at && !Number.isNaN(at.getTime()) ? at : undefined;
    },
  };
}
