import { Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { brotliDecompressSync, constants, createBrotliDecompress, createGunzip, createInflate, gunzipSync, inflateSync } from "node:zlib";
import { SaxesParser } from "saxes";
import type { WarmCandidate } from "../core/warm/plan.ts";

/**
 * Sitemaps (sitemaps.org protocol): `<urlset>` files, `<sitemapindex>` files pointing at children,
 * gzip-compressed files (`.xml.gz`, or `Content-Encoding: gzip`). Every error names the sitemap URL.
 *
 * Bounded whatever the sitemaps hold: a file is decompressed and parsed as a stream (no whole-document
 * string, no document tree), at most {@link SITEMAP_MAX_BYTES} uncompressed and {@link SITEMAP_MAX_ENTRIES}
 * entries per file (the protocol's own limits: a bigger file is skipped with the reason), and the URLs
 * go one by one to the caller, whose planner keeps only the target's limit.
 */

/** The protocol caps a sitemap at 50 MB (52,428,800 bytes) uncompressed; a bigger file is skipped, not parsed to the end. */
export const SITEMAP_MAX_BYTES = 50 * 1024 * 1024;
/** The protocol caps a sitemap at 50,000 URLs and an index at 50,000 sitemaps. */
export const SITEMAP_MAX_ENTRIES = 50_000;
/** sitemaps.org: a `<loc>` is less than 2,048 characters; a longer one is not a URL we warm. */
export const SITEMAP_MAX_LOC_CHARS = 2048;
/** sitemaps.org: a URL without `<priority>` has priority 0.5. */
export const SITEMAP_DEFAULT_PRIORITY = 0.5;
/** Child sitemaps beyond `maxSitemaps` listed one by one in the report; the rest are counted. */
export const SITEMAP_NOT_READ_LISTED = 20;

export class SitemapError extends Error {
  override name = "SitemapError";
  readonly sitemapUrl: string;
  constructor(sitemapUrl: string, message: string) {
    super(`sitemap ${sitemapUrl}: ${message}`);
    this.sitemapUrl = sitemapUrl;
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The error of a sitemap over {@link SITEMAP_MAX_BYTES}, whether it came plain or compressed. */
export function sitemapTooLarge(sitemapUrl: string): SitemapError {
  return new SitemapError(sitemapUrl, `skipped: larger than ${fmt(SITEMAP_MAX_BYTES)} bytes uncompressed, the sitemaps.org limit; its URLs are not warmed`);
}

export interface SitemapUrlEntry {
  loc: string;
  priority?: number;
  lastmod?: string;
}

export type ParsedSitemap = { kind: "urlset"; entries: SitemapUrlEntry[] } | { kind: "index"; children: { loc: string; lastmod?: string }[] };

const localName = (name: string) => name.slice(name.indexOf(":") + 1);

/**
 * One sitemap document, parsed as it arrives (`write` text in any pieces, then `close`): SAX events,
 * never a tree. Keeps the entries of this one file, at most {@link SITEMAP_MAX_ENTRIES}. Namespaced
 * documents (`<sm:urlset>`) read like plain ones; elements of extensions (`<image:image>`) are skipped.
 * Entities are the five XML ones and character references: a DTD's entities are not expanded.
 */
export class SitemapReader {
  readonly sitemapUrl: string;
  private readonly parser = new SaxesParser({ position: true });
  private root: "urlset" | "sitemapindex" | undefined;
  private depth = 0;
  private entry: { loc?: string; priority?: string; lastmod?: string } | undefined;
  private field: "loc" | "priority" | "lastmod" | undefined;
  private text = "";
  private readonly entries: SitemapUrlEntry[] = [];

  constructor(sitemapUrl: string) {
    this.sitemapUrl = sitemapUrl;
    const p = this.parser;
    p.on("opentag", (tag) => {
      this.depth++;
      const name = localName(tag.name);
      if (this.depth === 1) {
        if (name !== "urlset" && name !== "sitemapindex") {
          throw new SitemapError(sitemapUrl, `expected <urlset> or <sitemapindex>, found <${tag.name}>`);
        }
        this.root = name;
      } else if (this.depth === 2 && name === (this.root === "urlset" ? "url" : "sitemap")) {
        this.entry = {};
      } else if (this.depth === 3 && this.entry && (name === "loc" || name === "lastmod" || (name === "priority" && this.root === "urlset"))) {
        this.field = name;
        this.text = "";
      }
    });
    const onText = (t: string) => {
      // A field longer than any valid value is not kept growing: it is dropped when it closes.
      if (this.field && this.text.length <= SITEMAP_MAX_LOC_CHARS) this.text += t;
    };
    p.on("text", onText);
    p.on("cdata", onText);
    p.on("closetag", () => {
      if (this.depth === 3 && this.field && this.entry) {
        const value = this.text.trim();
        if (value && value.length < SITEMAP_MAX_LOC_CHARS) this.entry[this.field] = value;
        this.field = undefined;
      } else if (this.depth === 2 && this.entry) {
        if (this.entry.loc) {
          if (this.entries.length >= SITEMAP_MAX_ENTRIES) {
            throw new SitemapError(
              sitemapUrl,
              `skipped: more than ${fmt(SITEMAP_MAX_ENTRIES)} entries, the sitemaps.org limit per file; its URLs are not warmed`,
            );
          }
          const { loc, priority, lastmod } = this.entry;
          const p = Number(priority);
          this.entries.push({
            loc,
            ...(priority !== undefined && this.root === "urlset" && Number.isFinite(p) && p >= 0 && p <= 1 ? { priority: p } : {}),
            ...(lastmod ? { lastmod } : {}),
          });
        }
        this.entry = undefined;
      }
      this.depth--;
    });
  }

  write(text: string): void {
    this.guard(() => this.parser.write(text));
  }

  /** End of the document: the entries, or a {@link SitemapError} for an incomplete or empty one. */
  close(): ParsedSitemap {
    this.guard(() => this.parser.close());
    if (!this.root) throw new SitemapError(this.sitemapUrl, "expected <urlset> or <sitemapindex>, found no root element");
    return this.root === "sitemapindex" ? { kind: "index", children: this.entries } : { kind: "urlset", entries: this.entries };
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof SitemapError) throw err;
      // saxes: "<line>:<column>: <message>", the column zero-based.
      const m = /^(\d+):(\d+): (.*)$/s.exec((err as Error).message);
      throw new SitemapError(
        this.sitemapUrl,
        m ? `malformed XML at line ${m[1]}, column ${Number(m[2]) + 1}: ${m[3]}` : `malformed XML: ${(err as Error).message}`,
      );
    }
  }
}

/**
 * Parse one whole sitemap document. Malformed XML, or a document that is neither `<urlset>` nor
 * `<sitemapindex>`, throws a {@link SitemapError} naming the URL (and the line, when the XML is broken).
 *
 * @example parseSitemap("<urlset><url><loc>https://a.test/</loc></url></urlset>", "https://a.test/sitemap.xml")
 * // { kind: "urlset", entries: [{ loc: "https://a.test/" }] }
 */
export function parseSitemap(xml: string, sitemapUrl: string): ParsedSitemap {
  const reader = new SitemapReader(sitemapUrl);
  reader.write(xml);
  return reader.close();
}

type Decoder = { name: string; stream: () => Transform; peek: (b: Buffer) => Buffer };

const peekOptions = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 };
const DECODERS: Record<string, Decoder> = {
  gzip: { name: "gzip", stream: createGunzip, peek: (b) => gunzipSync(b, peekOptions) },
  deflate: { name: "deflate", stream: createInflate, peek: (b) => inflateSync(b, peekOptions) },
  br: {
    name: "br",
    stream: createBrotliDecompress,
    peek: (b) => brotliDecompressSync(b, { finishFlush: constants.BROTLI_OPERATION_FLUSH, maxOutputLength: 64 * 1024 }),
  },
};

const isGzip = (b: Buffer | undefined) => b !== undefined && b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The decompression layers of a body: by `Content-Encoding`, then by the gzip magic bytes of what that
 * yields (`.xml.gz` served as-is, or served gzip-encoded on top). The magic bytes behind an encoding are
 * read by decoding the first kilobyte only.
 */
function decodersFor(first: Buffer | undefined, contentEncoding: string | undefined): Decoder[] {
  const enc = (contentEncoding ?? "").trim().toLowerCase();
  const outer = DECODERS[enc === "x-gzip" ? "gzip" : enc];
  if (!outer) return isGzip(first) ? [DECODERS.gzip!] : [];
  let inner: Buffer | undefined;
  try {
    inner = first ? outer.peek(first.subarray(0, 1024)) : undefined;
  } catch {
    // Corrupt or cut: the stream below reports it.
  }
  return isGzip(inner) ? [outer, DECODERS.gzip!] : [outer];
}

/**
 * Read one sitemap body, given as the chunks received: decompressed and parsed as a stream, each
 * chunk released once read. Past {@link SITEMAP_MAX_BYTES} uncompressed it stops and throws
 * {@link sitemapTooLarge} (a gzip bomb is cut there too).
 */
export async function readSitemap(sitemapUrl: string, chunks: Buffer[], contentEncoding?: string): Promise<ParsedSitemap> {
  const reader = new SitemapReader(sitemapUrl);
  const layers = decodersFor(chunks[0], contentEncoding);
  function* release(): Generator<Buffer> {
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      chunks[i] = Buffer.alloc(0);
      yield c;
    }
  }
  let bytes = 0;
  const decoder = new TextDecoder("utf-8");
  try {
    const consume = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        bytes += chunk.length;
        if (bytes > SITEMAP_MAX_BYTES) throw sitemapTooLarge(sitemapUrl);
        reader.write(decoder.decode(chunk, { stream: true }));
      }
      reader.write(decoder.decode());
    };
    const body = Readable.from(release(), { objectMode: false });
    const [outer, inner] = layers.map((l) => l.stream());
    if (!outer) await pipeline(body, consume);
    else if (!inner) await pipeline(body, outer, consume);
    else await pipeline(body, outer, inner, consume);
  } catch (err) {
    if (err instanceof SitemapError) throw err;
    throw new SitemapError(sitemapUrl, `cannot decompress (${layers.map((l) => l.name).join(", then ")}): ${(err as Error).message}`);
  }
  return reader.close();
}

/** Fetches one sitemap body under the warmer's safety rules (allowed hosts and ports, address checks, size cap). */
export type SitemapFetcher = (url: string) => Promise<{ chunks: Buffer[]; contentEncoding?: string }>;

export interface SitemapLoad {
  sitemaps: { url: string; urls: number; error?: string }[];
}

/**
 * Read sitemaps and sitemap indexes breadth-first, at most `maxSitemaps` files, handing every URL to
 * `add` as each file completes (a file that fails or is skipped contributes none); a file that fails is
 * reported with its error and the others still count. Child sitemaps beyond `maxSitemaps` are not
 * queued: the first {@link SITEMAP_NOT_READ_LISTED} are listed, the rest counted per index.
 * `shouldContinue` lets the caller stop near the deadline.
 */
export async function loadSitemaps(
  roots: readonly string[],
  fetchSitemap: SitemapFetcher,
  options: { maxSitemaps: number; add: (candidate: WarmCandidate) => void; shouldContinue?: () => boolean },
): Promise<SitemapLoad> {
  const sitemaps: SitemapLoad["sitemaps"] = [];
  // Children not queued, reported after the files that were read.
  const notQueued: SitemapLoad["sitemaps"] = [];
  const queue = [...new Set(roots)];
  const seen = new Set<string>(queue);
  let read = 0;
  let listedNotRead = 0;
  const notRead = (url: string, error: string) => {
    notQueued.push({ url, urls: 0, error });
    listedNotRead++;
  };
  for (let next = 0; next < queue.length; next++) {
    const url = queue[next]!;
    if (read >= options.maxSitemaps) {
      notRead(url, `not read: maxSitemaps ${options.maxSitemaps} reached`);
      continue;
    }
    if (options.shouldContinue && !options.shouldContinue()) {
      sitemaps.push({ url, urls: 0, error: "not read: Lambda deadline near" });
      continue;
    }
    read++;
    try {
      const { chunks, contentEncoding } = await fetchSitemap(url);
      const parsed = await readSitemap(url, chunks, contentEncoding);
      if (parsed.kind === "index") {
        sitemaps.push({ url, urls: 0 });
        let beyond = 0;
        for (const child of parsed.children) {
          let abs: string;
          try {
            abs = new URL(child.loc, url).href;
          } catch {
            sitemaps.push({ url: child.loc, urls: 0, error: `invalid sitemap URL in index ${url}` });
            continue;
          }
          if (seen.has(abs)) continue;
          seen.add(abs);
          if (queue.length - next - 1 + read < options.maxSitemaps) queue.push(abs);
          else if (listedNotRead < SITEMAP_NOT_READ_LISTED) notRead(abs, `not read: maxSitemaps ${options.maxSitemaps} reached`);
          else beyond++;
        }
        if (beyond > 0)
          notQueued.push({ url, urls: 0, error: `${fmt(beyond)} more child sitemap(s) listed here not read: maxSitemaps ${options.maxSitemaps} reached` });
      } else {
        for (const e of parsed.entries) {
          options.add({ url: e.loc, priority: e.priority ?? SITEMAP_DEFAULT_PRIORITY, ...(e.lastmod ? { lastmod: e.lastmod } : {}), source: url });
        }
        sitemaps.push({ url, urls: parsed.entries.length });
      }
    } catch (err) {
      const message = err instanceof SitemapError ? err.message : `sitemap ${url}: ${(err as Error).message}`;
      sitemaps.push({ url, urls: 0, error: message });
    }
  }
  return { sitemaps: [...sitemaps, ...notQueued] };
}
