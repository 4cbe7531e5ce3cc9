/**
 * Slack messages of the failover runbook: start, each step, end (with RTO/RPO), refusals, plans, status,
 * failback plan. Built only here; `renderText()` turns any of them into plain text for dry-runs and the drill.
 *
 * Every message of a run carries its links (the Step Functions execution that sent it and the run report in the
 * failover state bucket, {@link FailoverLinks}) and the timeline so far: each step with when it ran and how long it
 * took, throttled and repeated attempts listed apart from the changes made.
 */
import { context, divider, fields, header, section, type SlackMessage } from "./blocks.ts";
import { s3ObjectConsoleUrl } from "../console-urls.ts";
import { computeTimings, fmtSeconds, type PrecheckResult, type RunRecord, type StepName, type StepRecord } from "../failover.ts";

const ICON: Record<StepRecord["status"], string> = { pending: "·", started: "…", done: "✓", failed: "✗", skipped: "–" };

function checkLine(c: PrecheckResult): string {
  const mark = c.ok ? "✓" : c.blocking ? "✗" : "!";
  return `${mark} ${c.name}: ${c.reason}`;
}

// ---------------------------------------------------------------------------------------------------------
// Links

/** Where a failover message leads: the execution that sent it and the run report. */
export interface FailoverLinks {
  /** The Step Functions execution ARN (`$states.context.Execution.Id`); absent for a direct (console) invocation. */
  execution?: string;
  /** The run report in the failover state bucket; absent when none was written (a latch that could not be taken). */
  report?: { bucket: string; region: string; key: string };
}

/** The console's host per partition (the ARN's second field). */
const CONSOLE_HOST: Record<string, string> = {
  aws: "console.aws.amazon.com",
  "aws-cn": "console.amazonaws.cn",
  "aws-us-gov": "console.amazonaws-us-gov.com",
};

/**
 * The Step Functions console's page of one execution, from its ARN
 * (`arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`): the Execution Details page
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-view-execution-details.html) at
 * `https://<region>.console.aws.amazon.com/states/home?region=<region>#/v2/executions/details/<execution ARN>`.
 *
 * @example
 *   executionConsoleUrl("arn:aws:states:eu-central-1:123456789012:execution:FailoverRunbook:abc")
 *   // "https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/arn:aws:states:eu-central-1:123456789012:execution:FailoverRunbook:abc"
 */
export function executionConsoleUrl(executionArn: string): string {
  const [arn, partition, service, region] = executionArn.split(":");
  if (arn !== "arn" || service !== "states" || !region || !partition) throw new Error(`not a Step Functions execution ARN: ${executionArn}`);
  const host = CONSOLE_HOST[partition] ?? CONSOLE_HOST.aws;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** The execution's short name (the ARN's last field), as a link label. */
function executionName(arn: string): string {
  return arn.split(":").at(-1) || arn;
}

/** One line: the execution (or that there is none) and the run report (or that there is none), as Slack links. */
export function linksLine(links: FailoverLinks): string {
  const exec = links.execution
    ? `<${executionConsoleUrl(links.execution)}|Step Functions execution ${executionName(links.execution)}>`
    : "Direct invocation: no Step Functions execution";
  const report = links.report ? `<${s3ObjectConsoleUrl(links.report, links.report.key)}|run report>` : "no run report written";
  return `${exec} · ${report}`;
}

// ---------------------------------------------------------------------------------------------------------
// Timeline

/** `2025-03-04T10:04:25.000Z` → `10:04:25Z` (a failover lasts minutes: the day is in the trigger line). */
function clock(iso: string): string {
  return `${iso.slice(11, 19)}Z`;
}

function seconds(fromIso: string, toIso: string): number {
  return Math.max(0, (Date.parse(toIso) - Date.parse(fromIso)) / 1000);
}

/**
 * The timeline so far, one line per step: status, when it started and ended, how long it took and when it ended
 * counted from the alarm (the RTO clock), then its result and reason.
 *
 * @example
 *   timelineLines(run)[0] // "✓ promote — 10:04:25Z → 10:04:26Z (1 s; alarm +26 s) · promotion requested · PromoteReadReplica accepted"
 */
export function timelineLines(run: RunRecord): string[] {
  return run.steps.map((s) => {
    let when = "";
    if (s.startedAt && s.endedAt) {
      when = `${clock(s.startedAt)} → ${clock(s.endedAt)} (${fmtSeconds(seconds(s.startedAt, s.endedAt))}; alarm +${fmtSeconds(seconds(run.trigger.at, s.endedAt))})`;
    } else if (s.startedAt) when = `started ${clock(s.startedAt)}`;
    else if (s.status === "pending") when = "pending";
    const bits = [when, s.result, s.reason].filter(Boolean).join(" · ");
    return `${ICON[s.status]} ${s.name}${bits ? ` — ${bits}` : ""}`;
  });
}

/**
 * Attempts that changed nothing, apart from the changes: ChangeResourceRecordSets calls Route 53 throttled before the
 * accepted one, and actions a step issued again after concluding the earlier one never arrived.
 */
export function attemptLines(run: RunRecord): string[] {
  const out: string[] = [];
  const throttled = (run.dnsAttempts ?? 1) - 1;
  if (throttled > 0) {
    out.push(
      `dns-change: ${throttled} of ${run.dnsAttempts} ChangeResourceRecordSets calls throttled (refused, nothing changed; retried)${run.dnsChangeId ? ` before change ${run.dnsChangeId}` : ""}`,
    );
  }
  for (const s of run.steps) {
    if ((s.attempts ?? 1) > 1)
      out.push(
        `${s.name}: issued ${s.attempts} times (an earlier attempt was seen not to have arrived)${s.lastAttemptAt ? `, last at ${clock(s.lastAttemptAt)}` : ""}`,
      );
  }
  return out;
}

/** The timeline section: steps, then the attempts that changed nothing. */
function timelineSection(run: RunRecord): string {
  const attempts = attemptLines(run);
  return `*Timeline* (alarm ${run.trigger.at})\n${timelineLines(run).join("\n")}${attempts.length ? `\n*Attempts that changed nothing*\n${attempts.join("\n")}` : ""}`;
}

/** The lifecycle's word on a message that is not the incident's first (core/failover.ts decideFailoverAlert). */
export type LifecycleNote = { kind: "reminder"; openedAt: string } | { kind: "resolved" } | undefined;

function titled(title: string, note: LifecycleNote): string {
  if (note?.kind === "reminder") return `Reminder (open since ${note.openedAt}): ${title}`;
  if (note?.kind === "resolved") return `RESOLVED: ${title}`;
  return title;
}

/** The message's plain text: its title, then its links (the pager's email and SMS show only this). */
function textOf(title: string, links: FailoverLinks): string {
  return `${title}\n${linksLine(links)}`;
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

/** Message for a run at any point: `kind` picks the headline; every kind carries the links and the timeline so far. */
export function renderRunMessage(
  run: RunRecord,
  kind: "start" | "step" | "end" | "reminder",
  stepName?: StepName,
  links: FailoverLinks = {},
  note?: LifecycleNote,
): SlackMessage {
  const failed = run.state === "failed";
  let title: string;
  if (kind === "start") title = `Failover started: ${run.group}`;
  else if (kind === "step") title = `Failover ${run.group}: ${stepName} ${run.steps.find((s) => s.name === stepName)?.status ?? ""}`;
  else if (kind === "reminder") title = failed ? `failover ${run.group} failed; the latch still holds it` : `Failover ${run.group}: ${run.state}`;
  else title = failed ? `CRITICAL: failover ${run.group} failed` : `Failover ${run.group} complete`;
  title = titled(title, kind === "reminder" ? (note ?? { kind: "reminder", openedAt: run.startedAt }) : note);
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
  blocks.push(section(timelineSection(run)));
  if (kind !== "start") blocks.push(fields(timingFields(run)));
  if (run.failure) {
    blocks.push(divider(), section(`*Failed at ${run.failure.step}:* ${run.failure.message}\n*What to do:*\n${run.failure.manualSteps.join("\n")}`));
  }
  blocks.push(context(linksLine(links)));
  blocks.push(context(failed ? "No automatic failback. The latch stays until a manual reset." : "ops-autopilot failover runbook"));
  return { text: textOf(`${title}${run.failure ? ` — ${run.failure.message}` : ""}`, links), blocks };
}

/** The alarm and the pre-checks as the timeline of a trigger that started no run. */
function triggerTimeline(trigger: string, checkedAt: string | undefined, outcome: string): string {
  return `*Timeline*\n✓ trigger — ${trigger}${checkedAt ? `\n✓ pre-checks — ${clock(checkedAt)} · ${outcome}` : ""}`;
}

/**
 * The runbook refused to fail over (lag above RPO, replica not available, primary healthy): critical when the database
 * is down and nothing was done, a warning when the primary looks healthy (the caller's lifecycle decides).
 */
export function renderRefusal(
  group: string,
  trigger: string,
  checks: PrecheckResult[],
  reason: string,
  links: FailoverLinks = {},
  checkedAt?: string,
  note?: LifecycleNote,
): SlackMessage {
  const primaryDown = checks.find((c) => c.name === "primary-down")?.ok !== false;
  const title = titled(`${primaryDown ? "CRITICAL: " : ""}failover ${group} refused`, note);
  return {
    text: textOf(`${title} — ${reason}`, links),
    blocks: [
      header(primaryDown ? `🚨 ${title}` : title),
      section(`*Trigger:* ${trigger}\n*Decision:* ${reason}`),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      section(triggerTimeline(trigger, checkedAt, "refused: nothing changed")),
      context(linksLine(links)),
      context(`Nothing was changed. To override the lag check, a human runs mode "execute" with force and forceReason.`),
    ],
  };
}

/** Dry-run / plan-only answer: every pre-check and every step, nothing changed. */
export function renderPlan(
  group: string,
  checks: PrecheckResult[],
  decision: string,
  steps: string[],
  note: string,
  links: FailoverLinks = {},
  lifecycle?: LifecycleNote,
): SlackMessage {
  const title = titled(`Failover plan for ${group}`, lifecycle);
  return {
    text: textOf(`${title}: ${decision}`, links),
    blocks: [
      header(titled(`Failover plan: ${group} (nothing changed)`, lifecycle)),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      section(`*Decision:* ${decision}`),
      section(`*Steps*\n${steps.join("\n")}`),
      context(linksLine(links)),
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
export function renderObserved(
  group: string,
  label: string,
  checks: PrecheckResult[],
  reason: string,
  steps: string[],
  note: string,
  links: FailoverLinks = {},
  lifecycle?: LifecycleNote,
): SlackMessage {
  return {
    text: textOf(titled(`Failover ${group} — ${label}: would have failed over: ${steps.join("; ")}; nothing was changed`, lifecycle), links),
    blocks: [
      header(titled(`[observe] Failover ${group}: would have started (nothing changed)`, lifecycle)),
      section(`*Decision:* ${reason}`),
      section(`*Pre-checks*\n${checks.map(checkLine).join("\n")}`),
      section(`*Would have done*\n${steps.join("\n")}`),
      context(linksLine(links)),
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
      section(timelineSection(run)),
      ...(run.failure ? [section(`*Failed at ${run.failure.step}:* ${run.failure.message}\n${run.failure.manualSteps.join("\n")}`)] : []),
      ...(run.release ? [context(`Released ${run.release.at}: ${run.release.reason}`)] : []),
    ],
  };
}

export function renderFailbackPlan(group: string, lines: string[]): SlackMessage {
  return { text: `Failback plan for ${group} (manual)`, blocks: [header(`Failback plan: ${group} (manual, nothing changed)`), section(lines.join("\n"))] };
}

export function renderReset(group: string, run: RunRecord, reason: string, links: FailoverLinks = {}, note?: LifecycleNote): SlackMessage {
  const title = titled(`Failover latch for ${group} released (run ${run.runId}): ${reason}`, note);
  return {
    text: textOf(title, links),
    blocks: [
      header(titled(`Failover latch released: ${group}`, note)),
      section(`Run ${run.runId} (${run.state === "released" ? "released" : run.state})\nReason: ${reason}`),
      section(timelineSection(run)),
      context(linksLine(links)),
    ],
  };
}

/** Critical alert: the failover should start but the latch could not be written, so nothing was started. */
export function renderLatchError(
  group: string,
  trigger: string,
  reason: string,
  links: FailoverLinks = {},
  checkedAt?: string,
  note?: LifecycleNote,
): SlackMessage {
  const title = titled(`CRITICAL: failover ${group} NOT started`, note);
  return {
    text: textOf(`${title}: the latch could not be taken`, links),
    blocks: [
      header(`🚨 ${title}`),
      section(`*Trigger:* ${trigger}\n*Problem:* ${reason}`),
      section(triggerTimeline(trigger, checkedAt, "passed; the latch could not be taken: nothing changed")),
      context(linksLine(links)),
      section(
        `*What to do:*\nRun mode "status" for ${group}: if a run holds the latch, it is in charge and nothing else is needed.\n` +
          `If the latch is free, check the failover state bucket (S3 errors, permissions), then start the failover state machine with mode "execute" and a reason.`,
      ),
      context("Nothing was changed: no promotion, no DNS change."),
    ],
  };
}
