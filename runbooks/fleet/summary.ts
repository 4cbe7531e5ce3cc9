import { fleetSlackMessage, summarizeFleet } from "../../core/fleet-summary.ts";
import type { ItemFailure } from "../../core/types.ts";
import type { FleetSummaryEvent } from "../../schemas/events-fleet.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The fleet fan-out's last step (stacks/fleet-fanout-definition.ts Summary): one run report and one Slack summary for
 * every member account × region of a job. It calls no AWS API itself: the handler chain saves the report and posts the
 * message. A failed item is a failure of this run too, so the chain reports it once and rethrows (the alert and the
 * execution's ExecutionsFailed alarm); each failure names the account, its id and the region.
 */
export async function runFleetSummary(event: FleetSummaryEvent, _ctx: RunContext): Promise<RunOutcome> {
  const report = summarizeFleet(event);
  const failures: ItemFailure[] = report.accounts.flatMap((a) =>
    a.regions
      .filter((r) => !r.ok)
      .map((r) => ({
        item: `${a.accountName} (${a.account})`,
        region: r.region,
        kind: "fatal" as const,
        message: `${r.error}${r.message ? `: ${r.message}` : ""}`,
      })),
  );
  return { report: { ...report }, message: fleetSlackMessage(report), failures };
}
