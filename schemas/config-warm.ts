// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { defaultAllowedPorts, hostAllowed, urlPort } from "../core/warm/hosts.ts";

/**
 * Configuration section `warm`: the target sets the cache warmer fetches.
 *
 * A target set is one origin (or CDN hostname) warmed together: explicit URLs with priorities,
 * sitemaps, filters and a limit, and the pacing the origin can bear. Defaults are deliberately gentle
 * (4 connections, 10 requests/s): warmers elsewhere exhausted nginx workers and drew 429s
 * (magento/ece-tools#700, eliashaeussler/typo3-warming#467); raise them per target once the origin is known.
 */

const HttpUrlSchema = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}, "expected an absolute http(s) URL");

/** Sitemap priorities run 0.0–1.0 (sitemaps.org); explicit URLs use the same scale. */
const PrioritySchema = z.number().min(0).max(1);

export const WarmUrlSchema = z.union([
  HttpUrlSchema.transform((url) => ({ url, priority: 1 })),
  z.object({ url: HttpUrlSchema, priority: PrioritySchema.default(1) }).strict(),
]);

const RegexSourceSchema = z
  .string()
  .min(1)
  .refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, "expected a valid regular expression (JavaScript syntax)");

/** `example.com` (exact) or `*.example.com` (any subdomain, not the apex). */
const HostPatternSchema = z
  .string()
  .regex(/^(\*\.)?[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i, "expected a hostname such as www.example.com or *.example.com")
  .transform((s) => s.toLowerCase());

const StatusListSchema = z
  .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const WarmTargetSetSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "expected lowercase letters, digits and hyphens, starting with a letter"),
    /** Explicit URLs; a bare string has priority 1 (ahead of sitemap URLs, whose default is 0.5). */
    urls: z.array(WarmUrlSchema).default([]),
    /** Sitemaps or sitemap index files (gzip accepted); their `priority` and `lastmod` order the URLs. */
    sitemaps: z.array(HttpUrlSchema).default([]),
    /** Only URLs matching at least one of these regular expressions are warmed (empty: all). */
    include: z.array(RegexSourceSchema).default([]),
    /** URLs matching any of these are skipped. */
    exclude: z.array(RegexSourceSchema).default([]),
    /** At most this many URLs per pass, highest priority first. */
    limit: z.number().int().min(1).max(100_000).default(1000),
    method: z.enum(["GET", "HEAD"]).default("GET"),
    /** Sent with every request, e.g. `Accept-Encoding`, or `Host` to warm an origin behind a CDN. */
    headers: z.record(z.string().min(1), z.string()).default({}),
    /** Statuses counted as success. */
    expectedStatus: StatusListSchema.default([200]),
    /**
     * Hosts that may be fetched. Defaults to the hosts of `urls` and `sitemaps`; a URL found in a
     * sitemap or a redirect pointing elsewhere is refused, never fetched.
     */
    allowedHosts: z.array(HostPatternSchema).optional(),
    /**
     * Ports that may be fetched on the allowed hosts. Defaults to the ports of `urls` and `sitemaps`, with
     * 80 and 443 together (an http → https upgrade); a sitemap URL or a redirect to another port (an admin
     * port, a cache's API) is refused, never fetched.
     */
    allowedPorts: z.array(z.number().int().min(1).max(65_535)).min(1).optional(),
    /**
     * Allow hosts resolving to private, loopback or link-local addresses (an internal load balancer).
     * Off by default: a sitemap or config typo must not turn the warmer against the VPC.
     */
    allowPrivate: z.boolean().default(false),
    /** Requests in flight at once. */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Token-bucket rate: request starts per second, or `"unlimited"` (concurrency still bounds). */
    ratePerSecond: z.union([z.number().positive().max(10_000), z.literal("unlimited")]).default(10),
    /** Token-bucket capacity: starts allowed back to back after an idle spell. 1 = strictly evenly spaced. */
    burst: z.number().int().min(1).max(1000).default(1),
    /** Whole-request timeout (connect, headers and body). */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Same-host redirects followed; a redirect to another host is never followed. */
    maxRedirects: z.number().int().min(0).max(10).default(3),
    /** Bodies are read and discarded; past this many bytes the connection is cut (counted, not an error). */
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .default(50 * 1024 * 1024),
    /** 429 (and 503 with `Retry-After`): retries per URL, and the longest pause honoured. */
    retry: z
      .object({
        maxRetries: z.number().int().min(0).max(10).default(2),
        defaultDelayMs: z.number().int().min(0).default(1000),
        maxDelayMs: z.number().int().min(0).default(60_000),
      })
      .strict()
      .prefault({}),
    /** Stop the run when more than `threshold` of the last `window` responses were 5xx or timeouts. */
    stopOn5xx: z
      .object({
        window: z.number().int().min(1).max(1000).default(20),
        threshold: z.number().min(0).max(1).default(0.3),
        minSamples: z.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
    /** Re-fetch warmed URLs once to measure the cache-hit ratio after warming. */
    verify: z.boolean().default(true),
    /** Sitemap files fetched per run at most (an index fans out). */
    maxSitemaps: z.number().int().min(1).max(1000).default(50),
    /** Warm this set when the failover runbook has flipped DNS. */
    afterFailover: z.boolean().default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.urls.length === 0 && t.sitemaps.length === 0) {
      ctx.addIssue({ code: "custom", path: ["urls"], message: "a target set needs urls, sitemaps, or both" });
    }
    // core/warm/pacing.ts keeps the last `window` responses and judges none before `minSamples`.
    if (t.stopOn5xx.minSamples > t.stopOn5xx.window) {
      ctx.addIssue({
        code: "custom",
        path: ["stopOn5xx", "minSamples"],
        message: `${t.stopOn5xx.minSamples} is above window (${t.stopOn5xx.window}): the window never holds that many responses, so warming would never stop on 5xx`,
      });
    }
    // Without Retry-After the pause is defaultDelayMs × attempt, given up when over maxDelayMs (core/warm/pacing.ts).
    if (t.retry.maxRetries > 0 && t.retry.defaultDelayMs > t.retry.maxDelayMs) {
      ctx.addIssue({
        code: "custom",
        path: ["retry", "defaultDelayMs"],
        message: `${t.retry.defaultDelayMs} is above maxDelayMs (${t.retry.maxDelayMs}): a 429 without Retry-After would never be retried`,
      });
    }
    if (t.allowedHosts) {
      const allowed = t.allowedHosts;
      const check = (u: string, path: (string | number)[]) => {
        const host = new URL(u).hostname.toLowerCase();
        if (!hostAllowed(host, allowed)) {
          ctx.addIssue({ code: "custom", path, message: `host "${host}" is not in allowedHosts` });
        }
      };
      t.urls.forEach((u, i) => {
        check(u.url, ["urls", i]);
      });
      t.sitemaps.forEach((u, i) => {
        check(u, ["sitemaps", i]);
      });
    }
    if (t.allowedPorts) {
      const ports = t.allowedPorts;
      const check = (u: string, path: (string | number)[]) => {
        const port = urlPort(new URL(u));
        if (!ports.includes(port)) ctx.addIssue({ code: "custom", path, message: `port ${port} is not in allowedPorts` });
      };
      t.urls.forEach((u, i) => {
        check(u.url, ["urls", i]);
      });
      t.sitemaps.forEach((u, i) => {
        check(u, ["sitemaps", i]);
      });
    }
  })
  .transform((t) => ({
    ...t,
    allowedHosts: t.allowedHosts ?? [...new Set([...t.urls.map((u) => u.url), ...t.sitemaps].map((u) => new URL(u).hostname.toLowerCase()))],
    allowedPorts: t.allowedPorts ?? defaultAllowedPorts([...t.urls.map((u) => u.url), ...t.sitemaps]),
  }));

export const WarmConfigSchema = z
  .object({
    targets: z.array(WarmTargetSetSchema).default([]),
    /** Stop starting requests when less than this is left before the Lambda deadline (plus one request timeout). */
    deadlineMarginMs: z.number().int().min(0).default(10_000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: "custom", path: ["targets", i, "name"], message: `duplicate target set "${t.name}"` });
      seen.add(t.name);
    });
  })
  .prefault({});

export type WarmConfig = z.output<typeof WarmConfigSchema>;
export type WarmTargetSet = z.output<typeof WarmTargetSetSchema>;
export type WarmTargetSetInput = z.input<typeof WarmTargetSetSchema>;
