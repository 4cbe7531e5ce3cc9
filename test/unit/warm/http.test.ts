import { describe, expect, it } from "vitest";
import { createHttpDeps, restrictedAddressKind } from "../../../adapters/http-warm.ts";
import { runWarm } from "../../../runbooks/warm/engine.ts";
import type { WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import type { Decision } from "../../../core/types.ts";
import { targetSet, useWarmServer } from "./builders.ts";

let server!: WarmServer;
useWarmServer((s) => (server = s));

const pages = (n: number, prefix = "/page/") => Array.from({ length: n }, (_, i) => `${server.origin}${prefix}${i}`);
const requested = (path: string) => server.requests.filter((r) => r.path === path).length;

describe("runWarm against a local server", () => {
  it("warms every URL on a few keep-alive connections and shows the hit ratio rising on verification", async () => {
    const before = server.connections;
    const report = await runWarm({ targets: targetSet({ urls: pages(40), concurrency: 4 }), now: Date.now });
    expect(report.first).toMatchObject({ requested: 40, successPct: 100, byStatus: { "200": 40 }, bytes: 40 * 2048 });
    expect(report.first!.cache.hitRatio).toBe(0);
    expect(report.verify!.cache.hitRatio).toBe(1);
    expect(server.requests).toHaveLength(80);
    expect(server.connections - before).toBeLessThanOrEqual(4);
    expect(report.errors).toEqual([]);
  });

  it("refuses a loopback target without allowPrivate, sending no request", async () => {
    const report = await runWarm({ targets: targetSet({ urls: pages(3), allowPrivate: false }), now: Date.now });
    expect(server.requests).toHaveLength(0);
    expect(report.planned).toBe(0);
    expect(report.skippedByKind).toEqual({ "private-address": 3 });
    expect(report.errors).toEqual(['host "127.0.0.1" resolves to loopback address 127.0.0.1; refused because target set "site" does not set allowPrivate']);
  });

  it("refuses a sitemap on a private address without fetching it", async () => {
    const report = await runWarm({ targets: targetSet({ sitemaps: [`${server.origin}/sitemap.xml`], allowPrivate: false }), now: Date.now });
    expect(server.requests).toHaveLength(0);
    expect(report.errors[0]).toContain(`refused ${server.origin}/sitemap.xml: host "127.0.0.1" resolves to loopback address`);
  });

  it("honours 429 Retry-After: pauses everything and retries after the delay the origin asked for", async () => {
    let served429 = 0;
    server.routes["/busy"] = (_req, res) => {
      if (served429++ === 0) {
        res.writeHead(429, { "retry-after": "1", "content-length": 0 });
        res.end();
      } else {
        res.writeHead(200, { "content-length": 2 });
        res.end("ok");
      }
    };
    const decisions: Decision<string, string>[] = [];
    const report = await runWarm({
      targets: targetSet({ urls: [`${server.origin}/busy`, ...pages(6)], concurrency: 1, verify: false }),
      now: Date.now,
      log: (d) => decisions.push(d),
    });
    expect(report.first).toMatchObject({ successPct: 100, throttled: 1, retries: 1, requested: 7 });
    const t429 = server.requests.find((r) => r.path === "/busy")!.at;
    // Nothing at all reached the origin during the second it asked for.
    expect(server.requests.filter((r) => r.at > t429 && r.at < t429 + 950)).toEqual([]);
    expect(decisions.find((d) => d.action === "retry")?.reason).toContain("429, Retry-After 1 s");
  });

  it("gives up on a URL that keeps answering 429, reporting why", async () => {
    server.routes["/always-busy"] = (_req, res) => {
      res.writeHead(429, { "retry-after": "0", "content-length": 0 });
      res.end();
    };
    const report = await runWarm({
      targets: targetSet({ urls: [`${server.origin}/always-busy`], retry: { maxRetries: 2 }, verify: false }),
      now: Date.now,
    });
    expect(requested("/always-busy")).toBe(3);
    expect(report.failed).toEqual([
      { url: `${server.origin}/always-busy`, outcome: "unexpected-status", status: 429, message: expect.stringContaining("2 retries used up") },
    ]);
  });

  it("stops on a 5xx burst instead of hammering the origin, and reports what is left", async () => {
    for (let i = 0; i < 30; i++) {
      server.routes[`/err/${i}`] = (_req, res) => {
        res.writeHead(500, { "content-length": 0 });
        res.end();
      };
    }
    const report = await runWarm({
      targets: targetSet({ urls: pages(30, "/err/"), concurrency: 2, stopOn5xx: { window: 10, threshold: 0.3, minSamples: 5 } }),
      now: Date.now,
    });
    expect(report.stopped?.reason).toContain("the origin is struggling, stopped warming");
    expect(server.requests.length).toBeLessThan(10);
    expect(report.leftover.length).toBe(30 - server.requests.length);
    expect(report.verify).toBeUndefined();
    expect(report.errors).toContain(report.stopped!.reason);
  });

  it("times out a slow response and counts it against the origin's health", async () => {
    server.routes["/slow"] = (_req, res) => {
      const timer = setTimeout(() => res.end("late"), 3000);
      res.on("close", () => clearTimeout(timer));
    };
    const report = await runWarm({ targets: targetSet({ urls: [`${server.origin}/slow`, ...pages(2)], timeoutMs: 200, verify: false }), now: Date.now });
    expect(report.first!.byOutcome).toEqual({ timeout: 1, ok: 2 });
    expect(report.failed[0]).toMatchObject({ url: `${server.origin}/slow`, outcome: "timeout", message: "no complete response within 200 ms" });
  });

  it("does not follow a redirect to another host", async () => {
    server.routes["/moved"] = (_req, res) => {
      res.writeHead(302, { location: `http://localhost:${server.port}/elsewhere`, "content-length": 0 });
      res.end();
    };
    const report = await runWarm({ targets: targetSet({ urls: [`${server.origin}/moved`] }), now: Date.now });
    expect(requested("/elsewhere")).toBe(0);
    expect(report.failed).toEqual([
      {
        url: `${server.origin}/moved`,
        outcome: "redirect-refused",
        status: 302,
        message: `redirect to another host "localhost" (http://localhost:${server.port}/elsewhere) not followed`,
      },
    ]);
  });

  it("follows same-host redirects up to maxRedirects", async () => {
    server.routes["/a"] = (_req, res) => {
      res.writeHead(301, { location: "/b", "content-length": 0 });
      res.end();
    };
    server.routes["/b"] = (_req, res) => {
      res.writeHead(308, { location: `${server.origin}/page/final`, "content-length": 0 });
      res.end();
    };
    const ok = await runWarm({ targets: targetSet({ urls: [`${server.origin}/a`], verify: false }), now: Date.now });
    expect(ok.first!.byStatus).toEqual({ "200": 1 });
    expect(requested("/page/final")).toBe(1);

    const tooMany = await runWarm({ targets: targetSet({ urls: [`${server.origin}/a`], maxRedirects: 1, verify: false }), now: Date.now });
    expect(tooMany.failed[0]).toMatchObject({ outcome: "redirect-refused", message: `more than 1 redirects; stopped at ${server.origin}/page/final` });
  });

  it("drains a huge body without keeping it, and cuts it at maxBodyBytes", async () => {
    const chunk = Buffer.alloc(64 * 1024, "y");
    server.routes["/huge"] = (_req, res) => {
      res.writeHead(200, { "content-length": 128 * chunk.length });
      let sent = 0;
      const write = () => {
        while (sent < 128) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", write);
        }
        res.end();
      };
      res.on("error", () => {});
      write();
    };
    const full = await runWarm({ targets: targetSet({ urls: [`${server.origin}/huge`], verify: false }), now: Date.now });
    expect(full.first).toMatchObject({ bytes: 8 * 1024 * 1024, truncated: 0, successPct: 100 });

    const cut = await runWarm({ targets: targetSet({ urls: [`${server.origin}/huge`], maxBodyBytes: 1024 * 1024, verify: false }), now: Date.now });
    expect(cut.first!.truncated).toBe(1);
    expect(cut.first!.bytes).toBeLessThan(2 * 1024 * 1024);
    expect(cut.first!.byStatus).toEqual({ "200": 1 });
  });

  it("sends the configured method and headers (HEAD, Host for an origin behind a CDN)", async () => {
    await runWarm({
      targets: targetSet({ urls: pages(1), method: "HEAD", headers: { Host: "www.example.test", "Accept-Encoding": "br" }, verify: false }),
      now: Date.now,
    });
    expect(server.requests[0]).toMatchObject({ method: "HEAD", headers: { host: "www.example.test", "accept-encoding": "br" } });
  });

  it("stops starting requests near the deadline and reports what is left", async () => {
    const report = await runWarm({
      targets: targetSet({ urls: pages(20), concurrency: 1 }),
      now: Date.now,
      deadline: () => (server.requests.length >= 5 ? 5_000 : 600_000),
      deadlineMarginMs: 10_000,
    });
    expect(server.requests).toHaveLength(5);
    expect(report.deadline).toMatchObject({ notStarted: 15, reason: expect.stringContaining("before the Lambda deadline") });
    expect(report.leftover).toEqual(pages(20).slice(5));
    expect(report.verify).toBeUndefined();
  });

  it("connects to the address the check accepted, never resolving the hostname again", async () => {
    // "warm.invalid" exists in no DNS: the request can only reach the server through the checked address.
    const checked: string[] = [];
    const real = createHttpDeps();
    const http = {
      ...real,
      lookup: async (hostname: string) => {
        checked.push(hostname);
        return [{ address: "127.0.0.1", family: 4 as const }];
      },
    };
    const url = `http://warm.invalid:${server.port}/page/pinned`;
    const report = await runWarm({ targets: targetSet({ urls: [url], verify: false }), now: Date.now, http });
    real.close();
    expect(checked).toEqual(["warm.invalid"]);
    expect(report.first).toMatchObject({ requested: 1, successPct: 100 });
    expect(server.requests[0]).toMatchObject({ path: "/page/pinned", headers: { host: `warm.invalid:${server.port}` } });
  });

  it("dry-run plans and sends nothing", async () => {
    const report = await runWarm({ targets: targetSet({ urls: pages(5) }), now: Date.now, dryRun: true });
    expect(server.requests).toHaveLength(0);
    expect(report).toMatchObject({ dryRun: true, planned: 5 });
    expect(report.plan.map((p) => p.url)).toEqual(pages(5));
    expect(report.first).toBeUndefined();
  });
});

describe("restrictedAddressKind", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["10.1.2.3", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["fd00::1", "private"],
    ["::ffff:10.0.0.1", "private"],
    ["0.0.0.0", "unspecified, multicast or reserved"],
    ["93.184.216.34", undefined],
    ["2606:4700::1111", undefined],
    ["172.32.0.1", undefined],
  ])("%s → %s", (address, kind) => {
    expect(restrictedAddressKind(address)).toBe(kind);
  });
});
