import type { KnownBlock } from "@slack/types";
import { type LinkStyle, plainLinks } from "./text.ts";

/**
 * A Slack message: `text` is the notification/fallback line, `blocks` the Block Kit body.
 * Every message ops-autopilot sends is built in `core/report/`, nowhere else.
 */
export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

/** Slack rejects section text over 3,000 characters; cut with a visible marker instead of failing the post. */
export const SECTION_TEXT_LIMIT = 3000;

/**
 * Slack incoming-webhook URLs (`https://hooks.slack.com/services/T…/B…/…`, workflow and trigger URLs):
 * the path is a bearer secret, and an error text may carry one (a proxy or a library echoing its request).
 */
const SLACK_WEBHOOK_URL = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|)\]]*/gi;

/** `text` with every Slack webhook URL replaced by `[webhook]`. */
export function redactWebhooks(text: string): string {
  return text.replace(SLACK_WEBHOOK_URL, "[webhook]");
}

/** How far back a cut may move to land on a boundary. */
const CUT_WINDOW = 500;

/**
 * Where to cut `text` to at most `max` characters: after the last whitespace, else after the last URL
 * delimiter, within {@link CUT_WINDOW} characters. A URL, or a token of its path, is then never cut in half:
 * the half no longer matches the whole and would escape a redaction that runs later (adapters/slack.ts
 * redacts the configured webhook URL, which core does not know, from every message it posts).
 */
function cutPoint(text: string, max: number): number {
  const from = Math.max(0, max - CUT_WINDOW);
  for (const boundary of [/\s/, /[/?&=#,;]/]) {
    for (let i = max; i > from; i--) if (boundary.test(text[i - 1]!)) return i;
  }
  return max;
}

/**
 * Redact, then cut: Slack webhook URLs are replaced before anything is cut, so a cut can never leave
 * the start of one; the cut itself lands on a word or URL-segment boundary ({@link cutPoint}).
 *
 * @example truncate(`failed: https://hooks.slack.com/services/T1/B2/xyz`) // "failed: [webhook]"
 */
export function truncate(text: string, limit = SECTION_TEXT_LIMIT): string {
  const clean = redactWebhooks(text);
  return clean.length <= limit ? clean : `${clean.slice(0, cutPoint(clean, limit - 20))}\n… (truncated)`;
}

export function header(text: string): KnownBlock {
  return { type: "header", text: { type: "plain_text", text: truncate(text, 150), emoji: true } };
}

export function section(markdown: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text: truncate(markdown) } };
}

export function fields(pairs: [label: string, value: string][]): KnownBlock {
  // Slack allows at most 10 fields per section.
  return {
    type: "section",
    fields: pairs.slice(0, 10).map(([label, value]) => ({ type: "mrkdwn", text: truncate(`*${label}*\n${value}`, 2000) })),
  };
}

export function context(markdown: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: truncate(markdown) }] };
}

export function divider(): KnownBlock {
  return { type: "divider" };
}

/**
 * Renders a message as plain text, for dry-runs, the drill and logs. Slack links read as `label (url)` by
 * default ({@link plainLinks}); `links: "label"` keeps only the label, for output where the URL points nowhere
 * useful (the drill's console links lead to an account that does not exist).
 */
export function renderText(message: SlackMessage, options: { links?: LinkStyle } = {}): string {
  const lines: string[] = [];
  for (const block of message.blocks ?? []) {
    if (block.type === "header") lines.push(`== ${block.text.text} ==`);
    else if (block.type === "section") {
      if (block.text) lines.push(block.text.text);
      for (const f of block.fields ?? []) lines.push(f.text.replace(/\n/g, ": "));
    } else if (block.type === "context") {
      for (const e of block.elements) if ("text" in e) lines.push(e.text);
    } else if (block.type === "divider") lines.push("----");
  }
  return plainLinks(lines.length ? lines.join("\n") : message.text, options.links);
}
