import { afterEach, describe, expect, it } from "vitest";
import {
  depsFor,
  driveStateMachine,
  failoverSandbox,
  runLagTooFarScenario,
  runRegionOutageScenario,
  scenarioConfig,
  scenarioExecution,
  type Delivery,
} from "../../sandbox/scenarios/failover-scenarios.ts";
import { resetClients } from "../../adapters/clients.ts";
import { dispatchFailoverEvent } from "../../runbooks/failover/index.ts";
import type { FakeClock, Sandbox } from "../../sandbox/index.ts";

/**
 * What one failover sends, and to whom (issue 12): the failover group's incident on the alert lifecycle, the pager topic
 * in the control region (eu-central-1) so a page survives the primary region's outage, and every message linking its
 * Step Functions execution and run report with the timeline so far.
 */

const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const EXECUTION = scenarioExecution(ACCOUNT);
const EXECUTION_LINK =
  "Step Functions execution alarm-orders-db-primary-down (https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1" +
  `#/v2/executions/details/${EXECUTION})`;
const report = (id: string) =>
  `run report (https://s3.console.aws.amazon.com/s3/object/failover-state?region=eu-central-1&prefix=failover/orders-db/runs/${id}.json)`;
const RUN = "orders-db-20250304T100400Z";

/** `<destination> <severity>: <first line>` per delivery. */
const summary = (ds: Delivery[]) => ds.map((d) => `${d.destination} ${d.severity}: ${(d.text.split("\n")[0] ?? "").replace(/^== | ==$/g, "")}`);
function perDestination(ds: Delivery[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const d of ds) n[d.destination] = (n[d.destination] ?? 0) + 1;
  return n;
}

describe("a region outage's failover: messages and destinations", () => {
  it("pages once (the start, on the topic in the control region while SNS in the primary is down), then keeps the alerts channel informed", async () => {
    const r = await runRegionOutageScenario();

    expect(r.result).toBe("done");
    expect(summary(r.deliveries)).toEqual([
      "pager critical: Failover started: orders-db",
      "alerts-slack critical: Failover started: orders-db",
      "alerts-slack info: Failover orders-db: promote done",
      "alerts-slack info: Failover orders-db: wait-writable done",
      "alerts-slack info: Failover orders-db: dns-change done",
      "alerts-slack info: Failover orders-db: dns-insync done",
      "alerts-slack info: Failover orders-db: warm done",
      "alerts-slack info: Failover orders-db: verify-health done",
      "alerts-slack info: RESOLVED: Failover orders-db complete",
    ]);
    expect(perDestination(r.deliveries)).toEqual({ pager: 1, "alerts-slack": 8 });
    expect(r.deliveries[0]!.topicArn).toBe("arn:aws:sns:eu-central-1:123456789012:ops-autopilot-drill-alerts");
    // The page is SNS's message body: the title and both links, as label (url).
    expect(r.deliveries[0]!.text).toBe(`Failover started: orders-db\n${EXECUTION_LINK} · ${report(RUN)}`);
  });

  it("links the execution and the run report and carries the timeline so far in every message, throttled attempts apart", async () => {
    const r = await runRegionOutageScenario();
    for (const d of r.deliveries) {
      expect(d.text, d.text.split("\n")[0]).toContain(`${EXECUTION_LINK} · ${report(RUN)}`);
    }
    const slack = r.deliveries.filter((d) => d.destination === "alerts-slack").map((d) => d.text);
    for (const text of slack) expect(text).toContain("*Timeline* (alarm 2025-03-04T10:04:00.000Z)\n");
    const dnsDone = slack.find((t) => t.startsWith("== Failover orders-db: dns-change done =="))!;
    // Route 53's backoff has jitter: the DNS step's times vary by a second.
    expect(dnsDone.split("\n").filter((l) => /^[✓·…✗–] |^\*Attempts|^dns-change: /.test(l))).toEqual([
      "✓ promote — 10:04:20Z → 10:04:20Z (0 s; alarm +20 s) · promotion requested · PromoteReadReplica orders-dr: modifying",
      "✓ wait-writable — 10:04:20Z → 10:09:20Z (5 min; alarm +5.3 min) · writable · orders-dr available (standalone/writer)",
      expect.stringMatching(
        /^✓ dns-change — 10:09:20Z → 10:09:2\dZ \([\d.]+ s; alarm \+5\.\d min\) · UPSERT accepted · change \/change\/C000000000001 after 3 attempt\(s\)$/,
      ),
      "· dns-insync — pending",
      "· warm — pending",
      "· verify-health — pending",
      "*Attempts that changed nothing*",
      "dns-change: 2 of 3 ChangeResourceRecordSets calls throttled (refused, nothing changed; retried) before change /change/C000000000001",
    ]);
  });

  it("says so when driven without an execution (a direct invocation), instead of linking one", async () => {
    const r = await runRegionOutageScenario({ execution: null });
    expect(r.deliveries[0]!.text).toBe(`Failover started: orders-db\nDirect invocation: no Step Functions execution · ${report(RUN)}`);
  });

  it("a refused real alarm (the database is down, nothing was done) pages once, with its report linked", async () => {
    const r = await runLagTooFarScenario();
    expect(r.result).toBe("refused");
    expect(summary(r.deliveries)).toEqual([
      "pager critical: CRITICAL: failover orders-db refused — refused: replica lag 4 min > RPO 60 s: promoting would lose that much data",
      "alerts-slack critical: 🚨 CRITICAL: failover orders-db refused",
    ]);
    expect(r.deliveries[0]!.text.split("\n")[1]).toBe(`${EXECUTION_LINK} · ${report("refused-orders-db-20250304T100400Z")}`);
    expect(r.deliveries[1]!.text).toContain(
      "*Timeline*\n✓ trigger — alarm orders-db-primary-down at 2025-03-04T10:04:00.000Z\n✓ pre-checks — 10:04:20Z · refused: nothing changed",
    );
  });
});

describe("a failover that ends failed", () => {
  let world: { sb: Sandbox; clock: FakeClock } | undefined;
  afterEach(() => {
    world?.sb.restore();
    resetClients();
    world = undefined;
  });

  it("pages the start and the failure, reminds every 6 h at most when the function runs while the latch holds it, and resolves once on reset", async () => {
    world = failoverSandbox();
    const { sb, clock } = world;
    const messages: string[] = [];
    const deliveries: Delivery[] = [];
    const deps = {
      ...depsFor(sb, clock, {}, messages, deliveries),
      probe: { check: async () => ({ ok: false, status: 503, ms: 40, detail: "HTTP 503 in 40 ms" }) },
    };
    sb.inject({
      service: "rds",
      region: "eu-west-1",
      error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
      times: Infinity,
    });
    clock.advance(4 * 60_000);
    const alarm = () => {
      sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "OK");
      return sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "ALARM", "Threshold Crossed")!;
    };
    const cfg = scenarioConfig();
    const r = await driveStateMachine(deps, cfg, clock, alarm(), 1000, EXECUTION);
    expect(r.next).toBe("failed");

    // The alarm fires again 1 h later (still within 6 h): nothing; 7 h after the failure: one reminder; then reset.
    clock.advance(3_600_000);
    await dispatchFailoverEvent(deps, cfg, alarm());
    clock.advance(6 * 3_600_000);
    await dispatchFailoverEvent(deps, cfg, alarm());
    clock.advance(60_000);
    await dispatchFailoverEvent(deps, cfg, alarm());
    await dispatchFailoverEvent(deps, cfg, { mode: "reset", group: "orders-db", reason: "DR app fixed by hand", force: false });

    expect(summary(deliveries).filter((l) => !l.startsWith("alerts-slack info: Failover orders-db:"))).toEqual([
      "pager critical: Failover started: orders-db",
      "alerts-slack critical: Failover started: orders-db",
      "pager critical: CRITICAL: failover orders-db failed — DR health check failed: HTTP 503 in 40 ms",
      "alerts-slack critical: 🚨 CRITICAL: failover orders-db failed",
      "alerts-slack warning: 🚨 Reminder (open since 2025-03-04T10:04:00.000Z): failover orders-db failed; the latch still holds it",
      "alerts-slack info: RESOLVED: Failover latch released: orders-db",
    ]);
    expect(perDestination(deliveries)).toEqual({ pager: 2, "alerts-slack": 9 });
    expect(sb.iam?.denials ?? []).toEqual([]);
  });

  it("a pager or Slack outage never stops the failover: it completes, and what could be delivered was", async () => {
    const r = await (async () => {
      world = failoverSandbox();
      const { sb, clock } = world;
      const messages: string[] = [];
      const deliveries: Delivery[] = [];
      const deps = depsFor(sb, clock, {}, messages, deliveries);
      sb.inject({ service: "sns", error: "throttling", times: Infinity });
      const slackDown = { ...deps, notify: { notify: async () => Promise.reject(new Error("Slack answered 503")) } };
      sb.inject({
        service: "rds",
        region: "eu-west-1",
        error: Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError", $metadata: {} }),
        times: Infinity,
      });
      clock.advance(4 * 60_000);
      const event = sb.cloudwatch.setAlarmState(DR, "orders-db-primary-down", "ALARM", "Threshold Crossed")!;
      const withPagerDown = await driveStateMachine(deps, scenarioConfig(), clock, event, 1000, EXECUTION);
      const again = await dispatchFailoverEvent(slackDown, scenarioConfig(), { mode: "status", group: "orders-db" });
      return { withPagerDown, again, deliveries };
    })();
    expect(r.withPagerDown.next).toBe("done");
    expect(perDestination(r.deliveries)).toEqual({ "alerts-slack": 8 });
    expect(r.again.reason).toBe("orders-db: orders-db-20250304T100400Z done");
  });
});
