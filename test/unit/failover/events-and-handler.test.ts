import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { mockClient } from "aws-sdk-client-mock";
import { RDSClient } from "@aws-sdk/client-rds";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { parseFailoverEvent } from "../../../schemas/events-failover.ts";
import { ValidationError } from "../../../schemas/validate.ts";
import { FailoverConfigSchema } from "../../../schemas/config-failover.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { makeFailoverHandler } from "../../../functions/failover.ts";
import { groupInput, FakeWorld } from "./builders.ts";

const files = readdirSync("events").filter((f) => f.startsWith("failover-"));
const ctx = lambdaContext("req-1", 100_000);

describe("failover events and config", () => {
  it.each(files)("events/%s parses", (f) => {
    expect(() => parseFailoverEvent(JSON.parse(readFileSync(`events/${f}`, "utf8")))).not.toThrow();
  });

  it("has a sample for ALARM, OK, INSUFFICIENT_DATA, another alarm and every manual mode", () => {
    for (const f of ["alarm", "ok", "insufficient-data", "other-alarm", "plan", "execute", "execute-force", "status", "failback-plan", "reset", "advance"]) {
      expect(files).toContain(`failover-${f}.json`);
    }
  });

  it.each([
    [{ mode: "execute", group: "orders-db" }, "reason"],
    [{ mode: "execute", group: "orders-db", reason: "outage", force: true }, "forceReason"],
    [{ mode: "reset", group: "orders-db" }, "reason"],
    [{ mode: "explode", group: "x" }, "mode"],
    [
      {
        "detail-type": "CloudWatch Alarm State Change",
        source: "aws.cloudwatch",
        id: "1",
        time: "t",
        region: "eu-west-1",
        detail: { alarmName: "a", state: { value: "MAYBE", timestamp: "2025-01-01T00:00:00.000+0000" } },
      },
      "detail.state.value",
    ],
  ])("rejects %j naming %s", (event, field) => {
    expect(() => parseFailoverEvent(event)).toThrow(ValidationError);
    expect(() => parseFailoverEvent(event)).toThrow(field);
  });

  it("takes the execution ARN the state machine's Advance passes, and refuses anything else there, naming the field", () => {
    const execution = "arn:aws:states:eu-central-1:123456789012:execution:ops-autopilot-prod-FailoverStateMachine:alarm-1";
    const event = { mode: "status", group: "orders-db" };
    expect(parseFailoverEvent({ source: "sfn", event, execution })).toEqual({ event, viaStateMachine: true, execution });
    expect(parseFailoverEvent({ source: "sfn", event })).toEqual({ event, viaStateMachine: true });
    expect(() => parseFailoverEvent({ source: "sfn", event, execution: "alarm-1" })).toThrow("execution: expected a Step Functions execution ARN");
  });

  it("config: empty section parses to defaults; bad groups name the field", () => {
    expect(FailoverConfigSchema.parse(undefined)).toMatchObject({ groups: [], pollSeconds: 15 });
    const g = FailoverConfigSchema.parse({ groups: [groupInput({ execution: undefined })] }).groups[0]!;
    expect(g).toMatchObject({ maxReplicaLagSeconds: 60, execution: "plan-only", healthChecks: 3 });
    expect(() =>
      parseConfig({
        stage: "dev",
        primaryRegion: "eu-west-1",
        failover: { groups: [groupInput({ replica: { kind: "rds-instance", id: "x", region: "eu-west-1" } })] },
      }),
    ).toThrow("failover.groups[0].replica.region: the replica must be in another region than the primary");
    expect(() =>
      FailoverConfigSchema.parse({
        groups: [
          groupInput({
            primary: { kind: "aurora-cluster", id: "a", region: "eu-west-1" },
            replica: { kind: "aurora-cluster", id: "b", region: "eu-central-1" },
          }),
        ],
      }),
    ).toThrow("globalClusterId");
  });
});

describe("functions/failover.ts wiring", () => {
  const config = () => parseConfig({ stage: "test", primaryRegion: "eu-west-1", failover: { groups: [groupInput()] } });

  it("a malformed event fails with a clear error and makes no AWS call", async () => {
    const mocks = [mockClient(RDSClient), mockClient(Route53Client), mockClient(S3Client)];
    const handler = makeFailoverHandler({ runtime: { config, saveReport: async () => {} } });
    await expect(handler({ mode: "execute", group: "orders-db" }, ctx)).rejects.toThrow("Invalid failover manual event: reason");
    for (const m of mocks) {
      expect(m.calls()).toHaveLength(0);
      m.restore();
    }
  });

  it("an OK alarm is ignored and logged, not saved: no port is touched and no report is written", async () => {
    const world = new FakeWorld();
    const saved: unknown[] = [];
    const handler = makeFailoverHandler({ deps: () => world.deps(), runtime: { config, saveReport: async (_k, r) => void saved.push(r) } });
    const out = await handler(JSON.parse(readFileSync("events/failover-ok.json", "utf8")), ctx);
    expect(out).toMatchObject({ next: "ignored", action: "ignore" });
    expect(world.store.size + world.messages.length).toBe(0);
    expect(saved).toHaveLength(0);
  });

  const REFUSAL =
    'mode "execute" runs only through the failover state machine: a direct invoke could promote orders-dr and reach the Lambda timeout before DNS is switched, with nothing left to finish the run. ' +
    "Start the state machine FailoverStateMachine (stack output failoverStateMachine, region eu-central-1) with this same event as input: " +
    "aws stepfunctions start-execution --region eu-central-1 --state-machine-arn <failoverStateMachine> --input file://events/failover-execute.json";

  it("a direct execute is refused, naming the state machine: no latch, no promotion; the same event through the state machine runs to the end", async () => {
    const world = new FakeWorld();
    world.promotionMs = 5 * 60_000; // longer than one 120 s invocation
    const handler = makeFailoverHandler({ deps: () => world.deps(), runtime: { config, saveReport: async () => {}, now: () => new Date(world.nowMs) } });
    const execute = JSON.parse(readFileSync("events/failover-execute.json", "utf8"));

    await expect(handler(execute, ctx)).rejects.toThrow(`failover: 1 item(s) failed: orders-db: fatal: ${REFUSAL}`);
    expect(world.store.size).toBe(0);
    expect(world.promoteCalls + world.upserts).toBe(0);

    let out = (await handler({ source: "sfn", event: execute }, ctx)) as { next: string; waitSeconds?: number; advance?: unknown };
    for (let i = 0; out.next === "wait" && i < 200; i++) {
      world.nowMs += (out.waitSeconds ?? 1) * 1000;
      out = (await handler({ source: "sfn", event: out.advance }, ctx)) as typeof out;
    }
    expect(out.next).toBe("done");
    expect(world.record()).toMatchObject({ state: "done" });
    expect(world.promoteCalls).toBe(1);
    expect(world.upserts).toBe(1);
  });

  it("direct ALARM and advance invokes are refused the same way; read-only modes, reset and ignored alarms still run directly", async () => {
    const world = new FakeWorld();
    const handler = makeFailoverHandler({ deps: () => world.deps(), runtime: { config, saveReport: async () => {} } });
    await expect(handler(JSON.parse(readFileSync("events/failover-alarm.json", "utf8")), ctx)).rejects.toThrow(
      "an ALARM of orders-db-primary-down runs only through the failover state machine",
    );
    await expect(handler({ mode: "advance", group: "orders-db", runId: "orders-db-20250304T101502Z" }, ctx)).rejects.toThrow(
      'mode "advance" runs only through the failover state machine',
    );
    expect(world.store.size + world.promoteCalls).toBe(0);
    for (const f of ["failover-plan.json", "failover-status.json", "failover-failback-plan.json", "failover-ok.json"]) {
      await expect(handler(JSON.parse(readFileSync(`events/${f}`, "utf8")), ctx)).resolves.toMatchObject({ next: "ignored" });
    }
  });

  it("hands the execution through to every message of the run; a direct invocation's messages say it has none", async () => {
    const execution = "arn:aws:states:eu-central-1:123456789012:execution:ops-autopilot-test-FailoverStateMachine:alarm-1";
    const world = new FakeWorld();
    const handler = makeFailoverHandler({ deps: () => world.deps(), runtime: { config, saveReport: async () => {}, now: () => new Date(world.nowMs) } });
    let out = (await handler({ source: "sfn", event: JSON.parse(readFileSync("events/failover-alarm.json", "utf8")), execution }, ctx)) as {
      next: string;
      waitSeconds?: number;
      advance?: unknown;
    };
    for (let i = 0; out.next === "wait" && i < 200; i++) {
      world.nowMs += (out.waitSeconds ?? 1) * 1000;
      out = (await handler({ source: "sfn", event: out.advance, execution }, ctx)) as typeof out;
    }
    expect(out.next).toBe("done");
    const link = `<https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/${execution}|Step Functions execution alarm-1>`;
    expect(world.messages.map((m) => m.text.split("\n")[1])).toEqual(Array(8).fill(`${link} · no run report written`));
    expect(world.record()).toMatchObject({ execution });

    await handler(JSON.parse(readFileSync("events/failover-status.json", "utf8")), ctx);
    await handler(JSON.parse(readFileSync("events/failover-plan.json", "utf8")), ctx);
    expect(world.messages.at(-1)!.text.split("\n")[1]).toBe("Direct invocation: no Step Functions execution · no run report written");
  });

  it("under the state machine a run returns next=wait with the advance payload; a failed run through it is returned, not thrown", async () => {
    const world = new FakeWorld();
    const handler = makeFailoverHandler({ deps: () => world.deps(), runtime: { config, saveReport: async () => {}, now: () => new Date(world.nowMs) } });
    const out = await handler({ source: "sfn", event: JSON.parse(readFileSync("events/failover-alarm.json", "utf8")) }, ctx);
    expect(out).toMatchObject({ next: "wait", advance: { mode: "advance", group: "orders-db" } });
    expect(world.promotions).toBe(1);

    const refused = new FakeWorld();
    refused.lagSeconds = 500;
    const h2 = makeFailoverHandler({ deps: () => refused.deps(), runtime: { config, saveReport: async () => {} } });
    const viaSfn = await h2({ source: "sfn", event: { mode: "execute", group: "orders-db", reason: "test run" } }, ctx);
    expect(viaSfn).toMatchObject({ next: "failed", action: "refuse" });
  });
});
