/**
 * The restore-test runbook's Slack summary: one message per run, a table of every resource the run tested (resource,
 * kind, snapshot restored, restore duration, smoke result, proven RTO against the target, verdict, estimated cost),
 * and a critical alert when a restore failed, a smoke check failed, the proven RTO is over the target, or the run
 * itself failed (its throwaway left to the janitor). Built only here; the runbook sends it at the run's end.
 */
import { judgeRestoreTest, type RestoreTestCost, type RestoreTestJudgment, type RestoreTestVerdict } from "../restore-test.ts";
import type { ResourceKind } from "../types.ts";
import { context, fields, header, section, type SlackMessage } from "./blocks.ts";

/** What the summary reads of a run's record (runbooks/restore-test RestoreTestRun has these fields). */
export interface RestoreTestRunView {
  runId: string;
  state: string;
  target: { kind: ResourceKind; resourceId: string; region: string };
  snapshot?: { id: string };
  requestedAt?: string;
  availableAt?: string;
  smokePassedAt?: string;
  smoke?: readonly { name: string; passed: boolean; reason: string }[];
  testFailure?: { step: "restore" | "smoke"; message: string };
  judgment?: RestoreTestJudgment;
  cost?: Pick<RestoreTestCost, "usd" | "confirmed">;
  failure?: { step: string; message: string };
}

/** One line of the table, and what it alerts on. */
export interface RestoreTestSummaryRow {
  resourceId: string;
  kind: ResourceKind;
  region: string;
  snapshotId?: string;
  restoreSeconds?: number;
  smoke: "passed" | "failed" | "not run";
  provenRtoSeconds?: number;
  rtoTargetMinutes: number;
  verdict: RestoreTestVerdict;
  reason: string;
  costUsd?: number;
  costConfirmed?: boolean;
  /** Why this row alerts critically (empty: it does not). */
  alerts: string[];
}

/**
 * The row of one run. A run whose report step never ran (its delete gave up) has no judgment: it is judged here from
 * the times it recorded, and its failure is an alert of its own.
 */
export function restoreTestSummaryRow(run: RestoreTestRunView, rtoTargetMinutes: number): RestoreTestSummaryRow {
  const judgment =
    run.judgment ??
    judgeRestoreTest(
      {
        requestedAt: new Date(run.requestedAt ?? 0),
        ...(run.availableAt ? { availableAt: new Date(run.availableAt) } : {}),
        ...(run.smokePassedAt ? { smokePassedAt: new Date(run.smokePassedAt) } : {}),
        ...(run.testFailure ? { failure: run.testFailure } : {}),
      },
      rtoTargetMinutes,
    );
  const smoke = !run.smoke?.length ? "not run" : run.smoke.every((c) => c.passed) ? "passed" : "failed";
  const alerts: string[] = [];
  if (judgment.alert === "critical") alerts.push(judgment.reason);
  if (run.state === "failed" && run.failure) alerts.push(`run failed at ${run.failure.step}: ${run.failure.message}`);
  return {
    resourceId: run.target.resourceId,
    kind: run.target.kind,
    region: run.target.region,
    ...(run.snapshot ? { snapshotId: run.snapshot.id } : {}),
    ...(judgment.restoreSeconds !== undefined ? { restoreSeconds: judgment.restoreSeconds } : {}),
    smoke,
    ...(judgment.provenRtoSeconds !== undefined ? { provenRtoSeconds: judgment.provenRtoSeconds } : {}),
    rtoTargetMinutes,
    verdict: judgment.verdict,
    reason: judgment.reason,
    ...(run.cost ? { costUsd: run.cost.usd, costConfirmed: run.cost.confirmed } : {}),
    alerts,
  };
}

const mins = (s: number | undefined) => (s === undefined ? "—" : `${(s / 60).toFixed(1)} min`);
const usd = (r: RestoreTestSummaryRow) => (r.costUsd === undefined ? "—" : `$${r.costUsd.toFixed(4)}${r.costConfirmed === false ? "*" : ""}`);

/** Met at or under the target, as the verdict judges it (core/restore-test.ts); not proven when no smoke check passed. */
const rtoVsTarget = (r: RestoreTestSummaryRow) =>
  r.provenRtoSeconds === undefined ? "not proven" : r.provenRtoSeconds <= r.rtoTargetMinutes * 60 ? "met" : "missed";

export const SUMMARY_COLUMNS = ["resource", "kind", "snapshot restored", "restore", "smoke", "proven RTO / target", "verdict", "est. cost"] as const;

/** The table's cells, header first: the same text Slack shows and the drill prints. */
export function summaryCells(rows: readonly RestoreTestSummaryRow[]): string[][] {
  return [
    [...SUMMARY_COLUMNS],
    ...rows.map((r) => [
      r.resourceId,
      r.kind,
      r.snapshotId ?? "—",
      mins(r.restoreSeconds),
      r.smoke,
      `${mins(r.provenRtoSeconds)} / ${r.rtoTargetMinutes} min: ${rtoVsTarget(r)}`,
      r.verdict,
      usd(r),
    ]),
  ];
}

/** Columns padded to their widest cell, two spaces apart, trailing blanks cut. */
export function formatTable(cells: readonly (readonly string[])[]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * The run's summary. Critical when any row alerts: the header says so and every alert is listed.
 *
 * @example restoreTestSummary("rt-2026-12-01", [row]).text
 *   // "Restore test rt-2026-12-01: 1 of 1 proven within target"
 */
export function restoreTestSummary(runId: string, rows: readonly RestoreTestSummaryRow[]): SlackMessage {
  const alerting = rows.filter((r) => r.alerts.length > 0);
  const withinTarget = rows.filter((r) => r.verdict === "passed").length;
  const counts = `${withinTarget} of ${rows.length} proven within target`;
  const title = alerting.length ? `CRITICAL: restore test ${runId}: ${alerting.length} of ${rows.length} need attention` : `Restore test ${runId}: ${counts}`;
  const cost = rows.reduce((a, r) => a + (r.costUsd ?? 0), 0);
  const unconfirmed = rows.some((r) => r.costConfirmed === false);
  const blocks = [
    header(alerting.length ? `🚨 ${title}` : title),
    fields([
      ["Run", runId],
      ["Result", counts],
      ["Estimated cost", `$${cost.toFixed(4)}${unconfirmed ? " (unconfirmed prices)" : ""}`],
    ]),
    section(`\`\`\`\n${formatTable(summaryCells(rows))}\n\`\`\``),
  ];
  if (alerting.length) {
    blocks.push(section(`*Critical*\n${alerting.flatMap((r) => r.alerts.map((a) => `✗ ${r.resourceId} (${r.kind}, ${r.region}): ${a}`)).join("\n")}`));
  }
  blocks.push(
    context(
      `Proven RTO: restore requested → smoke check passed.${unconfirmed ? " * cost from unconfirmed list prices." : ""} Every throwaway is deleted; the janitor removes leftovers.`,
    ),
  );
  const firstAlert = alerting[0];
  return { text: firstAlert ? `${title} — ${firstAlert.resourceId}: ${firstAlert.alerts[0]}` : title, blocks };
}
