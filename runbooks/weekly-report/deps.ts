import { listReportKeys, putHtml, readReportText } from "../../adapters/report-store.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { MAX_OBJECTS, type WeeklyReportDeps } from "./weekly-report.ts";

/**
 * The Reports bucket as stacks/weekly-report.ts hands it to the function: by name in the environment, not through
 * the `Reports` link, whose grants (every object of the bucket) are wider than this function needs
 * (stacks/iam-scopes.ts: list under `reports/`, read `reports/*`, write `reports/weekly/*` and its own run reports).
 */
export function weeklyReportsBucket(env: Record<string, string | undefined> = process.env): BucketRef {
  const bucket = env.WEEKLY_REPORTS_BUCKET;
  const region = env.WEEKLY_REPORTS_REGION;
  if (!bucket || !region) throw new Error("WEEKLY_REPORTS_BUCKET and WEEKLY_REPORTS_REGION must be set (stacks/weekly-report.ts)");
  return { bucket, region };
}

/** Real dependencies of the weekly report (used by functions/weekly-report.ts). */
export function weeklyReportDeps(ref: () => BucketRef): WeeklyReportDeps {
  return {
    bucket: ref,
    list: (prefix) => listReportKeys(ref(), prefix, MAX_OBJECTS),
    read: (key) => readReportText(ref(), key),
    write: (key, html) => putHtml(ref(), key, html),
  };
}
