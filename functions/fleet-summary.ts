import { createHandler } from "../runbooks/lib/handler.ts";
import { runFleetSummary } from "../runbooks/fleet/summary.ts";
import { parseFleetSummaryEvent } from "../schemas/events-fleet.ts";

/** The fleet fan-out's summary (runbooks/fleet/summary.ts): invoked by each fleet job's state machine (stacks/fleet-fanout.ts). */
export const handler = createHandler({ name: "fleet-summary", parse: parseFleetSummaryEvent, run: runFleetSummary });
