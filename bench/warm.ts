/**
 * Warming benchmark, loopback only: `./node_modules/.bin/node bench/warm.ts [concurrency] [requests]`.
 *
 * 1. Throughput at concurrency C, unlimited rate: the warmer (`runWarm`) vs autocannon (programmatic
 *    API) on the same local server in the same run, alternating, median of 3 rounds. Target ≥ 0.8×.
 *    Twice: against a server answering at once (client CPU-bound) and one answering in 10 ms.
 * 2. Rate accuracy when limited: request arrivals measured at the server. Target within ±5 %.
 *
 * The server runs in a worker thread so client and server do not share one event loop.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { createRequire } from "node:module";
import { startWarmServer } from "./warm-server.ts";

if (!isMainThread) {
  const data = workerData as { pageBytes: number; latencyMs: number };
  const server = await startWarmServer({ cache: false, pageBytes: data.pageBytes, latencyMs: data.latencyMs });
  // Only arrival times are kept: a bench of 10^5 requests must not hold their headers.
  const arrivals: number[] = [];
  parentPort!.on("message", (msg: string) => {
    if (msg === "reset") {
      server.requests.length = 0;
      parentPort!.postMessage({ ok: true });
    } else if (msg === "arrivals") {
      arrivals.length = 0;
      for (const r of server.requests) arrivals.push(r.at);
      server.requests.length = 0;
      parentPort!.postMessage({ arrivals });
    }
  });
  // Trim the request log continuously: the throughput rounds do not need it.
  setInterval(() => {
    if (server.requests.length > 200_000) server.requests.length = 0;
  }, 1000).unref();
  parentPort!.postMessage({ origin: server.origin });
} else {
  // autocannon ships no types; only the fields read here are declared.
  type Autocannon = (options: { url: string; connections: number; duration: number }) => Promise<{
    requests: { total: number };
    duration: number;
    non2xx: number;
    errors: number;
  }>;
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const { runWarm } = await import("../adapters/http-warm.ts");
  const { WarmTargetSetSchema } = await import("../schemas/config-warm.ts");

  const concurrency = Number(process.argv[2] ?? 16);
  const requests = Number(process.argv[3] ?? 10_000);
  const pageBytes = 2048;
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  async function startServer(latencyMs: number) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { pageBytes, latencyMs } });
    const { origin } = await new Promise<{ origin: string }>((resolve) => worker.once("message", resolve));
    const ask = <T>(msg: string): Promise<T> =>
      new Promise((resolve) => {
        worker.once("message", (m: T) => resolve(m));
        worker.postMessage(msg);
      });
    return { origin, ask, stop: () => worker.terminate() };
  }

  const target = (origin: string, n: number, extra: Record<string, unknown>) =>
    WarmTargetSetSchema.parse({
      name: "bench",
      urls: Array.from({ length: n }, (_, i) => `${origin}/page/${i}`),
      allowPrivate: true,
      verify: false,
      limit: 100_000,
      ...extra,
    });

  async function warmer(origin: string, n: number): Promise<number> {
    const report = await runWarm({ targets: target(origin, n, { concurrency, ratePerSecond: "unlimited" }), now: () => performance.now() });
    if (report.first!.successPct !== 100) throw new Error(`warmer run failed: ${JSON.stringify(report.first!.byStatus)}`);
    return (report.first!.requested / report.first!.durationMs) * 1000;
  }

  // Duration mode: with `amount`, autocannon only notices the end on its once-a-second tick.
  async function cannon(origin: string, seconds: number): Promise<number> {
    const result = await autocannon({ url: `${origin}/page/x`, connections: concurrency, duration: seconds });
    if (result.non2xx || result.errors) throw new Error(`autocannon run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.total / result.duration;
  }

  async function throughput(latencyMs: number, n: number) {
    const server = await startServer(latencyMs);
    await cannon(server.origin, 1);
    await warmer(server.origin, Math.min(2000, n));
    const w: number[] = [];
    const a: number[] = [];
    for (let round = 0; round < 3; round++) {
      a.push(await cannon(server.origin, 2));
      w.push(await warmer(server.origin, n));
      console.log(`  round ${round + 1}: autocannon ${fmt(a.at(-1)!)} req/s, warmer ${fmt(w.at(-1)!)} req/s`);
    }
    const ratio = median(w) / median(a);
    console.log(
      `throughput, origin latency ${latencyMs} ms (median of 3): warmer ${fmt(median(w))} req/s, autocannon ${fmt(median(a))} req/s → ratio ${ratio.toFixed(2)} (target ≥ 0.80) ${ratio >= 0.8 ? "OK" : "BELOW TARGET"}`,
    );
    await server.stop();
  }

  console.log(`warm bench: loopback, ${pageBytes} B pages, concurrency ${concurrency}`);
  await throughput(0, requests);
  // An origin answering in 10 ms: both tools are bound by keeping C requests in flight.
  await throughput(10, Math.round(concurrency * 100 * 2));

  const server = await startServer(0);
  for (const rate of [20, 100, 400]) {
    const n = Math.max(40, Math.round(rate * 2.5));
    await server.ask("reset");
    const report = await runWarm({ targets: target(server.origin, n, { concurrency, ratePerSecond: rate }), now: () => performance.now() });
    const { arrivals } = await server.ask<{ arrivals: number[] }>("arrivals");
    arrivals.sort((x, y) => x - y);
    const measured = ((arrivals.length - 1) / (arrivals.at(-1)! - arrivals[0]!)) * 1000;
    const error = (measured - rate) / rate;
    console.log(
      `rate ${rate}/s over ${n} requests: measured at the server ${measured.toFixed(1)}/s (${error >= 0 ? "+" : ""}${(error * 100).toFixed(1)} %), ` +
        `${report.first!.successPct}% ok; target ±5 % ${Math.abs(error) <= 0.05 ? "OK" : "OUT OF RANGE"}`,
    );
  }
  await server.stop();
}
