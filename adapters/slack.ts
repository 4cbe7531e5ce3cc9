import type { SlackMessage } from "../core/report/blocks.ts";

/**
 * Delivery of Slack messages to an incoming webhook.
 *
 * The webhook URL is a bearer secret: anyone holding it can post to the channel. It therefore never
 * appears in an error message, an error `cause`, a log line or a report. Errors are built only from
 * our own strings, the HTTP status, Slack's short error code (`invalid_payload`, `no_service`, ...)
 * with the URL and its path tokens scrubbed, and the network error's code (`ECONNREFUSED`).
 */

export interface PostToSlackOptions {
  /** Per attempt, covering connect, request and response body. */
  timeoutMs?: number;
  /** Attempts in all, the first one included. */
  maxAttempts?: number;
  /** Injected in tests so retries do not wait for real. */
  sleep?: (ms: number) => Promise<void>;
  fetchImpl?: typeof fetch;
}

export class SlackDeliveryError extends Error {
  override name = "SlackDeliveryError";
  /** HTTP status of the last attempt; absent when no response arrived (timeout, network error). */
  status?: number;
  attempts: number;
  constructor(message: string, attempts: number, status?: number) {
    super(message);
    this.attempts = attempts;
    if (status !== undefined) this.status = status;
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;
/**
 * Slack's webhook rate limit is about one message per second per channel, so its Retry-After is
 * normally a second or two. A larger value is capped so one post cannot eat the Lambda's time budget;
 * if Slack is still limiting after the last attempt the function fails and its DLQ/alarm fire.
 */
export const RETRY_AFTER_CAP_MS = 30_000;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Post `message` to the Slack incoming webhook `url`.
 *
 * Each attempt has its own timeout (`AbortSignal.timeout`). 429, 5xx, timeouts and network errors are
 * retried, waiting for `Retry-After` when Slack sends one (capped at {@link RETRY_AFTER_CAP_MS}) and
 * exponential backoff otherwise; any other non-2xx (400 invalid_payload, 403 invalid_token,
 * 404 no_service, 410 channel_is_archived) fails at once since a retry cannot fix it.
 * A timed-out attempt may still have been delivered: Slack webhooks have no idempotency key, so a
 * retry after a timeout can post the message twice. We accept a rare duplicate over a lost alert.
 *
 * @example
 *   const { attempts } = await postToSlack(webhookUrl, renderCostDigest(run));
 * @throws SlackDeliveryError whose message never contains the URL.
 */
export async function postToSlack(url: string, message: SlackMessage, options: PostToSlackOptions = {}): Promise<{ attempts: number; status: number }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  const sleep = options.sleep ?? realSleep;
  const fetchImpl = options.fetchImpl ?? fetch;

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    // Node's "Invalid URL" TypeError carries the input string in `.input`: never rethrow it.
    throw new SlackDeliveryError("Slack webhook URL is not a valid URL", 0);
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new SlackDeliveryError(`Slack webhook URL must be http(s), got ${target.protocol}`, 0);
  }
  // Redacted as a whole before sending: core cut its texts on word and URL-segment boundaries, so every
  // occurrence of the URL or of one of its tokens that is still in the message is complete here.
  const body = JSON.stringify(redactDeep(message, url));

  let lastProblem = "";
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let delayHint: number | undefined;
    try {
      const response = await fetchImpl(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text().catch(() => "");
      lastStatus = response.status;
      if (response.ok) return { attempts: attempt, status: response.status };
      // Redact the whole body first, then cut: a cut through the URL would leave a piece no redaction matches.
      lastProblem = `HTTP ${response.status}${text ? ` ${JSON.stringify(redactUrl(text, url).slice(0, 200))}` : ""}`;
      if (response.status !== 429 && response.status < 500) {
        throw new SlackDeliveryError(`Slack webhook rejected the message: ${lastProblem}`, attempt, response.status);
      }
      delayHint = parseRetryAfter(response.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof SlackDeliveryError) throw err;
      lastStatus = undefined;
      lastProblem = describeNetworkError(err, timeoutMs);
    }
    if (attempt === maxAttempts) break;
    const delayMs = Math.min(delayHint ?? Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS), RETRY_AFTER_CAP_MS);
    console.warn(
      JSON.stringify({
        level: "WARN",
        message: "Slack webhook attempt failed; retrying",
        attempt,
        maxAttempts,
        problem: lastProblem,
        delayMs,
        // The host (hooks.slack.com) is not secret; the path is.
        host: target.host,
      }),
    );
    await sleep(delayMs);
  }
  throw new SlackDeliveryError(`Slack webhook delivery failed after ${maxAttempts} attempt(s): ${lastProblem}`, maxAttempts, lastStatus);
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Remove the webhook URL and each of its path segments (the `T…/B…/secret` tokens) from `text`, before
 * anything cuts it. Used on anything that came back from the network before it goes into an error or a
 * log (segments of 4 characters and more), and on every text of a message before it is posted (8 and more:
 * Slack's team, hook and secret tokens are longer; shorter segments of a proxy's path are words).
 */
export function redactUrl(text: string, url: string, minSegment = 4): string {
  let out = text.split(url).join("[webhook]");
  let segments: string[] = [];
  try {
    segments = new URL(url).pathname.split("/").filter((s) => s.length >= minSegment && s !== "services");
  } catch {
    // Not a URL: the whole-string replacement above is all we can do.
  }
  for (const segment of segments) out = out.split(segment).join("[redacted]");
  return out;
}

/** Every string in a message (texts, fields, elements) through {@link redactUrl}. */
function redactDeep<T>(value: T, url: string): T {
  if (typeof value === "string") return redactUrl(value, url, 8) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, url)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, url)])) as T;
  }
  return value;
}

/** A timeout or network failure, described by its name and code only (no message: it could echo the URL). */
function describeNetworkError(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return `no response within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  return `network error${typeof name === "string" ? ` ${name}` : ""}${code ? ` (${code})` : ""}`;
}
