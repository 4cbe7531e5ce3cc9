import { describe, expect, it } from "vitest";
import { advanceRun, dispatchFailoverEvent, type RunbookResult } from "../../../runbooks/failover/index.ts";
import { computeTimings, type RunRecord } from "../../../core/failover.ts";
import { renderText } from "../../../core/report/blocks.ts";
import type { FailoverConfig } from "../../../schemas/config-failover.ts";
import type { FailoverInnerEvent } from "../../../schemas/events-failover.ts";
import { alarmEvent, failoverConfig, FakeWorld } from "./builders.ts";

/** Emulates the state machine: call, wait what the runbook asks (fake time), call `advance`, until not waiting. */
async function drive(world: FakeWorld, cfg: FailoverConfig, event: FailoverInnerEvent, maxTicks = 500): Promise<RunbookResult> {
  const deps = world.deps();
  let r = await dispatchFailoverEvent(deps, cfg, event);
  for (let i = 0; r.next === "wait" && r.advance && i < maxTicks; i++) {
    world.nowMs += (r.waitSeconds ?? 1) * 1000;
    r = await dispatchFailoverEvent(deps, cfg, r.advance);
  }
  return r;
}

describe("failover runbook (in-memory ports)", () => {
  it("runs alarm → promote → writable → DNS → INSYNC → warm → healthy and reports RTO/RPO", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();

    const r = await drive(world, cfg, alarmEvent("ALARM"));

    expect(r.next).toBe("done");
    expect(world.promotions).toBe(1);
    expect(world.upserts).toBe(1);
    expect(world.warms).toBe(1);
    const run = world.record()!;
    expect(run.state).toBe("done");
    expect(run.steps.map((s) => s.status)).toEqual(["done", "done", "done", "done", "done", "done"]);
    const t = computeTimings(run);
    expect(t.rpoSeconds).toBe(4);
    expect(t.writableSeconds).toBeGreaterThanOrEqual(120);
    expect(t.dnsInsyncSeconds!).toBeGreaterThan(t.writableSeconds!);
    expect(t.rtoSeconds!).toBeGreaterThanOrEqual(t.dnsInsyncSeconds!);
    expect(world.messages[0]!.text).toContain("Failover started");
    expect(renderText(world.messages.at(-1)!)).toMatch(/RTO \(alarm → healthy\).*\n?.*min|RTO/);
    expect(world.reports.get(`orders-db/${run.runId}`)).toMatchObject({ state: "done", timings: { rpoSeconds: 4 } });
  });

  it("never changes DNS before the database is writable", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    const seen: string[] = [];
    const upsert = deps.dns.upsert;
    deps.dns.upsert = async (dns, value) => {
      seen.push(`upsert while replica ${world.replica.status}/${world.replica.isReplica ? "replica" : "writer"}`);
      return upsert(dns, value);
    };
    let r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    while (r.next === "wait") {
      world.nowMs += r.waitSeconds! * 1000;
      r = await dispatchFailoverEvent(deps, cfg, r.advance!);
    }
    expect(seen).toEqual(["upsert while replica available/writer"]);
  });

  it("ignores OK and INSUFFICIENT_DATA without touching any port", async () => {
    for (const value of ["OK", "INSUFFICIENT_DATA"] as const) {
      const world = new FakeWorld();
      const deps = world.deps();
      const calls: string[] = [];
      for (const port of Object.values(deps)) {
        if (typeof port !== "object") continue;
        for (const [k, fn] of Object.entries(port)) {
          if (typeof fn === "function" && k !== "now")
            (port as Record<string, unknown>)[k] = (...a: unknown[]) => {
              calls.push(k);
              return (fn as (...x: unknown[]) => unknown)(...a);
            };
        }
      }
      const r = await dispatchFailoverEvent(deps, failoverConfig(), alarmEvent(value));
      expect(r).toMatchObject({ next: "ignored", action: "ignore" });
      expect(r.reason).toContain(`went to ${value}`);
      expect(calls).toEqual([]);
    }
  });

  it("ignores an alarm that belongs to no group", async () => {
    const world = new FakeWorld();
    const r = await dispatchFailoverEvent(world.deps(), failoverConfig(), alarmEvent("ALARM", { alarmName: "checkout-api-5xx-high" }));
    expect(r).toMatchObject({ next: "ignored", action: "ignore" });
    expect(world.store.size).toBe(0);
  });

  it("two alarms delivered concurrently, then twice more → exactly one promotion and one DNS change", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const [a, b] = await Promise.all([drive(world, cfg, alarmEvent("ALARM", { id: "a" })), drive(world, cfg, alarmEvent("ALARM", { id: "b" }))]);
    const again1 = await drive(world, cfg, alarmEvent("ALARM", { id: "a" }));
    const again2 = await drive(world, cfg, alarmEvent("ALARM", { id: "c", at: new Date(world.nowMs) }));

    // The same alarm instant twice is one run: the second delivery follows it rather than dropping out.
    expect([a.next, b.next]).toEqual(["done", "done"]);
    expect(again1).toMatchObject({ next: "ignored", action: "done-already" });
    expect(again2.reason).toContain("latch stays until a manual reset");
    expect(world.promotions).toBe(1);
    expect(world.upserts).toBe(1);
  });

  it("a crash after the promotion call resumes without promoting again", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    world.crashAfterPromote = true;

    await expect(dispatchFailoverEvent(world.deps(), cfg, alarmEvent())).rejects.toThrow("simulated crash");
    expect(world.record()!.steps[0]).toMatchObject({ name: "promote", status: "started" });
    const runId = world.record()!.runId;
    world.nowMs += 5_000;
    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId });

    expect(r.next).toBe("done");
    expect(world.promotions).toBe(1);
    expect(world.record()!.steps[0]).toMatchObject({ status: "done", result: "promotion confirmed" });
  });

  it("a crash after the DNS change resumes without changing DNS again", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    world.crashAfterUpsert = true;
    await expect(drive(world, cfg, alarmEvent())).rejects.toThrow("simulated crash");
    const run = world.record()!;
    expect(run.steps.find((s) => s.name === "dns-change")!.status).toBe("started");

    const r = await drive(world, cfg, { mode: "advance", group: "orders-db", runId: run.runId });

    expect(r.next).toBe("done");
    expect(world.upserts).toBe(1);
    expect(world.record()!.steps.find((s) => s.name === "dns-insync")!.result).toBe("INSYNC (assumed)");
  });

  it("refuses with a reason and an alert when replica lag exceeds the RPO", async () => {
    const world = new FakeWorld();
    world.lagSeconds = 240;
    const r = await drive(world, failoverConfig(), alarmEvent());

    expect(r).toMatchObject({ next: "failed", action: "refuse" });
    expect(r.reason).toContain("replica lag 4 min > RPO 60 s");
    expect(world.promotions).toBe(0);
    expect(world.upserts).toBe(0);
    expect(world.store.size).toBe(0);
    expect(world.messages).toHaveLength(1);
    expect(world.messages[0]!.text).toMatch(/^CRITICAL: failover orders-db refused/);
  });

  it("refuses when lag is unknown, and when the replica is backing-up", async () => {
    const w1 = new FakeWorld();
    w1.lagSeconds = undefined;
    expect((await drive(w1, failoverConfig(), alarmEvent())).reason).toContain("replica lag unknown");
    const w2 = new FakeWorld();
    w2.replica.status = "backing-up";
    expect((await drive(w2, failoverConfig(), alarmEvent())).reason).toContain("backing-up");
    expect(w1.promotions + w2.promotions).toBe(0);
  });

  it("refuses an alarm when the primary is healthy by the second signal", async () => {
    const world = new FakeWorld();
    world.primaryDown = false;
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.reason).toContain("the alarm alone is not enough");
    expect(world.promotions).toBe(0);
  });

  it("a manual execute with force and a reason promotes despite the lag, and records it", async () => {
    const world = new FakeWorld();
    world.lagSeconds = 240;
    const r = await drive(world, failoverConfig(), {
      mode: "execute",
      group: "orders-db",
      reason: "region outage",
      force: true,
      forceReason: "CTO accepts 4 min loss",
    });
    expect(r.next).toBe("done");
    expect(world.record()!.trigger.force).toEqual({ reason: "CTO accepts 4 min loss" });
    expect(computeTimings(world.record()!).rpoSeconds).toBe(240);
  });

  it("plan-only groups answer an alarm with a plan and take no latch", async () => {
    const world = new FakeWorld();
    const r = await drive(world, failoverConfig({ execution: "plan-only" }), alarmEvent());
    expect(r.action).toBe("plan-only");
    expect(world.store.size).toBe(0);
    expect(renderText(r.message!)).toContain("PromoteReadReplica orders-dr in eu-central-1");
  });

  it("plan changes nothing and shows every pre-check and step", async () => {
    const world = new FakeWorld();
    const r = await dispatchFailoverEvent(world.deps(), failoverConfig(), { mode: "plan", group: "orders-db" });
    const text = renderText(r.message!);
    for (const s of [
      "primary-down",
      "replica-available",
      "replica-lag",
      "Route 53 UPSERT db.example.com",
      "INSYNC",
      "warm caches",
      "verify https://dr.example.com/health",
    ])
      expect(text).toContain(s);
    expect(world.store.size + world.reports.size + world.promotions + world.upserts).toBe(0);
  });

  it("promotion fails → stop, no DNS change, critical alert with the error", async () => {
    const world = new FakeWorld();
    world.promoteError = Object.assign(new Error("Instance orders-dr is not in available state"), { name: "InvalidDBInstanceStateFault" });
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(world.upserts).toBe(0);
    const end = world.messages.at(-1)!;
    expect(end.text).toContain("CRITICAL: failover orders-db failed");
    expect(renderText(end)).toContain("InvalidDBInstanceStateFault: Instance orders-dr is not in available state");
    expect(world.record()!.failure!.manualSteps[0]).toContain("DNS still points at the primary");
  });

  it("DNS fails → the database stays promoted and the report says what to do by hand", async () => {
    const world = new FakeWorld();
    world.dnsError = Object.assign(new Error("ChangeResourceRecordSets failed after 8 attempt(s): Throttling: Rate exceeded"), { name: "Route53ChangeError" });
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(world.promotions).toBe(1);
    expect(world.replica.isReplica).toBe(false);
    const failure = world.record()!.failure!;
    expect(failure.step).toBe("dns-change");
    expect(failure.manualSteps.join("\n")).toContain(
      `aws route53 change-resource-record-sets --hosted-zone-id Z0123456789ABC --change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"db.example.com","Type":"CNAME","TTL":60,"ResourceRecords":[{"Value":"orders-dr.abc.eu-central-1.rds.amazonaws.com"}]}}]}'`,
    );
    expect(failure.manualSteps[0]).toContain("WAS promoted");
    expect(world.messages.at(-1)!.text).toContain("CRITICAL");
  });

  it("health fails after the switch → critical alert, no automatic failback", async () => {
    const world = new FakeWorld();
    world.healthy = false;
    const r = await drive(world, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(world.upserts).toBe(1);
    expect(world.dnsValue).toEqual({ values: ["orders-dr.abc.eu-central-1.rds.amazonaws.com"] });
    expect(world.record()!.failure!.manualSteps[0]).toContain("NO automatic failback");
    expect(world.messages.at(-1)!.text).toContain("CRITICAL");
  });

  it("status, failback-plan and reset", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    await drive(world, cfg, alarmEvent());
    const deps = world.deps();

    expect((await dispatchFailoverEvent(deps, cfg, { mode: "status", group: "orders-db" })).reason).toMatch(/orders-db: orders-db-20250304T101502Z done/);
    expect(renderText((await dispatchFailoverEvent(deps, cfg, { mode: "failback-plan", group: "orders-db" })).message!)).toContain("Failback is manual");
    const reset = await dispatchFailoverEvent(deps, cfg, { mode: "reset", group: "orders-db", reason: "failback done", force: false });
    expect(reset).toMatchObject({ next: "done", action: "reset" });
    expect(world.record()!.state).toBe("released");

    // After a reset a new alarm may fail over again (in this fake, back to a fresh replica).
    world.replica = { status: "available", isReplica: true };
    const again = await drive(world, cfg, alarmEvent("ALARM", { at: new Date(world.nowMs) }));
    expect(again.next).toBe("done");
    expect(world.promotions).toBe(2);
    expect(world.record()!.history).toEqual(["orders-db-20250304T101502Z"]);
  });

  it("reset is refused while a run is in progress unless forced", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const first = await dispatchFailoverEvent(world.deps(), cfg, alarmEvent());
    expect(first.next).toBe("wait");
    const r = await dispatchFailoverEvent(world.deps(), cfg, { mode: "reset", group: "orders-db", reason: "oops", force: false });
    expect(r.reason).toContain("still in progress");
    expect(world.record()!.state).toBe("running");
  });

  it("advance for a stale run id changes nothing", async () => {
    const world = new FakeWorld();
    const r = await advanceRun(world.deps(), failoverConfig(), "orders-db", "orders-db-old");
    expect(r.next).toBe("ignored");
    expect(world.promotions).toBe(0);
  });

  it("direct invokes wait inline within the deadline", async () => {
    const world = new FakeWorld();
    const r = await dispatchFailoverEvent(world.deps(), failoverConfig(), alarmEvent(), { inlineWaits: true, deadlineMs: world.nowMs + 3_600_000 });
    expect(r.next).toBe("done");
    const run: RunRecord = world.record()!;
    expect(run.state).toBe("done");
  });
});
