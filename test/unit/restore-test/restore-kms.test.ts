/**
 * Restoring an encrypted snapshot needs the caller's kms:CreateGrant and kms:DescribeKey on its customer managed key
 * ("To create an RDS resource using a customer managed key, a user must have permissions to call kms:CreateGrant and
 * kms:DescribeKey", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html). The
 * restore-test role carries them for the keys our snapshots use (the source key in the primary region, the DR key in
 * a DR region) and no other: the sandbox authorizes each restore as AWS does, with the role stacks/iam.ts derives.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { restoreDbCluster, restoreDbInstance } from "../../../adapters/restore.ts";
import { snapshotName } from "../../../core/ownership.ts";
import { restoreTestRole } from "../../../sandbox/scenarios/restore-scenarios.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { ConfigSchema } from "../../../schemas/config.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const SOURCE_KEY = `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d`;
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0`;
const OTHER_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/99999999-9999-4999-8999-999999999999`;
const RDS = { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] };

const CONFIG = ConfigSchema.parse({
  app: "ops-autopilot",
  stage: "prod",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: DR_KEY }],
  observe: false,
  backup: {
    sourceKmsKeyIds: [SOURCE_KEY],
    policies: [
      { name: "db", selection: { ids: [{ kind: "rds-instance", id: "orders-db" }] }, restoreTest: { rds: RDS } },
      { name: "aurora", selection: { ids: [{ kind: "aurora-cluster", id: "orders-aurora" }] }, restoreTest: { region: "primary", rds: RDS } },
    ],
  },
});
/** Our snapshots carry our managed-by tag: the role restores no other (stacks/iam-scopes.ts). */
const OWNER = { app: "ops-autopilot", stage: "prod" };
const COPY = snapshotName(OWNER, "orders-db", "2026-11-30");
const AURORA = snapshotName(OWNER, "orders-aurora", "2026-11-30");
const FOREIGN = snapshotName(OWNER, "orders-db", "2026-11-29");
const SNAP_TAGS = { "ops-autopilot:managed-by": "ops-autopilot:prod", "ops-autopilot:source": "orders-db" };
const TAGS = { "ops-autopilot:managed-by": "ops-autopilot:prod", "ops-autopilot:restore-test": "run-1", "ops-autopilot:policy": "db" };

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-12-01T06:00:00Z"), regions: [PRIMARY, DR], iam: { principal: () => restoreTestRole(CONFIG) } });
  for (const r of [PRIMARY, DR]) sb.rds.addSubnetGroup(r, "restore-tests");
  resetClients();
});
afterEach(() => sb.restore());

const instance = (snapshotId: string, instanceId = "oa-ops-autopilot-prod-rt-orders-db-run-1") =>
  restoreDbInstance({ region: DR, snapshotId, instanceId, instanceClass: "db.t4g.micro", ...RDS, tags: TAGS });

describe("restoring an encrypted snapshot (IAM enforced)", () => {
  it("a DR copy encrypted with the DR key restores: kms:CreateGrant and kms:DescribeKey on that key, through RDS", async () => {
    sb.rds.addSnapshot(DR, {
      id: COPY,
      sourceId: "orders-db",
      encrypted: true,
      kmsKeyId: DR_KEY,
      createdAt: new Date("2026-11-30T03:00:00Z"),
      tags: SNAP_TAGS,
    });
    await instance(COPY);
    expect(sb.iam?.denials).toEqual([]);
    expect(sb.rds.status(DR, "oa-ops-autopilot-prod-rt-orders-db-run-1")).toBe("creating");
  });

  it("an Aurora snapshot in the primary region encrypted with the source key restores", async () => {
    sb.rds.addSnapshot(PRIMARY, {
      id: AURORA,
      sourceId: "orders-aurora",
      kind: "cluster",
      encrypted: true,
      kmsKeyId: SOURCE_KEY,
      createdAt: new Date("2026-11-30T03:00:00Z"),
      tags: { ...SNAP_TAGS, "ops-autopilot:source": "orders-aurora" },
    });
    await restoreDbCluster({
      region: PRIMARY,
      snapshotId: AURORA,
      clusterId: "oa-ops-autopilot-prod-rt-orders-aurora-run-1",
      engine: "aurora-postgresql",
      ...RDS,
      tags: { ...TAGS, "ops-autopilot:policy": "aurora" },
    });
    expect(sb.iam?.denials).toEqual([]);
  });

  it("a snapshot under a key that is not ours is refused: kms:CreateGrant on it is not in the role", async () => {
    sb.iam?.expectDenial(restoreTestRole(CONFIG).name, "kms:DescribeKey");
    sb.rds.addSnapshot(DR, {
      id: FOREIGN,
      sourceId: "orders-db",
      encrypted: true,
      kmsKeyId: OTHER_KEY,
      createdAt: new Date("2026-11-30T03:00:00Z"),
      tags: SNAP_TAGS,
    });
    const err = (await instance(FOREIGN).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe("AccessDenied");
    expect(sb.iam?.denials.map((d) => `${d.request.action} ${d.request.resource}`)).toEqual([`kms:DescribeKey ${OTHER_KEY}`]);
  });
});
