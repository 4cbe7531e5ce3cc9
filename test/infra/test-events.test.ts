import { readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { alarmCount } from "../../scripts/cost-to-run.ts";
import { deployedFunction } from "../../scripts/invoke.ts";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { deployerPolicy } from "../../stacks/deployer.ts";
import { deployedFunctions, FUNCTIONS, type FunctionName } from "../../stacks/functions.ts";
import {
  readSampleFiles,
  registryMode,
  sampleEventsByFunction,
  TEST_EVENT_REGISTRY,
  testEventDocument,
  testEventSchemaName,
} from "../../stacks/test-event-documents.ts";
import { exampleConfig, ROOT } from "./builders.ts";
import { runSynth } from "./synth-run.ts";

/**
 * The samples of events/ deployed as the Lambda console's shareable test events (stacks/test-events.ts),
 * and the SST outputs `npm run invoke` reads (stacks/main.ts), checked on the offline synth.
 * Shareable test events: https://docs.aws.amazon.com/lambda/latest/dg/testing-functions.html#creating-shareable-events
 */

describe("shareable test events: the document of a function", () => {
  it("holds each sample under components.examples, named by the file name without the function prefix", () => {
    const samples = sampleEventsByFunction([
      { file: "prune-scheduled.json", text: '{"trigger":"schedule"}' },
      { file: "prune-dry-run.json", text: '{ "trigger": "manual", "dryRun": true }' },
      { file: "warm-manual.json", text: '{"trigger":"manual"}' },
    ]);
    expect(testEventDocument(samples.prune)).toEqual({
      openapi: "3.0.0",
      info: { version: "1.0.0", title: "Event" },
      paths: {},
      components: {
        schemas: { Event: { type: "object" } },
        examples: {
          "dry-run": { value: { trigger: "manual", dryRun: true } },
          scheduled: { value: { trigger: "schedule" } },
        },
      },
    });
    expect(samples.warm).toEqual([{ name: "manual", value: { trigger: "manual" } }]);
    expect(samples.watchdog).toEqual([]);
  });

  it("gives every file of events/ to the function its name starts with (warm- is not watchdog-)", () => {
    const samples = sampleEventsByFunction(readSampleFiles(ROOT));
    const files = readdirSync(path.join(ROOT, "events")).filter((f) => f.endsWith(".json"));
    for (const f of FUNCTIONS) {
      const expected = files
        .filter((file) => file.startsWith(`${f.name}-`))
        .map((file) => file.slice(f.name.length + 1, -".json".length))
        .sort();
      expect(samples[f.name].map((e) => e.name).sort()).toEqual(expected);
    }
    expect(Object.values(samples).flat()).toHaveLength(files.length);
  });

  it("refuses a sample that belongs to no function, and one that is not JSON", () => {
    expect(() => sampleEventsByFunction([{ file: "orders-manual.json", text: "{}" }])).toThrow(
      `events/orders-manual.json belongs to no function: name it <function>-<event>.json (${FUNCTIONS.map((f) => f.name).join(", ")})`,
    );
    expect(() => sampleEventsByFunction([{ file: "cost-bad.json", text: "{" }])).toThrow(/^events\/cost-bad\.json is not valid JSON: /);
  });

  it("names the schema _<function name>-schema, and reads the registry mode from the deploy environment", () => {
    expect(testEventSchemaName("ops-autopilot-dev-BackupFunction-abc")).toBe("_ops-autopilot-dev-BackupFunction-abc-schema");
    expect(registryMode({})).toBe("existing");
    expect(registryMode({ OPS_AUTOPILOT_TEST_EVENT_REGISTRY: "create" })).toBe("create");
    expect(() => registryMode({ OPS_AUTOPILOT_TEST_EVENT_REGISTRY: "yes" })).toThrow(
      'OPS_AUTOPILOT_TEST_EVENT_REGISTRY="yes": expected one of existing, create, off',
    );
  });
});

describe("shareable test events: the deployer's IAM", () => {
  const target = { account: "123456789012", partition: "aws", prefix: "ops-autopilot-ci-" };
  const allows = (policy: ReturnType<typeof deployerPolicy>, action: string, arn: string) =>
    policy.Statement.some(
      (st) => st.Action.includes(action) && st.Resource.some((r) => new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`).test(arn)),
    );

  it("lets the deployer write the schemas into lambda-testevent-schemas, and create that registry", () => {
    const policy = deployerPolicy(["aws:schemas/schema:Schema", "aws:schemas/registry:Registry"], target);
    const schema = `arn:aws:schemas:eu-west-1:123456789012:schema/${TEST_EVENT_REGISTRY}/${testEventSchemaName("ops-autopilot-ci-BackupFunction-abcdefgh")}`;
    for (const action of ["schemas:CreateSchema", "schemas:UpdateSchema", "schemas:DescribeSchema", "schemas:DeleteSchema"])
      expect(allows(policy, action, schema), action).toBe(true);
    expect(allows(policy, "schemas:CreateRegistry", `arn:aws:schemas:eu-central-1:123456789012:registry/${TEST_EVENT_REGISTRY}`)).toBe(true);
    // another stage's or a person's events in the shared registry stay out of reach
    expect(allows(policy, "schemas:DeleteSchema", `arn:aws:schemas:eu-west-1:123456789012:schema/${TEST_EVENT_REGISTRY}/_orders-api-schema`)).toBe(false);
  });
});

describe("offline synth: test events and the outputs npm run invoke reads", () => {
  let existing: SynthResult;
  let created: SynthResult;
  const config = exampleConfig();
  const samples = sampleEventsByFunction(readSampleFiles(ROOT));

  beforeAll(() => {
    existing = runSynth("ci");
    created = runSynth("ci", "config/example.json", { OPS_AUTOPILOT_TEST_EVENT_REGISTRY: "create" });
  }, 400_000);

  const fnOutputs = (r: SynthResult) => (r.outputs as { functions: Record<string, { name: string; region: string }> }).functions;

  it("outputs the app, the stage and each function's deployed name and region (failover in the DR region)", () => {
    expect(existing.errors).toEqual([]);
    const outputs = existing.outputs as Record<string, unknown>;
    expect(outputs.app).toBe("ops-autopilot");
    expect(outputs.stage).toBe("ci");
    const drRegion = outputs.failoverRegion;
    // The restore-test checker is not an output: the restore test invokes it, one per region, with a throwaway's host.
    const invocable = deployedFunctions(config).filter((f) => f.name !== "restore-test-checker");
    expect(Object.keys(fnOutputs(existing)).sort()).toEqual(invocable.map((f) => f.name).sort());
    for (const f of invocable) {
      const target = deployedFunction(existing.outputs, "ci", f.name);
      expect(target.region).toBe(f.region === "dr" ? drRegion : config.primaryRegion);
      const fn = existing.resources.find(
        (r) => r.type === "aws:lambda/function:Function" && r.name === `${f.name.charAt(0).toUpperCase()}${f.name.slice(1)}Function`,
      );
      expect(fn?.region).toBe(target.region);
    }
  });

  it("counts the alarms npm run cost-to-run bills as the synth declares them", () => {
    expect(alarmCount(config)).toBe(existing.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").length);
  });

  it("deploys one OpenApi3 schema per function, in its region, into the existing registry, with the exact document", () => {
    const schemas = existing.resources.filter((r) => r.type === "aws:schemas/schema:Schema");
    const withSamples = deployedFunctions(config)
      .filter((f) => samples[f.name].length > 0)
      .map((f) => f.name);
    expect(schemas.map((s) => s.name).sort()).toEqual(withSamples.map((n) => `${n.charAt(0).toUpperCase()}${n.slice(1)}TestEvents`).sort());
    for (const name of withSamples as FunctionName[]) {
      const s = schemas.find((r) => r.name.toLowerCase() === `${name}testevents`)!;
      const out = fnOutputs(existing)[name]!;
      expect(s.region).toBe(out.region);
      expect(s.inputs).toMatchObject({
        name: `_${out.name}-schema`,
        registryName: TEST_EVENT_REGISTRY,
        type: "OpenApi3",
        description: `ops-autopilot sample events (events/${name}-*.json)`,
      });
      expect(JSON.parse(s.inputs.content as string)).toEqual(testEventDocument(samples[name]));
    }
    expect(existing.resources.filter((r) => r.type === "aws:schemas/registry:Registry")).toEqual([]);
  });

  it("creates the registry once per region of a function when told to (create)", () => {
    expect(created.errors).toEqual([]);
    const registries = created.resources.filter((r) => r.type === "aws:schemas/registry:Registry");
    const regions = [...new Set(Object.values(fnOutputs(created)).map((o) => o.region))].sort();
    expect(registries.map((r) => [r.region, r.inputs.name]).sort()).toEqual(regions.map((r) => [r, TEST_EVENT_REGISTRY]));
    expect(created.resources.filter((r) => r.type === "aws:schemas/schema:Schema")).toHaveLength(
      deployedFunctions(config).filter((f) => samples[f.name].length).length,
    );
  });
});
