/**
 * Step 1: promote the DR replica (PromoteReadReplica, or Switchover/FailoverGlobalCluster for Aurora global).
 * The RPO guard (replica lag) is read right before the claim; a promotion whose outcome is unknown is confirmed
 * from the database state, and re-issued only once the replica is positively seen never to have received it.
 */
import { manualPromotionSteps, promotionKindFor, promotionOutcome, UNREADABLE_BOUND_MINUTES } from "../../../core/failover.ts";
import { errorText, log, outcomeUnknown, promoteCallName, type FailoverCtx, type FailoverStep } from "./shared.ts";

export const promote: FailoverStep = {
  name: "promote",
  describe({ group, plannedKind }, run) {
    const r = group.replica;
    const kind = run?.promotionKind ?? plannedKind ?? "promote";
    return kind === "promote"
      ? `PromoteReadReplica ${r.id} in ${r.region}`
      : kind === "switchover"
        ? `SwitchoverGlobalCluster ${group.globalClusterId} → ${r.id} (${r.region}), no data loss`
        : `FailoverGlobalCluster ${group.globalClusterId} → ${r.id} (${r.region}) with AllowDataLoss`;
  },

  async beforeClaim({ env: { deps, cfg, group }, run, now }) {
    const kind = run.promotionKind ?? promotionKindFor(group, await deps.db.describePrimary(group));
    const lag = await deps.metrics.replicaLag(group, now);
    const forced = run.trigger.force !== undefined;
    if (!forced && lag.failed) {
      // Unknown, not "too far": read again, and give up only after a bound (nothing has been changed yet).
      if (now.getTime() - Date.parse(run.startedAt) >= UNREADABLE_BOUND_MINUTES * 60_000) {
        return {
          kind: "fail",
          reason: `replica lag could not be read for ${UNREADABLE_BOUND_MINUTES} min (${lag.detail}): not promoted`,
          manualSteps: [
            "Nothing was changed: the primary stays as it is, DNS untouched.",
            `Check ${group.replica.id}'s replica lag in CloudWatch (${group.replica.region}); reset the latch and run mode "execute" (with force and forceReason if accepting data loss).`,
          ],
        };
      }
      return { kind: "wait", seconds: cfg.pollSeconds, reason: `replica lag unreadable (${lag.detail}): reading again before promoting` };
    }
    if (!forced && (lag.seconds === undefined || lag.seconds > group.maxReplicaLagSeconds)) {
      // The lag may have grown since the pre-check; the RPO guard applies at the moment of promotion.
      return {
        kind: "fail",
        reason: `replica lag at promotion time is ${lag.seconds ?? "unknown"} s (> RPO ${group.maxReplicaLagSeconds} s): not promoted`,
        manualSteps: [
          "Nothing was changed: the primary stays as it is, DNS untouched.",
          `Investigate replication of ${group.replica.id}; if accepting data loss, run mode "execute" with force and forceReason after a reset.`,
        ],
      };
    }
    return { kind: "claim", record: { promotionKind: kind, ...(lag.seconds !== undefined ? { lagAtPromotionSeconds: lag.seconds } : {}) } };
  },

  async start(ctx) {
    const { deps, cfg, group } = ctx.env;
    const kind = ctx.run.promotionKind ?? "promote";
    let out: { detail: string };
    try {
      out = await deps.db.promote(group, kind);
    } catch (err) {
      if (outcomeUnknown(err)) {
        // The call may have reached RDS: the step stays `started`, and the database state decides.
        log(ctx.env)("promotion call outcome unknown; confirming by observation", { error: errorText(err), runId: ctx.run.runId });
        return { kind: "wait", seconds: cfg.pollSeconds, reason: `promotion call outcome unknown (${errorText(err)}): confirming from the database state` };
      }
      return {
        kind: "fail",
        reason: `promotion failed: ${errorText(err)}`,
        manualSteps: [
          "Nothing else was changed: DNS still points at the primary.",
          `Check ${group.replica.id} in ${group.replica.region} (aws rds describe-db-instances / describe-db-clusters) and the RDS events; fix the cause, reset the latch, then run mode "execute".`,
        ],
      };
    }
    return { kind: "done", result: kind === "promote" ? "promotion requested" : `${kind} requested`, reason: out.detail };
  },

  resume: confirmPromotion,
};

/** A promotion was claimed by an earlier attempt: confirm it from the database state, do not re-issue blindly. */
async function confirmPromotion(ctx: FailoverCtx): ReturnType<FailoverStep["resume"]> {
  const { deps, cfg, group } = ctx.env;
  const now = ctx.now;
  const replica = await deps.db.describeReplica(group);
  const outcome = promotionOutcome(replica);
  if (outcome === "took-effect") return { kind: "done", result: "promotion confirmed", reason: `found ${replica.detail} after a restart: not issued again` };
  const kind = ctx.run.promotionKind ?? "promote";
  const promoteStep = ctx.step;
  const startedAt = Date.parse(promoteStep.startedAt ?? now.toISOString());
  const timedOut = now.getTime() - startedAt >= cfg.promotionTimeoutMinutes * 60_000;
  if (outcome === "unknown") {
    // A describe that failed is no evidence the promotion did not arrive: never re-issue on it.
    if (timedOut) {
      return {
        kind: "fail",
        reason: `promotion outcome unknown: ${group.replica.id} could not be described for ${cfg.promotionTimeoutMinutes} min (${replica.detail}); ${promoteCallName(kind)} may have been accepted`,
        manualSteps: manualPromotionSteps(group),
      };
    }
    return { kind: "wait", seconds: cfg.pollSeconds, reason: `promotion outcome unknown (${replica.detail}): observing again` };
  }
  // Seen available and still replicating. RDS reflects an accepted promotion in DescribeDBInstances at once;
  // we still allow 2 minutes after the last call before concluding it never reached RDS, so a slow call is not doubled.
  const lastAt = Date.parse(promoteStep.lastAttemptAt ?? promoteStep.startedAt ?? now.toISOString());
  if (now.getTime() - lastAt < 120_000) return { kind: "wait", seconds: cfg.pollSeconds, reason: "promotion outcome unknown: waiting before deciding" };
  if (timedOut) {
    return {
      kind: "fail",
      reason: `${group.replica.id} is still an available replica ${cfg.promotionTimeoutMinutes} min after the first ${promoteCallName(kind)} (${replica.detail})`,
      manualSteps: manualPromotionSteps(group),
    };
  }
  // Claimed first, so two executors that both saw "not arrived" cannot both call.
  await ctx.claimAttempt();
  let again: { detail: string };
  try {
    again = await deps.db.promote(group, kind);
  } catch (err) {
    if (outcomeUnknown(err))
      return { kind: "wait", seconds: cfg.pollSeconds, reason: `promotion call outcome unknown (${errorText(err)}): confirming from the database state` };
    return {
      kind: "fail",
      reason: `promotion failed: ${errorText(err)}`,
      manualSteps: ["DNS was not changed.", "Inspect the replica, reset the latch and execute again."],
    };
  }
  return { kind: "done", result: "promotion requested", reason: `earlier attempt never reached RDS (${replica.detail}); ${again.detail}` };
}
