import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WarmConfigSchema, WarmTargetSetSchema } from "../../../schemas/config-warm.ts";
import { parseWarmEvent } from "../../../schemas/events-warm.ts";
import { parseOrThrow, ValidationError } from "../../../schemas/validate.ts";

const dir = join(import.meta.dirname, "../../../events");
const files = readdirSync(dir).filter((f) => f.startsWith("warm-") && f.endsWith(".json"));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}

describe("warm config", () => {
  it("parses from nothing to no target sets", () => {
    expect(WarmConfigSchema.parse(undefined)).toEqual({ targets: [], deadlineMarginMs: 10_000 });
    expect(WarmConfigSchema.parse({})).toEqual({ targets: [], deadlineMarginMs: 10_000 });
  });

  it("fills gentle defaults and derives allowedHosts from urls and sitemaps", () => {
    const t = WarmTargetSetSchema.parse({
      name: "www",
      urls: ["https://www.example.com/", { url: "https://www.example.com/pricing", priority: 0.7 }],
      sitemaps: ["https://static.example.com/sitemap.xml"],
    });
    expect(t).toMatchObject({
      urls: [
        { url: "https://www.example.com/", priority: 1 },
        { url: "https://www.example.com/pricing", priority: 0.7 },
      ],
      allowedHosts: ["www.example.com", "static.example.com"],
      allowPrivate: false,
      concurrency: 4,
      ratePerSecond: 10,
      burst: 1,
      method: "GET",
      expectedStatus: [200],
      timeoutMs: 10_000,
      stopOn5xx: { window: 20, threshold: 0.3, minSamples: 10 },
      retry: { maxRetries: 2, defaultDelayMs: 1000, maxDelayMs: 60_000 },
    });
  });

  it.each([
    [{ name: "www" }, /urls: a target set needs urls, sitemaps, or both/],
    [{ name: "www", urls: ["ftp://x/"] }, /urls\[0\]/],
    [{ name: "www", urls: ["https://a.test/"], allowedHosts: ["b.test"] }, /urls\[0\]: host "a\.test" is not in allowedHosts/],
    [{ name: "www", urls: ["https://a.test/"], exclude: ["(("] }, /exclude\[0\]: expected a valid regular expression/],
    [{ name: "www", urls: ["https://a.test/"], ratePerSecond: 0 }, /ratePerSecond/],
    [{ name: "www", urls: ["https://a.test/"], method: "POST" }, /method/],
    [{ name: "WWW", urls: ["https://a.test/"] }, /name/],
    [{ name: "www", urls: ["https://a.test/"], concurency: 2 }, /Unrecognized key: "concurency"/],
  ])("rejects %j naming the field", (raw, pattern) => {
    expect(errorOf(() => parseOrThrow(WarmTargetSetSchema, raw, "warm target"))).toMatch(pattern);
  });

  it("rejects duplicate target set names", () => {
    const t = { name: "www", urls: ["https://a.test/"] };
    expect(errorOf(() => parseOrThrow(WarmConfigSchema, { targets: [t, t] }, "warm"))).toMatch(/targets\[1\]\.name: duplicate target set "www"/);
  });
});

describe("warm events", () => {
  it("has samples for a target set, a dry-run, the schedule and the failover runbook", () => {
    expect(files.sort()).toEqual(["warm-dry-run.json", "warm-failover.json", "warm-manual.json", "warm-scheduled.json"]);
  });

  it.each(files)("%s parses", (file) => {
    expect(() => parseWarmEvent(JSON.parse(readFileSync(join(dir, file), "utf8")))).not.toThrow();
  });

  it("the dry-run sample is a dry-run of one target set", () => {
    expect(parseWarmEvent(JSON.parse(readFileSync(join(dir, "warm-dry-run.json"), "utf8")))).toMatchObject({
      trigger: "manual",
      dryRun: true,
      targets: ["www"],
    });
  });

  it("schedules act for real in both envelope shapes", () => {
    expect(parseWarmEvent({ trigger: "schedule" })).toEqual({ trigger: "schedule", dryRun: false });
    expect(parseWarmEvent({ "detail-type": "Scheduled Event", source: "aws.events" })).toEqual({ trigger: "schedule", dryRun: false });
  });

  it.each([
    [{ trigger: "manual", targets: [] }, /targets/],
    [{ trigger: "manual", dryrun: true }, /Unrecognized key: "dryrun"/],
    [{ trigger: "failover", verify: "yes" }, /Unrecognized key: "verify"/],
    [{ trigger: "later" }, /trigger/],
  ])("rejects %j naming the field", (raw, pattern) => {
    expect(errorOf(() => parseWarmEvent(raw))).toMatch(pattern);
  });
});
