import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { withoutReportLinkLine, withReportLink } from "../../../core/report/report-link.ts";
import { plainLinks } from "../../../core/report/text.ts";
import { context, header, renderText, section, type SlackMessage } from "../../../core/report/blocks.ts";

const URL_ = "https://s3.console.aws.amazon.com/s3/object/ops-reports?region=eu-west-1&prefix=reports/backup/2026-04-19/r1.json";
const SUMMARY: SlackMessage = { text: "Backups: 5 created, 0 failed", blocks: [header("Backups"), section("5 created")] };

describe("withReportLink", () => {
  it("adds the link as a context block and as the last line of the text; plain text shows label (url)", () => {
    const out = withReportLink(SUMMARY, { url: URL_ });
    expect(out.text).toBe(`Backups: 5 created, 0 failed\n<${URL_}|Run report>`);
    expect(out.blocks).toEqual([header("Backups"), section("5 created"), context(`<${URL_}|Run report>`)]);
    expect(renderText(out)).toBe(`== Backups ==\n5 created\nRun report (${URL_})`);
  });

  it("says that the report could not be saved instead of linking it", () => {
    const out = withReportLink(SUMMARY, { unsaved: "reports/backup/2026-04-19/r1.json" });
    const note = "The run report could not be saved (reports/backup/2026-04-19/r1.json): see the function's logs";
    expect(out.text).toBe(`Backups: 5 created, 0 failed\n${note}`);
    expect(out.blocks?.at(-1)).toEqual(context(note));
  });

  it("names the key when the bucket is not known (a runtime that replaces the report store)", () => {
    expect(withReportLink(SUMMARY, { key: "reports/backup/x.json" }).text).toBe("Backups: 5 created, 0 failed\nRun report: reports/backup/x.json");
  });

  it("keeps a message without blocks block-less (blocks would hide its text in Slack)", () => {
    expect(withReportLink({ text: "t" }, { url: URL_ })).toEqual({ text: `t\n<${URL_}|Run report>` });
  });

  it("for any message: the original stays as it was, followed by exactly one link, however often it is applied", () => {
    const message = fc.record({ text: fc.string({ maxLength: 80 }), blocks: fc.array(fc.string({ maxLength: 40 }).map(section), { maxLength: 4 }) });
    fc.assert(
      fc.property(message, fc.integer({ min: 1, max: 3 }), (m, times) => {
        let out: SlackMessage = m;
        for (let i = 0; i < times; i++) out = withReportLink(out, { url: URL_ });
        expect(out.text).toBe(`${m.text}\n<${URL_}|Run report>`);
        expect(out.blocks).toEqual([...m.blocks, context(`<${URL_}|Run report>`)]);
      }),
    );
  });
});

describe("withoutReportLinkLine", () => {
  it("drops the run-report line a message gained, whatever form it took, and keeps every other line", () => {
    const url = "https://s3.console.aws.amazon.com/s3/object/b?region=eu-west-1&prefix=reports%2Fx.json";
    const linked = withReportLink({ text: "🚨 CRITICAL: backup run failed\nsecond line", blocks: [] }, { url });
    expect(withoutReportLinkLine(plainLinks(linked.text, "label"))).toBe("🚨 CRITICAL: backup run failed\nsecond line");
    const keyed = withReportLink({ text: "Backups: 5 created", blocks: [] }, { key: "reports/backup/x.json" });
    expect(withoutReportLinkLine(keyed.text)).toBe("Backups: 5 created");
    // A line that merely mentions the report is not the link line.
    expect(withoutReportLinkLine("See the Run report below")).toBe("See the Run report below");
  });
});
