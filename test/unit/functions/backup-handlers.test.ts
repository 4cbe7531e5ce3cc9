import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBClusterSnapshotsCommand,
  RDSClient,
  SnapshotQuotaExceededFault,
} from "@aws-sdk/client-rds";
import { DescribeImagesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { createHandler, AggregateRunError, ReportDeliveryError, type Runtime } from "../../../runbooks/lib/handler.ts";
import { parseBackupEvent, parsePruneEvent } from "../../../schemas/events-backup.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseConfig } from "../../../schemas/config.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import { renderText } from "../../../core/report/blocks.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { TAG } from "../../../core/types.ts";

const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);

const config = parseConfig({
  stage: "prod",
  primaryRegion: "eu-west-1",
  observe: false,
  backup: { policies: [{ name: "db", selection: { tag: {} } }] },
});
const NOW = new Date("2026-11-21T02:00:00Z");
const ctx = lambdaContext("req-1");

function harness(extra: Partial<Runtime> = {}) {
  const saved: { key: string; report: Record<string, unknown> }[] = [];
  const posted: SlackMessage[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => NOW,
    saveReport: async (key, report) => void saved.push({ key, report: report as Record<string, unknown> }),
    postSlack: async (m) => void posted.push(m),
    emitMetrics: () => {},
    ...extra,
  };
  return { saved, posted, runtime };
}

function totalCalls(): number {
  return rds.calls().length + ec2.calls().length + s3.calls().length;
}

const instances = ["app-db", "billing-db", "search-db"].map((id) => ({
  DBInstanceIdentifier: id,
  DBInstanceArn: `arn:aws:rds:eu-west-1:123456789012:db:${id}`,
  DBInstanceStatus: "available",
  TagList: [{ Key: "ops-autopilot:backup", Value: "db" }],
}));

beforeEach(() => {
  rds.reset();
  ec2.reset();
  s3.reset();
  resetClients();
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: instances });
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2.on(DescribeImagesCommand).resolves({ Images: [] });
});

describe("backup handler", () => {
  it("a malformed event fails with the field named and makes zero AWS calls, no report, no post", async () => {
    const h = harness();
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, h.runtime);
    await expect(handler({ trigger: "manual", resource: { kind: "rds-instance" } }, ctx)).rejects.toThrow(/Invalid backup manual event: resource\.id/);
    expect(totalCalls()).toBe(0);
    expect(h.saved).toEqual([]);
    expect(h.posted).toEqual([]);
  });

  it("snapshots every selected instance; one failing does not stop the others; failures are rethrown once after report and post", async () => {
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds
      .on(CreateDBSnapshotCommand, { DBInstanceIdentifier: "billing-db" })
      .rejects(new SnapshotQuotaExceededFault({ message: "Cannot create more than 100 manual snapshots", $metadata: {} }));
    const h = harness();
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, h.runtime);

    const error = await handler({ trigger: "schedule" }, ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AggregateRunError);
    expect((error as AggregateRunError).failures).toEqual([
      { item: "billing-db", region: "eu-west-1", kind: "quota", message: expect.stringContaining("SnapshotQuotaExceededFault") },
    ]);
    expect(rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 3);
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: "app-db",
      DBSnapshotIdentifier: "oa-ops-autopilot-prod-app-db-20261121",
      Tags: expect.arrayContaining([
        { Key: TAG.managedBy, Value: "ops-autopilot:prod" },
        { Key: TAG.policy, Value: "db" },
        { Key: TAG.source, Value: "app-db" },
        { Key: TAG.backupDate, Value: "2026-11-21" },
      ]),
    });
    expect(h.saved).toHaveLength(1);
    expect(h.saved[0]!.key).toMatch(/^reports\/backup\/2026-11-21\/.*-req-1\.json$/);
    // The summary, then the failed run's critical (core/run-alerts.ts; no state store here: sent as started).
    expect(h.posted).toHaveLength(2);
    const text = renderText(h.posted[0]!);
    expect(text).toContain("billing-db");
    expect(text).toMatch(/quota/);
    expect(h.posted[0]!.text).toMatch(/2 created, 0 already existed, 0 skipped, 1 failed/);
    expect(h.posted[1]!.text.split("\n")[0]).toBe("🚨 CRITICAL: backup run failed (ops-autopilot/prod): 1 item failed");
  });

  it("a rerun the same day creates nothing new: 'already exists' is success", async () => {
    rds.on(CreateDBSnapshotCommand).rejects(new DBSnapshotAlreadyExistsFault({ message: "already exists", $metadata: {} }));
    const h = harness();
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, h.runtime);
    const out = await handler({ trigger: "schedule" }, ctx);
    expect(out.failures).toEqual([]);
    expect(h.posted[0]!.text).toMatch(/0 created, 3 already existed/);
  });

  it("reports an instance in the wrong state instead of skipping it silently", async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ ...instances[0]!, DBInstanceStatus: "stopped" }] });
    const h = harness();
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, h.runtime);
    await handler({ trigger: "schedule" }, ctx);
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(renderText(h.posted[0]!)).toMatch(/app-db.*stopped/);
  });

  it("a Slack failure fails the run loudly after the report is saved, without the webhook URL in the error", async () => {
    rds.on(CreateDBSnapshotCommand).resolves({});
    const url = "https://hooks.slack.com/services/T000/B000/very-secret-token";
    const h = harness({
      postSlack: async () => {
        const { postToSlack } = await import("../../../adapters/slack.ts");
        await postToSlack(url, { text: "x" }, { maxAttempts: 1, fetchImpl: async () => new Response("no", { status: 404 }) });
      },
    });
    const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c)) }, h.runtime);
    const error = await handler({ trigger: "schedule" }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportDeliveryError);
    expect(String((error as Error).message)).not.toContain("very-secret-token");
    expect(String((error as Error).message)).not.toContain("hooks.slack.com");
    expect(h.saved).toHaveLength(1);
  });
});

describe("prune handler", () => {
  const old = (day: string) => ({
    DBSnapshotIdentifier: `oa-ops-autopilot-prod-app-db-${day.replaceAll("-", "")}`,
    DBSnapshotArn: `arn:aws:rds:eu-west-1:123456789012:snapshot:oa-ops-autopilot-prod-app-db-${day.replaceAll("-", "")}`,
    DBInstanceIdentifier: "app-db",
    Status: "available",
    SnapshotType: "manual",
    SnapshotCreateTime: new Date(`${day}T02:05:00Z`),
    TagList: [
      { Key: TAG.managedBy, Value: "ops-autopilot:prod" },
      { Key: TAG.policy, Value: "db" },
      { Key: TAG.source, Value: "app-db" },
      { Key: TAG.backupDate, Value: day },
      { Key: TAG.sourceRegion, Value: "eu-west-1" },
      { Key: TAG.name, Value: `oa-ops-autopilot-prod-app-db-${day.replaceAll("-", "")}` },
    ],
  });
  // Twelve nightly backups up to today: the Thursdays/Mondays... older than 7 days and not a Sunday or the 1st expire.
  const days = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, 10, 21 - i)).toISOString().slice(0, 10));

  beforeEach(() => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: days.map(old) });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // No deletes reserved yet today (state/prune/<day>.json), and the reservation is accepted.
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
    s3.on(PutObjectCommand).resolves({ ETag: '"1"' });
  });
  const runPruneWithState = (e: Parameters<typeof runPrune>[0], c: Parameters<typeof runPrune>[1]) =>
    runPrune(e, c, backupDeps(c, { stateBucket: { bucket: "reports", region: "eu-west-1" } }));

  it("a manual invoke is a dry-run: the plan with a reason per snapshot, nothing deleted, nothing posted", async () => {
    const h = harness();
    const handler = createHandler({ name: "prune", parse: parsePruneEvent, run: runPruneWithState }, h.runtime);
    const out = await handler({ trigger: "manual" }, ctx);
    expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(h.posted).toEqual([]);
    const plans = out.plans as { delete: { id: string; reason: string }[]; keep: { id: string; reason: string }[] }[];
    const planned = plans.flatMap((p) => p.delete.map((d) => d.id)).sort();
    expect(planned.length).toBeGreaterThan(0);
    for (const p of plans) for (const d of [...p.keep, ...p.delete]) expect(d.reason).toMatch(/\w/);
    // Same plan, executed: exactly the planned deletes are sent.
    const live = createHandler({ name: "prune", parse: parsePruneEvent, run: runPruneWithState }, harness().runtime);
    await live({ trigger: "manual", dryRun: false }, ctx);
    const sent = rds
      .commandCalls(DeleteDBSnapshotCommand)
      .map((c) => c.args[0].input.DBSnapshotIdentifier)
      .sort();
    expect(sent).toEqual(planned);
  });
});
