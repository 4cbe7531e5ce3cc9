import { deleteStep } from "./delete.ts";
import { janitorStep } from "./janitor.ts";
import { pickStep } from "./pick.ts";
import { reportStep } from "./report.ts";
import { restoreStep } from "./restore.ts";
import type { RestoreTestStep } from "./shared.ts";
import { smokeStep } from "./smoke.ts";
import { waitAvailableStep } from "./wait-available.ts";

export * from "./shared.ts";

/** In run order (RESTORE_TEST_STEP_NAMES). */
export const RESTORE_TEST_STEPS: readonly RestoreTestStep[] = [janitorStep, pickStep, restoreStep, waitAvailableStep, smokeStep, deleteStep, reportStep];
