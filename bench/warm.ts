/**
 * Warming benchmark, loopback only: `./node_modules/.bin/node bench/warm.ts [concurrency] [seconds]`.
 *
 * 1. Throughput at concurrency C, unlimited rate: the warmer (`runWarm`) vs autocannon (programmatic
 *    API) on the same local server in the same run, median of 3 rounds. Target ≥ 0.8×. Twice: against
 *    a server answering at once (client CPU-bound) and one answering in 10 ms.
 * 2. Rate accuracy when limited: request arrivals measured at the server. Target within ±5 %.
 *
 * Fairness, so the ratio measures the clients and nothing else:
 * - the origin runs in a child process (its own event loop, heap and GC); both clients run in this
 *   process's main thread, one at a time, so each has the same core to itself and the same origin;
 * - same connection count (C), no pipelining (autocannon's default 1; the warmer's pool pipelining 1),
 *   same page; the origin counts the TCP connections each run opened, printed per round;
 * - about the same duration for both: the warmer's URL count is sized from autocannon's warm-up rate
 *   so each run lasts ~`seconds`, instead of a fixed count finishing in a fraction of a second;
 * - the order alternates between rounds (A then W, W then A, …) so drift in machine load (the cores
 *   are shared) does not always fall on the same tool;
 * - the origin keeps no request log during throughput runs (only arrival times for the rate runs).
 * The client's CPU per request is printed too: on shared cores it moves less than req/s does, and at
 * zero origin latency it is what the ratio is made of. The warmer's includes planning its URLs.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { startWarmServer } from "../sandbox/scenarios/http-origin.ts";

type ToServer = "reset" | "arrivals" | "connections" | "record-on" | "record-off";

if (process.argv.includes("--serve")) {
  const latencyMs = Number(process.argv[process.argv.indexOf("--serve") + 1]);
  const server = await startWarmServer({ cache: false, pageBytes: 2048, latencyMs, record: false });
  process.on("message", (msg: ToServer) => {
    if (msg === "record-on" || msg === "record-off") {
      server.record = msg === "record-on";
      server.requests.length = 0;
      process.send!({ ok: true });
    } else if (msg === "reset") {
      server.requests.length = 0;
      process.send!({ ok: true });
    } else if (msg === "arrivals") {
      const arrivals = server.requests.map((r) => r.at);
      server.requests.length = 0;
      process.send!({ arrivals });
    } else if (msg === "connections") {
      process.send!({ connections: server.connections });
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.send!({ origin: server.origin });
} else {
  // autocannon ships no types; only the fields read here are declared.
  type Autocannon = (options: { url: string; connections: number; pipelining: number; duration: number }) => Promise<{
    requests: { total: number };
    duration: number;
    non2xx: number;
    errors: number;
  }>;
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const { runWarm } = await import("../runbooks/warm/engine.ts");
  const { WarmTargetSetSchema } = await import("../schemas/config-warm.ts");

  const concurrency = Number(process.argv[2] ?? 16);
  const seconds = Number(process.argv[3] ?? 2);
  const pageBytes = 2048;
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  async function startServer(latencyMs: number) {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve", String(latencyMs)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const { origin } = await new Promise<{ origin: string }>((resolve) => child.once("message", resolve as (m: unknown) => void));
    const ask = <T>(msg: ToServer): Promise<T> =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(m as T));
        child.send(msg);
      });
    const connections = async () => (await ask<{ connections: number }>("connections")).connections;
    return { origin, ask, connections, stop: () => child.disconnect() };
  }
  type Server = Awaited<ReturnType<typeof startServer>>;

  const target = (origin: string, n: number, extra: Record<string, unknown>) =>
    WarmTargetSetSchema.parse({
      name: "bench",
      urls: Array.from({ length: n }, (_, i) => `${origin}/page/${i}`),
      allowPrivate: true,
      verify: false,
      limit: 100_000,
      ...extra,
    });

  /** `cpuUs`: this process's CPU (user + system) per request, the origin's excluded: less sensitive to other load on shared cores than req/s. */
  type Run = { rate: number; connections: number; cpuUs: number };
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return used.user + used.system;
  };

  async function warmer(server: Server, n: number): Promise<Run> {
    const targets = target(server.origin, n, { concurrency, ratePerSecond: "unlimited" });
    const before = await server.connections();
    const cpu = process.cpuUsage();
    const report = await runWarm({ targets, now: () => performance.now() });
    const cpuUs = cpuSince(cpu) / report.first!.requested;
    if (report.first!.successPct !== 100) throw new Error(`warmer run failed: ${JSON.stringify(report.first!.byStatus)}`);
    return { rate: (report.first!.requested / report.first!.durationMs) * 1000, connections: (await server.connections()) - before, cpuUs };
  }

  // Duration mode: with `amount`, autocannon only notices the end on its once-a-second tick.
  async function cannon(server: Server, runSeconds: number): Promise<Run> {
    const before = await server.connections();
    const cpu = process.cpuUsage();
    const result = await autocannon({ url: `${server.origin}/page/x`, connections: concurrency, pipelining: 1, duration: runSeconds });
    const cpuUs = cpuSince(cpu) / result.requests.total;
    if (result.non2xx || result.errors) throw new Error(`autocannon run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return { rate: result.requests.total / result.duration, connections: (await server.connections()) - before, cpuUs };
  }

  async function throughput(latencyMs: number) {
    const server = await startServer(latencyMs);
    const warmup = await cannon(server, 1);
    // Size the warmer's runs to last about as long as autocannon's (the schema caps a run at 100,000 URLs).
    const n = Math.min(100_000, Math.max(concurrency * 20, Math.round(warmup.rate * seconds)));
    // A full-size warm-up run: with a short one the warmer was still being optimized by the JIT in round 1.
    await warmer(server, n);
    const w: number[] = [];
    const a: number[] = [];
    const wCpu: number[] = [];
    const aCpu: number[] = [];
    for (let round = 0; round < 3; round++) {
      const order = round % 2 === 0 ? (["a", "w"] as const) : (["w", "a"] as const);
      const runs: Partial<Record<"a" | "w", Run>> = {};
      for (const tool of order) runs[tool] = tool === "a" ? await cannon(server, seconds) : await warmer(server, n);
      a.push(runs.a!.rate);
      w.push(runs.w!.rate);
      aCpu.push(runs.a!.cpuUs);
      wCpu.push(runs.w!.cpuUs);
      console.log(
        `  round ${round + 1} (${order.join(" then ")}): autocannon ${fmt(runs.a!.rate)} req/s, ${runs.a!.cpuUs.toFixed(1)} µs CPU/req, ${runs.a!.connections} connections; ` +
          `warmer ${fmt(runs.w!.rate)} req/s, ${runs.w!.cpuUs.toFixed(1)} µs CPU/req, ${runs.w!.connections} connections (${fmt(n)} URLs)`,
      );
    }
    const ratio = median(w) / median(a);
    console.log(
      `throughput, origin latency ${latencyMs} ms (median of 3): warmer ${fmt(median(w))} req/s, autocannon ${fmt(median(a))} req/s → ratio ${ratio.toFixed(2)} (target ≥ 0.80) ${ratio >= 0.8 ? "OK" : "BELOW TARGET"}; ` +
        `client CPU per request: warmer ${median(wCpu).toFixed(1)} µs, autocannon ${median(aCpu).toFixed(1)} µs`,
    );
    server.stop();
  }

  console.log(`warm bench: loopback, ${pageBytes} B pages, concurrency ${concurrency}, ~${seconds} s per run, origin in a child process`);
  await throughput(0);
  // An origin answering in 10 ms: both tools are bound by keeping C requests in flight.
  await throughput(10);

  const server = await startServer(0);
  await server.ask("record-on");
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
  server.stop();
}
