/**
 * Claims: who may start a create that AWS cannot make idempotent.
 *
 * EBS snapshot ids are assigned by AWS, and neither CreateSnapshot nor CopySnapshot takes a client token
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshot.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html: no ClientToken parameter), so two
 * runs that both list before either creates would make two snapshots. Before such a call a run creates a claim
 * object (S3 `If-None-Match: *`); only the run that holds the claim sends the call. These are the pure rules for
 * a claim that is already there.
 */

/** The claim object's body. */
export interface ClaimRecord {
  /**
   * The Lambda request id of the run that claimed. Lambda's retries of a failed asynchronous invocation carry the
   * same request id (https://repost.aws/knowledge-center/lambda-function-duplicate-invocations).
   */
  runId: string;
  /** When the claim was made (the run's clock), ISO 8601. */
  claimedAt: string;
  /** What is claimed, for people reading the bucket: e.g. "create snapshot oa-vol-1-20261121 of vol-1". */
  what: string;
  /** Set when the claimant's call failed: the claim no longer stands in anyone's way. */
  releasedAt?: string;
  releaseReason?: string;
}

/** A claim older than this, with nothing created, is taken over: the run that made it is long gone. */
export const CLAIM_STALE_AFTER_MS = 60 * 60 * 1000;

export type ClaimAction =
  /** Look for the snapshot first (by its name tag), then decide again with `found`. */
  | "look"
  /** Another run holds the claim: leave it to that run. */
  | "skip"
  /** The snapshot is there: nothing to do. */
  | "exists"
  /** This run holds the claim (a retry of the same invocation) and nothing was created: go ahead. */
  | "proceed"
  /** Released or stale, and nothing was created: replace the claim (`If-Match`) and go ahead if that wins. */
  | "take-over";

export interface ClaimDecision {
  action: ClaimAction;
  reason: string;
}

/**
 * What a run does about an existing claim. `found` is the id of a snapshot carrying the claimed name, `null` when
 * a look found none, or undefined before looking; a look is only needed when the run might go ahead.
 *
 * @example
 * judgeClaim({ claim: { runId: "r-1", claimedAt: "2026-11-21T02:00:05Z", what: "…" }, runId: "r-2", now: new Date("2026-11-21T02:00:09Z") })
 * // → { action: "skip", reason: "claimed by run r-1 at 2026-11-21T02:00:05Z" }
 */
export function judgeClaim(input: { claim: ClaimRecord; runId: string; now: Date; found?: string | null; staleAfterMs?: number }): ClaimDecision {
  const { claim, runId, now, found } = input;
  const staleAfterMs = input.staleAfterMs ?? CLAIM_STALE_AFTER_MS;
  const by = `run ${claim.runId} at ${claim.claimedAt}`;
  const ageMs = now.getTime() - Date.parse(claim.claimedAt);
  const mine = claim.runId === runId;
  const released = claim.releasedAt !== undefined;
  // Unreadable or future timestamps are treated as fresh: never take over on a guess.
  const stale = Number.isFinite(ageMs) && ageMs >= staleAfterMs;
  if (!mine && !released && !stale) return { action: "skip", reason: `claimed by ${by}` };
  if (found === undefined) return { action: "look", reason: `claim of ${by} may be taken over: looking for the snapshot first` };
  if (found !== null) return { action: "exists", reason: `already created: ${found} (claimed by ${by})` };
  if (mine) return { action: "proceed", reason: `claimed by this run (${claim.runId}, a retry of it) and nothing was created` };
  const why = released
    ? `released at ${claim.releasedAt}${claim.releaseReason ? ` (${claim.releaseReason})` : ""}`
    : `stale (${Math.floor(ageMs / 60_000)} min old)`;
  return { action: "take-over", reason: `claim of ${by} is ${why} and nothing was created` };
}
