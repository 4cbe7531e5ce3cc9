import type { Decision } from "./types.ts";

/**
 * Cache warming decisions: which URLs, in what order, how fast, when to back off, when to stop,
 * and how the results add up. Pure: every function takes the time as a number of milliseconds
 * (from the caller's `now()`), nothing here does I/O; `adapters/http-warm.ts` executes the plan.
 */

// ---------------------------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------------------------

/**
 * True when `host` matches one of `patterns` (`example.com` exactly, `*.example.com` any subdomain).
 *
 * @example hostAllowed("a.example.com", ["*.example.com"]) // true
 * hostAllowed("example.com", ["*.example.com"]) // false: the apex must be listed itself
 */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith("*.") ? h.length > p.length - 1 && h.endsWith(p.slice(1)) : h === p));
}

/**
 * The TCP port a URL connects to: its explicit port, else its scheme's (80 for http, 443 for https).
 *
 * @example urlPort(new URL("https://a.test/")) // 443
 */
export function urlPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** The standard web ports: a target on one of them may be redirected to the other (an http → https upgrade). */
export const WEB_PORTS: readonly number[] = [80, 443];

/**
 * The ports a target set may connect to when it lists none: those of its URLs and sitemaps, and
 * with 80 or 443 the other one too.
 *
 * @example defaultAllowedPorts(["http://a.test/", "http://a.test:8080/x"]) // [80, 443, 8080]
 */
export function defaultAllowedPorts(urls: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const u of urls) {
    const port = urlPort(new URL(u));
    ports.add(port);
    if (WEB_PORTS.includes(port)) for (const w of WEB_PORTS) ports.add(w);
  }
  return [...ports];
}

/** Why a port is refused, or undefined when `allowed` (absent: any port) lists it. */
export function portRefusal(url: URL, allowed: readonly number[] | undefined, targetSet: string): string | undefined {
  const port = urlPort(url);
  if (!allowed || allowed.includes(port)) return undefined;
  return `port ${port} of "${url.hostname.toLowerCase()}" is not in allowedPorts of target set "${targetSet}" (allowed: ${allowed.join(", ") || "none"})`;
}

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

/** A URL the plan may warm, from the config or from a sitemap. */
export interface WarmCandidate {
  url: string;
  /** 0.0–1.0 (sitemaps.org scale). */
  priority: number;
  /** ISO date from the sitemap, when given. */
  lastmod?: string;
  /** `config` or the sitemap URL it came from. */
  source: string;
}

export interface PlannedUrl {
  url: string;
  host: string;
  priority: number;
  lastmod?: string;
  source: string;
}

export type SkipKind =
  | "invalid-url"
  | "host-not-allowed"
  | "port-not-allowed"
  | "not-included"
  | "excluded"
  | "over-limit"
  | "private-address"
  | "dns-failed"
  | "deadline"
  | "stopped";

export interface SkippedUrl {
  url: string;
  kind: SkipKind;
  reason: string;
}

/** What the planner needs from a target set (a subset of `WarmTargetSet`). */
export interface PlanOptions {
  name: string;
  include: readonly string[];
  exclude: readonly string[];
  limit: number;
  allowedHosts: readonly string[];
  /** Ports that may be fetched (the schema always fills it); absent: any port of an allowed host. */
  allowedPorts?: readonly number[];
  /** URLs left over by the previous run (deadline): planned before everything else, in this order. */
  resumeFirst?: readonly string[];
}

export interface WarmPlan {
  urls: PlannedUrl[];
  /** A sample of the skipped URLs: at most {@link SKIPPED_LISTED_PER_KIND} of each kind. */
  skipped: SkippedUrl[];
  /** Every skipped URL, counted by kind. */
  skippedByKind: Partial<Record<SkipKind, number>>;
  /** Candidates dropped as duplicates of a URL kept (same URL without fragment). */
  duplicates: number;
  /** One per planned URL and per listed skip, plus one per kind for the skips only counted. */
  decisions: Decision<"warm" | "skip", string>[];
}

/**
 * Skipped URLs listed per kind in a report, its log and its Slack summary; the rest are counted. A
 * sitemap of 500,000 URLs warmed with a limit of 1,000 skips 499,000: listing them all would make the
 * report, the log and the memory scale with the sitemaps instead of the limit.
 */
export const SKIPPED_LISTED_PER_KIND = 50;

/**
 * Skipped URLs, bounded: exact counts per kind, the first {@link SKIPPED_LISTED_PER_KIND} of each kind kept.
 *
 * @example const t = new SkipTally(); t.add({ url, kind: "excluded", reason }); t.counts // { excluded: 1 }
 */
export class SkipTally {
  readonly listed: SkippedUrl[] = [];
  readonly counts: Partial<Record<SkipKind, number>> = {};

  /** `reason` may be a function: built only when the skip is listed (most are only counted). */
  add(s: SkippedUrl | { url: string; kind: SkipKind; reason: () => string }): void {
    const n = (this.counts[s.kind] ?? 0) + 1;
    this.counts[s.kind] = n;
    if (n <= SKIPPED_LISTED_PER_KIND) this.listed.push({ url: s.url, kind: s.kind, reason: typeof s.reason === "function" ? s.reason() : s.reason });
  }

  /** One decision per listed skip, then one per kind for those only counted. */
  decisions(target: string): Decision<"skip", string>[] {
    const out: Decision<"skip", string>[] = this.listed.map((s) => ({ action: "skip", target: s.url, reason: s.reason }));
    for (const [kind, n] of Object.entries(this.counts) as [SkipKind, number][]) {
      if (n > SKIPPED_LISTED_PER_KIND) {
        out.push({
          action: "skip",
          target,
          reason: `${(n - SKIPPED_LISTED_PER_KIND).toLocaleString("en-US")} more URL(s) skipped as ${kind}; counted in skippedByKind, not listed`,
        });
      }
    }
    return out;
  }
}

/** The URL as fetched: absolute http(s), fragment dropped (never sent to a server). */
export function normalizeUrl(raw: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
  u.hash = "";
  return u;
}

function lastmodValue(lastmod: string | undefined): number {
  if (!lastmod) return Number.NEGATIVE_INFINITY;
  const t = Date.parse(lastmod);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Candidates added to a planner and its result. */
export interface Planner {
  add(candidate: WarmCandidate): void;
  finish(): WarmPlan;
}

/**
 * Order, filter, dedupe and cap the candidate URLs of one target set, one candidate at a time, in
 * memory bounded by `limit` rather than by the number of candidates (sitemaps may list millions).
 *
 * Highest `priority` first; among equals the most recently modified (`lastmod`) first, because pages
 * that changed lately are the likeliest to be cold; then config/sitemap order. A URL not matching `include`,
 * matching `exclude`, or (after those) on a host outside `allowedHosts` or a port outside `allowedPorts` is
 * skipped with its reason; a URL listed twice keeps its highest priority and latest lastmod; past `limit` the
 * rest is skipped as `over-limit`. URLs in `resumeFirst` (what the previous run could not reach before its
 * deadline) go ahead of all others.
 *
 * The planner keeps at most `2 × limit + 1024` URLs: past that it sorts and drops all but the best
 * `limit`, remembering nothing of the dropped ones (that is what bounds it). The plan is the one sorting
 * everything would give, with one exception: a URL dropped and then listed again is ranked by what was
 * seen of it since (its priority is still its highest, but its lastmod and list position are those of
 * the later listings), so among URLs of equal priority it may lose its place to another. It is never
 * planned below a URL of lower priority (property-tested). A repeat of a dropped URL counts as
 * over-limit, not as a duplicate.
 *
 * @example
 * const planner = createPlanner({ name: "site", include: [], exclude: ["/admin"], limit: 2, allowedHosts: ["a.test"] });
 * planner.add({ url: "https://a.test/", priority: 1, source: "config" });
 * planner.add({ url: "https://a.test/admin", priority: 1, source: "config" });
 * planner.add({ url: "https://b.test/", priority: 1, source: "config" });
 * planner.finish().urls.map((u) => u.url) // ["https://a.test/"]
 */
export function createPlanner(options: PlanOptions): Planner {
  const include = options.include.map((s) => new RegExp(s));
  const exclude = options.exclude.map((s) => new RegExp(s));
  const skips = new SkipTally();
  // Sort keys computed once per URL, not per comparison: a compaction sorts up to 2 × limit URLs.
  type Kept = PlannedUrl & { index: number; rank: number; lastmodMs: number };
  let kept = new Map<string, Kept>();
  let duplicates = 0;
  let index = 0;
  const resume = new Map((options.resumeFirst ?? []).map((u, i) => [normalizeUrl(u)?.href ?? u, i]));
  const compare = (a: Kept, b: Kept) =>
    (a.rank === b.rank ? 0 : a.rank < b.rank ? -1 : 1) ||
    b.priority - a.priority ||
    (a.lastmodMs === b.lastmodMs ? 0 : a.lastmodMs > b.lastmodMs ? -1 : 1) ||
    a.index - b.index;
  const overLimit = (p: PlannedUrl) => skips.add({ url: p.url, kind: "over-limit", reason: () => `beyond limit ${options.limit} (priority ${p.priority})` });
  const cap = 2 * options.limit + 1024;
  const compact = () => {
    const ordered = [...kept.values()].sort(compare);
    for (const p of ordered.slice(options.limit)) overLimit(p);
    kept = new Map(ordered.slice(0, options.limit).map((p) => [p.url, p]));
  };

  return {
    add(c) {
      const i = index++;
      const u = normalizeUrl(c.url);
      if (!u) {
        // An over-long value is not worth keeping even as a sample.
        const shown = c.url.length > 200 ? `${c.url.slice(0, 200)}…` : c.url;
        skips.add({ url: shown, kind: "invalid-url", reason: `not an absolute http(s) URL (from ${c.source})` });
        return;
      }
      const url = u.href;
      const host = u.hostname.toLowerCase();
      if (include.length > 0 && !include.some((r) => r.test(url))) {
        skips.add({ url, kind: "not-included", reason: "matches no include pattern" });
        return;
      }
      const ex = exclude.find((r) => r.test(url));
      if (ex) {
        skips.add({ url, kind: "excluded", reason: `matches exclude pattern /${ex.source}/` });
        return;
      }
      if (!hostAllowed(host, options.allowedHosts)) {
        skips.add({
          url,
          kind: "host-not-allowed",
          reason: `host "${host}" is not in allowedHosts of target set "${options.name}" (allowed: ${options.allowedHosts.join(", ") || "none"}); not fetched`,
        });
        return;
      }
      const portRefused = portRefusal(u, options.allowedPorts, options.name);
      if (portRefused) {
        skips.add({ url, kind: "port-not-allowed", reason: `${portRefused}; not fetched` });
        return;
      }
      const prev = kept.get(url);
      const lastmodMs = lastmodValue(c.lastmod);
      if (prev) {
        duplicates++;
        if (c.priority > prev.priority) prev.priority = c.priority;
        if (lastmodMs > prev.lastmodMs) {
          prev.lastmod = c.lastmod!;
          prev.lastmodMs = lastmodMs;
        }
        return;
      }
      const rank = resume.get(url) ?? Number.POSITIVE_INFINITY;
      kept.set(url, { url, host, priority: c.priority, ...(c.lastmod ? { lastmod: c.lastmod } : {}), source: c.source, index: i, rank, lastmodMs });
      if (kept.size > cap) compact();
    },

    finish() {
      compact();
      const urls = [...kept.values()].map(({ index: _index, rank: _rank, lastmodMs: _lastmodMs, ...p }) => p);
      const decisions: Decision<"warm" | "skip", string>[] = [
        ...urls.map((p) => ({
          action: "warm" as const,
          target: p.url,
          reason: `${resume.has(p.url) ? "left over by the previous run, " : ""}priority ${p.priority}${p.lastmod ? `, lastmod ${p.lastmod}` : ""} (${p.source})`,
        })),
        ...skips.decisions(options.name),
      ];
      return { urls, skipped: skips.listed, skippedByKind: skips.counts, duplicates, decisions };
    },
  };
}

/**
 * {@link createPlanner} over a list.
 *
 * @example
 * planWarm({ name: "site", include: [], exclude: ["/admin"], limit: 2, allowedHosts: ["a.test"] }, [
 *   { url: "https://a.test/", priority: 1, source: "config" },
 *   { url: "https://a.test/admin", priority: 1, source: "config" },
 *   { url: "https://b.test/", priority: 1, source: "config" },
 * ]).urls.map((u) => u.url) // ["https://a.test/"]
 */
export function planWarm(options: PlanOptions, candidates: Iterable<WarmCandidate>): WarmPlan {
  const planner = createPlanner(options);
  for (const c of candidates) planner.add(c);
  return planner.finish();
}

// ---------------------------------------------------------------------------------------------
// Pacing: token bucket + concurrency, a pure function of time
// ---------------------------------------------------------------------------------------------

export interface PacerConfig {
  ratePerSecond: number | "unlimited";
  /** Bucket capacity; 1 means starts are at least 1/rate apart. */
  burst: number;
  concurrency: number;
}

export interface PacerState {
  tokens: number;
  updatedAt: number;
  inFlight: number;
  /** No start before this time (a 429's Retry-After). */
  pausedUntil: number;
  /** 1, halved by every throttle: scales both the rate and the concurrency. */
  slowdown: number;
}

export type PaceDecision =
  | { action: "start"; state: PacerState; reason: string }
  /** `waitMs` null: wait for a request in flight to finish. */
  | { action: "wait"; state: PacerState; waitMs: number | null; reason: "concurrency" | "rate" | "paused" };

/** Floating-point slack so a timer fired exactly on time is not sent back to wait a millisecond more. */
const TOKEN_EPSILON = 1e-9;
const MIN_SLOWDOWN = 1 / 16;

/** A full bucket, nothing in flight. */
export function initialPacer(config: PacerConfig, now: number): PacerState {
  return { tokens: config.burst, updatedAt: now, inFlight: 0, pausedUntil: Number.NEGATIVE_INFINITY, slowdown: 1 };
}

/** Requests allowed in flight now: the configured concurrency scaled down by throttling, at least 1. */
export function effectiveConcurrency(config: PacerConfig, state: PacerState): number {
  return Math.max(1, Math.floor(config.concurrency * state.slowdown));
}

/** Starts per second allowed now, or `Infinity` when unlimited. */
export function effectiveRate(config: PacerConfig, state: PacerState): number {
  return config.ratePerSecond === "unlimited" ? Number.POSITIVE_INFINITY : config.ratePerSecond * state.slowdown;
}

function refill(config: PacerConfig, state: PacerState, now: number): PacerState {
  const elapsed = Math.max(0, now - state.updatedAt);
  const rate = effectiveRate(config, state);
  const tokens = rate === Number.POSITIVE_INFINITY ? config.burst : Math.min(config.burst, state.tokens + (elapsed * rate) / 1000);
  return { ...state, tokens, updatedAt: Math.max(now, state.updatedAt) };
}

/**
 * May a request start at `now`? Returns the new state on `start`, or how long to wait and why.
 * Call it as often as you like: a `wait` never consumes anything. Guarantees (property-tested):
 * at most `concurrency` in flight, and in any window of W ms at most `burst + rate × W / 1000` starts
 * (with `burst` 1: consecutive starts at least 1/rate apart).
 *
 * @example
 * const cfg = { ratePerSecond: 10, burst: 1, concurrency: 2 };
 * let s = initialPacer(cfg, 0);
 * const a = pace(s, cfg, 0);   // start
 * const b = pace(a.state, cfg, 50); // wait 50 ms: rate
 */
export function pace(state: PacerState, config: PacerConfig, now: number): PaceDecision {
  const s = refill(config, state, now);
  if (s.inFlight >= effectiveConcurrency(config, s)) return { action: "wait", state: s, waitMs: null, reason: "concurrency" };
  if (now < s.pausedUntil) return { action: "wait", state: s, waitMs: s.pausedUntil - now, reason: "paused" };
  const rate = effectiveRate(config, s);
  if (rate !== Number.POSITIVE_INFINITY) {
    if (s.tokens < 1 - TOKEN_EPSILON) {
      return { action: "wait", state: s, waitMs: ((1 - s.tokens) * 1000) / rate, reason: "rate" };
    }
    return { action: "start", state: { ...s, tokens: Math.max(0, s.tokens - 1), inFlight: s.inFlight + 1 }, reason: "token available" };
  }
  return { action: "start", state: { ...s, inFlight: s.inFlight + 1 }, reason: "unlimited rate, below concurrency" };
}

/** A request finished (whatever its outcome). */
export function release(state: PacerState): PacerState {
  return { ...state, inFlight: Math.max(0, state.inFlight - 1) };
}

/**
 * The origin said "slow down" (429, or 503 with Retry-After): no start for `pauseMs`, then half the
 * rate and half the concurrency for the rest of the run (never below 1/16). The run does not speed up
 * again on its own: an origin that throttled once is not probed for its limit again.
 *
 * @example throttle(cfg, state, now, 2000) // nothing starts for 2 s, then at half speed
 */
export function throttle(config: PacerConfig, state: PacerState, now: number, pauseMs: number): PacerState {
  const s = refill(config, state, now);
  return {
    ...s,
    tokens: 0,
    pausedUntil: Math.max(s.pausedUntil, now + Math.max(0, pauseMs)),
    slowdown: Math.max(MIN_SLOWDOWN, s.slowdown / 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Retry-After / 429
// ---------------------------------------------------------------------------------------------

/**
 * `Retry-After` as a delay in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 *
 * @example parseRetryAfter("3", 0) // 3000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")) // 60000
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export interface RetryPolicy {
  maxRetries: number;
  defaultDelayMs: number;
  maxDelayMs: number;
}

export type RetryDecision = Decision<"retry" | "give-up" | "done", string> & { delayMs?: number; throttled: boolean };

/**
 * What to do after a response for `url` on attempt `attempt` (1 = first try).
 * 429, and 503 carrying `Retry-After`, mean "slow down": retry after the delay the origin asked for
 * (default `defaultDelayMs` × attempt) unless that is longer than `maxDelayMs` or the retries are used
 * up. Anything else is final: a struggling origin (5xx) is not hammered with retries; the sliding
 * window decides whether to stop.
 *
 * @example decideRetry("https://a.test/", { status: 429, retryAfter: "2" }, 1, policy, now)
 * // { action: "retry", delayMs: 2000, throttled: true, reason: "429, Retry-After 2 s (attempt 1 of 3)" }
 */
export function decideRetry(
  url: string,
  response: { status?: number; retryAfter?: string },
  attempt: number,
  policy: RetryPolicy,
  now: number,
): RetryDecision {
  const { status } = response;
  const slowDown = status === 429 || (status === 503 && response.retryAfter !== undefined);
  if (!slowDown) return { action: "done", target: url, reason: status === undefined ? "no response" : `status ${status}`, throttled: false };
  const asked = parseRetryAfter(response.retryAfter, now);
  const delayMs = asked ?? policy.defaultDelayMs * attempt;
  const why = `${status}${asked !== undefined ? `, Retry-After ${fmtSeconds(asked)}` : ", no Retry-After"}`;
  if (attempt > policy.maxRetries) {
    return { action: "give-up", target: url, reason: `${why}: ${policy.maxRetries} retries used up`, delayMs, throttled: true };
  }
  if (delayMs > policy.maxDelayMs) {
    return {
      action: "give-up",
      target: url,
      reason: `${why} exceeds retry.maxDelayMs ${fmtSeconds(policy.maxDelayMs)}: not retried earlier than the origin asked`,
      delayMs,
      throttled: true,
    };
  }
  return { action: "retry", target: url, reason: `${why} (attempt ${attempt} of ${policy.maxRetries + 1})`, delayMs, throttled: true };
}

function fmtSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

// ---------------------------------------------------------------------------------------------
// Origin health: 5xx sliding window
// ---------------------------------------------------------------------------------------------

export interface HealthPolicy {
  /** Responses in the window. */
  window: number;
  /** Stop when the failing share of the window is above this. */
  threshold: number;
  /** Never stop on fewer responses than this. */
  minSamples: number;
}

/** The last `window` outcomes, true = the origin failed (5xx, timeout, connection error). */
export type HealthWindow = readonly boolean[];

export function recordHealth(window: HealthWindow, failed: boolean, policy: HealthPolicy): HealthWindow {
  const next = [...window, failed];
  return next.length > policy.window ? next.slice(next.length - policy.window) : next;
}

/**
 * Keep warming, or stop because the origin is struggling.
 *
 * @example healthVerdict([true, true, false], { window: 3, threshold: 0.5, minSamples: 3 }, "site")
 * // { action: "stop", target: "site", reason: "2 of the last 3 responses were 5xx or timeouts (67% > 50%): the origin is struggling, stopped warming" }
 */
export function healthVerdict(window: HealthWindow, policy: HealthPolicy, target: string): Decision<"continue" | "stop", string> {
  const failed = window.filter(Boolean).length;
  const n = window.length;
  if (n < policy.minSamples) return { action: "continue", target, reason: `${n} responses, fewer than ${policy.minSamples} to judge` };
  const ratio = failed / n;
  if (ratio > policy.threshold) {
    return {
      action: "stop",
      target,
      reason: `${failed} of the last ${n} responses were 5xx or timeouts (${pct(ratio)} > ${pct(policy.threshold)}): the origin is struggling, stopped warming`,
    };
  }
  return { action: "continue", target, reason: `${failed} of the last ${n} failed (${pct(ratio)} ≤ ${pct(policy.threshold)})` };
}

function pct(r: number): string {
  return `${Math.round(r * 100)}%`;
}

// ---------------------------------------------------------------------------------------------
// Deadline
// ---------------------------------------------------------------------------------------------

/**
 * Stop starting requests when one more might not finish before the margin: remaining time below
 * `marginMs + timeoutMs`. Requests already in flight finish (they are bounded by `timeoutMs`).
 *
 * @example deadlineVerdict(15_000, 10_000, 10_000) // { action: "stop-starting", ... }
 */
export function deadlineVerdict(remainingMs: number, marginMs: number, timeoutMs: number): Decision<"continue" | "stop-starting", string> {
  const needed = marginMs + timeoutMs;
  if (remainingMs < needed) {
    return {
      action: "stop-starting",
      target: "run",
      reason: `${Math.round(remainingMs / 1000)} s left before the Lambda deadline, below margin ${Math.round(marginMs / 1000)} s + request timeout ${Math.round(timeoutMs / 1000)} s`,
    };
  }
  return { action: "continue", target: "run", reason: "time left" };
}

// ---------------------------------------------------------------------------------------------
// Cache classification and statistics
// ---------------------------------------------------------------------------------------------

export type CacheState = "hit" | "miss" | "bypass" | "unknown";

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Was the response served from a cache? `CF-Cache-Status` first (Cloudflare: HIT, STALE, UPDATING,
 * REVALIDATED count as hits; MISS, EXPIRED as misses; BYPASS, DYNAMIC as not cacheable), then
 * `X-Cache` (CloudFront `Hit from cloudfront`/`RefreshHit`, Varnish/Fastly `HIT`, `MISS, HIT`: the last
 * entry is the layer nearest to us), then `Age` (> 0 means it came from a cache).
 *
 * @example classifyCache({ "x-cache": "Hit from cloudfront" }) // "hit"
 * classifyCache({ age: "0" }) // "miss"
 */
export function classifyCache(headers: HeaderBag): CacheState {
  const cf = header(headers, "cf-cache-status")?.trim().toUpperCase();
  if (cf) {
    if (["HIT", "STALE", "UPDATING", "REVALIDATED"].includes(cf)) return "hit";
    if (["MISS", "EXPIRED"].includes(cf)) return "miss";
    if (["BYPASS", "DYNAMIC", "NONE/UNKNOWN"].includes(cf)) return "bypass";
  }
  const xc = header(headers, "x-cache");
  if (xc) {
    const last = xc.split(",").map((s) => s.trim()).filter(Boolean).at(-1)?.toLowerCase() ?? "";
    if (/\bhit\b|refreshhit|tcp_hit|tcp_mem_hit/.test(last)) return "hit";
    if (/\bmiss\b|tcp_miss|expired/.test(last)) return "miss";
    if (/pass|bypass|dynamic/.test(last)) return "bypass";
  }
  const age = header(headers, "age");
  if (age !== undefined && /^\s*\d+\s*$/.test(age)) return Number(age) > 0 ? "hit" : "miss";
  return "unknown";
}

/**
 * Nearest-rank percentile of `values` (need not be sorted); 0 for an empty list.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** How one request ended. */
export type WarmOutcome =
  /** A response with an expected status. */
  | "ok"
  /** A response, but not an expected status (includes 429 after retries and 5xx). */
  | "unexpected-status"
  /** A redirect to another host or a port not allowed, or past `maxRedirects`: not followed. */
  | "redirect-refused"
  | "timeout"
  /** Connection refused/reset, TLS failure, DNS failure during the request. */
  | "error";

export interface WarmResult {
  url: string;
  pass: "first" | "verify";
  outcome: WarmOutcome;
  status?: number;
  latencyMs: number;
  bytes: number;
  /** Body cut at `maxBodyBytes`. */
  truncated?: boolean;
  cache: CacheState;
  /** Attempts made (retries after 429 included). */
  attempts: number;
  message?: string;
}

export interface PassStats {
  /** Requests started (each URL counted once, whatever its retries). */
  requested: number;
  completed: number;
  byStatus: Record<string, number>;
  byOutcome: Partial<Record<WarmOutcome, number>>;
  /** Share of completed URLs with an expected status, 0–100. */
  successPct: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  bytes: number;
  truncated: number;
  cache: { hit: number; miss: number; bypass: number; unknown: number; /** hit / (hit + miss + bypass); null when no response said. */ hitRatio: number | null };
  /** 429s and 503-with-Retry-After received (before retries). */
  throttled: number;
  retries: number;
  durationMs: number;
  /** Achieved requests (attempts) per second over the pass. */
  requestsPerSecond: number;
}

/**
 * Sum up one pass. `latencyMs` percentiles are over responses (timeouts and errors excluded).
 *
 * @example summarizePass(results, { durationMs: 2000, throttled: 1 }).successPct // 97.5
 */
export function summarizePass(results: readonly WarmResult[], extra: { durationMs: number; throttled: number }): PassStats {
  const byStatus: Record<string, number> = {};
  const byOutcome: Partial<Record<WarmOutcome, number>> = {};
  const latencies: number[] = [];
  const cache = { hit: 0, miss: 0, bypass: 0, unknown: 0 };
  let bytes = 0;
  let truncated = 0;
  let attempts = 0;
  for (const r of results) {
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    const key = r.status !== undefined ? String(r.status) : r.outcome;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (r.status !== undefined) latencies.push(r.latencyMs);
    bytes += r.bytes;
    if (r.truncated) truncated++;
    cache[r.cache]++;
    attempts += r.attempts;
  }
  const ok = byOutcome.ok ?? 0;
  const classified = cache.hit + cache.miss + cache.bypass;
  return {
    requested: results.length,
    completed: results.length,
    byStatus,
    byOutcome,
    successPct: results.length ? Math.round((ok / results.length) * 1000) / 10 : 0,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
    },
    bytes,
    truncated,
    cache: { ...cache, hitRatio: classified ? Math.round((cache.hit / classified) * 1000) / 1000 : null },
    throttled: extra.throttled,
    retries: attempts - results.length,
    durationMs: Math.round(extra.durationMs),
    requestsPerSecond: extra.durationMs > 0 ? Math.round((attempts / extra.durationMs) * 1000 * 10) / 10 : 0,
  };
}

/** The result of warming one target set: the JSON run report and the Slack summary's input. */
export interface WarmReport {
  targetSet: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** URLs planned for the first pass. */
  planned: number;
  /** The planned URLs in order (dry-run: what would be fetched). */
  plan: { url: string; priority: number; lastmod?: string; source: string }[];
  duplicates: number;
  skipped: SkippedUrl[];
  skippedByKind: Partial<Record<SkipKind, number>>;
  sitemaps: { url: string; urls: number; error?: string }[];
  first?: PassStats;
  verify?: PassStats;
  /** Set when the 5xx window stopped the run. */
  stopped?: Decision<"stop", string>;
  /** Set when the deadline stopped new requests. */
  deadline?: { reason: string; notStarted: number };
  /** URLs of the first pass never started (deadline or stop): the next run should take them first. */
  leftover: string[];
  /** Failed URLs of the first pass (outcome other than ok), for the operator. */
  failed: { url: string; outcome: WarmOutcome; status?: number; message?: string }[];
  /** Errors that make the run fail (sitemaps unreadable, origin struggling). */
  errors: string[];
}

/** Count skipped URLs by kind. */
export function countSkips(skipped: readonly SkippedUrl[]): Partial<Record<SkipKind, number>> {
  const out: Partial<Record<SkipKind, number>> = {};
  for (const s of skipped) out[s.kind] = (out[s.kind] ?? 0) + 1;
  return out;
}

/**
 * Which target sets an invocation warms: the named ones (an unknown name is an error listing the
 * known ones), else on failover those marked `afterFailover`, else all.
 *
 * @example selectTargetSets([{ name: "www", afterFailover: true }, { name: "docs", afterFailover: false }], { trigger: "failover" })
 * // [{ name: "www", ... }]
 */
export function selectTargetSets<T extends { name: string; afterFailover: boolean }>(
  sets: readonly T[],
  request: { trigger: string; targets?: readonly string[] },
): T[] {
  if (request.targets) {
    const unknown = request.targets.filter((n) => !sets.some((s) => s.name === n));
    if (unknown.length > 0) {
      throw new Error(`unknown warm target set(s) ${unknown.map((n) => `"${n}"`).join(", ")}; configured: ${sets.map((s) => s.name).join(", ") || "none"}`);
    }
    return sets.filter((s) => request.targets!.includes(s.name));
  }
  if (request.trigger === "failover") return sets.filter((s) => s.afterFailover);
  return [...sets];
}
