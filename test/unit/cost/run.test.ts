import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createHandler } from "../../../runbooks/lib/handler.ts";
import { runCost, type CostDeps } from "../../../runbooks/cost/cost.ts";
import type { AlertStatePort } from "../../../adapters/alert-state.ts";
import type { AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import type { CostIncidentDetail } from "../../../core/cost-alerts.ts";
import { parseCostEvent } from "../../../schemas/events-cost.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { postToSlack } from "../../../adapters/slack.ts";
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { CostExplorerError, fetchCosts, type FetchCostsRequest, type FetchCostsResult } from "../../../adapters/cost-explorer.ts";
import { costExplorer, resetClients } from "../../../adapters/clients.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
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

/** In-memory alert state with the S3 one's contract: a save succeeds only against the version it was read at. */
function memoryState(): AlertStatePort<CostIncidentDetail> & { doc: () => AlertLifecycleState<CostIncidentDetail> | undefined; saves: number } {
  let doc: { state: AlertLifecycleState<CostIncidentDetail>; version: number } | undefined;
  const port = {
    saves: 0,
    doc: () => doc?.state,
    load: async () => (doc ? { state: structuredClone(doc.state), exists: true, etag: String(doc.version) } : { state: { incidents: {} }, exists: false }),
    save: async (state: AlertLifecycleState<CostIncidentDetail>, prev: { exists: boolean; etag?: string }) => {
      if (prev.exists !== (doc !== undefined) || (doc && String(doc.version) !== prev.etag)) return false;
      doc = { state: structuredClone(state), version: (doc?.version ?? 0) + 1 };
      port.saves++;
      return { state, exists: true, etag: String(doc.version) };
    },
  };
  return port;
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

/** A message's first line (the run report link the chain may add below it is the handler's). */
const firstLine = (m: SlackMessage): string => m.text.split("\n")[0]!;

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
    const h = costHandler({ fetch, alertState: memoryState });

    await invoke(h, { trigger: "schedule" });

    expect(fetch.calls[0]).toMatchObject({ reportDate: "2025-03-19", today: "2025-03-20", maxCalls: 4, metric: "UnblendedCost" });
    expect(payloads.map(firstLine)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00 (+83% vs last week); 1 finding(s)"]);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.key).toMatch(/^reports\/cost\/2025-03-20\//);
    expect(reports[0]!.report).toMatchObject({
      reportDate: "2025-03-19",
      costExplorerCalls: 2,
      sent: ["alert"],
      alerts: [{ key: `cost:spike:${EC2}`, kind: "started" }],
      dryRun: false,
    });
  });

  it("does not alert twice for the same incident: a second run holds it and the digest says it is open", async () => {
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), alertState: () => state });

    await invoke(h, { trigger: "schedule" });
    await invoke(h, { trigger: "manual" });

    expect(payloads.map((p) => p.text.split(":")[0])).toEqual(["AWS cost alert 2025-03-19", "AWS cost 2025-03-19", "AWS cost 2025-03-19"]);
    expect(reports[1]!.report).toMatchObject({ sent: [], alerts: [{ key: `cost:spike:${EC2}`, kind: "hold" }] });
    expect(renderText(payloads[2]!)).toContain("(open since today)");
    expect(state.saves).toBe(1); // the second run changed nothing and wrote nothing
  });

  it("dry-run prints the messages and posts nothing, records no state", async () => {
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), alertState: () => state });

    const out = await invoke(h, { trigger: "manual", dryRun: true });

    expect(payloads).toEqual([]);
    expect(state.doc()).toBeUndefined();
    expect(out).toMatchObject({ dryRun: true, reportDate: "2025-03-19", alerts: [{ key: `cost:spike:${EC2}`, kind: "started" }] });
    expect(String(out.digestText)).toContain("== AWS cost digest · 2025-03-19 ==");
    expect(String(out.alertText)).toContain(":rotating_light: AWS cost alert · 2025-03-19");
    expect(captured.join("\n")).toContain("dry-run: cost digest not posted");
  });

  it("a past day reported again neither starts nor ends incidents", async () => {
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), alertState: () => state });

    const out = await invoke(h, { trigger: "manual", date: "2025-03-18" });

    expect(payloads.map(firstLine)).toEqual(["AWS cost 2025-03-18: $440.00 (+83% vs last week); 1 finding(s)"]);
    expect(out).toMatchObject({ alerts: [], sent: [] });
    expect(state.doc()).toBeUndefined();
  });

  it("fails loudly after saving the report when the webhook keeps failing, gives the incident back so the next run alerts again, and never leaks the URL", async () => {
    failing = true;
    const state = memoryState();
    const h = costHandler({ fetch: fakeFetch(), alertState: () => state });

    const err = (await invoke(h, { trigger: "schedule" }).catch((e: unknown) => e)) as Error;

    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/cost alert: retryable: alert not delivered: cost-slack: Slack webhook delivery failed after 4 attempt\(s\): HTTP 500/);
    expect(reports).toHaveLength(1); // saved before the throw
    expect(reports[0]!.report.failures).toEqual([expect.objectContaining({ item: "cost alert" })]);
    // 4 attempts for the alert, 4 for the digest (the chain's own run-failed alert, if any, is not the cost run's).
    expect(payloads.filter((p) => p.text.startsWith("AWS cost"))).toHaveLength(8);
    expect(state.doc()).toEqual({ incidents: {} }); // the next run alerts again
    expect(captured.length).toBeGreaterThan(0);
    expectNoSecret(err.message, err.stack ?? "", JSON.stringify(err));

    failing = false;
    payloads = [];
    await invoke(h, { trigger: "schedule" });
    expect(payloads.map(firstLine)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00 (+83% vs last week); 1 finding(s)"]);
  });

  it("a run that loses the state write to an overlapping one reads it again and sends no second alert", async () => {
    const state = memoryState();
    const other = costHandler({ fetch: fakeFetch(), alertState: () => state });
    // This run reads the empty state, then the other run stores the incident before this one writes.
    let raced = false;
    const racing: AlertStatePort<CostIncidentDetail> = {
      load: state.load,
      save: async (next, prev) => {
        if (!raced) {
          raced = true;
          await invoke(other, { trigger: "schedule" });
        }
        return state.save(next, prev);
      },
    };
    const h = costHandler({ fetch: fakeFetch(), alertState: () => racing });

    await invoke(h, { trigger: "manual" });

    // The other run's alert and digest, then this run's digest only.
    expect(payloads.map((p) => p.text.split(":")[0])).toEqual(["AWS cost alert 2025-03-19", "AWS cost 2025-03-19", "AWS cost 2025-03-19"]);
    expect(reports.map((r) => r.report.alerts)).toEqual([
      [{ key: `cost:spike:${EC2}`, kind: "started", reason: `cost:spike:${EC2} holds and no incident is open` }],
      [{ key: `cost:spike:${EC2}`, kind: "hold", reason: `cost:spike:${EC2} still holds; next reminder due at 2025-03-20T14:00:00.000Z` }],
    ]);
  });

  it("pages a new incident when cost.page is set, and only in the cost channel otherwise", async () => {
    const routes: string[] = [];
    const run = (page: boolean) =>
      createHandler(
        { name: "cost", parse: parseCostEvent, run: (e, c) => runCost(e, c, { fetch: fakeFetch(), alertState: memoryState }) },
        {
          config: () => parseConfig({ stage: "test", primaryRegion: "eu-west-1", cost: { page } }),
          now: () => NOW,
          saveReport: async () => {},
          publish: async (m) => void routes.push(`pager: ${m.text.split(":")[0]}`),
          postSlack: async (m, destination) => void routes.push(`${destination}: ${m.text.split(":")[0]}`),
          logger: new Logger({ serviceName: "cost-test", logLevel: "SILENT" }),
        },
      )({ trigger: "schedule" } as never, context);

    await run(false);
    expect(routes).toEqual(["cost-slack: AWS cost alert 2025-03-19", "cost-slack: AWS cost 2025-03-19"]);
    routes.length = 0;
    await run(true);
    expect(routes).toEqual([
      "pager: AWS cost alert 2025-03-19",
      "alerts-slack: AWS cost alert 2025-03-19",
      "cost-slack: AWS cost alert 2025-03-19",
      "cost-slack: AWS cost 2025-03-19",
    ]);
  });

  it("reports a Cost Explorer failure, posts nothing and fails the run", async () => {
    const fetch = async () => {
      throw new CostExplorerError("GetCostAndUsage failed: LimitExceededException: slow down", "retryable", 1);
    };
    const h = costHandler({ fetch, alertState: memoryState });

    await expect(invoke(h, { trigger: "schedule" })).rejects.toThrow(/cost-explorer: retryable: GetCostAndUsage failed/);
    // No digest and no cost alert (the chain's own run-failed alert, if any, is not the cost run's).
    expect(payloads.filter((p) => p.text.startsWith("AWS cost"))).toEqual([]);
    expect(reports[0]!.report).toMatchObject({ costExplorerCalls: 1 });
  });

  it("rejects a malformed event before any Cost Explorer call", async () => {
    const fetch = fakeFetch();
    const h = costHandler({ fetch, alertState: memoryState });

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
      const h = costHandler({ fetch: (req) => fetchCosts(req, costExplorer()), alertState: memoryState });

      await invoke(h, { trigger: "schedule" });

      expect(payloads.map(firstLine)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00 (+83% vs last week); 1 finding(s)"]);
      expect(JSON.stringify(payloads[1])).toContain("*Month-end forecast*\\nunavailable (GetCostForecast failed: ThrottlingException: Rate exceeded)");
      expect(reports[0]!.report).toMatchObject({ sent: ["alert"], summary: { forecast: { kind: "unavailable" } } });
    } finally {
      ce.restore();
      resetClients();
    }
  });

  it("names a day missing from Cost Explorer's answer in the digest and the report, and still alerts", async () => {
    const h = costHandler({ fetch: fakeFetch({ without: ["2025-03-12"] }), alertState: memoryState });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map(firstLine)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: $440.00; 1 finding(s)"]);
    expect(JSON.stringify(payloads[1])).toContain("No Cost Explorer data for 2025-03-12");
    expect(reports[0]!.report).toMatchObject({ summary: { missingDays: ["2025-03-12"] } });
  });

  it("posts a digest saying the reported day is missing instead of failing bare", async () => {
    const h = costHandler({ fetch: fakeFetch({ without: ["2025-03-19"] }), alertState: memoryState });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map(firstLine)).toEqual(["AWS cost 2025-03-19: no Cost Explorer data for the day; 0 finding(s)"]);
    expect(JSON.stringify(payloads[0])).toContain("No Cost Explorer data for 2025-03-19 (the reported day)");
  });

  it("shows amounts in the unit Cost Explorer reports (EUR), not in dollars", async () => {
    const h = costHandler({ fetch: fakeFetch({ currency: "EUR" }), alertState: memoryState });

    await invoke(h, { trigger: "schedule" });

    expect(payloads.map(firstLine)).toEqual([`AWS cost alert 2025-03-19: spike ${EC2}`, "AWS cost 2025-03-19: €440.00 (+83% vs last week); 1 finding(s)"]);
    expect(JSON.stringify(payloads[0])).toContain(`${EC2}: €300.00 on 2025-03-19`);
    expect(reports[0]!.report).toMatchObject({ currency: "EUR" });
  });
});
