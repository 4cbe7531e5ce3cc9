import type { Config } from "../../schemas/config.ts";
import { formatDuration, type AlertDecision, type AlertMessageKind } from "../alert-lifecycle.ts";
import type { FreshnessFinding } from "../freshness.ts";
import type { StaleGroupDetail } from "../stale-alerts.ts";
import { context, header, section, type SlackMessage } from "./blocks.ts";

/**
 * The watchdog's Slack messages for one stale-backup incident (core/stale-alerts.ts): a critical when it
 * starts, a reminder while it lasts, "resolved" when it ends. Each says what is stale and since when; the
 * run report lists every stale resource on every run.
 */

const MAX_LINES = 15;

function bullets(lines: string[]): string {
  const shown = lines.slice(0, MAX_LINES).map((l) => `• ${l}`);
  if (lines.length > MAX_LINES) shown.push(`… and ${lines.length - MAX_LINES} more in the run report`);
  return shown.join("\n");
}

/** "2026-04-19 04:00 UTC" */
function utc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function staleAlertMessage(
  decision: AlertDecision<StaleGroupDetail> & { kind: AlertMessageKind },
  /** The group's findings of this run (none for `resolved`). */
  findings: readonly FreshnessFinding[],
  config: Config,
  now: Date,
  /** A fleet member's incident: the account it is in. */
  account?: { account: string; accountName: string },
): SlackMessage {
  const { incident } = decision;
  const { policy, region } = incident.detail;
  const where = `policy ${policy} in ${region}${account ? ` of account ${account.accountName} (${account.account})` : ""}`;
  const app = `${config.app} ${config.stage}`;
  const since = utc(incident.openedAt);
  const lines = findings.map((f) => `\`${f.resourceId}\`: ${f.reason}`);
  const remind = `A reminder every ${config.alerts.remindEveryHours} h while this lasts, and a message when it is resolved.`;
  if (decision.kind === "started") {
    return {
      text: `🚨 CRITICAL: no fresh backup for ${plural(findings.length, "resource")} of ${where} since ${since} (${app})`,
      blocks: [
        header(`🚨 No fresh backup — ${where} — ${app}`),
        section(`*Stale since ${since}*\n${bullets(lines)}`),
        context(`Pruning is frozen for these until a fresh backup is available. Check the backup and copy run reports. ${remind}`),
      ],
    };
  }
  if (decision.kind === "reminder") {
    const lasting = formatDuration(now.getTime() - Date.parse(incident.openedAt));
    return {
      text: `⏰ REMINDER: still no fresh backup for ${plural(findings.length, "resource")} of ${where}, stale for ${lasting} since ${since} (${app})`,
      blocks: [
        header(`⏰ Still no fresh backup — ${where} — ${app}`),
        section(`*Stale for ${lasting}, since ${since}* (reminder ${incident.reminders})\n${bullets(lines)}`),
        context(`Pruning stays frozen for these. Check the backup and copy run reports. ${remind}`),
      ],
    };
  }
  const lasted = formatDuration(decision.durationMs ?? 0);
  const ids = incident.detail.resources.map((r) => `\`${r.resourceId}\``);
  return {
    text: `✅ RESOLVED: backups of ${where} are fresh again after ${lasted} stale, since ${since} (${app})`,
    blocks: [
      header(`✅ Backups fresh again — ${where} — ${app}`),
      section(`*Stale for ${lasted}* (${since} to ${utc(now.toISOString())})\n${bullets(ids)}`),
      context("Pruning resumes with the next prune run."),
    ],
  };
}
