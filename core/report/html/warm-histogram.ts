import { bucketLatencies } from "../../warm/report.ts";
import { attrs, el, textEl } from "./escape.ts";

export { bucketLatencies };

/**
 * Cache warming latency, one chart per pass (first pass, verification), side by side on the same scale, each
 * with its cache-hit ratio: a histogram over the pass's latency buckets, or, for a run report from before
 * `PassStats.latencyHistogram`, its percentiles. Pure.
 */

export interface WarmPassInput {
  pass: "first" | "verify";
  /** Hits over classified responses; null when nothing was classified. */
  hitRatio: number | null;
  requests: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Answered requests per latency bucket (`PassStats.latencyHistogram`); run reports from before it have none. */
  histogram?: { boundsMs: readonly number[]; counts: readonly number[] };
}

function bucketLabel(bounds: readonly number[], i: number): string {
  return i < bounds.length ? `≤${bounds[i]}` : `>${bounds.at(-1)}`;
}

const PASS_LABEL = { first: "First pass", verify: "Verification pass" } as const;
const W = 300;
const H = 140;

/** One `<g class="histogram" data-pass=...>` per pass; its bars carry `data-bucket` (or `data-percentile`) and `data-count` (or `data-ms`). */
export function renderWarmHistograms(passes: readonly WarmPassInput[]): string {
  const parts: string[] = [];
  const values = passes.map((p) => (p.histogram ? [...p.histogram.counts] : [p.latencyMs.p50, p.latencyMs.p95, p.latencyMs.p99, p.latencyMs.max]));
  const top = Math.max(1, ...values.flat());
  passes.forEach((p, n) => {
    const left = 10 + n * (W + 30);
    const ratio = p.hitRatio === null ? "—" : `${Math.round(p.hitRatio * 100)} %`;
    parts.push(
      `<g${attrs({ class: "histogram", "data-pass": p.pass, "data-hit-ratio": p.hitRatio ?? "", "data-kind": p.histogram ? "buckets" : "percentiles" })}>`,
      textEl("text", { class: "chart-title", x: left, y: 14 }, `${PASS_LABEL[p.pass]}: ${p.requests} requests, cache-hit ratio ${ratio}`),
    );
    const vs = values[n]!;
    const bw = W / vs.length;
    vs.forEach((v, i) => {
      const h = (v / top) * H;
      const x = left + i * bw;
      const y = 24 + H - h;
      const label = p.histogram ? bucketLabel(p.histogram.boundsMs, i) : (["p50", "p95", "p99", "max"] as const)[i]!;
      const data = p.histogram ? { "data-bucket": label, "data-count": v } : { "data-percentile": label, "data-ms": v };
      parts.push(
        `<rect${attrs({ class: `hbar ${p.pass}`, x: x + 2, y, width: bw - 4, height: h, ...data })}>${textEl("title", {}, p.histogram ? `${label} ms: ${v}` : `${label}: ${v} ms`)}</rect>`,
        textEl("text", { class: "tick", x: x + bw / 2, y: 24 + H + 12, "text-anchor": "middle" }, p.histogram ? label : `${label} ${v} ms`),
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
  const xLabel = passes.some((p) => p.histogram)
    ? "latency buckets (ms), count per bucket"
    : "latency percentiles (the run report keeps no per-request latencies)";
  parts.push(textEl("text", { class: "note", x: 10, y: height - 1 }, xLabel));
  return `<svg${attrs({ xmlns: "http://www.w3.org/2000/svg", class: "chart warm-histograms", width, height: height + 4, viewBox: `0 0 ${width} ${height + 4}`, role: "img", "aria-label": "Cache warming latency" })}>${parts.join("")}</svg>`;
}
