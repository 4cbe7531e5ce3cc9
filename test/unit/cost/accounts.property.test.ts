import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyzeCosts, type CostDay } from "../../../core/cost.ts";
import { costConfig } from "./builders.ts";

/**
 * Invariants of spend by linked account, whatever the amounts, thresholds and names:
 * - an account has a finding exactly when its day is over its own threshold (else the default), and one at most;
 * - the top list holds at most `top` accounts, each with spend, largest first, and every name is non-empty;
 * - an account's day is the same in the top list and in its finding.
 */

const IDS = ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"];
const REPORT = "2026-11-05";
const amount = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.01, max: 2000, noNaN: true }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const caseArb = fc.record({
  today: fc.array(maybe(amount), { minLength: IDS.length, maxLength: IDS.length }),
  before: fc.array(maybe(amount), { minLength: IDS.length, maxLength: IDS.length }),
  own: fc.array(maybe(fc.integer({ min: 1, max: 1500 })), { minLength: IDS.length, maxLength: IDS.length }),
  fallback: maybe(fc.integer({ min: 1, max: 1500 })),
  names: fc.array(maybe(fc.constantFrom("prod", "staging", " ", "")), { minLength: IDS.length, maxLength: IDS.length }),
  top: fc.integer({ min: 1, max: 6 }),
});

const spend = (amounts: (number | undefined)[]): Record<string, number> =>
  Object.fromEntries(IDS.flatMap((id, i) => (amounts[i] === undefined ? [] : [[id, amounts[i]!]])));

describe("spend by linked account, property", () => {
  it("finds exactly the accounts over their threshold and lists at most top N, largest first, all named", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const days: CostDay[] = [
          { date: "2026-11-04", estimated: false, services: { x: 1 }, accounts: spend(c.before) },
          { date: REPORT, estimated: false, services: { x: 1 }, accounts: spend(c.today) },
        ];
        const config = costConfig({
          dailyThreshold: 1e9,
          monthlyBudget: 1e10,
          accounts: {
            top: c.top,
            ...(c.fallback !== undefined ? { dailyThreshold: c.fallback } : {}),
            linked: IDS.flatMap((id, i) => (c.own[i] === undefined ? [] : [{ id, dailyThreshold: c.own[i] }])),
          },
        });
        const accountNames = Object.fromEntries(IDS.flatMap((id, i) => (c.names[i] === undefined ? [] : [[id, c.names[i]!]])));
        const { findings, summary } = analyzeCosts({ days, reportDate: REPORT, forecast: { kind: "month-complete" }, accountNames }, config);

        const expected = IDS.filter((_id, i) => {
          const threshold = c.own[i] ?? c.fallback;
          return c.today[i] !== undefined && threshold !== undefined && c.today[i]! > threshold;
        });
        const found = findings.filter((f) => f.kind === "account-daily");
        expect(found.map((f) => f.target)).toEqual(expected);

        const top = summary.accounts!.top;
        expect(top.length).toBeLessThanOrEqual(c.top);
        for (let i = 1; i < top.length; i++) expect(top[i - 1]!.amount).toBeGreaterThanOrEqual(top[i]!.amount);
        for (const a of top) {
          expect(a.name.trim()).not.toBe("");
          expect(Math.abs(a.amount)).toBeGreaterThanOrEqual(0.005);
        }
        for (const f of found) {
          const listed = top.find((a) => a.id === f.target);
          if (listed) expect(listed.amount).toBe(f.value);
        }
      }),
      { numRuns: 300 },
    );
  });
});
