import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { policyDocument } from "../../stacks/durable-runbook-definition.ts";
import { fleetFanoutDefinition, fleetItems, fleetStateMachineStatements } from "../../stacks/fleet-fanout-definition.ts";
import { ROOT } from "./builders.ts";

// The component references SST's platform types (.sst/platform/config.d.ts), which carry their own @types/node: a
// computed specifier keeps them out of this program; tsconfig.infra.json type-checks the component itself.
const COMPONENT = "../../stacks/fleet-fanout.ts";
const { fleetFanout } = (await import(COMPONENT)) as { fleetFanout: (config: Config, args: unknown) => Record<string, unknown> | undefined };

/**
 * The SST component of the fleet fan-out (stacks/fleet-fanout.ts) with Pulumi's Output, `$resolve` and the `aws`
 * provider global replaced by recording fakes: per fleet job it declares the state machine with exactly the definition
 * of stacks/fleet-fanout-definition.ts, its role, log group, schedule and alarm; nothing without a fleet.
 */

interface FakeOutput<T> {
  value: T;
  apply<U>(f: (v: T) => U): FakeOutput<U>;
}
const output = <T>(value: T): FakeOutput<T> => ({ value, apply: (f) => output(f(value)) });
const unwrap = (v: unknown): unknown => (v && typeof v === "object" && "apply" in v ? (v as FakeOutput<unknown>).value : v);

interface Declared {
  type: string;
  name: string;
  args: Record<string, unknown>;
}

const CENTRAL = "999988887777";

function withFakeAws(): Declared[] {
  const declared: Declared[] = [];
  const resource = (type: string, arnOf: (name: string, args: Record<string, unknown>) => string) =>
    class {
      arn: FakeOutput<string>;
      constructor(name: string, args: Record<string, unknown>) {
        declared.push({ type, name, args });
        this.arn = output(arnOf(name, args));
      }
    };
  const g = globalThis as Record<string, unknown>;
  g.aws = {
    iam: { Role: resource("Role", (n) => `arn:aws:iam::${CENTRAL}:role/${n}`) },
    cloudwatch: {
      LogGroup: resource("LogGroup", (_, a) => `arn:aws:logs:eu-west-1:${CENTRAL}:log-group:${a.name as string}`),
      MetricAlarm: resource("MetricAlarm", (n) => `alarm:${n}`),
    },
    sfn: { StateMachine: resource("StateMachine", (_, a) => `arn:aws:states:eu-west-1:${CENTRAL}:stateMachine:${a.name as string}`) },
    scheduler: { Schedule: resource("Schedule", (n) => `schedule:${n}`) },
  };
  g.$resolve = (values: Record<string, unknown>) => output(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, unwrap(v)])));
  return declared;
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>).aws;
  delete (globalThis as Record<string, unknown>).$resolve;
});

function config(fleet: boolean): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown> & { backup: Record<string, unknown> };
  raw.drRegions = [{ region: "eu-central-1", kmsKeyId: "alias/ops-autopilot-dr" }];
  raw.backup.sourceKmsKeyIds = ["arn:aws:kms:eu-west-1:123456789012:alias/databases"];
  if (fleet) raw.fleet = { accounts: [{ id: "111122223333", name: "payments", externalId: "oa-prod-payments-7f3c" }] };
  return parseConfig({ ...raw, app: "ops-autopilot", stage: "prod" });
}

const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:${CENTRAL}:function:ops-autopilot-prod-${name}`;
const args = () => ({
  identity: output({ account: CENTRAL, partition: "aws" }),
  jobs: {
    backup: { arn: output(fnArn("backup")) },
    copy: { arn: output(fnArn("copy")) },
    prune: { arn: output(fnArn("prune")) },
    watchdog: { arn: output(fnArn("watchdog")) },
  },
  summary: { arn: output(fnArn("fleet-summary")) },
  dlq: { arn: output(`arn:aws:sqs:eu-west-1:${CENTRAL}:dead-letters`) },
});

describe("fleet fan-out SST component", () => {
  it("declares nothing without a fleet", () => {
    const declared = withFakeAws();
    expect(fleetFanout(config(false), args())).toBeUndefined();
    expect(declared).toEqual([]);
  });

  it("declares per fleet job a named Standard state machine with exactly the Distributed Map definition, its role, logs, schedule and alarm", () => {
    const declared = withFakeAws();
    const cfg = config(true);
    const out = fleetFanout(cfg, args());
    expect(Object.keys(out!)).toEqual(["backup", "copy", "prune", "watchdog"]);
    expect(declared.filter((d) => d.type === "StateMachine").map((d) => d.name)).toEqual([
      "FleetBackupStateMachine",
      "FleetCopyStateMachine",
      "FleetPruneStateMachine",
      "FleetWatchdogStateMachine",
    ]);
    const sm = declared.find((d) => d.name === "FleetPruneStateMachine")!;
    expect(sm.args.name).toBe("ops-autopilot-prod-fleet-prune");
    expect(sm.args.type).toBe("STANDARD");
    expect(unwrap(sm.args.roleArn)).toBe(`arn:aws:iam::${CENTRAL}:role/FleetPruneStateMachineRole`);
    expect(JSON.parse(unwrap(sm.args.definition) as string)).toEqual(
      fleetFanoutDefinition({
        job: "prune",
        jobFunctionArn: fnArn("prune"),
        summaryFunctionArn: fnArn("fleet-summary"),
        items: fleetItems(cfg, "aws", "prune"),
      }),
    );
    expect(unwrap(sm.args.loggingConfiguration)).toEqual({
      level: "ALL",
      includeExecutionData: true,
      logDestination: `arn:aws:logs:eu-west-1:${CENTRAL}:log-group:/aws/vendedlogs/states/ops-autopilot-prod-fleet-prune:*`,
    });

    const role = declared.find((d) => d.name === "FleetPruneStateMachineRole")!;
    const policy = JSON.parse(unwrap((role.args.inlinePolicies as { policy: unknown }[])[0]!.policy) as string);
    expect(policy).toEqual(
      policyDocument(
        fleetStateMachineStatements({
          jobFunction: fnArn("prune"),
          summaryFunction: fnArn("fleet-summary"),
          stateMachine: `arn:aws:states:eu-west-1:${CENTRAL}:stateMachine:ops-autopilot-prod-fleet-prune`,
          logGroup: `arn:aws:logs:eu-west-1:${CENTRAL}:log-group:/aws/vendedlogs/states/ops-autopilot-prod-fleet-prune`,
        }),
      ),
    );

    const schedule = declared.find((d) => d.name === "FleetPruneSchedule")!;
    expect(schedule.args).toMatchObject({
      name: "ops-autopilot-prod-fleet-prune",
      scheduleExpression: cfg.schedules.prune,
      scheduleExpressionTimezone: cfg.schedules.timezones.prune ?? cfg.timezone,
      flexibleTimeWindow: { mode: "OFF" },
    });
    const target = schedule.args.target as Record<string, unknown>;
    expect(unwrap(target.arn)).toBe(`arn:aws:states:eu-west-1:${CENTRAL}:stateMachine:ops-autopilot-prod-fleet-prune`);
    expect(target.input).toBe('{"trigger":"schedule"}');
    expect(unwrap(target.roleArn)).toBe(`arn:aws:iam::${CENTRAL}:role/FleetPruneScheduleRole`);

    const alarm = declared.find((d) => d.name === "FleetPruneExecutionsFailedAlarm")!;
    expect(alarm.args).toMatchObject({ name: "ops-autopilot-prod-fleet-prune-executions-failed", namespace: "AWS/States", metricName: "ExecutionsFailed" });
    expect(declared.filter((d) => d.name.startsWith("FleetPrune")).map((d) => `${d.type} ${d.name}`)).toEqual([
      "LogGroup FleetPruneStateMachineLogs",
      "Role FleetPruneStateMachineRole",
      "StateMachine FleetPruneStateMachine",
      "Role FleetPruneScheduleRole",
      "Schedule FleetPruneSchedule",
      "MetricAlarm FleetPruneExecutionsFailedAlarm",
    ]);
  });
});
