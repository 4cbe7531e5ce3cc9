/** Step 4: wait until Route 53 reports the change INSYNC (or its 60 s propagation bound when the id was lost). */
import { step } from "../../../core/failover.ts";
import { errorText, type FailoverCtx, type FailoverStep } from "./shared.ts";

async function checkInsync({ env: { deps, cfg }, run, now }: FailoverCtx): ReturnType<FailoverStep["start"]> {
  if (!run.dnsChangeId) {
    // Change id lost in a crash: Route 53 makes a change INSYNC within 60 s of acceptance.
    const since = Date.parse(step(run, "dns-change").endedAt ?? now.toISOString());
    if (now.getTime() - since >= 60_000)
      return { kind: "done", result: "INSYNC (assumed)", reason: "change id unknown: 60 s elapsed, Route 53's propagation bound" };
    return { kind: "wait", seconds: Math.ceil((60_000 - (now.getTime() - since)) / 1000), reason: "change id unknown: waiting Route 53's 60 s bound" };
  }
  let status: "PENDING" | "INSYNC";
  try {
    status = await deps.dns.getChange(run.dnsChangeId);
  } catch (err) {
    return { kind: "wait", seconds: cfg.pollSeconds, reason: `GetChange failed (${errorText(err)}): polling again` };
  }
  if (status === "INSYNC") return { kind: "done", result: "INSYNC", reason: `change ${run.dnsChangeId}` };
  return { kind: "wait", seconds: Math.min(cfg.pollSeconds, 10), reason: `change ${run.dnsChangeId} PENDING` };
}

export const dnsInsync: FailoverStep = {
  name: "dns-insync",
  describe: () => "wait for the change to be INSYNC",
  timeoutSeconds: ({ cfg }) => cfg.dnsTimeoutMinutes * 60,
  timedOut: ({ cfg }) => ({
    reason: `Route 53 change not INSYNC after ${cfg.dnsTimeoutMinutes} min`,
    manualSteps: ["The change was accepted; check it with aws route53 get-change and the record's value. The database stays promoted."],
  }),
  start: checkInsync,
  resume: checkInsync,
};
