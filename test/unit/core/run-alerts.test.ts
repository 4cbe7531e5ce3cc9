import { describe, expect, it } from "vitest";
import { emptyAlertState, HOUR_MS, type AlertDecision, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { decideRunAlert, describeItemFailures, runFailedKey, startedWithoutState, type RunFailureDetail, type RunResult } from "../../../core/run-alerts.ts";
import { renderRunAlert } from "../../../core/report/run-error.ts";
import { renderText } from "../../../core/report/blocks.ts";

const T0 = Date.parse("2026-04-19T02:00:00Z");
const at = (h: number) => new Date(T0 + h * HOUR_MS);
const failed = (runId: string, h: number): RunResult => ({
  runId,
  at: at(h),
  failure: {
    threw: false,
    headline: "3 items failed",
    message: "app-db (eu-west-1): fatal: AccessDenied; billing-db (eu-west-1): fatal: AccessDenied; orders (eu-west-1): fatal: AccessDenied",
  },
});
const ok = (runId: string, h: number): RunResult => ({ runId, at: at(h) });
const CTX = { app: "ops-autopilot", stage: "prod", remindEveryHours: 6 };

/** Runs one result after another from the empty state; the message kinds each run decided. */
function replay(runs: RunResult[]): { kinds: string[]; state: AlertLifecycleState<RunFailureDetail> } {
  let state: AlertLifecycleState<RunFailureDetail> = emptyAlertState();
  const kinds: string[] = [];
  for (const run of runs) {
    const out = decideRunAlert({ state, functionName: "backup", run, remindEveryMs: 6 * HOUR_MS });
    kinds.push(out.decisions.map((d) => d.kind).join(",") || "none");
    state = out.state;
  }
  return { kinds, state };
}

describe("decideRunAlert: one incident per function", () => {
  it("a nightly backup failing three nights then succeeding: started, reminder, reminder, resolved", () => {
    const { kinds, state } = replay([failed("n1", 0), failed("n2", 24), failed("n3", 48), ok("n4", 72)]);
    expect(kinds).toEqual(["started", "reminder", "reminder", "resolved"]);
    expect(state).toEqual({ incidents: {} });
  });

  it("Lambda's two retries of a failed run (1 and 3 minutes later) send nothing", () => {
    const { kinds } = replay([failed("r", 0), failed("r", 1 / 60), failed("r", 3 / 60)]);
    expect(kinds).toEqual(["started", "hold", "hold"]);
  });

  it("hourly failures for a day: a critical at the first, a reminder every 6 h, holds in between", () => {
    const { kinds } = replay(Array.from({ length: 24 }, (_, h) => failed(`h${h}`, h)));
    expect(kinds.map((k, h) => (k === "hold" ? null : `${h}:${k}`)).filter(Boolean)).toEqual(["0:started", "6:reminder", "12:reminder", "18:reminder"]);
  });

  it("counts the failed runs of the incident and keeps the latest failure", () => {
    const { state } = replay([failed("a", 0), failed("b", 1), failed("c", 2)]);
    expect(state.incidents[runFailedKey("backup")]).toEqual({
      openedAt: "2026-04-19T02:00:00.000Z",
      lastNotifiedAt: "2026-04-19T02:00:00.000Z",
      reminders: 0,
      detail: {
        runId: "c",
        failedAt: "2026-04-19T04:00:00.000Z",
        threw: false,
        headline: "3 items failed",
        message: failed("c", 2).failure!.message,
        failedRuns: 3,
      },
    });
  });

  it("a run without failures and nothing open decides nothing and leaves the state as it was", () => {
    expect(replay([ok("a", 0)])).toEqual({ kinds: ["none"], state: { incidents: {} } });
  });

  it("ignores other keys of the document (another function's incident never resolves here)", () => {
    const other = { openedAt: at(0).toISOString(), lastNotifiedAt: at(0).toISOString(), reminders: 0, detail: failed("x", 0).failure as never };
    const out = decideRunAlert({ state: { incidents: { "run-failed:copy": other } }, functionName: "backup", run: ok("a", 1), remindEveryMs: 6 * HOUR_MS });
    expect(out.decisions).toEqual([]);
  });

  it("without its state a failure is sent as new, saying why", () => {
    const d = startedWithoutState(
      "watchdog",
      { runId: "r", at: at(0), failure: { threw: true, headline: "AccessDenied", message: "AccessDenied: no" } },
      "state not read or stored: 503",
    );
    expect(d).toEqual({
      kind: "started",
      key: "run-failed:watchdog",
      incident: {
        openedAt: "2026-04-19T02:00:00.000Z",
        lastNotifiedAt: "2026-04-19T02:00:00.000Z",
        reminders: 0,
        detail: { runId: "r", failedAt: "2026-04-19T02:00:00.000Z", threw: true, headline: "AccessDenied", message: "AccessDenied: no", failedRuns: 1 },
      },
      reason: "run-failed:watchdog holds; the alert state is unavailable (state not read or stored: 503), so it is sent as new",
    });
  });
});

describe("describeItemFailures", () => {
  it("names each item with its region and kind, bounded", () => {
    expect(describeItemFailures([{ item: "app-db", region: "eu-west-1", kind: "fatal", message: "AccessDenied" }])).toEqual({
      headline: "1 item failed",
      message: "app-db (eu-west-1): fatal: AccessDenied",
    });
    const many = Array.from({ length: 40 }, (_, i) => ({ item: `vol-${i}`, kind: "retryable" as const, message: "Throttling: Rate exceeded" }));
    const out = describeItemFailures(many);
    expect(out.headline).toBe("40 items failed");
    expect(out.message).toHaveLength(500);
    expect(out.message.endsWith("…")).toBe(true);
  });
});

describe("renderRunAlert", () => {
  const decide = (runs: RunResult[]) => {
    let state: AlertLifecycleState<RunFailureDetail> = emptyAlertState();
    let last: AlertDecision<RunFailureDetail> | undefined;
    for (const run of runs) {
      const out = decideRunAlert({ state, functionName: "backup", run, remindEveryMs: 6 * HOUR_MS });
      state = out.state;
      last = out.decisions[0]!;
    }
    return last!;
  };

  it("started: the failure, what happens next, the reminder promise", () => {
    const d = decide([failed("n1", 0)]);
    const m = renderRunAlert({ ...d, kind: "started" }, { ...CTX, runId: "n1", now: at(0) });
    expect(m.text).toBe("🚨 CRITICAL: backup run failed (ops-autopilot/prod): 3 items failed");
    expect(renderText(m)).toBe(
      [
        "== 🚨 backup run failed (ops-autopilot/prod) ==",
        "`app-db (eu-west-1): fatal: AccessDenied; billing-db (eu-west-1): fatal: AccessDenied; orders (eu-west-1): fatal: AccessDenied`",
        "The rest of the run finished; its summary is in the runs channel. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue.",
        "Run n1 · A reminder every 6 h while runs keep failing, and a message when a run succeeds.",
      ].join("\n"),
    );
  });

  it("started for a run that threw: the error with its name", () => {
    const d = decide([{ runId: "w", at: at(0), failure: { threw: true, headline: "Throttling", message: "Throttling: Rate exceeded" } }]);
    const m = renderRunAlert({ ...d, kind: "started" }, { ...CTX, runId: "w", now: at(0) });
    expect(m.text).toBe("🚨 CRITICAL: backup run failed (ops-autopilot/prod): Throttling");
    expect(renderText(m).split("\n")[1]).toBe("`Throttling: Rate exceeded`");
    expect(renderText(m).split("\n")[2]).toBe(
      "Nothing after the failure ran. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue.",
    );
  });

  it("reminder: how long, since when, which reminder, how many failed runs", () => {
    const d = decide([failed("n1", 0), failed("n2", 24)]);
    const m = renderRunAlert({ ...d, kind: "reminder" }, { ...CTX, runId: "n2", now: at(24) });
    expect(m.text).toBe("⏰ REMINDER: backup runs still failing (ops-autopilot/prod), for 1 d since 2026-04-19 02:00 UTC: 3 items failed");
    expect(renderText(m).split("\n").slice(0, 2)).toEqual([
      "== ⏰ backup runs still failing (ops-autopilot/prod) ==",
      "*Failing for 1 d, since 2026-04-19 02:00 UTC* (reminder 1, 2 failed runs)",
    ]);
  });

  it("resolved: how long it lasted and the run that recovered", () => {
    const d = decide([failed("n1", 0), failed("n2", 24), failed("n3", 48), ok("n4", 72)]);
    const m = renderRunAlert({ ...d, kind: "resolved" }, { ...CTX, runId: "n4", now: at(72) });
    expect(m.text).toBe("✅ RESOLVED: backup runs succeed again (ops-autopilot/prod) after 3 d failing, since 2026-04-19 02:00 UTC");
    expect(renderText(m)).toBe(
      [
        "== ✅ backup runs succeed again (ops-autopilot/prod) ==",
        "*Failed for 3 d* (2026-04-19 02:00 UTC to 2026-04-22 02:00 UTC, 3 failed runs); run n4 finished without failures.",
        "Last failure: `app-db (eu-west-1): fatal: AccessDenied; billing-db (eu-west-1): fatal: AccessDenied; orders (eu-west-1): fatal: AccessDenied`",
      ].join("\n"),
    );
  });
});
