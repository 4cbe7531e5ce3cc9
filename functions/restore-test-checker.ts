import { makeCheckerHandler } from "../runbooks/restore-test/checker.ts";

/**
 * Restore-test checker: the SQL smoke checks of a restored RDS instance, from inside its VPC (see
 * runbooks/restore-test/checker.ts). Deployed per restore region by stacks/restore-test.ts; invoked by the restore-test
 * function only (adapters/checker.ts).
 */
export const handler = makeCheckerHandler();
