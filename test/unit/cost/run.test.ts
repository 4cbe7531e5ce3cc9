import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createHandler } from "../../../runbooks/lib/handler.ts";
import { runCost, type AlertState, type AlertStateStore, type CostDeps } from "../../../runbooks/cost/cost.ts";
import { parseCostEvent } from "../../../schemas/events-cost.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { postToSlack } from "../../../adapters/slack.ts";
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { CostExplorerError, fetchCosts, type FetchCostsRequest, type FetchCostsResult } from "../../../adapters/cost-explorer.ts";
import { costExplorer, resetClients } from "../../../adapters/clients.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import { addDays } from "../../../core/cost.ts";
import { EC2, RDS, jumpTo, series } from "./builders.ts";

// A local webhook that records every payload; `failing` makes it answer 500.
let server: Server;
let base: string;
let payloads: SlackMessage[] = [];
let failing = false;
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      payloads.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as SlackMessage);
      res.writeHead(failing ? 500 : 200).end(failing ? "internal_error" : "ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const SECRETS = ["T0COSTTEAM", "B0COSTHOOK", "zz9CostSecretToken"];
const webhook = () => `${base}/services/${SECRETS.join("/")}`;
const fastPost = (m: SlackMessage) => postToSlack(webhook(), m, { sleep: async () => {} }).then(() => undefined);

const NOW = new Date("2025-03-20T08:00:00Z");
const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });

/** In-memory alert state with the same claim/release contract as the S3 one. */
function memoryState(): AlertStateStore & { docs: Map<string, string[]> } {
  const docs = new Map<string, string[]>();
  return {
    docs,
    load: async (date) => ({ sent: [...(docs.get(date) ?? [])], exists: docs.has(date), etag: String(docs.get(date)?.length ?? "") }),
    claim: async (date, ids, prev: AlertState) => {
      if (String(docs.get(date)?.length ?? "") !== prev.etag) return false;
      const sent = [...(docs.get(date) ?? []), ...ids];
      docs.set(date, sent);
      return { sent, exists: true, etag: String(sent.length) };
    },
    release: async (date, ids) =>
      void docs.set(
        date,
        (docs.get(date) ?? []).filter((id) => !ids.includes(id)),
      ),
  };
}

function fakeFetch(o: { currency?: string; without?: string[] } = {}): CostDeps["fetch"] & { calls: FetchCostsRequest[] } {
  const calls: FetchCostsRequest[] = [];
  const f = async (req: FetchCostsRequest): Promise<FetchCostsResult> => {
    calls.push(req);
    return {
      days: series({ [EC2]: jumpTo(100, 300), [RDS]: 140 }, { to: req.reportDate, estimatedLast: true }).filter((d) => !o.without?.includes(d.date)),
      forecast: { kind: "forecast", remaining: 3000 },
      calls: 2,
      attempts: 2,
      period: { start: "2025-03-01", end: "2025-03-20" },
      currency: o.currency ?? "USD",
    };
  };
  return Object.assign(f, { calls });
}

let captured: string[] = [];
let reports: { key: string; report: Record<string, unknown> }[] = [];
beforeEach(() => {
  payloads = [];
  failing = false;
  captured = [];
  reports = [];
  const sink = (chunk: unknown): boolean => {
    captured.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(sink as typeof process.stdout.write);
  vi.spyOn(process.stderr, "write").mockImplementation(sink as typeof process.stderr.write);
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

function costHandler(deps: CostDeps) {
  return createHandler(
    { name: "cost", parse: parseCostEvent, run: (e, c) => runCost(e, c, deps) },
    {
      config: () => config,
      now: () => NOW,
      saveReport: async (key, report) => void reports.push({ key, report: report as Record<string, unknown> }),
      postSlack: fastPost,
      // Powertools is silent under vitest unless a level is set; the leak check needs real log lines.
      logger: new Logger({ serviceName: "cost-test", logLevel: "INFO" }),
    },
  );
}
const context = lambdaContext("req-1", 60_000);
const invoke = (h: ReturnType<typeof costHandler>, event: unknown) => h(event as never, context);

function expectNoSecret(...texts: string[]): void {
  const everything = [...texts, ...captured, JSON.stringify(reports)].join("\n");
  for (const s of SECRETS) expect(everything).not.toContain(s);
}

describe("cost function", () => {
  it("posts one alert for a tripled service, then the digest, and reports the Cost Explorer call count", async () => {
    const fetch = fakeFetch();
    const h = costHandler({ fetch, state: memoryState, postAlert: fastPost });

    await invoke(h, { trigger: "schedule" });

    expect(fetch.calls[0]).toMatchObject({ reportDate: "2025-03-19", today: "2025-03-20", maxCalls: 4, metric: "UnblendedCost" });
    expect(payloads.map((p) => p.text)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00 (+83% vs last week); 1 finding(s)"]);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.key).toMatch(/^reports\/cost\/2025-03-20\//);
    expect(reports[0]!.report).toMatchObject({ reportDate: "2025-03-19", costExplorerCalls: 2, alerted: [`spike:${EC2}`], dryRun: false });
  });

  it("does not alert twice for the same finding on the same day", async () => {
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), state: () => state, postAlert: fastPost });

    await invoke(h, { trigger: "schedule" });
    await invoke(h, { trigger: "manual" });

    expect(payloads.map((p) => p.text.split(":")[0])).toEqual(["AWS cost alert 2025-03-19", "AWS cost 2025-03-19", "AWS cost 2025-03-19"]);
    expect(reports[1]!.report).toMatchObject({ alerted: [], alreadyAlerted: [`spike:${EC2}`] });
  });

  it("dry-run prints the messages and posts nothing, records no state", async () => {
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), state: () => state, postAlert: fastPost });

    const out = await invoke(h, { trigger: "manual", date: "2025-03-18", dryRun: true });

    expect(payloads).toEqual([]);
    expect(state.docs.size).toBe(0);
    expect(out).toMatchObject({ dryRun: true, reportDate: "2025-03-18" });
    expect(String(out.digestText)).toContain("== AWS cost digest · 2025-03-18 ==");
    expect(captured.join("\n")).toContain("dry-run: cost digest not posted");
  });

  it("fails loudly after saving the report when the webhook keeps failing, releases the alert claim, and never leaks the URL", async () => {
    failing = true;
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), state: () => state, postAlert: fastPost });

    const err = (await invoke(h, { trigger: "schedule" }).catch((e: unknown) => e)) as Error;

    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/slack-alert: retryable: Slack webhook delivery failed after 4 attempt\(s\): HTTP 500/);
    expect(reports).toHaveLength(1); // saved before the throw
    expect(reports[0]!.report.failures).toEqual([expect.objectContaining({ item: "slack-alert" })]);
    expect(payloads).toHaveLength(8); // 4 attempts for the alert, 4 for the digest
    expect(state.docs.get("2025-03-19")).toEqual([]); // the next run alerts again
    expect(captured.length).toBeGreaterThan(0);
    expectNoSecret(err.message, err.stack ?? "", JSON.stringify(err));
  });

  it("reports a Cost Explorer failure, posts nothing and fails the run", async () => {
    const fetch = async () => {
      throw new CostExplorerError("GetCostAndUsage failed: LimitExceededException: slow down", "retryable", 1);
    };
    const h = costHandler({ fetch, state: memoryState, postAlert: fastPost });

    await expect(invoke(h, { trigger: "schedule" })).rejects.toThrow(/cost-explorer: retryable: GetCostAndUsage failed/);
    expect(payloads).toEqual([]);
    expect(reports[0]!.report).toMatchObject({ costExplorerCalls: 1 });
  });

  it("rejects a malformed event before any Cost Explorer call", async () => {
    const fetch = fakeFetch();
    const h = costHandler({ fetch, state: memoryState, postAlert: fastPost });

    await expect(invoke(h, { trigger: "manual", date: "19/03/2025" })).rejects.toThrow(/date: expected a date as yyyy-mm-dd/);
    expect(fetch.calls).toEqual([]);
  });

  it("a failed forecast still sends the spike alert and the digest, which says the forecast is unavailable", async () => {
    const ce = mockClient(CostExplorerClient);
    resetClients();
    try {
      const rows = series({ [EC2]: jumpTo(100, 300), [RDS]: 140 }, { from: "2025-03-01" });
      ce.on(GetCostAndUsageCommand).resolves({
        $metadata: {},
        ResultsByTime: rows.map((d) => ({
          TimePeriod: { Start: d.date, End: addDays(d.date, 1) },
          Groups: Object.entries(d.services).map(([k, v]) => ({ Keys: [k], Metrics: { UnblendedCost: { Amount: String(v), Unit: "USD" } } })),
        })),
      });
      ce.on(GetCostForecastCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }));
      const h = costHandler({ fetch: (req) => fetchCosts(req, costExplorer()), state: memoryState, postAlert: fastPost });

      await invoke(h, { trigger: "schedule" });

      expect(payloads.map((p) => p.text)).toEqual([
        `AWS cost alert 2025-03-19: spike ${EC2}`,
        "AWS cost 2025-03-19: $440.00 (+83% vs last week); 1 finding(s)",
      ]);
      expect(JSON.stringify(payloads[1])).toContain("*Month-end forecast*\\nunavailable (GetCostForecast failed: ThrottlingException: Rate exceeded)");
      expect(reports[0]!.report).toMatchObject({ alerted: [`spike:${EC2}`], summary: { forecast: { kind: "unavailable" } } });
    } finally {
      ce.restore();
      resetClients();
    }
  });

  it("names a day missing from Cost Explorer's answer in the digest and the report, and still alerts", async () => {
    const h = costHandler({ fetch: fakeFetch({ without: ["2025-03-12"] }), state: memoryState, postAlert: fastPost });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map((p) => p.text)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00; 1 finding(s)"]);
    expect(JSON.stringify(payloads[1])).toContain("No Cost Explorer data for 2025-03-12");
    expect(reports[0]!.report).toMatchObject({ summary: { missingDays: ["2025-03-12"] } });
  });

  it("posts a digest saying the reported day is missing instead of failing bare", async () => {
    const h = costHandler({ fetch: fakeFetch({ without: ["2025-03-19"] }), state: memoryState, postAlert: fastPost });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map((p) => p.text)).toEqual(["AWS cost 2025-03-19: no Cost Explorer data for the day; 0 finding(s)"]);
    expect(JSON.stringify(payloads[0])).toContain("No Cost Explorer data for 2025-03-19 (the reported day)");
  });

  it("shows amounts in the unit Cost Explorer reports (EUR), not in dollars", async () => {
    const h = costHandler({ fetch: fakeFetch({ currency: "EUR" }), state: memoryState, postAlert: fastPost });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map((p) => p.text)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: €440.00 (+83% vs last week); 1 finding(s)"]);
    expect(JSON.stringify(payloads[0])).toContain(`${EC2}: €300.00 on 2025-03-19`);
    expect(reports[0]!.report).toMatchObject({ currency: "EUR" });
  });
});
