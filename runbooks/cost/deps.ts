import { fetchCosts } from "../../adapters/cost-explorer.ts";
import { s3AlertState } from "../../adapters/alert-state.ts";
import { linkedBucket } from "../lib/resources.ts";
import type { RunContext } from "../lib/handler.ts";
import type { CostDeps } from "./cost.ts";

/**
 * Real dependencies of the cost runbook (used by functions/cost.ts). The cost incidents are the alert lifecycle's
 * state of source "cost" in the reports bucket (`state/alerts/cost.json`, adapters/alert-state.ts), read only when
 * the run opens it. Its messages go out through the handler chain's `post` (the cost channel).
 */
export function costDeps(ctx: RunContext): CostDeps {
  return {
    fetch: (req) => fetchCosts(req),
    alertState: () => s3AlertState(linkedBucket(ctx.config), "cost"),
  };
}
