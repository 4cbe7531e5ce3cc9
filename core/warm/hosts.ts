/**
 * Which hosts and ports a warm target set may reach. Pure; shared by the configuration check
 * (schemas/config-warm.ts fills `allowedPorts` with {@link defaultAllowedPorts}), the planner and the
 * redirect rules of runbooks/warm/fetch.ts.
 */

/**
 * True when `host` matches one of `patterns` (`example.com` exactly, `*.example.com` any subdomain).
 *
 * @example hostAllowed("a.example.com", ["*.example.com"]) // true
 * hostAllowed("example.com", ["*.example.com"]) // false: the apex must be listed itself
 */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith("*.") ? h.length > p.length - 1 && h.endsWith(p.slice(1)) : h === p));
}

/**
 * The TCP port a URL connects to: its explicit port, else its scheme's (80 for http, 443 for https).
 *
 * @example urlPort(new URL("https://a.test/")) // 443
 */
export function urlPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** The standard web ports: a target on one of them may be redirected to the other (an http → https upgrade). */
export const WEB_PORTS: readonly number[] = [80, 443];

/**
 * The ports a target set may connect to when it lists none: those of its URLs and sitemaps, and
 * with 80 or 443 the other one too.
 *
 * @example defaultAllowedPorts(["http://a.test/", "http://a.test:8080/x"]) // [80, 443, 8080]
 */
export function defaultAllowedPorts(urls: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const u of urls) {
    const port = urlPort(new URL(u));
    ports.add(port);
    if (WEB_PORTS.includes(port)) for (const w of WEB_PORTS) ports.add(w);
  }
  return [...ports];
}

/** Why a port is refused, or undefined when `allowed` (absent: any port) lists it. */
export function portRefusal(url: URL, allowed: readonly number[] | undefined, targetSet: string): string | undefined {
  const port = urlPort(url);
  if (!allowed || allowed.includes(port)) return undefined;
  return `port ${port} of "${url.hostname.toLowerCase()}" is not in allowedPorts of target set "${targetSet}" (allowed: ${allowed.join(", ") || "none"})`;
}
