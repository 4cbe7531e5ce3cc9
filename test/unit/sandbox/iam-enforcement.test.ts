import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AddTagsToResourceCommand, CreateDBSnapshotCommand, DeleteDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { DeleteSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { noteInvocationConfig, runInvocation } from "../../../runbooks/lib/invocation.ts";
import { parseConfig, type Config } from "../../../schemas/config.ts";
import { rejection } from "./rejection.ts";

/**
 * The sandbox authorizes every call a function makes against that function's role as stacks/iam.ts derives it,
 * and refuses as AWS does (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const BUCKET = "reports";
const OURS = { "ops-autopilot:managed-by": "app:prod" };

const config: Config = parseConfig({
  app: "app",
  stage: "prod",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: `arn:aws:kms:${DR}:${ACCOUNT}:key/dr` }],
  backup: { policies: [{ name: "standard", selection: { tag: { key: "ops-autopilot:backup" } } }] },
});

function as<T>(fn: "backup" | "copy" | "prune" | "watchdog", call: () => Promise<T>): Promise<T> {
  return runInvocation(fn, () => {
    noteInvocationConfig(config);
    return call();
  });
}

let sb: Sandbox;
const rds = new RDSClient({ region: PRIMARY, maxAttempts: 1 });
const ec2 = new EC2Client({ region: PRIMARY, maxAttempts: 1 });
const s3 = new S3Client({ region: PRIMARY, maxAttempts: 1 });

beforeEach(() => {
  // These tests provoke denials on purpose: they are not counted in `npm run iam-report`.
  sb = createSandbox({ clock: new FakeClock("2026-01-02T03:00:00Z"), regions: [PRIMARY, DR], buckets: [BUCKET], iam: { recordUsage: false } });
  sb.rds.addInstance(PRIMARY, { id: "db" });
});
afterEach(() => sb.restore());

describe("the prune role deletes only what carries our tag and our name", () => {
  it("refuses a snapshot tagged as ours but named otherwise, with RDS's AccessDenied", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "by-hand", sourceId: "db", tags: { ...OURS, "ops-autopilot:name": "by-hand" } });
    const err = await rejection(as("prune", () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "by-hand" }))));

    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/app-prod-PruneRole-sandbox0/prune is not authorized to perform: rds:DeleteDBSnapshot on resource: arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:by-hand because no identity-based policy allows the rds:DeleteDBSnapshot action`,
    );
    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id)).toContain("by-hand");
  });

  it("refuses a snapshot with our name but without our name tag (a copy or restore that inherited our managed-by tag)", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "oa-app-prod-db-20260101", sourceId: "db", tags: OURS });
    const err = await rejection(as("prune", () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "oa-app-prod-db-20260101" }))));
    expect(err.name).toBe("AccessDenied");
  });

  it("allows our own snapshot: managed-by, name tag and id all ours", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "oa-app-prod-db-20260101", sourceId: "db", tags: { ...OURS, "ops-autopilot:name": "oa-app-prod-db-20260101" } });
    await as("prune", () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "oa-app-prod-db-20260101" })));
    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id)).not.toContain("oa-app-prod-db-20260101");
    expect(sb.iam?.denials).toEqual([]);
  });

  it("refuses another stage's EBS snapshot with EC2's UnauthorizedOperation", async () => {
    const snap = sb.ec2.addSnapshot(PRIMARY, {
      volumeId: "vol-0123456789abcdef0",
      tags: { "ops-autopilot:managed-by": "app:staging", "ops-autopilot:name": "oa-app-staging-x" },
    });
    const err = await rejection(as("prune", () => ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap.id }))));
    expect(err.name).toBe("UnauthorizedOperation");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toMatch(
      /^You are not authorized to perform this operation\. User: .* is not authorized to perform: ec2:DeleteSnapshot on resource: arn:aws:ec2:eu-west-1::snapshot\/snap-/,
    );
  });
});

describe("no role can put our tag on a snapshot it did not create in the same request", () => {
  it("backup cannot tag a person's snapshot as ours (AddTagsToResource outside our id prefix)", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "by-hand", sourceId: "db" });
    const err = await rejection(
      as("backup", () =>
        rds.send(
          new AddTagsToResourceCommand({
            ResourceName: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:by-hand`,
            Tags: [{ Key: "ops-autopilot:managed-by", Value: "app:prod" }],
          }),
        ),
      ),
    );
    expect(err.name).toBe("AccessDenied");
    expect(sb.snapshots(PRIMARY).find((s) => s.id === "by-hand")?.tags).toEqual({});
  });

  it("backup cannot re-tag an existing snapshot that already carries a managed-by tag, even under our prefix", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "oa-app-prod-lookalike", sourceId: "db", tags: { "ops-autopilot:managed-by": "someone-else" } });
    const err = await rejection(
      as("backup", () =>
        rds.send(
          new AddTagsToResourceCommand({
            ResourceName: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:oa-app-prod-lookalike`,
            Tags: [{ Key: "ops-autopilot:managed-by", Value: "app:prod" }],
          }),
        ),
      ),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain("rds:AddTagsToResource");
  });

  it("backup may create our snapshot with our tags (tag-on-create), but not under another name", async () => {
    const tags = [
      { Key: "ops-autopilot:managed-by", Value: "app:prod" },
      { Key: "ops-autopilot:name", Value: "oa-app-prod-db-20260102" },
    ];
    await as("backup", () =>
      rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "db", DBSnapshotIdentifier: "oa-app-prod-db-20260102", Tags: tags })),
    );
    const err = await rejection(
      as("backup", () => rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "db", DBSnapshotIdentifier: "nightly-20260102", Tags: tags }))),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain(`rds:CreateDBSnapshot on resource: arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:nightly-20260102`);
    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id)).toEqual(["oa-app-prod-db-20260102"]);
  });

  it("backup may not create a snapshot tagged with a key that is not ours", async () => {
    const err = await rejection(
      as("backup", () =>
        rds.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: "db",
            DBSnapshotIdentifier: "oa-app-prod-db-20260103",
            Tags: [
              { Key: "ops-autopilot:managed-by", Value: "app:prod" },
              { Key: "owner", Value: "me" },
            ],
          }),
        ),
      ),
    );
    expect(err.message).toContain("rds:AddTagsToResource");
  });
});

describe("calls outside a function", () => {
  it("are the account's administrator: allowed and not counted", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "by-hand", sourceId: "db" });
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "by-hand" }));
    expect(sb.rds.snapshots(PRIMARY)).toEqual([]);
  });
});

describe("S3 without s3:ListBucket", () => {
  it("answers a missing key with 403 AccessDenied instead of 404 NoSuchKey", async () => {
    const only = createSandbox({
      regions: [PRIMARY],
      buckets: [BUCKET],
      // A role of its own, not counted for npm run iam-report (whose probe function's role this is not).
      iam: {
        recordUsage: false,
        principal: () => ({
          name: "object-reader",
          roleArn: `arn:aws:iam::${ACCOUNT}:role/object-reader`,
          statements: [{ actions: ["s3:GetObject"], resources: [`arn:aws:s3:::${BUCKET}/*`] }],
        }),
      },
    });
    try {
      const err = await rejection(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "missing.json" })));
      expect(err.name).toBe("AccessDenied");
      expect(err.$metadata?.httpStatusCode).toBe(403);
    } finally {
      only.restore();
    }
  });

  it("a function linked to the Reports bucket gets 404 NoSuchKey for a missing key", async () => {
    const err = await rejection(as("prune", () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "state/prune/2026-01-02.json" }))));
    expect(err.name).toBe("NoSuchKey");
  });
});
