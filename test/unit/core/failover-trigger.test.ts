import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alarmStateAt,
  detectionDelay,
  firstAlarm,
  probeNamespace,
  probeRun,
  type TriggerTuning,
  triggerAlarmName,
  tuningProblems,
} from "../../../core/failover-trigger.ts";

/** The defaults of schemas/config-failover.ts `trigger`. */
const DEFAULT: TriggerTuning = { periodSeconds: 60, failuresToAlarm: 3, evaluationPeriods: 4, timeoutMs: 5000 };
const HOUR = 3600;

/** The first ALARM over two hours for a primary that is down at the given moments, probe at `phase` s into each minute. */
function alarmFor(down: (at: number) => boolean, opts: { tuning?: TriggerTuning; phase?: number; evalPhase?: number; ran?: (at: number) => boolean } = {}) {
  const t = opts.tuning ?? DEFAULT;
  const dps = probeRun(t, { from: 0, until: 2 * HOUR, phase: opts.phase ?? 7, down, ...(opts.ran ? { ran: opts.ran } : {}) });
  return firstAlarm(t, dps, { from: 0, until: 2 * HOUR, firstEvaluation: opts.evalPhase ?? 30 });
}

/** Down during the minutes (probe periods) listed, counted from 1000 s. */
const downInMinutes =
  (...minutes: number[]) =>
  (at: number) =>
    minutes.some((m) => at >= 1000 + m * 60 && at < 1000 + (m + 1) * 60);

describe("failover trigger tuning", () => {
  it("names the alarm after the app, stage and group, and publishes in a namespace of its own stage", () => {
    expect(triggerAlarmName("ops-autopilot-prod", "app-db")).toBe("ops-autopilot-prod-failover-app-db-primary-down");
    expect(probeNamespace("ops-autopilot-prod")).toBe("ops-autopilot-prod/failover-probe");
  });

  it("detects a sustained outage in 127 to 247 s with the defaults (3 of 4 one-minute periods, 5 s timeout)", () => {
    expect(detectionDelay(DEFAULT)).toEqual({ worstSeconds: 247, bestSeconds: 127 });
    expect(detectionDelay({ periodSeconds: 60, failuresToAlarm: 2, evaluationPeriods: 3, timeoutMs: 5000 })).toEqual({ worstSeconds: 187, bestSeconds: 67 });
    expect(detectionDelay({ periodSeconds: 120, failuresToAlarm: 3, evaluationPeriods: 4, timeoutMs: 10_000 })).toEqual({
      worstSeconds: 432,
      bestSeconds: 252,
    });
  });

  it("does not alarm on a single failed probe", () => {
    expect(alarmFor(downInMinutes(3))).toBeUndefined();
  });

  it("does not alarm on two failed probes that are not consecutive", () => {
    expect(alarmFor(downInMinutes(3, 5))).toBeUndefined();
    expect(alarmFor(downInMinutes(3, 6, 9, 12))).toBeUndefined();
  });

  it("alarms on three failures within four periods, consecutive or not", () => {
    expect(alarmFor(downInMinutes(3, 4, 5))).toBeDefined();
    expect(alarmFor(downInMinutes(3, 5, 6))).toBeDefined();
  });

  it("a probe that stops running (no datapoints) never alarms, however long it is silent", () => {
    expect(alarmFor(() => false, { ran: (at) => at < 600 })).toBeUndefined();
    // Down all along, but the probe never ran: nothing says so, so nothing starts a promotion.
    expect(alarmFor(() => true, { ran: () => false })).toBeUndefined();
  });

  it("a sustained outage alarms after the best case and within the worst case, at any probe and evaluation phase", () => {
    const { worstSeconds, bestSeconds } = detectionDelay(DEFAULT);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.double({ min: 1000, max: 1060, noNaN: true }),
        (phase, evalPhase, t0) => {
          const at = alarmFor((s) => s >= t0, { phase, evalPhase });
          expect(at).toBeDefined();
          expect(at! - t0).toBeLessThanOrEqual(worstSeconds);
          expect(at! - t0).toBeGreaterThanOrEqual(bestSeconds);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("holds the worst case for other tunings the schema accepts", () => {
    fc.assert(
      fc.property(
        fc.record({
          periodSeconds: fc.constantFrom(60, 120, 180),
          failuresToAlarm: fc.integer({ min: 2, max: 5 }),
          extra: fc.integer({ min: 1, max: 3 }),
          timeoutMs: fc.integer({ min: 1000, max: 20_000 }),
        }),
        fc.integer({ min: 0, max: 179 }),
        fc.integer({ min: 0, max: 59 }),
        fc.double({ min: 1000, max: 1180, noNaN: true }),
        ({ extra, ...r }, phase, evalPhase, t0) => {
          const tuning = { ...r, evaluationPeriods: r.failuresToAlarm + extra };
          if (tuningProblems(tuning, 86_400).length) return;
          const at = alarmFor((s) => s >= t0, { tuning, phase: phase % tuning.periodSeconds, evalPhase });
          expect(at).toBeDefined();
          expect(at! - t0).toBeLessThanOrEqual(detectionDelay(tuning).worstSeconds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("with N = M an outage can go unseen at some phases, which is why evaluationPeriods must exceed failuresToAlarm", () => {
    const tight = { ...DEFAULT, evaluationPeriods: 3 };
    // The probe publishes at 7 + 5 + 2 = 14 s into each minute; an evaluation at 10 s always finds its own period empty.
    expect(alarmFor(() => true, { tuning: tight, phase: 7, evalPhase: 10 })).toBeUndefined();
    expect(alarmFor(() => true, { tuning: DEFAULT, phase: 7, evalPhase: 10 })).toBeDefined();
    expect(tuningProblems(tight, 300)).toEqual([
      {
        field: "evaluationPeriods",
        message: "at least failuresToAlarm + 1 (4): the period in progress has no datapoint yet at some evaluations, so with N = M an outage can go unseen",
      },
    ]);
  });

  it("counts a period as breaching only when every probe in it failed (Minimum)", () => {
    const dps = [
      { startedAt: 60, publishedAt: 62, failed: false },
      { startedAt: 70, publishedAt: 77, failed: true },
      { startedAt: 120, publishedAt: 127, failed: true },
      { startedAt: 180, publishedAt: 187, failed: true },
    ];
    expect(alarmStateAt({ ...DEFAULT, failuresToAlarm: 2, evaluationPeriods: 3 }, dps, 200)).toBe("ALARM");
    expect(alarmStateAt(DEFAULT, dps, 200)).toBe("OK");
  });

  it("refuses tunings that alarm on a blip, cannot publish in time or detect too late, naming the field", () => {
    expect(tuningProblems({ ...DEFAULT, failuresToAlarm: 1, evaluationPeriods: 2 }, 300).map((p) => p.field)).toEqual(["failuresToAlarm"]);
    expect(tuningProblems({ ...DEFAULT, timeoutMs: 58_000 }, 300).map((p) => p.field)).toEqual(["timeoutMs"]);
    expect(tuningProblems(DEFAULT, 240)).toEqual([
      {
        field: "maxDetectionSeconds",
        message:
          "this tuning detects an outage in up to 247 s (3 of 4 periods of 60 s, 5000 ms timeout), over the 240 s budget: lower failuresToAlarm or periodSeconds, or raise the budget",
      },
    ]);
    expect(tuningProblems(DEFAULT, 300)).toEqual([]);
  });
});
