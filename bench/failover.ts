/**
 * Failover orchestration overhead: wall time of a whole region-outage runbook (pre-checks, latch, every step,
 * every checkpoint write, reports, Slack rendering, the state-machine loop) against the sandbox, where AWS
 * waits (promotion, INSYNC, backoff sleeps) are simulated time and cost nothing. Target: p99 ≤ 2 s.
 *
 *   ./node_modules/.bin/node bench/failover.ts [runs]
 */
import { runRegionOutageScenario } from "../sandbox/scenarios/failover-scenarios.ts";

const runs = Number(process.argv[2] ?? 200);
const times: number[] = [];
let last: Awaited<ReturnType<typeof runRegionOutageScenario>> | undefined;
for (let i = 0; i < runs + 5; i++) {
  const t0 = performance.now();
  last = await runRegionOutageScenario();
  const ms = performance.now() - t0;
  if (last.result !== "done") throw new Error(`run ${i} ended ${last.result}: ${last.reason}`);
  if (i >= 5) times.push(ms); // first runs warm up the JIT and module cache
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
console.log(`failover orchestration overhead over ${runs} runs (sandbox, simulated AWS waits excluded)`);
console.log(`  p50 ${q(50).toFixed(1)} ms   p99 ${q(99).toFixed(1)} ms   max ${times.at(-1)!.toFixed(1)} ms   (target p99 ≤ 2000 ms)`);
console.log(`  simulated: RTO ${last!.rtoSeconds} s, RPO ${last!.rpoSeconds} s, writable ${last!.writableSeconds} s, DNS INSYNC ${last!.dnsInsyncSeconds} s`);
