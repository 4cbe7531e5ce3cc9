import { createHandler } from "../runbooks/lib/handler.ts";
import { probeDeps } from "../runbooks/probe/deps.ts";
import { runProbe } from "../runbooks/probe/probe.ts";
import { parseProbeEvent } from "../schemas/events-probe.ts";

/**
 * Failover trigger probe: see runbooks/probe/probe.ts. Scheduled by stacks/failover.ts in the DR region; manual
 * samples in events/probe-*.json. It posts nothing and keeps no report objects (it runs every minute): a run that
 * fails to publish throws, and the errors alarm tells Slack.
 */
export const handler = createHandler(
  { name: "probe", parse: parseProbeEvent, run: (event, ctx) => runProbe(event, ctx, probeDeps(ctx)), posts: false },
  { saveReport: async () => undefined },
);
