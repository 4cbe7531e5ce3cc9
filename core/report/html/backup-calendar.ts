import { attrs, el, escapeHtml, textEl } from "./escape.ts";

/**
 * The backup year as a calendar heatmap: one cell per day per resource and region, coloured by what happened
 * to that day's backup (created in the primary region, copied to DR, failed, missing) and by the tier it is
 * kept in at the end of the year; pruning freezes outlined, days with pruned snapshots dotted. Pure: the
 * drill feeds it the day states of the simulated year (`runBackupYear`'s `onDay`), production the saved run
 * reports.
 */

export type KeptTier = "daily" | "weekly" | "monthly";

/** What the calendar needs of one simulated or reported day (a subset of the backup scenario's `DayState`). */
export interface BackupDayInput {
  day: string;
  /** After the day's prune: backup days kept, per `<region>/<resource>`. */
  kept: Record<string, readonly string[]>;
  /** `<region>/<resource>: <reason>` for each pair whose pruning was frozen. */
  frozen: readonly string[];
  /** Failed items of the day's runs (`<function>: <item>: ...`): `backup:` ones fail the primary's cell, `copy:` ones the DR's. */
  failures: readonly string[];
  /** Every snapshot creation failed that day. */
  outage: boolean;
}

export type CellKind = "created" | "copied" | "failed" | "missing";

export interface CalendarCell {
  date: string;
  kind: CellKind;
  frozen: boolean;
  /** Backups of this resource and region pruned on this day. */
  pruned: number;
  /** The tier this day's backup is kept in at the end; undefined when it was pruned or never made. */
  tier?: KeptTier;
}

export interface CalendarRow {
  region: string;
  resource: string;
  /** The primary region creates; the others receive copies. */
  primary: boolean;
  cells: CalendarCell[];
}

export interface BackupCalendar {
  start: string;
  end: string;
  rows: CalendarRow[];
}

/**
 * Accumulates day states into calendar rows, one per `<region>/<resource>` key given, in that order.
 *
 * @example
 *   const c = backupCalendarCollector({ primaryRegion: "eu-west-1", keys: ["eu-west-1/app-db"] });
 *   c.add({ day: "2025-10-01", kept: { "eu-west-1/app-db": ["2025-10-01"] }, frozen: [], failures: [], outage: false });
 *   c.finish(() => "daily").rows[0].cells[0] // { date: "2025-10-01", kind: "created", frozen: false, pruned: 0, tier: "daily" }
 */
export function backupCalendarCollector(options: { primaryRegion: string; keys: readonly string[] }): {
  add(day: BackupDayInput): void;
  finish(tierOf: (key: string, day: string) => KeptTier | undefined): BackupCalendar;
} {
  const rows = options.keys.map((key) => {
    const slash = key.indexOf("/");
    const region = key.slice(0, slash);
    return { key, region, resource: key.slice(slash + 1), primary: region === options.primaryRegion, cells: [] as CalendarCell[] };
  });
  const previous = new Map<string, Set<string>>();
  let last: BackupDayInput | undefined;
  return {
    add(d) {
      last = d;
      for (const row of rows) {
        const now = new Set(d.kept[row.key] ?? []);
        const before = previous.get(row.key) ?? new Set<string>();
        let pruned = 0;
        for (const day of before) if (!now.has(day)) pruned++;
        previous.set(row.key, now);
        // The primary region fails at the backup (or in an outage of creation); a DR region at the copy.
        const failed = row.primary
          ? d.outage || d.failures.some((f) => f.startsWith("backup:") && f.includes(row.resource))
          : d.failures.some((f) => f.startsWith("copy:") && f.includes(row.resource));
        const kind: CellKind = now.has(d.day) ? (row.primary ? "created" : "copied") : failed ? "failed" : "missing";
        const frozen = d.frozen.some((f) => f.startsWith(`${row.key}:`));
        row.cells.push({ date: d.day, kind, frozen, pruned });
      }
    },
    finish(tierOf) {
      for (const row of rows) {
        const keptAtEnd = new Set(last?.kept[row.key] ?? []);
        for (const cell of row.cells) {
          const tier = keptAtEnd.has(cell.date) ? tierOf(row.key, cell.date) : undefined;
          if (tier) cell.tier = tier;
        }
      }
      return {
        start: rows[0]?.cells[0]?.date ?? last?.day ?? "",
        end: last?.day ?? "",
        rows: rows.map(({ region, resource, primary, cells }) => ({ region, resource, primary, cells })),
      };
    },
  };
}

const CELL = 9;
const PITCH = 11;
const LABEL = 18;
const LEFT = 28;

/** Monday = 0, as the calendar's rows run. */
function weekdayMon0(day: string): number {
  return (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
}

function dayIndex(start: string, day: string): number {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
}

/**
 * One `<g class="calendar">` per row with `data-region` and `data-resource` (not repeated on each of its ~400 cells, to keep
 * the file small); cells carry `data-date`, `data-kind` and, when set, `data-tier`, `data-frozen`, `data-pruned`.
 */
export function renderBackupCalendar(cal: BackupCalendar): string {
  const days = cal.rows[0]?.cells.length ?? 0;
  const offset = cal.start ? weekdayMon0(cal.start) : 0;
  const weeks = Math.ceil((days + offset) / 7);
  const rowHeight = LABEL + 7 * PITCH + 8;
  const width = LEFT + weeks * PITCH + 4;
  const height = 14 + cal.rows.length * rowHeight;
  const parts: string[] = [];
  // Month labels along the top, at the week holding the 1st of a month; one too close to the previous is left out.
  let lastLabel = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < days; i++) {
    const date = cal.rows[0]!.cells[i]!.date;
    const x = LEFT + Math.floor((i + offset) / 7) * PITCH;
    if ((date.endsWith("-01") || i === 0) && x - lastLabel >= 50) {
      parts.push(textEl("text", { class: "month", x, y: 10 }, date.slice(0, 7)));
      lastLabel = x;
    }
  }
  cal.rows.forEach((row, r) => {
    const top = 14 + r * rowHeight;
    const count = (k: CellKind) => row.cells.filter((c) => c.kind === k).length;
    const pruned = row.cells.reduce((n, c) => n + c.pruned, 0);
    const summary = `${row.primary ? `${count("created")} created` : `${count("copied")} copied`}, ${count("failed")} failed, ${row.cells.filter((c) => c.frozen).length} frozen, ${pruned} pruned, ${row.cells.filter((c) => c.tier).length} kept`;
    parts.push(
      `<g${attrs({ class: "calendar", "data-region": row.region, "data-resource": row.resource })}>`,
      textEl("text", { class: "row-label", x: 0, y: top + 12 }, `${row.resource} · ${row.region}${row.primary ? "" : " (DR)"} — ${summary}`),
    );
    for (const wd of [0, 2, 4])
      parts.push(textEl("text", { class: "weekday", x: 0, y: top + LABEL + wd * PITCH + CELL - 1 }, ["Mon", "", "Wed", "", "Fri"][wd]!));
    row.cells.forEach((c) => {
      const slot = dayIndex(cal.start, c.date) + offset;
      const x = LEFT + Math.floor(slot / 7) * PITCH;
      const y = top + LABEL + (slot % 7) * PITCH;
      const cls = `cell ${c.kind}${c.tier ? ` t-${c.tier}` : ""}${c.frozen ? " frozen" : ""}`;
      const title = `${c.date} ${c.kind}${c.tier ? `, kept ${c.tier}` : ""}${c.frozen ? ", pruning frozen" : ""}${c.pruned ? `, ${c.pruned} pruned` : ""}`;
      parts.push(
        `<rect${attrs({
          class: cls,
          x,
          y,
          width: CELL,
          height: CELL,
          "data-date": c.date,
          "data-kind": c.kind,
          "data-tier": c.tier,
          "data-frozen": c.frozen ? "true" : undefined,
          "data-pruned": c.pruned || undefined,
        })}><title>${escapeHtml(title)}</title></rect>`,
      );
      if (c.pruned)
        parts.push(
          el("circle", { class: "pruned", cx: x + CELL / 2, cy: y + CELL / 2, r: 1.2, "data-date": c.date, "data-kind": "pruned", "data-count": c.pruned }),
        );
    });
    parts.push("</g>");
  });
  return `<svg${attrs({ xmlns: "http://www.w3.org/2000/svg", class: "chart backup-calendar", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Backup calendar ${cal.start} to ${cal.end}` })}>${parts.join("")}</svg>`;
}
