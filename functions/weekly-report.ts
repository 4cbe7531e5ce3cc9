import { createHandler } from "../runbooks/lib/handler.ts";
import { parseWeeklyReportEvent } from "../schemas/events-weekly-report.ts";
import { runWeeklyReport } from "../runbooks/weekly-report/weekly-report.ts";
import { weeklyReportDeps, weeklyReportsBucket } from "../runbooks/weekly-report/deps.ts";

/**
 * Weekly HTML report: see runbooks/weekly-report/weekly-report.ts. Scheduled by stacks/weekly-report.ts; manual samples in
 * events/weekly-report-*.json. Not linked to `Reports` (narrower grants): its own run report goes to the bucket named in its environment.
 */
export const handler = createHandler(
  {
    name: "weekly-report",
    parse: parseWeeklyReportEvent,
    run: (event, ctx) =>
      runWeeklyReport(
        event,
        ctx,
        weeklyReportDeps(() => weeklyReportsBucket()),
      ),
  },
  { reportBucket: () => weeklyReportsBucket() },
);
