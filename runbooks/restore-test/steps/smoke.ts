import { smokeChecks } from "../../../core/restore-test.ts";
import type { StepOutcome } from "../../lib/durable.ts";
import type { SmokeCheckResult, ThrowawayState } from "../ports.ts";
import { errorText, type RestoreTestRun, type RestoreTestStep } from "./shared.ts";

type Ctx = Parameters<RestoreTestStep["start"]>[0];

/**
 * The smoke checks core plans (core/restore-test.ts smokeChecks): `available` (status, the snapshot's engine and
 * version, its storage; a volume's size) and the sql checks through the SQL port. Every check runs; any failure is
 * recorded as a failed test, judged critical by the report, and the run goes on to delete.
 */
export const smokeStep: RestoreTestStep = {
  name: "smoke",
  describe: () => "run the smoke checks",
  beforeClaim: async (ctx) => (ctx.run.testFailure ? { kind: "skipped", reason: `not restored: ${ctx.run.testFailure.message}` } : { kind: "claim" }),
  start: (ctx) => smoke(ctx),
  resume: (ctx) => smoke(ctx),
};

/** Why `seen` is not the snapshot restored as expected, or undefined. */
function availableProblem(run: RestoreTestRun, seen: ThrowawayState | undefined): string | undefined {
  const facts = run.snapshot!.facts;
  if (!seen) return "the throwaway is gone";
  if (seen.status !== "available") return `status ${seen.status}, not available`;
  if (run.target.kind === "ebs-volume") {
    return facts.storageGb !== undefined && seen.storageGb !== facts.storageGb
      ? `size ${seen.storageGb} GiB, the snapshot's is ${facts.storageGb} GiB`
      : undefined;
  }
  if (facts.engine && seen.engine !== facts.engine) return `engine ${seen.engine}, the snapshot's is ${facts.engine}`;
  if (facts.engineVersion && seen.engineVersion !== facts.engineVersion)
    return `engine version ${seen.engineVersion}, the snapshot's is ${facts.engineVersion}`;
  if (facts.storageGb !== undefined && (seen.storageGb ?? 0) < facts.storageGb)
    return `storage ${seen.storageGb} GiB, less than the snapshot's ${facts.storageGb} GiB`;
  return undefined;
}

async function smoke(ctx: Ctx): Promise<StepOutcome<RestoreTestRun>> {
  const run = ctx.run;
  const { deps, policy } = ctx.env;
  const { region, kind } = run.target;
  const t = run.throwaway!;
  const results: SmokeCheckResult[] = [];
  let seen: ThrowawayState | undefined;
  try {
    seen =
      kind === "rds-instance"
        ? await deps.aws.describeDbInstance(region, t.name)
        : kind === "aurora-cluster"
          ? await deps.aws.describeDbCluster(region, t.name)
          : await deps.aws.describeVolume(region, t.volumeId!);
  } catch (err) {
    seen = undefined;
    results.push({ name: "available", passed: false, observed: null, reason: `describe failed: ${errorText(err)}`, ms: 0 });
  }
  const steps = smokeChecks(kind, run.snapshot!.facts.engine ?? seen?.engine, policy.smoke);
  const sql = steps.flatMap((s) => (s.type === "sql" ? [s] : []));
  for (const s of steps) {
    if (s.type === "available" && results.length === 0) {
      const problem = availableProblem(run, seen);
      results.push({ name: "available", passed: !problem, observed: seen?.status ?? null, reason: problem ?? s.reason, ms: 0 });
    }
    if (s.type === "refused") results.push({ name: "sql", passed: false, observed: null, reason: s.reason, ms: 0 });
    if (s.type === "sql" && s.via === "data-api")
      results.push({ name: s.check.name, passed: false, observed: null, reason: "Data API checks are not supported by this runbook yet", ms: 0 });
  }
  const viaPg = sql.filter((s) => s.via === "pg-checker");
  const secretArn = policy.smoke.secretArn;
  if (viaPg.length && !secretArn) results.push({ name: "sql", passed: false, observed: null, reason: "no secret to connect with: set smoke.secretArn", ms: 0 });
  if (viaPg.length && secretArn) {
    try {
      results.push(
        ...(await deps.sql.run({
          region,
          instanceId: t.name,
          ...(seen?.endpoint ? { endpoint: seen.endpoint } : {}),
          database: viaPg[0]!.database,
          secretArn,
          timeoutMs: policy.smoke.timeoutSeconds * 1000,
          checks: viaPg.map((s) => s.check),
          context: { snapshotTime: new Date(run.snapshot!.capturedAt) },
        })),
      );
    } catch (err) {
      results.push({ name: "sql", passed: false, observed: null, reason: `the sql checks did not run: ${errorText(err)}`, ms: 0 });
    }
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    const message = failed.map((r) => `${r.name}: ${r.reason}`).join("; ");
    return { kind: "done", result: "smoke failed", reason: message, record: { smoke: results, testFailure: { step: "smoke", message } } };
  }
  return { kind: "done", result: "smoke passed", reason: `${results.length} check(s) passed`, record: { smoke: results, smokePassedAt: ctx.iso() } };
}
