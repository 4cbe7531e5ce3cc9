import { describe, expect, it } from "vitest";
import { attemptLines, executionConsoleUrl, linksLine, renderRunMessage, timelineLines } from "../../../core/report/failover.ts";
import { renderText } from "../../../core/report/blocks.ts";
import type { RunRecord } from "../../../core/failover.ts";

/** core/report/failover.ts: the links every failover message carries and the timeline so far. */

const EXECUTION = "arn:aws:states:eu-central-1:123456789012:execution:ops-autopilot-prod-FailoverStateMachine:alarm-1";
const REPORT_URL =
  "https://s3.console.aws.amazon.com/s3/object/ops-autopilot-prod-failover-state?region=eu-central-1&prefix=failover/orders-db/runs/orders-db-20250304T100400Z.json";
const REPORT = { bucket: "ops-autopilot-prod-failover-state", region: "eu-central-1", key: "failover/orders-db/runs/orders-db-20250304T100400Z.json" };

function run(patch: Partial<RunRecord> = {}): RunRecord {
  return {
    version: 1,
    group: "orders-db",
    runId: "orders-db-20250304T100400Z",
    state: "running",
    trigger: { kind: "alarm", source: "orders-db-primary-down", at: "2025-03-04T10:04:00.000Z", reason: "Threshold Crossed" },
    startedAt: "2025-03-04T10:04:20.000Z",
    prechecks: [],
    steps: [
      {
        name: "promote",
        status: "done",
        startedAt: "2025-03-04T10:04:20.000Z",
        endedAt: "2025-03-04T10:04:21.000Z",
        result: "promotion requested",
        reason: "modifying",
        attempts: 2,
        lastAttemptAt: "2025-03-04T10:06:30.000Z",
      },
      { name: "wait-writable", status: "done", startedAt: "2025-03-04T10:04:21.000Z", endedAt: "2025-03-04T10:09:21.000Z", result: "writable" },
      { name: "dns-change", status: "started", startedAt: "2025-03-04T10:09:21.000Z" },
      { name: "dns-insync", status: "pending" },
      { name: "warm", status: "pending" },
      { name: "verify-health", status: "pending" },
    ],
    ...patch,
  };
}

describe("failover message links", () => {
  it("links the Step Functions console's execution page (region from the ARN)", () => {
    // Execution Details page: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-view-execution-details.html
    expect(executionConsoleUrl(EXECUTION)).toBe(
      `https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/${EXECUTION}`,
    );
    expect(executionConsoleUrl("arn:aws-cn:states:cn-north-1:123456789012:execution:m:e")).toBe(
      "https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn:aws-cn:states:cn-north-1:123456789012:execution:m:e",
    );
    expect(() => executionConsoleUrl("arn:aws:sns:eu-central-1:1:t")).toThrow("not a Step Functions execution ARN: arn:aws:sns:eu-central-1:1:t");
  });

  it("says a direct invocation has no execution, and when no report was written", () => {
    expect(linksLine({})).toBe("Direct invocation: no Step Functions execution · no run report written");
    expect(linksLine({ execution: EXECUTION, report: REPORT })).toBe(
      `<${executionConsoleUrl(EXECUTION)}|Step Functions execution alarm-1> · <${REPORT_URL}|run report>`,
    );
  });
});

describe("failover timeline", () => {
  it("gives each step its times, how long it took and when it ended from the alarm", () => {
    expect(timelineLines(run())).toEqual([
      "✓ promote — 10:04:20Z → 10:04:21Z (1 s; alarm +21 s) · promotion requested · modifying",
      "✓ wait-writable — 10:04:21Z → 10:09:21Z (5 min; alarm +5.4 min) · writable",
      "… dns-change — started 10:09:21Z",
      "· dns-insync — pending",
      "· warm — pending",
      "· verify-health — pending",
    ]);
  });

  it("lists throttled and repeated attempts apart from the changes", () => {
    expect(attemptLines(run({ dnsAttempts: 3, dnsChangeId: "/change/C1" }))).toEqual([
      "dns-change: 2 of 3 ChangeResourceRecordSets calls throttled (refused, nothing changed; retried) before change /change/C1",
      "promote: issued 2 times (an earlier attempt was seen not to have arrived), last at 10:06:30Z",
    ]);
    expect(attemptLines(run({ dnsAttempts: 1, steps: run().steps.map((s) => ({ ...s, attempts: 1 })) }))).toEqual([]);
  });

  it("puts the links and the timeline in a step message, and the links in its plain text (what the pager gets)", () => {
    const m = renderRunMessage(run({ dnsAttempts: 2 }), "step", "wait-writable", { execution: EXECUTION, report: REPORT });
    expect(m.text).toBe(
      `Failover orders-db: wait-writable done\n<${executionConsoleUrl(EXECUTION)}|Step Functions execution alarm-1> · <${REPORT_URL}|run report>`,
    );
    expect(renderText(m, { links: "label" })).toBe(
      [
        "== Failover orders-db: wait-writable done ==",
        "*Run*: orders-db-20250304T100400Z",
        "*Trigger*: alarm: orders-db-primary-down at 2025-03-04T10:04:00.000Z",
        "*Reason*: Threshold Crossed",
        "*Timeline* (alarm 2025-03-04T10:04:00.000Z)",
        "✓ promote — 10:04:20Z → 10:04:21Z (1 s; alarm +21 s) · promotion requested · modifying",
        "✓ wait-writable — 10:04:21Z → 10:09:21Z (5 min; alarm +5.4 min) · writable",
        "… dns-change — started 10:09:21Z",
        "· dns-insync — pending",
        "· warm — pending",
        "· verify-health — pending",
        "*Attempts that changed nothing*",
        "dns-change: 1 of 2 ChangeResourceRecordSets calls throttled (refused, nothing changed; retried)",
        "promote: issued 2 times (an earlier attempt was seen not to have arrived), last at 10:06:30Z",
        "*RTO (alarm → healthy)*: n/a",
        "*RPO (lag at promotion)*: n/a",
        "*Alarm → writable*: 5.4 min",
        "*Alarm → DNS INSYNC*: n/a",
        "Step Functions execution alarm-1 · run report",
        "ops-autopilot failover runbook",
      ].join("\n"),
    );
  });
});
