import type { Config } from "../../schemas/config.ts";
import type { ItemFailure } from "../types.ts";
import { context, fields, header, section, type SlackMessage } from "./blocks.ts";

/**
 * Slack summaries of the backup jobs. The views are plain data the jobs also save as their run report,
 * so what Slack says and what the report says cannot drift apart.
 */

type Status = "done" | "exists" | "gone" | "failed" | "deferred";

export interface BackupRunView {
  dryRun: boolean;
  region: string;
  decisions: { action: string; resource: string; kind: string; name: string; tiers: string[]; reason: string }[];
  results: { resource: string; name: string; status: Status; detail?: string | undefined; ms?: number | undefined }[];
  failures: ItemFailure[];
}

export interface CopyRunView {
  dryRun: boolean;
  inFlight: Record<string, number>;
  decisions: { action: string; source: string; region: string; name: string; reason: string }[];
  results: { source: string; region: string; status: Status; detail?: string | undefined; ms?: number | undefined }[];
  failures: ItemFailure[];
}

export interface PruneRunView {
  dryRun: boolean;
  /**
   * Observe mode, when the config gives it a window (core/observe.ts): `observed` when this run planned only
   * because of it; `overridden` when a manual execute deleted during the window.
   */
  observe?: { observed: boolean; until: string; timeZone: string; reason: string; overridden?: true };
  plans: {
    resource: string;
    kind: string;
    region: string;
    policy?: string | undefined;
    frozen?: string | undefined;
    foreign: number;
    /** Snapshots that look like ours but are not (inherited tags, name squatters), with why: never deleted. */
    lookAlikes?: { id: string; reason: string }[];
    keep: { id: string; reason: string }[];
    delete: { id: string; reason: string }[];
  }[];
  capped: { resourceId: string; region: string; deferred: number; reason: string }[];
  results: { id: string; region: string; status: Status; detail?: string | undefined; ms?: number | undefined }[];
  failures: ItemFailure[];
}

const MAX_LINES = 15;

function bullets(lines: string[]): string {
  const shown = lines.slice(0, MAX_LINES).map((l) => `• ${l}`);
  if (lines.length > MAX_LINES) shown.push(`… and ${lines.length - MAX_LINES} more in the run report`);
  return shown.join("\n");
}

function failureLines(failures: ItemFailure[]): string[] {
  return failures.map((f) => `\`${f.item}\`${f.region ? ` (${f.region})` : ""}: *${f.kind}*: ${f.message}`);
}

function title(config: Config, what: string, dryRun: boolean): string {
  return `${dryRun ? "[dry-run] " : ""}${what} — ${config.app} ${config.stage}`;
}

function count(results: { status: Status }[], status: Status): number {
  return results.filter((r) => r.status === status).length;
}

/**
 * Nightly backup summary: what was created, what already existed (reruns), what could not be
 * snapshotted and why, and failures.
 *
 * @example
 * backupSummary(view, config).text // "Backups: 4 created, 0 already existed, 1 skipped, 0 failed"
 */
export function backupSummary(view: BackupRunView, config: Config): SlackMessage {
  const planned = view.decisions.filter((d) => d.action === "create").length;
  const created = view.dryRun ? 0 : count(view.results, "done");
  const existed = view.decisions.filter((d) => d.action === "exists").length + count(view.results, "exists");
  const skipped = view.decisions.filter((d) => d.action === "skip-state");
  const deferred = count(view.results, "deferred");
  const failed = view.failures.length;
  const text = view.dryRun
    ? `Backups (dry-run): ${planned} would be created, ${existed} already exist, ${skipped.length} cannot be snapshotted now`
    : `Backups: ${created} created, ${existed} already existed, ${skipped.length} skipped, ${failed} failed${deferred ? `, ${deferred} left for the next run` : ""}`;
  const blocks = [
    header(`${failed ? "⚠️ " : ""}${title(config, "Nightly backups", view.dryRun)}`),
    fields([
      ["Region", view.region],
      [view.dryRun ? "Would create" : "Created", String(view.dryRun ? planned : created)],
      ["Already existed", String(existed)],
      ["Failed", String(failed)],
    ]),
  ];
  if (skipped.length) blocks.push(section(`*Not snapshotted now*\n${bullets(skipped.map((s) => `\`${s.resource}\`: ${s.reason}`))}`));
  if (deferred) blocks.push(section(`*Left for the next run* (Lambda deadline): ${deferred}`));
  if (failed) blocks.push(section(`*Failures*\n${bullets(failureLines(view.failures))}`));
  blocks.push(context("Every decision and its reason is in the run report."));
  return { text, blocks };
}

/** DR copy summary; null when the run neither started nor failed anything (the copy job runs every 30 min). */
export function copySummary(view: CopyRunView, config: Config): SlackMessage | null {
  const started = view.dryRun ? view.decisions.filter((d) => d.action === "copy").length : count(view.results, "done");
  const deferredLimit = view.decisions.filter((d) => d.action === "defer-limit").length;
  const deferredTime = count(view.results, "deferred");
  const failed = view.failures.length;
  if (!started && !failed && !deferredTime && !view.dryRun) return null;
  const text = `DR copies${view.dryRun ? " (dry-run)" : ""}: ${started} ${view.dryRun ? "would start" : "started"}, ${deferredLimit + deferredTime} waiting, ${failed} failed`;
  const blocks = [
    header(`${failed ? "⚠️ " : ""}${title(config, "DR copies", view.dryRun)}`),
    fields([
      [view.dryRun ? "Would start" : "Started", String(started)],
      ["Waiting (20 in flight per region)", String(deferredLimit)],
      ["Left for the next run", String(deferredTime)],
      ["Failed", String(failed)],
      [
        "In flight before this run",
        Object.entries(view.inFlight)
          .map(([r, n]) => `${r}: ${n}`)
          .join(", ") || "—",
      ],
    ]),
  ];
  if (failed) blocks.push(section(`*Failures*\n${bullets(failureLines(view.failures))}`));
  return { text, blocks };
}

/** Snapshots named in an observed run's one-line text; the blocks and the run report list more. */
const OBSERVED_IN_TEXT = 5;

/**
 * Retention summary: deleted, kept, frozen resources (with why) and caps hit. An observed run says what it would
 * have deleted instead.
 *
 * @example
 * pruneSummary(observedView, config).text
 * // "Prune — observe mode until the end of 2026-12-13 (UTC): would have deleted 2 snapshots: `oa-…-a` (eu-west-1), `oa-…-b` (eu-west-1); nothing was deleted"
 */
export function pruneSummary(view: PruneRunView, config: Config): SlackMessage {
  if (view.observe?.observed) return observedPruneSummary(view, view.observe, config);
  const planned = view.plans.reduce((n, p) => n + p.delete.length, 0);
  const deleted = view.dryRun ? 0 : count(view.results, "done") + count(view.results, "gone");
  const kept = view.plans.reduce((n, p) => n + p.keep.length, 0);
  const frozen = view.plans.filter((p) => p.frozen);
  const failed = view.failures.length;
  const alert = frozen.length > 0 || view.capped.length > 0 || failed > 0;
  const text = view.dryRun
    ? `Prune (dry-run): ${planned} would be deleted, ${kept} kept, ${frozen.length} frozen`
    : `Prune: ${deleted} deleted, ${kept} kept, ${frozen.length} frozen, ${view.capped.length} capped, ${failed} failed`;
  const blocks = [
    header(`${alert ? "⚠️ " : ""}${title(config, "Backup retention", view.dryRun)}`),
    fields([
      [view.dryRun ? "Would delete" : "Deleted", String(view.dryRun ? planned : deleted)],
      ["Kept", String(kept)],
      ["Frozen", String(frozen.length)],
      ["Failed", String(failed)],
    ]),
  ];
  if (frozen.length)
    blocks.push(section(`*Pruning frozen* (nothing deleted for these)\n${bullets(frozen.map((p) => `\`${p.resource}\` (${p.region}): ${p.frozen}`))}`));
  if (view.capped.length) blocks.push(section(`*Deletion cap reached*\n${bullets(view.capped.map((c) => `\`${c.resourceId}\` (${c.region}): ${c.reason}`))}`));
  if (view.dryRun && planned) {
    const lines = view.plans.flatMap((p) => p.delete.map((d) => `\`${d.id}\` (${p.region}): ${d.reason}`));
    blocks.push(section(`*Would delete*\n${bullets(lines)}`));
  }
  if (failed) blocks.push(section(`*Failures*\n${bullets(failureLines(view.failures))}`));
  return { text, blocks };
}

/** Critical alert: backups older than their freshness limit, or none at all. */
function observedPruneSummary(view: PruneRunView, observe: NonNullable<PruneRunView["observe"]>, config: Config): SlackMessage {
  const wouldDelete = view.plans.flatMap((p) => p.delete.map((d) => ({ ...d, region: p.region })));
  const kept = view.plans.reduce((n, p) => n + p.keep.length, 0);
  const frozen = view.plans.filter((p) => p.frozen);
  const failed = view.failures.length;
  const label = `observe mode until the end of ${observe.until} (${observe.timeZone})`;
  const named = wouldDelete.slice(0, OBSERVED_IN_TEXT).map((d) => `\`${d.id}\` (${d.region})`);
  const more = wouldDelete.length > OBSERVED_IN_TEXT ? ` … and ${wouldDelete.length - OBSERVED_IN_TEXT} more` : "";
  const n = wouldDelete.length;
  const text =
    `Prune — ${label}: would have deleted ${n} snapshot${n === 1 ? "" : "s"}${n ? `: ${named.join(", ")}${more}` : ""}; nothing was deleted` +
    (frozen.length || view.capped.length || failed ? ` (${frozen.length} frozen, ${view.capped.length} capped, ${failed} failed)` : "");
  const blocks = [
    header(`${failed || frozen.length || view.capped.length ? "⚠️ " : ""}[observe] Backup retention — ${config.app} ${config.stage}`),
    section(`*${observe.reason[0]!.toUpperCase()}${observe.reason.slice(1)}.* Scheduled prunes plan and report only; nothing is deleted until then.`),
    fields([
      ["Would have deleted", String(n)],
      ["Kept", String(kept)],
      ["Frozen", String(frozen.length)],
      ["Failed", String(failed)],
    ]),
  ];
  if (n) blocks.push(section(`*Would have deleted*\n${bullets(wouldDelete.map((d) => `\`${d.id}\` (${d.region}): ${d.reason}`))}`));
  if (frozen.length)
    blocks.push(
      section(`*Pruning frozen* (nothing would be deleted for these)\n${bullets(frozen.map((p) => `\`${p.resource}\` (${p.region}): ${p.frozen}`))}`),
    );
  if (view.capped.length)
    blocks.push(
      section(`*Deletion cap reached* (the rest would have waited)\n${bullets(view.capped.map((c) => `\`${c.resourceId}\` (${c.region}): ${c.reason}`))}`),
    );
  if (failed) blocks.push(section(`*Failures*\n${bullets(failureLines(view.failures))}`));
  blocks.push(context('To end observe mode now, set "observe": false in the config and deploy.'));
  return { text, blocks };
}
