import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { buildCostRun } from "../../../core/report/cost.ts";
import { EC2, RDS, REPORT_DATE, costConfig, series } from "./builders.ts";

/** The digest shows each service's last 14 days as a sparkline, scaled to its own range. */
describe("cost digest sparklines", () => {
  const now = new Date("2025-03-20T08:00:00Z");
  // EC2 climbs $10 a day over the window (14 days: 2025-03-06 … 2025-03-19); RDS is flat; S3 has no line on 2025-03-10 (no spend: $0); 2025-03-08 is missing from the data.
  const days = series({
    [EC2]: (_d, before) => 100 + (13 - before) * 10,
    [RDS]: 140,
    "Amazon Simple Storage Service": (d) => (d === "2025-03-10" ? Number.NaN : d < "2025-03-15" ? 1 : 2),
  }).filter((d) => d.date !== "2025-03-08");
  const run = buildCostRun({ days, config: costConfig({ dailyThreshold: 10_000 }), now });
  const text = renderText(run.digest);

  it("prints one 14-day sparkline per service, largest spend first, a day missing from the data left blank", () => {
    expect(text).toContain(
      [
        `*Last 14 days by service* (2025-03-06 → ${REPORT_DATE}; each line scaled to its own range)`,
        `\`▁▂ ▃▃▄▄▅▅▆▆▇▇█\` ${EC2} · $100.00–$230.00`,
        `\`▄▄ ▄▄▄▄▄▄▄▄▄▄▄\` ${RDS} · $140.00`,
        "`▅▅ ▅▁▅▅▅▅█████` Amazon Simple Storage Service · $0.00–$2.00",
      ].join("\n"),
    );
  });
});
