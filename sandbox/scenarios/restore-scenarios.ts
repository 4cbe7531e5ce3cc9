/**
 * The drill's restore section: the restore-test runbook on the sandbox, through its real dependencies
 * (runbooks/restore-test/deps.ts realRestoreTestDeps: the adapters, the checkpoint, reports and trend in the S3
 * bucket), for four resources of three policies with restoreTest blocks:
 *
 * - `orders-db`, an RDS instance (policy `db`, SQL smoke check, 30 min target);
 * - `billing-db`, an RDS instance of the same policy whose restored table is empty: the smoke check fails;
 * - `orders-aurora`, an Aurora cluster (policy `aurora`, 30 min target) whose SQL smoke check runs through the RDS Data
 *   API (adapters/rds-data.ts) on the sandbox's Data API, logging in with the source's RDS-managed master secret;
 * - an EBS volume (policy `volumes`, 15 min target).
 *
 * Before them, a crashed run's leftover volume (our restore-test tags, 10 h old) and a look-alike without the
 * restore-test tag: the first run's janitor deletes the leftover, the look-alike survives.
 *
 * The RDS instances' SQL smoke checks run through a stubbed SQL port (the sandbox runs no Postgres; the pg runner is
 * tested against a real Postgres in test/unit/adapters/pg-smoke.test.ts); the sandbox's Data API answers the Aurora
 * check's query from a registered answer. IAM is enforced: every call is authorized against the
 * restore-test role stacks/iam.ts derives from this configuration ({@link restoreTestRole}); denials are counted.
 */
import { resetClients } from "../../adapters/clients.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import { snapshotName } from "../../core/ownership.ts";
import { throwaway } from "../../core/restore-test.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { restoreTestSummary, restoreTestSummaryRow, type RestoreTestSummaryRow } from "../../core/report/restore-test.ts";
import { restoreTestTrendKey, type RestoreTestTrend } from "../../core/restore-test-trend.ts";
import { TAG, managedByValue, type Owner, type ResourceKind } from "../../core/types.ts";
import { realRestoreTestDeps } from "../../runbooks/restore-test/deps.ts";
import { advanceRestoreTest, startRestoreTest, type RestoreTestRequest } from "../../runbooks/restore-test/index.ts";
import type { RestoreTestDeps, SmokeCheckResult } from "../../runbooks/restore-test/ports.ts";
import type { RestoreTestRun } from "../../runbooks/restore-test/steps/index.ts";
import { ConfigSchema, type Config } from "../../schemas/config.ts";
import type { Principal } from "../aws/iam/enforce.ts";
import { createSandbox, DEFAULT_ACCOUNT_ID, FakeClock, type Sandbox } from "../index.ts";
import { functionRole } from "./roles.ts";

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-drill-reports";
const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
const MB = managedByValue(OWNER);
const SG = "sg-0123456789abcdef0";
const CHECKER = { subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0fedcba9876543210"] };
const DB_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf";
const START = "2026-12-01T06:00:00Z";
/** The EBS volume under test (the app's data volume). */
const APP_DATA_VOLUME = "vol-0a1b2c3d4e5f60718";
const SOURCE_KEY = `arn:aws:kms:${REGION}:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;

export interface RestoreDrillResult {
  /** One row per resource, in the order tested. */
  rows: RestoreTestSummaryRow[];
  /** The Slack summary each run posted, as plain text. */
  messages: { runId: string; critical: boolean; text: string; message: SlackMessage }[];
  /** The trend documents in the bucket after the runs. */
  trend: Record<string, RestoreTestTrend>;
  janitor: { leftover: string; deleted: string[]; lookAlike: string; lookAlikeSurvived: boolean };
  /** Restore-test resources still in the account after the runs (none expected). */
  remaining: string[];
  awsCalls: number;
  /** The Aurora cluster's sql check through the Data API: its result and the Data API calls it took, in order. */
  dataApi: { check: string; passed: boolean; observed: string | null; secret: string; calls: string[] };
  /** Calls the restore-test role refused (`action on resource: reason`). */
  iamDenials: string[];
}

/** The stage's configuration: three policies with restoreTest blocks; the sandbox derives the restore-test role from it. */
function config(volumeId: string): Config {
  const rds = { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: [SG] };
  return ConfigSchema.parse({
    app: OWNER.app,
    stage: OWNER.stage,
    primaryRegion: REGION,
    failover: {},
    warm: {},
    cost: {},
    observe: false,
    backup: {
      sourceKmsKeyIds: [SOURCE_KEY],
      policies: [
        {
          name: "db",
          copyToDr: false,
          selection: {
            ids: [
              { kind: "rds-instance", id: "orders-db" },
              { kind: "rds-instance", id: "billing-db" },
            ],
          },
          restoreTest: {
            region: "primary",
            rtoTargetMinutes: 30,
            rds: { ...rds, checker: CHECKER },
            smoke: { sql: [{ name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } }], secretArn: DB_SECRET },
          },
        },
        {
          name: "aurora",
          copyToDr: false,
          selection: { ids: [{ kind: "aurora-cluster", id: "orders-aurora" }] },
          // No smoke.secretArn: the source cluster's RDS-managed master user secret.
          restoreTest: {
            region: "primary",
            rtoTargetMinutes: 30,
            rds,
            smoke: { sql: [{ name: "orders", query: "select count(*) from orders", expect: { atLeast: 1 } }] },
          },
        },
        {
          name: "volumes",
          copyToDr: false,
          selection: { ids: [{ kind: "ebs-volume", id: volumeId }] },
          restoreTest: { region: "primary", rtoTargetMinutes: 15, ebs: { availabilityZone: `${REGION}b` } },
        },
      ],
    },
  });
}

const snapTags = (name: string, source: string) => ({ [TAG.managedBy]: MB, [TAG.name]: name, [TAG.source]: source, [TAG.sourceRegion]: REGION });

function seed(sb: Sandbox): { targets: { policy: string; kind: ResourceKind; resourceId: string }[]; leftover: string; lookAlike: string } {
  const capturedAt = new Date("2026-11-30T02:00:00Z");
  for (const db of ["orders-db", "billing-db"]) {
    sb.rds.addInstance(REGION, { id: db, engine: "postgres", engineVersion: "16.4", allocatedStorage: 50 });
    const id = snapshotName(OWNER, db, "2026-11-30");
    sb.rds.addSnapshot(REGION, { id, sourceId: db, createdAt: capturedAt, tags: snapTags(id, db) });
  }
  sb.rds.addCluster(REGION, { id: "orders-aurora", engine: "aurora-postgresql", members: ["orders-aurora-a"], manageMasterUserPassword: true });
  sb.rdsData.answer("select count(*) from orders", [[1200]]);
  const cs = snapshotName(OWNER, "orders-aurora", "2026-11-30");
  sb.rds.addSnapshot(REGION, { id: cs, kind: "cluster", sourceId: "orders-aurora", createdAt: capturedAt, tags: snapTags(cs, "orders-aurora") });
  const volumeId = sb.ec2.addVolume(REGION, { id: APP_DATA_VOLUME, size: 40 });
  const vs = snapshotName(OWNER, volumeId, "2026-11-30");
  sb.ec2.addSnapshot(REGION, { volumeId, description: vs, createdAt: capturedAt, tags: snapTags(vs, volumeId) });

  // A run that crashed last evening left its volume behind; a look-alike lacks only the restore-test tag.
  const { tags } = throwaway(OWNER, { policy: "volumes", kind: "ebs-volume", resourceId: volumeId }, "crashed-run", new Date("2026-11-30T20:00:00Z"));
  const leftover = sb.ec2.addVolume(REGION, { status: "available", size: 40, tags });
  const { [TAG.restoreTest]: _, ...untagged } = tags;
  const lookAlike = sb.ec2.addVolume(REGION, { status: "available", size: 40, tags: untagged });
  return {
    targets: [
      { policy: "db", kind: "rds-instance", resourceId: "orders-db" },
      { policy: "db", kind: "rds-instance", resourceId: "billing-db" },
      { policy: "aurora", kind: "aurora-cluster", resourceId: "orders-aurora" },
      { policy: "volumes", kind: "ebs-volume", resourceId: volumeId },
    ],
    leftover,
    lookAlike,
  };
}

/** The stubbed SQL port: billing-db's restored `orders` table is empty, every other database has 1,200 rows. */
const sqlStub: RestoreTestDeps["sql"] = {
  run: async (input) =>
    input.checks.map((c): SmokeCheckResult => {
      const empty = input.instanceId.includes("-rt-billing-db-");
      return empty
        ? { name: c.name, passed: false, observed: "0", reason: "0 is less than 1", ms: 38 }
        : { name: c.name, passed: true, observed: "1200", reason: "1200 is at least 1", ms: 41 };
    }),
};

/** Drive a run as the state machine does: advance, Wait the seconds asked (the sandbox clock), advance again. */
async function drive(sb: Sandbox, deps: RestoreTestDeps, req: RestoreTestRequest): Promise<void> {
  let r = await startRestoreTest(deps, req);
  for (let waits = 0; r.next === "wait"; waits++) {
    if (waits > 1000) throw new Error(`run ${req.runId} never ended`);
    sb.clock.advance((r.waitSeconds ?? 1) * 1000);
    r = await advanceRestoreTest(deps, req);
  }
}

/**
 * The restore-test role stacks/iam.ts derives from `cfg`, linked to the Reports bucket (where the runbook keeps its
 * checkpoint, reports and trend), as its function is linked once declared in stacks/functions.ts.
 */
export function restoreTestRole(cfg: Config, bucket = BUCKET): Principal {
  return functionRole("restore-test", cfg, DEFAULT_ACCOUNT_ID, { reportsBucket: bucket });
}

export async function runRestoreDrill(): Promise<RestoreDrillResult> {
  const cfg = config(APP_DATA_VOLUME);
  const sb = createSandbox({
    clock: new FakeClock(START),
    regions: [REGION, "eu-central-1"],
    buckets: [BUCKET],
    iam: { principal: () => restoreTestRole(cfg) },
  });
  resetClients();
  try {
    sb.rds.addSubnetGroup(REGION, "restore-tests");
    const { targets, leftover, lookAlike } = seed(sb);
    const docs = jsonDocuments({ bucket: BUCKET, region: REGION });
    const rows: RestoreTestSummaryRow[] = [];
    const messages: RestoreDrillResult["messages"] = [];
    let janitorDeleted: string[] = [];
    for (const target of targets) {
      const runId = `rt-2026-12-01-${target.resourceId}`;
      const posted: SlackMessage[] = [];
      const deps = realRestoreTestDeps({
        bucket: { bucket: BUCKET, region: REGION },
        runId,
        owner: OWNER,
        sql: sqlStub,
        notify: async (m) => void posted.push(m),
      });
      deps.clock = { now: () => sb.clock.now(), sleep: async () => undefined };
      await drive(sb, deps, { runId, owner: OWNER, target: { ...target, region: REGION }, config: cfg });
      const run = (await docs.get<RestoreTestRun>(`restore-test/runs/${runId}.json`))!.body;
      const policy = cfg.backup.policies.find((p) => p.name === target.policy)!.restoreTest!;
      rows.push(restoreTestSummaryRow(run, policy.rtoTargetMinutes));
      janitorDeleted = [...janitorDeleted, ...(run.janitor?.deleted ?? [])];
      for (const m of posted) messages.push({ runId, critical: m.text.startsWith("CRITICAL"), text: renderText(m), message: m });
    }
    const trend: Record<string, RestoreTestTrend> = {};
    for (const t of targets) {
      const key = restoreTestTrendKey(t.kind, t.resourceId);
      const doc = await docs.get<RestoreTestTrend>(key);
      if (doc) trend[key] = doc.body;
    }
    // Let the deletes finish, then see what is left.
    sb.clock.advance(60 * 60 * 1000);
    const auroraRun = (await docs.get<RestoreTestRun>("restore-test/runs/rt-2026-12-01-orders-aurora.json"))!.body;
    const auroraCheck = auroraRun.smoke?.find((c) => c.name === "orders");
    const dataApi = {
      check: "orders",
      passed: auroraCheck?.passed ?? false,
      observed: auroraCheck?.observed ?? null,
      secret:
        sb
          .callsTo("rdsData", "BeginTransaction")
          .map((c) => (c.input as { secretArn: string }).secretArn.split(":secret:")[1]!.replace(/-[0-9a-f-]{36}-\w{6}$/, "-…"))[0] ?? "",
      calls: sb.calls
        .filter((c) => c.service === "rdsData")
        .map((c) => (c.command === "ExecuteStatement" ? `ExecuteStatement ${(c.input as { sql: string }).sql}` : c.command)),
    };
    const listing = await realRestoreTestDeps({ bucket: { bucket: BUCKET, region: REGION }, runId: "-", owner: OWNER, sql: sqlStub }).aws.listLeftovers(REGION);
    return {
      rows,
      messages,
      trend,
      janitor: { leftover, deleted: janitorDeleted, lookAlike, lookAlikeSurvived: sb.ec2.volume(REGION, lookAlike)?.status === "available" },
      remaining: listing.filter((l) => l.tags[TAG.restoreTest] !== undefined).map((l) => l.id),
      awsCalls: sb.calls.length,
      dataApi,
      iamDenials: (sb.iam?.denials ?? []).map((d) => `${d.request.action} on ${d.request.resource}: ${d.reason}`),
    };
  } finally {
    sb.restore();
  }
}

/** The drill's combined summary of every run (the shape one message per run takes, for all of them at once). */
export function restoreDrillSummary(result: RestoreDrillResult): SlackMessage {
  return restoreTestSummary("drill 2026-12-01", result.rows);
}
