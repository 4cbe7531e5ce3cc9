import { describe, expect, it } from "vitest";
import { buildCostRun, costLinks } from "../../../core/report/cost.ts";
import { renderText } from "../../../core/report/blocks.ts";
import { EC2, RDS, REPORT_DATE, costConfig, jumpTo, series } from "./builders.ts";

const now = new Date("2025-03-20T08:00:00Z");
const days = series({ [EC2]: jumpTo(100, 300), [RDS]: (_d, before) => (before === 7 ? 150 : 140), "AT&T <Marketplace>": 5 }, { estimatedLast: true });

describe("cost digest message", () => {
  const run = buildCostRun({ days, forecast: { kind: "forecast", remaining: 3000 }, config: costConfig(), now, apiCalls: 2 });
  const text = renderText(run.digest);

  it("reports the last complete day, not today", () => {
    expect(run.reportDate).toBe(REPORT_DATE);
    expect(run.digest.blocks?.[0]).toMatchObject({ type: "header", text: { text: `AWS cost digest · ${REPORT_DATE}` } });
  });

  it("shows total, change vs last week, month to date and forecast against the budget", () => {
    // 2025-03-19: 300 + 140 + 5 = 445; 2025-03-12: 100 + 150 + 5 = 255.
    expect(text).toContain(`*Spend on ${REPORT_DATE}*: $445.00 _(estimated)_`);
    expect(text).toContain("*vs 2025-03-12*: +$190.00 (+75%) vs $255.00");
    // Month to date: 17 days at $245, 2025-03-12 at $255, 2025-03-19 at $445.
    expect(text).toMatch(/\*Month to date \(from 2025-03-01\)\*: \$4,865\.00 · 32% of \$15,000\.00/);
    expect(text).toContain("*Month-end forecast*: $7,865.00 · 52% of budget");
    expect(run.digest.text).toBe(`AWS cost ${REPORT_DATE}: $445.00 (+75% vs last week); 1 finding(s)`);
  });

  it("lists findings with reasons and top movers with their change", () => {
    expect(text).toContain(`:rotating_light: ${EC2}: $300.00 on ${REPORT_DATE}, 3.0× its 7-day median of $100.00 (+$200.00`);
    expect(text).toContain(`• ${EC2}: $300.00 (+$200.00, +200%)`);
  });

  it("says the figures are estimated, which metric and exclusions it uses, and how many Cost Explorer calls it took", () => {
    expect(text).toContain(`Figures for ${REPORT_DATE} are still estimated by AWS`);
    expect(text).toContain("UnblendedCost, UTC days, excluding Credit, Refund, Upfront, Support · 2 Cost Explorer call(s) ($0.02)");
  });

  it("links to Cost Explorer for the window and the month", () => {
    const [window, month] = costLinks(costConfig(), REPORT_DATE);
    expect(window!.url).toContain("startDate=2025-03-06&endDate=2025-03-19");
    expect(window!.url).toContain("groupBy=%5B%22Service%22%5D");
    expect(month!.url).toContain("startDate=2025-03-01&endDate=2025-03-19");
    // Slack gets the mrkdwn link; the plain text reads "label (url)".
    expect(JSON.stringify(run.digest.blocks)).toContain(JSON.stringify(`<${window!.url}|Cost Explorer: last 14 days by service>`).slice(1, -1));
    expect(text).toContain(`Cost Explorer: last 14 days by service (${window!.url})`);
  });

  it("escapes Slack control characters in service names", () => {
    const r = buildCostRun({ days: series({ "AT&T <Marketplace>": jumpTo(10, 80) }), config: costConfig(), now });
    const t = renderText(r.digest);
    expect(t).toContain("AT&amp;T &lt;Marketplace&gt;");
    expect(t).not.toContain("<Marketplace>");
  });

  it("keeps every block within Slack's limits", () => {
    for (const block of run.digest.blocks ?? []) {
      if (block.type === "section" && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
      if (block.type === "section") expect((block.fields ?? []).length).toBeLessThanOrEqual(10);
    }
    expect(run.digest.blocks!.length).toBeLessThanOrEqual(50);
  });
});

describe("cost alert message", () => {
  it("is built only for incidents that start now, not for one already open", () => {
    const first = buildCostRun({ days, config: costConfig(), now });
    expect(first.startedKeys).toEqual([`cost:spike:${EC2}`]);
    expect(renderText(first.alert!)).toContain(`:rotating_light: AWS cost alert · ${REPORT_DATE}`);
    expect(first.alert!.text).toBe(`AWS cost alert ${REPORT_DATE}: spike ${EC2}`);

    const again = buildCostRun({ days, config: costConfig(), now, alerts: { state: first.state, remindEveryMs: 6 * 3_600_000 } });
    expect(again.alert).toBeNull();
    expect(again.findings).toHaveLength(1); // still in the digest
    expect(renderText(again.digest)).toContain("_(open since today)_");
  });

  it("is not built when nothing needs one", () => {
    expect(buildCostRun({ days: series({ [EC2]: 100 }), config: costConfig(), now }).alert).toBeNull();
  });

  it("a quiet day says so", () => {
    const t = renderText(buildCostRun({ days: series({ [EC2]: 100 }), config: costConfig(), now }).digest);
    expect(t).toContain(":white_check_mark: No findings");
    expect(t).toContain("*Month-end forecast*: unavailable (not requested)");
  });
});

describe("a day missing from Cost Explorer's answer", () => {
  it("names the missing days of the window and the month in the digest", () => {
    const gappy = days.filter((d) => d.date !== "2025-03-05" && d.date !== "2025-03-12");
    const r = buildCostRun({ days: gappy, forecast: { kind: "forecast", remaining: 3000 }, config: costConfig(), now });
    const t = renderText(r.digest);

    expect(r.summary.missingDays).toEqual(["2025-03-05", "2025-03-12"]);
    expect(t).toContain(":grey_question: No Cost Explorer data for 2025-03-05, 2025-03-12: month to date and medians leave them out.");
    expect(t).toContain("*vs 2025-03-12*: no data for that day");
  });

  it("reports a missing reported day instead of throwing, and judges nothing on it", () => {
    const r = buildCostRun({ days: days.filter((d) => d.date !== REPORT_DATE), forecast: { kind: "forecast", remaining: 3000 }, config: costConfig(), now });
    const t = renderText(r.digest);

    expect(r.summary.missingDays).toEqual([REPORT_DATE]);
    expect(r.findings).toEqual([]);
    expect(r.digest.text).toBe(`AWS cost ${REPORT_DATE}: no Cost Explorer data for the day; 0 finding(s)`);
    expect(t).toContain(`*Spend on ${REPORT_DATE}*: no data`);
    expect(t).toContain(`:grey_question: No Cost Explorer data for ${REPORT_DATE} (the reported day): its spend, spikes and new services cannot be judged.`);
  });
});

describe("amounts in the billing currency", () => {
  it.each([
    ["EUR", "€445.00", "€4,865.00 · 32% of €15,000.00"],
    ["JPY", "¥445", "¥4,865 · 32% of ¥15,000"],
    ["GBP", "£445.00", "£4,865.00 · 32% of £15,000.00"],
  ])("shows %s amounts as %s, never as dollars", (currency, day, monthToDate) => {
    const r = buildCostRun({ days, forecast: { kind: "forecast", remaining: 3000 }, config: costConfig(), now, apiCalls: 2, currency });
    const t = renderText(r.digest);

    expect(t).toContain(`*Spend on ${REPORT_DATE}*: ${day} _(estimated)_`);
    expect(t).toContain(`*Month to date (from 2025-03-01)*: ${monthToDate}`);
    expect(r.digest.text.startsWith(`AWS cost ${REPORT_DATE}: ${day} `)).toBe(true);
    expect(renderText(r.alert!)).toContain(`${EC2}: ${currency === "JPY" ? "¥300" : `${day[0]}300.00`} on ${REPORT_DATE}`);
    // Cost Explorer's own price stays in dollars: it bills its API in USD.
    expect(t).toContain("2 Cost Explorer call(s) ($0.02)");
    expect(t.replace("($0.02)", "")).not.toContain("$");
  });

  it("shows a unit Intl does not know as a plain number and the unit", () => {
    const r = buildCostRun({ days: series({ [EC2]: 100 }), config: costConfig(), now, currency: "credits" });
    expect(renderText(r.digest)).toContain(`*Spend on ${REPORT_DATE}*: 100.00 credits`);
  });
});
