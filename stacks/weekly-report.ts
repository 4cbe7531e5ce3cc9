/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import type { FunctionDeps } from "./lambda.ts";
import { scheduledFunction, type ScheduledFunction } from "./schedules.ts";

/**
 * The weekly HTML report (issue 12): on `schedules.weeklyReport`, from the saved run reports to
 * `reports/weekly/<yyyy>-W<ww>.html`. The bucket is named in its environment rather than linked (`Reports` grants
 * every object; stacks/iam-scopes.ts gives this function reads under `reports/` and writes under `reports/weekly/`).
 */
export function weeklyReport(
  config: Config,
  deps: FunctionDeps & { dlq: sst.aws.Queue },
  bucket: { name: $util.Output<string>; arn: $util.Output<string> },
): ScheduledFunction {
  return scheduledFunction("weekly-report", config, {
    ...deps,
    reportsBucketArn: bucket.arn,
    extraEnvironment: { WEEKLY_REPORTS_BUCKET: bucket.name, WEEKLY_REPORTS_REGION: config.primaryRegion },
  });
}
