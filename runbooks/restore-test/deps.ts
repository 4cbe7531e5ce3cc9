/**
 * Real dependencies of the restore-test runbook: the adapters behind its ports, the checkpoint and the report in the
 * reports bucket, used by the Lambda handler (./handler.ts, functions/restore-test.ts; stacks/restore-test.ts). The VPC
 * checker function for SQL smoke checks is not deployed yet.
 */
import { jsonDocuments } from "../../adapters/json-document.ts";
import { listRegionSnapshots } from "../../adapters/inventory.ts";
import {
  createClusterInstance,
  deleteDbCluster,
  deleteDbInstance,
  describeClusterSnapshot,
  describeDbCluster,
  describeDbInstance,
  describeDbSnapshot,
  listRestoreTestLeftovers,
  restoreDbCluster,
  restoreDbInstance,
} from "../../adapters/restore.ts";
import { createVolumeFromSnapshot, deleteVolume, describeEbsSnapshot, describeVolume, findVolumesByName } from "../../adapters/restore-ebs.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { TAG, managedByValue, type Owner } from "../../core/types.ts";
import type { RestoreTestDeps, RestoreTestReportPort, ThrowawayPort } from "./ports.ts";
import { appendTrendDocument } from "./summary.ts";
import type { RestoreTestRun } from "./steps/index.ts";

export const throwawayAdapters: ThrowawayPort = {
  restoreDbInstance,
  describeDbInstance,
  describeDbSnapshot,
  deleteDbInstance,
  restoreDbCluster,
  createClusterInstance,
  describeDbCluster,
  describeClusterSnapshot,
  deleteDbCluster,
  createVolume: createVolumeFromSnapshot,
  describeVolume,
  findVolumesByName: (region, name) => findVolumesByName(region, TAG.name, name),
  describeEbsSnapshot,
  deleteVolume,
  listLeftovers: listRestoreTestLeftovers,
};

/** The checkpoint of run `runId` and its report, under `restore-test/` in the reports bucket. */
export function restoreTestStore(bucket: BucketRef, runId: string): RestoreTestDeps["store"] {
  const docs = jsonDocuments(bucket);
  const key = `restore-test/runs/${runId}.json`;
  return {
    read: () => docs.get<RestoreTestRun>(key).then((d) => (d ? { record: d.body, etag: d.etag } : undefined)),
    async replace(record, etag) {
      const r = await docs.replace(key, record, etag);
      return r.replaced ? (r.etag ?? "") : undefined;
    },
    async create(record) {
      return (await docs.create(key, record)).created;
    },
  };
}

export function realRestoreTestDeps(input: {
  bucket: BucketRef;
  runId: string;
  owner: Owner;
  sql: RestoreTestDeps["sql"];
  notify?: RestoreTestReportPort["notify"];
}): RestoreTestDeps {
  const docs = jsonDocuments(input.bucket);
  return {
    aws: throwawayAdapters,
    snapshots: { list: (region, kind) => listRegionSnapshots(region, managedByValue(input.owner), [kind]) },
    sql: input.sql,
    reports: {
      report: (run) => docs.put(`restore-test/reports/${run.target.kind}/${run.target.resourceId}/${run.runId}.json`, run),
      trend: async (target, entry) => void (await appendTrendDocument(docs, target, entry)),
      ...(input.notify ? { notify: input.notify } : {}),
    },
    store: restoreTestStore(input.bucket, input.runId),
    clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  };
}
