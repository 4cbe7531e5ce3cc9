/**
 * Plain-text helpers for what people read in a terminal or a log: the drill, dry-runs, `renderText`.
 * Slack shows mrkdwn; a terminal shows the characters, so links, long reasons and figures need their own form.
 */

/** How a Slack link reads in plain text: `label (url)`, or the label alone where the URL is noise. */
export type LinkStyle = "label-url" | "label";

/**
 * Slack mrkdwn links (`<https://…|label>`, `<https://…>`, `<mailto:…|label>`) in a line people read.
 * Mentions and channel links (`<@U…>`, `<#C…>`, `<!here>`) are left alone: they are not URLs.
 * See https://api.slack.com/reference/surfaces/formatting#linking-urls.
 */
const SLACK_LINK = /<((?:https?:\/\/|mailto:)[^|>\s]+)(?:\|([^>]*))?>/g;

/**
 * Slack links turned into plain text.
 *
 * @example plainLinks("see <https://x.example/r|the report>") // "see the report (https://x.example/r)"
 * @example plainLinks("see <https://x.example/r|the report>", "label") // "see the report"
 */
export function plainLinks(text: string, style: LinkStyle = "label-url"): string {
  return text.replace(SLACK_LINK, (_, url: string, label: string | undefined) => {
    if (label === undefined || label === "" || label === url) return url;
    return style === "label" ? label : `${label} (${url})`;
  });
}

/**
 * `text` broken at spaces into lines of at most `width` characters; within each paragraph (split at newlines) the
 * lines after the first start with `indent` spaces more than the paragraph's own leading spaces (a hanging indent),
 * which count toward the width. A line keeps the spacing it was written with. A word longer
 * than a line is kept whole on a line of its own, never cut: a cut URL or identifier is worse than a long line.
 */
export function wrap(text: string, width: number, indent = 0): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    if (paragraph.length <= width) {
      lines.push(paragraph);
      continue;
    }
    const lead = /^[ \t]*/.exec(paragraph)![0];
    const pad = lead + " ".repeat(indent);
    const own: string[] = [];
    let line = "";
    // Words and the spaces between them as written: a line keeps its own spacing (a column stays aligned).
    const parts = paragraph.slice(lead.length).split(/([ \t]+)/);
    for (let k = 0; k < parts.length; k += 2) {
      const word = parts[k]!;
      const space = parts[k - 1] ?? "";
      if (!word) continue;
      const room = width - (own.length ? pad.length : lead.length);
      if (line && line.length + space.length + word.length > room) {
        own.push(line);
        line = word;
      } else line = line ? `${line}${space}${word}` : word;
    }
    own.push(line);
    lines.push(...own.map((l, i) => (i ? `${pad}${l}` : `${lead}${l}`)));
  }
  return lines;
}

/**
 * `head` followed by `items`, comma-separated, broken only between items (an item such as
 * `ChangeResourceRecordSets at 10:09:20 (Throttling)` stays on one line); continuation lines indented by `indent`.
 */
export function wrapItems(head: string, items: readonly string[], width: number, indent = 2): string[] {
  const lines: string[] = [];
  let line = head;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line.trim() && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = `${" ".repeat(indent)}${piece}`;
    } else line = line ? `${line} ${piece}` : piece;
  });
  lines.push(line);
  return lines;
}

/**
 * Rows as columns, two spaces apart, numbers right-aligned; the last column wraps ({@link wrap}) so no line
 * passes `width`, its continuation lines starting under the column, `hang` further in.
 */
export function wrappedTable(rows: readonly (readonly (string | number)[])[], width: number, hang = 2): string {
  const cols = rows[0]?.length ?? 0;
  const widths = Array.from({ length: cols }, (_, c) => Math.max(...rows.map((r) => String(r[c] ?? "").length)));
  const lead = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0);
  const out: string[] = [];
  for (const r of rows) {
    const cells = r.slice(0, -1).map((cell, c) => (typeof cell === "number" ? String(cell).padStart(widths[c]!) : String(cell).padEnd(widths[c]!)));
    const last = r[cols - 1];
    const lastLines = typeof last === "number" ? [String(last).padStart(widths[cols - 1]!)] : wrap(String(last ?? ""), Math.max(20, width - lead), hang);
    out.push([...cells, lastLines[0]!].join("  ").trimEnd());
    for (const more of lastLines.slice(1)) out.push(`${" ".repeat(lead)}${more}`);
  }
  return out.join("\n");
}

/**
 * A figure next to its target: met when at or under it.
 *
 * @example vsTarget(361, 300, (s) => `${s} s`) // "361 s (target 300 s: missed)"
 */
export function vsTarget(actual: number, target: number, format: (n: number) => string): string {
  return `${format(actual)} (target ${format(target)}: ${actual <= target ? "met" : "missed"})`;
}

/** Eight bar heights, lowest first. */
export const SPARK_BARS = "▁▂▃▄▅▆▇█";

/**
 * One character per value, scaled between the series' own minimum (▁) and maximum (█); a day without data is a
 * space. A constant series is flat: ▄ (▁ when it is all zero, so no spend reads as none).
 *
 * @example sparkline([1, 2, 3, 8]) // "▁▂▃█"
 */
export function sparkline(values: readonly (number | null)[]): string {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (known.length === 0) return values.map(() => " ").join("");
  const min = Math.min(...known);
  const max = Math.max(...known);
  const top = SPARK_BARS.length - 1;
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return " ";
      if (max === min) return max === 0 ? SPARK_BARS[0] : SPARK_BARS[3];
      return SPARK_BARS[Math.round(((v - min) / (max - min)) * top)];
    })
    .join("");
}
