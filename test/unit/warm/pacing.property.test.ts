import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { effectiveConcurrency, initialPacer, pace, release, throttle, type PacerConfig, type PacerState } from "../../../core/warm/pacing.ts";

/**
 * The pacer is driven by arbitrary callers: they ask at any time (early, late, repeatedly), requests
 * finish at any time, the origin throttles at any time. Whatever the sequence, the starts must respect
 * the rate and the concurrency.
 */

type Step = { dt: number; op: "ask" | "finish" | "throttle"; pauseMs: number };

const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 300, noNaN: true }), fc.integer({ min: 0, max: 2000 })),
  op: fc.constantFrom("ask", "ask", "ask", "finish", "throttle"),
  pauseMs: fc.integer({ min: 0, max: 3000 }),
});

const configArb: fc.Arbitrary<PacerConfig> = fc.record({
  ratePerSecond: fc.oneof(fc.double({ min: 0.5, max: 500, noNaN: true }), fc.integer({ min: 1, max: 200 })),
  burst: fc.integer({ min: 1, max: 5 }),
  concurrency: fc.integer({ min: 1, max: 16 }),
});

function simulate(config: PacerConfig, steps: Step[], obeyWaits: boolean) {
  let t = 1_000_000;
  let s: PacerState = initialPacer(config, t);
  const starts: number[] = [];
  let maxInFlight = 0;
  let concurrencyViolated = false;
  for (const step of steps) {
    t += step.dt;
    if (step.op === "finish") s = release(s);
    else if (step.op === "throttle") s = throttle(config, s, t, step.pauseMs);
    else {
      const d = pace(s, config, t);
      s = d.state;
      if (d.action === "start") {
        starts.push(t);
        if (s.inFlight > effectiveConcurrency(config, s)) concurrencyViolated = true;
      } else if (obeyWaits && d.waitMs !== null) {
        // A well-behaved driver sleeps exactly as told and asks again.
        t += d.waitMs;
        const again = pace(s, config, t);
        s = again.state;
        if (again.action === "start") starts.push(t);
      }
      maxInFlight = Math.max(maxInFlight, s.inFlight);
    }
  }
  return { starts, maxInFlight, concurrencyViolated };
}

/** Largest number of starts in any window [start_i, start_i + W] minus what the rate allows there. */
function worstExcess(starts: number[], rate: number, burst: number): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < starts.length; i++) {
    for (let j = i; j < starts.length; j++) {
      const windowMs = starts[j]! - starts[i]!;
      const count = j - i + 1;
      worst = Math.max(worst, count - (burst + (rate * windowMs) / 1000));
    }
  }
  return worst;
}

describe("pacing (property)", () => {
  it("never starts more than burst + rate × W in any window W, whatever the calling pattern", () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 250 }), fc.boolean(), (config, steps, obey) => {
        const { starts } = simulate(config, steps, obey);
        // 1e-6: floating-point slack on the token arithmetic, far below one request.
        expect(worstExcess(starts, config.ratePerSecond as number, config.burst)).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 300 },
    );
  });

  it("with burst 1, consecutive starts are at least 1/rate apart (the rate is never exceeded over any window)", () => {
    fc.assert(
      fc.property(
        configArb.map((c) => ({ ...c, burst: 1 })),
        fc.array(stepArb, { maxLength: 250 }),
        (config, steps) => {
          const { starts } = simulate(config, steps, true);
          const minGap = 1000 / (config.ratePerSecond as number);
          for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(minGap - 1e-6);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never has more than `concurrency` requests in flight, also when the rate is unlimited", () => {
    fc.assert(
      fc.property(
        configArb.map((c) => ({ ...c, ratePerSecond: "unlimited" as const })),
        fc.array(stepArb, { maxLength: 250 }),
        (config, steps) => {
          const { maxInFlight, concurrencyViolated } = simulate(config, steps, false);
          expect(concurrencyViolated).toBe(false);
          expect(maxInFlight).toBeLessThanOrEqual(config.concurrency);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a well-behaved driver achieves the configured rate (no tokens lost to its own waits)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 20, max: 200 }), (rate, n) => {
        const config: PacerConfig = { ratePerSecond: rate, burst: 1, concurrency: 1_000_000 };
        const { starts } = simulate(
          config,
          Array.from({ length: n }, () => ({ dt: 0, op: "ask" as const, pauseMs: 0 })),
          true,
        );
        const achieved = ((starts.length - 1) * 1000) / (starts.at(-1)! - starts[0]!);
        expect(Math.abs(achieved - rate) / rate).toBeLessThan(1e-6);
      }),
    );
  });

  it("after a throttle nothing starts during the pause", () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (config, pauseMs, frac) => {
        const s = throttle(config, initialPacer(config, 0), 0, pauseMs);
        expect(pace(s, config, pauseMs * frac * 0.999).action).toBe("wait");
      }),
    );
  });
});
