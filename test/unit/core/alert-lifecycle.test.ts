import { describe, expect, it } from "vitest";
import { decideAlerts, emptyAlertState, formatDuration, HOUR_MS, withUndelivered, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { staleConditions } from "../../../core/stale-alerts.ts";
import type { FreshnessFinding } from "../../../core/freshness.ts";

const at = (iso: string) => new Date(iso);
const SIX_H = 6 * HOUR_MS;
const open = (openedAt: string, lastNotifiedAt = openedAt, reminders = 0): AlertLifecycleState<string> => ({
  incidents: { "stale:db:eu-west-1": { openedAt, lastNotifiedAt, reminders, detail: "app-db" } },
});

describe("decideAlerts", () => {
  it("starts an incident for a condition that holds with none open", () => {
    const out = decideAlerts({
      state: emptyAlertState<string>(),
      conditions: [{ key: "stale:db:eu-west-1", detail: "app-db" }],
      now: at("2026-04-19T04:00:00Z"),
      remindEveryMs: SIX_H,
    });
    expect(out.decisions.map((d) => [d.kind, d.key, d.reason])).toEqual([
      ["started", "stale:db:eu-west-1", "stale:db:eu-west-1 holds and no incident is open"],
    ]);
    expect(out.state).toEqual(open("2026-04-19T04:00:00.000Z"));
  });

  it("holds until the interval since the last message is over, then reminds", () => {
    const conditions = [{ key: "stale:db:eu-west-1", detail: "app-db" }];
    const held = decideAlerts({ state: open("2026-04-19T04:00:00.000Z"), conditions, now: at("2026-04-19T09:59:59Z"), remindEveryMs: SIX_H });
    expect(held.decisions.map((d) => [d.kind, d.reason])).toEqual([["hold", "stale:db:eu-west-1 still holds; next reminder due at 2026-04-19T10:00:00.000Z"]]);
    expect(held.state).toEqual(open("2026-04-19T04:00:00.000Z"));
    const reminded = decideAlerts({ state: open("2026-04-19T04:00:00.000Z"), conditions, now: at("2026-04-19T10:00:00Z"), remindEveryMs: SIX_H });
    expect(reminded.decisions.map((d) => [d.kind, d.reason])).toEqual([
      ["reminder", "stale:db:eu-west-1 still holds, open since 2026-04-19T04:00:00.000Z; last message 6 h ago (remind every 6 h)"],
    ]);
    expect(reminded.state).toEqual(open("2026-04-19T04:00:00.000Z", "2026-04-19T10:00:00.000Z", 1));
  });

  it("resolves an open incident whose condition no longer holds, with how long it lasted, and drops it", () => {
    const out = decideAlerts({
      state: open("2026-04-19T04:00:00.000Z", "2026-04-21T22:00:00.000Z", 11),
      conditions: [],
      now: at("2026-04-22T03:00:00Z"),
      remindEveryMs: SIX_H,
    });
    expect(out.decisions.map((d) => [d.kind, d.durationMs, d.reason])).toEqual([
      ["resolved", 71 * HOUR_MS, "stale:db:eu-west-1 no longer holds; it lasted 2 d 23 h"],
    ]);
    expect(out.state).toEqual({ incidents: {} });
  });

  it("refuses a non-positive interval and a key given twice", () => {
    expect(() => decideAlerts({ state: emptyAlertState(), conditions: [], now: at("2026-04-19T04:00:00Z"), remindEveryMs: 0 })).toThrow(
      "remindEveryMs must be positive, got 0",
    );
    const twice = [
      { key: "k", detail: 1 },
      { key: "k", detail: 2 },
    ];
    expect(() => decideAlerts({ state: emptyAlertState(), conditions: twice, now: at("2026-04-19T04:00:00Z"), remindEveryMs: SIX_H })).toThrow(
      "condition key k given twice",
    );
  });
});

describe("withUndelivered", () => {
  it("gives an undelivered message's incident back to what it was, so the next run sends it again", () => {
    const before = open("2026-04-19T04:00:00.000Z");
    const after = open("2026-04-19T04:00:00.000Z", "2026-04-19T10:00:00.000Z", 1);
    expect(withUndelivered(after, before, ["stale:db:eu-west-1"])).toEqual(before); // a reminder
    expect(withUndelivered(before, emptyAlertState(), ["stale:db:eu-west-1"])).toEqual({ incidents: {} }); // a started
    expect(withUndelivered(emptyAlertState(), before, ["stale:db:eu-west-1"])).toEqual(before); // a resolved
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 min"],
    [40 * 60_000, "40 min"],
    [5 * HOUR_MS + 30 * 60_000, "5 h 30 min"],
    [24 * HOUR_MS, "1 d"],
    [71 * HOUR_MS + 20 * 60_000, "2 d 23 h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("staleConditions", () => {
  const finding = (resourceId: string, region: string, status: FreshnessFinding["status"]): FreshnessFinding => ({
    resourceId,
    kind: "rds-instance",
    region,
    limitHours: 25,
    status,
    reason: "r",
    ...(status === "missing" ? {} : { newestAt: new Date("2026-04-18T02:00:00Z"), newestId: `oa-${resourceId}`, ageHours: 26 }),
  });

  it("groups stale and missing backups per policy and region, ignores fresh ones, and stores no ages", () => {
    const policy = (f: FreshnessFinding) => (f.resourceId === "vol" ? "volumes" : "db");
    const out = staleConditions(
      [
        finding("orders", "eu-west-1", "stale"),
        finding("app-db", "eu-west-1", "missing"),
        finding("app-db", "eu-central-1", "ok"),
        finding("vol", "eu-west-1", "stale"),
      ],
      policy,
    );
    expect(out).toEqual([
      {
        key: "stale:db:eu-west-1",
        detail: {
          policy: "db",
          region: "eu-west-1",
          resources: [
            { resourceId: "app-db", kind: "rds-instance", status: "missing", limitHours: 25 },
            { resourceId: "orders", kind: "rds-instance", status: "stale", newestAt: "2026-04-18T02:00:00.000Z", newestId: "oa-orders", limitHours: 25 },
          ],
        },
      },
      {
        key: "stale:volumes:eu-west-1",
        detail: {
          policy: "volumes",
          region: "eu-west-1",
          resources: [{ resourceId: "vol", kind: "rds-instance", status: "stale", newestAt: "2026-04-18T02:00:00.000Z", newestId: "oa-vol", limitHours: 25 }],
        },
      },
    ]);
  });
});
