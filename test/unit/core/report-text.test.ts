import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { plainLinks, sparkline, vsTarget, wrap, wrapItems, wrappedTable } from "../../../core/report/text.ts";

const URL_14 =
  "https://us-east-1.console.aws.amazon.com/cost-management/home?region=us-east-1#/cost-explorer?chartStyle=STACK&startDate=2026-11-07&endDate=2026-11-20";

describe("renderText: Slack links in plain text (https://api.slack.com/reference/surfaces/formatting#linking-urls)", () => {
  const message = {
    text: "cost",
    blocks: [
      { type: "context" as const, elements: [{ type: "mrkdwn" as const, text: `<${URL_14}|Cost Explorer: last 14 days by service> · <https://x.example/r>` }] },
    ],
  };

  it("renders <url|label> as label (url), and a bare <url> as the url, never the raw form", () => {
    expect(renderText(message)).toBe(`Cost Explorer: last 14 days by service (${URL_14}) · https://x.example/r`);
  });

  it("renders only the label where the URL is noise (links: label)", () => {
    expect(renderText(message, { links: "label" })).toBe("Cost Explorer: last 14 days by service · https://x.example/r");
  });

  it("leaves mentions and channel links alone", () => {
    expect(plainLinks("<!here> <@U123> <#C1|ops> see <mailto:ops@example.com|ops>")).toBe("<!here> <@U123> <#C1|ops> see ops (mailto:ops@example.com)");
  });
});

describe("wrap: hanging indent, never a cut word", () => {
  it("wraps at the width with the indent counted", () => {
    expect(wrap("alpha beta gamma delta epsilon", 12, 2)).toEqual(["alpha beta", "  gamma", "  delta", "  epsilon"]);
  });

  it("starts each paragraph at the margin and indents only its continuation lines", () => {
    expect(wrap("✓ one two three\n✓ four", 9, 2)).toEqual(["✓ one two", "  three", "✓ four"]);
  });

  it("keeps the spacing a line was written with, and a paragraph's leading spaces on each of its lines", () => {
    expect(wrap("a  b", 10, 2)).toEqual(["a  b"]);
    expect(wrap("  2025-10-01  started  no fresh backup for 3 resources", 30, 12)).toEqual([
      "  2025-10-01  started  no",
      "              fresh backup for",
      "              3 resources",
    ]);
  });

  it("breaks a list only between items", () => {
    expect(wrapItems("Throttled:", ["Change at 10:09:20 (Throttling)", "Change at 10:09:21 (Throttling)"], 45)).toEqual([
      "Throttled: Change at 10:09:20 (Throttling),",
      "  Change at 10:09:21 (Throttling)",
    ]);
  });

  it("keeps a word longer than the line whole", () => {
    expect(wrap("see https://example.com/a/very/long/path now", 10, 0)).toEqual(["see", "https://example.com/a/very/long/path", "now"]);
  });

  it("wraps a table's last column under itself", () => {
    expect(
      wrappedTable(
        [
          ["step", "n", "reason"],
          ["pre-checks", 12, "primary-down: primary orders-primary is down by a second signal"],
        ],
        40,
      ),
    ).toBe(
      [
        "step        n   reason",
        "pre-checks  12  primary-down: primary",
        "                  orders-primary is down",
        "                  by a second signal",
      ].join("\n"),
    );
  });
});

describe("vsTarget", () => {
  it("says met at or under the target and missed over it", () => {
    const s = (n: number) => `${n} s`;
    expect(vsTarget(361, 300, s)).toBe("361 s (target 300 s: missed)");
    expect(vsTarget(60, 60, s)).toBe("60 s (target 60 s: met)");
  });
});

describe("sparkline", () => {
  it("scales each series between its own minimum and maximum", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([105, 110, 115, 330])).toBe("▁▁▁█");
  });

  it("is flat for a constant series and blank for a day without data", () => {
    expect(sparkline([6.2, 6.2, null, 6.2])).toBe("▄▄ ▄");
    expect(sparkline([0, 0, 0])).toBe("▁▁▁");
  });
});
