import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { postToSlack, SlackDeliveryError } from "../../../adapters/slack.ts";
import { section, SECTION_TEXT_LIMIT, truncate } from "../../../core/report/blocks.ts";
import { warmMessage } from "../../../core/report/warm.ts";
import type { WarmReport } from "../../../core/warm/report.ts";

/**
 * The webhook URL is redacted before anything is cut: a cut through the URL would leave its start,
 * which no longer matches the URL and escapes the redaction. The check: no piece of the secret path
 * of 8 characters or more appears anywhere, for a URL placed across every cut point.
 */
function leakedPieces(text: string, secret: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) pieces.push(secret.slice(i, i + 8));
  return pieces;
}

const SLACK_SECRET = "T0TEAMSECRET/B0HOOKSECRET/xq9SecretTokenZ7abcdefgh";
const SLACK_WEBHOOK = `https://hooks.slack.com/services/${SLACK_SECRET}`;

describe("core/report/blocks truncate: a Slack webhook URL across the cut", () => {
  // The URL starts before the cut (limit - 20) and ends after it, at every offset through it.
  const offsets = Array.from({ length: SLACK_WEBHOOK.length + 4 }, (_, i) => SECTION_TEXT_LIMIT - 20 - SLACK_WEBHOOK.length + i - 2);

  it.each(offsets)("URL at %i: no piece of the secret survives", (at) => {
    const text = `${"e".repeat(at)}${SLACK_WEBHOOK} and more after it ${"z".repeat(200)}`;
    const out = truncate(text);
    expect(out.length).toBeLessThanOrEqual(SECTION_TEXT_LIMIT);
    expect(out.endsWith("\n… (truncated)")).toBe(true);
    expect(leakedPieces(out, SLACK_SECRET)).toEqual([]);
  });

  it("also when the text has no spaces at all (one long token)", () => {
    const out = truncate(`${"e".repeat(SECTION_TEXT_LIMIT - 40)}${SLACK_WEBHOOK}`);
    expect(leakedPieces(out, SLACK_SECRET)).toEqual([]);
  });

  it("redacts a whole Slack webhook URL that fits, and leaves other text as it was", () => {
    expect(section(`posting to ${SLACK_WEBHOOK} failed`)).toEqual({ type: "section", text: { type: "mrkdwn", text: "posting to [webhook] failed" } });
    expect(truncate("short text https://example.com/a/b")).toBe("short text https://example.com/a/b");
  });
});

describe("against a local webhook", () => {
  let server: Server;
  let base: string;
  let replies: { status: number; body: string }[] = [];
  let received: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        const r = replies.shift() ?? { status: 200, body: "ok" };
        res.writeHead(r.status, { "content-type": "text/plain" });
        res.end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    replies = [];
    received = [];
  });

  // A webhook behind a proxy: not Slack-shaped, so only the adapter, which knows the URL, can redact it.
  const PROXY_SECRET = "hook/k7Qw9ZrT3vXp5LmN2bYc8dFh";
  const proxyWebhook = () => `${base}/${PROXY_SECRET}`;

  it.each([8, 9, 12, 20, 24, 30, 40, 49])(
    "an error body echoing the webhook URL so that the 200-character cut leaves %i characters of its secret leaves none in the error",
    async (visible) => {
      const webhook = `${base}/services/${SLACK_SECRET}`;
      const at = 200 - (webhook.length - SLACK_SECRET.length) - visible;
      replies = [{ status: 404, body: `${"n".repeat(at)}${webhook} no_service` }];
      let err: SlackDeliveryError | undefined;
      try {
        await postToSlack(webhook, { text: "hi" });
      } catch (e) {
        err = e as SlackDeliveryError;
      }
      expect(err).toBeInstanceOf(SlackDeliveryError);
      expect(err!.status).toBe(404);
      const all = [err!.message, err!.stack ?? "", JSON.stringify(err)].join("\n");
      expect(leakedPieces(all, SLACK_SECRET)).toEqual([]);
    },
  );

  it.each([2900, 2930, 2950, 2960, 2970, 2975, 2980])(
    "a warm error message with the webhook URL at %i of the Errors section posts no piece of the secret",
    async (at) => {
      const webhook = proxyWebhook();
      const report: WarmReport = {
        targetSet: "site",
        dryRun: false,
        startedAt: "2026-11-29T10:00:00.000Z",
        finishedAt: "2026-11-29T10:00:01.000Z",
        durationMs: 1000,
        planned: 0,
        plan: [],
        duplicates: 0,
        skipped: [],
        skippedByKind: {},
        sitemaps: [],
        leftover: [],
        failed: [],
        // "*Errors*\n• " is 11 characters before the message.
        errors: [`${"m".repeat(at - 11)}${webhook} is unreachable${" and so on".repeat(20)}`],
      };
      const message = warmMessage([report], { app: "ops-autopilot", stage: "prod", trigger: "schedule" });
      await postToSlack(webhook, message);
      expect(received).toHaveLength(1);
      expect(leakedPieces(received[0]!, PROXY_SECRET.replace("/", ""))).toEqual([]);
      expect(leakedPieces(received[0]!, PROXY_SECRET)).toEqual([]);
    },
  );

  it("redacts the webhook URL from a message that carries it whole, before posting", async () => {
    const webhook = proxyWebhook();
    await postToSlack(webhook, { text: `see ${webhook}`, blocks: [section(`failed: ${webhook}`)] });
    expect(JSON.parse(received[0]!)).toEqual({
      text: "see [webhook]",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "failed: [webhook]" } }],
    });
  });
});
