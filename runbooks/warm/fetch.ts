import type { WarmTargetSet } from "../../schemas/config-warm.ts";
import { hostAllowed, portRefusal, urlPort } from "../../core/warm/hosts.ts";
import type { HostCheck, HttpDeps, ResponseHeaders, SendResult } from "../../adapters/http-warm.ts";

/** The first value of a response header (lower-case name). */
export function firstHeader(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export type SafeResult = (SendResult & { kind: "response" } & { redirectRefused?: string }) | (SendResult & { kind: "timeout" | "error" });

/**
 * One URL under the safety rules: the host and port must be allowed and the host's addresses acceptable
 * (checked before anything is sent), redirects are followed only on the same host, to an allowed port, and
 * at most `maxRedirects` times; a redirect elsewhere is returned as is, with the reason it was not followed.
 */
export async function fetchSafely(
  deps: HttpDeps,
  t: WarmTargetSet,
  checkHostCached: (hostname: string) => Promise<HostCheck>,
  start: URL,
  options: { keepBody: boolean; maxBodyBytes: number },
): Promise<SafeResult> {
  let url = start;
  let elapsed = 0;
  for (let hop = 0; ; hop++) {
    const hostname = url.hostname.toLowerCase();
    if (!hostAllowed(hostname, t.allowedHosts)) {
      return {
        kind: "error",
        message: `refused ${url.href}: host "${hostname}" is not in allowedHosts of target set "${t.name}"; not fetched`,
        latencyMs: elapsed,
      };
    }
    const portRefused = portRefusal(url, t.allowedPorts, t.name);
    if (portRefused) return { kind: "error", message: `refused ${url.href}: ${portRefused}; not fetched`, latencyMs: elapsed };
    const check = await checkHostCached(hostname);
    if (!check.ok) return { kind: "error", message: `refused ${url.href}: ${check.reason}`, latencyMs: elapsed };
    const r = await deps.send({
      url,
      address: check.address,
      method: options.keepBody ? "GET" : t.method,
      headers: t.headers,
      timeoutMs: t.timeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      keepBody: options.keepBody,
    });
    elapsed += r.latencyMs;
    if (r.kind !== "response") return { ...r, latencyMs: elapsed };
    const location = firstHeader(r.headers, "location");
    const isRedirect = [301, 302, 303, 307, 308].includes(r.status) && location && !t.expectedStatus.includes(r.status);
    if (!isRedirect) return { ...r, latencyMs: elapsed };
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to an invalid Location "${location}" not followed` };
    }
    if (next.hostname.toLowerCase() !== hostname) {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to another host "${next.hostname}" (${next.href}) not followed` };
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      return { ...r, latencyMs: elapsed, redirectRefused: `redirect to ${next.protocol} not followed` };
    }
    if (portRefusal(next, t.allowedPorts, t.name)) {
      return {
        ...r,
        latencyMs: elapsed,
        redirectRefused: `redirect to port ${urlPort(next)} of "${next.hostname}" (${next.href}) not followed: not in allowedPorts of target set "${t.name}" (allowed: ${t.allowedPorts.join(", ")})`,
      };
    }
    if (hop >= t.maxRedirects) {
      return { ...r, latencyMs: elapsed, redirectRefused: `more than ${t.maxRedirects} redirects; stopped at ${next.href}` };
    }
    url = next;
  }
}
