/**
 * The restore-test runbook (issue 11): one run tests one resource on the durable engine (runbooks/lib/durable.ts),
 * janitor → pick → restore → wait-available → smoke → delete → report. Waits are handed back to the caller (the
 * Step Functions Advance → Wait loop), never slept in Lambda.
 *
 * No AWS imports and no clock of its own: the world is ./ports.ts.
 */
import { janitorLimits, type RestoreTestPlanConfig, type RestoreTestTarget } from "../../core/restore-test.ts";
import type { Owner } from "../../core/types.ts";
import type { RestoreTestConfig } from "../../schemas/config-restore-test.ts";
import { advanceDurable, type AdvanceOptions, type AdvanceResult } from "../lib/durable.ts";
import type { RestoreTestDeps } from "./ports.ts";
import { reportRunEnd } from "./summary.ts";
import { RESTORE_TEST_STEP_NAMES, RESTORE_TEST_STEPS, type RestoreTestEnv, type RestoreTestRun, type RestoreTestStepName } from "./steps/index.ts";

export type { RestoreTestDeps } from "./ports.ts";
export type { RestoreTestRun, RestoreTestStepName } from "./steps/index.ts";

/** Seconds between looks at a restore in progress. */
export const RESTORE_TEST_POLL_SECONDS = 60;

export interface RestoreTestRequest {
  runId: string;
  owner: Owner;
  target: RestoreTestTarget & { region: string };
  config: RestoreTestPlanConfig;
}

/**
 * The environment of one run: a stuck restore is given up at half the policy's maxAgeHours (before the janitor would
 * take it from a live run), the delete one hour.
 */
export function restoreTestEnv(deps: RestoreTestDeps, req: RestoreTestRequest): RestoreTestEnv {
  const policy = req.config.backup.policies.find((p) => p.name === req.target.policy)?.restoreTest;
  if (!policy) throw new Error(`policy ${req.target.policy} has no restoreTest block`);
  return {
    deps,
    owner: req.owner,
    primaryRegion: req.config.primaryRegion,
    policy: policy as RestoreTestConfig,
    janitorLimits: janitorLimits(req.config),
    pollSeconds: RESTORE_TEST_POLL_SECONDS,
    availableTimeoutSeconds: (policy.maxAgeHours * 3600) / 2,
    deleteTimeoutSeconds: 3600,
  };
}

export function newRestoreTestRun(req: RestoreTestRequest): RestoreTestRun {
  return { runId: req.runId, state: "running", target: req.target, steps: RESTORE_TEST_STEP_NAMES.map((name) => ({ name, status: "pending" })) };
}

/** Start the run (its checkpoint written only if absent: a redelivered start follows the run already there) and advance it. */
export async function startRestoreTest(deps: RestoreTestDeps, req: RestoreTestRequest, opts: AdvanceOptions = {}): Promise<AdvanceResult<RestoreTestStepName>> {
  await deps.store.create(newRestoreTestRun(req));
  return advanceRestoreTest(deps, req, opts);
}

/** Advance the run from its checkpoint until it ends or must wait. Safe to repeat, concurrently, after crashes. */
export function advanceRestoreTest(deps: RestoreTestDeps, req: RestoreTestRequest, opts: AdvanceOptions = {}): Promise<AdvanceResult<RestoreTestStepName>> {
  const env = restoreTestEnv(deps, req);
  return advanceDurable(
    {
      scope: `${req.target.kind} ${req.target.resourceId}`,
      runId: req.runId,
      steps: RESTORE_TEST_STEPS,
      env,
      store: deps.store,
      clock: deps.clock,
      pollSeconds: RESTORE_TEST_POLL_SECONDS,
      completeReason: "restore test complete",
      // The report step runs only in a run that reached it; a run that failed (its delete gave up) is reported here.
      onEnd: async (run) => {
        if (run.state === "failed") await deps.reports.report(run);
        await reportRunEnd(deps, run, env.policy.rtoTargetMinutes);
      },
      ...(deps.log ? { log: deps.log } : {}),
    },
    opts,
  );
}
