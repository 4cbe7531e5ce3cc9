import type { Decision } from "../types.ts";

/**
 * Cache warming pace: the token bucket and concurrency, backing off on 429/Retry-After, stopping on a
 * 5xx surge, and stopping new requests near the deadline. Pure: every function takes the time as a
 * number of milliseconds (from the caller's `now()`); runbooks/warm/engine.ts applies the verdicts.
 */

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
export function decideRetry(url: string, response: { status?: number; retryAfter?: string }, attempt: number, policy: RetryPolicy, now: number): RetryDecision {
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
