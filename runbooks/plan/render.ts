/**
 * The plan for people: one section per function with its decisions (a reason for each), then the Slack message it
 * would post, rendered as text; and the files of out/plan/<stage>/ (reports, Block Kit messages, metrics).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderText } from "../../core/report/blocks.ts";
import type { PlanResult, PlanSection } from "./plan.ts";

type Row = Record<string, unknown>;
const rows = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : []);
const indent = (text: string, by = "    "): string =>
  text
    .split("\n")
    .map((l) => `${by}${l}`)
    .join("\n");

/** The decision lines of one section, the reason of each one after a dash. */
export function decisionLines(section: PlanSection): string[] {
  const r = section.report;
  switch (section.part) {
    case "backup":
      return rows(r.decisions).map(
        (d) => `${d.action} ${d.kind} ${d.resource} → ${d.name}${rows(d.tiers).length ? ` [${(d.tiers as string[]).join(", ")}]` : ""} — ${d.reason}`,
      );
    case "copy": {
      // Copies already made and sources whose policy does not copy are counted; every one is in copy.json.
      const quiet = ["exists", "skip-policy"];
      const counted = quiet.map((a) => [a, rows(r.decisions).filter((d) => d.action === a).length] as const).filter(([, n]) => n > 0);
      return rows(r.decisions)
        .filter((d) => !quiet.includes(String(d.action)))
        .map((d) => `${d.action} ${d.source} → ${d.region} as ${d.name} — ${d.reason}`)
        .concat(counted.length ? [`(${counted.map(([a, n]) => `${a}: ${n}`).join(", ")}; each with its reason in the report)`] : []);
    }
    case "prune": {
      const observe = r.observe as Row | undefined;
      // The reason says whether a scheduled run would delete or only report (observe mode, core/observe.ts).
      const header = observe ? [String(observe.reason)] : [];
      return header
        .concat(
          rows(r.plans).flatMap((p) => [
            `${p.kind} ${p.resource} in ${p.region}${p.policy ? ` (policy ${p.policy})` : ""}${p.frozen ? ` FROZEN: ${p.frozen}` : ""}`,
            ...rows(p.delete).map((d) => `  delete ${d.id} — ${d.reason}`),
            ...rows(p.keep).map((d) => `  keep   ${d.id} — ${d.reason}`),
            ...rows(p.lookAlikes).map((d) => `  never  ${d.id} — ${d.reason}`),
          ]),
        )
        .concat(rows(r.capped).map((c) => `capped ${c.resourceId} in ${c.region}: ${c.deferred} delete(s) deferred — ${c.reason}`));
    }
    case "watchdog":
      return rows(r.findings)
        .map(
          (f) =>
            `${f.status} ${f.kind} ${f.resourceId} in ${f.region}: ${typeof f.ageHours === "number" ? `newest ${(f.ageHours as number).toFixed(1)} h old` : "no backup"} (limit ${f.limitHours} h) — ${f.reason}`,
        )
        .concat(rows(r.alerts).map((a) => `alert ${a.kind} ${a.key} — ${a.reason}${a.text ? `; would post: ${a.text}` : ""}`));
    case "failover":
      return rows(r.groups).flatMap((g) =>
        g.error
          ? [`group ${g.group}: not planned — ${g.error}`]
          : [
              `group ${g.group} (execution ${g.execution}): ${g.reason}`,
              ...rows(g.checks).map((c) => `  ${c.ok ? "ok  " : c.blocking ? "FAIL" : "warn"} ${c.name} — ${c.reason}`),
            ],
      );
    case "cost": {
      const s = (r.summary ?? {}) as Row;
      return [
        `report date ${r.reportDate}, ${r.metric}, ${r.currency}, ${r.costExplorerCalls} Cost Explorer call(s)`,
        ...rows(r.findings).map((f) => `${f.action} ${f.kind} ${f.target} — ${f.reason}`),
        ...(rows(s.missingDays).length ? [`missing days: ${(s.missingDays as string[]).join(", ")}`] : []),
      ];
    }
  }
}

/** The whole plan as terminal text. */
export function renderPlan(plan: PlanResult, outDir: string): string {
  const out: string[] = [`ops-autopilot plan — ${plan.app} ${plan.stage} at ${plan.at} (read-only: nothing was changed)`, ""];
  for (const s of plan.sections) {
    out.push(`== ${s.part} ==`);
    if (s.error) {
      out.push(`  NOT PLANNED: ${s.error}`, "");
      continue;
    }
    const lines = decisionLines(s);
    out.push(...(lines.length ? lines.map((l) => `  ${l}`) : ["  (nothing to decide)"]));
    for (const f of s.failures) out.push(`  failure ${f.item}${f.region ? ` (${f.region})` : ""}: ${f.kind}: ${f.message}`);
    if (s.metrics.length) out.push(`  metrics it would publish: ${s.metrics.length} (${path.join(outDir, `${s.part}.metrics.json`)})`);
    if (s.part === "cost" && typeof s.report.alertText === "string") out.push("  Slack alert it would post:", indent(s.report.alertText));
    for (const m of s.messages) out.push(`  Slack message it would post:`, indent(renderText(m)));
    if (!s.messages.length) out.push("  Slack: nothing to post");
    out.push(`  report: ${path.join(outDir, `${s.part}.json`)}`, "");
  }
  for (const n of plan.notes) out.push(`note: ${n}`);
  return out.join("\n");
}

/**
 * Write the plan under `outDir` (emptied first, so no file of an earlier plan is mistaken for this one's):
 * `<part>.json` (the run report), `<part>.slack.json` (the Block Kit messages), `<part>.metrics.json`,
 * `plan.json` (everything) and `plan.txt` (the terminal text). Returns the files written, relative to `outDir`.
 */
export function writePlan(plan: PlanResult, outDir: string, text: string): string[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const files: [string, string][] = [];
  for (const s of plan.sections) {
    files.push([`${s.part}.json`, json(s.report)]);
    if (s.messages.length) files.push([`${s.part}.slack.json`, json(s.messages)]);
    if (s.metrics.length) files.push([`${s.part}.metrics.json`, json(s.metrics)]);
  }
  files.push(["plan.json", json(plan)], ["plan.txt", `${text}\n`]);
  for (const [name, content] of files) writeFileSync(path.join(outDir, name), content);
  return files.map(([name]) => name);
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
