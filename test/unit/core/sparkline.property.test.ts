import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SPARK_BARS, sparkline } from "../../../core/report/text.ts";

/** The cost digest's 14-day sparklines: one bar per day, the series' minimum lowest, its maximum highest. */
describe("sparkline (property)", () => {
  const amount = fc.double({ min: 0, max: 100_000, noNaN: true });
  const series = fc.array(amount, { minLength: 14, maxLength: 14 });

  it("has one character per day, ▁ at the minimum, █ at the maximum, bars rising with the amount", () => {
    fc.assert(
      fc.property(series, (days) => {
        const line = [...sparkline(days)];
        expect(line).toHaveLength(14);
        for (const ch of line) expect(SPARK_BARS).toContain(ch);
        const min = Math.min(...days);
        const max = Math.max(...days);
        if (min === max) {
          expect(new Set(line).size).toBe(1);
          return;
        }
        expect(line[days.indexOf(min)]).toBe("▁");
        expect(line[days.indexOf(max)]).toBe("█");
        for (let i = 0; i < 14; i++)
          for (let j = 0; j < 14; j++) if (days[i]! < days[j]!) expect(SPARK_BARS.indexOf(line[i]!)).toBeLessThanOrEqual(SPARK_BARS.indexOf(line[j]!));
      }),
    );
  });

  it("is flat for a constant series", () => {
    fc.assert(
      fc.property(amount, (v) => {
        const line = sparkline(Array(14).fill(v));
        expect(line).toBe((v === 0 ? "▁" : "▄").repeat(14));
      }),
    );
  });
});
