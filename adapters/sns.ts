import { PublishCommand } from "@aws-sdk/client-sns";
import type { SlackMessage } from "../core/report/blocks.ts";
import { plainLinks } from "../core/report/text.ts";
import { sns } from "./clients.ts";

/** The pager topic: its ARN and the region it lives in (the primary's). */
export interface TopicRef {
  arn: string;
  region: string;
}

/**
 * SNS allows a Subject of ASCII text only, starting with a letter, number or punctuation, with no line breaks or
 * control characters, under 100 characters (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Subject);
 * email subscribers see it as the mail's subject. Anything else in the title is replaced, the rest cut.
 */
export const SNS_SUBJECT_MAX = 99;

export function snsSubject(title: string): string {
  const ascii = title
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[^\x20-\x7E]/g, "")
    .replace(/^[\s]+/, "")
    .replace(/\s+/g, " ")
    .trim();
  const subject = ascii.length > SNS_SUBJECT_MAX ? `${ascii.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...` : ascii;
  return subject || "ops-autopilot alert";
}

/**
 * Publish a message's text to the pager topic, with its first line as the subject. The body is the message's plain
 * `text` (Slack's fallback text) with its Slack links as `label (url)`, which email and pager integrations show
 * as is; the subject keeps labels only.
 */
export async function publishToTopic(topic: TopicRef, message: SlackMessage): Promise<{ messageId: string }> {
  const text = plainLinks(message.text);
  const firstLine = plainLinks(message.text.split("\n")[0] ?? "", "label");
  const out = await sns(topic.region).send(new PublishCommand({ TopicArn: topic.arn, Subject: snsSubject(firstLine), Message: text || "(no text)" }));
  return { messageId: out.MessageId ?? "" };
}
