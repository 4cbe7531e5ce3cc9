import http from "node:http";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";

/**
 * A tiny origin with a cache in front, on 127.0.0.1, for the warm tests, the benchmark and the drill.
 *
 * Every path not given in `routes` is a cacheable page: the first request is a miss (`X-Cache: MISS`,
 * served after `missDelayMs`), later ones are hits (`X-Cache: HIT`, `Age`). `requests` records every
 * request received, so a test can prove that nothing was sent.
 *
 * @example
 * const server = await startWarmServer({ missDelayMs: 20 });
 * // warm `${server.origin}/page/1` … with allowPrivate: true (it is loopback), then
 * await server.close();
 */

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, server: WarmServer) => void;

export interface WarmServerOptions {
  /** Time the "origin" takes to render a page that is not cached yet. */
  missDelayMs?: number;
  /** Body size of a page. */
  pageBytes?: number;
  /** Response time of every page when `cache` is false (an origin that takes time to answer). */
  latencyMs?: number;
  /** false: every page is served without cache headers, after `latencyMs` (benchmarks). */
  cache?: boolean;
  routes?: Record<string, RouteHandler>;
  /** false: keep no request log (benchmarks: 10^5 logged requests with their headers are GC work for the origin). */
  record?: boolean;
}

export interface WarmServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  requests: { method: string; path: string; at: number; headers: http.IncomingHttpHeaders }[];
  /** Whether `requests` is being filled; may be switched at any time. */
  record: boolean;
  /** TCP connections accepted (keep-alive reuse shows as few connections for many requests). */
  connections: number;
  /** Paths cached so far, with the time they were cached. */
  cached: Map<string, number>;
  routes: Record<string, RouteHandler>;
  close: () => Promise<void>;
}

export async function startWarmServer(options: WarmServerOptions = {}): Promise<WarmServer> {
  const pageBytes = options.pageBytes ?? 2048;
  const page = Buffer.alloc(pageBytes, "x");
  const missDelayMs = options.missDelayMs ?? 0;
  const useCache = options.cache !== false;
  const latencyMs = options.latencyMs ?? 0;
  const server = http.createServer();
  const state: WarmServer = {
    origin: "",
    port: 0,
    requests: [],
    record: options.record !== false,
    connections: 0,
    cached: new Map(),
    routes: { ...(options.routes ?? {}) },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  server.on("connection", () => {
    state.connections++;
  });
  server.on("request", (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (state.record) state.requests.push({ method: req.method ?? "GET", path, at: Date.now(), headers: req.headers });
    const route = state.routes[path];
    if (route) return route(req, res, state);
    if (!useCache) {
      const send = () => {
        res.writeHead(200, { "content-type": "text/html", "content-length": pageBytes });
        res.end(req.method === "HEAD" ? undefined : page);
      };
      if (latencyMs > 0) setTimeout(send, latencyMs);
      else send();
      return;
    }
    const cachedAt = state.cached.get(path);
    if (cachedAt !== undefined) {
      res.writeHead(200, {
        "content-type": "text/html",
        "content-length": pageBytes,
        "x-cache": "HIT",
        age: String(Math.max(1, Math.floor((Date.now() - cachedAt) / 1000))),
      });
      res.end(req.method === "HEAD" ? undefined : page);
      return;
    }
    setTimeout(() => {
      state.cached.set(path, Date.now());
      res.writeHead(200, { "content-type": "text/html", "content-length": pageBytes, "x-cache": "MISS", age: "0" });
      res.end(req.method === "HEAD" ? undefined : page);
    }, missDelayMs);
  });
  // Long enough to keep connections between a pass and the next.
  server.keepAliveTimeout = 10_000;

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

/** A `<urlset>` document; `entries` may carry `priority` and `lastmod`. */
export function urlsetXml(entries: { loc: string; priority?: number; lastmod?: string }[]): string {
  const urls = entries
    .map(
      (e) =>
        `<url><loc>${escapeXml(e.loc)}</loc>${e.lastmod ? `<lastmod>${e.lastmod}</lastmod>` : ""}${e.priority !== undefined ? `<priority>${e.priority}</priority>` : ""}</url>`,
    )
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`;
}

/** A `<sitemapindex>` document. */
export function sitemapIndexXml(locs: string[]): string {
  const items = locs.map((l) => `<sitemap><loc>${escapeXml(l)}</loc></sitemap>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${items}\n</sitemapindex>\n`;
}

/** A route serving a fixed body (gzip-compressed file when `gzip`: a `.xml.gz` served as-is). */
export function staticRoute(body: string, options: { gzip?: boolean; contentType?: string; status?: number } = {}): RouteHandler {
  const data = options.gzip ? gzipSync(body) : Buffer.from(body);
  return (_req, res) => {
    res.writeHead(options.status ?? 200, {
      "content-type": options.contentType ?? (options.gzip ? "application/gzip" : "application/xml"),
      "content-length": data.length,
    });
    res.end(data);
  };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
