/**
 * How the restore-test function finds the checker function of a restore region: a fixed function name per stage (the
 * same in every region, each region's own function), so the IAM grant (stacks/iam-scopes.ts) and the deploy
 * (stacks/restore-test.ts) agree without a deploy-time lookup, and an environment variable per region naming it, set
 * only for the regions that have one. No SDK here: stacks/ and the handler both read it.
 */

/** Lambda function names are at most 64 characters (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). */
export const MAX_FUNCTION_NAME = 64;

/** `<app>-<stage>-restore-test-checker`. */
export function checkerFunctionName(owner: { app: string; stage: string }): string {
  const name = `${owner.app}-${owner.stage}-restore-test-checker`;
  if (name.length > MAX_FUNCTION_NAME) {
    throw new Error(`checker function name ${name} is ${name.length} characters, Lambda allows ${MAX_FUNCTION_NAME}: shorten app or stage`);
  }
  return name;
}

/** `OPS_AUTOPILOT_RESTORE_TEST_CHECKER_EU_CENTRAL_1` for eu-central-1. */
export function checkerEnvName(region: string): string {
  return `OPS_AUTOPILOT_RESTORE_TEST_CHECKER_${region.toUpperCase().replace(/-/g, "_")}`;
}
