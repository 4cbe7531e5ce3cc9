import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { dispatchFailoverEvent } from "../../../runbooks/failover/index.ts";
import type { FailoverInnerEvent } from "../../../schemas/events-failover.ts";
import { alarmEvent, failoverConfig, FakeWorld, T0 } from "./builders.ts";

type Op =
  | { kind: "alarm"; value: "ALARM" | "OK" | "INSUFFICIENT_DATA"; offsetS: number }
  | { kind: "execute"; force: boolean }
  | { kind: "plan" | "status" | "failback" }
  | { kind: "advance"; stale: boolean }
  | { kind: "tick"; seconds: number }
  | { kind: "crash" }
  | { kind: "reset"; force: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("alarm" as const),
      value: fc.constantFrom("ALARM" as const, "OK" as const, "INSUFFICIENT_DATA" as const),
      offsetS: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("execute" as const), force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("plan" as const, "status" as const, "failback" as const) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("advance" as const), stale: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("tick" as const), seconds: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("crash" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), force: fc.boolean() }) },
);

describe("single-flight latch (property)", () => {
  it("any interleaving of alarms and manual invokes → at most one promotion and one DNS change per group until a manual reset", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), async (batches) => {
        const world = new FakeWorld();
        const cfg = failoverConfig();
        const deps = world.deps();
        let resets = 0;
        let promotionsAtReset = 0;
        let upsertsAtReset = 0;

        const run = async (o: Op): Promise<void> => {
          let event: FailoverInnerEvent | undefined;
          switch (o.kind) {
            case "alarm":
              event = alarmEvent(o.value, { at: new Date(T0.getTime() + o.offsetS * 1000) });
              break;
            case "execute":
              event = { mode: "execute", group: "orders-db", reason: "operator go", force: o.force, ...(o.force ? { forceReason: "accepted" } : {}) };
              break;
            case "plan":
              event = { mode: "plan", group: "orders-db" };
              break;
            case "status":
              event = { mode: "status", group: "orders-db" };
              break;
            case "failback":
              event = { mode: "failback-plan", group: "orders-db" };
              break;
            case "advance": {
              const runId = o.stale ? "orders-db-stale" : world.record()?.runId;
              if (runId) event = { mode: "advance", group: "orders-db", runId };
              break;
            }
            case "tick":
              world.nowMs += o.seconds * 1000;
              return;
            case "crash":
              world.failNextReplace = true;
              return;
            case "reset": {
              const r = await dispatchFailoverEvent(deps, cfg, { mode: "reset", group: "orders-db", reason: "test reset", force: o.force });
              if (r.action === "reset" && r.next === "done") {
                resets++;
                promotionsAtReset = world.promotions;
                upsertsAtReset = world.upserts;
                // A new DR replica is built before anyone fails over again.
                world.replica = { status: "available", isReplica: true };
                world.dnsValue = { values: ["orders-primary.abc.eu-west-1.rds.amazonaws.com"] };
              }
              return;
            }
          }
          if (event) await dispatchFailoverEvent(deps, cfg, event);
        };

        for (const batch of batches) {
          // Concurrent deliveries; a simulated crash surfaces as a rejected invocation, which is retried later.
          await Promise.all(batch.map((o) => run(o).catch(() => undefined)));
          expect(world.promotions - promotionsAtReset).toBeLessThanOrEqual(1);
          expect(world.upserts - upsertsAtReset).toBeLessThanOrEqual(1);
          expect(world.promotions).toBeLessThanOrEqual(resets + 1);
          // DNS never moves to DR in an epoch without a promotion in that epoch.
          expect(world.upserts - upsertsAtReset).toBeLessThanOrEqual(world.promotions - promotionsAtReset);
        }
      }),
      { numRuns: 300 },
    );
  });
});
