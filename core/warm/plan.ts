import type { Decision } from "../types.ts";
import { hostAllowed, portRefusal } from "./hosts.ts";

/**
 * Cache warming plan: which target sets, which URLs, in what order, within what limit, and which are
 * skipped and why. Pure: nothing here does I/O; runbooks/warm/engine.ts executes the plan.
 */

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
