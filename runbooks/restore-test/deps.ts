/**
 * Real dependencies of the restore-test runbook: the adapters behind its ports, the checkpoint and the report in the
 * reports bucket, used by the Lambda handler (./handler.ts, functions/restore-test.ts; stacks/restore-test.ts). SQL smoke
 * checks of an RDS instance run in the restore region's checker function (./checker.ts), invoked synchronously.
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
  enableHttpEndpoint,
  listRestoreTestLeftovers,
  restoreDbCluster,
  restoreDbInstance,
  sourceMasterSecret,
} from "../../adapters/restore.ts";
import { rdsDataSmoke } from "../../adapters/rds-data.ts";
import { createVolumeFromSnapshot, deleteVolume, describeEbsSnapshot, describeVolume, findVolumesByName } from "../../adapters/restore-ebs.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { invokeChecker } from "../../adapters/checker.ts";
import type { SmokeCheckResult } from "../../adapters/pg-smoke.ts";
import { TAG, managedByValue, type Owner } from "../../core/types.ts";
import type { RestoreTestDeps, RestoreTestReportPort, SqlSmokePort, ThrowawayPort } from "./ports.ts";
import { checkerEnvName } from "./checker-ref.ts";
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
  enableHttpEndpoint,
  sourceMasterSecret,
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
    snapshots: { list: (region, kind) => listRegionSnapshots(region, managedByValue(input.owner), [kind], { amis: false }) },
    sql: input.sql,
    dataApi: rdsDataSmoke(),
    reports: {
      report: (run) => docs.put(`restore-test/reports/${run.target.kind}/${run.target.resourceId}/${run.runId}.json`, run),
      trend: async (target, entry) => void (await appendTrendDocument(docs, target, entry)),
      ...(input.notify ? { notify: input.notify } : {}),
    },
    store: restoreTestStore(input.bucket, input.runId),
    clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  };
}

/**
 * The production SQL port: the restore region's checker function, named by the environment variable stacks/restore-test.ts
 * sets for each region that has one (checker-ref.ts), invoked synchronously with the event it parses
 * (schemas/events-restore-test-checker.ts). Its answer's results come back as they are; a thrown checker (both secret
 * versions refused, say) is a thrown error with its message.
 */
export function checkerSqlPort(env: Record<string, string | undefined> = process.env, log?: RestoreTestDeps["log"]): SqlSmokePort {
  return {
    async run(input) {
      const functionName = env[checkerEnvName(input.region)];
      if (!functionName)
        throw new Error(`no checker function in ${input.region}: give the policy restoreTest.rds.checker (subnetIds, securityGroupIds) and deploy`);
      if (!input.endpoint) throw new Error(`restored instance ${input.instanceId} has no endpoint to connect to`);
      const answer = (await invokeChecker({
        region: input.region,
        functionName,
        event: {
          host: input.endpoint.host,
          port: input.endpoint.port,
          database: input.database,
          secretArn: input.secretArn,
          checks: input.checks,
          context: { snapshotTime: input.context.snapshotTime.toISOString() },
          timeoutMs: input.timeoutMs,
        },
      })) as { results?: unknown; secretStage?: unknown; note?: unknown } | null;
      if (!answer || !Array.isArray(answer.results)) throw new Error(`checker function ${functionName} (${input.region}) answered without results`);
      if (typeof answer.note === "string") log?.(answer.note, { instanceId: input.instanceId, secretStage: String(answer.secretStage) });
      return answer.results as SmokeCheckResult[];
    },
  };
}
