/** Small fixture builders for the warm tests. */
import { WarmTargetSetSchema, type WarmTargetSet } from "../../../schemas/config-warm.ts";
import type { WarmResult } from "../../../core/warm.ts";

/** A target set with the schema's defaults plus overrides; the tests' server is loopback, so allowPrivate defaults to true here. */
export function targetSet(overrides: Record<string, unknown> = {}): WarmTargetSet {
  return WarmTargetSetSchema.parse({ name: "site", allowPrivate: true, ratePerSecond: "unlimited", concurrency: 4, ...overrides });
}

export function result(o: Partial<WarmResult> = {}): WarmResult {
  return { url: "https://a.test/", pass: "first", outcome: "ok", status: 200, latencyMs: 10, bytes: 100, cache: "miss", attempts: 1, ...o };
}
