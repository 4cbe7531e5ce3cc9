import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDays, median, spikingServices, type CostDay } from "../../../core/cost.ts";

/**
 * Invariant: whether a service spikes depends on the shape of its spend, not the currency unit.
 * Scaling every cost AND the dollar floor by the same c > 0 never changes which services spike
 * (ratio test: y > r·m ⇔ c·y > r·c·m; floor test: y − m ≥ f ⇔ c·(y − m) ≥ c·f).
 *
 * With the floor left unscaled the set is NOT invariant (that is the floor's purpose: $0.50 → $5 is
 * ignored, $50 → $500 is not); what holds then is monotonicity: scaling up by c ≥ 1 only adds spikes.
 *
 * Floating point: for powers of two scaling is exact, so the invariant holds bit-for-bit. For any
 * other c a product can round across a threshold only when a service sits within ~1e-12 (relative)
 * of it; those cases are excluded with fc.pre.
 */

const SERVICES = ["ec2", "rds", "s3", "lambda", "cloudfront"];
const REPORT = "2025-03-19";

const amount = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0.01, max: 5_000, noNaN: true }),
  fc.integer({ min: 0, max: 500 }), // repeated round values make medians and ties likely
);
/** 8 days (trailing week + reported day) × services; some lines absent (no spend that day). */
const seriesArb = fc
  .array(fc.array(fc.option(amount, { nil: undefined, freq: 6 }), { minLength: SERVICES.length, maxLength: SERVICES.length }), {
    minLength: 8,
    maxLength: 8,
  })
  .map((rows) =>
    rows.map((row, i): CostDay => {
      const services: Record<string, number> = {};
      row.forEach((v, j) => {
        if (v !== undefined) services[SERVICES[j]!] = v;
      });
      return { date: addDays(REPORT, i - 7), estimated: false, services };
    }),
  );
const spikeArb = fc.record({
  ratio: fc.double({ min: 1.01, max: 4, noNaN: true }),
  minIncrease: fc.double({ min: 0, max: 200, noNaN: true }),
  trailingDays: fc.constant(7),
});

const scale = (days: CostDay[], c: number): CostDay[] =>
  days.map((d) => ({ ...d, services: Object.fromEntries(Object.entries(d.services).map(([k, v]) => [k, v * c])) }));

/** True when some service is within relative `eps` of the ratio or floor threshold. */
function nearThreshold(days: CostDay[], spike: { ratio: number; minIncrease: number }, eps = 1e-9): boolean {
  const day = days.find((d) => d.date === REPORT)!;
  const trailing = days.filter((d) => d.date < REPORT);
  return SERVICES.some((s) => {
    const y = day.services[s] ?? 0;
    const m = median(trailing.map((d) => d.services[s] ?? 0));
    const near = (a: number, b: number) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));
    return near(y, spike.ratio * m) || near(y - m, spike.minIncrease) || near(y, 0);
  });
}

describe("spike detection is unit-free", () => {
  it("scaling costs and the floor by a power of two never changes which services spike", () => {
    fc.assert(
      fc.property(seriesArb, spikeArb, fc.integer({ min: -20, max: 20 }), (days, spike, e) => {
        const c = 2 ** e;
        expect(spikingServices(scale(days, c), REPORT, { ...spike, minIncrease: spike.minIncrease * c })).toEqual(spikingServices(days, REPORT, spike));
      }),
      { numRuns: 500 },
    );
  });

  it("scaling costs and the floor by any positive constant never changes which services spike (away from exact thresholds)", () => {
    fc.assert(
      fc.property(seriesArb, spikeArb, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (days, spike, c) => {
        fc.pre(!nearThreshold(days, spike));
        expect(spikingServices(scale(days, c), REPORT, { ...spike, minIncrease: spike.minIncrease * c })).toEqual(spikingServices(days, REPORT, spike));
      }),
      { numRuns: 500 },
    );
  });

  it("with a fixed dollar floor, scaling up (c ≥ 1) only ever adds spikes", () => {
    fc.assert(
      fc.property(seriesArb, spikeArb, fc.integer({ min: 0, max: 10 }), (days, spike, e) => {
        const before = spikingServices(days, REPORT, spike);
        const after = spikingServices(scale(days, 2 ** e), REPORT, spike);
        expect(after).toEqual(expect.arrayContaining(before));
      }),
      { numRuns: 500 },
    );
  });
});
