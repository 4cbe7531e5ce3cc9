import { describe, expect, it } from "vitest";
import { STEP_NAMES } from "../../../core/failover.ts";
import { dispatchFailoverEvent, planSteps } from "../../../runbooks/failover/index.ts";
import { FAILOVER_STEPS } from "../../../runbooks/failover/steps/index.ts";
import { alarmEvent, failoverConfig, FakeWorld } from "../failover/builders.ts";

describe("failover runbook on the durable engine", () => {
  it("has one step module per STEP_NAMES entry, in the record's order", () => {
    expect(FAILOVER_STEPS.map((s) => s.name)).toEqual([...STEP_NAMES]);
  });

  it("plans from the steps' own descriptions", () => {
    const cfg = failoverConfig();
    const lines = planSteps(new FakeWorld().deps(), cfg, cfg.groups[0]!, "promote");
    expect(lines).toEqual([
      "1. PromoteReadReplica orders-dr in eu-central-1",
      "2. wait until orders-dr is available and no longer a replica (writable)",
      "3. Route 53 UPSERT db.example.com CNAME in Z0123456789ABC: orders-primary.abc.eu-west-1.rds.amazonaws.com → orders-dr.abc.eu-central-1.rds.amazonaws.com",
      "4. wait for the change to be INSYNC",
      '5. warm caches: target set "orders-dr"',
      "6. verify https://dr.example.com/health answers 2xx within 2000 ms, 3 times",
    ]);
  });

  it("every Advance result names its step, so the Step Functions history reads as a timeline", async () => {
    const world = new FakeWorld();
    const cfg = failoverConfig();
    const deps = world.deps();
    const seen: (string | undefined)[] = [];
    let r = await dispatchFailoverEvent(deps, cfg, alarmEvent());
    seen.push(r.step);
    while (r.next === "wait") {
      expect(r.advance).toEqual({ mode: "advance", group: "orders-db", runId: r.runId });
      world.nowMs += r.waitSeconds! * 1000;
      r = await dispatchFailoverEvent(deps, cfg, r.advance!);
      seen.push(r.step);
    }
    expect(r).toMatchObject({ next: "done", action: "advance", reason: "failover complete" });
    // Waits while the replica becomes writable, then while Route 53 propagates; the final result is the run's end.
    expect([...new Set(seen)]).toEqual(["wait-writable", "dns-insync", undefined]);
  });
});
