import { smokeChecks } from "../../../core/restore-test.ts";
import type { StepOutcome } from "../../lib/durable.ts";
import type { SmokeCheckResult, ThrowawayState } from "../ports.ts";
import { errorText, type RestoreTestRun, type RestoreTestStep } from "./shared.ts";

type Ctx = Parameters<RestoreTestStep["start"]>[0];

/**
 * The smoke checks core plans (core/restore-test.ts smokeChecks): `available` (status, the snapshot's engine and
 * version, its storage; a volume's size) and the sql checks: an RDS instance's through the SQL port (the VPC checker
 * function), an Aurora cluster's through the RDS Data API (adapters/rds-data.ts), both with the secret smokeSecret names. Every check runs; any failure is
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

/** The region a secret ARN names (`arn:aws:secretsmanager:<region>:…`). */
const secretRegion = (arn: string): string => arn.split(":")[3] ?? "";

/**
 * The secret the sql checks log in with: `smoke.secretArn` when configured, otherwise the source database's
 * RDS-managed master user secret (MasterUserSecret of the source, described in the primary region where it is;
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html). A restore keeps the source's
 * master password as of the snapshot, so that secret opens the throwaway unless it was rotated since.
 */
async function smokeSecret(ctx: Ctx, kind: "rds-instance" | "aurora-cluster"): Promise<{ arn: string } | { problem: string }> {
  const { policy, deps, primaryRegion } = ctx.env;
  if (policy.smoke.secretArn) return { arn: policy.smoke.secretArn };
  const source = ctx.run.target.resourceId;
  try {
    const arn = await deps.aws.sourceMasterSecret(primaryRegion, kind, source);
    return arn ? { arn } : { problem: `no secret: ${source} has no RDS-managed master user secret; set smoke.secretArn` };
  } catch (err) {
    return { problem: `no secret: the source ${source} could not be described in ${primaryRegion} (${errorText(err)}); set smoke.secretArn` };
  }
}

/**
 * Why the Data API cannot be used on the throwaway cluster, or undefined. Its HTTP endpoint is normally enabled while
 * waiting for the cluster's instance (wait-available); enabling it here covers a run that resumed past that.
 */
async function dataApiProblem(ctx: Ctx, seen: ThrowawayState | undefined): Promise<string | undefined> {
  const name = ctx.run.throwaway!.name;
  if (!seen?.arn) return `the Data API needs cluster ${name}'s ARN, and the cluster could not be described`;
  if (seen.httpEndpointEnabled) return undefined;
  try {
    await ctx.env.deps.aws.enableHttpEndpoint(ctx.run.target.region, seen.arn);
    return undefined;
  } catch (err) {
    return `the Data API could not be enabled on cluster ${name}: ${errorText(err)}`;
  }
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
  }
  if (sql.length && kind !== "ebs-volume") {
    const notRun = (reason: string) => sql.map((s): SmokeCheckResult => ({ name: s.check.name, passed: false, observed: null, reason, ms: 0 }));
    const secret = await smokeSecret(ctx, kind);
    const input = {
      region,
      database: sql[0]!.database,
      timeoutMs: policy.smoke.timeoutSeconds * 1000,
      checks: sql.map((s) => s.check),
      context: { snapshotTime: new Date(run.snapshot!.capturedAt) },
    };
    if ("problem" in secret) results.push(...notRun(secret.problem));
    else if (kind === "rds-instance") {
      try {
        results.push(...(await deps.sql.run({ ...input, instanceId: t.name, ...(seen?.endpoint ? { endpoint: seen.endpoint } : {}), secretArn: secret.arn })));
      } catch (err) {
        results.push(...notRun(`the sql checks did not run: ${errorText(err)}`));
      }
    } else {
      const problem = await dataApiProblem(ctx, seen);
      if (problem) results.push(...notRun(problem));
      else {
        try {
          const out = await deps.dataApi.run({ ...input, clusterArn: seen!.arn!, secretArn: secret.arn });
          const elsewhere = secretRegion(secret.arn) !== region ? ` (the secret is in ${secretRegion(secret.arn)}, the cluster in ${region})` : "";
          results.push(
            ...out.map((r) =>
              r.passed || !elsewhere || !r.reason.includes("could not begin a transaction") ? r : { ...r, reason: `${r.reason}${elsewhere}` },
            ),
          );
        } catch (err) {
          results.push(...notRun(`the sql checks did not run: ${errorText(err)}`));
        }
      }
    }
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    const message = failed.map((r) => `${r.name}: ${r.reason}`).join("; ");
    return { kind: "done", result: "smoke failed", reason: message, record: { smoke: results, testFailure: { step: "smoke", message } } };
  }
  return { kind: "done", result: "smoke passed", reason: `${results.length} check(s) passed`, record: { smoke: results, smokePassedAt: ctx.iso() } };
}
