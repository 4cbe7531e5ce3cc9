import { describe, expect, it } from "vitest";
import { decideFailoverAlert, failoverIncidentKey, type FailoverAlertEvent, type FailoverIncident } from "../../../core/failover.ts";
import { HOUR_MS, type OpenIncident } from "../../../core/alert-lifecycle.ts";

/** Failover states on the alert lifecycle: one incident per group, criticals once, reminders at most every 6 h, resolved once. */

const T0 = new Date("2025-03-04T10:04:00.000Z");
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR_MS);
const EVERY = 6 * HOUR_MS;
const open = (detail: FailoverIncident, lastHoursAgo = 0, now = T0): OpenIncident<FailoverIncident> => ({
  openedAt: T0.toISOString(),
  lastNotifiedAt: new Date(now.getTime() - lastHoursAgo * HOUR_MS).toISOString(),
  reminders: 0,
  detail,
});
const decide = (o: OpenIncident<FailoverIncident> | undefined, e: FailoverAlertEvent, now = T0) => {
  const d = decideFailoverAlert(o, e, now, EVERY);
  return { kind: d.kind, severity: d.severity, state: d.next?.detail.state };
};

describe("failover incidents on the alert lifecycle", () => {
  it("keys one incident per group", () => {
    expect(failoverIncidentKey("orders-db")).toBe("failover:orders-db");
  });

  it.each<[string, OpenIncident<FailoverIncident> | undefined, FailoverAlertEvent, Date, ReturnType<typeof decide>]>([
    [
      "a start opens the incident and pages",
      undefined,
      { kind: "start", runId: "r1", reason: "ok" },
      T0,
      { kind: "started", severity: "critical", state: "running" },
    ],
    [
      "a refused real alarm opens it and pages",
      undefined,
      { kind: "down-nothing-done", reason: "lag" },
      T0,
      { kind: "started", severity: "critical", state: "waiting" },
    ],
    [
      "the same refusal again within 6 h holds",
      open({ state: "waiting", reason: "lag" }, 1, at(1)),
      { kind: "down-nothing-done", reason: "lag" },
      at(1),
      { kind: "hold", severity: undefined, state: "waiting" },
    ],
    [
      "a refusal 6 h after the last message reminds (a warning: no page)",
      open({ state: "waiting", reason: "lag" }, 6, at(6)),
      { kind: "down-nothing-done", reason: "lag" },
      at(6),
      { kind: "reminder", severity: "warning", state: "waiting" },
    ],
    [
      "a start after a refusal of the same incident does not page again",
      open({ state: "waiting", reason: "lag" }),
      { kind: "start", runId: "r1", reason: "forced" },
      at(0.5),
      { kind: "updated", severity: "warning", state: "running" },
    ],
    [
      "a healthy end resolves it (info)",
      open({ state: "running", runId: "r1", reason: "" }),
      { kind: "end", runId: "r1", failed: false, reason: "" },
      at(0.2),
      { kind: "resolved", severity: "info", state: undefined },
    ],
    [
      "a failed end escalates: critical again, stays open",
      open({ state: "running", runId: "r1", reason: "" }),
      { kind: "end", runId: "r1", failed: true, reason: "verify-health: 503" },
      at(0.2),
      { kind: "escalated", severity: "critical", state: "failed" },
    ],
    [
      "the latch still failed within 6 h of the last message: hold",
      open({ state: "failed", runId: "r1", reason: "x" }, 5, at(5)),
      { kind: "failed-held", runId: "r1", reason: "" },
      at(5),
      { kind: "hold", severity: undefined, state: "failed" },
    ],
    [
      "the latch still failed 6 h after the last message: a reminder",
      open({ state: "failed", runId: "r1", reason: "x" }, 6, at(6)),
      { kind: "failed-held", runId: "r1", reason: "" },
      at(6),
      { kind: "reminder", severity: "warning", state: "failed" },
    ],
    [
      "a failed latch without an incident (state lost) opens one with a warning, not a page",
      undefined,
      { kind: "failed-held", runId: "r1", reason: "" },
      T0,
      { kind: "reminder", severity: "warning", state: "failed" },
    ],
    [
      "a reset resolves it (info)",
      open({ state: "failed", runId: "r1", reason: "x" }),
      { kind: "clear", reason: "reset", quiet: "info" },
      at(9),
      { kind: "resolved", severity: "info", state: undefined },
    ],
    [
      "a primary seen healthy with nothing open: its own severity, nothing stored",
      undefined,
      { kind: "clear", reason: "primary healthy", quiet: "warning" },
      T0,
      { kind: "resolved", severity: "warning", state: undefined },
    ],
    [
      "the database down while a run is under way: the run speaks for the group",
      open({ state: "running", runId: "r1", reason: "" }),
      { kind: "down-nothing-done", reason: "latch" },
      at(1),
      { kind: "hold", severity: undefined, state: "running" },
    ],
  ])("%s", (_name, o, e, now, want) => {
    expect(decide(o, e, now)).toEqual(want);
  });

  it("counts reminders and dates them from the last message, so a 3-day failed latch hit hourly reminds 12 times at most", () => {
    let incident: OpenIncident<FailoverIncident> | undefined = decideFailoverAlert(
      undefined,
      { kind: "end", runId: "r1", failed: true, reason: "x" },
      T0,
      EVERY,
    ).next;
    const kinds: string[] = [];
    for (let h = 1; h <= 72; h++) {
      const d = decideFailoverAlert(incident, { kind: "failed-held", runId: "r1", reason: "" }, at(h), EVERY);
      if (d.kind !== "hold") kinds.push(`${h}:${d.kind}`);
      incident = d.next;
    }
    expect(kinds).toEqual([
      "6:reminder",
      "12:reminder",
      "18:reminder",
      "24:reminder",
      "30:reminder",
      "36:reminder",
      "42:reminder",
      "48:reminder",
      "54:reminder",
      "60:reminder",
      "66:reminder",
      "72:reminder",
    ]);
    expect(incident?.reminders).toBe(12);
    expect(incident?.openedAt).toBe(T0.toISOString());
  });

  it("refuses a non-positive interval", () => {
    expect(() => decideFailoverAlert(undefined, { kind: "start", runId: "r", reason: "" }, T0, 0)).toThrow("remindEveryMs must be positive, got 0");
  });
});
