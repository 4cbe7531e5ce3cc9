import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { performance } from "node:perf_hooks";
import type { WarmTargetSet } from "../schemas/config-warm.ts";
import {
  classifyCache,
  createPlanner,
  deadlineVerdict,
  decideRetry,
  healthVerdict,
  hostAllowed,
  initialPacer,
  pace,
  portRefusal,
  SkipTally,
  recordHealth,
  release,
  summarizePass,
  throttle,
  urlPort,
  type HealthWindow,
  type PacerConfig,
  type PacerState,
  type PassStats,
  type PlannedUrl,
  type WarmReport,
  type WarmResult,
} from "../core/warm.ts";
import type { Decision } from "../core/types.ts";
import { Agent, type Dispatcher } from "undici";
import { SITEMAP_MAX_BYTES, loadSitemaps, sitemapTooLarge } from "./sitemap.ts";

/**
 * The cache warmer's HTTP side: DNS resolution with address checks, requests on an undici keep-alive
 * pool pinned to the checked addresses, with a whole-request timeout and bodies drained (never
 * buffered), same-host redirects only; and {@link runWarm}, which executes core's plan, pacing and verdicts.
 */

// ---------------------------------------------------------------------------------------------
// Address safety
// ---------------------------------------------------------------------------------------------

const RESERVED = "unspecified, multicast or reserved";

/** ipaddr.js's IPv4 range names, as the warmer labels them; a name not listed (unicast, as112, amt) is public. */
const IPV4_KIND: Record<string, string> = {
  loopback: "loopback",
  linkLocal: "link-local",
  private: "private",
  carrierGradeNat: "private",
  unspecified: RESERVED,
  broadcast: RESERVED,
  multicast: RESERVED,
  reserved: RESERVED,
  benchmarking: RESERVED,
};

/**
 * ipaddr.js's IPv6 range names for addresses that embed no IPv4 (those are decoded below whatever
 * their range name); a name not listed (unicast, amt, as112v6) is public.
 */
const IPV6_KIND: Record<string, string> = {
  loopback: "loopback",
  linkLocal: "link-local",
  uniqueLocal: "private",
  // fec0::/10, deprecated by RFC 3879 but still a network-local scope.
  deprecatedSiteLocal: "private",
  unspecified: RESERVED,
  multicast: RESERVED,
  discard: RESERVED,
  benchmarking: RESERVED,
  reserved: RESERVED,
  deprecatedOrchid: RESERVED,
  orchid2: RESERVED,
  droneRemoteIdProtocolEntityTags: RESERVED,
  segmentRouting: RESERVED,
};

/** Why an address is refused: its kind, and for an IPv6 form carrying an IPv4, which form and which IPv4. */
export interface RestrictedAddress {
  kind: string;
  /** e.g. `NAT64 of IPv4 10.0.0.1` */
  via?: string;
}

function ipv4Of(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function ipv4Kind(v4: ipaddr.IPv4): string | undefined {
  return IPV4_KIND[v4.range()];
}

/**
 * The IPv4 addresses an IPv6 address carries, by form. Each of these forms makes a translator, a
 * tunnel or the socket itself reach the IPv4 address, so the address is as private as what it embeds:
 * - IPv4-mapped `::ffff:0:0/96` (RFC 4291 §2.5.5.2): the socket connects over IPv4;
 * - IPv4-translated `::ffff:0:0:0/96` (RFC 6145, SIIT);
 * - NAT64 `64:ff9b::/96` (RFC 6052): what DNS64 answers for an IPv4-only site (an IPv6-only VPC
 *   subnet gets these for public sites, so a public one stays allowed);
 * - 6to4 `2002::/16` (RFC 3056): the IPv4 of the 6to4 router, in bits 16–47;
 * - Teredo `2001::/32` (RFC 4380): the server's IPv4 in bits 32–63 and the client's, inverted, in bits 96–127;
 * - ISATAP interface identifiers `…:0:5efe:a.b.c.d`, `…:200:5efe:a.b.c.d` (RFC 5214), under any prefix.
 * IPv4-compatible `::a.b.c.d` (RFC 4291 §2.5.5.1) and the local-use NAT64 prefix are handled in
 * {@link classifyAddress}: refused whatever they carry.
 */
function embeddedIpv4(p: readonly number[]): { form: string; ipv4: ipaddr.IPv4 }[] {
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && p[5] === 0xffff) return [{ form: "IPv4-mapped", ipv4: ipv4Of(p[6]!, p[7]!) }];
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [{ form: "IPv4-translated", ipv4: ipv4Of(p[6]!, p[7]!) }];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [{ form: "NAT64 of IPv4", ipv4: ipv4Of(p[6]!, p[7]!) }];
  if (p[0] === 0x2002) return [{ form: "6to4 of IPv4", ipv4: ipv4Of(p[1]!, p[2]!) }];
  if (p[0] === 0x2001 && p[1] === 0) {
    return [
      { form: "Teredo server IPv4", ipv4: ipv4Of(p[2]!, p[3]!) },
      { form: "Teredo client IPv4", ipv4: ipv4Of(p[6]! ^ 0xffff, p[7]! ^ 0xffff) },
    ];
  }
  // ISATAP: the u/g bits of the identifier's first group may be set (0x0000, 0x0100, 0x0200, 0x0300).
  if ((p[4]! & 0xfcff) === 0 && p[5] === 0x5efe) return [{ form: "ISATAP identifier with IPv4", ipv4: ipv4Of(p[6]!, p[7]!) }];
  return [];
}

/**
 * Classify an address the warmer might connect to: undefined for a public one, else its kind
 * (`loopback`, `link-local`, `private`, `unspecified, multicast or reserved`) and, for an IPv6 form
 * that carries an IPv4 (NAT64, 6to4, Teredo, IPv4-mapped, …), the form and the IPv4 it carries.
 *
 * @example classifyAddress("64:ff9b::a9fe:a9fe") // { kind: "link-local", via: "NAT64 of IPv4 169.254.169.254" }
 * classifyAddress("2002:808:808::1") // undefined: 6to4 of a public router is an ordinary IPv6 site
 */
export function classifyAddress(address: string): RestrictedAddress | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return { kind: "not an IP address" };
  }
  if (ip.kind() === "ipv4") {
    const kind = ipv4Kind(ip as ipaddr.IPv4);
    return kind ? { kind } : undefined;
  }
  const p = (ip as ipaddr.IPv6).parts;
  const direct = IPV6_KIND[(ip as ipaddr.IPv6).range()];
  if (direct) return { kind: direct };
  // RFC 8215 local-use NAT64: the operator's own translator, with an operator-chosen layout, so the
  // IPv4 it carries cannot be read; it leads into the operator's network by definition.
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 1) {
    return { kind: "private", via: "local-use NAT64 prefix 64:ff9b:1::/48, RFC 8215: translated inside the operator's network" };
  }
  // IPv4-compatible ::a.b.c.d (:: and ::1 are classified above): deprecated by RFC 4291 §2.5.5.1 and no
  // longer routed, so nothing legitimate uses it; named by what it carries when that is restricted.
  if (p.slice(0, 6).every((x) => x === 0)) {
    const v4 = ipv4Of(p[6]!, p[7]!);
    return { kind: ipv4Kind(v4) ?? RESERVED, via: `IPv4-compatible ${v4.toString()}, deprecated by RFC 4291` };
  }
  for (const { form, ipv4 } of embeddedIpv4(p)) {
    const kind = ipv4Kind(ipv4);
    if (kind) return { kind, via: `${form} ${ipv4.toString()}` };
  }
  return undefined;
}

/**
 * `loopback`, `link-local`, `private`, … for a restricted address; undefined for a public one.
 * The instance metadata endpoint 169.254.169.254 is link-local, so it is refused unless allowed,
 * in any IPv6 form that reaches it too (see {@link classifyAddress}).
 */
export function restrictedAddressKind(address: string): string | undefined {
  return classifyAddress(address)?.kind;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type HostCheck =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; kind: "private-address" | "dns-failed"; reason: string };

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

export interface SendRequest {
  url: URL;
  /** Where to connect: the address checked by {@link HostCheck}, so DNS cannot change between check and use. */
  address: ResolvedAddress;
  method: "GET" | "HEAD";
  headers: Record<string, string>;
  timeoutMs: number;
  /** Bytes read before the connection is cut (drained, not kept). */
  maxBodyBytes: number;
  /** Keep the body's chunks (sitemaps); otherwise it is counted and discarded. */
  keepBody?: boolean;
}

/** Response headers, lower-case names; repeated headers (`set-cookie`) as arrays. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

export type SendResult =
  | {
      kind: "response";
      status: number;
      headers: ResponseHeaders;
      bytes: number;
      truncated: boolean;
      latencyMs: number;
      /** The body as received, when `keepBody` (not concatenated: the reader streams over the chunks). */
      chunks?: Buffer[];
    }
  | { kind: "timeout" | "error"; message: string; latencyMs: number };

/** The network, injectable: tests and the drill may wrap or replace it. */
export interface HttpDeps {
  lookup: (hostname: string) => Promise<ResolvedAddress[]>;
  send: (request: SendRequest) => Promise<SendResult>;
  /** Close keep-alive sockets. */
  close: () => void;
}

const USER_AGENT = "ops-autopilot-warmer/1";
const withDefaults = new WeakMap<Record<string, string>, Record<string, string>>();

/**
 * The target's headers plus our User-Agent unless the target sets one (names are case-insensitive and
 * undici would send both). Memoized per headers object: a run sends the same object for every URL.
 */
function withUserAgent(headers: Record<string, string>): Record<string, string> {
  let h = withDefaults.get(headers);
  if (!h) {
    h = Object.keys(headers).some((k) => k.toLowerCase() === "user-agent") ? { ...headers } : { "user-agent": USER_AGENT, ...headers };
    withDefaults.set(headers, h);
  }
  return h;
}

const TIMEOUT = "warm request timeout";

/**
 * One request's response, counted and discarded as it arrives (kept only for sitemaps), cut at
 * `maxBodyBytes`, and settled exactly once: response, timeout or error. A class rather than closures:
 * at tens of thousands of requests a second the per-request allocations show up as GC time.
 */
class DrainingHandler implements Dispatcher.DispatchHandler {
  readonly req: SendRequest;
  readonly resolve: (r: SendResult) => void;
  readonly started = performance.now();
  readonly timer: ReturnType<typeof setTimeout>;
  readonly chunks: Buffer[] | undefined;
  controller: Dispatcher.DispatchController | undefined;
  settled = false;
  timedOut = false;
  status = 0;
  headers: ResponseHeaders = {};
  bytes = 0;
  truncated = false;

  constructor(req: SendRequest, resolve: (r: SendResult) => void) {
    this.req = req;
    this.resolve = resolve;
    this.chunks = req.keepBody ? [] : undefined;
    // A whole-request limit: undici's headersTimeout/bodyTimeout only bound the gaps between bytes, and
    // a trickling origin would hold a request (and core's deadline arithmetic) far beyond timeoutMs.
    this.timer = setTimeout(onRequestTimeout, req.timeoutMs, this);
  }

  settle(r: SendResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(r);
  }

  settleTimeout(): void {
    this.settle({ kind: "timeout", message: `no complete response within ${this.req.timeoutMs} ms`, latencyMs: performance.now() - this.started });
  }

  settleResponse(): void {
    const { status, headers, bytes, truncated, chunks } = this;
    this.settle({ kind: "response", status, headers, bytes, truncated, latencyMs: performance.now() - this.started, ...(chunks ? { chunks } : {}) });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new Error(TIMEOUT));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    // 1xx informational responses come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    this.chunks?.push(chunk);
    if (this.bytes > this.req.maxBodyBytes && !this.truncated) {
      this.truncated = true;
      this.settleResponse();
      // Cutting the connection is cheaper for both sides than reading a runaway body to the end.
      controller.abort(new Error(`body larger than ${this.req.maxBodyBytes} bytes`));
    }
  }

  onResponseEnd(): void {
    this.settleResponse();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const code = (err as { code?: string }).code;
    if (this.timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") this.settleTimeout();
    else this.settle({ kind: "error", message: this.status ? `response body: ${err.message}` : err.message, latencyMs: performance.now() - this.started });
  }
}

function onRequestTimeout(handler: DrainingHandler): void {
  handler.timedOut = true;
  handler.settleTimeout();
  handler.controller?.abort(new Error(TIMEOUT));
}

/**
 * undici with keep-alive pools (one agent per target set run, `maxSockets` connections per origin):
 * warming thousands of URLs over fresh TCP+TLS connections costs the origin more than the pages
 * themselves. undici rather than `node:http` agents: against a cache answering at once the warmer is
 * bound by its own CPU per request, and on undici it spends a third of the CPU per request and sends
 * 2–3× as many requests per second
 * (bench/warm.ts; the handler below skips undici's body stream entirely).
 *
 * Safety, kept from the address check to the socket: every connection resolves its hostname through
 * a pinned lookup that answers only with the address {@link checkHost} accepted for it (and fails for a
 * hostname that was never checked), so DNS cannot hand the socket another address between check and
 * use. undici follows no redirects unless a redirect interceptor is installed (none is): `fetchSafely`
 * decides. HTTP/2 is not offered, so `concurrency` keeps meaning connections at the origin.
 */
export function createHttpDeps(options: { maxSockets?: number } = {}): HttpDeps {
  const pinned = new Map<string, ResolvedAddress>();
  const pinnedLookup = ((hostname: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const a = pinned.get(hostname.toLowerCase());
    if (!a) {
      const err = Object.assign(new Error(`host "${hostname}" was not checked; not connecting`), { code: "ENOTFOUND" });
      callback(err, opts.all ? [] : undefined, undefined);
    } else if (opts.all) {
      callback(null, [{ address: a.address, family: a.family }]);
    } else {
      callback(null, a.address, a.family);
    }
  }) as unknown as LookupFunction;
  const agent = new Agent({
    connections: options.maxSockets ?? 256,
    pipelining: 1,
    allowH2: false,
    // Long enough to keep the pool between the first and the verification pass.
    keepAliveTimeout: 10_000,
    connect: { lookup: pinnedLookup },
  });

  const send = (req: SendRequest): Promise<SendResult> =>
    new Promise((resolve) => {
      pinned.set(req.url.hostname.toLowerCase(), req.address);
      agent.dispatch(
        {
          origin: req.url.origin,
          path: `${req.url.pathname}${req.url.search}`,
          method: req.method,
          // undici derives the Host header and the TLS server name (SNI) from `host`, else from the URL.
          headers: withUserAgent(req.headers),
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        new DrainingHandler(req, resolve),
      );
    });

  return {
    lookup: async (hostname) => {
      const bare = hostname.replace(/^\[|\]$/g, "");
      if (isIP(bare)) return [{ address: bare, family: isIP(bare) as 4 | 6 }];
      const all = await dnsLookup(bare, { all: true, verbatim: true });
      return all.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    },
    send,
    close: () => {
      void agent.destroy().catch(() => {});
    },
  };
}

/**
 * Resolve `hostname` and refuse it when any address is loopback, private or link-local and the
 * target does not allow that: checking every address (not just the first) keeps a hostname with one
 * public and one internal record from reaching the inside.
 */
export async function checkHost(deps: HttpDeps, hostname: string, allowPrivate: boolean, targetSet: string): Promise<HostCheck> {
  let addresses: ResolvedAddress[];
  try {
    addresses = await deps.lookup(hostname);
  } catch (err) {
    return { ok: false, kind: "dns-failed", reason: `host "${hostname}" did not resolve: ${(err as Error).message}` };
  }
  if (addresses.length === 0) return { ok: false, kind: "dns-failed", reason: `host "${hostname}" has no address` };
  if (!allowPrivate) {
    for (const a of addresses) {
      const restricted = classifyAddress(a.address);
      if (restricted) {
        const via = restricted.via ? ` (${restricted.via})` : "";
        return {
          ok: false,
          kind: "private-address",
          reason: `host "${hostname}" resolves to ${restricted.kind} address ${a.address}${via}; refused because target set "${targetSet}" does not set allowPrivate`,
        };
      }
    }
  }
  return { ok: true, address: addresses[0]! };
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

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
        .map((r) => ({ url: r.url, outcome: r.outcome, ...(r.status !== undefined ? { status: r.status } : {}), ...(r.message ? { message: r.message } : {}) })),
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
          finishOne({ url: item.url, pass, outcome: r.kind, latencyMs: round1(r.latencyMs), bytes: 0, cache: "unknown", attempts: attempt, message: r.message });
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

function firstHeader(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
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

type SafeResult = (SendResult & { kind: "response" } & { redirectRefused?: string }) | (SendResult & { kind: "timeout" | "error" });

/**
 * One URL under the safety rules: the host and port must be allowed and the host's addresses acceptable
 * (checked before anything is sent), redirects are followed only on the same host, to an allowed port, and
 * at most `maxRedirects` times; a redirect elsewhere is returned as is, with the reason it was not followed.
 */
async function fetchSafely(
  deps: HttpDeps,
  t: WarmTargetSet,
  checkHostCached: (hostname: string) => Promise<HostCheck>,
  start: URL,
  options: { keepBody: boolean; maxBodyBytes: number },
): Promise<SafeResult> {
  let url = start;
  let elapsed = 0;
  for (let hop = 0; ; hop++) {
    const hostname = url.hostname.toLowerCase();
    if (!hostAllowed(hostname, t.allowedHosts)) {
      return { kind: "error", message: `refused ${url.href}: host "${hostname}" is not in allowedHosts of target set "${t.name}"; not fetched`, latencyMs: elapsed };
    }
    const portRefused = portRefusal(url, t.allowedPorts, t.name);
    if (portRefused) return { kind: "error", message: `refused ${url.href}: ${portRefused}; not fetched`, latencyMs: elapsed };
    const check = await checkHostCached(hostname);
    if (!check.ok) return { kind: "error", message: `refused ${url.href}: ${check.reason}`, latencyMs: elapsed };
    const r = await deps.send({
      url,
      address: check.address,
      method: options.keepBody ? "GET" : t.method,
      headers: t.headers,
      timeoutMs: t.timeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      keepBody: options.keepBody,
    });
    elapsed += r.latencyMs;
    if (r.kind !== "response") return { ...r, latencyMs: elapsed };
    const location = firstHeader(r.headers, "location");
    const isRedirect = [301, 302, 303, 307, 308].includes(r.status) && location && !t.expectedStatus.includes(r.status);
    if (!isRedirect) return { ...r, latencyMs: elapsed };
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to an invalid Location "${location}" not followed` };
    }
    if (next.hostname.toLowerCase() !== hostname) {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to another host "${next.hostname}" (${next.href}) not followed` };
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to ${next.protocol} not followed` };
    }
    if (portRefusal(next, t.allowedPorts, t.name)) {
      return {
        ...r,
        latencyMs: elapsed,
        redirectRefused: `redirect to port ${urlPort(next)} of "${next.hostname}" (${next.href}) not followed: not in allowedPorts of target set "${t.name}" (allowed: ${t.allowedPorts.join(", ")})`,
      };
    }
    if (hop >= t.maxRedirects) {
      return { ...r, latencyMs: elapsed, redirectRefused: `more than ${t.maxRedirects} redirects; stopped at ${next.href}` };
    }
    url = next;
  }
}
