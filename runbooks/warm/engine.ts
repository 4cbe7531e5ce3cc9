import type { WarmTargetSet } from "../../schemas/config-warm.ts";
import { createPlanner, SkipTally, type PlannedUrl } from "../../core/warm/plan.ts";
import {
  deadlineVerdict,
  decideRetry,
  healthVerdict,
  initialPacer,
  pace,
  recordHealth,
  release,
  throttle,
  type HealthWindow,
  type PacerConfig,
  type PacerState,
} from "../../core/warm/pacing.ts";
import { classifyCache, summarizePass, type PassStats, type WarmReport, type WarmResult } from "../../core/warm/report.ts";
import type { Decision } from "../../core/types.ts";
import { checkHost, createHttpDeps, type HostCheck, type HttpDeps, type ResponseHeaders } from "../../adapters/http-warm.ts";
import { SITEMAP_MAX_BYTES, loadSitemaps, sitemapTooLarge } from "../../adapters/sitemap.ts";
import { fetchSafely, firstHeader } from "./fetch.ts";

/**
 * The warm engine: {@link runWarm} executes core's plan, pacing and verdicts over the HTTP transport of
 * adapters/http-warm.ts, following redirects under the rules of ./fetch.ts.
 */

export interface RunWarmInput {
  /** One target set, as parsed by `WarmTargetSetSchema`. */
  targets: WarmTargetSet;
  /**
   * A real clock in ms (`Date.now`, `performance.now`): the pacing waits on it, so a frozen test clock
   * would never refill the token bucket. Report times use it too.
   */
  now: () => number;
  /** Milliseconds left before the Lambda deadline (`context.getRemainingTimeInMillis`); none: no deadline. */
  deadline?: () => number;
  /** Stop starting requests when less than this plus one request timeout is left. Default 10 s. */
  deadlineMarginMs?: number;
  /** Read sitemaps and resolve hosts, plan, send no warming request. */
  dryRun?: boolean;
  /** Replaces the network (default: {@link createHttpDeps}, closed at the end of the run). */
  http?: HttpDeps;
  /** Overrides `targets.verify`: re-fetch the warmed URLs once to measure the hit ratio. */
  verify?: boolean;
  /** URLs the previous run left over at its deadline: warmed first (see `WarmReport.leftover`). */
  resumeFirst?: readonly string[];
  /** Every decision with its reason (plan, retries, stop, deadline), for the handler's logger. */
  log?: (decision: Decision<string, string>) => void;
}

interface PassOutcome {
  results: WarmResult[];
  stats: PassStats;
  notStarted: PlannedUrl[];
  stopped?: Decision<"stop", string>;
  deadline?: string;
  pacer: PacerState;
}

/**
 * Warm one target set: read its sitemaps, plan (priority, lastmod, include/exclude, limit, allowed
 * hosts), check every host's addresses, then fetch each URL under the token bucket and concurrency
 * limit, honouring 429/Retry-After, stopping on a 5xx surge or near the deadline; then, if asked, a
 * verification pass over the URLs that answered, to show the cache-hit ratio after warming.
 * Never throws for per-URL problems: everything lands in the report (`errors`, `failed`, `skipped`).
 *
 * @example
 * const report = await runWarm({ targets: parseOrThrow(WarmTargetSetSchema, cfg, "warm target"), now: Date.now,
 *   deadline: () => context.getRemainingTimeInMillis() });
 * report.first?.cache.hitRatio; report.verify?.cache.hitRatio;
 */
export async function runWarm(input: RunWarmInput): Promise<WarmReport> {
  const t = input.targets;
  const now = input.now;
  const log = input.log ?? (() => {});
  const ownDeps = !input.http;
  const deps = input.http ?? createHttpDeps({ maxSockets: t.concurrency });
  const marginMs = input.deadlineMarginMs ?? 10_000;
  const startedAt = now();
  const errors: string[] = [];
  const hostChecks = new Map<string, Promise<HostCheck>>();
  const checkHostCached = (hostname: string) => {
    let c = hostChecks.get(hostname);
    if (!c) {
      c = checkHost(deps, hostname, t.allowPrivate, t.name);
      hostChecks.set(hostname, c);
    }
    return c;
  };
  const deadlineCheck = () => (input.deadline ? deadlineVerdict(input.deadline(), marginMs, t.timeoutMs) : undefined);

  try {
    // 1. Candidates, config URLs then sitemap URLs, planned as they come: memory follows the limit, not the sitemaps.
    const planner = createPlanner({ ...t, ...(input.resumeFirst ? { resumeFirst: input.resumeFirst } : {}) });
    for (const u of t.urls) planner.add({ url: u.url, priority: u.priority, source: "config" });
    const sitemapLoad = await loadSitemaps(
      t.sitemaps,
      async (url) => {
        const r = await fetchSafely(deps, t, checkHostCached, new URL(url), { keepBody: true, maxBodyBytes: SITEMAP_MAX_BYTES });
        if (r.kind !== "response") throw new Error(r.message);
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        if (r.truncated) throw sitemapTooLarge(url);
        const enc = firstHeader(r.headers, "content-encoding");
        return { chunks: r.chunks ?? [], ...(enc ? { contentEncoding: enc } : {}) };
      },
      { maxSitemaps: t.maxSitemaps, add: (c) => planner.add(c), shouldContinue: () => deadlineCheck()?.action !== "stop-starting" },
    );
    for (const s of sitemapLoad.sitemaps) if (s.error) errors.push(s.error);

    // 2. The plan, then the address check of every host before any warming request.
    const plan = planner.finish();
    for (const d of plan.decisions) log(d);
    const refused = new SkipTally();
    const urls: PlannedUrl[] = [];
    const hostResults = new Map<string, HostCheck>();
    for (const host of new Set(plan.urls.map((u) => u.host))) hostResults.set(host, await checkHostCached(host));
    for (const [host, check] of hostResults) {
      if (!check.ok) {
        errors.push(check.reason);
        log({ action: "refuse-host", target: host, reason: check.reason });
      }
    }
    for (const u of plan.urls) {
      const check = hostResults.get(u.host)!;
      if (check.ok) urls.push(u);
      else refused.add({ url: u.url, kind: check.kind, reason: check.reason });
    }
    for (const [kind, what] of [
      ["host-not-allowed", "hosts outside allowedHosts"],
      ["port-not-allowed", "ports outside allowedPorts"],
    ] as const) {
      const n = plan.skippedByKind[kind] ?? 0;
      const example = plan.skipped.find((s) => s.kind === kind);
      if (n > 0 && example) errors.push(`${n} URL(s) on ${what} refused, e.g. ${example.reason}`);
    }

    const base = {
      targetSet: t.name,
      dryRun: input.dryRun === true,
      planned: urls.length,
      plan: urls.map((u) => ({ url: u.url, priority: u.priority, ...(u.lastmod ? { lastmod: u.lastmod } : {}), source: u.source })),
      duplicates: plan.duplicates,
      // Kinds from the plan and from the host check are disjoint: each stays listed up to its cap.
      skipped: [...plan.skipped, ...refused.listed],
      skippedByKind: { ...plan.skippedByKind, ...refused.counts },
      sitemaps: sitemapLoad.sitemaps,
    };
    if (input.dryRun) {
      const finished = now();
      return { ...base, startedAt: iso(startedAt), finishedAt: iso(finished), durationMs: finished - startedAt, leftover: [], failed: [], errors };
    }

    // 3. First pass, then the verification pass over what answered.
    const pacerConfig: PacerConfig = { ratePerSecond: t.ratePerSecond, burst: t.burst, concurrency: t.concurrency };
    const first = await runPass(urls, "first", initialPacer(pacerConfig, now()));
    let verify: PassOutcome | undefined;
    const answered = new Set(first.results.filter((r) => r.status !== undefined && r.outcome !== "redirect-refused").map((r) => r.url));
    const verifyUrls = urls.filter((u) => answered.has(u.url));
    if ((input.verify ?? t.verify) && !first.stopped && !first.deadline && verifyUrls.length > 0) {
      verify = await runPass(verifyUrls, "verify", first.pacer);
    }
    if (first.stopped) errors.push(first.stopped.reason);
    const deadlineReason = first.deadline ?? verify?.deadline;
    const finished = now();
    return {
      ...base,
      startedAt: iso(startedAt),
      finishedAt: iso(finished),
      durationMs: finished - startedAt,
      first: first.stats,
      ...(verify ? { verify: verify.stats } : {}),
      ...(first.stopped ? { stopped: first.stopped } : {}),
      ...(deadlineReason ? { deadline: { reason: deadlineReason, notStarted: first.notStarted.length + (verify?.notStarted.length ?? 0) } } : {}),
      leftover: first.notStarted.map((u) => u.url),
      failed: first.results
        .filter((r) => r.outcome !== "ok")
        .map((r) => ({
          url: r.url,
          outcome: r.outcome,
          ...(r.status !== undefined ? { status: r.status } : {}),
          ...(r.message ? { message: r.message } : {}),
        })),
      errors,
    };
  } finally {
    if (ownDeps) deps.close();
  }

  async function runPass(passUrls: PlannedUrl[], pass: "first" | "verify", pacerStart: PacerState): Promise<PassOutcome> {
    const pacerConfig: PacerConfig = { ratePerSecond: t.ratePerSecond, burst: t.burst, concurrency: t.concurrency };
    let pacer = pacerStart;
    let health: HealthWindow = [];
    let stopped: Decision<"stop", string> | undefined;
    let deadline: string | undefined;
    let throttled = 0;
    const results: WarmResult[] = [];
    let nextFresh = 0;
    const freshLeft = () => passUrls.length - nextFresh;
    const retries: { url: PlannedUrl; attempt: number; notBefore: number }[] = [];
    // Requests started and not finished; a counter rather than a set of promises (one fewer promise
    // per request), and the loop is woken by every finish.
    let running = 0;
    let unexpected: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const passStart = now();

    // Wake up on a finished request or when the wait is over. A wait for a slot (null) needs no timer:
    // a request in flight always finishes (send is bounded by timeoutMs), and the deadline only matters
    // before the next start, which is checked on wake; arming and clearing a timer per finished request
    // cost ~3 % of the client CPU at full speed. Timers fire a millisecond or so late, and with a bucket
    // of 1 every late millisecond is rate lost (-29 % at 400/s measured): sleep on a timer to about 1 ms
    // before the token is due (at most a second, to re-check the deadline), then poll the last stretch
    // with setImmediate.
    const waitForWake = (waitMs: number | null) =>
      new Promise<void>((resolve) => {
        let cancel: (() => void) | undefined;
        const fire = () => {
          wake = undefined;
          resolve();
        };
        if (waitMs === null) {
          cancel = undefined;
        } else if (waitMs < 2) {
          const immediate = setImmediate(fire);
          cancel = () => clearImmediate(immediate);
        } else {
          const timer = setTimeout(fire, Math.min(1000, Math.floor(waitMs) - 1));
          cancel = () => clearTimeout(timer);
        }
        wake = () => {
          cancel?.();
          fire();
        };
      });

    const finishOne = (r: WarmResult | "retry") => {
      pacer = release(pacer);
      if (r !== "retry") {
        results.push(r);
        const failed = r.outcome === "timeout" || r.outcome === "error" || (r.status !== undefined && r.status >= 500);
        health = recordHealth(health, failed, t.stopOn5xx);
        const verdict = healthVerdict(health, t.stopOn5xx, t.name);
        if (verdict.action === "stop" && !stopped) {
          stopped = { action: "stop", target: verdict.target, reason: verdict.reason };
          log(stopped);
        }
      }
      wake?.();
    };

    const startOne = async (item: PlannedUrl, attempt: number) => {
      running++;
      try {
        const r = await fetchSafely(deps, t, checkHostCached, new URL(item.url), { keepBody: false, maxBodyBytes: t.maxBodyBytes });
        if (r.kind === "response") {
          const retryAfter = retryAfterOf(r.headers);
          const decision = decideRetry(item.url, { status: r.status, ...(retryAfter ? { retryAfter } : {}) }, attempt, t.retry, now());
          if (decision.throttled) {
            throttled++;
            pacer = throttle(pacerConfig, pacer, now(), Math.min(decision.delayMs ?? 0, t.retry.maxDelayMs));
            log(decision);
          }
          if (decision.action === "retry") {
            retries.push({ url: item, attempt: attempt + 1, notBefore: now() + (decision.delayMs ?? 0) });
            finishOne("retry");
            return;
          }
          const expected = t.expectedStatus.includes(r.status);
          finishOne({
            url: item.url,
            pass,
            outcome: r.redirectRefused && !expected ? "redirect-refused" : expected ? "ok" : "unexpected-status",
            status: r.status,
            latencyMs: round1(r.latencyMs),
            bytes: r.bytes,
            ...(r.truncated ? { truncated: true } : {}),
            cache: classifyCache(r.headers),
            attempts: attempt,
            ...(r.redirectRefused ? { message: r.redirectRefused } : decision.action === "give-up" ? { message: decision.reason } : {}),
          });
        } else {
          finishOne({
            url: item.url,
            pass,
            outcome: r.kind,
            latencyMs: round1(r.latencyMs),
            bytes: 0,
            cache: "unknown",
            attempts: attempt,
            message: r.message,
          });
        }
      } catch (error) {
        // A bug, not a per-URL outcome: free the slot, stop starting, rethrow once the others are back.
        unexpected ??= { error };
        pacer = release(pacer);
      } finally {
        running--;
        wake?.();
      }
    };

    while (!stopped && !unexpected) {
      const at = now();
      const readyRetry = retries.findIndex((r) => r.notBefore <= at);
      if (freshLeft() === 0 && retries.length === 0) {
        // A request in flight may still come back with a 429 and a retry.
        if (running === 0) break;
        await waitForWake(null);
        continue;
      }
      const dl = deadlineCheck();
      if (dl?.action === "stop-starting") {
        deadline = dl.reason;
        log(dl);
        break;
      }
      let waitMs: number | null;
      if (readyRetry < 0 && freshLeft() === 0) {
        // Only retries left, none due yet.
        waitMs = Math.min(...retries.map((r) => r.notBefore)) - at;
      } else {
        const d = pace(pacer, pacerConfig, at);
        pacer = d.state;
        if (d.action === "start") {
          const next = readyRetry >= 0 ? retries.splice(readyRetry, 1)[0]! : { url: passUrls[nextFresh++]!, attempt: 1 };
          void startOne(next.url, next.attempt);
          continue;
        }
        waitMs = d.waitMs;
      }
      await waitForWake(waitMs);
    }
    while (running > 0) await waitForWake(null);
    if (unexpected) throw unexpected.error;
    const notStarted = [...passUrls.slice(nextFresh), ...retries.map((r) => r.url)];
    if (stopped) {
      log({ action: "stop", target: t.name, reason: `${notStarted.length} URL(s) not started: ${stopped.reason}` });
    }
    return {
      results,
      stats: summarizePass(results, { durationMs: now() - passStart, throttled }),
      notStarted,
      ...(stopped ? { stopped } : {}),
      ...(deadline ? { deadline } : {}),
      pacer,
    };
  }
}

function retryAfterOf(headers: ResponseHeaders): string | undefined {
  return firstHeader(headers, "retry-after");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
