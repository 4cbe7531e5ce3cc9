import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { causeMessage, fleetSlackMessage, summarizeFleet, type FleetSummaryInput } from "../../../core/fleet-summary.ts";

const EXECUTION = "arn:aws:states:eu-west-1:999988887777:execution:ops-autopilot-prod-fleet-backup:nightly";
const payments = { account: "111122223333", accountName: "payments" };
const search = { account: "444455556666", accountName: "search" };
const billing = { account: "777788889999", accountName: "billing" };
const DENIED = JSON.stringify({
  errorType: "AccessDenied",
  errorMessage:
    "User: arn:aws:sts::999988887777:assumed-role/ops-autopilot-prod-backup/fn is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/ops-autopilot-prod-member-backup",
  trace: ["AccessDenied: User ...", "    at assume (adapters/sts.ts:1:1)"],
});

const input: FleetSummaryInput = {
  job: "backup",
  execution: EXECUTION,
  targets: [
    { ...payments, region: "eu-west-1" },
    { ...payments, region: "eu-central-1" },
    { ...search, region: "eu-west-1" },
    { ...billing, region: "eu-west-1" },
  ],
  results: [
    { ...payments, region: "eu-west-1", ok: true, counts: { created: 3 }, reportKey: "reports/backup/2026-11-30/a.json" },
    { ...payments, region: "eu-central-1", ok: true, counts: { created: 2 } },
    { ...search, region: "eu-west-1", ok: false, error: "AccessDenied", cause: DENIED },
  ],
};

describe("fleet summary", () => {
  const report = summarizeFleet(input);

  it("puts failing accounts first, names a target without a result, and sums the items", () => {
    expect(report.accounts.map((a) => [a.accountName, a.ok])).toEqual([
      ["billing", false],
      ["search", false],
      ["payments", true],
    ]);
    expect(report.accounts[0]!.regions).toEqual([
      {
        region: "eu-west-1",
        ok: false,
        counts: { created: 0, copied: 0, pruned: 0, stale: 0 },
        error: "NoResult",
        message: "the child execution ended without a result: see the Map Run of the execution",
      },
    ]);
    expect(report.accounts[1]!.regions[0]).toMatchObject({ error: "AccessDenied", roleNotAssumed: true });
    expect(report.accounts[2]!.regions[0]!.reportKey).toBe("reports/backup/2026-11-30/a.json");
    expect(report.totals).toEqual({ created: 5, copied: 0, pruned: 0, stale: 0, accounts: 3, failedAccounts: 2, items: 4, failedItems: 2 });
    expect(report.ok).toBe(false);
  });

  it("renders one message: a section per account, each failure naming account id, name, region and error, and the role line", () => {
    const message = fleetSlackMessage(report);
    expect(message.text).toBe("Fleet backup: 2 of 3 accounts failed (2 of 4 account × regions), 5 created: billing (777788889999), search (444455556666)");
    expect(renderText(message)).toBe(
      [
        "== Fleet backup: 2 of 3 accounts failed (2 of 4 account × regions), 5 created ==",
        "Totals: 3 accounts (2 failed), 4 account × regions (2 failed); created 5, copied 0, pruned 0, stale 0",
        "❌ *billing* (777788889999): failed",
        "• eu-west-1: billing (777788889999) failed: NoResult: the child execution ended without a result: see the Map Run of the execution",
        "❌ *search* (444455556666): failed",
        "• eu-west-1: search (444455556666) failed: AccessDenied: User: arn:aws:sts::999988887777:assumed-role/ops-autopilot-prod-backup/fn is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/ops-autopilot-prod-member-backup",
        "• member role not assumed in eu-west-1: missing, or its trust refuses this deployment (deploy or fix the member roles)",
        "✅ *payments* (111122223333): ok, 5 created",
        "• eu-west-1: ok, 3 created",
        "• eu-central-1: ok, 2 created",
        `Execution ${EXECUTION}`,
      ].join("\n"),
    );
  });

  it("says all ok when no item failed, with the job's own count", () => {
    const ok = summarizeFleet({ ...input, job: "prune", targets: [], results: [{ ...payments, region: "eu-west-1", ok: true, counts: { pruned: 4 } }] });
    expect(fleetSlackMessage(ok).text).toBe("Fleet prune: 1 account ok, 4 pruned");
    expect(ok.ok).toBe(true);
  });

  it("reads a Lambda error's message from its cause, whole or cut by the Catch", () => {
    expect(causeMessage(DENIED)).toMatch(/^User: arn:aws:sts::999988887777:assumed-role/);
    expect(causeMessage('{"errorType":"AggregateRunError","errorMessage":"2 items failed: \\"db-1\\" throttled","trace":["at x (y.ts:1')).toBe(
      '2 items failed: "db-1" throttled',
    );
    expect(causeMessage('{"errorType":"X","errorMessage":"cut here\\')).toBe("cut here");
    expect(causeMessage("Task timed out after 600.00 seconds")).toBe("Task timed out after 600.00 seconds");
    expect(causeMessage(undefined)).toBe("");
  });

  it("lists accounts past the 45th in one section, each still named with its status", () => {
    const many = Array.from({ length: 47 }, (_, i) => ({
      account: String(100000000000 + i),
      accountName: `acct-${String(i).padStart(2, "0")}`,
      region: "eu-west-1",
    }));
    const r = summarizeFleet({
      job: "watchdog",
      execution: EXECUTION,
      targets: many,
      results: many.map((t) => ({ ...t, ok: true as const, counts: { stale: 1 } })),
    });
    const message = fleetSlackMessage(r);
    expect(message.blocks).toHaveLength(49);
    expect(renderText(message).split("\n").at(-2)).toBe("2 more: ✅ *acct-45* (100000000045), ✅ *acct-46* (100000000046)");
  });
});
