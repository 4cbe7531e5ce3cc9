import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";

/** The `cost.accounts` section: spend by linked account for a payer account's digest. */

const base = { stage: "prod", primaryRegion: "eu-west-1" };
function rejection(cost: unknown): string {
  try {
    parseConfig({ ...base, cost });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(cost)}`);
}

describe("cost.accounts", () => {
  it("is absent by default, and fills byAccount, top and linked when present", () => {
    expect(parseConfig(base).cost.accounts).toBeUndefined();
    expect(parseConfig({ ...base, cost: { accounts: {} } }).cost.accounts).toEqual({ byAccount: true, top: 5, linked: [] });
    expect(
      parseConfig({ ...base, cost: { accounts: { dailyThreshold: 100, linked: [{ id: "111111111111", name: "prod", dailyThreshold: 400 }] } } }).cost.accounts,
    ).toEqual({ byAccount: true, top: 5, dailyThreshold: 100, linked: [{ id: "111111111111", name: "prod", dailyThreshold: 400 }] });
  });

  it("alerts on account thresholds by default", () => {
    expect(parseConfig(base).cost.immediateAlerts).toEqual(["daily-total", "forecast", "spike", "account-daily"]);
  });

  it.each([
    ["an account id that is not 12 digits", { accounts: { linked: [{ id: "1234" }] } }, "cost.accounts.linked[0].id: expected a 12-digit AWS account id"],
    [
      "one account listed twice",
      { accounts: { linked: [{ id: "111111111111" }, { id: "222222222222" }, { id: "111111111111" }] } },
      "cost.accounts.linked[2].id: 111111111111 is already listed at linked[0]",
    ],
    ["a name over 50 characters", { accounts: { linked: [{ id: "111111111111", name: "x".repeat(51) }] } }, "cost.accounts.linked[0].name"],
    [
      "a zero threshold",
      { accounts: { linked: [{ id: "111111111111", dailyThreshold: 0 }] } },
      "cost.accounts.linked[0].dailyThreshold: Too small: expected number to be >0",
    ],
    ["top 0", { accounts: { top: 0 } }, "cost.accounts.top: Too small: expected number to be >=1"],
    ["an unknown key", { accounts: { byAcount: true } }, 'cost.accounts: Unrecognized key: "byAcount"'],
    [
      "thresholds without byAccount",
      { accounts: { byAccount: false, dailyThreshold: 100 } },
      "cost.accounts.byAccount: account thresholds need byAccount: true (no spend by account is fetched otherwise)",
    ],
    [
      "too few Cost Explorer calls for the account query",
      { maxApiCalls: 2, accounts: {} },
      "cost.maxApiCalls: must be at least 3 with accounts.byAccount (one query by service, one by account, the forecast); now 2",
    ],
  ])("refuses %s, naming the field", (_what, cost, message) => {
    expect(rejection(cost)).toContain(message);
  });
});
