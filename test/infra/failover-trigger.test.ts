import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { loadConfig } from "../../stacks/config.ts";
import { deployedFunctions, FUNCTIONS } from "../../stacks/functions.ts";
import { managedBy } from "../../stacks/iam.ts";
import { failoverEventPattern } from "../../stacks/patterns.ts";
import { allowedActions, lintPolicy, type PolicyDocument } from "../../stacks/policy-lint.ts";
import { ROOT } from "./builders.ts";
import { inputs, named, ofType, runSynth } from "./synth-run.ts";

/**
 * The failover trigger kit in the offline synth (scripts/sst-synth.ts) of a stage built here (not config/example.json):
 * a group with its own alarm and a trigger (probe of the app URL and the database port, in a VPC), a group with
 * only a trigger: the probe function and its schedule in the DR region, one alarm per group, and the runbook's
 * rule matching those alarms' names; and the same stage with bring-your-own alarms only, which deploys no probe.
 */

const DR = "eu-central-1";
const VPC = { subnetIds: ["subnet-0aaa1111", "subnet-0bbb2222"], securityGroupIds: ["sg-0ccc3333"] };

/** A group of the kit's stage: the primary in eu-west-1, its read replica in the DR region. */
function group(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    primary: { kind: "rds-instance", id: name, region: "eu-west-1" },
    replica: { kind: "rds-instance", id: `${name}-dr`, region: DR },
    dns: {
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
      recordName: `${name}.example.com`,
      primary: { values: [`${name}.abcdefghijkl.eu-west-1.rds.amazonaws.com`] },
      dr: { values: [`${name}-dr.abcdefghijkl.${DR}.rds.amazonaws.com`] },
    },
    healthUrl: `https://dr.example.com/${name}/health`,
    ...extra,
  };
}

/**
 * The kit's stage, independent of config/example.json: one group with its own alarm and a trigger probing the app
 * and the database port, one with only a trigger (database port), the probe in a VPC.
 */
function triggeredConfigFile(): string {
  const config = {
    primaryRegion: "eu-west-1",
    drRegions: [{ region: DR, kmsKeyId: `arn:aws:kms:${DR}:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab` }],
    backup: { policies: [{ name: "databases", selection: { tag: {} } }] },
    failover: {
      groups: [
        group("orders-db", {
          alarms: ["orders-db-primary-down"],
          trigger: { probe: { url: "https://eu-west-1.example.com/health", tcp: { host: "orders-db.abcdefghijkl.eu-west-1.rds.amazonaws.com", port: 5432 } } },
        }),
        group("billing-db", { trigger: { probe: { tcp: { host: "billing-db.abcdefghijkl.eu-west-1.rds.amazonaws.com", port: 5432 } } } }),
      ],
      probeVpc: VPC,
    },
  };
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-trigger-config-")), "triggered.json");
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** The same stage with bring-your-own alarms only. */
function byoConfigFile(): string {
  const raw = JSON.parse(readFileSync(configFile, "utf8")) as { failover: { groups: Record<string, unknown>[]; probeVpc?: unknown } };
  raw.failover.groups = [group("orders-db", { alarms: ["orders-db-primary-down"] })];
  delete raw.failover.probeVpc;
  const file = path.join(path.dirname(configFile), "byo.json");
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

let kit: SynthResult;
let plain: SynthResult;
let configFile: string;
let byoFile: string;

beforeAll(() => {
  configFile = triggeredConfigFile();
  kit = runSynth("ci", configFile);
  byoFile = byoConfigFile();
  plain = runSynth("ci", byoFile);
}, 240_000);

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** Does an EventBridge pattern of the shape failoverEventPattern builds match this alarm state change? */
function matches(
  pattern: { source: string[]; "detail-type": string[]; detail: { alarmName: string[]; state: { value: string[] } } },
  alarmName: string,
  state: string,
): boolean {
  return (
    pattern.source.includes("aws.cloudwatch") &&
    pattern["detail-type"].includes("CloudWatch Alarm State Change") &&
    pattern.detail.alarmName.includes(alarmName) &&
    pattern.detail.state.value.includes(state)
  );
}

describe("failover trigger kit in the offline synth", () => {
  it("synthesizes without errors, bundling the probe from functions/probe.ts", () => {
    expect(kit.errors).toEqual([]);
    // Every function but the restore test and its checker (no policy of this configuration has a restoreTest block).
    expect(kit.builds.map((b) => b.file).sort()).toEqual(
      // Nor the vault stage's functions, which the vault stage deploys in the backup account, nor the fleet's, deployed
      // only with a `fleet` section, which this configuration has not.
      FUNCTIONS.filter((f) => f.stage === undefined && f.trigger.kind !== "fleet-fanout" && f.name !== "restore-test" && f.name !== "restore-test-checker")
        .map((f) => f.handler.replace(/\.handler$/, ".ts"))
        .sort(),
    );
  });

  it("deploys the probe in the DR region, in the configured VPC, with the VPC execution policy", () => {
    const fn = named(kit, "aws:lambda/function:Function", "ProbeFunction");
    expect(fn.region).toBe(DR);
    expect(inputs(fn)).toMatchObject({ memorySize: 256, timeout: 45, vpcConfig: { subnetIds: VPC.subnetIds, securityGroupIds: VPC.securityGroupIds } });
    expect(inputs(named(kit, "aws:iam/role:Role", "ProbeRole")).managedPolicyArns).toEqual([
      "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    ]);
  });

  it("runs the probe every minute from EventBridge Scheduler with the scheduled input and no retries", () => {
    const s = named(kit, "aws:scheduler/schedule:Schedule", "ProbeScheduleSchedule");
    expect(s.region).toBe(DR);
    expect(inputs(s)).toMatchObject({ scheduleExpression: "rate(1 minute)", flexibleTimeWindow: { mode: "OFF" } });
    expect(inputs(s).target.arn).toMatch(/:function:probefunction$/);
    expect(JSON.parse(inputs(s).target.input)).toEqual({ trigger: "schedule" });
    expect(inputs(s).target.retryPolicy).toEqual({ maximumRetryAttempts: 0 });
  });

  it("alarms per group on 3 of 4 one-minute periods of failed probes, missing data not breaching, in the DR region", () => {
    for (const [resource, group] of [
      ["FailoverTriggerOrdersDbAlarm", "orders-db"],
      ["FailoverTriggerBillingDbAlarm", "billing-db"],
    ] as const) {
      const alarm = named(kit, ALARM, resource);
      expect(alarm.region).toBe(DR);
      expect(inputs(alarm)).toMatchObject({
        name: `ops-autopilot-ci-failover-${group}-primary-down`,
        namespace: "ops-autopilot-ci/failover-probe",
        metricName: "PrimaryProbeFailed",
        dimensions: { group },
        statistic: "Minimum",
        period: 60,
        evaluationPeriods: 4,
        datapointsToAlarm: 3,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      });
      expect(inputs(alarm).alarmDescription).toContain("(detected within 247 s)");
    }
  });

  it("wires both trigger alarms and the bring-your-own alarm to the state machine's rule", () => {
    const rule = named(kit, "aws:cloudwatch/eventRule:EventRule", "FailoverAlarmRule");
    expect(rule.region).toBe(DR);
    const pattern = JSON.parse(inputs(rule).eventPattern);
    expect(pattern).toEqual(
      failoverEventPattern(["ops-autopilot-ci-failover-billing-db-primary-down", "ops-autopilot-ci-failover-orders-db-primary-down", "orders-db-primary-down"]),
    );
    for (const a of ofType(kit, ALARM).filter((x) => /^FailoverTrigger/.test(x.name))) {
      expect(matches(pattern, inputs(a).name, "ALARM")).toBe(true);
      expect(matches(pattern, inputs(a).name, "OK")).toBe(false);
    }
    expect(inputs(named(kit, "aws:cloudwatch/eventTarget:EventTarget", "FailoverAlarmTarget")).arn).toMatch(/:stateMachine:failoverstatemachine$/);
    // No forwarding rule: every alarm is evaluated in the control region.
    expect(ofType(kit, "aws:cloudwatch/eventRule:EventRule").filter((r) => r.name.startsWith("FailoverForward"))).toEqual([]);
  });

  it("lets the probe's role publish only in its stage's namespace and DR region, and passes the least-privilege lint", () => {
    const role = named(kit, "aws:iam/role:Role", "ProbeRole");
    const docs = ((inputs(role).inlinePolicies ?? []) as { policy: string }[]).map((p) => JSON.parse(p.policy) as PolicyDocument);
    expect(docs.flatMap(allowedActions).sort()).toEqual(["cloudwatch:PutMetricData", "sqs:SendMessage"]);
    const put = docs.flatMap((d) => d.Statement).find((s) => allowedActions({ Statement: [s] } as PolicyDocument).includes("cloudwatch:PutMetricData"))!;
    expect(put).toMatchObject({
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "ops-autopilot-ci/failover-probe", "aws:RequestedRegion": DR } },
    });
    const config = loadConfig("ops-autopilot", "ci", ROOT, { OPS_AUTOPILOT_CONFIG_FILE: configFile });
    for (const doc of docs) expect(lintPolicy(doc, { managedBy: managedBy(config), mayPromote: false, allowedKmsResources: [] })).toEqual([]);
  });

  it("tells Slack when the probe fails or stops running, never the runbook", () => {
    const names = ofType(kit, ALARM).map((a) => inputs(a).name as string);
    expect(names).toEqual(expect.arrayContaining(["ops-autopilot-ci-probe-errors", "ops-autopilot-ci-failover-probe-silent"]));
    const silent = inputs(named(kit, ALARM, "ProbeSilentAlarm"));
    expect(silent).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "Invocations",
      statistic: "Sum",
      period: 300,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    const rulePattern = JSON.parse(inputs(named(kit, "aws:cloudwatch/eventRule:EventRule", "FailoverAlarmRule")).eventPattern);
    expect(rulePattern.detail.alarmName).not.toContain("ops-autopilot-ci-failover-probe-silent");
    expect(rulePattern.detail.alarmName).not.toContain("ops-autopilot-ci-probe-errors");
  });

  it("deploys no probe and no trigger alarm when no group has a trigger (bring-your-own alarms alone)", () => {
    expect(plain.errors).toEqual([]);
    const config = loadConfig("ops-autopilot", "ci", ROOT, { OPS_AUTOPILOT_CONFIG_FILE: byoFile });
    const deployed = deployedFunctions(config).map((f) => f.name);
    expect(
      plain.resources
        .filter((r) => r.type === "aws:lambda/function:Function")
        .map((r) => r.name.replace(/Function$/, "").toLowerCase())
        .sort(),
    ).toEqual([...deployed].sort());
    expect(deployed).not.toContain("probe");
    expect(deployed).toContain("failover");
    expect(ofType(plain, ALARM).filter((a) => /Trigger|ProbeSilent/.test(a.name))).toEqual([]);
    expect(JSON.parse(inputs(named(plain, "aws:cloudwatch/eventRule:EventRule", "FailoverAlarmRule")).eventPattern)).toEqual(
      failoverEventPattern(["orders-db-primary-down"]),
    );
  });
});
