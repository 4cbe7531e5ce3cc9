import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { restoreTestSummary, restoreTestSummaryRow, type RestoreTestRunView } from "../../../core/report/restore-test.ts";
import { judgeRestoreTest } from "../../../core/restore-test.ts";
import { appendTrend, trendEntry, type RestoreTestTrendEntry } from "../../../core/restore-test-trend.ts";

const T0 = "2026-12-01T06:00:00.000Z";
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();
const target = { kind: "rds-instance" as const, resourceId: "orders-db", region: "eu-central-1" };
const snapshot = { id: "oa-ops-autopilot-prod-orders-db-20261130" };

function run(over: Partial<RestoreTestRunView> & { availableMin?: number; smokeMin?: number; target30?: boolean } = {}): RestoreTestRunView {
  const { availableMin, smokeMin, ...rest } = over;
  const record = {
    requestedAt: new Date(T0),
    ...(availableMin !== undefined ? { availableAt: new Date(at(availableMin)) } : {}),
    ...(smokeMin !== undefined ? { smokePassedAt: new Date(at(smokeMin)) } : {}),
    ...(rest.testFailure ? { failure: rest.testFailure } : {}),
  };
  return {
    runId: "rt-2026-12-01",
    state: "done",
    target,
    snapshot,
    requestedAt: T0,
    judgment: judgeRestoreTest(record, 15),
    cost: { usd: 0.0112, confirmed: false },
    ...rest,
  };
}

describe("restore-test Slack summary (core/report/restore-test.ts)", () => {
  it("a passing run: one table row (resource, kind, snapshot, restore, smoke, proven RTO / target, verdict, cost), no alert", () => {
    const row = restoreTestSummaryRow(run({ availableMin: 11, smokeMin: 12, smoke: [{ name: "orders", passed: true, reason: "1200 is at least 1" }] }), 15);
    const msg = restoreTestSummary("rt-2026-12-01", [row]);
    expect(msg.text).toBe("Restore test rt-2026-12-01: 1 of 1 proven within target");
    expect(renderText(msg)).toBe(
      [
        "== Restore test rt-2026-12-01: 1 of 1 proven within target ==",
        "*Run*: rt-2026-12-01",
        "*Result*: 1 of 1 proven within target",
        "*Estimated cost*: $0.0112 (unconfirmed prices)",
        "```",
        "resource   kind          snapshot restored                         restore   smoke   proven RTO / target     verdict  est. cost",
        "orders-db  rds-instance  oa-ops-autopilot-prod-orders-db-20261130  11.0 min  passed  12.0 min / 15 min: met  passed   $0.0112*",
        "```",
        "Proven RTO: restore requested → smoke check passed. * cost from unconfirmed list prices. Every throwaway is deleted; the janitor removes leftovers.",
      ].join("\n"),
    );
    expect(msg.blocks?.[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "Restore test rt-2026-12-01: 1 of 1 proven within target", emoji: true },
    });
  });

  it("a failed smoke check, a failed restore and a proven RTO over the target each alert critically, named in the text and listed", () => {
    const rows = [
      restoreTestSummaryRow(
        run({
          availableMin: 22,
          smoke: [{ name: "orders", passed: false, reason: "0 is less than 1" }],
          testFailure: { step: "smoke", message: "orders: 0 is less than 1" },
        }),
        15,
      ),
      restoreTestSummaryRow(
        run({ target: { ...target, resourceId: "billing-db" }, snapshot: { id: "snap-b" }, testFailure: { step: "restore", message: "ended storage-full" } }),
        15,
      ),
      restoreTestSummaryRow(
        run({
          target: { kind: "aurora-cluster", resourceId: "orders-aurora", region: "eu-central-1" },
          snapshot: { id: "snap-a" },
          availableMin: 25,
          smokeMin: 25,
          smoke: [{ name: "available", passed: true, reason: "available" }],
          cost: { usd: 0.0304, confirmed: true },
        }),
        15,
      ),
    ];
    const msg = restoreTestSummary("rt-2026-12-01", rows);
    expect(msg.text).toBe(
      "CRITICAL: restore test rt-2026-12-01: 3 of 3 need attention — orders-db: smoke check failed after a 22.0 min restore: orders: 0 is less than 1",
    );
    expect(renderText(msg)).toBe(
      [
        "== 🚨 CRITICAL: restore test rt-2026-12-01: 3 of 3 need attention ==",
        "*Run*: rt-2026-12-01",
        "*Result*: 0 of 3 proven within target",
        "*Estimated cost*: $0.0528 (unconfirmed prices)",
        "```",
        "resource       kind            snapshot restored                         restore   smoke    proven RTO / target        verdict          est. cost",
        "orders-db      rds-instance    oa-ops-autopilot-prod-orders-db-20261130  22.0 min  failed   — / 15 min: not proven     smoke-failed     $0.0112*",
        "billing-db     rds-instance    snap-b                                    —         not run  — / 15 min: not proven     restore-failed   $0.0112*",
        "orders-aurora  aurora-cluster  snap-a                                    25.0 min  passed   25.0 min / 15 min: missed  rto-over-target  $0.0304",
        "```",
        "*Critical*",
        "✗ orders-db (rds-instance, eu-central-1): smoke check failed after a 22.0 min restore: orders: 0 is less than 1",
        "✗ billing-db (rds-instance, eu-central-1): restore failed: ended storage-full",
        "✗ orders-aurora (aurora-cluster, eu-central-1): proven RTO 25.0 min (restore 25.0 min + smoke 0.0 min), over the 15 min target",
        "Proven RTO: restore requested → smoke check passed. * cost from unconfirmed list prices. Every throwaway is deleted; the janitor removes leftovers.",
      ].join("\n"),
    );
  });

  it("a run that failed (its delete gave up) has no judgment: judged from its recorded times, and its failure is an alert of its own", () => {
    const { judgment: _, cost: __, ...unjudged } = run({ smoke: [{ name: "orders", passed: true, reason: "ok" }] });
    const row = restoreTestSummaryRow(
      {
        ...unjudged,
        state: "failed",
        availableAt: at(10),
        smokePassedAt: at(11),
        failure: { step: "delete", message: "still not deleted after 60 min: Throttling" },
      },
      15,
    );
    expect(row).toEqual({
      resourceId: "orders-db",
      kind: "rds-instance",
      region: "eu-central-1",
      snapshotId: snapshot.id,
      restoreSeconds: 600,
      smoke: "passed",
      provenRtoSeconds: 660,
      rtoTargetMinutes: 15,
      verdict: "passed",
      reason: "proven RTO 11.0 min (restore 10.0 min + smoke 1.0 min), within the 15 min target",
      alerts: ["run failed at delete: still not deleted after 60 min: Throttling"],
    });
    expect(restoreTestSummary("rt-2026-12-01", [row]).text).toBe(
      "CRITICAL: restore test rt-2026-12-01: 1 of 1 need attention — orders-db: run failed at delete: still not deleted after 60 min: Throttling",
    );
  });
});

describe("proven-RTO trend (core/restore-test-trend.ts)", () => {
  const entry = (runId: string, atIso: string, rto: number): RestoreTestTrendEntry => ({
    runId,
    at: atIso,
    region: "eu-central-1",
    verdict: "passed",
    restoreSeconds: rto,
    provenRtoSeconds: rto,
    rtoTargetMinutes: 15,
  });

  it("appends newest last, keeps the last N, and a repeated run replaces its own entry", () => {
    let t = appendTrend(undefined, target, entry("r1", "2026-10-01T06:00:00Z", 700), 2);
    t = appendTrend(t, target, entry("r2", "2026-11-01T06:00:00Z", 720), 2);
    t = appendTrend(t, target, entry("r2", "2026-11-01T06:00:00Z", 730), 2);
    expect(t.entries.map((e) => `${e.runId}:${e.provenRtoSeconds}`)).toEqual(["r1:700", "r2:730"]);
    t = appendTrend(t, target, entry("r3", "2026-12-01T06:00:00Z", 740), 2);
    expect(t).toEqual({
      kind: "rds-instance",
      resourceId: "orders-db",
      entries: [entry("r2", "2026-11-01T06:00:00Z", 730), entry("r3", "2026-12-01T06:00:00Z", 740)],
    });
  });

  it("an entry is the row's figures", () => {
    const row = restoreTestSummaryRow(run({ availableMin: 11, smokeMin: 12 }), 15);
    expect(trendEntry(row, "rt-2026-12-01", T0)).toEqual({
      runId: "rt-2026-12-01",
      at: T0,
      region: "eu-central-1",
      snapshotId: snapshot.id,
      verdict: "passed",
      restoreSeconds: 660,
      provenRtoSeconds: 720,
      rtoTargetMinutes: 15,
      costUsd: 0.0112,
    });
  });
});
