import { context, header, section, type SlackMessage } from "./blocks.ts";

/**
 * The alert and the redaction for a run that threw before it could build its own report (a listing that
 * failed after the SDK's retries, Cost Explorer refusing, a state read failing).
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

export interface RunErrorAlert {
  functionName: string;
  app: string;
  stage: string;
  runId: string;
  /** Already redacted. */
  errorName: string;
  errorMessage: string;
  /** Where the failure report was written, when it was. */
  reportKey?: string;
}

/**
 * The short critical alert for a run that threw: what failed, the error, where the report is, and that the
 * Lambda retry (then the dead-letter queue) takes it from there.
 *
 * @example
 *   renderRunError({ functionName: "backup", app: "ops-autopilot", stage: "prod", runId: "r1", errorName: "ThrottlingException", errorMessage: "Rate exceeded" })
 *   // { text: "CRITICAL: backup run failed (ops-autopilot/prod): ThrottlingException", blocks: [...] }
 */
export function renderRunError(a: RunErrorAlert): SlackMessage {
  const text = `CRITICAL: ${a.functionName} run failed (${a.app}/${a.stage}): ${a.errorName}`;
  return {
    text,
    blocks: [
      header(`🚨 ${a.functionName} run failed (${a.app}/${a.stage})`),
      section(
        `\`${a.errorMessage.startsWith(`${a.errorName}: `) ? a.errorMessage : `${a.errorName}: ${a.errorMessage}`}\`\nNothing after the failure ran. Lambda retries the run; if the retries fail too, the event goes to the dead-letter queue.`,
      ),
      context(`Run ${a.runId}${a.reportKey ? ` · Run report: ${a.reportKey}` : " · the run report could not be saved"}`),
    ],
  };
}
