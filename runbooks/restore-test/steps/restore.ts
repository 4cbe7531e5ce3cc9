import { defaultInstanceClass, smokeChecks, throwaway } from "../../../core/restore-test.ts";
import type { StepOutcome } from "../../lib/durable.ts";
import { errorText, type RestoreTestRun, type RestoreTestStep } from "./shared.ts";

type Ctx = Parameters<RestoreTestStep["start"]>[0];

/**
 * Restore the picked snapshot into the throwaway core names and tags. The claim records the name, the tags and the
 * request time before anything is sent, so a crash after the request leaves a record the resume (and the delete)
 * can find the throwaway by: the name is deterministic, and a volume carries it as its name tag.
 */
export const restoreStep: RestoreTestStep = {
  name: "restore",
  describe: (_env, run) => `restore ${run?.snapshot?.id ?? "the snapshot"} into a throwaway`,
  beforeClaim: async (ctx) => {
    const run = ctx.run;
    if (run.testFailure || !run.snapshot) return { kind: "skipped", reason: `nothing to restore: ${run.testFailure?.message ?? "no snapshot picked"}` };
    const t = throwaway(ctx.env.owner, run.target, run.runId, ctx.now);
    const engine = run.snapshot.facts.engine ?? "";
    // An Aurora throwaway whose sql checks go through the Data API needs a class the Data API supports.
    const dataApi = smokeChecks(run.target.kind, engine, ctx.env.policy.smoke).some((c) => c.type === "sql" && c.via === "data-api");
    const instanceClass =
      run.target.kind === "ebs-volume" ? undefined : defaultInstanceClass(engine, ctx.env.policy.rds?.instanceClass, { dataApi }).instanceClass;
    return {
      kind: "claim",
      record: {
        requestedAt: ctx.now.toISOString(),
        throwaway: { name: t.name, tags: t.tags, ...(t.instanceName ? { instanceName: t.instanceName } : {}), ...(instanceClass ? { instanceClass } : {}) },
      },
    };
  },
  start: (ctx) => issue(ctx),
  resume: async (ctx) => {
    const run = ctx.run;
    if (run.testFailure) return { kind: "done", result: "not restored", reason: run.testFailure.message };
    const { region } = run.target;
    const name = run.throwaway!.name;
    if (run.target.kind === "rds-instance") {
      const seen = await ctx.env.deps.aws.describeDbInstance(region, name);
      if (seen) return { kind: "done", result: "restore requested", reason: `${name} exists (${seen.status}): the earlier request arrived` };
    } else if (run.target.kind === "aurora-cluster") {
      const seen = await ctx.env.deps.aws.describeDbCluster(region, name);
      if (seen) return { kind: "done", result: "restore requested", reason: `cluster ${name} exists (${seen.status}): the earlier request arrived` };
    } else {
      const found = await ctx.env.deps.aws.findVolumesByName(region, name);
      if (found[0]) return volumeDone(run, found[0].id, found[0].storageGb, "the earlier request arrived");
    }
    await ctx.claimAttempt();
    return issue(ctx);
  },
};

function volumeDone(run: RestoreTestRun, volumeId: string, storageGb: number | undefined, why: string): StepOutcome<RestoreTestRun> {
  return {
    kind: "done",
    result: "volume requested",
    reason: `volume ${volumeId} (${run.throwaway!.name}) from ${run.snapshot!.id}: ${why}`,
    record: { throwaway: { ...run.throwaway!, volumeId, ...(storageGb !== undefined ? { storageGb } : {}) } },
  };
}

async function issue(ctx: Ctx): Promise<StepOutcome<RestoreTestRun>> {
  const run = ctx.run;
  if (run.testFailure) return { kind: "done", result: "not restored", reason: run.testFailure.message };
  const { deps, policy } = ctx.env;
  const { region, kind } = run.target;
  const t = run.throwaway!;
  const snapshotId = run.snapshot!.id;
  try {
    if (kind === "rds-instance") {
      const rds = policy.rds!;
      await deps.aws.restoreDbInstance({
        region,
        snapshotId,
        instanceId: t.name,
        instanceClass: t.instanceClass!,
        dbSubnetGroupName: rds.dbSubnetGroupName,
        vpcSecurityGroupIds: rds.vpcSecurityGroupIds,
        tags: t.tags,
      });
      return { kind: "done", result: "restore requested", reason: `${t.name} (${t.instanceClass}) from ${snapshotId} in ${region}` };
    }
    if (kind === "aurora-cluster") {
      const rds = policy.rds!;
      await deps.aws.restoreDbCluster({
        region,
        snapshotId,
        clusterId: t.name,
        engine: run.snapshot!.facts.engine ?? "aurora-postgresql",
        dbSubnetGroupName: rds.dbSubnetGroupName,
        vpcSecurityGroupIds: rds.vpcSecurityGroupIds,
        tags: t.tags,
      });
      return {
        kind: "done",
        result: "restore requested",
        reason: `cluster ${t.name} from ${snapshotId} in ${region} (its instance ${t.instanceName} once available)`,
      };
    }
    const v = await deps.aws.createVolume({ region, snapshotId, availabilityZone: policy.ebs!.availabilityZone, tags: t.tags });
    return volumeDone(run, v.id, v.storageGb, `in ${policy.ebs!.availabilityZone}`);
  } catch (err) {
    // The deterministic name is ours: "already exists" is an earlier attempt of this run.
    if (["DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault", "DBClusterAlreadyExistsFault"].includes((err as { name?: string }).name ?? "")) {
      return { kind: "done", result: "restore requested", reason: `${t.name} already exists: an earlier attempt of run ${run.runId}` };
    }
    const message = `the restore was refused: ${errorText(err)}`;
    return { kind: "done", result: "restore refused", reason: message, record: { testFailure: { step: "restore", message } } };
  }
}
