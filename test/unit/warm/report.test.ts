import { describe, expect, it } from "vitest";
import { renderText } from "../../../core/report/blocks.ts";
import { warmMessage } from "../../../core/report/warm.ts";
import { summarizePass, type WarmReport } from "../../../core/warm/report.ts";
import { result } from "./builders.ts";

function report(o: Partial<WarmReport> = {}): WarmReport {
  return {
    targetSet: "www",
    dryRun: false,
    startedAt: "2026-11-21T10:00:00.000Z",
    finishedAt: "2026-11-21T10:01:00.000Z",
    durationMs: 60_000,
    planned: 2,
    plan: [
      { url: "https://a.test/", priority: 1, source: "config" },
      { url: "https://a.test/b", priority: 0.5, source: "https://a.test/sitemap.xml" },
    ],
    duplicates: 0,
    skipped: [{ url: "https://a.test/admin", kind: "excluded", reason: "matches exclude pattern /admin/" }],
    skippedByKind: { excluded: 1 },
    sitemaps: [{ url: "https://a.test/sitemap.xml", urls: 1 }],
    first: summarizePass([result({ cache: "miss", latencyMs: 120 }), result({ cache: "miss", latencyMs: 80 })], { durationMs: 1000, throttled: 0 }),
    verify: summarizePass([result({ cache: "hit" }), result({ cache: "hit" })], { durationMs: 1000, throttled: 0 }),
    leftover: [],
    failed: [],
    errors: [],
    ...o,
  };
}

const meta = { app: "ops-autopilot", stage: "prod", trigger: "failover" };

describe("warm Slack summary", () => {
  it("gives success, statuses, latency percentiles, bytes and the hit ratio before and after", () => {
    const msg = warmMessage([report()], meta);
    expect(msg.text).toBe("Cache warm prod (failover): www 2/2 URLs, 100% ok, hit ratio 0% → 100%");
    const text = renderText(msg);
    expect(text).toContain("*Success*: 100%");
    expect(text).toContain("*Statuses*: 200: 2");
    expect(text).toContain("*Latency p50 / p95 / p99*: 80 / 120 / 120 ms");
    expect(text).toContain("*Cache hit ratio*: 0% first pass → 100% verification");
    expect(text).toContain("*Skipped*: excluded: 1");
    expect(text).toContain("*Bytes*: 400 B");
  });

  it("says when the origin stopped the run and what the deadline left", () => {
    const text = renderText(
      warmMessage(
        [
          report({
            stopped: { action: "stop", target: "www", reason: "6 of the last 10 responses were 5xx" },
            leftover: ["x", "y"],
            deadline: { reason: "12 s left", notStarted: 2 },
            errors: ["6 of the last 10 responses were 5xx"],
          }),
        ],
        meta,
      ),
    );
    expect(text).toContain(":octagonal_sign: *Stopped:* 6 of the last 10 responses were 5xx. 2 URL(s) not warmed.");
    expect(text).toContain(":hourglass: *Deadline:* 12 s left; 2 URL(s) not started");
    expect(text).toContain("*Errors*\n• 6 of the last 10 responses were 5xx");
  });

  it("lists the planned URLs on a dry-run", () => {
    const msg = warmMessage([report({ dryRun: true, first: undefined, verify: undefined })], { ...meta, trigger: "manual" });
    expect(msg.text).toBe("Cache warm prod (manual): www 2 URLs planned");
    expect(renderText(msg)).toContain("• https://a.test/b (priority 0.5)");
  });
});
