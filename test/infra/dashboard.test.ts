import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { type DashboardBody, dashboardBody, dashboardName, type DashboardInput } from "../../stacks/dashboard-body.ts";
import { restoreTestCheckers } from "../../schemas/config-restore-test.ts";
import { checkerComponent } from "../../stacks/restore-test-schedules.ts";
import { deployedFunctions } from "../../stacks/functions.ts";
import { controlRegion } from "../../stacks/patterns.ts";
import { exampleConfig } from "./builders.ts";
import { inputs, named, ofType, runSynth } from "./synth-run.ts";

/**
 * The stage's dashboard in the offline synth of the `ci` stage (stacks/dashboard.ts): created in the failover control
 * region, its body the one stacks/dashboard-body.ts builds from the names the synth gave the functions, log groups,
 * dead-letter queues and state machines, and its alarm widgets listing exactly the alarms the stacks declare.
 */

let synth: SynthResult;
const config = exampleConfig();
const DEPLOYED = deployedFunctions(config);
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** SST ids of each deployed function: one checker per restore region that needs one. */
const IDS = DEPLOYED.flatMap((spec) =>
  spec.name === "restore-test-checker"
    ? [...restoreTestCheckers(config.backup.policies, config).byRegion.keys()].map((r) => ({ name: spec.name, id: checkerComponent(r) }))
    : [{ name: spec.name, id: cap(spec.name) }],
);

beforeAll(() => {
  synth = runSynth("ci");
}, 240_000);

const dashboard = () => named(synth, "aws:cloudwatch/dashboard:Dashboard", "OpsDashboard");
const body = () => JSON.parse(inputs(dashboard()).dashboardBody as string) as DashboardBody;
const titled = (title: RegExp) => body().widgets.filter((w) => title.test(String(w.properties.title)));
/** The failover state machine's ARN, as stacks/main.ts outputs it. */
const failoverArn = () => (synth.outputs as { failoverStateMachine: string }).failoverStateMachine;
const deployedName = (id: string) => inputs(named(synth, "aws:lambda/function:Function", `${id}Function`)).name as string;
/** The restore-test state machine's ARN: the synth names it like the failover one. */
const restoreTestArn = () => failoverArn().replace(/failoverstatemachine$/, "restoreteststatemachine");

describe("dashboard in the offline synth", () => {
  it("is one dashboard, in the failover control region, named inside the stage's prefix", () => {
    expect(synth.errors).toEqual([]);
    expect(ofType(synth, "aws:cloudwatch/dashboard:Dashboard")).toHaveLength(1);
    expect(dashboard().region).toBe(controlRegion(config));
    expect(dashboard().region).not.toBe(config.primaryRegion);
    expect(inputs(dashboard()).dashboardName).toBe("ops-autopilot-ci-overview");
    expect(dashboardName(config)).toBe("ops-autopilot-ci-overview");
  });

  it("is the body stacks/dashboard-body.ts builds from the synth's names", () => {
    const fnRows = IDS.map(({ name, id }) => {
      const fn = named(synth, "aws:lambda/function:Function", `${id}Function`);
      return { name, functionName: inputs(fn).name as string, region: fn.region, logGroup: inputs(fn).loggingConfig.logGroup as string };
    });
    const queues = ofType(synth, "aws:sqs/queue:Queue").map((q) => ({
      name: q.name.replace(/Queue$/, ""),
      queueName: inputs(q).name as string,
      region: q.region,
    }));
    const arn = failoverArn();
    const input: DashboardInput = {
      account: "123456789012",
      partition: "aws",
      functions: fnRows,
      deadLetterQueues: queues,
      stateMachines: [
        { runbook: "failover", arn, region: arn.split(":")[3]! },
        { runbook: "restore-test", arn: restoreTestArn(), region: arn.split(":")[3]! },
      ],
    };
    expect(body()).toEqual(dashboardBody(config, input));
  });

  it("charts errors and duration of every deployed function by its deployed name, in its region", () => {
    const plotted = titled(/^Lambda (errors|duration)/).flatMap((w) =>
      (w.properties.metrics as string[][]).map((m) => `${m[1]} ${m[3]} ${w.properties.region}`),
    );
    const expected = IDS.flatMap(({ id }) => {
      const region = named(synth, "aws:lambda/function:Function", `${id}Function`).region;
      return [`Errors ${deployedName(id)} ${region}`, `Duration ${deployedName(id)} ${region}`];
    });
    expect(plotted.sort()).toEqual(expected.sort());
  });

  it("queries the decisions in each function's log group, in the function's region", () => {
    const sources = titled(/^Decisions/).flatMap((w) =>
      [...String(w.properties.query).matchAll(/SOURCE '([^']+)'/g)].map((m) => `${m[1]} ${w.properties.region}`),
    );
    const groups = IDS.map(({ id }) => {
      const lg = named(synth, "aws:cloudwatch/logGroup:LogGroup", `${id}LogGroup`);
      return `${inputs(lg).name} ${lg.region}`;
    });
    expect(sources.sort()).toEqual(groups.sort());
  });

  it("charts the depth of every dead-letter queue the stacks create", () => {
    const plotted = titled(/^Dead-letter/).flatMap((w) => (w.properties.metrics as string[][]).map((m) => `${m[3]} ${w.properties.region}`));
    expect(plotted.sort()).toEqual(
      ofType(synth, "aws:sqs/queue:Queue")
        .map((q) => `${inputs(q).name} ${q.region}`)
        .sort(),
    );
  });

  it("charts started and failed executions of the failover and restore-test state machines", () => {
    const widgets = titled(/executions/);
    expect(widgets.map((w) => (w.properties.metrics as string[][]).map((m) => [m[0], m[1], m[3]]))).toEqual(
      [failoverArn(), restoreTestArn()].map((arn) => [
        ["AWS/States", "ExecutionsStarted", arn],
        ["AWS/States", "ExecutionsFailed", arn],
      ]),
    );
  });

  it("lists exactly the alarms the stacks declare, each by the ARN of its region", () => {
    const listed = body()
      .widgets.filter((w) => w.type === "alarm")
      .flatMap((w) => w.properties.alarms as string[]);
    const declared = ofType(synth, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => `arn:aws:cloudwatch:${a.region}:123456789012:alarm:${inputs(a).name}`);
    expect(listed.sort(), "an alarm the stacks declare is missing from stacks/dashboard-body.ts ourAlarms (or one listed there is not declared)").toEqual(
      declared.sort(),
    );
  });

  it("draws the freshness and RPO lines of the example's configuration", () => {
    const [age] = titled(/^Backup age/);
    expect((age!.properties.annotations as { horizontal: { value: number }[] }).horizontal.map((h) => h.value)).toEqual([25, 26]);
    const [lag] = titled(/ReplicaLag/);
    expect(lag!.properties.annotations).toMatchObject({ horizontal: [{ value: 60, label: "RPO 60 s" }] });
  });
});
