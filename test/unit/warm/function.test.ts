import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { describe, expect, it } from "vitest";
import { useWarmServer } from "./builders.ts";
import { Logger } from "@aws-lambda-powertools/logger";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { createWarmRun, type LeftoverStore } from "../../../runbooks/warm/warm.ts";
import { parseWarmEvent } from "../../../schemas/events-warm.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { ValidationError } from "../../../schemas/validate.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import type { WarmReport } from "../../../core/warm/report.ts";
import { staticRoute, type WarmServer } from "../../../sandbox/scenarios/http-origin.ts";

let server!: WarmServer;
useWarmServer((s) => (server = s));

const pages = (n: number) => Array.from({ length: n }, (_, i) => `${server.origin}/page/${i}`);

function harness(targets: Record<string, unknown>[], remaining: () => number = () => 600_000) {
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1", warm: { targets, deadlineMarginMs: 1000 } });
  const saved: Record<string, unknown>[] = [];
  const posted: SlackMessage[] = [];
  const leftovers = new Map<string, string[]>();
  const store: LeftoverStore = {
    load: async (set) => leftovers.get(set) ?? [],
    save: async (set, urls) => void leftovers.set(set, urls),
  };
  const runtime: Runtime = {
    config: () => config,
    saveReport: async (_key, report) => void saved.push(report as Record<string, unknown>),
    postSlack: async (m) => void posted.push(m),
    emitMetrics: () => {},
    logger: new Logger({ serviceName: "warm-test", logLevel: "SILENT" }),
  };
  const handler = createHandler({ name: "warm", parse: parseWarmEvent, run: createWarmRun({ leftovers: () => store }) }, runtime);
  const context = lambdaContext("req-1", remaining);
  return { handler: (event: unknown) => handler(event, context), saved, posted, leftovers };
}

const www = () => ({ name: "www", urls: pages(3), allowPrivate: true, ratePerSecond: "unlimited" });

describe("warm handler", () => {
  it("a malformed event fails naming the field, and nothing is fetched", async () => {
    const h = harness([www()]);
    await expect(h.handler({ trigger: "manual", dryrun: true })).rejects.toBeInstanceOf(ValidationError);
    expect(server.requests).toHaveLength(0);
    expect(h.saved).toHaveLength(0);
  });

  it("an unknown target set fails before anything is fetched", async () => {
    const h = harness([www()]);
    await expect(h.handler({ trigger: "manual", targets: ["shop"] })).rejects.toThrow('unknown warm target set(s) "shop"; configured: www');
    expect(server.requests).toHaveLength(0);
  });

  it("dry-run lists the planned URLs, fetches nothing, posts nothing", async () => {
    const h = harness([www()]);
    const out = await h.handler({ trigger: "manual", targets: ["www"], dryRun: true });
    expect(server.requests).toHaveLength(0);
    expect(h.posted).toHaveLength(0);
    const reports = out.targets as WarmReport[];
    expect(reports[0]!.plan.map((p) => p.url)).toEqual(pages(3));
  });

  it("warms, saves one report and posts one summary", async () => {
    const h = harness([www()]);
    await h.handler({ trigger: "manual" });
    expect(server.requests).toHaveLength(6);
    expect(h.saved).toHaveLength(1);
    expect(h.posted).toHaveLength(1);
    expect(h.posted[0]!.text.split("\n")[0]).toBe("Cache warm test (manual): www 3/3 URLs, 100% ok, hit ratio 0% → 100%");
    expect(h.posted[0]!.text.split("\n")[1]).toMatch(/^Run report: reports\/warm\/.*-req-1\.json$/);
  });

  it("on failover warms only the sets marked afterFailover", async () => {
    const h = harness([
      { ...www(), afterFailover: true },
      { name: "docs", urls: [`${server.origin}/docs`], allowPrivate: true },
    ]);
    await h.handler({ trigger: "failover", group: "orders" });
    expect(server.requests.some((r) => r.path === "/docs")).toBe(false);
    expect(h.saved[0]).toMatchObject({ trigger: "failover", group: "orders" });
  });

  it("reports, posts, then rethrows failed URLs and unreadable sitemaps as one error", async () => {
    server.routes["/page/1"] = staticRoute("gone", { status: 404 });
    server.routes["/bad.xml"] = staticRoute("<urlset><url>");
    const h = harness([{ ...www(), sitemaps: [`${server.origin}/bad.xml`] }]);
    const err = await h.handler({ trigger: "schedule" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateRunError);
    expect((err as AggregateRunError).failures.map((f) => f.item)).toEqual(["warm:www", `${server.origin}/page/1`]);
    expect((err as Error).message).toContain(`sitemap ${server.origin}/bad.xml: malformed XML`);
    expect(h.saved).toHaveLength(1);
    // The summary, then the failed run's critical (core/run-alerts.ts).
    expect(h.posted.map((m) => m.text.split("\n")[0])).toEqual([
      "Cache warm test (schedule): www 3/3 URLs, 66.7% ok, hit ratio 0% → 100%",
      "🚨 CRITICAL: warm run failed (ops-autopilot/test): 2 items failed",
    ]);
  });

  it("saves what the deadline left and warms it first on the next run", async () => {
    let started = 0;
    const h = harness([{ ...www(), urls: pages(6), concurrency: 1, timeoutMs: 1000, verify: false }], () =>
      server.requests.length - started >= 2 ? 1500 : 600_000,
    );
    await h.handler({ trigger: "schedule" });
    expect(h.leftovers.get("www")).toEqual(pages(6).slice(2));

    started = server.requests.length;
    server.cached.clear();
    await h.handler({ trigger: "schedule" });
    expect(server.requests.slice(started).map((r) => `${server.origin}${r.path}`)).toEqual(pages(6).slice(2, 4));
    expect(h.leftovers.get("www")).toEqual([...pages(6).slice(4), ...pages(6).slice(0, 2)]);
  });
});
