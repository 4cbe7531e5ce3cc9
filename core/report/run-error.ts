import { formatDuration, type AlertDecision, type AlertMessageKind } from "../alert-lifecycle.ts";
import type { RunFailureDetail } from "../run-alerts.ts";
import { context, header, section, type SlackMessage } from "./blocks.ts";

/**
 * The redaction of errors that go into reports, logs and Slack, and the messages of a function's failed runs
 * (a run that threw, or finished with item failures).
 */

/** Longest error text kept in a failure report or alert, after redaction. */
export const ERROR_TEXT_LIMIT = 500;

/** URL path segments shorter than this are words (`services`, `v1`), not tokens. */
const MIN_TOKEN_LENGTH = 4;

/**
 * Remove secrets from an error text before it goes into a report, a log or Slack: each known secret (the
 * webhook URL, and each token of its path, since a proxy or library may echo one piece), any Slack webhook,
 * query strings (pre-signed S3 URLs carry `X-Amz-Signature` and the access key there), credentials in URLs and
 * AWS access key ids. Redaction comes before truncation, so a cut can never leave the start of a secret.
 *
 * @example
 *   redactSecrets("POST https://hooks.slack.com/services/T1/B2/xyz failed", [url]) // "POST [webhook] failed"
 */
export function redactSecrets(text: string, secrets: readonly string[] = [], limit = ERROR_TEXT_LIMIT): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join(isSlackWebhook(secret) ? "[webhook]" : "[redacted]");
  }
  out = out.replace(/https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>)]*/gi, "[webhook]");
  for (const secret of secrets) {
    for (const token of urlTokens(secret)) out = out.split(token).join("[redacted]");
  }
  out = out
    .replace(/(https?:\/\/)[^\s/@"'<>]+@/gi, "$1[redacted]@")
    .replace(/(https?:\/\/[^\s?#"'<>]+)\?[^\s"'<>);,]*/gi, "$1?[redacted]")
    .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b/g, "[redacted-key]");
  return out.length <= limit ? out : `${out.slice(0, limit - 1)}…`;
}

function isSlackWebhook(s: string): boolean {
  return /^https?:\/\/hooks\.slack(?:-gov)?\.com\//i.test(s);
}

function urlTokens(secret: string): string[] {
  try {
    return new URL(secret).pathname.split("/").filter((s) => s.length >= MIN_TOKEN_LENGTH && s !== "services");
  } catch {
    return [];
  }
}

/** What the failed-run messages say about the stage. */
export interface RunAlertContext {
  app: string;
  stage: string;
  /** `alerts.remindEveryHours`. */
  remindEveryHours: number;
  /** This run: the one that failed again, or for `resolved` the one that finished without failures. */
  runId: string;
  now: Date;
}

/** "2026-04-19 02:00 UTC" */
function utc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The failure as a code span: the error, or the failed items. */
function failureLine(d: RunFailureDetail): string {
  return `\`${d.message.startsWith(`${d.headline}: `) || !d.threw ? d.message : `${d.headline}: ${d.message}`}\``;
}

/**
 * The messages of a function's failed-run incident (core/run-alerts.ts): a critical when its runs start failing
 * (the error, or the failed items), a reminder while they keep failing, "resolved" with how long it lasted and
 * the run that succeeded. The handler chain adds the link to the run report (core/report/report-link.ts).
 *
 * @example
 *   renderRunAlert({ kind: "started", key: "run-failed:backup", incident, reason }, { app: "ops-autopilot", stage: "prod", remindEveryHours: 6, runId: "r1", now })
 *   // { text: "🚨 CRITICAL: backup run failed (ops-autopilot/prod): ThrottlingException", blocks: [...] }
 */
export function renderRunAlert(decision: AlertDecision<RunFailureDetail> & { kind: AlertMessageKind }, c: RunAlertContext): SlackMessage {
  const fn = decision.key.replace(/^run-failed:/, "");
  const d = decision.incident.detail;
  const where = `(${c.app}/${c.stage})`;
  const since = utc(decision.incident.openedAt);
  const remind = `A reminder every ${c.remindEveryHours} h while runs keep failing, and a message when a run succeeds.`;
  if (decision.kind === "started") {
    const after = d.threw
      ? "Nothing after the failure ran. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue."
      : "The rest of the run finished; its summary is in the runs channel. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue.";
    return {
      text: `🚨 CRITICAL: ${fn} run failed ${where}: ${d.headline}`,
      blocks: [header(`🚨 ${fn} run failed ${where}`), section(`${failureLine(d)}\n${after}`), context(`Run ${c.runId} · ${remind}`)],
    };
  }
  if (decision.kind === "reminder") {
    const lasting = formatDuration(c.now.getTime() - Date.parse(decision.incident.openedAt));
    return {
      text: `⏰ REMINDER: ${fn} runs still failing ${where}, for ${lasting} since ${since}: ${d.headline}`,
      blocks: [
        header(`⏰ ${fn} runs still failing ${where}`),
        section(
          `*Failing for ${lasting}, since ${since}* (reminder ${decision.incident.reminders}, ${plural(d.failedRuns, "failed run")})\nLatest: ${failureLine(d)}`,
        ),
        context(`Run ${c.runId} · ${remind}`),
      ],
    };
  }
  const lasted = formatDuration(decision.durationMs ?? 0);
  return {
    text: `✅ RESOLVED: ${fn} runs succeed again ${where} after ${lasted} failing, since ${since}`,
    blocks: [
      header(`✅ ${fn} runs succeed again ${where}`),
      section(
        `*Failed for ${lasted}* (${since} to ${utc(c.now.toISOString())}, ${plural(d.failedRuns, "failed run")}); run ${c.runId} finished without failures.\nLast failure: ${failureLine(d)}`,
      ),
    ],
  };
}
