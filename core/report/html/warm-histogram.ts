import { attrs, el, textEl } from "./escape.ts";

/**
 * Cache warming latency, one chart per pass (first pass, verification), side by side on the same scale, each
 * with its cache-hit ratio. With per-request latencies the chart is a histogram over fixed buckets; a run
 * report keeps only the percentiles (`PassStats.latencyMs`), and then the chart shows those instead. Pure.
 */

export interface WarmPassInput {
  pass: "first" | "verify";
  /** Hits over classified responses; null when nothing was classified. */
  hitRatio: number | null;
  requests: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Per-request latencies, when the caller kept them. */
  samplesMs?: readonly number[];
}

/** Bucket upper bounds in ms; the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [5, 10, 20, 50, 100, 200, 500, 1000] as const;

/**
 * Counts per bucket of {@link LATENCY_BUCKETS_MS} plus one for everything above the last bound.
 *
 * @example bucketLatencies([1, 7, 7, 2000]) // [1, 2, 0, 0, 0, 0, 0, 0, 1]
 */
export function bucketLatencies(samples: readonly number[]): number[] {
  const counts = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, () => 0);
  for (const s of samples) {
    const i = LATENCY_BUCKETS_MS.findIndex((b) => s <= b);
    counts[i === -1 ? LATENCY_BUCKETS_MS.length : i]!++;
  }
  return counts;
}

function bucketLabel(i: number): string {
  return i < LATENCY_BUCKETS_MS.length ? `≤${LATENCY_BUCKETS_MS[i]}` : `>${LATENCY_BUCKETS_MS.at(-1)}`;
}

const PASS_LABEL = { first: "First pass", verify: "Verification pass" } as const;
const W = 300;
const H = 140;

/** One `<g class="histogram" data-pass=...>` per pass; its bars carry `data-bucket` (or `data-percentile`) and `data-count` (or `data-ms`). */
export function renderWarmHistograms(passes: readonly WarmPassInput[]): string {
  const parts: string[] = [];
  const values = passes.map((p) => (p.samplesMs ? bucketLatencies(p.samplesMs) : [p.latencyMs.p50, p.latencyMs.p95, p.latencyMs.p99, p.latencyMs.max]));
  const top = Math.max(1, ...values.flat());
  passes.forEach((p, n) => {
    const left = 10 + n * (W + 30);
    const ratio = p.hitRatio === null ? "—" : `${Math.round(p.hitRatio * 100)} %`;
    parts.push(
      `<g${attrs({ class: "histogram", "data-pass": p.pass, "data-hit-ratio": p.hitRatio ?? "", "data-kind": p.samplesMs ? "buckets" : "percentiles" })}>`,
      textEl("text", { class: "chart-title", x: left, y: 14 }, `${PASS_LABEL[p.pass]}: ${p.requests} requests, cache-hit ratio ${ratio}`),
    );
    const vs = values[n]!;
    const bw = W / vs.length;
    vs.forEach((v, i) => {
      const h = (v / top) * H;
      const x = left + i * bw;
      const y = 24 + H - h;
      const label = p.samplesMs ? bucketLabel(i) : (["p50", "p95", "p99", "max"] as const)[i]!;
      const data = p.samplesMs ? { "data-bucket": label, "data-count": v } : { "data-percentile": label, "data-ms": v };
      parts.push(
        `<rect${attrs({ class: `hbar ${p.pass}`, x: x + 2, y, width: bw - 4, height: h, ...data })}>${textEl("title", {}, p.samplesMs ? `${label} ms: ${v}` : `${label}: ${v} ms`)}</rect>`,
        textEl("text", { class: "tick", x: x + bw / 2, y: 24 + H + 12, "text-anchor": "middle" }, p.samplesMs ? label : `${label} ${v} ms`),
      );
    });
    parts.push(el("line", { class: "axis", x1: left, x2: left + W, y1: 24 + H, y2: 24 + H }));
    // The hit ratio as a gauge under the chart.
    parts.push(el("rect", { class: "gauge", x: left, y: 24 + H + 20, width: W, height: 8 }));
    parts.push(
      el("rect", {
        class: "gauge-fill",
        x: left,
        y: 24 + H + 20,
        width: W * (p.hitRatio ?? 0),
        height: 8,
        "data-kind": "hit-ratio",
        "data-value": p.hitRatio ?? "",
      }),
    );
    parts.push("</g>");
  });
  const width = 10 + passes.length * (W + 30);
  const height = 24 + H + 34;
  const xLabel = passes.some((p) => p.samplesMs)
    ? "latency buckets (ms), count per bucket"
    : "latency percentiles (the run report keeps no per-request latencies)";
  parts.push(textEl("text", { class: "note", x: 10, y: height - 1 }, xLabel));
  return `<svg${attrs({ xmlns: "http://www.w3.org/2000/svg", class: "chart warm-histograms", width, height: height + 4, viewBox: `0 0 ${width} ${height + 4}`, role: "img", "aria-label": "Cache warming latency" })}>${parts.join("")}</svg>`;
}
