import { judgeRestoreTest, restoreTestCost } from "../../../core/restore-test.ts";
import type { RestoreTestStep } from "./shared.ts";

const date = (s: string | undefined) => (s ? new Date(s) : undefined);

/** Judge the test (core/restore-test.ts judgeRestoreTest: verdict, proven RTO, alert), estimate its cost, and report it. */
export const reportStep: RestoreTestStep = {
  name: "report",
  describe: (env) => `judge against the ${env.policy.rtoTargetMinutes} min RTO target and report`,
  start: (ctx) => report(ctx),
  resume: (ctx) => report(ctx),
};

async function report(ctx: Parameters<RestoreTestStep["start"]>[0]) {
  const run = ctx.run;
  const requestedAt = date(run.requestedAt) ?? ctx.now;
  const availableAt = date(run.availableAt);
  const smokePassedAt = date(run.smokePassedAt);
  const judgment = judgeRestoreTest(
    {
      requestedAt,
      ...(availableAt ? { availableAt } : {}),
      ...(smokePassedAt ? { smokePassedAt } : {}),
      ...(run.testFailure ? { failure: run.testFailure } : {}),
    },
    ctx.env.policy.rtoTargetMinutes,
  );
  const t = run.throwaway;
  const cost = t
    ? restoreTestCost({
        kind: run.target.kind,
        ...(t.instanceClass ? { instanceClass: t.instanceClass } : {}),
        storageGb: t.storageGb ?? run.snapshot?.facts.storageGb ?? 0,
        from: requestedAt,
        to: date(run.deletedAt) ?? ctx.now,
      })
    : undefined;
  const reported = { ...run, judgment, ...(cost ? { cost } : {}) };
  await ctx.env.deps.reports.report(reported);
  return { kind: "done" as const, result: judgment.verdict, reason: judgment.reason, record: { judgment, ...(cost ? { cost } : {}) } };
}
