import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { runWarm } from "../../../runbooks/warm/engine.ts";
import { parseSitemap, SitemapError } from "../../../adapters/sitemap.ts";
import { sitemapIndexXml, staticRoute, urlsetXml, type WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import { targetSet, useWarmServer } from "./builders.ts";

let server!: WarmServer;
useWarmServer((s) => (server = s));

const u = (path: string) => `${server.origin}${path}`;

describe("sitemaps against a local server", () => {
  it("reads a sitemap index with gzip children and orders by priority, then lastmod", async () => {
    server.routes["/sitemap.xml"] = staticRoute(sitemapIndexXml([u("/sitemap-1.xml.gz"), u("/sitemap-2.xml.gz")]));
    server.routes["/sitemap-1.xml.gz"] = staticRoute(
      urlsetXml([
        { loc: u("/page/low"), priority: 0.1 },
        { loc: u("/page/old"), priority: 0.8, lastmod: "2025-01-01" },
      ]),
      { gzip: true },
    );
    server.routes["/sitemap-2.xml.gz"] = staticRoute(
      urlsetXml([{ loc: u("/page/new"), priority: 0.8, lastmod: "2026-06-01T10:00:00+00:00" }, { loc: u("/page/default") }]),
      { gzip: true },
    );
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/sitemap.xml")], verify: false }), now: Date.now });
    expect(report.errors).toEqual([]);
    expect(report.plan.map((p) => [p.url, p.priority])).toEqual([
      [u("/page/new"), 0.8],
      [u("/page/old"), 0.8],
      [u("/page/default"), 0.5],
      [u("/page/low"), 0.1],
    ]);
    expect(report.sitemaps).toEqual([
      { url: u("/sitemap.xml"), urls: 0 },
      { url: u("/sitemap-1.xml.gz"), urls: 2 },
      { url: u("/sitemap-2.xml.gz"), urls: 2 },
    ]);
    expect(report.first!.successPct).toBe(100);
  });

  it("decodes a sitemap served with Content-Encoding: gzip", async () => {
    const body = gzipSync(urlsetXml([{ loc: u("/page/1") }]));
    server.routes["/enc.xml"] = (_req, res) => {
      res.writeHead(200, { "content-type": "application/xml", "content-encoding": "gzip", "content-length": body.length });
      res.end(body);
    };
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/enc.xml")] }), now: Date.now, dryRun: true });
    expect(report.plan.map((p) => p.url)).toEqual([u("/page/1")]);
  });

  it("reports malformed XML with the sitemap URL and the line, and still warms the rest", async () => {
    server.routes["/bad.xml"] = staticRoute(`<?xml version="1.0"?>\n<urlset>\n<url><loc>${u("/page/x")}</loc></ur>\n</urlset>`);
    server.routes["/good.xml"] = staticRoute(urlsetXml([{ loc: u("/page/ok") }]));
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/bad.xml"), u("/good.xml")], verify: false }), now: Date.now });
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(new RegExp(`^sitemap ${u("/bad.xml").replace(/[.]/g, "\\.")}: malformed XML at line 3`));
    expect(report.first!.requested).toBe(1);
    expect(server.requests.map((r) => r.path)).toEqual(["/bad.xml", "/good.xml", "/page/ok"]);
  });

  it("reports a sitemap answering 404 by its URL", async () => {
    server.routes["/missing.xml"] = staticRoute("nope", { status: 404 });
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/missing.xml")] }), now: Date.now });
    expect(report.errors).toEqual([`sitemap ${u("/missing.xml")}: HTTP 404`]);
  });

  it("refuses sitemap URLs and child sitemaps on hosts outside allowedHosts, sending nothing there", async () => {
    const other = `http://localhost:${server.port}`;
    server.routes["/sitemap.xml"] = staticRoute(sitemapIndexXml([u("/child.xml"), `${other}/foreign.xml`]));
    server.routes["/child.xml"] = staticRoute(urlsetXml([{ loc: u("/page/mine") }, { loc: `${other}/page/theirs` }]));
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/sitemap.xml")], verify: false }), now: Date.now });
    expect(server.requests.map((r) => r.path)).toEqual(["/sitemap.xml", "/child.xml", "/page/mine"]);
    expect(report.skipped).toEqual([
      {
        url: `${other}/page/theirs`,
        kind: "host-not-allowed",
        reason: `host "localhost" is not in allowedHosts of target set "site" (allowed: 127.0.0.1); not fetched`,
      },
    ]);
    expect(report.errors).toContain(
      `sitemap ${other}/foreign.xml: refused ${other}/foreign.xml: host "localhost" is not in allowedHosts of target set "site"; not fetched`,
    );
  });

  it("stops reading sitemaps at maxSitemaps", async () => {
    server.routes["/sitemap.xml"] = staticRoute(sitemapIndexXml([u("/a.xml"), u("/b.xml")]));
    server.routes["/a.xml"] = staticRoute(urlsetXml([{ loc: u("/page/a") }]));
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/sitemap.xml")], maxSitemaps: 2 }), now: Date.now, dryRun: true });
    expect(report.sitemaps.at(-1)).toEqual({ url: u("/b.xml"), urls: 0, error: "not read: maxSitemaps 2 reached" });
  });
});

describe("parseSitemap", () => {
  it("reads namespaced documents, entities and ignores entries without loc", () => {
    const xml = `<?xml version="1.0"?><sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"><sm:url><sm:loc>https://a.test/?a=1&amp;b=2</sm:loc><sm:priority>0.9</sm:priority></sm:url><sm:url><sm:priority>1</sm:priority></sm:url></sm:urlset>`;
    expect(parseSitemap(xml, "https://a.test/s.xml")).toEqual({ kind: "urlset", entries: [{ loc: "https://a.test/?a=1&b=2", priority: 0.9 }] });
  });

  it("ignores an out-of-range priority", () => {
    const parsed = parseSitemap(`<urlset><url><loc>https://a.test/</loc><priority>7</priority></url></urlset>`, "s");
    expect(parsed).toEqual({ kind: "urlset", entries: [{ loc: "https://a.test/" }] });
  });

  it("rejects a document that is not a sitemap, naming the URL and the root", () => {
    expect(() => parseSitemap("<html><body/></html>", "https://a.test/s.xml")).toThrow(
      new SitemapError("https://a.test/s.xml", "expected <urlset> or <sitemapindex>, found <html>"),
    );
  });

  it("accepts an empty urlset", () => {
    expect(parseSitemap(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>`, "s")).toEqual({ kind: "urlset", entries: [] });
  });
});
