import { afterEach, describe, expect, it } from "vitest";
import { Logger } from "@aws-lambda-powertools/logger";
import { createHandler, reportKey, type RunOutcome, type Runtime } from "../../../runbooks/lib/handler.ts";
import { linkedSlackUrlFor, linkedTopic, UNSET_SECRET } from "../../../runbooks/lib/resources.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { parseConfig } from "../../../schemas/config.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";

/**
 * Routing in the handler chain (runbooks/lib/handler.ts, core/notify-routing.ts): each message reaches the
 * destinations of its kind and severity, and the per-channel secrets fall back to SlackWebhookUrl.
 */

const NOW = new Date("2026-11-21T02:00:00Z");
const ctx = lambdaContext("req-7");

/** A message's headline: its text without the run report line the chain adds (test/unit/core/report-link.test.ts). */
const headline = (m: SlackMessage) => m.text.split("\n")[0];

function run(name: string, outcome: RunOutcome | Error, notifications: object = {}) {
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1", notifications });
  const sent: string[] = [];
  const texts: string[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => NOW,
    saveReport: async () => {},
    postSlack: async (m: SlackMessage, destination) => {
      sent.push(`${destination}: ${headline(m)}`);
      texts.push(m.text);
    },
    publish: async (m: SlackMessage) => void sent.push(`pager: ${headline(m)}`),
    emitMetrics: () => {},
    logger: new Logger({ logLevel: "SILENT" }),
  };
  const handler = createHandler(
    {
      name,
      parse: (e) => e as object,
      run: async () => {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    },
    runtime,
  );
  return { sent, texts, invoke: () => handler({}, ctx).catch((e: unknown) => e) };
}

const summary = (text: string, extra: Partial<RunOutcome> = {}): RunOutcome => ({ report: {}, message: { text, blocks: [] }, failures: [], ...extra });

describe("routing in the handler chain", () => {
  it("posts a run summary to the runs channel, a cost digest to the cost channel, and neither pages", async () => {
    const backup = run("backup", summary("backup: 3 snapshots created"));
    await backup.invoke();
    expect(backup.sent).toEqual(["runs-slack: backup: 3 snapshots created"]);
    expect(backup.texts).toEqual([`backup: 3 snapshots created\nRun report: ${reportKey("backup", NOW, "req-7")}`]);
    const cost = run("cost", summary("cost: $41.20 yesterday"));
    await cost.invoke();
    expect(cost.sent).toEqual(["cost-slack: cost: $41.20 yesterday"]);
  });

  it("pages a run that threw and posts its alert to the alerts channel", async () => {
    const r = run("copy", new Error("CopyDBSnapshot refused"));
    const err = await r.invoke();
    expect((err as Error).message).toBe("CopyDBSnapshot refused");
    expect(r.sent.map((s) => s.split(":")[0])).toEqual(["pager", "alerts-slack"]);
    expect(r.sent[0]).toContain("copy");
  });

  it("with quiet run summaries, drops the summary of a run that changed nothing and keeps one that changed or failed", async () => {
    const quiet = { runSummaries: { quiet: true } };
    const idle = run("prune", summary("prune: nothing to delete", { changed: false }), quiet);
    await idle.invoke();
    expect(idle.sent).toEqual([]);
    const changed = run("prune", summary("prune: 2 deleted", { changed: true }), quiet);
    await changed.invoke();
    expect(changed.sent).toEqual(["runs-slack: prune: 2 deleted"]);
    const failed = run("prune", summary("prune: 1 failed", { changed: false, failures: [{ item: "snap", kind: "retryable", message: "throttled" }] }), quiet);
    await failed.invoke();
    // A failed run's summary, and its critical (core/run-alerts.ts).
    expect(failed.sent).toEqual([
      "runs-slack: prune: 1 failed",
      "pager: 🚨 CRITICAL: prune run failed (ops-autopilot/test): 1 item failed",
      "alerts-slack: 🚨 CRITICAL: prune run failed (ops-autopilot/test): 1 item failed",
    ]);
    // Without quiet, today's behaviour: every summary.
    const loud = run("prune", summary("prune: nothing to delete", { changed: false }));
    await loud.invoke();
    expect(loud.sent).toEqual(["runs-slack: prune: nothing to delete"]);
  });

  it("does not page with the pager off", async () => {
    const r = run("copy", new Error("boom"), { pager: { enabled: false } });
    await r.invoke();
    expect(r.sent.map((s) => s.split(":")[0])).toEqual(["alerts-slack"]);
  });

  it("still posts to Slack when the pager fails, then fails the delivery naming the destination", async () => {
    const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });
    const sent: string[] = [];
    const handler = createHandler(
      {
        name: "watchdog",
        parse: (e) => e as object,
        run: async (_e, c) => {
          await c.post!({ text: "CRITICAL: stale", blocks: [] });
          return summary("unused", { message: null });
        },
      },
      {
        config: () => config,
        now: () => NOW,
        saveReport: async () => {},
        postSlack: async (m, d) => void sent.push(`${d}: ${headline(m)}`),
        publish: async () => Promise.reject(new Error("ThrottledException: Rate exceeded")),
        emitMetrics: () => {},
        logger: new Logger({ logLevel: "SILENT" }),
      },
    );
    const err = await handler({}, ctx).catch((e: unknown) => e);
    expect((err as Error).message).toBe("pager: ThrottledException: Rate exceeded");
    // The run rethrows it, so the chain's run-failed alert follows (its page fails the same way, logged).
    expect(sent).toEqual(["alerts-slack: CRITICAL: stale", "alerts-slack: 🚨 CRITICAL: watchdog run failed (ops-autopilot/test): Error"]);
  });
});

describe("linked destinations", () => {
  const raw = (globalThis as { __SST_RESOURCE_RAW__?: Record<string, unknown> }).__SST_RESOURCE_RAW__;
  const names = ["SlackWebhookUrl", "SlackAlertsWebhookUrl", "SlackCostWebhookUrl", "AlertsTopic"];
  const link = (values: Record<string, unknown>) => Object.assign(raw!, values);
  afterEach(() => {
    for (const n of names) delete raw![n];
  });
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });

  it("falls back to SlackWebhookUrl when a channel's secret is unset (its placeholder) or not linked, and uses it once set", () => {
    expect(raw).toBeDefined();
    link({ SlackWebhookUrl: { value: "https://hooks.example/runs" }, SlackAlertsWebhookUrl: { value: UNSET_SECRET } });
    expect(linkedSlackUrlFor("alerts-slack")).toBe("https://hooks.example/runs");
    expect(linkedSlackUrlFor("cost-slack")).toBe("https://hooks.example/runs");
    expect(linkedSlackUrlFor("runs-slack")).toBe("https://hooks.example/runs");
    link({ SlackAlertsWebhookUrl: { value: "https://hooks.example/alerts" }, SlackCostWebhookUrl: { value: "https://hooks.example/cost" } });
    expect(linkedSlackUrlFor("alerts-slack")).toBe("https://hooks.example/alerts");
    expect(linkedSlackUrlFor("cost-slack")).toBe("https://hooks.example/cost");
  });

  it("reads the pager topic in the primary region, and nothing when it is not linked", () => {
    expect(linkedTopic(config)).toBeUndefined();
    link({ AlertsTopic: { arn: "arn:aws:sns:eu-west-1:123456789012:ops-autopilot-test-alerts" } });
    expect(linkedTopic(config)).toEqual({ arn: "arn:aws:sns:eu-west-1:123456789012:ops-autopilot-test-alerts", region: "eu-west-1" });
  });
});
