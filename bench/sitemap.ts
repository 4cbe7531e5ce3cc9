/**
 * Sitemap scale benchmark, loopback only: `npm run bench:sitemap` (or `node bench/sitemap.ts [limit...]`).
 *
 * A sitemap index of 10 children × 50,000 URLs (the sitemaps.org maximum per file): 500,000 URLs,
 * served by an origin in a child process (its memory is not ours), gzip-compressed as `.xml.gz` and
 * again as plain XML. For each target limit, `runWarm` plans the set in dry-run (it reads every sitemap
 * and resolves hosts, and sends no warming request) in a fresh process, so the peak figures are the
 * warmer's own: peak RSS (`process.resourceUsage().maxRSS`), peak V8 heap in use (sampled every 5 ms,
 * garbage included), peak live heap (in use right after a full GC forced every 500 ms: what the run
 * really holds), wall time, and the size of the JSON run report. A first run without sitemaps gives the
 * baseline (Node and the modules). The warm function has 1,024 MB and the failover function, which warms
 * too, 512 MB (`stacks/functions.ts`): every run must stay well under 512 MB, and a last run repeats the
 * largest case with V8's old generation capped at 128 MB, what V8 picks for itself in 512 MB.
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { gzipSync } from "node:zlib";

const CHILDREN = 10;
const PER_CHILD = 50_000;

function urlsetXml(child: number, origin: string): string {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'];
  for (let i = 0; i < PER_CHILD; i++) {
    const n = child * PER_CHILD + i;
    // Priorities and lastmods vary so the plan has to order, not just take the first ones.
    parts.push(
      `<url><loc>${origin}/products/category-${n % 97}/item-${n}?ref=sitemap&amp;v=1</loc><lastmod>2026-${String((n % 12) + 1).padStart(2, "0")}-01</lastmod><priority>${((n * 7919) % 10) / 10}</priority></url>\n`,
    );
  }
  parts.push("</urlset>\n");
  return parts.join("");
}

async function serve(): Promise<void> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const files = new Map<string, { body: Buffer; type: string }>();
  const index = (ext: string) =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${Array.from(
        { length: CHILDREN },
        (_, c) => `<sitemap><loc>${origin}/sitemap-${c}.${ext}</loc></sitemap>`,
      ).join("\n")}\n</sitemapindex>\n`,
    );
  files.set("/sitemap-gz.xml", { body: index("xml.gz"), type: "application/xml" });
  files.set("/sitemap-plain.xml", { body: index("xml"), type: "application/xml" });
  for (let c = 0; c < CHILDREN; c++) {
    const xml = urlsetXml(c, origin);
    files.set(`/sitemap-${c}.xml`, { body: Buffer.from(xml), type: "application/xml" });
    files.set(`/sitemap-${c}.xml.gz`, { body: gzipSync(xml), type: "application/gzip" });
  }
  server.on("request", (req, res) => {
    const f = files.get(req.url ?? "");
    if (!f) {
      res.writeHead(404, { "content-length": 0 });
      return void res.end();
    }
    res.writeHead(200, { "content-type": f.type, "content-length": f.body.length });
    res.end(f.body);
  });
  const plain = files.get("/sitemap-0.xml")!.body.length;
  const gz = files.get("/sitemap-0.xml.gz")!.body.length;
  process.send!({ origin, plainBytes: plain, gzBytes: gz });
  // Parsing a file takes a moment: keep the connection for the next one.
  server.keepAliveTimeout = 60_000;
  process.on("disconnect", () => process.exit(0));
}

interface Measured {
  planned: number;
  overLimit: number;
  sitemaps: number;
  errors: string[];
  ms: number;
  maxRssMb: number;
  peakHeapMb: number;
  liveHeapMb: number;
  reportKb: number;
}

async function measure(origin: string, sitemap: string, limit: number): Promise<void> {
  const { runWarm } = await import("../runbooks/warm/engine.ts");
  const { WarmTargetSetSchema } = await import("../schemas/config-warm.ts");
  let peakHeap = 0;
  let liveHeap = 0;
  const sample = () => (peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size));
  const collect = () => {
    (globalThis as { gc?: () => void }).gc?.();
    liveHeap = Math.max(liveHeap, getHeapStatistics().used_heap_size);
  };
  const timer = setInterval(sample, 5);
  const gcTimer = setInterval(collect, 500);
  const targets = WarmTargetSetSchema.parse({
    name: "bench",
    // "none": the modules loaded and one URL planned, the baseline the sitemap runs add to.
    ...(sitemap === "none" ? { urls: [`${origin}/`] } : { sitemaps: [`${origin}/${sitemap}`] }),
    limit,
    allowPrivate: true,
    timeoutMs: 60_000,
  });
  const started = performance.now();
  const report = await runWarm({ targets, now: Date.now, dryRun: true });
  const ms = performance.now() - started;
  sample();
  collect();
  clearInterval(timer);
  clearInterval(gcTimer);
  const out: Measured = {
    planned: report.planned,
    overLimit: report.skippedByKind["over-limit"] ?? 0,
    sitemaps: report.sitemaps.length,
    errors: report.errors.slice(0, 3),
    ms: Math.round(ms),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMb: Math.round(peakHeap / 1024 / 1024),
    liveHeapMb: Math.round(liveHeap / 1024 / 1024),
    reportKb: Math.round(Buffer.byteLength(JSON.stringify(report)) / 1024),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv.includes("--serve")) {
  await serve();
} else if (process.argv.includes("--measure")) {
  const [origin, sitemap, limit] = process.argv.slice(process.argv.indexOf("--measure") + 1);
  await measure(origin!, sitemap!, Number(limit));
} else {
  const limits = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { origin, plainBytes, gzBytes } = await new Promise<{ origin: string; plainBytes: number; gzBytes: number }>((resolve) =>
    child.once("message", resolve as (m: unknown) => void),
  );
  console.log(
    `${CHILDREN} child sitemaps × ${PER_CHILD.toLocaleString("en-US")} URLs = ${(CHILDREN * PER_CHILD).toLocaleString("en-US")} URLs; ` +
      `a child is ${(plainBytes / 1024 / 1024).toFixed(1)} MB plain, ${(gzBytes / 1024 / 1024).toFixed(1)} MB gzip`,
  );
  console.log("sitemaps | limit | V8 heap cap | planned | over limit | time | peak RSS | peak heap in use | peak live heap | report JSON");
  const runs: { sitemap: string; label: string; limit: number; heapCapMb?: number }[] = [{ sitemap: "none", label: "no sitemap", limit: 1 }];
  for (const [sitemap, label] of [
    ["sitemap-gz.xml", "gzip"],
    ["sitemap-plain.xml", "plain"],
  ] as const) {
    for (const limit of limits.length ? limits : [1000, 100_000]) runs.push({ sitemap, label, limit });
  }
  // V8 sizes its old generation at a quarter of the memory it sees: 128 MB in the 512 MB failover function.
  runs.push({ sitemap: "sitemap-plain.xml", label: "plain", limit: Math.max(...runs.map((r) => r.limit)), heapCapMb: 128 });
  for (const { sitemap, label, limit, heapCapMb } of runs) {
    // A fresh process per run: maxRSS is a high-water mark of the whole process.
    const flags = ["--expose-gc", ...(heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : [])];
    const run = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), "--measure", origin, sitemap, String(limit)], {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    const cap = heapCapMb ? `${heapCapMb} MB` : "default";
    if (run.status !== 0) {
      console.log(`${label} | ${limit} | ${cap} | FAILED (exit ${run.status}, signal ${run.signal}): ${run.stderr.split("\n").slice(-6).join(" ")}`);
      continue;
    }
    const m = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Measured;
    console.log(
      `${label} | ${limit.toLocaleString("en-US")} | ${cap} | ${m.planned.toLocaleString("en-US")} | ${m.overLimit.toLocaleString("en-US")} | ` +
        `${(m.ms / 1000).toFixed(2)} s | ${m.maxRssMb} MB | ${m.peakHeapMb} MB | ${m.liveHeapMb} MB | ${m.reportKb.toLocaleString("en-US")} KB` +
        `${m.errors.length ? ` | errors: ${m.errors.join("; ")}` : ""}`,
    );
  }
  child.disconnect();
}
