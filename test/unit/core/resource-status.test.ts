import { describe, expect, it } from "vitest";
import { PASSING_STATUS, STAYING_STATUS, classifyStatus } from "../../../core/resource-status.ts";
import { SNAPSHOTTABLE_STATUS } from "../../../core/backup-plan.ts";
import type { ResourceKind } from "../../../core/types.ts";

describe("classifyStatus", () => {
  it.each([
    ["rds-instance", "available", "snapshottable"],
    ["rds-instance", "backing-up", "passing"],
    ["rds-instance", "modifying", "passing"],
    ["rds-instance", "configuring-log-exports", "passing"],
    ["rds-instance", "stopped", "staying"],
    ["rds-instance", "storage-full", "staying"],
    ["aurora-cluster", "backtracking", "passing"],
    ["aurora-cluster", "stopped", "staying"],
    ["ebs-volume", "in-use", "snapshottable"],
    ["ebs-volume", "creating", "passing"],
    ["ebs-volume", "error", "staying"],
    ["rds-instance", "a-state-aws-adds-later", "passing"],
  ] as const)("%s %s is %s", (kind, status, cls) => {
    expect(classifyStatus(kind, "x", status).class).toBe(cls);
  });

  it("says why, with the status", () => {
    expect(classifyStatus("rds-instance", "app-db", "stopped").reason).toBe(
      'rds-instance app-db is "stopped", a state that stays until someone acts: reported, not retried',
    );
    expect(classifyStatus("ebs-volume", "vol-1", "creating").reason).toBe(
      'ebs-volume vol-1 is "creating", a state that passes: not snapshotted yet; the retry or a later run today takes it',
    );
  });

  it("no status is both passing and staying, or listed as either while snapshottable", () => {
    for (const kind of Object.keys(SNAPSHOTTABLE_STATUS) as ResourceKind[]) {
      const staying = new Set(STAYING_STATUS[kind]);
      for (const s of PASSING_STATUS[kind]) expect(staying.has(s)).toBe(false);
      for (const s of SNAPSHOTTABLE_STATUS[kind]) expect(staying.has(s) || PASSING_STATUS[kind].includes(s)).toBe(false);
    }
  });
});
