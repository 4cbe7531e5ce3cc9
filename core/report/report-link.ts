import { context, type SlackMessage } from "./blocks.ts";

/**
 * Every message the handler chain sends leads to the report of the run that sent it: a Slack link in a context block
 * at the end and on a line of its own under the fallback `text` (Slack notifications and the pager topic show the
 * text; its first line stays the headline and the SNS subject, adapters/sns.ts). Plain renderings show the link as
 * `Run report (url)` (core/report/text.ts plainLinks).
 */

/** Where a message's run report is, as far as the run that sends it knows. */
export type ReportLink =
  /** Saved (or being saved by this run), at this console URL. */
  | { url: string }
  /** Saved under this key, in a bucket the run cannot name (a test or drill runtime that replaces the store). */
  | { key: string }
  /** Not saved under this key (the write failed): the message says so rather than lead to nothing. */
  | { unsaved: string };

export const REPORT_LINK_LABEL = "Run report";

/** The line that carries the link, in Slack mrkdwn. */
export function reportLinkLine(link: ReportLink): string {
  if ("url" in link) return `<${link.url}|${REPORT_LINK_LABEL}>`;
  if ("key" in link) return `${REPORT_LINK_LABEL}: ${link.key}`;
  return `The run report could not be saved (${link.unsaved}): see the function's logs`;
}

/**
 * `message` with its run report's link (or the note that the report was not saved) added once: a context block at
 * the end and a last line of `text`. A message that already carries the line is returned unchanged.
 *
 * @example
 *   withReportLink({ text: "Backups: 5 created", blocks: [] }, { url: "https://s3.console.aws.amazon.com/s3/object/b?region=eu-west-1&prefix=r.json" })
 *   // { text: "Backups: 5 created\n<https://…|Run report>", blocks: [{ type: "context", elements: [{ type: "mrkdwn", text: "<https://…|Run report>" }] }] }
 */
export function withReportLink(message: SlackMessage, link: ReportLink): SlackMessage {
  const line = reportLinkLine(link);
  if (message.text.split("\n").includes(line)) return message;
  return {
    ...message,
    text: `${message.text}\n${line}`,
    ...(message.blocks ? { blocks: [...message.blocks, context(line)] } : {}),
  };
}

/**
 * `text` (plain, links already rendered by label) without its run-report line: for listings where that link leads
 * nowhere (the drill's sandbox bucket has no console page).
 *
 * @example
 *   withoutReportLinkLine("🚨 CRITICAL: backup run failed\nRun report") // "🚨 CRITICAL: backup run failed"
 */
export function withoutReportLinkLine(text: string): string {
  return text
    .split("\n")
    .filter((l) => l !== REPORT_LINK_LABEL && !l.startsWith(`${REPORT_LINK_LABEL}: `))
    .join("\n");
}
