import type { CostDay, CostSummary } from "../../cost.ts";
import { attrs, el, textEl } from "./escape.ts";

/**
 * Two weeks of spend by service as stacked columns, with the daily threshold as a line, and below them the
 * month so far plus AWS's forecast against the monthly budget. Pure.
 */

export interface SpendInput {
  /** Cost Explorer days; the 14 ending on `reportDate` are drawn (missing days as empty columns). */
  days: readonly CostDay[];
  reportDate: string;
  currency: string;
  dailyThreshold: number;
  monthToDate: Pick<CostSummary["monthToDate"], "total" | "budget">;
  forecast: CostSummary["forecast"];
}

export const SPEND_DAYS = 14;
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac"];
export const SPEND = { left: 56, top: 24, width: 700, height: 200 } as const;

function shift(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Columns carry `data-date`, `data-total`; segments `data-service`, `data-amount`; the line `data-kind="daily-threshold"`. */
export function renderSpendBars(input: SpendInput): string {
  const dates = Array.from({ length: SPEND_DAYS }, (_, i) => shift(input.reportDate, i - SPEND_DAYS + 1));
  const byDate = new Map(input.days.map((d) => [d.date, d]));
  const totals = new Map<string, number>();
  for (const d of dates) for (const [s, v] of Object.entries(byDate.get(d)?.services ?? {})) totals.set(s, (totals.get(s) ?? 0) + v);
  // Biggest service at the bottom of each column, the same order in the legend.
  const services = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([s]) => s);
  const dayTotal = (d: string) => Object.values(byDate.get(d)?.services ?? {}).reduce((a, b) => a + b, 0);
  const top = Math.max(input.dailyThreshold, ...dates.map(dayTotal)) * 1.1;
  const y = (v: number) => SPEND.top + SPEND.height - (v / top) * SPEND.height;
  const money = (v: number) => `${v.toFixed(2)} ${input.currency}`;
  const pitch = SPEND.width / SPEND_DAYS;
  const parts: string[] = [];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(el("line", { class: "grid", x1: SPEND.left, x2: SPEND.left + SPEND.width, y1: y(top * f), y2: y(top * f) }));
    parts.push(textEl("text", { class: "tick", x: SPEND.left - 4, y: y(top * f) + 4, "text-anchor": "end" }, Math.round(top * f)));
  }
  dates.forEach((date, i) => {
    const day = byDate.get(date);
    const x = SPEND.left + i * pitch + 3;
    parts.push(
      `<g${attrs({ class: `column${day?.estimated ? " estimated" : ""}`, "data-date": date, "data-total": Math.round(dayTotal(date) * 100) / 100, "data-missing": day ? undefined : "true" })}>`,
    );
    let acc = 0;
    services.forEach((s, n) => {
      const v = day?.services[s] ?? 0;
      if (v <= 0) return;
      parts.push(
        `<rect${attrs({ class: "segment", fill: PALETTE[n % PALETTE.length], x, y: y(acc + v), width: pitch - 6, height: y(acc) - y(acc + v), "data-service": s, "data-amount": v })}>${textEl("title", {}, `${date} ${s}: ${money(v)}`)}</rect>`,
      );
      acc += v;
    });
    parts.push(
      textEl(
        "text",
        { class: "tick", x: x + (pitch - 6) / 2, y: SPEND.top + SPEND.height + 12, "text-anchor": "middle" },
        `${date.slice(5)}${day?.estimated ? "*" : ""}`,
      ),
    );
    parts.push("</g>");
  });
  parts.push(
    el("line", {
      class: "threshold",
      x1: SPEND.left,
      x2: SPEND.left + SPEND.width,
      y1: y(input.dailyThreshold),
      y2: y(input.dailyThreshold),
      "data-kind": "daily-threshold",
      "data-value": input.dailyThreshold,
    }),
  );
  parts.push(
    textEl(
      "text",
      { class: "threshold-label", x: SPEND.left + SPEND.width, y: y(input.dailyThreshold) - 4, "text-anchor": "end" },
      `daily threshold ${money(input.dailyThreshold)}`,
    ),
  );
  // Legend.
  let lx = SPEND.left;
  const ly = SPEND.top + SPEND.height + 28;
  services.forEach((s, n) => {
    parts.push(el("rect", { x: lx, y: ly - 9, width: 10, height: 10, fill: PALETTE[n % PALETTE.length], "data-kind": "legend", "data-service": s }));
    parts.push(textEl("text", { class: "legend", x: lx + 14, y: ly }, s));
    lx += 24 + s.length * 6.2;
  });
  // Month to date + forecast against the budget.
  const by = ly + 22;
  const mtd = input.monthToDate.total;
  const projected = input.forecast.kind === "projected" ? input.forecast.monthEnd : undefined;
  const scaleMax = Math.max(input.monthToDate.budget, projected ?? 0, mtd) * 1.1;
  const bx = (v: number) => SPEND.left + (v / scaleMax) * SPEND.width;
  parts.push(textEl("text", { class: "tick", x: SPEND.left - 4, y: by + 12, "text-anchor": "end" }, "month"));
  if (projected !== undefined)
    parts.push(el("rect", { class: "forecast", x: bx(0), y: by, width: bx(projected) - bx(0), height: 16, "data-kind": "forecast", "data-value": projected }));
  parts.push(el("rect", { class: "month-to-date", x: bx(0), y: by, width: bx(mtd) - bx(0), height: 16, "data-kind": "month-to-date", "data-value": mtd }));
  parts.push(
    el("line", {
      class: "budget",
      x1: bx(input.monthToDate.budget),
      x2: bx(input.monthToDate.budget),
      y1: by - 4,
      y2: by + 20,
      "data-kind": "budget",
      "data-value": input.monthToDate.budget,
    }),
  );
  const over = projected !== undefined && projected > input.monthToDate.budget;
  parts.push(
    textEl(
      "text",
      { class: `forecast-label${over ? " over" : ""}`, x: SPEND.left, y: by + 34 },
      `month to date ${money(mtd)}; ${projected === undefined ? `forecast unavailable${input.forecast.kind === "unavailable" ? ` (${input.forecast.reason})` : ""}` : `forecast ${money(projected)}`} vs budget ${money(input.monthToDate.budget)}${over ? " — over budget" : ""}`,
    ),
  );
  const width = SPEND.left + SPEND.width + 10;
  const height = by + 42;
  return `<svg${attrs({ xmlns: "http://www.w3.org/2000/svg", class: "chart spend-bars", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Spend by service, ${dates[0]} to ${input.reportDate}` })}>${parts.join("")}</svg>`;
}
