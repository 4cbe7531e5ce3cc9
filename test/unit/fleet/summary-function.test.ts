import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runFleetSummary } from "../../../runbooks/fleet/summary.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { parseFleetSummaryEvent } from "../../../schemas/events-fleet.ts";
import { ValidationError } from "../../../schemas/validate.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";

/** The fleet summary function (functions/fleet-summary.ts) through the handler chain: one report saved, one summary posted. */

const EXECUTION = "arn:aws:states:eu-west-1:999988887777:execution:ops-autopilot-test-fleet-copy:nightly";
const payments = { account: "111122223333", accountName: "payments" };
const search = { account: "444455556666", accountName: "search" };

function harness() {
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });
  const saved: Record<string, unknown>[] = [];
  const posted: SlackMessage[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => new Date("2026-11-30T03:00:00Z"),
    saveReport: async (_key, report) => void saved.push(report as Record<string, unknown>),
    postSlack: async (m) => void posted.push(m),
    publish: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ serviceName: "fleet-summary-test", logLevel: "SILENT" }),
  };
  const handler = createHandler({ name: "fleet-summary", parse: parseFleetSummaryEvent, run: runFleetSummary }, runtime);
  return {
    handler: (event: unknown) =>
      handler(
        event,
        lambdaContext("req-1", () => 60_000),
      ),
    saved,
    posted,
  };
}

const event = (results: unknown[]) => ({
  source: "fleet-summary",
  job: "copy",
  execution: EXECUTION,
  targets: [
    { ...payments, region: "eu-west-1" },
    { ...search, region: "eu-west-1" },
  ],
  results,
});

describe("fleet summary function", () => {
  it("refuses a malformed event naming the field, saving and posting nothing", async () => {
    const h = harness();
    await expect(h.handler({ ...event([]), job: "cost" })).rejects.toBeInstanceOf(ValidationError);
    expect(h.saved).toEqual([]);
    expect(h.posted).toEqual([]);
  });

  it("saves one report and posts one summary when every account ran", async () => {
    const h = harness();
    await h.handler(
      event([
        { ...payments, region: "eu-west-1", ok: true, counts: { copied: 4 } },
        { ...search, region: "eu-west-1", ok: true, counts: { copied: 1 } },
      ]),
    );
    expect(h.saved).toHaveLength(1);
    expect(h.saved[0]).toMatchObject({ job: "copy", ok: true, totals: { copied: 5, accounts: 2, failedAccounts: 0 } });
    expect(h.posted).toHaveLength(1);
    expect(h.posted[0]!.text.split("\n")[0]).toBe("Fleet copy: 2 accounts ok, 5 copied");
  });

  it("names the failing account in the one summary, runs the others, and rethrows its failure once", async () => {
    const h = harness();
    const err = await h
      .handler(
        event([
          { ...payments, region: "eu-west-1", ok: true, counts: { copied: 4 } },
          {
            ...search,
            region: "eu-west-1",
            ok: false,
            error: "AccessDenied",
            cause: '{"errorType":"AccessDenied","errorMessage":"not authorized to perform: sts:AssumeRole"}',
          },
        ]),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateRunError);
    expect((err as Error).message).toContain("search (444455556666)");
    expect(h.saved).toHaveLength(1);
    expect(h.saved[0]!.failures).toEqual([
      { item: "search (444455556666)", region: "eu-west-1", kind: "fatal", message: "AccessDenied: not authorized to perform: sts:AssumeRole" },
    ]);
    const summary = h.posted.find((m) => m.text.startsWith("Fleet copy"))!;
    expect(renderText(summary)).toContain(
      "• eu-west-1: search (444455556666) failed: AccessDenied: not authorized to perform: sts:AssumeRole\n• member role not assumed in eu-west-1: missing, or its trust refuses this deployment (deploy or fix the member roles)",
    );
    // The one summary to the runs channel, and the run's critical (the handler chain's failed-run alert).
    expect(h.posted.map((m) => m.text.split("\n")[0])).toEqual([
      "Fleet copy: 1 of 2 accounts failed (1 of 2 account × regions), 4 copied: search (444455556666)",
      "🚨 CRITICAL: fleet-summary run failed (ops-autopilot/test): 1 item failed",
    ]);
  });
});
