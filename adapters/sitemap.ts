import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { WarmCandidate } from "../core/warm.ts";

/**
 * Sitemaps (sitemaps.org protocol): `<urlset>` files, `<sitemapindex>` files pointing at children,
 * gzip-compressed files (`.xml.gz`, or `Content-Encoding: gzip`). Every error names the sitemap URL.
 */

/** The protocol caps a sitemap at 50 MB uncompressed and 50,000 URLs; a bigger file is refused, not parsed. */
export const SITEMAP_MAX_BYTES = 50 * 1024 * 1024;
/** sitemaps.org: a URL without `<priority>` has priority 0.5. */
export const SITEMAP_DEFAULT_PRIORITY = 0.5;

export class SitemapError extends Error {
  override name = "SitemapError";
  readonly sitemapUrl: string;
  constructor(sitemapUrl: string, message: string) {
    super(`sitemap ${sitemapUrl}: ${message}`);
    this.sitemapUrl = sitemapUrl;
  }
}

export type ParsedSitemap =
  | { kind: "urlset"; entries: { loc: string; priority?: number; lastmod?: string }[] }
  | { kind: "index"; children: { loc: string; lastmod?: string }[] };

const parser = new XMLParser({
  ignoreAttributes: true,
  // Namespaced documents (`<sm:urlset>`) parse like plain ones.
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "url" || name === "sitemap",
  // `&amp;` in `<loc>` is mandatory escaping in sitemaps and must decode to `&`.
  processEntities: true,
});

/** Decompress a sitemap body: by `Content-Encoding`, then by the gzip magic bytes (`.xml.gz` served as-is). */
export function decodeSitemapBody(sitemapUrl: string, body: Buffer, contentEncoding?: string): string {
  const limit = { maxOutputLength: SITEMAP_MAX_BYTES };
  let data = body;
  try {
    const enc = (contentEncoding ?? "").trim().toLowerCase();
    if (enc === "gzip" || enc === "x-gzip") data = gunzipSync(data, limit);
    else if (enc === "deflate") data = inflateSync(data, limit);
    else if (enc === "br") data = brotliDecompressSync(data, limit);
    if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data, limit);
  } catch (err) {
    throw new SitemapError(sitemapUrl, `cannot decompress (${(err as Error).message}); limit ${SITEMAP_MAX_BYTES} bytes uncompressed`);
  }
  return data.toString("utf8");
}

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() || undefined;
  if (typeof v === "number") return String(v);
  return undefined;
}

/**
 * Parse one sitemap document. Malformed XML, or a document that is neither `<urlset>` nor
 * `<sitemapindex>`, throws a {@link SitemapError} naming the URL (and the line, when the XML is broken).
 *
 * @example parseSitemap("<urlset><url><loc>https://a.test/</loc></url></urlset>", "https://a.test/sitemap.xml")
 * // { kind: "urlset", entries: [{ loc: "https://a.test/" }] }
 */
export function parseSitemap(xml: string, sitemapUrl: string): ParsedSitemap {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new SitemapError(sitemapUrl, `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new SitemapError(sitemapUrl, `malformed XML: ${(err as Error).message}`);
  }
  const urlset = doc.urlset as { url?: unknown[] } | "" | undefined;
  if (urlset !== undefined) {
    const entries: { loc: string; priority?: number; lastmod?: string }[] = [];
    for (const raw of (typeof urlset === "object" ? urlset.url : undefined) ?? []) {
      const u = raw as Record<string, unknown>;
      const loc = text(u.loc);
      if (!loc) continue;
      const p = Number(text(u.priority));
      const lastmod = text(u.lastmod);
      entries.push({ loc, ...(Number.isFinite(p) && p >= 0 && p <= 1 ? { priority: p } : {}), ...(lastmod ? { lastmod } : {}) });
    }
    return { kind: "urlset", entries };
  }
  const index = doc.sitemapindex as { sitemap?: unknown[] } | "" | undefined;
  if (index !== undefined) {
    const children: { loc: string; lastmod?: string }[] = [];
    for (const raw of (typeof index === "object" ? index.sitemap : undefined) ?? []) {
      const s = raw as Record<string, unknown>;
      const loc = text(s.loc);
      const lastmod = text(s.lastmod);
      if (loc) children.push({ loc, ...(lastmod ? { lastmod } : {}) });
    }
    return { kind: "index", children };
  }
  const root = Object.keys(doc).filter((k) => !k.startsWith("?"))[0];
  throw new SitemapError(sitemapUrl, `expected <urlset> or <sitemapindex>, found ${root ? `<${root}>` : "no root element"}`);
}

/** Fetches one sitemap body under the warmer's safety rules (allowed hosts, address checks, size cap). */
export type SitemapFetcher = (url: string) => Promise<{ body: Buffer; contentEncoding?: string }>;

export interface SitemapLoad {
  candidates: WarmCandidate[];
  sitemaps: { url: string; urls: number; error?: string }[];
}

/**
 * Read sitemaps and sitemap indexes breadth-first, at most `maxSitemaps` files; a file that fails is
 * reported with its error and the others still count. `shouldContinue` lets the caller stop near the deadline.
 */
export async function loadSitemaps(
  roots: readonly string[],
  fetchSitemap: SitemapFetcher,
  options: { maxSitemaps: number; shouldContinue?: () => boolean },
): Promise<SitemapLoad> {
  const candidates: WarmCandidate[] = [];
  const sitemaps: SitemapLoad["sitemaps"] = [];
  const queue = [...roots];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    if (sitemaps.length >= options.maxSitemaps) {
      sitemaps.push({ url, urls: 0, error: `not read: maxSitemaps ${options.maxSitemaps} reached` });
      continue;
    }
    if (options.shouldContinue && !options.shouldContinue()) {
      sitemaps.push({ url, urls: 0, error: "not read: Lambda deadline near" });
      continue;
    }
    try {
      const { body, contentEncoding } = await fetchSitemap(url);
      const parsed = parseSitemap(decodeSitemapBody(url, body, contentEncoding), url);
      if (parsed.kind === "index") {
        for (const child of parsed.children) {
          let abs: string;
          try {
            abs = new URL(child.loc, url).href;
          } catch {
            sitemaps.push({ url: child.loc, urls: 0, error: `invalid sitemap URL in index ${url}` });
            continue;
          }
          queue.push(abs);
        }
        sitemaps.push({ url, urls: 0 });
      } else {
        for (const e of parsed.entries) {
          candidates.push({
            url: e.loc,
            priority: e.priority ?? SITEMAP_DEFAULT_PRIORITY,
            ...(e.lastmod ? { lastmod: e.lastmod } : {}),
            source: url,
          });
        }
        sitemaps.push({ url, urls: parsed.entries.length });
      }
    } catch (err) {
      const message = err instanceof SitemapError ? err.message : `sitemap ${url}: ${(err as Error).message}`;
      sitemaps.push({ url, urls: 0, error: message });
    }
  }
  return { candidates, sitemaps };
}
