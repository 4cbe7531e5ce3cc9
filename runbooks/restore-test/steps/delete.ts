import type { StepOutcome } from "../../lib/durable.ts";
import { errorText, type RestoreTestRun, type RestoreTestStep } from "./shared.ts";

type Ctx = Parameters<RestoreTestStep["start"]>[0];

/**
 * Delete the throwaway, on every path: after a pass, a failed or stuck restore, a failed smoke check. Found by the
 * recorded name (an instance) or volume id (else the name tag). A refused delete (throttled, a volume still creating)
 * waits and tries again; after `deleteTimeoutSeconds` the run fails with the manual step, and the janitor's next run
 * removes it once it is older than maxAgeHours.
 */
export const deleteStep: RestoreTestStep = {
  name: "delete",
  describe: () => "delete the throwaway",
  timeoutSeconds: (env) => env.deleteTimeoutSeconds,
  timedOut: (env, seconds) => ({
    reason: `the throwaway could not be deleted in ${Math.round(seconds / 60)} min`,
    manualSteps: [`the janitor deletes it once it is older than maxAgeHours (${env.policy.maxAgeHours} h); or delete it by hand`],
  }),
  beforeClaim: async (ctx) => (ctx.run.throwaway ? { kind: "claim" } : { kind: "skipped", reason: "nothing was created" }),
  start: (ctx) => remove(ctx),
  resume: (ctx) => remove(ctx),
};

async function remove(ctx: Ctx): Promise<StepOutcome<RestoreTestRun>> {
  const run = ctx.run;
  const { deps, pollSeconds } = ctx.env;
  const { region, kind } = run.target;
  const t = run.throwaway!;
  const done = (result: string, reason: string): StepOutcome<RestoreTestRun> => ({ kind: "done", result, reason, record: { deletedAt: ctx.iso() } });
  try {
    if (kind === "aurora-cluster") {
      // The instance first: RDS refuses to delete a cluster with an instance that is not being deleted.
      const instance = await deps.aws.describeDbInstance(region, t.instanceName!);
      if (instance && instance.status !== "deleting") await deps.aws.deleteDbInstance(region, t.instanceName!);
      const cluster = await deps.aws.describeDbCluster(region, t.name);
      if (!cluster) return done("gone", `cluster ${t.name} does not exist`);
      if (cluster.status === "deleting") return done("deleting", `cluster ${t.name} is being deleted`);
      const r = await deps.aws.deleteDbCluster(region, t.name);
      return done(r, `${instance ? `${t.instanceName} and ` : ""}cluster ${t.name}: delete requested (no final snapshot)`);
    }
    if (kind === "rds-instance") {
      const seen = await deps.aws.describeDbInstance(region, t.name);
      if (!seen) return done("gone", `${t.name} does not exist`);
      if (seen.status === "deleting") return done("deleting", `${t.name} is being deleted`);
      const r = await deps.aws.deleteDbInstance(region, t.name);
      return done(r, `${t.name}: delete requested (no final snapshot, automated backups deleted)`);
    }
    const ids = t.volumeId ? [t.volumeId] : (await deps.aws.findVolumesByName(region, t.name)).map((v) => v.id);
    if (ids.length === 0) return done("gone", `no volume named ${t.name}`);
    for (const id of ids) await deps.aws.deleteVolume(region, id);
    return done("deleting", `volume ${ids.join(", ")} (${t.name}): delete requested`);
  } catch (err) {
    return { kind: "wait", seconds: pollSeconds, reason: `delete refused, trying again: ${errorText(err)}` };
  }
}
