/**
 * The restore-test runbook in the offline synth (stacks/restore-test.ts): config/example.json with a restoreTest block
 * on each policy (databases on the default monthly schedule, volumes on another), so the function, its state machine
 * and one Scheduler schedule per distinct expression are deployed in the first DR region, and its role carries the
 * statements test/infra/restore-test-iam.test.ts pins.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResource, SynthResult } from "../../scripts/sst-synth.ts";
import { ConfigSchema } from "../../schemas/config.ts";
import { DEFAULT_RESTORE_TEST_SCHEDULE } from "../../schemas/config-restore-test.ts";
import { permissionsFor, REPORTS_LINK_ACTIONS } from "../../stacks/iam.ts";
import type { PolicyDocument } from "../../stacks/policy-lint.ts";
import { documentFor, iamContext, ROOT } from "./builders.ts";
import { inputs, named as namedIn, ofType as ofTypeIn, runSynth } from "./synth-run.ts";

const DR = "eu-central-1";
const VOLUMES_SCHEDULE = "cron(0 7 15 * ? *)";

function restoreTestRaw() {
  const raw = JSON.parse(readFileSync(`${ROOT}config/example.json`, "utf8"));
  raw.stage = "ci";
  for (const p of raw.backup.policies) {
    p.restoreTest =
      p.name === "volumes"
        ? { ebs: { availabilityZone: "eu-west-1a" }, schedule: VOLUMES_SCHEDULE }
        : { rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] } };
  }
  return raw;
}

let synth: SynthResult;

beforeAll(() => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-restore-test-")), "restore-test.json");
  writeFileSync(file, JSON.stringify(restoreTestRaw(), null, 2));
  synth = runSynth("ci", file);
}, 600_000);

const ofType = (type: string) => ofTypeIn(synth, type);
const named = (type: string, name: string): SynthResource => namedIn(synth, type, name);

describe("restore-test runbook in the offline synth", () => {
  it("synthesizes without errors and bundles functions/restore-test.ts", () => {
    expect(synth.errors).toEqual([]);
    expect(synth.builds.map((b) => b.file)).toContain("functions/restore-test.ts");
  });

  it("deploys the function in the first DR region, started only by its state machine", () => {
    const fn = named("aws:lambda/function:Function", "Restore-testFunction");
    expect(fn.region).toBe(DR);
    expect(inputs(fn)).toMatchObject({ memorySize: 512, timeout: 900 });
  });

  it("deploys its durable state machine (Advance -> Route -> Wait) in the DR region, invoking the function", () => {
    const sm = named("aws:sfn/stateMachine:StateMachine", "RestoreTestStateMachine");
    expect(sm.region).toBe(DR);
    const def = JSON.parse(inputs(sm).definition);
    expect(Object.keys(def.States)).toEqual(["Advance", "Route", "Wait", "Done", "Failed"]);
    expect(def.States.Advance.Arguments.FunctionName).toMatch(/:function:restore-testfunction$/);
    expect(def.States.Failed.Error).toBe("RestoreTestFailed");
  });

  it("starts it on one Scheduler schedule per distinct restoreTest.schedule, each naming its policies, with retries and the DR dead letters", () => {
    const schedules = ofType("aws:scheduler/schedule:Schedule").filter((s) => s.name.startsWith("RestoreTest"));
    expect(schedules.map((s) => s.name).sort()).toEqual(["RestoreTest2Schedule", "RestoreTestSchedule"]);
    const byName = Object.fromEntries(schedules.map((s) => [s.name, inputs(s)]));
    expect(byName.RestoreTestSchedule!).toMatchObject({ scheduleExpression: DEFAULT_RESTORE_TEST_SCHEDULE, flexibleTimeWindow: { mode: "OFF" } });
    expect(JSON.parse(byName.RestoreTestSchedule!.target.input)).toEqual({ trigger: "schedule", policies: ["databases"] });
    expect(byName.RestoreTest2Schedule!).toMatchObject({ scheduleExpression: VOLUMES_SCHEDULE, flexibleTimeWindow: { mode: "OFF" } });
    expect(JSON.parse(byName.RestoreTest2Schedule!.target.input)).toEqual({ trigger: "schedule", policies: ["volumes"] });
    for (const s of schedules) {
      expect(s.region).toBe(DR);
      expect(inputs(s).target.arn).toMatch(/:stateMachine:restoreteststatemachine$/);
      expect(inputs(s).target.retryPolicy).toEqual({ maximumRetryAttempts: 3 });
      expect(inputs(s).target.deadLetterConfig.arn).toMatch(/restoretestdeadletters/i);
    }
  });

  it("gives the function's role exactly the restore-test statements stacks/iam.ts derives (restore-test-iam.test.ts), plus the Reports bucket", () => {
    const config = ConfigSchema.parse(restoreTestRaw());
    const expected = documentFor(permissionsFor("restore-test", iamContext(config))).Statement;
    const role = named("aws:iam/role:Role", "Restore-testRole");
    expect(role.region).toBe(DR);
    const statements = (inputs(role).inlinePolicies as { policy: string }[]).flatMap((p) => (JSON.parse(p.policy) as PolicyDocument).Statement);
    expect(statements).toEqual(expect.arrayContaining(expected));
    // Beyond them: only the Reports bucket link (checkpoints, reports, trend); no DLQ (its state machine invokes it).
    const extra = statements.filter((s) => !expected.some((e) => JSON.stringify(e) === JSON.stringify(s)));
    const extraActions = [...new Set(extra.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
    expect(extraActions).toEqual([...REPORTS_LINK_ACTIONS].sort());
  });
});
