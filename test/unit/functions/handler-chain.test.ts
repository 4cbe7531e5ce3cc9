import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Logger } from "@aws-lambda-powertools/logger";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { createHandler, reportKey, type RunContext, type RunOutcome, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { runCost, type CostDeps } from "../../../runbooks/cost/cost.ts";
import { makeFailoverHandler } from "../../../functions/failover.ts";
import { parseBackupEvent } from "../../../schemas/events-backup.ts";
import { parseCostEvent, type CostEvent } from "../../../schemas/events-cost.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { redactSecrets } from "../../../core/report/run-error.ts";
import { renderText, type SlackMessage } from "../../../core/report/blocks.ts";
import { groupInput } from "../failover/builders.ts";

/**
 * The shared handler chain (runbooks/lib/handler.ts): a run that throws still leaves a failure report and a
 * Slack alert behind before the original error is rethrown (Lambda retries, DLQ, error alarms); a run with
 * nothing to report writes nothing.
 */

const PRIMARY = "eu-west-1";
const WEBHOOK = "https://hooks.slack.com/services/T0CHAINTEAM/B0CHAINHOOK/zzChainSecretToken42";
const ctx = lambdaContext("req-42");
const NOW = new Date("2026-11-21T02:00:00Z");

function harness(config: ReturnType<typeof parseConfig>, extra: Partial<Runtime> = {}) {
  const saved: { key: string; report: Record<string, unknown> }[] = [];
  const posted: SlackMessage[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => NOW,
    slackUrl: () => WEBHOOK,
    saveReport: async (key, report) => void saved.push({ key, report: report as Record<string, unknown> }),
    postSlack: async (m) => void posted.push(m),
    emitMetrics: () => {},
    logger: new Logger({ logLevel: "SILENT" }),
    ...extra,
  };
  return { saved, posted, runtime };
}

describe("handler chain: a run that throws", () => {
  let sb: Sandbox;
  const config = parseConfig({ stage: "test", primaryRegion: PRIMARY, backup: { policies: [{ name: "db", selection: { tag: {} } }] } });

  beforeEach(() => {
    sb = createSandbox({ clock: new FakeClock(NOW.toISOString()), regions: [PRIMARY] });
    resetClients();
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
  });
  afterEach(() => {
    sb.restore();
    resetClients();
  });

  it("backup: DescribeDBInstances throttled past the SDK retries → failure report saved, one Slack alert, the original error rethrown", async () => {
    sb.inject({ service: "rds", command: "DescribeDBInstances", error: "throttling", times: Infinity });
    const { saved, posted, runtime } = harness(config);
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, runtime);

    const error = await handler({ trigger: "schedule" }, ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(error?.name).toBe("Throttling");
    expect(sb.callsTo("rds", "CreateDBSnapshot")).toHaveLength(0);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.key).toBe(reportKey("backup", NOW, "req-42"));
    expect(saved[0]!.report).toMatchObject({
      function: "backup",
      app: config.app,
      stage: "test",
      runId: "req-42",
      status: "failed",
      error: { name: "Throttling", message: expect.stringMatching(/^Rate exceeded/) },
      failures: [{ item: "run", kind: "retryable", message: expect.stringMatching(/^Throttling: Rate exceeded/) }],
    });
    expect(posted).toHaveLength(1);
    // The store is replaced without a bucket: the report is named by key (with a bucket, by its console link).
    expect(posted[0]!.text).toBe(`🚨 CRITICAL: backup run failed (${config.app}/test): Throttling\nRun report: ${reportKey("backup", NOW, "req-42")}`);
    const text = renderText(posted[0]!);
    expect(text).toContain("Throttling: Rate exceeded");
    expect(text).toContain(`Run report: ${reportKey("backup", NOW, "req-42")}`);
    expect(text).toContain("Lambda retries the run");
  });

  it("cost: Cost Explorer failing outright → failure report, one Slack alert, the original error rethrown", async () => {
    const boom = Object.assign(new Error("User: arn:aws:sts::123456789012:assumed-role/cost is not authorized to perform: ce:GetCostAndUsage"), {
      name: "AccessDeniedException",
      $metadata: {},
    });
    const deps: CostDeps = { fetch: async () => Promise.reject(boom) };
    const run = (e: CostEvent, c: RunContext) => runCost(e, c, deps);
    const { saved, posted, runtime } = harness(parseConfig({ stage: "test", primaryRegion: PRIMARY }));
    const handler = createHandler({ name: "cost", parse: parseCostEvent, run }, runtime);

    await expect(handler({ trigger: "schedule" }, ctx)).rejects.toBe(boom);

    expect(saved).toHaveLength(1);
    expect(saved[0]!.report).toMatchObject({
      function: "cost",
      status: "failed",
      error: { name: "AccessDeniedException", message: boom.message },
      failures: [{ item: "run", kind: "fatal", message: `AccessDeniedException: ${boom.message}` }],
    });
    expect(posted.map((m) => m.text)).toEqual([
      `🚨 CRITICAL: cost run failed (${parseConfig({ stage: "test", primaryRegion: PRIMARY }).app}/test): AccessDeniedException\nRun report: ${reportKey("cost", NOW, "req-42")}`,
    ]);
  });

  it("never writes or posts the webhook URL or other secrets carried by the error", async () => {
    const leak = new Error(
      `POST ${WEBHOOK} failed; retry https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIAABCDEFGHIJKLMNOP; token zzChainSecretToken42 and key ASIAABCDEFGHIJKLMNOP`,
    );
    const { saved, posted, runtime } = harness(config);
    const handler = createHandler({ name: "watchdog", parse: (e) => e, run: async () => Promise.reject(leak) }, runtime);

    await expect(handler({}, ctx)).rejects.toBe(leak);

    const everything = JSON.stringify(saved) + JSON.stringify(posted);
    for (const secret of [
      "hooks.slack.com/services",
      "T0CHAINTEAM",
      "B0CHAINHOOK",
      "zzChainSecretToken42",
      "X-Amz-Signature",
      "abcdef0123",
      "AKIAABCDEFGHIJKLMNOP",
      "ASIAABCDEFGHIJKLMNOP",
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(saved[0]!.report.error).toEqual({
      name: "Error",
      message: "POST [webhook] failed; retry https://bucket.s3.amazonaws.com/k?[redacted]; token [redacted] and key [redacted-key]",
    });
  });

  it("a dry-run that throws saves its failure report but posts nothing", async () => {
    const { saved, posted, runtime } = harness(config);
    const handler = createHandler(
      { name: "prune", parse: (e) => e as { dryRun: boolean }, run: async () => Promise.reject(new Error("listing failed")) },
      runtime,
    );
    await expect(handler({ dryRun: true }, ctx)).rejects.toThrow("listing failed");
    expect(saved).toHaveLength(1);
    expect(saved[0]!.report).toMatchObject({ status: "failed", dryRun: true });
    expect(posted).toEqual([]);
  });

  it("the original error is rethrown even when the failure report and the alert cannot be delivered", async () => {
    const original = new Error("DescribeDBSnapshots failed");
    const { runtime } = harness(config, {
      saveReport: async () => Promise.reject(new Error("S3 down")),
      postSlack: async () => Promise.reject(new Error("Slack down")),
    });
    const handler = createHandler({ name: "copy", parse: (e) => e, run: async () => Promise.reject(original) }, runtime);
    await expect(handler({}, ctx)).rejects.toBe(original);
  });

  it("functions that post their own messages (posts: false) get the failure report but no chain alert", async () => {
    const { saved, posted, runtime } = harness(config);
    const handler = createHandler(
      { name: "failover", parse: (e) => e, run: async () => Promise.reject(new Error("S3 GetObject failed")), posts: false },
      runtime,
    );
    await expect(handler({}, ctx)).rejects.toThrow("S3 GetObject failed");
    expect(saved).toHaveLength(1);
    expect(posted).toEqual([]);
  });
});

describe("handler chain: nothing to report", () => {
  it("a run that says nothing to report saves nothing, posts nothing and still answers", async () => {
    const config = parseConfig({ stage: "test", primaryRegion: PRIMARY });
    const { saved, posted, runtime } = harness(config);
    const run = async (): Promise<RunOutcome> => ({ report: { next: "ignored" }, message: { text: "x" }, failures: [], nothingToReport: "alarm went to OK" });
    const out = await createHandler({ name: "failover", parse: (e) => e, run }, runtime)({}, ctx);
    expect(out).toMatchObject({ function: "failover", next: "ignored", runId: "req-42" });
    expect(out).not.toHaveProperty("reportKey");
    expect(saved).toEqual([]);
    expect(posted).toEqual([]);
  });

  it("failures are always reported, even from a run that says nothing to report", async () => {
    const config = parseConfig({ stage: "test", primaryRegion: PRIMARY });
    const { saved, runtime } = harness(config);
    const run = async (): Promise<RunOutcome> => ({
      report: {},
      message: null,
      failures: [{ item: "x", kind: "fatal", message: "bad" }],
      nothingToReport: "ignored",
    });
    await expect(createHandler({ name: "failover", parse: (e) => e, run }, runtime)({}, ctx)).rejects.toThrow("1 item(s) failed");
    expect(saved).toHaveLength(1);
  });

  describe("failover alarms on the sandbox's S3 (the real report writer)", () => {
    let sb: Sandbox;
    beforeEach(() => {
      sb = createSandbox({ clock: new FakeClock(NOW.toISOString()), regions: [PRIMARY, "eu-central-1"], buckets: ["failover-state"] });
      resetClients();
      vi.stubEnv("FAILOVER_STATE_BUCKET", "failover-state");
      vi.stubEnv("FAILOVER_STATE_REGION", "eu-central-1");
    });
    afterEach(() => {
      vi.unstubAllEnvs();
      sb.restore();
      resetClients();
    });

    const config = () => parseConfig({ stage: "test", primaryRegion: PRIMARY, failover: { groups: [groupInput()] } });
    const alarm = (value: string, alarmName = "orders-db-primary-down") => ({
      source: "sfn",
      event: {
        version: "0",
        id: `evt-${value}`,
        "detail-type": "CloudWatch Alarm State Change",
        source: "aws.cloudwatch",
        account: "123456789012",
        time: "2026-11-21T01:59:00Z",
        region: "eu-central-1",
        resources: [],
        detail: { alarmName, state: { value, reason: `went to ${value}`, timestamp: "2026-11-21T01:59:00.000+0000" } },
      },
    });

    it.each([
      ["OK", "orders-db-primary-down"],
      ["INSUFFICIENT_DATA", "orders-db-primary-down"],
      ["ALARM", "checkout-api-5xx-high"],
    ])("a %s event of %s makes zero S3 PutObject calls and still routes the state machine", async (value, name) => {
      const handler = makeFailoverHandler({ runtime: { config, logger: new Logger({ logLevel: "SILENT" }) } });
      const out = await handler(alarm(value, name), ctx);
      expect(out).toMatchObject({ next: "ignored", action: "ignore" });
      expect(sb.callsTo("s3", "PutObject")).toEqual([]);
      expect(sb.calls).toEqual([]);
    });
  });
});

describe("redactSecrets", () => {
  it("removes known secrets and their URL path tokens, Slack webhooks, signed query strings, URL credentials and access key ids", () => {
    expect(
      redactSecrets(`a ${WEBHOOK} b T0CHAINTEAM https://u:p@example.com/x https://hooks.slack.com/services/TX/BY/Z c AKIAABCDEFGHIJKLMNOP`, [WEBHOOK]),
    ).toBe("a [webhook] b [redacted] https://[redacted]@example.com/x [webhook] c [redacted-key]");
  });

  it("redacts before it truncates, so a cut can never leave half a secret", () => {
    const text = `${"x".repeat(490)} ${WEBHOOK}`;
    const out = redactSecrets(text, [WEBHOOK], 500);
    expect(out).not.toContain("hooks.slack");
    expect(out.endsWith("[webhook]")).toBe(true);
    expect(redactSecrets("y".repeat(600), [], 500)).toHaveLength(500);
  });
});
