import { afterEach, describe, expect, it } from "vitest";
import { listAccountsForParent } from "../../../adapters/organizations.ts";
import { runFleetTargets } from "../../../runbooks/fleet/targets.ts";
import { createHandler } from "../../../runbooks/lib/handler.ts";
import type { FleetOrganizationalUnit } from "../../../schemas/config-fleet.ts";
import { parseFleetTargetsEvent } from "../../../schemas/events-fleet-targets.ts";
import { runFleetDefinition } from "../../../sandbox/scenarios/fleet-run.ts";
import {
  CENTRAL_ACCOUNT,
  createFleetWorld,
  fleetInvoker,
  fleetLambdaContext,
  statementsOf,
  trustOf,
  type FleetWorld,
} from "../../../sandbox/scenarios/fleet-scenarios.ts";
import { fleetFanoutDefinition, fleetStateMachineName } from "../../../stacks/fleet-fanout-definition.ts";
import { memberRoles } from "../../../stacks/member-roles.ts";

/**
 * The fan-out with an Organizations OU, run by the sandbox's runner (sandbox/scenarios/fleet-run.ts) over the real
 * handlers on the IAM-enforcing sandbox: the Targets Task invokes fleet-targets, whose items the Map runs; the OU's
 * account, never listed, is backed up as the OU's member role (its trust's external id, `aws:ResourceOrgPaths` in the
 * central role's grant).
 */

const OU = "ou-ab12-cd34ef56";
const OU_ACCOUNT = { id: "200000000001", name: "ou-discovered" };

let world: FleetWorld | undefined;
afterEach(() => {
  world?.restore();
  world = undefined;
});

describe("fleet fan-out with an OU", () => {
  it("discovers an OU account through the Targets Task and runs its item; the listed account runs too", async () => {
    world = createFleetWorld({ accounts: [{ id: "111122223333", name: "payments" }], drRegions: [], resources: { rdsInstances: 1 } });
    const ou: FleetOrganizationalUnit = { id: OU, externalId: "oa-fleet-ou-2026" };
    world.config.fleet!.organizationalUnit = ou;
    const acc = world.sb.addAccount(OU_ACCOUNT.id, { name: OU_ACCOUNT.name });
    for (const r of memberRoles(world.config, { account: OU_ACCOUNT.id, partition: "aws", centralAccountId: CENTRAL_ACCOUNT, target: ou })) {
      acc.addRole({ name: r.name, trust: trustOf(r.trustPolicy), statements: statementsOf(r.policy) });
    }
    acc.rds.addInstance(world.config.primaryRegion, { id: "ou-db", tags: { "ops-autopilot:backup": "fleet" }, encrypted: false });
    world.sb.organizations.createOrganization({ management: CENTRAL_ACCOUNT });
    world.sb.organizations.addOrganizationalUnit(OU);
    world.sb.organizations.addAccount(OU, OU_ACCOUNT);

    const invoker = fleetInvoker(world);
    // As functions/fleet-targets.ts deploys it: no report kept (its role has no bucket).
    const { reportBucket: _bucket, ...runtime } = world.runtime;
    const targets = createHandler(
      {
        name: "fleet-targets",
        parse: parseFleetTargetsEvent,
        run: (event, ctx) => runFleetTargets(event, ctx, { listAccountsForParent: (id) => listAccountsForParent(id) }),
        posts: false,
      },
      { ...runtime, saveReport: async () => undefined },
    );
    const invoked: string[] = [];
    const invoke = (fn: string, payload: unknown) => {
      invoked.push(fn.split(":").pop()!);
      return fn.endsWith("-fleet-targets") ? targets(payload, fleetLambdaContext("targets-1")) : invoker.invoke(fn, payload);
    };
    const fn = (name: string) => `arn:aws:lambda:${world!.config.primaryRegion}:${CENTRAL_ACCOUNT}:function:ops-autopilot-fleet-${name}`;
    const definition = fleetFanoutDefinition({
      job: "backup",
      jobFunctionArn: fn("backup"),
      summaryFunctionArn: fn("fleet-summary"),
      targetsFunctionArn: fn("fleet-targets"),
      items: [],
    });
    expect(definition.States.Targets).toMatchObject({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Retry: [{ ErrorEquals: expect.any(Array) }] });
    const run = await runFleetDefinition({
      definition,
      invoke,
      executionArn: `arn:aws:states:${world.config.primaryRegion}:${CENTRAL_ACCOUNT}:execution:${fleetStateMachineName("ops-autopilot-fleet", "backup")}:nightly`,
      sleep: async (ms) => void world!.clock.advance(ms),
      random: () => 0.5,
    });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(invoked).toEqual([
      "ops-autopilot-fleet-fleet-targets",
      "ops-autopilot-fleet-backup",
      "ops-autopilot-fleet-backup",
      "ops-autopilot-fleet-fleet-summary",
    ]);
    expect(run.itemResults).toEqual([
      expect.objectContaining({ account: "111122223333", accountName: "payments", region: "eu-west-1", ok: true, counts: { created: 1 } }),
      expect.objectContaining({ account: OU_ACCOUNT.id, accountName: OU_ACCOUNT.name, region: "eu-west-1", ok: true, counts: { created: 1 } }),
    ]);
    expect(acc.rds.snapshots("eu-west-1").map((s) => s.id)).toEqual([expect.stringContaining("ou-db")]);
    expect(run.output).toMatchObject({ job: "backup", ok: true, totals: { accounts: 2, failedAccounts: 0, items: 2, created: 2 } });
    expect(world.sb.iam!.denials).toEqual([]);
  });
});
