import { describe, expect, it } from "vitest";
import { hostAllowed } from "../../../core/warm/hosts.ts";
import { planWarm, selectTargetSets, type WarmCandidate } from "../../../core/warm/plan.ts";
import { deadlineVerdict, decideRetry, healthVerdict, parseRetryAfter, recordHealth, type HealthWindow } from "../../../core/warm/pacing.ts";
import { classifyCache, percentile, summarizePass } from "../../../core/warm/report.ts";
import { result } from "./builders.ts";

const opts = { name: "site", include: [] as string[], exclude: [] as string[], limit: 100, allowedHosts: ["a.test", "*.cdn.test"] };
const c = (url: string, priority = 0.5, extra: Partial<WarmCandidate> = {}): WarmCandidate => ({ url, priority, source: "config", ...extra });

describe("planWarm", () => {
  it("puts higher priority first, then the most recently modified, then listing order", () => {
    const plan = planWarm(opts, [
      c("https://a.test/low", 0.2),
      c("https://a.test/old", 0.8, { lastmod: "2024-01-01" }),
      c("https://a.test/new", 0.8, { lastmod: "2026-01-01" }),
      c("https://a.test/nodate", 0.8),
      c("https://a.test/top", 1),
    ]);
    expect(plan.urls.map((u) => u.url)).toEqual([
      "https://a.test/top",
      "https://a.test/new",
      "https://a.test/old",
      "https://a.test/nodate",
      "https://a.test/low",
    ]);
  });

  it("refuses hosts outside allowedHosts with a message naming host and target set", () => {
    const plan = planWarm(opts, [c("https://evil.test/x"), c("https://img.cdn.test/a.png"), c("https://cdn.test/")]);
    expect(plan.urls.map((u) => u.url)).toEqual(["https://img.cdn.test/a.png"]);
    expect(plan.skipped).toHaveLength(2);
    expect(plan.skipped[0]).toMatchObject({ kind: "host-not-allowed", url: "https://evil.test/x" });
    expect(plan.skipped[0]!.reason).toContain('host "evil.test" is not in allowedHosts of target set "site"');
  });

  it("applies include, then exclude, with the pattern in the reason", () => {
    const plan = planWarm({ ...opts, include: ["/blog/"], exclude: ["\\?preview"] }, [
      c("https://a.test/blog/1"),
      c("https://a.test/shop/1"),
      c("https://a.test/blog/2?preview=1"),
    ]);
    expect(plan.urls.map((u) => u.url)).toEqual(["https://a.test/blog/1"]);
    expect(plan.skipped.map((s) => [s.kind, s.reason])).toEqual([
      ["not-included", "matches no include pattern"],
      ["excluded", "matches exclude pattern /\\?preview/"],
    ]);
  });

  it("excluding an off-host URL skips it quietly as excluded, not as refused", () => {
    const plan = planWarm({ ...opts, exclude: ["^https://evil\\.test/"] }, [c("https://evil.test/x")]);
    expect(plan.skipped[0]!.kind).toBe("excluded");
  });

  it("dedupes URLs (fragment ignored) keeping the highest priority", () => {
    const plan = planWarm(opts, [c("https://a.test/p#top", 0.1), c("https://a.test/other", 0.5), c("https://a.test/p", 0.9)]);
    expect(plan.urls.map((u) => [u.url, u.priority])).toEqual([
      ["https://a.test/p", 0.9],
      ["https://a.test/other", 0.5],
    ]);
    expect(plan.duplicates).toBe(1);
  });

  it("caps at the limit and reports the rest as over-limit", () => {
    const plan = planWarm({ ...opts, limit: 2 }, [c("https://a.test/1", 0.1), c("https://a.test/2", 0.9), c("https://a.test/3", 0.5)]);
    expect(plan.urls.map((u) => u.url)).toEqual(["https://a.test/2", "https://a.test/3"]);
    expect(plan.skipped).toEqual([{ url: "https://a.test/1", kind: "over-limit", reason: "beyond limit 2 (priority 0.1)" }]);
  });

  it("skips invalid and non-http URLs", () => {
    const plan = planWarm(opts, [c("not a url"), c("ftp://a.test/f")]);
    expect(plan.skipped.map((s) => s.kind)).toEqual(["invalid-url", "invalid-url"]);
  });

  it("puts the previous run's leftovers first, in their order", () => {
    const plan = planWarm({ ...opts, resumeFirst: ["https://a.test/c", "https://a.test/b"] }, [
      c("https://a.test/a", 1),
      c("https://a.test/b", 0.1),
      c("https://a.test/c", 0.1),
    ]);
    expect(plan.urls.map((u) => u.url)).toEqual(["https://a.test/c", "https://a.test/b", "https://a.test/a"]);
    expect(plan.decisions[0]!.reason).toContain("left over by the previous run");
  });

  it("has one decision with a reason per candidate kept or skipped", () => {
    const plan = planWarm(opts, [c("https://a.test/"), c("https://b.test/")]);
    expect(plan.decisions.map((d) => d.action)).toEqual(["warm", "skip"]);
    expect(plan.decisions.every((d) => d.reason.length > 0)).toBe(true);
  });
});

describe("hostAllowed", () => {
  it.each([
    ["a.test", ["a.test"], true],
    ["A.TEST.", ["a.test"], true],
    ["x.a.test", ["a.test"], false],
    ["x.a.test", ["*.a.test"], true],
    ["a.test", ["*.a.test"], false],
    ["evila.test", ["*.a.test"], false],
  ] as const)("%s against %j → %s", (host, patterns, expected) => {
    expect(hostAllowed(host, patterns)).toBe(expected);
  });
});

describe("classifyCache", () => {
  it.each([
    [{ "cf-cache-status": "HIT" }, "hit"],
    [{ "cf-cache-status": "REVALIDATED" }, "hit"],
    [{ "cf-cache-status": "EXPIRED" }, "miss"],
    [{ "cf-cache-status": "DYNAMIC", age: "100" }, "bypass"],
    [{ "x-cache": "Hit from cloudfront" }, "hit"],
    [{ "x-cache": "RefreshHit from cloudfront" }, "hit"],
    [{ "x-cache": "Miss from cloudfront" }, "miss"],
    [{ "x-cache": "MISS, HIT" }, "hit"],
    [{ "x-cache": "HIT, MISS" }, "miss"],
    [{ "x-cache": "TCP_MEM_HIT" }, "hit"],
    [{ age: "12" }, "hit"],
    [{ age: "0" }, "miss"],
    [{ "content-type": "text/html" }, "unknown"],
  ] as const)("%j → %s", (headers, expected) => {
    expect(classifyCache(headers)).toBe(expected);
  });

  it("prefers CF-Cache-Status over X-Cache over Age", () => {
    expect(classifyCache({ "cf-cache-status": "MISS", "x-cache": "HIT", age: "5" })).toBe("miss");
    expect(classifyCache({ "x-cache": "MISS", age: "5" })).toBe("miss");
  });
});

describe("Retry-After and 429", () => {
  const policy = { maxRetries: 2, defaultDelayMs: 1000, maxDelayMs: 30_000 };
  const now = Date.parse("2026-11-21T10:00:00Z");

  it("reads delta-seconds and HTTP-dates", () => {
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 10:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("retries a 429 after the delay the origin asked for", () => {
    expect(decideRetry("u", { status: 429, retryAfter: "2" }, 1, policy, now)).toMatchObject({ action: "retry", delayMs: 2000, throttled: true });
  });

  it("backs off by attempt when no Retry-After is given", () => {
    expect(decideRetry("u", { status: 429 }, 2, policy, now)).toMatchObject({ action: "retry", delayMs: 2000 });
  });

  it("gives up when retries are used up", () => {
    const d = decideRetry("u", { status: 429, retryAfter: "1" }, 3, policy, now);
    expect(d.action).toBe("give-up");
    expect(d.reason).toContain("2 retries used up");
  });

  it("does not retry earlier than asked: a Retry-After beyond maxDelayMs gives up", () => {
    const d = decideRetry("u", { status: 429, retryAfter: "120" }, 1, policy, now);
    expect(d.action).toBe("give-up");
    expect(d.reason).toContain("exceeds retry.maxDelayMs");
  });

  it("treats 503 with Retry-After as a slow-down, other statuses as final", () => {
    expect(decideRetry("u", { status: 503, retryAfter: "1" }, 1, policy, now).action).toBe("retry");
    expect(decideRetry("u", { status: 503 }, 1, policy, now)).toMatchObject({ action: "done", throttled: false });
    expect(decideRetry("u", { status: 500, retryAfter: "1" }, 1, policy, now).action).toBe("done");
    expect(decideRetry("u", { status: 200 }, 1, policy, now).action).toBe("done");
  });
});

describe("5xx sliding window", () => {
  const policy = { window: 10, threshold: 0.3, minSamples: 5 };
  const feed = (outcomes: boolean[]) => outcomes.reduce<HealthWindow>((w, f) => recordHealth(w, f, policy), []);

  it("does not judge on fewer than minSamples", () => {
    expect(healthVerdict(feed([true, true, true, true]), policy, "site").action).toBe("continue");
  });

  it("stops when the failing share goes above the threshold, saying why", () => {
    const v = healthVerdict(feed([false, false, false, false, false, false, true, true, true, true]), policy, "site");
    expect(v.action).toBe("stop");
    expect(v.reason).toBe("4 of the last 10 responses were 5xx or timeouts (40% > 30%): the origin is struggling, stopped warming");
  });

  it("continues at exactly the threshold", () => {
    expect(healthVerdict(feed([false, false, false, false, false, false, false, true, true, true]), policy, "site").action).toBe("continue");
  });

  it("forgets failures that slid out of the window", () => {
    const w = feed([true, true, true, true, ...Array<boolean>(10).fill(false)]);
    expect(w).toHaveLength(10);
    expect(healthVerdict(w, policy, "site").action).toBe("continue");
  });
});

describe("deadline", () => {
  it("stops starting requests when less than margin + timeout is left", () => {
    expect(deadlineVerdict(19_999, 10_000, 10_000).action).toBe("stop-starting");
    expect(deadlineVerdict(20_000, 10_000, 10_000).action).toBe("continue");
    expect(deadlineVerdict(15_000, 10_000, 10_000).reason).toContain("15 s left before the Lambda deadline");
  });
});

describe("statistics", () => {
  it("percentile is nearest-rank", () => {
    expect(percentile([], 50)).toBe(0);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
  });

  it("summarizes statuses, success, bytes, hit ratio and retries", () => {
    const s = summarizePass(
      [
        result({ status: 200, cache: "hit", bytes: 10, latencyMs: 5 }),
        result({ status: 200, cache: "miss", bytes: 10, latencyMs: 15, attempts: 2 }),
        result({ status: 500, outcome: "unexpected-status", cache: "unknown", bytes: 5, latencyMs: 50 }),
        result({ status: undefined, outcome: "timeout", cache: "unknown", bytes: 0, latencyMs: 1000 }),
      ],
      { durationMs: 1000, throttled: 1 },
    );
    expect(s.byStatus).toEqual({ "200": 2, "500": 1, timeout: 1 });
    expect(s.successPct).toBe(50);
    expect(s.bytes).toBe(25);
    expect(s.cache).toEqual({ hit: 1, miss: 1, bypass: 0, unknown: 2, hitRatio: 0.5 });
    expect(s.latencyMs.max).toBe(50); // timeouts are not latencies
    expect(s.retries).toBe(1);
    expect(s.requestsPerSecond).toBe(5);
  });

  it("has no hit ratio when no response said anything about caching", () => {
    expect(summarizePass([result({ cache: "unknown" })], { durationMs: 1, throttled: 0 }).cache.hitRatio).toBeNull();
  });
});

describe("selectTargetSets", () => {
  const sets = [
    { name: "www", afterFailover: true },
    { name: "docs", afterFailover: false },
  ];
  it("takes the named sets, failover ones on failover, all otherwise", () => {
    expect(selectTargetSets(sets, { trigger: "manual", targets: ["docs"] }).map((s) => s.name)).toEqual(["docs"]);
    expect(selectTargetSets(sets, { trigger: "failover" }).map((s) => s.name)).toEqual(["www"]);
    expect(selectTargetSets(sets, { trigger: "schedule" }).map((s) => s.name)).toEqual(["www", "docs"]);
  });
  it("names unknown sets and the configured ones", () => {
    expect(() => selectTargetSets(sets, { trigger: "manual", targets: ["shop"] })).toThrow('unknown warm target set(s) "shop"; configured: www, docs');
  });
});

describe("throttle", () => {
  it("halves rate and concurrency after a 429, down to 1/16, and pauses", async () => {
    const { effectiveConcurrency, effectiveRate, initialPacer, pace, throttle } = await import("../../../core/warm/pacing.ts");
    const cfg = { ratePerSecond: 40, burst: 1, concurrency: 8 };
    let s = throttle(cfg, initialPacer(cfg, 0), 0, 2000);
    expect([effectiveRate(cfg, s), effectiveConcurrency(cfg, s)]).toEqual([20, 4]);
    expect(pace(s, cfg, 1999)).toMatchObject({ action: "wait", reason: "paused", waitMs: 1 });
    for (let i = 0; i < 10; i++) s = throttle(cfg, s, 0, 0);
    expect([effectiveRate(cfg, s), effectiveConcurrency(cfg, s)]).toEqual([2.5, 1]);
  });
});
