import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { performance } from "node:perf_hooks";
import { Agent, type Dispatcher } from "undici";

/**
 * The cache warmer's HTTP side: DNS resolution with address checks, requests on an undici keep-alive
 * pool pinned to the checked addresses, with a whole-request timeout and bodies drained (never
 * buffered). The run that drives it (plan, pacing, verdicts, redirect rules) is runbooks/warm/engine.ts.
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

export type HostCheck = { ok: true; address: ResolvedAddress } | { ok: false; kind: "private-address" | "dns-failed"; reason: string };

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
 * use. undici follows no redirects unless a redirect interceptor is installed (none is): `fetchSafely` (runbooks/warm/fetch.ts)
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
