import type { ProbePort } from "../runbooks/failover/ports.ts";

/**
 * HTTP health probe with a hard timeout. Route 53 health checkers give an endpoint 4 s to connect and 2 s to
 * answer; we default to 2 s overall so a slow endpoint reads as unhealthy here too, and one slow answer is
 * retried by the caller rather than taken as an outage.
 */

export interface HealthOptions {
  fetchImpl?: typeof fetch;
  now?: () => number;
}

/** A {@link ProbePort} using fetch (GET, no redirects followed, body discarded). */
export function httpProbe(options: HealthOptions = {}): ProbePort {
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? (() => performance.now());
  return {
    async check(url, timeoutMs) {
      const t0 = now();
      try {
        const res = await fetchImpl(url, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
        // Drain so the socket is released; the content is irrelevant.
        await res.arrayBuffer().catch(() => undefined);
        const ms = Math.round(now() - t0);
        const ok = res.status >= 200 && res.status < 300;
        return { ok, status: res.status, ms, detail: `${new URL(url).host} HTTP ${res.status} in ${ms} ms` };
      } catch (err) {
        const ms = Math.round(now() - t0);
        const name = (err as { name?: string }).name;
        const code = (err as { cause?: { code?: string } }).cause?.code;
        const why =
          name === "TimeoutError" || name === "AbortError" ? `no answer within ${timeoutMs} ms` : `network error${code ? ` ${code}` : name ? ` ${name}` : ""}`;
        return { ok: false, ms, detail: `${safeHost(url)} ${why}` };
      }
    },
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "invalid-url";
  }
}
