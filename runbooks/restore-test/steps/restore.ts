import { defaultInstanceClass, throwaway } from "../../../core/restore-test.ts";
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
    if (run.target.kind === "aurora-cluster") {
      // Recorded as a failed test (the run goes on to report it); nothing is created.
      return { kind: "claim", record: { testFailure: { step: "restore", message: "Aurora restore tests are not supported by this runbook yet" } } };
    }
    const t = throwaway(ctx.env.owner, run.target, run.runId, ctx.now);
    const instanceClass =
      run.target.kind === "rds-instance" ? defaultInstanceClass(run.snapshot.facts.engine ?? "", ctx.env.policy.rds?.instanceClass).instanceClass : undefined;
    return {
      kind: "claim",
      record: { requestedAt: ctx.now.toISOString(), throwaway: { name: t.name, tags: t.tags, ...(instanceClass ? { instanceClass } : {}) } },
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
    const v = await deps.aws.createVolume({ region, snapshotId, availabilityZone: policy.ebs!.availabilityZone, tags: t.tags });
    return volumeDone(run, v.id, v.storageGb, `in ${policy.ebs!.availabilityZone}`);
  } catch (err) {
    // The deterministic name is ours: "already exists" is an earlier attempt of this run.
    if ((err as { name?: string }).name === "DBInstanceAlreadyExists" || (err as { name?: string }).name === "DBInstanceAlreadyExistsFault") {
      return { kind: "done", result: "restore requested", reason: `${t.name} already exists: an earlier attempt of run ${run.runId}` };
    }
    const message = `the restore was refused: ${errorText(err)}`;
    return { kind: "done", result: "restore refused", reason: message, record: { testFailure: { step: "restore", message } } };
  }
}
