import type { KnownBlock } from "@slack/types";

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

export function truncate(text: string, limit = SECTION_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 20)}\n… (truncated)`;
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

/** Renders a message as plain text, for dry-runs, the drill and logs. */
export function renderText(message: SlackMessage): string {
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
  return lines.length ? lines.join("\n") : message.text;
}
