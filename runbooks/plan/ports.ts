/**
 * The runbooks' ports as the plan wires them: every read goes to the account (through the read-only clients of
 * adapters/clients.ts), every write a dry-run would still make is refused here, and what the function would post
 * or publish is captured for the terminal and out/plan/ instead.
 */

import { cloudwatchMetrics } from "../../adapters/cloudwatch.ts";
import { fetchCosts } from "../../adapters/cost-explorer.ts";
import { httpProbe } from "../../adapters/health.ts";
import { listCandidateResources, listRegionSnapshots } from "../../adapters/inventory.ts";
import { s3Latch } from "../../adapters/latch.ts";
import { type ObserveMarkerPort, PRUNE_OBSERVE_KEY, s3ObserveMarker } from "../../adapters/observe-marker.ts";
import { type PruneLedgerPort, s3PruneLedger } from "../../adapters/prune-ledger.ts";
import { rdsFailover } from "../../adapters/rds-failover.ts";
import { type AlertStatePort, s3AlertState } from "../../adapters/alert-state.ts";
import type { StaleGroupDetail } from "../../core/stale-alerts.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { SNAPSHOT_ADAPTERS } from "../../adapters/snapshots.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { BackupDeps } from "../backup/ports.ts";
import type { CostDeps } from "../cost/cost.ts";
import type { FailoverDeps, ProbePort } from "../failover/ports.ts";

/** A write the plan refused in the runbook's own port (the read-only clients would refuse it too). */
export class PlanWriteRefused extends Error {
  override name = "PlanWriteRefused";
  constructor(what: string) {
    super(`plan is read-only: ${what} refused`);
  }
}

const refuse = (what: string) => async (): Promise<never> => {
  throw new PlanWriteRefused(what);
};

/**
 * Backup, copy, prune and watchdog: the real inventory and snapshot adapters (only their listings run on a
 * dry-run). Claims are never opened on a dry-run; prune's day ledger is read from the state bucket when one is
 * given (so the day's caps count what earlier runs deleted) and never written.
 */
export function planBackupDeps(stateBucket: BucketRef | undefined, notes: string[]): BackupDeps {
  const ledger: PruneLedgerPort = stateBucket
    ? { read: s3PruneLedger(stateBucket).read, write: refuse("writing the prune ledger") }
    : {
        read: async () => {
          notes.push("prune: today's ledger not read (no --state-bucket): the caps count no earlier deletes today");
          return undefined;
        },
        write: refuse("writing the prune ledger"),
      };
  const marker: ObserveMarkerPort = stateBucket
    ? { read: s3ObserveMarker(stateBucket, PRUNE_OBSERVE_KEY).read, record: refuse("recording the observe-mode start") }
    : {
        read: async () => {
          notes.push("prune: the observe-mode start not read (no --state-bucket): taken as not recorded yet");
          return undefined;
        },
        record: refuse("recording the observe-mode start"),
      };
  // The watchdog's open incidents decide whether it would start, remind or resolve; without the bucket none is open.
  const alerts: AlertStatePort<StaleGroupDetail> = stateBucket
    ? { load: s3AlertState<StaleGroupDetail>(stateBucket, "watchdog").load, save: refuse("writing the watchdog's alert state") }
    : {
        load: async () => {
          notes.push("watchdog: its alert state not read (no --state-bucket): every stale policy/region is taken as a new incident");
          return { state: { incidents: {} }, exists: false };
        },
        save: refuse("writing the watchdog's alert state"),
      };
  return {
    inventory: { listCandidateResources, listRegionSnapshots },
    snapshots: SNAPSHOT_ADAPTERS,
    claims: () => {
      throw new PlanWriteRefused("opening the name claims");
    },
    pruneLedger: () => ledger,
    observeMarker: () => marker,
    alertState: () => alerts,
  };
}

/** Cost: Cost Explorer reads only; no alert state (every finding reads as new) and nothing is posted. */
export function planCostDeps(): CostDeps {
  return { fetch: (req) => fetchCosts(req) };
}

/**
 * Failover: the observations of the pre-checks (RDS describes, CloudWatch lag, the optional HTTP probe of the
 * primary), the latch read from the failover state bucket when one is given; no latch write, no promotion, no DNS
 * change, no warming. Slack messages are captured in `posted`.
 */
export function planFailoverDeps(opts: {
  latchBucket: BucketRef | undefined;
  posted: SlackMessage[];
  now: () => Date;
  probe?: ProbePort;
  log?: (message: string, data?: Record<string, unknown>) => void;
}): FailoverDeps {
  return {
    latch: {
      read: opts.latchBucket ? s3Latch(opts.latchBucket).read : async () => undefined,
      create: refuse("taking the failover latch"),
      replace: refuse("writing the failover latch"),
      putReport: refuse("writing a failover run report"),
    },
    db: { ...rdsFailover(), promote: refuse("promoting a replica") },
    metrics: cloudwatchMetrics(),
    dns: { upsert: refuse("changing DNS"), getChange: refuse("reading a DNS change"), currentValue: refuse("reading a DNS record") },
    probe: opts.probe ?? httpProbe(),
    warm: { warm: refuse("warming caches") },
    notify: { notify: async (message) => void opts.posted.push(message) },
    clock: { now: opts.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    ...(opts.log ? { log: opts.log } : {}),
  };
}
