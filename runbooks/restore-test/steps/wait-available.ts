import { smokeChecks } from "../../../core/restore-test.ts";
import type { StepOutcome } from "../../lib/durable.ts";
import type { ThrowawayState } from "../ports.ts";
import { errorText, RESTORE_FAILED, type RestoreTestRun, type RestoreTestStep } from "./shared.ts";

type Ctx = Parameters<RestoreTestStep["start"]>[0];

/**
 * Wait (durably: the state machine's Wait, never a sleep in Lambda) until the throwaway is available. A restore that
 * ends failed, or is still not available after `availableTimeoutSeconds` from the request (stuck), is a failed test,
 * recorded so the run goes on to delete it: the durable engine's own timeout would end the run before the delete.
 */
export const waitAvailableStep: RestoreTestStep = {
  name: "wait-available",
  describe: (env) => `wait until the throwaway is available (at most ${Math.round(env.availableTimeoutSeconds / 60)} min)`,
  beforeClaim: async (ctx) => (ctx.run.testFailure ? { kind: "skipped", reason: `not restored: ${ctx.run.testFailure.message}` } : { kind: "claim" }),
  start: (ctx) => look(ctx),
  resume: (ctx) => look(ctx),
};

async function look(ctx: Ctx): Promise<StepOutcome<RestoreTestRun>> {
  const run = ctx.run;
  const { deps, availableTimeoutSeconds, pollSeconds } = ctx.env;
  const { region, kind } = run.target;
  const t = run.throwaway!;
  const fail = (message: string): StepOutcome<RestoreTestRun> => ({
    kind: "done",
    result: "restore failed",
    reason: message,
    record: { testFailure: { step: "restore", message } },
  });
  let seen: ThrowawayState | undefined;
  let what: string;
  let note = "";
  if (kind === "aurora-cluster") {
    const cluster = await deps.aws.describeDbCluster(region, t.name);
    what = `cluster ${t.name}`;
    seen = cluster;
    if (cluster?.status === "available") {
      // Its sql checks use the Data API: enabled as soon as the cluster is available, while its instance is created,
      // so the smoke check does not wait for it. A refusal is retried at the next look and, at the latest, by the smoke
      // step, whose checks then fail naming it; it is not a failed restore.
      if (cluster.arn && !cluster.httpEndpointEnabled && needsDataApi(ctx, cluster.engine)) {
        try {
          await deps.aws.enableHttpEndpoint(region, cluster.arn);
          note = "; its Data API enabled";
        } catch (err) {
          note = `; its Data API could not be enabled yet (${errorText(err)})`;
        }
      }
      // The cluster's one instance is created once the cluster is available (RDS refuses it before). Its name is
      // deterministic, so a look after a lost answer finds it instead of creating a second one.
      const instance = await deps.aws.describeDbInstance(region, t.instanceName!);
      if (!instance) {
        try {
          await deps.aws.createClusterInstance({
            region,
            clusterId: t.name,
            instanceId: t.instanceName!,
            instanceClass: t.instanceClass!,
            engine: cluster.engine ?? run.snapshot!.facts.engine ?? "aurora-postgresql",
            tags: t.tags,
          });
        } catch (err) {
          return fail(`the instance ${t.instanceName} of cluster ${t.name} was refused: ${errorText(err)}`);
        }
        return { kind: "wait", seconds: pollSeconds, reason: `cluster ${t.name} is available; its instance ${t.instanceName} requested${note}` };
      }
      seen = instance;
      what = `${t.instanceName} in cluster ${t.name}`;
    }
  } else {
    seen = kind === "rds-instance" ? await deps.aws.describeDbInstance(region, t.name) : await deps.aws.describeVolume(region, t.volumeId!);
    what = kind === "rds-instance" ? t.name : `${t.volumeId} (${t.name})`;
  }
  if (!seen) return fail(`${what} is gone before it became available`);
  if (seen.status === "available") {
    return { kind: "done", result: "available", reason: `${what} is available${note}`, record: { availableAt: ctx.now.toISOString() } };
  }
  if (RESTORE_FAILED.has(seen.status)) return fail(`${what} ended ${seen.status}`);
  const waited = (ctx.now.getTime() - Date.parse(run.requestedAt!)) / 1000;
  if (waited >= availableTimeoutSeconds) {
    return fail(`${what} still ${seen.status} ${Math.round(waited / 60)} min after the request (limit ${Math.round(availableTimeoutSeconds / 60)} min): stuck`);
  }
  return { kind: "wait", seconds: pollSeconds, reason: `${what} is ${seen.status}${note}` };
}

/** Whether the policy's smoke check runs sql on this cluster through the Data API (core/restore-test.ts smokeChecks). */
function needsDataApi(ctx: Ctx, engine: string | undefined): boolean {
  return smokeChecks("aurora-cluster", ctx.run.snapshot!.facts.engine ?? engine, ctx.env.policy.smoke).some((s) => s.type === "sql" && s.via === "data-api");
}
