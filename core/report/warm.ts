import type { PassStats, WarmReport } from "../warm/report.ts";
import { context, divider, fields, header, section, type SlackMessage } from "./blocks.ts";

/**
 * Slack summary of a cache-warming run: one message for all target sets warmed by one invocation.
 *
 * @example warmMessage([report], { app: "ops-autopilot", stage: "prod", trigger: "failover" })
 * // text: "Cache warm prod (failover): site 1,000 URLs, 99.8% ok, hit ratio 0% → 97%"
 */
export function warmMessage(reports: readonly WarmReport[], meta: { app: string; stage: string; trigger: string }): SlackMessage {
  const dry = reports.some((r) => r.dryRun);
  const trouble = reports.some((r) => r.errors.length > 0 || r.stopped || r.deadline || r.failed.length > 0);
  const icon = dry ? ":clipboard:" : trouble ? ":warning:" : ":white_check_mark:";
  const title = `${icon} Cache warm ${meta.stage} (${meta.trigger})${dry ? " — dry run" : ""}`;
  const blocks = [header(title)];
  for (const r of reports) {
    blocks.push(divider(), ...targetBlocks(r));
  }
  blocks.push(context(`${meta.app} · ${meta.stage} · ${reports.map((r) => r.startedAt).sort()[0] ?? ""}`));
  const text = `Cache warm ${meta.stage} (${meta.trigger}): ${reports.map(oneLine).join("; ") || "no target set"}`;
  return { text, blocks };
}

function oneLine(r: WarmReport): string {
  if (r.dryRun) return `${r.targetSet} ${r.planned} URLs planned`;
  const f = r.first;
  const base = `${r.targetSet} ${f?.requested ?? 0}/${r.planned} URLs, ${f?.successPct ?? 0}% ok, hit ratio ${ratio(f)} → ${ratio(r.verify)}`;
  return r.stopped ? `${base}, STOPPED` : r.deadline ? `${base}, deadline` : base;
}

function ratio(p: PassStats | undefined): string {
  if (!p || p.cache.hitRatio === null) return "n/a";
  return `${Math.round(p.cache.hitRatio * 100)}%`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function counts(record: Record<string, number | undefined>): string {
  const parts = Object.entries(record)
    .filter(([, v]) => v)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`);
  return parts.join(", ") || "none";
}

function targetBlocks(r: WarmReport) {
  const out = [];
  if (r.dryRun) {
    const shown = r.plan.slice(0, 20).map((p) => `• ${p.url} (priority ${p.priority})`);
    const more = r.plan.length > 20 ? `\n… and ${r.plan.length - 20} more (see the run report)` : "";
    out.push(section(`*${r.targetSet}*: ${r.planned} URL(s) would be warmed, nothing fetched but sitemaps\n${shown.join("\n")}${more}`));
    out.push(
      fields([
        ["Skipped", counts(r.skippedByKind)],
        ["Sitemaps", `${r.sitemaps.length} read`],
      ]),
    );
  } else {
    const f = r.first;
    out.push(section(`*${r.targetSet}*: ${f?.requested ?? 0} of ${r.planned} planned URL(s) fetched in ${Math.round(r.durationMs / 1000)} s`));
    if (f) {
      out.push(
        fields([
          ["Success", `${f.successPct}%`],
          ["Statuses", counts(f.byStatus)],
          ["Latency p50 / p95 / p99", `${f.latencyMs.p50} / ${f.latencyMs.p95} / ${f.latencyMs.p99} ms`],
          ["Bytes", bytes(f.bytes + (r.verify?.bytes ?? 0))],
          ["Cache hit ratio", `${ratio(f)} first pass → ${ratio(r.verify)} verification`],
          ["Rate", `${f.requestsPerSecond} req/s; ${f.throttled} throttled, ${f.retries} retries`],
          ["Skipped", counts(r.skippedByKind)],
        ]),
      );
    }
  }
  if (r.stopped) out.push(section(`:octagonal_sign: *Stopped:* ${r.stopped.reason}. ${r.leftover.length} URL(s) not warmed.`));
  if (r.deadline) out.push(section(`:hourglass: *Deadline:* ${r.deadline.reason}; ${r.deadline.notStarted} URL(s) not started, the next run takes them.`));
  if (r.errors.length > 0) {
    out.push(
      section(
        `*Errors*\n${r.errors
          .slice(0, 5)
          .map((e) => `• ${e}`)
          .join("\n")}${r.errors.length > 5 ? `\n… and ${r.errors.length - 5} more` : ""}`,
      ),
    );
  }
  if (r.failed.length > 0) {
    const lines = r.failed.slice(0, 5).map((x) => `• ${x.url}: ${x.status ?? x.outcome}${x.message ? ` (${x.message})` : ""}`);
    out.push(section(`*Failed URLs (${r.failed.length})*\n${lines.join("\n")}${r.failed.length > 5 ? `\n… see the run report` : ""}`));
  }
  return out;
}
