import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideAlerts, emptyAlertState, HOUR_MS, type AlertDecision, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";

const KEYS = ["stale:db:eu-west-1", "stale:db:eu-central-1", "stale:volumes:eu-west-1"] as const;
const NEVER = "stale:never:eu-west-1";
const START = Date.parse("2026-04-19T00:00:00Z");

/** Hourly observations: for each hour, which of KEYS hold (NEVER never does). */
const observations = fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 200 });
const remindEveryHours = fc.integer({ min: 1, max: 30 });

interface Sent {
  hour: number;
  decision: AlertDecision<{ hour: number }>;
}

function run(obs: boolean[][], remindHours: number): Sent[] {
  let state: AlertLifecycleState<{ hour: number }> = emptyAlertState();
  const sent: Sent[] = [];
  obs.forEach((row, hour) => {
    const conditions = KEYS.filter((_, i) => row[i]).map((key) => ({ key, detail: { hour } }));
    const out = decideAlerts({ state, conditions, now: new Date(START + hour * HOUR_MS), remindEveryMs: remindHours * HOUR_MS });
    for (const d of out.decisions) if (d.kind !== "hold") sent.push({ hour, decision: d });
    state = out.state;
  });
  return sent;
}

/** Incidents of one key: maximal runs of hours in which it holds, [first hour, first hour it no longer holds or undefined). */
function incidents(obs: boolean[][], i: number): { from: number; to?: number }[] {
  const out: { from: number; to?: number }[] = [];
  obs.forEach((row, hour) => {
    const last = out[out.length - 1];
    if (row[i] && (!last || last.to !== undefined)) out.push({ from: hour });
    else if (!row[i] && last && last.to === undefined) last.to = hour;
  });
  return out;
}

describe("alert lifecycle over hourly observations", () => {
  it("each incident gives exactly 1 started, 1 resolved if it ended, and at most floor(duration / interval) reminders", () => {
    fc.assert(
      fc.property(observations, remindEveryHours, (obs, remind) => {
        const sent = run(obs, remind);
        KEYS.forEach((key, i) => {
          const mine = sent.filter((s) => s.decision.key === key);
          for (const inc of incidents(obs, i)) {
            const end = inc.to ?? obs.length - 1;
            const within = mine.filter((s) => s.hour >= inc.from && s.hour <= end);
            expect(within.filter((s) => s.decision.kind === "started").map((s) => s.hour)).toEqual([inc.from]);
            expect(within.filter((s) => s.decision.kind === "resolved").map((s) => s.hour)).toEqual(inc.to === undefined ? [] : [inc.to]);
            const reminders = within.filter((s) => s.decision.kind === "reminder");
            expect(reminders.length).toBeLessThanOrEqual(Math.floor((end - inc.from) / remind));
            for (const r of reminders) expect(r.hour).toBeLessThan(inc.to ?? Number.POSITIVE_INFINITY);
          }
          // Every message of the key falls inside one of its incidents.
          const covered = (h: number) => incidents(obs, i).some((inc) => h >= inc.from && h <= (inc.to ?? obs.length - 1));
          for (const s of mine) expect(covered(s.hour)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("sends no message for a condition that never held", () => {
    fc.assert(
      fc.property(observations, remindEveryHours, (obs, remind) => {
        expect(run(obs, remind).filter((s) => s.decision.key === NEVER)).toEqual([]);
        const keysSent = new Set(run(obs, remind).map((s) => s.decision.key));
        KEYS.forEach((key, i) => {
          if (!obs.some((row) => row[i])) expect(keysSent.has(key)).toBe(false);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("reminds exactly every interval while an incident lasts, and the resolved message carries how long it lasted", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), remindEveryHours, (hours, remind) => {
        const obs = [...Array.from({ length: hours }, () => [true, false, false]), [false, false, false]];
        const sent = run(obs, remind);
        const reminders = sent.filter((s) => s.decision.kind === "reminder").map((s) => s.hour);
        expect(reminders).toEqual(Array.from({ length: Math.floor((hours - 1) / remind) }, (_, k) => (k + 1) * remind));
        const resolved = sent.find((s) => s.decision.kind === "resolved")!;
        expect(resolved.decision.durationMs).toBe(hours * HOUR_MS);
      }),
    );
  });
});
