import { afterEach, describe, expect, it } from "vitest";
import {
  depsFor,
  driveStateMachine,
  failoverSandbox,
  runLagTooFarScenario,
  runRegionOutageScenario,
  scenarioConfig,
} from "../../../sandbox/scenarios/failover-scenarios.ts";
import { dispatchFailoverEvent } from "../../../runbooks/failover/index.ts";

describe("failover runbook on the sandbox (unmodified adapters)", () => {
  afterEach(() => undefined);

  it("region outage → ALARM → promote → DNS (after 2 throttles) → INSYNC → warm → healthy, with RTO/RPO", async () => {
    const warmed: string[] = [];
    const r = await runRegionOutageScenario({
      warm: {
        warm: async (t) => {
          warmed.push(t);
          return { ok: true, summary: "12/12 URLs warmed" };
        },
      },
    });

    expect(r.result).toBe("done");
    expect(r.timeline.map((e) => `${e.step}:${e.result}`)).toEqual([
      "alarm:ALARM",
      "pre-checks:passed",
      "promote:promotion requested",
      "wait-writable:writable",
      "dns-change:UPSERT accepted",
      "dns-insync:INSYNC",
      "warm:warmed",
      "verify-health:healthy",
    ]);
    expect(r.mutatingCalls.map((c) => `${c.command}${c.error ? `!${c.error}` : ""}`)).toEqual([
      "PromoteReadReplica",
      "ChangeResourceRecordSets!Throttling",
      "ChangeResourceRecordSets!Throttling",
      "ChangeResourceRecordSets",
    ]);
    // DNS only after the database became writable (promotion takes 5 simulated minutes).
    const writable = r.timeline.find((e) => e.step === "wait-writable")!.end!;
    expect(Date.parse(r.mutatingCalls[1]!.at)).toBeGreaterThanOrEqual(Date.parse(writable));
    expect(warmed).toEqual(["orders-dr"]);
    expect(r.rpoSeconds).toBe(3);
    expect(r.writableSeconds!).toBeGreaterThanOrEqual(300);
    expect(r.rtoSeconds!).toBeGreaterThan(r.dnsInsyncSeconds!);
    expect(r.rtoSeconds!).toBeLessThan(600);
    expect(r.messages[0]).toContain("Failover started: orders-db");
    expect(r.messages.at(-1)).toContain("Failover orders-db complete");
  });

  it("lag too far → refusal with the reason, no promotion, no DNS change", async () => {
    const r = await runLagTooFarScenario();
    expect(r.result).toBe("refused");
    expect(r.reason).toContain("replica lag 4 min > RPO 60 s");
    expect(r.mutatingCalls).toEqual([]);
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toContain("CRITICAL: failover orders-db refused");
  });
});

/** The primary stops answering, and three minutes later its alarm goes to ALARM: the event that starts a run. */
function primaryGoesDown(sb: ReturnType<typeof failoverSandbox>["sb"], clock: ReturnType<typeof failoverSandbox>["clock"]) {
  clock.advance(60_000);
  sb.inject({ service: "rds", region: PRIMARY, error: timeout(), times: Infinity });
  clock.advance(3 * 60_000);
  return sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "ALARM", "Threshold Crossed")!;
}

/** The process dies right after RDS accepted the promotion: the checkpoint that records it is never written. */
function crashOnceRdsAcceptsThePromotion(sb: ReturnType<typeof failoverSandbox>["sb"]): void {
  sb.inject({
    service: "s3",
    command: "PutObject",
    error: Object.assign(new Error("Lambda runtime exited"), { name: "Runtime.ExitError" }),
    match: () => sb.rds.promotions().length > 0,
  });
}

const DR = "eu-central-1";
const PRIMARY = "eu-west-1";
const timeout = () => Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} });

describe("failover on the sandbox: failed describes are unknown, never 'not promoted'", () => {
  it("crash right after PromoteReadReplica, then 4 minutes of throttled DescribeDBInstances → the retried trigger waits and confirms; PromoteReadReplica is called once", async () => {
    const { sb, clock } = failoverSandbox();
    try {
      const cfg = scenarioConfig();
      const messages: string[] = [];
      const deps = depsFor(sb, clock, {}, messages);
      const alarm = primaryGoesDown(sb, clock);
      crashOnceRdsAcceptsThePromotion(sb);
      await expect(dispatchFailoverEvent(deps, cfg, alarm)).rejects.toThrow("Lambda runtime exited");
      // Every describe of the replica is throttled past the SDK's 6 attempts for 16 polls (4 min at 15 s).
      const throttled = sb.inject({ service: "rds", command: "DescribeDBInstances", region: DR, error: "throttling", times: 6 * 16 });

      // Step Functions retries the Task with the same input: the same alarm.
      clock.advance(5_000);
      const r = await driveStateMachine(deps, cfg, clock, alarm);

      expect(r.next).toBe("done");
      expect(throttled.remaining).toBe(0);
      expect(sb.callsTo("rds", "PromoteReadReplica")).toHaveLength(1);
      expect(sb.callsTo("route53", "ChangeResourceRecordSets").filter((c) => !c.error)).toHaveLength(1);
      const run = (await deps.latch.read("orders-db"))!.record;
      expect(run.steps.map((s) => `${s.name}:${s.result}`)).toEqual([
        "promote:promotion confirmed",
        "wait-writable:writable",
        "dns-change:UPSERT accepted",
        "dns-insync:INSYNC",
        "warm:warmed",
        "verify-health:healthy",
      ]);
      expect(run.steps[0]!.reason).toBe(
        "found orders-dr modifying (replica of arn:aws:rds:eu-west-1:123456789012:db:orders-primary) after a restart: not issued again",
      );
    } finally {
      sb.restore();
    }
  });

  it("resumed by advance: throttled DescribeDBInstances past the 2-minute re-issue threshold never re-issue PromoteReadReplica", async () => {
    const { sb, clock } = failoverSandbox();
    try {
      const cfg = scenarioConfig();
      const deps = depsFor(sb, clock, {}, []);
      const alarm = primaryGoesDown(sb, clock);
      crashOnceRdsAcceptsThePromotion(sb);
      await expect(dispatchFailoverEvent(deps, cfg, alarm)).rejects.toThrow("Lambda runtime exited");
      const runId = (await deps.latch.read("orders-db"))!.record.runId;
      sb.inject({ service: "rds", command: "DescribeDBInstances", region: DR, error: "throttling", times: 6 * 16 });

      const r = await driveStateMachine(deps, cfg, clock, { mode: "advance", group: "orders-db", runId });

      expect(sb.callsTo("rds", "PromoteReadReplica").map((c) => c.error?.name ?? "accepted")).toEqual(["accepted"]);
      expect(r.next).toBe("done");
    } finally {
      sb.restore();
    }
  });

  it("GetMetricData and the replica's DescribeDBInstances throttled at the pre-checks → observed again, not refused", async () => {
    const { sb, clock } = failoverSandbox();
    try {
      const cfg = scenarioConfig();
      const deps = depsFor(sb, clock, {}, []);
      const alarm = primaryGoesDown(sb, clock);
      sb.inject({ service: "cloudwatch", command: "GetMetricData", error: "throttling", times: 6 });
      sb.inject({ service: "rds", command: "DescribeDBInstances", region: DR, error: "throttling", times: 6 });

      const r = await driveStateMachine(deps, cfg, clock, alarm);

      expect(r.next).toBe("done");
      expect(sb.callsTo("rds", "PromoteReadReplica")).toHaveLength(1);
      const run = (await deps.latch.read("orders-db"))!.record;
      expect(run.prechecks.every((c) => c.ok)).toBe(true);
      expect(run.lagAtPromotionSeconds).toBe(3);
    } finally {
      sb.restore();
    }
  });

  it("a throttled describe of the primary is not a second 'down' signal", async () => {
    const { sb, clock } = failoverSandbox();
    try {
      const cfg = scenarioConfig();
      const messages: string[] = [];
      const deps = depsFor(sb, clock, {}, messages);
      clock.advance(4 * 60_000);
      const alarm = sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "ALARM", "Threshold Crossed")!;
      sb.inject({ service: "rds", command: "DescribeDBInstances", region: PRIMARY, error: "throttling", times: Infinity });

      const r = await driveStateMachine(deps, cfg, clock, alarm);

      expect(r).toMatchObject({ next: "failed", action: "refuse" });
      expect(r.reason).toContain("looks healthy by every second signal");
      expect(sb.callsTo("rds", "PromoteReadReplica")).toHaveLength(0);
    } finally {
      sb.restore();
    }
  });
});
