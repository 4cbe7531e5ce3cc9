/**
 * The proven-RTO trend of each tested resource, kept in the reports bucket (`restore-test/trend/<kind>/<id>.json`):
 * one entry per run, newest last, the last {@link TREND_KEEP} kept. Pure: the runbook reads, appends and writes it
 * back with a compare-and-set.
 */
import type { RestoreTestSummaryRow } from "./report/restore-test.ts";
import type { ResourceKind } from "./types.ts";

/** Entries kept per resource: five years of monthly tests. */
export const TREND_KEEP = 60;

export interface RestoreTestTrendEntry {
  runId: string;
  /** When the restore was requested (ISO), or the run's end when it never requested one. */
  at: string;
  region: string;
  snapshotId?: string;
  verdict: RestoreTestSummaryRow["verdict"];
  restoreSeconds?: number;
  provenRtoSeconds?: number;
  rtoTargetMinutes: number;
  costUsd?: number;
}

export interface RestoreTestTrend {
  kind: ResourceKind;
  resourceId: string;
  entries: RestoreTestTrendEntry[];
}

export function restoreTestTrendKey(kind: ResourceKind, resourceId: string): string {
  return `restore-test/trend/${kind}/${resourceId}.json`;
}

export function trendEntry(row: RestoreTestSummaryRow, runId: string, at: string): RestoreTestTrendEntry {
  return {
    runId,
    at,
    region: row.region,
    ...(row.snapshotId ? { snapshotId: row.snapshotId } : {}),
    verdict: row.verdict,
    ...(row.restoreSeconds !== undefined ? { restoreSeconds: row.restoreSeconds } : {}),
    ...(row.provenRtoSeconds !== undefined ? { provenRtoSeconds: row.provenRtoSeconds } : {}),
    rtoTargetMinutes: row.rtoTargetMinutes,
    ...(row.costUsd !== undefined ? { costUsd: row.costUsd } : {}),
  };
}

/**
 * The trend with `entry` appended: a run already there is replaced (a repeated report writes once), entries sorted by
 * time, the oldest beyond `keep` dropped.
 */
export function appendTrend(
  trend: RestoreTestTrend | undefined,
  target: { kind: ResourceKind; resourceId: string },
  entry: RestoreTestTrendEntry,
  keep = TREND_KEEP,
): RestoreTestTrend {
  const others = (trend?.entries ?? []).filter((e) => e.runId !== entry.runId);
  const entries = [...others, entry].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-keep);
  return { kind: target.kind, resourceId: target.resourceId, entries };
}
