import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { fleetSlackMessage, summarizeFleet, type FleetItemOutcome } from "../../../core/fleet-summary.ts";

const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1"];
const count = fc.option(fc.nat({ max: 1000 }), { nil: undefined });

/** A fleet of 1 to 60 accounts, distinct ids and names, each in 1 to 3 regions, each item ok or failed. */
const fleet = fc
  .uniqueArray(fc.integer({ min: 100000000000, max: 999999999999 }), { minLength: 1, maxLength: 60 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id, i) =>
        fc.subarray(REGIONS, { minLength: 1 }).chain((regions) =>
          fc.tuple(
            ...regions.map((region) =>
              fc.oneof(
                fc.record({ created: count, copied: count, pruned: count, stale: count }).map(
                  (c): FleetItemOutcome => ({
                    account: String(id),
                    accountName: `acct-${i}`,
                    region,
                    ok: true,
                    counts: Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)),
                  }),
                ),
                fc
                  .constantFrom("AccessDenied", "AggregateRunError", "States.Timeout")
                  .map((error): FleetItemOutcome => ({ account: String(id), accountName: `acct-${i}`, region, ok: false, error, cause: "boom" })),
              ),
            ),
          ),
        ),
      ),
    ),
  )
  .map((accounts) => accounts.flat());

describe("fleet summary properties", () => {
  it("names every account exactly once in the message, and its totals are the sums of the items", () => {
    fc.assert(
      fc.property(fleet, fc.constantFrom("backup", "copy", "prune", "watchdog" as const), (results, job) => {
        const report = summarizeFleet({ job, execution: "arn:aws:states:eu-west-1:1:execution:x:y", targets: results, results });
        const text = renderText(fleetSlackMessage(report));
        const ids = [...new Set(results.map((r) => r.account))];
        expect(report.accounts.map((a) => a.account).sort()).toEqual([...ids].sort());
        for (const id of ids) expect(text.match(new RegExp(`\\*acct-\\d+\\* \\(${id}\\)`, "g"))).toHaveLength(1);
        const sum = (k: "created" | "copied" | "pruned" | "stale") => results.reduce((s, r) => s + (r.ok ? (r.counts[k] ?? 0) : 0), 0);
        expect(report.totals).toEqual({
          created: sum("created"),
          copied: sum("copied"),
          pruned: sum("pruned"),
          stale: sum("stale"),
          accounts: ids.length,
          failedAccounts: new Set(results.filter((r) => !r.ok).map((r) => r.account)).size,
          items: results.length,
          failedItems: results.filter((r) => !r.ok).length,
        });
        const firstOk = report.accounts.findIndex((a) => a.ok);
        if (firstOk >= 0) expect(report.accounts.slice(firstOk).every((a) => a.ok)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
