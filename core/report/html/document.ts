import { type BackupCalendar, renderBackupCalendar } from "./backup-calendar.ts";
import { escapeHtml } from "./escape.ts";
import { type GanttInput, renderFailoverGantt } from "./failover-gantt.ts";
import { renderSpendBars, type SpendInput } from "./spend-bars.ts";
import { renderWarmHistograms, type WarmPassInput } from "./warm-histogram.ts";

/**
 * The drill (and weekly) report as one self-contained HTML file: inline CSS and inline SVG only, no script,
 * no stylesheet link, no image or font fetched, so it opens from a bucket, a mail attachment or a laptop with
 * no network and leaks nothing to a third party. Well-formed XML too, so a test can parse it strictly.
 * Sections left out of the input are said to be missing rather than silently dropped. Pure.
 */

export interface DrillHtmlInput {
  title: string;
  /** When the data was produced (ISO). */
  generatedAt: string;
  backup?: BackupCalendar;
  failover?: GanttInput[];
  warm?: WarmPassInput[];
  spend?: SpendInput;
  /** Facts printed under the title (label, value). */
  facts?: readonly [string, string][];
  /** The weekly report's wording: its backup heading, and why a section is missing (default: "No … in this report."). */
  sections?: { backupTitle?: string; missing?: Partial<Record<"backup" | "failover" | "warm" | "spend", string>> };
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta,.missing,.note{color:#59636e}.missing{font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:8px 0}dl.facts dt{color:#59636e}dl.facts dd{margin:0}
.legend-row{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0;font-size:12px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
svg.chart{display:block;margin:8px 0;overflow:visible}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg text.tick,svg text.month,svg text.weekday,svg text.note{fill:#59636e;font-size:10px}
svg text.chart-title,svg text.row-label{font-weight:600}
.cell{fill:#d0d7de}.cell.created{fill:#aceebb}.cell.created.t-daily{fill:#4ac26b}.cell.created.t-weekly{fill:#2da44e}.cell.created.t-monthly{fill:#116329}
.cell.copied{fill:#b6e3ff}.cell.copied.t-daily{fill:#54aeff}.cell.copied.t-weekly{fill:#0969da}.cell.copied.t-monthly{fill:#0a3069}
.cell.failed{fill:#cf222e}.cell.missing{fill:#eaeef2}.cell.frozen{stroke:#bf8700;stroke-width:1.5}circle.pruned{fill:#1f2328;fill-opacity:.45}
.grid{stroke:#eaeef2}.axis{stroke:#59636e}.bar.ok{fill:#2da44e}.bar.bad{fill:#cf222e}
.rto-target{stroke:#cf222e;stroke-width:2;stroke-dasharray:5 3}text.rto-target-label{fill:#cf222e}
.rto.met{stroke:#1a7f37;stroke-width:2}.rto.missed{stroke:#cf222e;stroke-width:2}.throttled{fill:#bf8700;stroke:#1f2328;stroke-width:.5}
.hbar.first{fill:#f28e2b}.hbar.verify{fill:#4e79a7}.gauge{fill:#eaeef2}.gauge-fill{fill:#2da44e}
.threshold{stroke:#cf222e;stroke-width:1.5;stroke-dasharray:6 3}text.threshold-label{fill:#cf222e}
.forecast{fill:#d0d7de}.month-to-date{fill:#4e79a7}.budget{stroke:#1f2328;stroke-width:2}text.forecast-label.over{fill:#cf222e;font-weight:600}
`;

function swatch(color: string, label: string): string {
  return `<span><span class="swatch" style="background:${color}"></span>${escapeHtml(label)}</span>`;
}

function missing(what: string): string {
  return `<p class="missing">${escapeHtml(what)}</p>`;
}

/**
 * The whole document.
 *
 * @example writeFileSync("out/drill-report.html", renderDrillHtml({ title: "Drill", generatedAt: new Date().toISOString(), spend }))
 */
export function renderDrillHtml(input: DrillHtmlInput): string {
  const body: string[] = [`<h1>${escapeHtml(input.title)}</h1>`, `<p class="meta">Generated ${escapeHtml(input.generatedAt)}</p>`];
  if (input.facts?.length) body.push(`<dl class="facts">${input.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>`);

  const why = input.sections?.missing ?? {};
  body.push(`<section id="backup"><h2>${escapeHtml(input.sections?.backupTitle ?? "Backups: the year per resource and region")}</h2>`);
  if (input.backup) {
    body.push(
      `<div class="legend-row">${[
        swatch("#116329", "created, kept monthly"),
        swatch("#2da44e", "created, kept weekly"),
        swatch("#4ac26b", "created, kept daily"),
        swatch("#aceebb", "created, pruned since"),
        swatch("#0a3069", "copied, kept monthly"),
        swatch("#0969da", "copied, kept weekly"),
        swatch("#54aeff", "copied, kept daily"),
        swatch("#b6e3ff", "copied, pruned since"),
        swatch("#cf222e", "failed"),
        swatch("#eaeef2", "none"),
      ].join("")}<span>orange outline: pruning frozen · dot: snapshots pruned that day</span></div>`,
      renderBackupCalendar(input.backup),
    );
  } else body.push(missing(why.backup ?? "No backup data in this report."));
  body.push("</section>");

  body.push(`<section id="failover"><h2>Failover timeline</h2>`);
  if (input.failover?.length) {
    body.push(`<p class="note">Dashed red: the RTO target; solid: the measured RTO (alarm → healthy); diamonds: throttled attempts.</p>`);
    for (const g of input.failover) body.push(renderFailoverGantt(g));
  } else body.push(missing(why.failover ?? "No failover in this report."));
  body.push("</section>");

  body.push(`<section id="warm"><h2>Cache warming latency</h2>`);
  body.push(input.warm?.length ? renderWarmHistograms(input.warm) : missing(why.warm ?? "No cache warming in this report."));
  body.push("</section>");

  body.push(`<section id="cost"><h2>Spend by service, 14 days</h2>`);
  body.push(input.spend ? renderSpendBars(input.spend) : missing(why.spend ?? "No cost data in this report."));
  body.push("</section>");

  return `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>${escapeHtml(input.title)}</title><style>${CSS}</style></head>
<body>${body.join("\n")}</body></html>
`;
}
