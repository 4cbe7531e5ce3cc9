import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { putProbeResults } from "../../../adapters/probe-metrics.ts";
import { PROBE_DIMENSION, PROBE_METRIC } from "../../../core/failover-trigger.ts";
import { AggregateRunError, createHandler } from "../../../runbooks/lib/handler.ts";
import { probeDeps } from "../../../runbooks/probe/deps.ts";
import { runProbe } from "../../../runbooks/probe/probe.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { type Config, parseConfig } from "../../../schemas/config.ts";
import { parseProbeEvent } from "../../../schemas/events-probe.ts";
import { groupInput } from "../failover/builders.ts";

/**
 * The trigger kit's probe on the sandbox, with IAM enforcement on (its calls are checked against the role
 * stacks/iam.ts derives for `probe`): real HTTP and TCP probes against local servers standing in for the primary,
 * results published with PutMetricData in the DR region.
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const NAMESPACE = "ops-autopilot-test/failover-probe";
let sb: Sandbox;
let clock: FakeClock;
let tcp: TcpServer;
let http: HttpServer;
let httpStatus = 200;

const listen = <S extends TcpServer | HttpServer>(server: S) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

function configWith(ports: { tcp: number; http: number }): Config {
  return parseConfig({
    stage: "test",
    primaryRegion: PRIMARY,
    drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
    failover: {
      groups: [
        groupInput({
          name: "orders-db",
          alarms: [],
          trigger: { probe: { url: `http://127.0.0.1:${ports.http}/health`, tcp: { host: "127.0.0.1", port: ports.tcp } }, timeoutMs: 1000 },
        }),
      ],
    },
  });
}

let config: Config;
const invoke = (event: unknown = { trigger: "schedule" }) =>
  createHandler({ name: "probe", parse: parseProbeEvent, run: (e, c) => runProbe(e, c, probeDeps(c)), posts: false }, quietRuntime(config, clock))(
    event,
    lambdaContext("r"),
  ) as Promise<Record<string, unknown>>;

beforeEach(async () => {
  clock = new FakeClock("2026-11-20T02:00:00Z");
  httpStatus = 200;
  tcp = createTcpServer((s) => s.end());
  http = createHttpServer((_req, res) => {
    res.statusCode = httpStatus;
    res.end("ok");
  });
  config = configWith({ tcp: await listen(tcp), http: await listen(http) });
  sb = createSandbox({ clock, regions: [PRIMARY, DR], iam: { defaultRole: { name: "probe", config } } });
  resetClients();
});
afterEach(async () => {
  sb.restore();
  resetClients();
  await new Promise((r) => tcp.close(() => r(undefined)));
  await new Promise((r) => http.close(() => r(undefined)));
});

describe("failover trigger probe", () => {
  it("publishes 0 for a healthy primary in the DR region, in its stage's namespace, allowed by its role", async () => {
    const out = await invoke();
    expect(out.down).toEqual([]);
    expect(sb.cloudwatch.published(DR, NAMESPACE)).toEqual([
      { metric: PROBE_METRIC, dimensions: { [PROBE_DIMENSION]: "orders-db" }, value: 0, at: clock.now() },
    ]);
    expect(sb.cloudwatch.published(PRIMARY, NAMESPACE)).toEqual([]);
    expect(sb.iam!.denials).toEqual([]);
  });

  it("publishes 1 when the app answers 5xx, and when the database port refuses connections", async () => {
    httpStatus = 503;
    let out = await invoke();
    expect(out.down).toEqual(["orders-db"]);
    expect((out.groups as { checks: string[] }[])[0]!.checks[0]).toMatch(/^FAILED: 127\.0\.0\.1:\d+ HTTP 503 in \d+ ms$/);
    httpStatus = 200;
    await new Promise((r) => tcp.close(() => r(undefined)));
    out = await invoke();
    expect((out.groups as { checks: string[] }[])[0]!.checks[1]).toMatch(/^FAILED: 127\.0\.0\.1:\d+ connection failed: ECONNREFUSED$/);
    tcp = createTcpServer(); // closed again in afterEach
    tcp.listen(0, "127.0.0.1");
    expect(sb.cloudwatch.published(DR, NAMESPACE).map((p) => p.value)).toEqual([1, 1]);
    expect(sb.iam!.denials).toEqual([]);
  });

  it("a manual dry run probes and reports without publishing; an unknown group is refused by name", async () => {
    httpStatus = 500;
    const out = await invoke({ trigger: "manual", dryRun: true, group: "orders-db" });
    expect(out).toMatchObject({ dryRun: true, down: ["orders-db"] });
    expect(sb.cloudwatch.published(DR, NAMESPACE)).toEqual([]);
    await expect(invoke({ trigger: "manual", group: "billing-db" })).rejects.toThrow(
      'probe: 1 item(s) failed: billing-db: fatal: no failover group "billing-db" with a trigger (groups with one: orders-db)',
    );
  });

  it("fails the run (errors alarm) when the results cannot be published: the alarm then sees missing data, never a failure", async () => {
    sb.inject({ service: "cloudwatch", command: "PutMetricData", error: "internal", times: Number.POSITIVE_INFINITY });
    const err = await invoke().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateRunError);
    expect((err as AggregateRunError).failures).toEqual([
      { item: "probe results", region: DR, kind: "retryable", message: "not published (the alarm sees missing data): Internal error" },
    ]);
    expect(sb.cloudwatch.published(DR, NAMESPACE)).toEqual([]);
  });

  it("its role cannot publish in another stage's namespace (cloudwatch:namespace), so it cannot start that stage's failover", async () => {
    sb.iam!.expectDenial("probe", "cloudwatch:PutMetricData");
    await expect(
      putProbeResults(DR, "ops-autopilot-prod/failover-probe", PROBE_METRIC, PROBE_DIMENSION, [{ group: "orders-db", failed: true }]),
    ).rejects.toThrow(/not authorized|AccessDenied/);
    expect(sb.iam!.denials.map((d) => [d.principal, d.request.action, d.request.context["cloudwatch:namespace"]])).toEqual([
      ["probe", "cloudwatch:PutMetricData", "ops-autopilot-prod/failover-probe"],
    ]);
    expect(sb.cloudwatch.published(DR, "ops-autopilot-prod/failover-probe")).toEqual([]);
  });
});
