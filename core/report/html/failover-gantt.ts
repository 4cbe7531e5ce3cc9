import { attrs, el, textEl } from "./escape.ts";

/**
 * The failover as a Gantt timeline: one bar per runbook step from the alarm on, the RTO target as a vertical
 * line, the measured RTO as another, and every throttled attempt (a mutating call that failed with a throttling
 * error) as a marker at its time. Pure.
 */

export interface GanttStep {
  step: string;
  start?: string;
  end?: string;
  result: string;
  reason?: string;
}

export interface GanttInput {
  /** Which scenario or execution, for the heading. */
  title: string;
  timeline: readonly GanttStep[];
  /** The RTO the failover is held to. */
  rtoTargetSeconds: number;
  /** Measured: alarm → healthy; absent when the failover did not finish. */
  rtoSeconds?: number;
  /** Mutating AWS calls with their times; those whose error names throttling are marked. */
  calls: readonly { command: string; at: string; error?: string }[];
}

export const GANTT = { left: 150, width: 640, rowHeight: 22, top: 26 } as const;

/** Throttling as AWS names it (`Throttling`, `ThrottlingException`, `TooManyRequestsException`, Route 53's `PriorRequestNotComplete`). */
export function isThrottle(error: string | undefined): boolean {
  return !!error && /throttl|toomanyrequests|priorrequestnotcomplete|ratelimit/i.test(error);
}

/** Seconds from `t0` to `at`. */
function since(t0: number, at: string | undefined): number | undefined {
  return at === undefined ? undefined : (Date.parse(at) - t0) / 1000;
}

/**
 * The x coordinate of a time `seconds` after the first step's start, on a scale that fits the longest of the
 * timeline, the target and the measured RTO (10 % headroom).
 *
 * @example ganttScale(400)(200) // GANTT.left + GANTT.width / 2.2
 */
export function ganttScale(spanSeconds: number): (seconds: number) => number {
  const span = Math.max(1, spanSeconds) * 1.1;
  return (s) => GANTT.left + (s / span) * GANTT.width;
}

/** Bars carry `data-step`, `data-start`, `data-end`, `data-seconds`, `data-result`; markers `data-kind="throttled"` and `data-at`. */
export function renderFailoverGantt(input: GanttInput): string {
  const starts = input.timeline.map((t) => Date.parse(t.start ?? t.end ?? "")).filter((n) => !Number.isNaN(n));
  const t0 = starts.length ? Math.min(...starts) : 0;
  const ends = input.timeline.map((t) => since(t0, t.end ?? t.start) ?? 0);
  const span = Math.max(input.rtoTargetSeconds, input.rtoSeconds ?? 0, ...ends);
  const x = ganttScale(span);
  const height = GANTT.top + input.timeline.length * GANTT.rowHeight + 34;
  const width = GANTT.left + GANTT.width + 20;
  const parts: string[] = [textEl("text", { class: "chart-title", x: 0, y: 14 }, input.title)];
  // Time axis: a tick per minute (or per 10 s for short timelines).
  const step = span > 120 ? 60 : 10;
  const axisY = GANTT.top + input.timeline.length * GANTT.rowHeight + 4;
  for (let s = 0; s <= span * 1.1; s += step) {
    parts.push(el("line", { class: "grid", x1: x(s), x2: x(s), y1: GANTT.top - 4, y2: axisY }));
    parts.push(textEl("text", { class: "tick", x: x(s), y: axisY + 12, "text-anchor": "middle" }, step === 60 ? `${s / 60} min` : `${s} s`));
  }
  input.timeline.forEach((t, i) => {
    const y = GANTT.top + i * GANTT.rowHeight;
    const s0 = since(t0, t.start ?? t.end) ?? 0;
    const s1 = since(t0, t.end ?? t.start) ?? s0;
    parts.push(textEl("text", { class: "step-label", x: GANTT.left - 6, y: y + 14, "text-anchor": "end" }, t.step));
    parts.push(
      `<rect${attrs({
        class: `bar ${/fail|refus|error|timeout/i.test(t.result) ? "bad" : "ok"}`,
        x: x(s0),
        y: y + 3,
        // A step that starts and ends in the same second still gets a visible sliver.
        width: Math.max(2, x(s1) - x(s0)),
        height: GANTT.rowHeight - 6,
        "data-step": t.step,
        "data-start": t.start,
        "data-end": t.end,
        "data-seconds": Math.round((s1 - s0) * 10) / 10,
        "data-result": t.result,
      })}>${textEl("title", {}, `${t.step}: ${t.result} (${Math.round(s1 - s0)} s)${t.reason ? ` — ${t.reason}` : ""}`)}</rect>`,
    );
    parts.push(textEl("text", { class: "bar-label", x: Math.max(2, x(s1) - x(s0)) + x(s0) + 4, y: y + 14 }, t.result));
  });
  for (const c of input.calls.filter((c) => isThrottle(c.error))) {
    const s = since(t0, c.at) ?? 0;
    const row = input.timeline.findIndex((t) => (since(t0, t.start) ?? 0) <= s && s <= (since(t0, t.end) ?? s));
    const y = GANTT.top + Math.max(0, row) * GANTT.rowHeight + GANTT.rowHeight / 2;
    parts.push(
      `<path${attrs({ class: "throttled", d: `M${x(s)} ${y - 6}l5 6l-5 6l-5 -6z`, "data-kind": "throttled", "data-at": c.at, "data-command": c.command })}>${textEl("title", {}, `${c.command} throttled (${c.error}) at ${c.at.slice(11, 23)}`)}</path>`,
    );
  }
  const bottom = axisY;
  parts.push(
    el("line", {
      class: "rto-target",
      x1: x(input.rtoTargetSeconds),
      x2: x(input.rtoTargetSeconds),
      y1: GANTT.top - 8,
      y2: bottom,
      "data-kind": "rto-target",
      "data-seconds": input.rtoTargetSeconds,
    }),
  );
  parts.push(
    textEl("text", { class: "rto-target-label", x: x(input.rtoTargetSeconds) + 3, y: GANTT.top - 10 }, `RTO target ${Math.round(input.rtoTargetSeconds)} s`),
  );
  if (input.rtoSeconds !== undefined) {
    const met = input.rtoSeconds <= input.rtoTargetSeconds;
    parts.push(
      el("line", {
        class: `rto ${met ? "met" : "missed"}`,
        x1: x(input.rtoSeconds),
        x2: x(input.rtoSeconds),
        y1: GANTT.top - 4,
        y2: bottom,
        "data-kind": "rto",
        "data-seconds": input.rtoSeconds,
      }),
    );
    parts.push(
      textEl(
        "text",
        { class: "rto-label", x: x(input.rtoSeconds) - 3, y: bottom + 24, "text-anchor": "end" },
        `RTO ${Math.round(input.rtoSeconds)} s (${met ? "met" : "missed"})`,
      ),
    );
  }
  return `<svg${attrs({ xmlns: "http://www.w3.org/2000/svg", class: "chart failover-gantt", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": input.title })}>${parts.join("")}</svg>`;
}
