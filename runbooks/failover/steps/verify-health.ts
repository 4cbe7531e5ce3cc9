/** Step 6: the DR application's health URL answers 2xx in time, `healthChecks` times in a row. */
import type { FailoverCtx, FailoverStep } from "./shared.ts";

async function verify({ env: { deps, group } }: FailoverCtx): ReturnType<FailoverStep["start"]> {
  const need = group.healthChecks;
  let consecutive = 0;
  let last = "";
  // A slow or flapping endpoint gets a few extra tries before it counts as down (one slow answer is not an outage).
  for (let attempt = 1; attempt <= need + 2 && consecutive < need; attempt++) {
    const r = await deps.probe.check(group.healthUrl, group.healthTimeoutMs);
    last = r.detail;
    consecutive = r.ok ? consecutive + 1 : 0;
    if (consecutive < need && attempt < need + 2) await deps.clock.sleep(5_000);
  }
  if (consecutive >= need) return { kind: "done", result: "healthy", reason: `${need} consecutive healthy answers; last: ${last}` };
  return {
    kind: "fail",
    reason: `DR health check failed: ${last}`,
    manualSteps: [
      "The database WAS promoted and DNS points at the DR region. There is NO automatic failback.",
      `Investigate the DR application behind ${group.healthUrl} (logs, config pointing at the new writer, security groups).`,
      "Once fixed, check health by hand; reset the latch when the incident is closed.",
    ],
  };
}

export const verifyHealth: FailoverStep = {
  name: "verify-health",
  describe: ({ group }) => `verify ${group.healthUrl} answers 2xx within ${group.healthTimeoutMs} ms, ${group.healthChecks} times`,
  start: verify,
  resume: verify,
};
