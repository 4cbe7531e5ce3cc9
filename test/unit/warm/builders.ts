/** Small fixture builders for the warm tests. */
import { afterAll, afterEach, beforeAll } from "vitest";
import { startWarmServer, type WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import { WarmTargetSetSchema, type WarmTargetSet } from "../../../schemas/config-warm.ts";
import type { WarmResult } from "../../../core/warm/report.ts";

/** A target set with the schema's defaults plus overrides; the tests' server is loopback, so allowPrivate defaults to true here. */
export function targetSet(overrides: Record<string, unknown> = {}): WarmTargetSet {
  return WarmTargetSetSchema.parse({ name: "site", allowPrivate: true, ratePerSecond: "unlimited", concurrency: 4, ...overrides });
}

export function result(o: Partial<WarmResult> = {}): WarmResult {
  return { url: "https://a.test/", pass: "first", outcome: "ok", status: 200, latencyMs: 10, bytes: 100, cache: "miss", attempts: 1, ...o };
}

/**
 * One local caching origin for a test file, started before its tests and reset after each one.
 * `set` receives the server once it listens.
 */
export function useWarmServer(set: (server: WarmServer) => void): void {
  let server: WarmServer | undefined;
  beforeAll(async () => {
    server = await startWarmServer();
    set(server);
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => {
    if (!server) return;
    server.requests.length = 0;
    server.cached.clear();
    server.routes = {};
  });
}
