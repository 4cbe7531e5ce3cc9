import { pickSnapshot, snapshotTime } from "../../../core/restore-test.ts";
import { errorText, type RestoreTestStep } from "./shared.ts";

/** The newest available snapshot of ours (core/restore-test.ts pickSnapshot), and what the available check expects of it. */
export const pickStep: RestoreTestStep = {
  name: "pick",
  describe: (_env, run) => `pick the newest available snapshot of ${run?.target.kind ?? "the resource"} ${run?.target.resourceId ?? ""}`.trim(),
  start: (ctx) => pick(ctx),
  resume: (ctx) => pick(ctx),
};

async function pick(ctx: Parameters<RestoreTestStep["start"]>[0]) {
  const { deps, owner } = ctx.env;
  const { kind, resourceId, region } = ctx.run.target;
  try {
    const d = pickSnapshot({ kind, resourceId, region, snapshots: await deps.snapshots.list(region, kind), owner });
    if (d.action === "none") {
      return {
        kind: "done" as const,
        result: "nothing to restore",
        reason: d.reason,
        record: { testFailure: { step: "restore" as const, message: d.reason } },
      };
    }
    const facts =
      kind === "ebs-volume"
        ? await deps.aws.describeEbsSnapshot(region, d.target.id)
        : kind === "aurora-cluster"
          ? await deps.aws.describeClusterSnapshot(region, d.target.id)
          : await deps.aws.describeDbSnapshot(region, d.target.id);
    return {
      kind: "done" as const,
      result: d.target.id,
      reason: d.reason,
      record: { snapshot: { id: d.target.id, capturedAt: snapshotTime(d.target).toISOString(), facts } },
    };
  } catch (err) {
    const message = `listing snapshots in ${region}: ${errorText(err)}`;
    return { kind: "done" as const, result: "nothing to restore", reason: message, record: { testFailure: { step: "restore" as const, message } } };
  }
}
