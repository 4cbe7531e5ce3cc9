import { describe, expect, it } from "vitest";
import { runWarm } from "../../../runbooks/warm/engine.ts";
import { sitemapIndexXml, staticRoute, type WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import type { Decision } from "../../../core/types.ts";
import { targetSet, useWarmServer } from "./builders.ts";

/**
 * Sitemap handling is bounded: what is kept is the target's limit, not the sitemaps' size. No timing
 * or memory assertion here: `npm run bench:sitemap` measures those (README, Figures).
 */
let server!: WarmServer;
useWarmServer((s) => (server = s));

const u = (path: string) => `${server.origin}${path}`;

/** `n` URLs; priorities cycle 0.0–0.9 and lastmods over 12 months, so the plan has to order them. */
function bigUrlset(child: number, n: number): string {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'];
  for (let i = 0; i < n; i++) {
    const k = child * n + i;
    parts.push(
      `<url><loc>${u(`/p/${k}`)}</loc><lastmod>2026-${String((k % 12) + 1).padStart(2, "0")}-01</lastmod><priority>${(k % 10) / 10}</priority></url>\n`,
    );
  }
  parts.push("</urlset>\n");
  return parts.join("");
}

describe("sitemap bounds", () => {
  it("plans the target's limit out of 500,000 URLs in 10 sitemaps of 50,000, listing a sample of what it skipped", async () => {
    const children = Array.from({ length: 10 }, (_, c) => `/s-${c}.xml.gz`);
    server.routes["/sitemap.xml"] = staticRoute(sitemapIndexXml(children.map(u)));
    children.forEach((path, c) => {
      server.routes[path] = staticRoute(bigUrlset(c, 50_000), { gzip: true });
    });
    const decisions: Decision<string, string>[] = [];

    const report = await runWarm({
      targets: targetSet({ sitemaps: [u("/sitemap.xml")], limit: 500 }),
      now: Date.now,
      dryRun: true,
      log: (d) => decisions.push(d),
    });

    expect(report.errors).toEqual([]);
    expect(report.sitemaps).toEqual([{ url: u("/sitemap.xml"), urls: 0 }, ...children.map((p) => ({ url: u(p), urls: 50_000 }))]);
    expect(report.planned).toBe(500);
    expect(report.skippedByKind).toEqual({ "over-limit": 499_500 });
    // The highest priority (0.9) first, the latest lastmod (December) among those.
    expect(new Set(report.plan.map((p) => `${p.priority} ${p.lastmod}`))).toEqual(new Set(["0.9 2026-12-01"]));
    expect(report.skipped).toHaveLength(50);
    expect(report.skipped.every((s) => s.kind === "over-limit")).toBe(true);
    expect(decisions.filter((d) => d.action === "skip")).toHaveLength(51);
    expect(decisions.at(-1)).toEqual({
      action: "skip",
      target: "site",
      reason: "499,450 more URL(s) skipped as over-limit; counted in skippedByKind, not listed",
    });
  }, 60_000);

  it("skips a sitemap larger than 50 MB uncompressed (gzip or plain), says why, and still plans the others", async () => {
    const padding = " ".repeat(1024 * 1024);
    const huge = `<urlset>${padding.repeat(51)}<url><loc>${u("/p/huge")}</loc></url></urlset>`;
    server.routes["/bomb.xml.gz"] = staticRoute(huge, { gzip: true });
    server.routes["/huge.xml"] = staticRoute(huge);
    server.routes["/ok.xml"] = staticRoute(bigUrlset(0, 3));

    const report = await runWarm({
      targets: targetSet({ sitemaps: [u("/bomb.xml.gz"), u("/huge.xml"), u("/ok.xml")] }),
      now: Date.now,
      dryRun: true,
    });

    const tooLarge = (path: string) =>
      `sitemap ${u(path)}: skipped: larger than 52,428,800 bytes uncompressed, the sitemaps.org limit; its URLs are not warmed`;
    expect(report.sitemaps).toEqual([
      { url: u("/bomb.xml.gz"), urls: 0, error: tooLarge("/bomb.xml.gz") },
      { url: u("/huge.xml"), urls: 0, error: tooLarge("/huge.xml") },
      { url: u("/ok.xml"), urls: 3 },
    ]);
    expect(report.errors).toEqual([tooLarge("/bomb.xml.gz"), tooLarge("/huge.xml")]);
    expect(report.planned).toBe(3);
  }, 30_000);

  it("skips a sitemap listing more than 50,000 URLs, the protocol's maximum per file", async () => {
    server.routes["/many.xml.gz"] = staticRoute(bigUrlset(0, 50_001), { gzip: true });
    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/many.xml.gz")] }), now: Date.now, dryRun: true });
    const error = `sitemap ${u("/many.xml.gz")}: skipped: more than 50,000 entries, the sitemaps.org limit per file; its URLs are not warmed`;
    expect(report.sitemaps).toEqual([{ url: u("/many.xml.gz"), urls: 0, error }]);
    expect(report.planned).toBe(0);
  }, 30_000);

  it("lists a few of the child sitemaps beyond maxSitemaps and counts the rest", async () => {
    const children = Array.from({ length: 5000 }, (_, c) => u(`/c-${c}.xml`));
    server.routes["/sitemap.xml"] = staticRoute(sitemapIndexXml(children));
    for (const path of ["/c-0.xml", "/c-1.xml"]) server.routes[path] = staticRoute(bigUrlset(0, 1));

    const report = await runWarm({ targets: targetSet({ sitemaps: [u("/sitemap.xml")], maxSitemaps: 3 }), now: Date.now, dryRun: true });

    expect(report.sitemaps).toEqual([
      { url: u("/sitemap.xml"), urls: 0 },
      { url: u("/c-0.xml"), urls: 1 },
      { url: u("/c-1.xml"), urls: 1 },
      ...children.slice(2, 22).map((url) => ({ url, urls: 0, error: "not read: maxSitemaps 3 reached" })),
      { url: u("/sitemap.xml"), urls: 0, error: "4,978 more child sitemap(s) listed here not read: maxSitemaps 3 reached" },
    ]);
    expect(server.requests.map((r) => r.path)).toEqual(["/sitemap.xml", "/c-0.xml", "/c-1.xml"]);
  });
});
