import type { Decision } from "../types.ts";
import type { SkipKind, SkippedUrl } from "./plan.ts";

/**
 * Cache warming results: how a response is classified (cache hit or miss), how one pass adds up, and
 * the run report's shape. Pure.
 */

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
    const last =
      xc
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .at(-1)
        ?.toLowerCase() ?? "";
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

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS: readonly number[] = [5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * Counts per bucket of {@link LATENCY_BUCKETS_MS} plus one for everything above the last bound.
 *
 * @example bucketLatencies([1, 7, 7, 2000]) // [1, 2, 0, 0, 0, 0, 0, 0, 1]
 */
export function bucketLatencies(samples: readonly number[]): number[] {
  const counts = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, () => 0);
  for (const s of samples) {
    const i = LATENCY_BUCKETS_MS.findIndex((b) => s <= b);
    counts[i === -1 ? LATENCY_BUCKETS_MS.length : i]!++;
  }
  return counts;
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
  /**
   * Answered requests per latency bucket: `counts[i]` are those ≤ `boundsMs[i]` (and above the bound before), the
   * last count those above every bound. Kept in the run report so a report read later can draw the distribution.
   */
  latencyHistogram: { boundsMs: readonly number[]; counts: number[] };
  bytes: number;
  truncated: number;
  cache: {
    hit: number;
    miss: number;
    bypass: number;
    unknown: number /** hit / (hit + miss + bypass); null when no response said. */;
    hitRatio: number | null;
  };
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
    latencyHistogram: { boundsMs: LATENCY_BUCKETS_MS, counts: bucketLatencies(latencies) },
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
