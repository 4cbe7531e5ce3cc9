/**
 * Slack messages of the failover runbook: start, each step, end (with RTO/RPO), refusals, plans, status,
 * failback plan. Built only here; `renderText()` turns any of them into plain text for dry-runs and the drill.
 */
import { context, divider, fields, header, section, type SlackMessage } from "./blocks.ts";
import { computeTimings, fmtSeconds, type PrecheckResult, type RunRecord, type StepName, type StepRecord } from "../failover.ts";

const ICON: Record<StepRecord["status"], string> = { pending: "·", started: "…", done: "✓", failed: "✗", skipped: "–" };

function checkLine(c: PrecheckResult): string {
  const mark = c.ok ? "✓" : c.blocking ? "✗" : "!";
  return `${mark} ${c.name}: ${c.reason}`;
}

/** One line per step: status, start, end, result and reason. */
export function timelineLines(run: RunRecord): string[] {
  return run.steps.map((s) => {
    const times = [s.startedAt ? `start ${s.startedAt}` : "", s.endedAt ? `end ${s.endedAt}` : ""].filter(Boolean).join(", ");
    const bits = [times, s.result, s.reason].filter(Boolean).join(" · ");
    return `${ICON[s.status]} ${s.name}${bits ? ` — ${bits}` : ""}`;
  });
}

function timingFields(run: RunRecord): [string, string][] {
  const t = computeTimings(run);
  const show = (v: number | undefined): string => (v === undefined ? "n/a" : fmtSeconds(v));
  return [
    ["RTO (alarm → healthy)", show(t.rtoSeconds)],
    ["RPO (lag at promotion)", show(t.rpoSeconds)],
    ["Alarm → writable", show(t.writableSeconds)],
    ["Alarm → DNS INSYNC", show(t.dnsInsyncSeconds)],
  ];
}

/** Message for a run at any point: `kind` picks the headline. */
export function renderRunMessage(run: RunRecord, kind: "start" | "step" | "end", stepName?: StepName): SlackMessage {
  const failed = run.state === "failed";
  let title: string;
  if (kind === "start") title = `Failover started: ${run.group}`;
  else if (kind === "step") title = `Failover ${run.group}: ${stepName} ${run.steps.find((s) => s.name === stepName)?.status ?? ""}`;
  else title = failed ? `CRITICAL: failover ${run.group} failed` : `Failover ${run.group} complete`;
  const blocks = [
    header(failed ? `🚨 ${title}` : title),
    fields([
      ["Run", run.runId],
      ["Trigger", `${run.trigger.kind}: ${run.trigger.source} at ${run.trigger.at}`],
      ["Reason", run.trigger.reason],
      ...(run.trigger.force ? ([["Forced", run.trigger.force.reason]] as [string, string][]) : []),
    ]),
  ];
  if (kind === "start") blocks.push(section(`*Pre-checks*\n${run.prechecks.map(checkLine).join("\n")}`));
  blocks.push(section(`*Timeline*\n${timelineLines(run).join("\n")}`));
  if (kind !== "start") blocks.push(fields(timingFields(run)));
  if (run.failure) {
    blocks.push(divider(), section(`*Failed at ${run.failure.step}:* ${run.failure.message}\n*What to do:*\n${run.failure.manualSteps.join("\n")}`));
  }
  blocks.push(context(failed ? "No automatic failback. The latch stays until a manual reset." : "ops-autopilot failover runbook"));
  return { text: `${title}${run.failure ? ` — ${run.failure.message}` : ""}`, blocks };
}

/** Critical alert: the runbook refused to fail over (lag above RPO, replica not available, primary healthy). */
export function renderRefusal(group: string, trigger: string, checks: PrecheckResult[], reason: string): SlackMessage {
  return {
    text: `CRITICAL: failover ${group} refused — ${reason}`,
    blocks: [
      header(`🚨 CRITICAL: failover ${group} refused`),
      section(`*Trigger:* ${trigger}\n*Decision:* ${reason}`),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      context(`Nothing was changed. To override the lag check, a human runs mode "execute" with force and forceReason.`),
    ],
  };
}

/** Dry-run / plan-only answer: every pre-check and every step, nothing changed. */
export function renderPlan(group: string, checks: PrecheckResult[], decision: string, steps: string[], note: string): SlackMessage {
  return {
    text: `Failover plan for ${group}: ${decision}`,
    blocks: [
      header(`Failover plan: ${group} (nothing changed)`),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      section(`*Decision:* ${decision}`),
      section(`*Steps*\n${steps.join("\n")}`),
      context(note),
    ],
  };
}

/**
 * Observe mode's answer to an alarm that would have started a failover: what would have been done, step by step
 * (`steps` as numbered lines, `1. PromoteReadReplica …`), nothing changed.
 *
 * @example
 * renderObserved("orders-db", "observe mode until the end of 2026-12-13 (UTC)", checks, reason, steps, note).text
 * // "Failover orders-db — observe mode until the end of 2026-12-13 (UTC): would have failed over: 1. PromoteReadReplica orders-dr in eu-central-1; 2. …; nothing was changed"
 */
export function renderObserved(group: string, label: string, checks: PrecheckResult[], reason: string, steps: string[], note: string): SlackMessage {
  return {
    text: `Failover ${group} — ${label}: would have failed over: ${steps.join("; ")}; nothing was changed`,
    blocks: [
      header(`[observe] Failover ${group}: would have started (nothing changed)`),
      section(`*Decision:* ${reason}`),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      section(`*Would have done*\n${steps.join("\n")}`),
      context(note),
    ],
  };
}

export function renderStatus(group: string, run: RunRecord | undefined): SlackMessage {
  if (!run)
    return { text: `Failover ${group}: no run, latch free`, blocks: [header(`Failover status: ${group}`), section("No failover has run; the latch is free.")] };
  return {
    text: `Failover ${group}: ${run.runId} ${run.state}`,
    blocks: [
      header(`Failover status: ${group} — ${run.state}`),
      fields([["Run", run.runId], ["Started", run.startedAt], ...timingFields(run)]),
      section(`*Timeline*\n${timelineLines(run).join("\n")}`),
      ...(run.failure ? [section(`*Failed at ${run.failure.step}:* ${run.failure.message}\n${run.failure.manualSteps.join("\n")}`)] : []),
      ...(run.release ? [context(`Released ${run.release.at}: ${run.release.reason}`)] : []),
    ],
  };
}

export function renderFailbackPlan(group: string, lines: string[]): SlackMessage {
  return { text: `Failback plan for ${group} (manual)`, blocks: [header(`Failback plan: ${group} (manual, nothing changed)`), section(lines.join("\n"))] };
}

export function renderReset(group: string, runId: string, reason: string): SlackMessage {
  return {
    text: `Failover latch for ${group} released (run ${runId}): ${reason}`,
    blocks: [header(`Failover latch released: ${group}`), section(`Run ${runId}\nReason: ${reason}`)],
  };
}

/** Critical alert: the failover should start but the latch could not be written, so nothing was started. */
export function renderLatchError(group: string, trigger: string, reason: string): SlackMessage {
  return {
    text: `CRITICAL: failover ${group} NOT started: the latch could not be taken`,
    blocks: [
      header(`🚨 CRITICAL: failover ${group} NOT started`),
      section(`*Trigger:* ${trigger}\n*Problem:* ${reason}`),
      section(
        `*What to do:*\nRun mode "status" for ${group}: if a run holds the latch, it is in charge and nothing else is needed.\n` +
          `If the latch is free, check the failover state bucket (S3 errors, permissions), then start the failover state machine with mode "execute" and a reason.`,
      ),
      context("Nothing was changed: no promotion, no DNS change."),
    ],
  };
}
