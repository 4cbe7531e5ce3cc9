import { describe, expect, it } from "vitest";
import { dispatchFailoverEvent, type RunbookResult } from "../../../runbooks/failover/index.ts";
import { promotionKindFor, promotionOutcome, runPrechecks, type DbObservation } from "../../../core/failover.ts";
import { renderText } from "../../../core/report/blocks.ts";
import type { FailoverConfig } from "../../../schemas/config-failover.ts";
import type { FailoverInnerEvent } from "../../../schemas/events-failover.ts";
import { alarmEvent, failoverConfig, FakeWorld } from "./builders.ts";

/**
 * A failed or throttled describe is "unknown", never "not done": the runbook waits and observes again (or
 * fails with manual steps after a bound), and never re-issues a promotion or a DNS change because a read failed.
 */

async function drive(world: FakeWorld, cfg: FailoverConfig, event: FailoverInnerEvent, maxTicks = 500): Promise<RunbookResult> {
  const deps = world.deps();
  let r = await dispatchFailoverEvent(deps, cfg, event);
  for (let i = 0; r.next === "wait" && r.advance && i < maxTicks; i++) {
    world.nowMs += (r.waitSeconds ?? 1) * 1000;
    r = await dispatchFailoverEvent(deps, cfg, r.advance);
  }
  return r;
}

/** Crash right after PromoteReadReplica was accepted: the promote step stays `started`. */
async function crashAfterPromotion(world: FakeWorld, cfg: FailoverConfig): Promise<string> {
  world.crashAfterPromote = true;
  await expect(dispatchFailoverEvent(world.deps(), cfg, alarmEvent())).rejects.toThrow("simulated crash");
  expect(world.record()!.steps[0]).toMatchObject({ name: "promote", status: "started" });
  return world.record()!.runId;
}

describe("promotion: a describe that fails is unknown, not 'not promoted'", () => {
  it("after a crash, 5 minutes of throttled describes of the replica → waits, never re-issues, confirms once they answer", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const runId = await crashAfterPromotion(world, cfg);
    world.replicaDescribeFailures = 20; // 20 polls of 15 s: well past the 2 minutes after which a plain replica would be re-promoted

    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId });

    expect(r.next).toBe("done");
    expect(world.promoteCalls).toBe(1);
    expect(world.replicaDescribeFailures).toBe(0);
    expect(world.record()!.steps[0]).toMatchObject({ status: "done", result: "promotion confirmed" });
  });

  it("describes failing past the promotion timeout → the run fails with manual steps, still without a second promotion", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig({}, { promotionTimeoutMinutes: 10 });
    const runId = await crashAfterPromotion(world, cfg);
    world.replicaDescribeFailures = 1_000;

    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId });

    expect(r.next).toBe("failed");
    expect(world.promoteCalls).toBe(1);
    expect(world.upserts).toBe(0);
    const run = world.record()!;
    expect(run.state).toBe("failed");
    expect(run.failure!.step).toBe("promote");
    expect(run.failure!.message).toBe(
      "promotion outcome unknown: orders-dr could not be described for 10 min (describe orders-dr in eu-central-1 failed: Throttling: Rate exceeded); PromoteReadReplica may have been accepted",
    );
    expect(run.failure!.manualSteps[0]).toBe(
      "Do NOT promote again blindly: check orders-dr in eu-central-1 first (aws rds describe-db-instances --region eu-central-1 --db-instance-identifier orders-dr).",
    );
    expect(run.failure!.manualSteps.join("\n")).toContain("aws route53 change-resource-record-sets --hosted-zone-id Z0123456789ABC");
    expect(world.messages.at(-1)!.text).toContain("CRITICAL: failover orders-db failed");
  });

  it("a promotion call that times out after RDS accepted it is confirmed by observation, not failed and not repeated", async () => {
    const world = new FakeWorld();
    world.promoteTimesOutAfterAccept = true;

    const r = await drive(world, failoverConfig(), alarmEvent());

    expect(r.next).toBe("done");
    expect(world.promoteCalls).toBe(1);
    expect(world.upserts).toBe(1);
    expect(world.record()!.steps[0]).toMatchObject({ status: "done", result: "promotion confirmed" });
  });

  it("a replica observed available and still replicating 2 minutes after an unanswered call is promoted again (the call never reached RDS)", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    world.promoteError = Object.assign(new Error("PromoteReadReplica orders-dr: TimeoutError: connect ETIMEDOUT"), {
      name: "PromotionError",
      outcomeUnknown: true,
    });
    const first = await dispatchFailoverEvent(world.deps(), cfg, alarmEvent());
    expect(first.next).toBe("wait");
    expect(world.record()!.steps[0]).toMatchObject({ status: "started" });
    world.promoteError = undefined;

    const r = await drive(world, cfg, first.advance!);

    expect(r.next).toBe("done");
    expect(world.promoteCalls).toBe(2);
    expect(world.promotions).toBe(1);
    expect(world.record()!.steps[0]!.reason).toMatch(/^earlier attempt never reached RDS \(orders-dr available\)/);
  });

  it("a definite refusal by RDS still fails the run at once", async () => {
    const world = new FakeWorld();
    world.promoteError = Object.assign(new Error("InvalidDBInstanceStateFault: DB Instance is not a read replica."), { name: "PromotionError" });
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(world.promoteCalls).toBe(1);
    expect(world.record()!.failure!.message).toBe("promotion failed: InvalidDBInstanceStateFault: DB Instance is not a read replica.");
  });
});

describe("replica lag: a failed GetMetricData is unknown, not 'too far'", () => {
  it("pre-checks observe again when a read failed instead of refusing the failover", async () => {
    const world = new FakeWorld();
    world.lagFailures = 1;
    world.replicaDescribeFailures = 1;

    const r = await drive(world, failoverConfig(), alarmEvent());

    expect(r.next).toBe("done");
    expect(world.promotions).toBe(1);
    expect(world.record()!.prechecks.map((c) => `${c.name}:${c.ok}`)).toEqual(["primary-down:true", "replica-available:true", "replica-lag:true"]);
  });

  it("pre-checks that still cannot read after 3 attempts refuse, saying the read failed", async () => {
    const world = new FakeWorld();
    world.lagFailures = 3;
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r).toMatchObject({ next: "failed", action: "refuse" });
    expect(r.reason).toContain("replica lag unknown (GetMetricData failed: Throttling: Rate exceeded)");
    expect(world.promoteCalls).toBe(0);
  });

  it("at promotion time a failed read waits and reads again, then promotes with the lag it read", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    // Pre-checks read the lag once; the promote step's read fails twice.
    let reads = 0;
    const lag = deps.metrics.replicaLag;
    deps.metrics.replicaLag = async (g, now) =>
      ++reads >= 2 && reads <= 3 ? { failed: true, detail: "GetMetricData failed: Throttling: Rate exceeded" } : lag(g, now);
    let r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    for (let i = 0; r.next === "wait" && i < 100; i++) {
      world.nowMs += r.waitSeconds! * 1000;
      r = await dispatchFailoverEvent(deps, cfg, r.advance!);
    }
    expect(r.next).toBe("done");
    expect(reads).toBe(4);
    expect(world.promoteCalls).toBe(1);
    expect(world.record()!.lagAtPromotionSeconds).toBe(4);
  });

  it("at promotion time, lag unreadable for 5 minutes → fails with manual steps, nothing promoted", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    let reads = 0;
    const lag = deps.metrics.replicaLag;
    deps.metrics.replicaLag = async (g, now) => (++reads >= 2 ? { failed: true, detail: "GetMetricData failed: Throttling: Rate exceeded" } : lag(g, now));
    let r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    for (let i = 0; r.next === "wait" && i < 100; i++) {
      world.nowMs += r.waitSeconds! * 1000;
      r = await dispatchFailoverEvent(deps, cfg, r.advance!);
    }
    expect(r.next).toBe("failed");
    expect(world.promoteCalls).toBe(0);
    expect(world.record()!.failure!.message).toBe("replica lag could not be read for 5 min (GetMetricData failed: Throttling: Rate exceeded): not promoted");
  });
});

describe("DNS: a failed read of the record or the change is unknown, not 'not changed'", () => {
  it("after a crash, ListResourceRecordSets failing → waits, does not UPSERT again, confirms once it answers", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    world.crashAfterUpsert = true;
    await expect(drive(world, cfg, alarmEvent())).rejects.toThrow("simulated crash");
    world.currentValueFailures = 4;

    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId: world.record()!.runId });

    expect(r.next).toBe("done");
    expect(world.upserts).toBe(1);
    expect(world.currentValueFailures).toBe(0);
    expect(world.record()!.steps.find((s) => s.name === "dns-change")).toMatchObject({ status: "done", result: "UPSERT confirmed" });
  });

  it("the record unreadable past the DNS timeout → fails with the manual Route 53 steps, one UPSERT only", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    world.crashAfterUpsert = true;
    await expect(drive(world, cfg, alarmEvent())).rejects.toThrow("simulated crash");
    world.currentValueFailures = 10_000;

    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId: world.record()!.runId });

    expect(r.next).toBe("failed");
    expect(world.upserts).toBe(1);
    const failure = world.record()!.failure!;
    expect(failure.step).toBe("dns-change");
    expect(failure.message).toBe(
      "DNS change outcome unknown: the record could not be read for 10 min (Route53ChangeError: ListResourceRecordSets failed after 4 attempt(s): Throttling: Rate exceeded)",
    );
    expect(failure.manualSteps[0]).toContain("WAS promoted");
  });

  it("GetChange failing → keeps polling, no second UPSERT, INSYNC once it answers", async () => {
    const world = new FakeWorld();
    world.getChangeFailures = 6;
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.next).toBe("done");
    expect(world.upserts).toBe(1);
    expect(world.getChangeFailures).toBe(0);
    expect(world.record()!.steps.find((s) => s.name === "dns-insync")!.result).toBe("INSYNC");
  });

  it("the replica unreadable right before the UPSERT holds DNS; unreadable past the DNS timeout → fails with manual steps, no UPSERT", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    const describe = deps.db.describeReplica;
    // Writable is observed once; every describe after that fails.
    let writableSeen = false;
    deps.db.describeReplica = async (g) => {
      if (writableSeen) return { reachable: false, unknown: true, detail: "describe orders-dr in eu-central-1 failed: Throttling: Rate exceeded" };
      const o = await describe(g);
      writableSeen = o.isReplica === false && o.status === "available";
      return o;
    };
    let r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    for (let i = 0; r.next === "wait" && i < 200; i++) {
      world.nowMs += r.waitSeconds! * 1000;
      r = await dispatchFailoverEvent(deps, cfg, r.advance!);
    }
    expect(r.next).toBe("failed");
    expect(world.upserts).toBe(0);
    const failure = world.record()!.failure!;
    expect(failure.step).toBe("dns-change");
    expect(failure.message).toBe(
      "DNS held: orders-dr not confirmed writable for 10 min (describe orders-dr in eu-central-1 failed: Throttling: Rate exceeded)",
    );
    expect(failure.manualSteps.join("\n")).toContain("aws route53 change-resource-record-sets");
  });
});

describe("latch", () => {
  it("a 409 ConditionalRequestConflict on the latch create that never settles → critical alert and a failed result, nothing promoted", async () => {
    const world = new FakeWorld();
    world.createError = Object.assign(new Error("ConditionalRequestConflict: A conflicting operation occurred. Retry the request."), {
      name: "LatchWriteError",
    });

    const r = await drive(world, failoverConfig(), alarmEvent());

    expect(r).toMatchObject({ next: "failed", action: "latch-error", group: "orders-db" });
    expect(r.reason).toBe(
      "the latch could not be taken after 3 attempts (ConditionalRequestConflict: A conflicting operation occurred. Retry the request.): failover NOT started",
    );
    expect(world.promoteCalls).toBe(0);
    expect(world.messages).toHaveLength(1);
    expect(world.messages[0]!.text).toBe(
      "CRITICAL: failover orders-db NOT started: the latch could not be taken\nDirect invocation: no Step Functions execution · no run report written",
    );
    expect(renderText(world.messages[0]!)).toContain("ConditionalRequestConflict");
  });

  it("a create that conflicts once because a concurrent delivery won → follows that run, no alert", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    const create = deps.latch.create;
    let first = true;
    deps.latch.create = async (g, record) => {
      if (!first) return create(g, record);
      first = false;
      await create(g, record); // the other delivery's write lands…
      throw Object.assign(new Error("ConditionalRequestConflict: A conflicting operation occurred."), { name: "LatchWriteError" }); // …and ours gets 409
    };
    const r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    expect(r.next).toBe("wait");
    expect(world.messages.map((m) => m.text).filter((t) => t.includes("CRITICAL"))).toEqual([]);
  });

  it("a retried trigger (same alarm, Step Functions Task retry after a crash) resumes its own run instead of reporting it in progress", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const runId = await crashAfterPromotion(world, cfg);
    world.nowMs += 5_000;

    const r = await drive(world, cfg, alarmEvent());

    expect(r.next).toBe("done");
    expect(world.record()!.runId).toBe(runId);
    expect(world.promoteCalls).toBe(1);
    expect(world.upserts).toBe(1);
  });
});

describe("pure decisions on unknown observations", () => {
  const aurora = failoverConfig({
    primary: { kind: "aurora-cluster", id: "orders-eu-west", region: "eu-west-1" },
    replica: { kind: "aurora-cluster", id: "orders-eu-central", region: "eu-central-1" },
    globalClusterId: "orders-global",
  }).groups[0]!;
  const throttled: DbObservation = { reachable: false, unknown: true, detail: "describe failed: Throttling: Rate exceeded" };
  const unreachable: DbObservation = { reachable: false, detail: "describe failed: TimeoutError: connect ETIMEDOUT" };

  it.each([
    ["throttled describe of the primary", throttled, "switchover"],
    ["unreachable primary", unreachable, "failover"],
    ["available primary", { reachable: true, status: "available", isReplica: false, detail: "" }, "switchover"],
    ["primary in a non-serving state", { reachable: true, status: "inaccessible-encryption-credentials", isReplica: false, detail: "" }, "failover"],
  ] as const)("Aurora promotion kind: %s → %s", (_, primary, kind) => {
    expect(promotionKindFor(aurora, primary)).toBe(kind);
  });

  it.each([
    ["a failed describe", throttled, "unknown"],
    ["an unreachable region", unreachable, "unknown"],
    ["available and still a replica", { reachable: true, status: "available", isReplica: true, detail: "" }, "not-arrived"],
    ["modifying", { reachable: true, status: "modifying", isReplica: true, detail: "" }, "took-effect"],
    ["available, no longer a replica", { reachable: true, status: "available", isReplica: false, detail: "" }, "took-effect"],
  ] as const)("promotion outcome of %s: %s", (_, db, outcome) => {
    expect(promotionOutcome(db)).toBe(outcome);
  });

  it("a throttled describe of the primary is no 'down' signal; an unreachable one is", () => {
    const g = failoverConfig().groups[0]!;
    const replica: DbObservation = { reachable: true, status: "available", isReplica: true, detail: "orders-dr available" };
    const down = (primary: DbObservation) => runPrechecks(g, { primary, replica, lagSeconds: 2, lagDetail: "" }, { kind: "alarm" })[0]!.ok;
    expect(down(throttled)).toBe(false);
    expect(down(unreachable)).toBe(true);
  });
});
