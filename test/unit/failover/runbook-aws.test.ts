import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  DBInstanceNotFoundFault,
  FailoverGlobalClusterCommand,
  InvalidDBInstanceStateFault,
  PromoteReadReplicaCommand,
  RDSClient,
  RDSServiceException,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { resetClients } from "../../../adapters/clients.ts";
import { rdsFailover, type PromotionError } from "../../../adapters/rds-failover.ts";
import { route53Dns } from "../../../adapters/route53.ts";
import { cloudwatchMetrics } from "../../../adapters/cloudwatch.ts";
import { s3Latch, latchKey } from "../../../adapters/latch.ts";
import { httpProbe } from "../../../adapters/health.ts";
import { dispatchFailoverEvent, type FailoverDeps, type RunbookResult } from "../../../runbooks/failover/index.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import type { RunRecord } from "../../../core/failover.ts";
import type { FailoverConfig } from "../../../schemas/config-failover.ts";
import type { FailoverInnerEvent } from "../../../schemas/events-failover.ts";
import { alarmEvent, failoverConfig, T0 } from "./builders.ts";
import { awsError, mockConditionalS3 } from "./aws-mocks.ts";
import { PutObjectCommand } from "@aws-sdk/client-s3";

const rdsMock = mockClient(RDSClient);
const r53Mock = mockClient(Route53Client);
const cwMock = mockClient(CloudWatchClient);

const DR_VALUE = "orders-dr.abc.eu-central-1.rds.amazonaws.com";

interface Env {
  calls: string[];
  nowMs: number;
  messages: SlackMessage[];
  deps: FailoverDeps;
  s3: ReturnType<typeof mockConditionalS3>;
}

/** Real adapters over mocked AWS; a replica that turns writable two describes after PromoteReadReplica. */
function setup(opts: { lag?: number[]; r53Errors?: string[]; promoteError?: Error; latchConflicts?: number } = {}): Env {
  resetClients();
  rdsMock.reset();
  r53Mock.reset();
  cwMock.reset();
  const s3 = mockConditionalS3({ conflicts: opts.latchConflicts ?? 0 });
  const env = { calls: [] as string[], nowMs: T0.getTime() + 30_000, messages: [] as SlackMessage[], s3 } as Env;
  let promotedDescribes = -1;
  rdsMock.on(DescribeDBInstancesCommand).callsFake(async (input: { DBInstanceIdentifier: string }) => {
    env.calls.push(`DescribeDBInstances ${input.DBInstanceIdentifier}`);
    if (input.DBInstanceIdentifier === "orders-primary") throw awsError("TimeoutError", "connect ETIMEDOUT");
    if (promotedDescribes < 0) {
      return {
        DBInstances: [
          {
            DBInstanceIdentifier: "orders-dr",
            DBInstanceStatus: "available",
            ReadReplicaSourceDBInstanceIdentifier: "arn:aws:rds:eu-west-1:123456789012:db:orders-primary",
          },
        ],
      };
    }
    promotedDescribes++;
    return { DBInstances: [{ DBInstanceIdentifier: "orders-dr", DBInstanceStatus: promotedDescribes < 2 ? "modifying" : "available" }] };
  });
  rdsMock.on(PromoteReadReplicaCommand).callsFake(async () => {
    env.calls.push("PromoteReadReplica");
    if (opts.promoteError) throw opts.promoteError;
    promotedDescribes = 0;
    return { DBInstance: { DBInstanceIdentifier: "orders-dr", DBInstanceStatus: "modifying" } };
  });
  cwMock.on(GetMetricDataCommand).callsFake(async () => {
    env.calls.push("GetMetricData");
    return {
      MetricDataResults: [{ Id: "lag", Values: opts.lag ?? [3, 4, 2], Timestamps: (opts.lag ?? [3, 4, 2]).map((_, i) => new Date(T0.getTime() - i * 60_000)) }],
    };
  });
  const r53Errors = [...(opts.r53Errors ?? [])];
  let getChanges = 0;
  r53Mock.on(ChangeResourceRecordSetsCommand).callsFake(async () => {
    const err = r53Errors.shift();
    env.calls.push(`ChangeResourceRecordSets${err ? ` → ${err}` : ""}`);
    if (err) throw awsError(err, err === "Throttling" ? "Rate exceeded" : "The request was rejected because Route 53 was still processing a prior request.");
    return { ChangeInfo: { Id: "/change/C2ABC", Status: "PENDING", SubmittedAt: new Date(env.nowMs) } };
  });
  r53Mock.on(GetChangeCommand).callsFake(async () => {
    getChanges++;
    const status = getChanges >= 3 ? "INSYNC" : "PENDING";
    env.calls.push(`GetChange ${status}`);
    return { ChangeInfo: { Id: "/change/C2ABC", Status: status, SubmittedAt: new Date(env.nowMs) } };
  });
  env.deps = {
    latch: s3Latch({ bucket: "failover-state", region: "eu-central-1" }),
    db: rdsFailover(),
    metrics: cloudwatchMetrics(),
    dns: route53Dns({ sleep: async () => {}, random: () => 0.5 }),
    probe: httpProbe({ fetchImpl: (async () => new Response("ok", { status: 200 })) as typeof fetch }),
    warm: {
      warm: async () => {
        env.calls.push("warm");
        return { ok: true, summary: "3/3 URLs warmed" };
      },
    },
    notify: { notify: async (m) => void env.messages.push(m) },
    clock: { now: () => new Date(env.nowMs), sleep: async (ms) => void (env.nowMs += ms) },
  };
  return env;
}

async function drive(env: Env, cfg: FailoverConfig, event: FailoverInnerEvent): Promise<RunbookResult> {
  let r = await dispatchFailoverEvent(env.deps, cfg, event);
  for (let i = 0; r.next === "wait" && i < 100; i++) {
    env.nowMs += r.waitSeconds! * 1000;
    r = await dispatchFailoverEvent(env.deps, cfg, r.advance!);
  }
  return r;
}

const mutating = (calls: string[]) => calls.filter((c) => !c.startsWith("DescribeDBInstances orders-primary") && !c.startsWith("GetMetricData"));

describe("failover runbook against mocked AWS (real adapters)", () => {
  beforeEach(() => resetClients());
  afterEach(() => resetClients());

  it("issues the exact commands in order: promote → wait writable → UPSERT (throttled, retried) → GetChange until INSYNC", async () => {
    const env = setup({ r53Errors: ["Throttling", "PriorRequestNotComplete"] });

    const r = await drive(env, failoverConfig(), alarmEvent());

    expect(r.next).toBe("done");
    expect(mutating(env.calls)).toEqual([
      "DescribeDBInstances orders-dr", // pre-check
      "PromoteReadReplica",
      "DescribeDBInstances orders-dr", // modifying
      "DescribeDBInstances orders-dr", // available, not a replica → writable
      "DescribeDBInstances orders-dr", // re-checked right before DNS
      "ChangeResourceRecordSets → Throttling",
      "ChangeResourceRecordSets → PriorRequestNotComplete",
      "ChangeResourceRecordSets",
      "GetChange PENDING",
      "GetChange PENDING",
      "GetChange INSYNC",
      "warm",
    ]);
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(PromoteReadReplicaCommand, { DBInstanceIdentifier: "orders-dr" });
    expect(r53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 3);
    expect(r53Mock.commandCalls(ChangeResourceRecordSetsCommand)[2]!.args[0].input).toEqual({
      HostedZoneId: "Z0123456789ABC",
      ChangeBatch: {
        Comment: "ops-autopilot failover: switch to DR",
        Changes: [{ Action: "UPSERT", ResourceRecordSet: { Name: "db.example.com", Type: "CNAME", TTL: 60, ResourceRecords: [{ Value: DR_VALUE }] } }],
      },
    });
    expect(r53Mock).toHaveReceivedCommandWith(GetChangeCommand, { Id: "/change/C2ABC" });
    expect(cwMock).toHaveReceivedCommandWith(GetMetricDataCommand, {
      MetricDataQueries: [
        {
          Id: "lag",
          MetricStat: {
            Metric: { Namespace: "AWS/RDS", MetricName: "ReplicaLag", Dimensions: [{ Name: "DBInstanceIdentifier", Value: "orders-dr" }] },
            Period: 60,
            Stat: "Maximum",
          },
          ReturnData: true,
        },
      ],
    });
    const latch = JSON.parse(env.s3.objects.get(latchKey("orders-db"))!.body);
    expect(latch).toMatchObject({ state: "done", lagAtPromotionSeconds: 4 });
    expect(latch.steps.find((s: { name: string }) => s.name === "dns-change").reason).toContain("after 3 attempt(s)");
  });

  it("concurrent and duplicate alarm deliveries → one PromoteReadReplica and one accepted ChangeResourceRecordSets", async () => {
    const env = setup();
    const cfg = failoverConfig();
    await Promise.all([drive(env, cfg, alarmEvent("ALARM", { id: "x" })), drive(env, cfg, alarmEvent("ALARM", { id: "y" }))]);
    await drive(env, cfg, alarmEvent("ALARM", { id: "x" }));
    await drive(env, cfg, alarmEvent("ALARM", { id: "x" }));

    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
    expect(r53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
  });

  it("OK and INSUFFICIENT_DATA events make no AWS call", async () => {
    const env = setup();
    await drive(env, failoverConfig(), alarmEvent("OK"));
    await drive(env, failoverConfig(), alarmEvent("INSUFFICIENT_DATA"));
    expect(env.calls).toEqual([]);
    expect(env.s3.s3.calls()).toHaveLength(0);
  });

  it("lag above the RPO → refusal, no promotion, no DNS call", async () => {
    const env = setup({ lag: [30, 95, 61] });
    const r = await drive(env, failoverConfig(), alarmEvent());
    expect(r.reason).toContain("replica lag 95 s > RPO 60 s");
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 0);
    expect(r53Mock.calls()).toHaveLength(0);
  });

  it("promotion refused by RDS → no Route 53 call at all, critical alert with the AWS error", async () => {
    const env = setup({ promoteError: awsError("InvalidDBInstanceStateFault", "DB Instance is not a read replica.") });
    const r = await drive(env, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(r53Mock.calls()).toHaveLength(0);
    expect(env.messages.at(-1)!.text).toContain("promotion failed: InvalidDBInstanceStateFault: DB Instance is not a read replica.");
  });

  it("Route 53 throttled beyond the attempts → DNS step fails, database stays promoted, manual steps reported", async () => {
    const env = setup({ r53Errors: Array(8).fill("Throttling") });
    const r = await drive(env, failoverConfig(), alarmEvent());
    expect(r.next).toBe("failed");
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
    expect(r53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 8);
    const latch = JSON.parse(env.s3.objects.get(latchKey("orders-db"))!.body);
    expect(latch.failure.message).toContain("ChangeResourceRecordSets failed after 8 attempt(s): Throttling: Rate exceeded");
    expect(latch.failure.manualSteps.join("\n")).toContain("aws route53 change-resource-record-sets --hosted-zone-id Z0123456789ABC");
  });

  it("409 ConditionalRequestConflict on every latch create → critical Slack alert and a failed result, nothing promoted, nothing changed", async () => {
    const env = setup({ latchConflicts: 3 });

    const r = await drive(env, failoverConfig(), alarmEvent());

    expect(r).toMatchObject({ next: "failed", action: "latch-error", group: "orders-db" });
    expect(r.reason).toBe(
      "the latch could not be taken after 3 attempts (ConditionalRequestConflict: a concurrent write to s3://failover-state/failover/orders-db/latch.json was in progress (HTTP 409)): failover NOT started",
    );
    expect(env.s3.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.IfNoneMatch)).toEqual(["*", "*", "*"]);
    expect(env.s3.objects.size).toBe(0);
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 0);
    expect(r53Mock.calls()).toHaveLength(0);
    expect(env.messages.map((m) => m.text)).toEqual([
      "CRITICAL: failover orders-db NOT started: the latch could not be taken\nDirect invocation: no Step Functions execution · no run report written",
    ]);
  });

  it("one 409 on the latch create is retried: the failover starts and runs to the end", async () => {
    const env = setup({ latchConflicts: 1 });
    const r = await drive(env, failoverConfig(), alarmEvent());
    expect(r.next).toBe("done");
    expect(rdsMock).toHaveReceivedCommandTimes(PromoteReadReplicaCommand, 1);
    expect(env.messages.filter((m) => m.text.includes("CRITICAL"))).toEqual([]);
  });

  it("a second latch create loses with 412 and changes nothing", async () => {
    const env = setup();
    const cfg = failoverConfig();
    const latch = env.deps.latch;
    const first = await dispatchFailoverEvent(env.deps, cfg, alarmEvent());
    expect(first.next).toBe("wait");
    // Bypass the read so the create itself must be refused by S3.
    const lost = await latch.create("orders-db", JSON.parse(env.s3.objects.get(latchKey("orders-db"))!.body));
    expect(lost).toBeUndefined();
  });
});

describe("adapters", () => {
  beforeEach(() => {
    resetClients();
    rdsMock.reset();
    r53Mock.reset();
    cwMock.reset();
  });

  const aurora = () =>
    failoverConfig({
      primary: { kind: "aurora-cluster", id: "orders-eu-west", region: "eu-west-1" },
      replica: { kind: "aurora-cluster", id: "orders-eu-central", region: "eu-central-1" },
      globalClusterId: "orders-global",
    }).groups[0]!;

  it("Aurora: SwitchoverGlobalCluster when the primary answers, FailoverGlobalCluster with AllowDataLoss when not", async () => {
    const arn = "arn:aws:rds:eu-central-1:123456789012:cluster:orders-eu-central";
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterIdentifier: "orders-eu-central", DBClusterArn: arn, Status: "available" }] });
    rdsMock.on(SwitchoverGlobalClusterCommand).resolves({ GlobalCluster: { Status: "switching-over" } });
    rdsMock.on(FailoverGlobalClusterCommand).resolves({ GlobalCluster: { Status: "failing-over" } });
    const g = aurora();
    await rdsFailover().promote(g, "switchover");
    await rdsFailover().promote(g, "failover");
    expect(rdsMock).toHaveReceivedCommandWith(SwitchoverGlobalClusterCommand, { GlobalClusterIdentifier: "orders-global", TargetDbClusterIdentifier: arn });
    expect(rdsMock).toHaveReceivedCommandWith(FailoverGlobalClusterCommand, {
      GlobalClusterIdentifier: "orders-global",
      TargetDbClusterIdentifier: arn,
      AllowDataLoss: true,
    });
  });

  it("Aurora: the DR cluster is writable when it is the global writer and available", async () => {
    const arn = "arn:aws:rds:eu-central-1:123456789012:cluster:orders-eu-central";
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterArn: arn, Status: "available" }] });
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [{ Status: "available", GlobalClusterMembers: [{ DBClusterArn: arn, IsWriter: true }] }] });
    const obs = await rdsFailover().describeReplica(aurora());
    expect(obs).toMatchObject({ reachable: true, status: "available", isReplica: false, isWriter: true });
  });

  it("RDS: a throttled or refused describe is 'unknown' (no signal); a timeout or a 5xx is 'unreachable'", async () => {
    const g = failoverConfig().groups[0]!;
    const cases: [Error, boolean][] = [
      [new RDSServiceException({ name: "Throttling", $fault: "client", $metadata: { httpStatusCode: 400 }, message: "Rate exceeded" }), true],
      [new RDSServiceException({ name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "not authorized" }), true],
      [awsError("TimeoutError", "connect ETIMEDOUT"), false],
      [new RDSServiceException({ name: "InternalFailure", $fault: "server", $metadata: { httpStatusCode: 500 }, message: "internal" }), false],
      [new DBInstanceNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: "DBInstance orders-primary not found." }), false],
    ];
    for (const [err, unknown] of cases) {
      rdsMock.reset();
      rdsMock.on(DescribeDBInstancesCommand).rejects(err);
      const obs = await rdsFailover().describePrimary(g);
      expect({ name: err.name, reachable: obs.reachable, unknown: obs.unknown === true }).toEqual({ name: err.name, reachable: false, unknown });
    }
  });

  it("RDS: a promotion call that times out, throttles or gets a 5xx has an unknown outcome; a modeled refusal does not", async () => {
    const g = failoverConfig().groups[0]!;
    const cases: [Error, boolean][] = [
      [awsError("TimeoutError", "socket timed out"), true],
      [new RDSServiceException({ name: "Throttling", $fault: "client", $metadata: { httpStatusCode: 400 }, message: "Rate exceeded" }), true],
      [new RDSServiceException({ name: "InternalFailure", $fault: "server", $metadata: { httpStatusCode: 500 }, message: "internal" }), true],
      [new InvalidDBInstanceStateFault({ $metadata: { httpStatusCode: 400 }, message: "DB Instance is not a read replica." }), false],
      [new RDSServiceException({ name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "not authorized" }), false],
    ];
    for (const [err, outcomeUnknown] of cases) {
      rdsMock.reset();
      rdsMock.on(PromoteReadReplicaCommand).rejects(err);
      const thrown = await rdsFailover()
        .promote(g, "promote")
        .then(
          () => undefined,
          (e: unknown) => e as PromotionError,
        );
      expect({ name: err.name, outcomeUnknown: thrown?.outcomeUnknown }).toEqual({ name: err.name, outcomeUnknown });
    }
  });

  it("S3 latch: 412 on create means held (undefined); 409 ConditionalRequestConflict throws, never read as held", async () => {
    const { s3 } = mockConditionalS3({ conflicts: 1 });
    const latch = s3Latch({ bucket: "failover-state", region: "eu-central-1" });
    const rec = { runId: "r" } as unknown as RunRecord;
    await expect(latch.create("orders-db", rec)).rejects.toMatchObject({
      name: "LatchWriteError",
      message: expect.stringMatching(/^ConditionalRequestConflict: /),
    });
    expect(await latch.create("orders-db", rec)).toBe('"1"');
    expect(await latch.create("orders-db", rec)).toBeUndefined();
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
  });

  it("CloudWatch: a failed GetMetricData is 'failed', not 'no datapoints'", async () => {
    cwMock.on(GetMetricDataCommand).rejects(awsError("Throttling", "Rate exceeded"));
    expect(await cloudwatchMetrics().replicaLag(failoverConfig().groups[0]!, new Date())).toEqual({
      failed: true,
      detail: "GetMetricData failed: Throttling: Rate exceeded",
    });
    cwMock.reset();
    cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "lag", Values: [], Timestamps: [] }] });
    expect(await cloudwatchMetrics().replicaLag(failoverConfig().groups[0]!, new Date())).toEqual({ detail: "no ReplicaLag datapoint ≥ 0 in the last 5 min" });
  });

  it("an unreachable primary is an observation, not an exception", async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(awsError("TimeoutError", "connect ETIMEDOUT"));
    const obs = await rdsFailover().describePrimary(failoverConfig().groups[0]!);
    expect(obs.reachable).toBe(false);
    expect(obs.detail).toContain("TimeoutError");
  });

  it("Route 53: alias records carry no TTL; a non-retryable error fails at once", async () => {
    r53Mock
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(awsError("InvalidChangeBatch", "bad"))
      .resolves({ ChangeInfo: { Id: "/change/X", Status: "PENDING", SubmittedAt: new Date() } });
    const dns = failoverConfig({
      dns: {
        hostedZoneId: "/hostedzone/Z0123456789ABC",
        recordName: "app.example.com",
        recordType: "A",
        primary: { alias: { hostedZoneId: "Z32O12XQLNTSW2", dnsName: "primary-alb.eu-west-1.elb.amazonaws.com" } },
        dr: { alias: { hostedZoneId: "Z215JYRZR1TBD5", dnsName: "dr-alb.eu-central-1.elb.amazonaws.com" } },
      },
    }).groups[0]!.dns;
    const port = route53Dns({ sleep: async () => {} });
    await expect(port.upsert(dns, dns.dr)).rejects.toThrow("ChangeResourceRecordSets failed after 1 attempt(s): InvalidChangeBatch: bad");
    await port.upsert(dns, dns.dr);
    expect(r53Mock).toHaveReceivedNthCommandWith(ChangeResourceRecordSetsCommand, 2, {
      HostedZoneId: "Z0123456789ABC",
      ChangeBatch: {
        Comment: "ops-autopilot failover: switch to DR",
        Changes: [
          {
            Action: "UPSERT",
            ResourceRecordSet: {
              Name: "app.example.com",
              Type: "A",
              AliasTarget: { HostedZoneId: "Z215JYRZR1TBD5", DNSName: "dr-alb.eu-central-1.elb.amazonaws.com", EvaluateTargetHealth: false },
            },
          },
        ],
      },
    });
  });

  it("Route 53: currentValue reads the record back (trailing dot, case)", async () => {
    r53Mock.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [{ Name: "DB.example.com.", Type: "CNAME", TTL: 60, ResourceRecords: [{ Value: DR_VALUE }] }],
      IsTruncated: true,
      MaxItems: 1,
    });
    const dns = failoverConfig().groups[0]!.dns;
    expect(await route53Dns().currentValue(dns)).toEqual({ values: [DR_VALUE] });
    expect(r53Mock).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, {
      HostedZoneId: "Z0123456789ABC",
      StartRecordName: "db.example.com",
      StartRecordType: "CNAME",
      MaxItems: 1,
    });
  });

  it("CloudWatch: paginates GetMetricData, ignores -1, converts Aurora ms to s", async () => {
    cwMock
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: "lag", Values: [-1, 800], Timestamps: [new Date(), new Date()] }], NextToken: "t" })
      .resolvesOnce({ MetricDataResults: [{ Id: "lag", Values: [1200], Timestamps: [new Date()] }] });
    const lag = await cloudwatchMetrics().replicaLag(aurora(), new Date());
    expect(lag.seconds).toBe(1.2);
    expect(cwMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cwMock).toHaveReceivedNthCommandWith(GetMetricDataCommand, 2, { NextToken: "t" });
  });

  it("health probe: timeout and non-2xx are unhealthy, with the reason", async () => {
    const slow = httpProbe({
      fetchImpl: ((_u: string, init: RequestInit) =>
        new Promise((_, rej) => init.signal!.addEventListener("abort", () => rej(init.signal!.reason)))) as unknown as typeof fetch,
    });
    expect(await slow.check("https://dr.example.com/health", 20)).toMatchObject({ ok: false, detail: "dr.example.com no answer within 20 ms" });
    const bad = httpProbe({ fetchImpl: (async () => new Response("", { status: 503 })) as typeof fetch });
    expect(await bad.check("https://dr.example.com/health", 1000)).toMatchObject({ ok: false, status: 503 });
  });
});
