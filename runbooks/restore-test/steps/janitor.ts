import { janitor } from "../../../core/restore-test.ts";
import { errorText, type RestoreTestStep } from "./shared.ts";

/**
 * Before the test: remove leftovers of crashed runs, exactly those core's janitor decides (our restore-test tag, our
 * managed-by value, our name prefix, older than maxAgeHours). A janitor that cannot list or delete records why and
 * lets the test go on: the next run tries again.
 */
export const janitorStep: RestoreTestStep = {
  name: "janitor",
  describe: (env) => `remove restore-test leftovers older than maxAgeHours (${env.policy.maxAgeHours} h)`,
  start: (ctx) => sweep(ctx),
  resume: (ctx) => sweep(ctx),
};

async function sweep(ctx: Parameters<RestoreTestStep["start"]>[0]) {
  const { deps, owner, janitorLimits } = ctx.env;
  const region = ctx.run.target.region;
  const errors: string[] = [];
  const deleted: string[] = [];
  let kept = 0;
  try {
    const decisions = janitor(await deps.aws.listLeftovers(region), { owner, limits: janitorLimits, now: ctx.now });
    for (const d of decisions) {
      if (d.action !== "delete") {
        kept++;
        continue;
      }
      deps.log?.("restore-test janitor", { action: d.action, id: d.target.id, reason: d.reason });
      try {
        if (d.target.type === "db-instance") await deps.aws.deleteDbInstance(region, d.target.id);
        else if (d.target.type === "ebs-volume") await deps.aws.deleteVolume(region, d.target.id);
        else await deps.aws.deleteDbCluster(region, d.target.id);
        deleted.push(d.target.id);
      } catch (err) {
        errors.push(`${d.target.id}: ${errorText(err)}`);
      }
    }
  } catch (err) {
    errors.push(`listing ${region}: ${errorText(err)}`);
  }
  const reason = `${deleted.length} leftover(s) deleted${deleted.length ? ` (${deleted.join(", ")})` : ""}, ${kept} kept${errors.length ? `; errors: ${errors.join("; ")}` : ""}`;
  return { kind: "done" as const, result: `${deleted.length} deleted`, reason, record: { janitor: { deleted, kept, errors } } };
}
