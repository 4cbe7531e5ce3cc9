import { describe, expect, it } from "vitest";
import { runWarm } from "../../../runbooks/warm/engine.ts";
import { startWarmServer, type WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import { planWarm } from "../../../core/warm/plan.ts";
import { WarmTargetSetSchema } from "../../../schemas/config-warm.ts";
import { parseOrThrow } from "../../../schemas/validate.ts";
import { targetSet, useWarmServer } from "./builders.ts";

/** Redirects and sitemap URLs may not reach another port of an allowed host (an admin port, a cache's API) unless the target set allows it. */
describe("ports of allowed hosts, against two local origins on one host", () => {
  let server!: WarmServer;
  useWarmServer((s) => (server = s));

  const withOtherPort = async (fn: (other: WarmServer) => Promise<void>) => {
    const other = await startWarmServer();
    try {
      await fn(other);
    } finally {
      await other.close();
    }
  };

  it("does not follow a redirect to another port of the same host", () =>
    withOtherPort(async (other) => {
      server.routes["/moved"] = (_req, res) => {
        res.writeHead(302, { location: `${other.origin}/admin`, "content-length": 0 });
        res.end();
      };
      const report = await runWarm({ targets: targetSet({ urls: [`${server.origin}/moved`], verify: false }), now: Date.now });
      expect(other.requests).toEqual([]);
      expect(report.failed).toEqual([
        {
          url: `${server.origin}/moved`,
          outcome: "redirect-refused",
          status: 302,
          message: `redirect to port ${other.port} of "127.0.0.1" (${other.origin}/admin) not followed: not in allowedPorts of target set "site" (allowed: ${server.port})`,
        },
      ]);
    }));

  it("follows it when allowedPorts lists that port", () =>
    withOtherPort(async (other) => {
      server.routes["/moved"] = (_req, res) => {
        res.writeHead(302, { location: `${other.origin}/page/1`, "content-length": 0 });
        res.end();
      };
      const report = await runWarm({
        targets: targetSet({ urls: [`${server.origin}/moved`], allowedPorts: [server.port, other.port], verify: false }),
        now: Date.now,
      });
      expect(other.requests.map((r) => r.path)).toEqual(["/page/1"]);
      expect(report.failed).toEqual([]);
      expect(report.first!.byStatus).toEqual({ "200": 1 });
    }));

  it("does not fetch a child sitemap on another port", () =>
    withOtherPort(async (other) => {
      server.routes["/sitemap.xml"] = (_req, res) => {
        const body = `<sitemapindex><sitemap><loc>${other.origin}/child.xml</loc></sitemap></sitemapindex>`;
        res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
        res.end(body);
      };
      const report = await runWarm({ targets: targetSet({ sitemaps: [`${server.origin}/sitemap.xml`] }), now: Date.now, dryRun: true });
      expect(other.requests).toEqual([]);
      expect(report.errors).toEqual([
        `sitemap ${other.origin}/child.xml: refused ${other.origin}/child.xml: port ${other.port} of "127.0.0.1" is not in allowedPorts of target set "site" (allowed: ${server.port}); not fetched`,
      ]);
    }));
});

describe("planWarm: ports", () => {
  const opts = { name: "site", include: [], exclude: [], limit: 10, allowedHosts: ["a.test"], allowedPorts: [80, 443] };

  it("skips a URL on a port the target set does not allow, and keeps the default ports", () => {
    const plan = planWarm(opts, [
      { url: "https://a.test/", priority: 1, source: "config" },
      { url: "http://a.test:80/x", priority: 1, source: "config" },
      { url: "http://a.test:6379/", priority: 1, source: "https://a.test/sitemap.xml" },
    ]);
    expect(plan.urls.map((u) => u.url)).toEqual(["https://a.test/", "http://a.test/x"]);
    expect(plan.skipped).toEqual([
      {
        url: "http://a.test:6379/",
        kind: "port-not-allowed",
        reason: 'port 6379 of "a.test" is not in allowedPorts of target set "site" (allowed: 80, 443); not fetched',
      },
    ]);
  });
});

describe("warm config: allowedPorts", () => {
  it("defaults to the ports of urls and sitemaps; a standard web port allows the other (http → https upgrades)", () => {
    expect(WarmTargetSetSchema.parse({ name: "www", urls: ["http://a.test/"] }).allowedPorts).toEqual([80, 443]);
    expect(WarmTargetSetSchema.parse({ name: "www", urls: ["https://a.test/"], sitemaps: ["http://b.test:8080/s.xml"] }).allowedPorts).toEqual([443, 80, 8080]);
    expect(WarmTargetSetSchema.parse({ name: "www", urls: ["http://a.test:8080/"] }).allowedPorts).toEqual([8080]);
  });

  it("keeps an explicit list, which must cover the ports of urls and sitemaps", () => {
    expect(WarmTargetSetSchema.parse({ name: "www", urls: ["https://a.test/"], allowedPorts: [443, 8443] }).allowedPorts).toEqual([443, 8443]);
    expect(() => parseOrThrow(WarmTargetSetSchema, { name: "www", urls: ["https://a.test:8443/"], allowedPorts: [443] }, "warm target")).toThrow(
      /urls\[0\]: port 8443 is not in allowedPorts/,
    );
    expect(() => parseOrThrow(WarmTargetSetSchema, { name: "www", urls: ["https://a.test/"], allowedPorts: [0] }, "warm target")).toThrow(/allowedPorts\[0\]/);
  });
});
