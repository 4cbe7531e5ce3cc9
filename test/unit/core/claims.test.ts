import { describe, expect, it } from "vitest";
import { CLAIM_STALE_AFTER_MS, judgeClaim, type ClaimRecord } from "../../../core/claims.ts";

const claim = (o: Partial<ClaimRecord> = {}): ClaimRecord => ({
  runId: "run-1",
  claimedAt: "2026-11-21T02:00:00.000Z",
  what: "create snapshot x of vol-1",
  ...o,
});
const at = (iso: string) => new Date(iso);

describe("judgeClaim", () => {
  it("leaves a fresh claim of another run to that run, without looking", () => {
    expect(judgeClaim({ claim: claim(), runId: "run-2", now: at("2026-11-21T02:10:00Z") })).toEqual({
      action: "skip",
      reason: "claimed by run run-1 at 2026-11-21T02:00:00.000Z",
    });
  });

  it("its own claim (Lambda's retry reuses the request id) is used after looking for the snapshot", () => {
    const now = at("2026-11-21T02:03:00Z");
    expect(judgeClaim({ claim: claim(), runId: "run-1", now }).action).toBe("look");
    expect(judgeClaim({ claim: claim(), runId: "run-1", now, found: null })).toEqual({
      action: "proceed",
      reason: "claimed by this run (run-1, a retry of it) and nothing was created",
    });
    expect(judgeClaim({ claim: claim(), runId: "run-1", now, found: "snap-1" })).toEqual({
      action: "exists",
      reason: "already created: snap-1 (claimed by run run-1 at 2026-11-21T02:00:00.000Z)",
    });
  });

  it("a stale claim with nothing created is taken over; one a minute short of stale is not", () => {
    const stale = new Date(Date.parse("2026-11-21T02:00:00Z") + CLAIM_STALE_AFTER_MS);
    expect(judgeClaim({ claim: claim(), runId: "run-2", now: stale, found: null })).toEqual({
      action: "take-over",
      reason: "claim of run run-1 at 2026-11-21T02:00:00.000Z is stale (60 min old) and nothing was created",
    });
    expect(judgeClaim({ claim: claim(), runId: "run-2", now: new Date(stale.getTime() - 60_000) }).action).toBe("skip");
  });

  it("a released claim is taken over at once, after looking", () => {
    const released = claim({ releasedAt: "2026-11-21T02:00:02.000Z", releaseReason: "InternalError: boom" });
    const now = at("2026-11-21T02:05:00Z");
    expect(judgeClaim({ claim: released, runId: "run-2", now }).action).toBe("look");
    expect(judgeClaim({ claim: released, runId: "run-2", now, found: null })).toEqual({
      action: "take-over",
      reason: "claim of run run-1 at 2026-11-21T02:00:00.000Z is released at 2026-11-21T02:00:02.000Z (InternalError: boom) and nothing was created",
    });
  });

  it("an unreadable claim time is treated as fresh: never taken over on a guess", () => {
    expect(judgeClaim({ claim: claim({ claimedAt: "yesterday" }), runId: "run-2", now: at("2026-11-22T02:00:00Z") }).action).toBe("skip");
  });
});
