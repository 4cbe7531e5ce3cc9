import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { emptyAlertState, HOUR_MS, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { decideRunAlert, type RunFailureDetail } from "../../../core/run-alerts.ts";

const START = Date.parse("2026-04-19T00:00:00Z");

/** Runs at increasing times (minutes apart), each failed or not. */
const runs = fc.array(fc.record({ gapMinutes: fc.integer({ min: 1, max: 36 * 60 }), failed: fc.boolean() }), { minLength: 1, maxLength: 120 });

describe("failed-run lifecycle over any sequence of runs", () => {
  it("each streak of failed runs gives 1 started at its first run, 1 resolved at the run that ends it, and at most floor(duration / interval) reminders", () => {
    fc.assert(
      fc.property(runs, fc.integer({ min: 1, max: 24 }), (seq, remindHours) => {
        let state: AlertLifecycleState<RunFailureDetail> = emptyAlertState();
        let t = START;
        const timeline = seq.map((r) => ({ ...r, at: (t += r.gapMinutes * 60_000) }));
        const sent: { i: number; kind: string }[] = [];
        timeline.forEach((r, i) => {
          const out = decideRunAlert({
            state,
            functionName: "watchdog",
            run: { runId: `r${i}`, at: new Date(r.at), ...(r.failed ? { failure: { threw: true, headline: "E", message: "E: x" } } : {}) },
            remindEveryMs: remindHours * HOUR_MS,
          });
          for (const d of out.decisions) if (d.kind !== "hold") sent.push({ i, kind: d.kind });
          state = out.state;
        });
        // Streaks: [first failed run, first run without failures or undefined).
        const streaks: { from: number; to?: number }[] = [];
        timeline.forEach((r, i) => {
          const last = streaks.at(-1);
          if (r.failed && (!last || last.to !== undefined)) streaks.push({ from: i });
          else if (!r.failed && last && last.to === undefined) last.to = i;
        });
        expect(sent.filter((s) => s.kind === "started").map((s) => s.i)).toEqual(streaks.map((s) => s.from));
        expect(sent.filter((s) => s.kind === "resolved").map((s) => s.i)).toEqual(streaks.flatMap((s) => (s.to === undefined ? [] : [s.to])));
        for (const s of streaks) {
          const end = s.to ?? timeline.length - 1;
          const reminders = sent.filter((m) => m.kind === "reminder" && m.i > s.from && m.i <= end);
          const duration = timeline[end]!.at - timeline[s.from]!.at;
          expect(reminders.length).toBeLessThanOrEqual(Math.floor(duration / (remindHours * HOUR_MS)));
          // Reminders only on failed runs.
          for (const m of reminders) expect(timeline[m.i]!.failed).toBe(true);
        }
        // Nothing is left open after a run without failures.
        if (!timeline.at(-1)!.failed) expect(state).toEqual({ incidents: {} });
      }),
    );
  });
});
