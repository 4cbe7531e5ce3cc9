import { describe, expect, it } from "vitest";
import { emptyAlertState, HOUR_MS, type AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { accountName, addDays, analyzeCosts, type CostDay } from "../../../core/cost.ts";
import { costKey, type CostIncidentDetail } from "../../../core/cost-alerts.ts";
import { buildCostRun, type CostRun } from "../../../core/report/cost.ts";
import { renderText } from "../../../core/report/blocks.ts";
import { EC2, RDS, costConfig, series } from "./builders.ts";

/**
 * Spend by linked account (cost.accounts): the top accounts in the digest, named by Cost Explorer, else the
 * configuration, else their id; per-account daily thresholds as incidents `cost:account:<id>` on the alert lifecycle.
 */

const PROD = "111111111111";
const STAGING = "222222222222";
const SANDBOX = "333333333333";
const NAMES = { [PROD]: "prod" };

/** Days with the services' spend split over accounts: `accounts(date)` gives each account's share of the day. */
function withAccounts(days: CostDay[], accounts: (date: string) => Record<string, number>): CostDay[] {
  return days.map((d) => ({ ...d, accounts: accounts(d.date) }));
}

const ACCOUNTS = {
  byAccount: true,
  top: 2,
  dailyThreshold: 100,
  linked: [
    { id: PROD, name: "production (config)", dailyThreshold: 400 },
    { id: STAGING, name: "staging" },
  ],
};

function morning(
  date: string,
  days: CostDay[],
  state: AlertLifecycleState<CostIncidentDetail>,
  config: Record<string, unknown> = { accounts: ACCOUNTS },
): CostRun {
  return buildCostRun({
    days: days.filter((d) => d.date <= date),
    reportDate: date,
    forecast: { kind: "forecast", remaining: 0 },
    accountNames: NAMES,
    config: costConfig({ dailyThreshold: 5000, monthlyBudget: 100_000, ...config }),
    now: new Date(`${addDays(date, 1)}T09:00:00Z`),
    alerts: { state, remindEveryMs: 6 * HOUR_MS },
  });
}

describe("account names", () => {
  it("takes Cost Explorer's name first, then the configured one, then the id", () => {
    const config = costConfig({ accounts: ACCOUNTS }).accounts;
    expect(accountName(PROD, NAMES, config)).toBe("prod");
    expect(accountName(STAGING, NAMES, config)).toBe("staging");
    expect(accountName(SANDBOX, NAMES, config)).toBe(SANDBOX);
    expect(accountName(PROD, { [PROD]: "  " }, config)).toBe("production (config)");
  });
});

describe("per-account findings", () => {
  const days = withAccounts(series({ [EC2]: 500, [RDS]: 100 }, { from: "2026-11-01", to: "2026-11-05" }), (d) => ({
    [PROD]: d === "2026-11-05" ? 450 : 350,
    [STAGING]: 120,
    [SANDBOX]: 30,
  }));

  it("finds each account over its own threshold (else the default), with the reason naming it", () => {
    const { findings, summary } = analyzeCosts(
      { days, reportDate: "2026-11-05", forecast: { kind: "month-complete" }, accountNames: NAMES },
      costConfig({ dailyThreshold: 5000, monthlyBudget: 100_000, accounts: ACCOUNTS }),
    );
    expect(findings.map((f) => [f.id, f.action, f.target, f.name, f.value, f.threshold, f.reason])).toEqual([
      [`account-daily:${PROD}`, "alert", PROD, "prod", 450, 400, `Account prod (${PROD}) spent $450.00 on 2026-11-05, over its $400.00 daily threshold.`],
      [
        `account-daily:${STAGING}`,
        "alert",
        STAGING,
        "staging",
        120,
        100,
        `Account staging (${STAGING}) spent $120.00 on 2026-11-05, over its $100.00 daily threshold.`,
      ],
    ]);
    expect(summary.accounts).toEqual({
      judged: true,
      count: 3,
      top: [
        { id: PROD, name: "prod", amount: 450, previous: { date: "2026-11-04", amount: 350, change: 100, percent: (100 / 350) * 100 } },
        { id: STAGING, name: "staging", amount: 120, previous: { date: "2026-11-04", amount: 120, change: 0, percent: 0 } },
      ],
    });
  });

  it("judges no account and lists none when the section is absent or byAccount is false", () => {
    for (const config of [{}, { accounts: { byAccount: false } }]) {
      const { findings, summary } = analyzeCosts(
        { days, reportDate: "2026-11-05", forecast: { kind: "month-complete" } },
        costConfig({ dailyThreshold: 5000, monthlyBudget: 100_000, ...config }),
      );
      expect(findings).toEqual([]);
      expect(summary.accounts).toBeUndefined();
    }
  });

  it("keys each account's incident by its id", () => {
    expect(costKey({ kind: "account-daily", target: PROD }, "2026-11-05")).toBe(`cost:account:${PROD}`);
  });
});

describe("the digest's top accounts", () => {
  it("lists the top N by the day's spend with names and the change from the day before (pinned)", () => {
    const days = withAccounts(
      series({ [EC2]: 500 }, { from: "2026-11-01", to: "2026-11-05" }),
      (d): Record<string, number> => (d === "2026-11-05" ? { [PROD]: 300, [STAGING]: 150, [SANDBOX]: 50 } : { [PROD]: 250, [SANDBOX]: 250 }),
    );
    const run = morning("2026-11-05", days, emptyAlertState(), { accounts: { ...ACCOUNTS, dailyThreshold: undefined, top: 3 } });
    const text = renderText(run.digest);
    const block = text.slice(text.indexOf("*Top accounts*"), text.indexOf("*Top movers*")).trim();
    expect(block).toBe(
      [
        "*Top accounts* (3 of 3 with spend on 2026-11-05; change vs 2026-11-04)",
        `• prod (${PROD}): $300.00 (+$50.00, +20%)`,
        `• staging (${STAGING}): $150.00 (+$150.00, new spend)`,
        `• ${SANDBOX}: $50.00 (-$200.00, -80%)`,
      ].join("\n"),
    );
  });

  it("says so when Cost Explorer's answer by account lacked the day", () => {
    const days = series({ [EC2]: 500 }, { from: "2026-11-01", to: "2026-11-05" });
    const text = renderText(morning("2026-11-05", days, emptyAlertState()).digest);
    expect(text).toContain("*Top accounts*\n:grey_question: No Cost Explorer data by account for 2026-11-05.");
  });
});

describe("per-account incidents on the alert lifecycle", () => {
  // PROD over its $400 on the 3rd to the 5th; STAGING over the $100 default on the 4th only; SANDBOX never.
  const over: Record<string, Record<string, number>> = {
    "2026-11-03": { [PROD]: 450 },
    "2026-11-04": { [PROD]: 500, [STAGING]: 130 },
    "2026-11-05": { [PROD]: 420 },
  };
  const days = withAccounts(series({ [EC2]: 500 }, { from: "2026-11-01", to: "2026-11-08" }), (d) => ({
    [PROD]: 300,
    [STAGING]: 50,
    [SANDBOX]: 20,
    ...over[d],
  }));

  function run(dates: string[], source = days): CostRun[] {
    let state: AlertLifecycleState<CostIncidentDetail> = emptyAlertState();
    return dates.map((d) => {
      const r = morning(d, source, state);
      state = r.state;
      return r;
    });
  }

  it("opens one incident per account, reminds in the digest while it lasts, and says when each ends", () => {
    const runs = run(["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]);
    expect(runs.map((r) => [r.reportDate, r.startedKeys, r.resolvedKeys, r.alert?.text ?? null, r.resolved?.text ?? null])).toEqual([
      ["2026-11-02", [], [], null, null],
      ["2026-11-03", [`cost:account:${PROD}`], [], `AWS cost alert 2026-11-03: account prod (${PROD})`, null],
      ["2026-11-04", [`cost:account:${STAGING}`], [], `AWS cost alert 2026-11-04: account staging (${STAGING})`, null],
      ["2026-11-05", [], [`cost:account:${STAGING}`], null, `AWS cost ended 2026-11-05: account staging (${STAGING}) (1 day)`],
      ["2026-11-06", [], [`cost:account:${PROD}`], null, `AWS cost ended 2026-11-06: account prod (${PROD}) (3 days)`],
    ]);
    expect(renderText(runs[2]!.digest)).toContain(
      `:alarm_clock: Account prod (${PROD}) spent $500.00 on 2026-11-04, over its $400.00 daily threshold. _(open since 2026-11-03, day 2)_`,
    );
    expect(renderText(runs[4]!.resolved!)).toContain(
      `• *account prod (${PROD})*: open 2026-11-03 to 2026-11-05 (3 days); $300.00 on 2026-11-06, within its $400.00 daily threshold.`,
    );
  });

  it("ends the account incidents, saying why, when cost.accounts is turned off", () => {
    const [first] = run(["2026-11-03"]);
    const off = morning("2026-11-04", days, first!.state, {});
    expect([off.resolvedKeys, off.resolved?.text]).toEqual([[`cost:account:${PROD}`], `AWS cost ended 2026-11-04: account prod (${PROD}) (1 day)`]);
    expect(renderText(off.resolved!)).toContain(`• *account prod (${PROD})*: open on 2026-11-03 (1 day); no longer watched (cost.accounts is off).`);
  });

  it("holds an open account incident on a morning whose answer by account lacks the day, and ends it when the day is back", () => {
    const gap = days.map((d) => (d.date === "2026-11-04" ? { date: d.date, estimated: d.estimated, services: d.services } : d));
    const runs = run(["2026-11-03", "2026-11-04", "2026-11-06"], gap);
    expect(runs.map((r) => [r.startedKeys, r.resolvedKeys])).toEqual([
      [[`cost:account:${PROD}`], []],
      [[], []],
      [[], [`cost:account:${PROD}`]],
    ]);
    expect(renderText(runs[1]!.digest)).toContain(`:grey_question: Not judged today, still open: Account prod (${PROD}) spent $450.00 on 2026-11-03`);
  });
});

describe("an account name is the member account's to set", () => {
  // A member account's root user can rename the account, and Cost Explorer gives that name back: it must not ping the
  // channel or carry a link from the payer's alert text (Slack mrkdwn: https://api.slack.com/reference/surfaces/formatting#escaping).
  it("is escaped in the alert's and the end message's text, as in their blocks", () => {
    const days = withAccounts(series({ [EC2]: 500 }, { from: "2026-11-01", to: "2026-11-04" }), (d) => ({ [PROD]: d === "2026-11-03" ? 450 : 300 }));
    const hostile = { [PROD]: "<!channel> <https://evil.example|prod>" };
    const at = (date: string, state: AlertLifecycleState<CostIncidentDetail>) =>
      buildCostRun({
        days: days.filter((d) => d.date <= date),
        reportDate: date,
        forecast: { kind: "forecast", remaining: 0 },
        accountNames: hostile,
        config: costConfig({ dailyThreshold: 5000, monthlyBudget: 100_000, accounts: ACCOUNTS }),
        now: new Date(`${addDays(date, 1)}T09:00:00Z`),
        alerts: { state, remindEveryMs: 6 * HOUR_MS },
      });
    const opened = at("2026-11-03", emptyAlertState());
    const ended = at("2026-11-04", opened.state);
    const label = `account &lt;!channel&gt; &lt;https://evil.example|prod&gt; (${PROD})`;
    expect([opened.alert?.text, ended.resolved?.text]).toEqual([`AWS cost alert 2026-11-03: ${label}`, `AWS cost ended 2026-11-04: ${label} (1 day)`]);
  });
});
