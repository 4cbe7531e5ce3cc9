/**
 * The restore-test run's checkpoint record and the environment every step reads. One run tests one resource:
 * janitor → pick → restore → wait-available → smoke → delete → report. A step that finds the test failed records
 * the failure and ends `done`, so the run always reaches delete: only delete itself can fail the run (after its
 * timeout, leaving the throwaway to the janitor, which says so).
 */
import type { JanitorLimits, RestoreTestJudgment, RestoreTestCost, RestoreTestTarget } from "../../../core/restore-test.ts";
import type { Owner } from "../../../core/types.ts";
import type { RestoreTestConfig } from "../../../schemas/config-restore-test.ts";
import type { DurableRecord, StepModule } from "../../lib/durable.ts";
import type { RestoreTestDeps, SmokeCheckResult, SnapshotFacts } from "../ports.ts";

export const RESTORE_TEST_STEP_NAMES = ["janitor", "pick", "restore", "wait-available", "smoke", "delete", "report"] as const;
export type RestoreTestStepName = (typeof RESTORE_TEST_STEP_NAMES)[number];

export interface RestoreTestRun extends DurableRecord<RestoreTestStepName> {
  target: RestoreTestTarget & { region: string };
  janitor?: { deleted: string[]; kept: number; errors: string[] };
  snapshot?: { id: string; capturedAt: string; facts: SnapshotFacts };
  throwaway?: { name: string; tags: Record<string, string>; instanceName?: string; volumeId?: string; instanceClass?: string; storageGb?: number };
  requestedAt?: string;
  availableAt?: string;
  smokePassedAt?: string;
  smoke?: SmokeCheckResult[];
  /** Why the test stopped short (the run itself goes on to delete). */
  testFailure?: { step: "restore" | "smoke"; message: string };
  deletedAt?: string;
  judgment?: RestoreTestJudgment;
  cost?: RestoreTestCost;
}

export interface RestoreTestEnv {
  deps: RestoreTestDeps;
  owner: Owner;
  /** Where the sources are (a source's managed master secret is looked up there). */
  primaryRegion: string;
  /** The policy's restoreTest block. */
  policy: RestoreTestConfig;
  janitorLimits: JanitorLimits;
  /** Seconds between looks while waiting (a Step Functions Wait in production). */
  pollSeconds: number;
  /** A restore not available after this many seconds is a failed test (stuck), and is deleted. */
  availableTimeoutSeconds: number;
  /** The delete step gives up (fails the run, the janitor removes the throwaway later) after this many seconds. */
  deleteTimeoutSeconds: number;
}

export type RestoreTestStep = StepModule<RestoreTestRun, RestoreTestStepName, RestoreTestEnv>;

export function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return e?.name && e.message ? `${e.name}: ${e.message}` : String(err);
}

/** Statuses after which a restore never becomes available. */
export const RESTORE_FAILED = new Set([
  "failed",
  "incompatible-restore",
  "incompatible-network",
  "incompatible-parameters",
  "storage-full",
  "error",
  "inaccessible-encryption-credentials",
]);
