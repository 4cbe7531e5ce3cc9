/**
 * Fidelity tests: the sandbox rejects what AWS's API reference says AWS rejects, for the request shapes the
 * adapters send. Each test names the page it follows; sandbox/README.md lists the rules with the same sources.
 */
import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBSnapshotNotFoundFault,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  SnapshotQuotaExceededFault,
} from "@aws-sdk/client-rds";
import { CopySnapshotCommand, CreateSnapshotCommand, CreateTagsCommand, DeleteSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ChangeResourceRecordSetsCommand, Route53Client, type Change, type ResourceRecordSet } from "@aws-sdk/client-route-53";
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { copyOnTheWire } from "../../../sandbox/aws/rds.ts";
import { rejection } from "./rejection.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/dr`;
const snapArn = (region: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;
const clusterSnapArn = (region: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:cluster-snapshot:${id}`;
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const manyTags = (n: number, prefix = "k") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "v"]));

const API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference";

let sb: Sandbox;
let rds: RDSClient;
let rdsDr: RDSClient;
let ec2: EC2Client;
let ec2Dr: EC2Client;

beforeEach(() => {
  // Rule checks in bursts (six Route 53 changes in one instant would meet its 5-a-second limit); rates: rate-limits.test.ts.
  sb = createSandbox({ clock: new FakeClock("2025-03-01T02:00:00Z"), regions: [PRIMARY, DR], rateLimits: false });
  rds = new RDSClient({ region: PRIMARY });
  rdsDr = new RDSClient({ region: DR });
  ec2 = new EC2Client({ region: PRIMARY });
  ec2Dr = new EC2Client({ region: DR });
});
afterEach(() => sb.restore());

describe("RDS: KMS parameters on copies", () => {
  it(`CopyDBClusterSnapshot with KmsKeyId for an unencrypted source fails: "an error is returned" (${API}/API_CopyDBClusterSnapshot.html, KmsKeyId)`, async () => {
    sb.rds.addCluster(PRIMARY, { id: "plain", encrypted: false });
    sb.rds.addSnapshot(PRIMARY, { id: "plain-1", kind: "cluster", sourceId: "plain" });

    const err = await rejection(
      rdsDr.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, "plain-1"),
          TargetDBClusterSnapshotIdentifier: "plain-1",
          KmsKeyId: DR_KEY,
        }),
      ),
    );
    const without = await rdsDr.send(
      new CopyDBClusterSnapshotCommand({ SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, "plain-1"), TargetDBClusterSnapshotIdentifier: "plain-1" }),
    );

    expect(err.name).toBe("InvalidParameterCombination");
    expect(err.message).toBe(
      "KmsKeyId cannot be specified: DB cluster snapshot plain-1 is not encrypted, and an unencrypted DB cluster snapshot cannot be encrypted by copying it.",
    );
    expect(without.DBClusterSnapshot).toMatchObject({ StorageEncrypted: false });
    expect(without.DBClusterSnapshot?.KmsKeyId).toBeUndefined();
  });

  it(`CopyDBSnapshot with KmsKeyId for an unencrypted source encrypts the copy: "If you specify this parameter when you copy an unencrypted snapshot, the copy is encrypted" (${API}/API_CopyDBSnapshot.html, KmsKeyId)`, async () => {
    sb.rds.addInstance(PRIMARY, { id: "plain", encrypted: false });
    sb.rds.addSnapshot(PRIMARY, { id: "plain-1", sourceId: "plain" });

    const out = await rdsDr.send(
      new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: snapArn(PRIMARY, "plain-1"), TargetDBSnapshotIdentifier: "plain-1", KmsKeyId: DR_KEY }),
    );
    const plainCopy = await rdsDr.send(
      new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: snapArn(PRIMARY, "plain-1"), TargetDBSnapshotIdentifier: "plain-2" }),
    );

    expect(out.DBSnapshot).toMatchObject({ Encrypted: true, KmsKeyId: DR_KEY });
    expect(plainCopy.DBSnapshot).toMatchObject({ Encrypted: false });
    expect(plainCopy.DBSnapshot?.KmsKeyId).toBeUndefined();
  });

  it(`an encrypted cluster snapshot copied to another region needs a KmsKeyId of that region (${API}/API_CopyDBClusterSnapshot.html, KmsKeyId)`, async () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    sb.rds.addSnapshot(PRIMARY, { id: "a-1", kind: "cluster", sourceId: "aurora-1" });
    const copy = (KmsKeyId?: string) =>
      rdsDr.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, "a-1"),
          TargetDBClusterSnapshotIdentifier: "a-1",
          ...(KmsKeyId ? { KmsKeyId } : {}),
        }),
      );

    const noKey = await rejection(copy());
    const otherRegion = await rejection(copy(`arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/primary`));

    expect(noKey.message).toBe("Must specify new KMS key for cross region encrypted snapshot copy.");
    expect(otherRegion.name).toBe("KMSKeyNotAccessibleFault");
  });
});

describe("RDS: SourceRegion / PreSignedUrl on cross-region copies", () => {
  const copyInput = { SourceDBSnapshotIdentifier: snapArn(PRIMARY, "s-1"), TargetDBSnapshotIdentifier: "s-1", KmsKeyId: DR_KEY, CopyTags: false };

  it("copyOnTheWire adds the PreSignedUrl the SDK's presign middleware adds (node_modules/@aws-sdk/middleware-sdk-rds), checked against a real client", async () => {
    sb.restore(); // a real RDSClient: its middleware stack runs, the request handler captures the body
    let body = "";
    const real = new RDSClient({
      region: DR,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: 1,
      requestHandler: {
        handle: async (req: { body?: string }) => {
          body = String(req.body);
          throw new Error("captured");
        },
      },
    });
    await rejection(real.send(new CopyDBSnapshotCommand(copyInput)));
    const realUrl = new URL(new URLSearchParams(body).get("PreSignedUrl")!);

    const ours = new URL(copyOnTheWire("CopyDBSnapshot", copyInput, DR).PreSignedUrl!);
    const pick = (u: URL) => ({
      host: u.host,
      Action: u.searchParams.get("Action"),
      DestinationRegion: u.searchParams.get("DestinationRegion"),
      KmsKeyId: u.searchParams.get("KmsKeyId"),
      SourceDBSnapshotIdentifier: u.searchParams.get("SourceDBSnapshotIdentifier"),
    });
    expect(pick(ours)).toEqual(pick(realUrl));
    expect(pick(ours)).toEqual({
      host: `rds.${PRIMARY}.amazonaws.com`,
      Action: "CopyDBSnapshot",
      DestinationRegion: DR,
      KmsKeyId: DR_KEY,
      SourceDBSnapshotIdentifier: snapArn(PRIMARY, "s-1"),
    });
    // Same region, or a plain id: no PreSignedUrl; a PreSignedUrl already set is kept.
    expect(copyOnTheWire("CopyDBSnapshot", copyInput, PRIMARY).PreSignedUrl).toBeUndefined();
    expect(copyOnTheWire("CopyDBSnapshot", { ...copyInput, SourceDBSnapshotIdentifier: "s-1" }, DR).PreSignedUrl).toBeUndefined();
    expect(copyOnTheWire("CopyDBSnapshot", { ...copyInput, PreSignedUrl: "https://x/" }, DR).PreSignedUrl).toBe("https://x/");
  });

  it(`SourceRegion is not a field of the v3 input, so it never reaches the wire: a bare id is looked up in the destination (${API}/API_CopyDBSnapshot.html, SourceDBSnapshotIdentifier)`, async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    sb.rds.addSnapshot(PRIMARY, { id: "s-1", sourceId: "app-db" });

    const err = await rejection(rdsDr.send(new CopyDBSnapshotCommand({ ...copyInput, SourceDBSnapshotIdentifier: "s-1", SourceRegion: PRIMARY } as never)));

    expect(err).toBeInstanceOf(DBSnapshotNotFoundFault);
  });

  it(`GovCloud: the PreSignedUrl must name this DestinationRegion and the same KmsKeyId; the SDK-built one passes (${API}/API_CopyDBSnapshot.html, PreSignedUrl)`, async () => {
    const [west, east] = ["us-gov-west-1", "us-gov-east-1"];
    sb.restore();
    sb = createSandbox({ clock: new FakeClock("2025-03-01T02:00:00Z"), regions: [west, east] });
    sb.rds.addInstance(west, { id: "app-db" });
    sb.rds.addSnapshot(west, { id: "s-1", sourceId: "app-db" });
    const eastKey = `arn:aws:kms:${east}:${ACCOUNT}:key/dr`;
    const input = { SourceDBSnapshotIdentifier: `arn:aws:rds:${west}:${ACCOUNT}:snapshot:s-1`, TargetDBSnapshotIdentifier: "s-1", KmsKeyId: eastKey };
    const client = new RDSClient({ region: east });
    const forged = copyOnTheWire("CopyDBSnapshot", input, "us-gov-west-2").PreSignedUrl;

    const bad = await rejection(client.send(new CopyDBSnapshotCommand({ ...input, PreSignedUrl: forged })));
    const ok = await client.send(new CopyDBSnapshotCommand(input));

    expect(bad.name).toBe("InvalidParameterValue");
    expect(bad.message).toBe(`PreSignedUrl does not match the request: its DestinationRegion is not ${east}.`);
    expect(ok.DBSnapshot?.Status).toBe("pending");
  });
});

describe("RDS: identifiers", () => {
  it(`DB snapshot ids: 1–255 letters, digits, hyphens, first a letter, no trailing or double hyphen (${API}/API_CreateDBSnapshot.html)`, async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    const create = (id: string) => rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: id }));
    const names = await Promise.all(["a".repeat(256), "1abc", "abc-", "ab--c", "ab_c", ""].map(async (id) => (await rejection(create(id))).name));

    await create(`a${"b".repeat(254)}`);

    expect(names).toEqual(Array(6).fill("InvalidParameterValue"));
    expect(sb.rds.snapshots(PRIMARY).map((s) => s.id.length)).toEqual([255]);
  });

  it(`DB cluster snapshot ids are at most 63 characters (${API}/API_CreateDBClusterSnapshot.html, ${API}/API_CopyDBClusterSnapshot.html)`, async () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    sb.rds.addSnapshot(PRIMARY, { id: "a-1", kind: "cluster", sourceId: "aurora-1" });
    const long = `a${"b".repeat(63)}`;

    const create = await rejection(rds.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: "aurora-1", DBClusterSnapshotIdentifier: long })));
    const copy = await rejection(
      rds.send(new CopyDBClusterSnapshotCommand({ SourceDBClusterSnapshotIdentifier: "a-1", TargetDBClusterSnapshotIdentifier: long })),
    );
    await rds.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: "aurora-1", DBClusterSnapshotIdentifier: long.slice(0, 63) }));

    expect(create.name).toBe("InvalidParameterValue");
    expect(create.message).toContain("must be 1 to 63 characters long");
    expect(copy.name).toBe("InvalidParameterValue");
  });
});

describe("RDS: tags", () => {
  beforeEach(() => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    sb.rds.addSnapshot(PRIMARY, { id: "s-1", sourceId: "app-db", tags: manyTags(30, "src") });
  });
  const create = (tags: Record<string, string>) =>
    rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "t-1", Tags: tagList(tags) }));

  it(`keys 1–128, values ≤ 256, no aws:/rds: prefix on either, only letters, digits, space and _ . : / = + - @ (${API}/API_Tag.html)`, async () => {
    const cases: Record<string, string>[] = [
      { ["k".repeat(129)]: "v" },
      { k: "v".repeat(257) },
      { "aws:owner": "me" },
      { "RDS:owner": "me" },
      { owner: "rds:me" },
      { "a,b": "v" },
      { k: "daily,weekly" },
    ];
    const names = [];
    for (const tags of cases) names.push((await rejection(create(tags))).name);

    await create({
      ["k".repeat(128)]: "v".repeat(256),
      "ops-autopilot:tiers": "daily+weekly",
      "ops-autopilot:captured-at": "2025-03-01T02:00:00.000Z",
      "e-mail": "a@b",
    });

    expect(names).toEqual(Array(cases.length).fill("InvalidParameterValue"));
  });

  it("at most 50 tags per resource (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html): on create, on AddTagsToResource and on a copy with CopyTags", async () => {
    const onCreate = await rejection(create(manyTags(51)));
    const onAdd = await rejection(rds.send(new AddTagsToResourceCommand({ ResourceName: snapArn(PRIMARY, "s-1"), Tags: tagList(manyTags(21, "new")) })));
    const onCopy = await rejection(
      rds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: "s-1",
          TargetDBSnapshotIdentifier: "c-1",
          CopyTags: true,
          Tags: tagList(manyTags(21, "mine")),
        }),
      ),
    );
    await rds.send(new AddTagsToResourceCommand({ ResourceName: snapArn(PRIMARY, "s-1"), Tags: tagList(manyTags(20, "new")) }));

    expect(onCreate.message).toBe("Cannot add more than 50 tags to a resource: it would have 51.");
    expect(onAdd.message).toBe("Cannot add more than 50 tags to a resource: it would have 51.");
    expect(onCopy.message).toBe("Cannot add more than 50 tags to a resource: it would have 51.");
    expect(Object.keys(sb.rds.snapshots(PRIMARY).find((s) => s.id === "s-1")!.tags)).toHaveLength(50);
  });
});

describe("RDS: quotas (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html, USER_CopySnapshot.html Limitations)", () => {
  it("manual cluster snapshots have their own 100 and copies count in the destination", async () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    for (let i = 0; i < 100; i++) sb.rds.addSnapshot(DR, { id: `a-${i}`, kind: "cluster", sourceId: "aurora-1" });
    for (let i = 0; i < 100; i++) sb.rds.addSnapshot(DR, { id: `i-${i}`, sourceId: "app-db" });
    sb.rds.addSnapshot(PRIMARY, { id: "a-src", kind: "cluster", sourceId: "aurora-1" });

    const err = await rejection(
      rdsDr.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, "a-src"),
          TargetDBClusterSnapshotIdentifier: "a-copy",
          KmsKeyId: DR_KEY,
        }),
      ),
    );

    expect(err).toBeInstanceOf(SnapshotQuotaExceededFault);
    expect(err.message).toBe("Cannot create more than 100 manual snapshots");
    expect(sb.rds.manualCount(DR, "cluster")).toBe(100);
    expect(sb.rds.manualCount(DR, "instance")).toBe(100);
  });

  it("20 cross-region copies in flight per destination region, instance and cluster copies together; same-region copies do not count", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    for (let i = 0; i < 12; i++) sb.rds.addSnapshot(PRIMARY, { id: `s-${i}`, sourceId: "app-db" });
    for (let i = 0; i < 9; i++) sb.rds.addSnapshot(PRIMARY, { id: `a-${i}`, kind: "cluster", sourceId: "aurora-1" });
    for (let i = 0; i < 12; i++)
      await rdsDr.send(
        new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: snapArn(PRIMARY, `s-${i}`), TargetDBSnapshotIdentifier: `s-${i}`, KmsKeyId: DR_KEY }),
      );
    for (let i = 0; i < 8; i++) {
      await rdsDr.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, `a-${i}`),
          TargetDBClusterSnapshotIdentifier: `a-${i}`,
          KmsKeyId: DR_KEY,
        }),
      );
    }
    await rds.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: "s-0", TargetDBSnapshotIdentifier: "local-copy" }));

    const err = await rejection(
      rdsDr.send(
        new CopyDBClusterSnapshotCommand({
          SourceDBClusterSnapshotIdentifier: clusterSnapArn(PRIMARY, "a-8"),
          TargetDBClusterSnapshotIdentifier: "a-8",
          KmsKeyId: DR_KEY,
        }),
      ),
    );

    expect(sb.rds.copiesInFlight(DR)).toBe(20);
    expect(err.message).toBe("Cannot copy more than 20 snapshots across regions");
  });
});

describe("RDS: tags people's actions carry over (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html)", () => {
  const ours = { "ops-autopilot:managed-by": "ops-autopilot:prod", "ops-autopilot:name": "oa-app-db-20250301" };

  it("CopyDBSnapshot with CopyTags copies the source's tags, merged with Tags (Tags win)", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    sb.rds.addSnapshot(PRIMARY, { id: "oa-app-db-20250301", sourceId: "app-db", tags: { ...ours, team: "db" } });

    const out = await rds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: "oa-app-db-20250301",
        TargetDBSnapshotIdentifier: "my-copy",
        CopyTags: true,
        Tags: tagList({ team: "web", why: "test" }),
      }),
    );
    const seeded = sb.rds.copySnapshot(PRIMARY, { sourceId: "oa-app-db-20250301", id: "console-copy", copyTags: true });

    expect(out.DBSnapshot?.TagList).toEqual(tagList({ ...ours, team: "web", why: "test" }));
    expect(seeded.tags).toEqual({ ...ours, team: "db" });
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(1); // the seeded (person's) copy is not our call
  });

  it("CopyDBClusterSnapshot with CopyTags copies the source's tags; across regions too", () => {
    sb.rds.addCluster(PRIMARY, { id: "aurora-1" });
    sb.rds.addSnapshot(PRIMARY, { id: "oa-aurora-1-20250301", kind: "cluster", sourceId: "aurora-1", tags: ours });

    const copy = sb.rds.copySnapshot(DR, {
      sourceRegion: PRIMARY,
      sourceId: "oa-aurora-1-20250301",
      id: "dr-by-hand",
      kind: "cluster",
      copyTags: true,
      kmsKeyId: DR_KEY,
    });

    expect(copy).toMatchObject({ kind: "aurora-cluster", tags: ours, copiedFrom: { region: PRIMARY, id: "oa-aurora-1-20250301" } });
  });

  it("a DB with CopyTagsToSnapshot gives its tags to snapshots taken without Tags; a restore from a snapshot gets the snapshot's tags, and so its snapshots do", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db" });
    sb.rds.addSnapshot(PRIMARY, { id: "oa-app-db-20250301", sourceId: "app-db", tags: ours });

    const restored = await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "restored", DBSnapshotIdentifier: "oa-app-db-20250301", CopyTagsToSnapshot: true }),
    );
    sb.rds.restoreInstance(PRIMARY, { id: "restored-tagged", snapshotId: "oa-app-db-20250301", tags: { team: "qa" } });
    sb.clock.advance(22 * MINUTE); // a restore is creating, then backing-up, before it can be snapshotted
    const snapOfRestore = sb.rds.takeSnapshot(PRIMARY, { dbId: "restored", id: "before-upgrade" });
    sb.clock.advance(10 * MINUTE);
    const explicit = sb.rds.takeSnapshot(PRIMARY, { dbId: "restored", id: "explicit", tags: { team: "qa" } });
    const described = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "restored" }));

    expect(restored.DBInstance).toMatchObject({ DBInstanceIdentifier: "restored", CopyTagsToSnapshot: true, TagList: tagList(ours) });
    expect(described.DBInstances?.[0]?.TagList).toEqual(tagList(ours));
    expect(sb.rds.tagsOf(PRIMARY, "restored-tagged")).toEqual({ team: "qa" });
    expect(snapOfRestore.tags).toEqual(ours);
    expect(explicit.tags).toEqual({ team: "qa" });
  });
});

describe("EC2: ids, tags, KMS and copy limits", () => {
  it("malformed ids fail with Invalid<Kind>ID.Malformed before any lookup (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html, UserGuide/resource-ids.html)", async () => {
    const vol = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-1" })));
    const copy = await rejection(ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: "snap-src" })));
    const del = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-0123456789abcdefg" })));
    const missing = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-0123456789abcdef0" })));

    expect([vol.name, vol.message]).toEqual(["InvalidVolumeID.Malformed", 'Invalid id: "vol-1" (expecting "vol-...")']);
    expect(copy.name).toBe("InvalidSnapshotID.Malformed");
    expect(del.name).toBe("InvalidSnapshotID.Malformed");
    expect(missing.name).toBe("InvalidSnapshot.NotFound");
    expect(() => sb.ec2.addVolume(PRIMARY, { id: "vol-1" })).toThrow("sandbox.ec2: vol-1 is not a well-formed vol id");
  });

  it("tags: 50 per resource (TagLimitExceeded), key ≤ 128, value ≤ 256, no aws: keys, also at create/copy time (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions)", async () => {
    const vol = sb.ec2.addVolume(PRIMARY);
    const snap = sb.ec2.addSnapshot(PRIMARY, { volumeId: vol, tags: manyTags(40) });
    const spec = (tags: Record<string, string>) => [{ ResourceType: "snapshot" as const, Tags: tagList(tags) }];

    const onCreate = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: vol, TagSpecifications: spec(manyTags(51)) })));
    const onCopy = await rejection(
      ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: snap.id, TagSpecifications: spec({ "aws:x": "1" }) })),
    );
    const onTag = await rejection(ec2.send(new CreateTagsCommand({ Resources: [snap.id], Tags: tagList(manyTags(11, "more")) })));
    const longKey = await rejection(ec2.send(new CreateTagsCommand({ Resources: [snap.id], Tags: tagList({ ["k".repeat(129)]: "v" }) })));
    const longValue = await rejection(ec2.send(new CreateTagsCommand({ Resources: [snap.id], Tags: tagList({ k: "v".repeat(257) }) })));
    await ec2.send(new CreateTagsCommand({ Resources: [snap.id], Tags: tagList({ ...manyTags(9, "more"), "any chars, even commas": "ok; fine" }) }));

    expect(onCreate.name).toBe("TagLimitExceeded");
    expect(onCopy.message).toBe("Tag keys starting with 'aws:' are reserved for internal use");
    expect(onTag.name).toBe("TagLimitExceeded");
    expect([longKey.name, longValue.name]).toEqual(["InvalidParameterValue", "InvalidParameterValue"]);
    expect(sb.ec2.snapshots(PRIMARY).find((s) => s.id === snap.id)!.tags).toHaveProperty("any chars, even commas", "ok; fine");
  });

  it("CopySnapshot: KmsKeyId needs Encrypted=true; Encrypted encrypts a copy of an unencrypted snapshot; an encrypted source stays encrypted (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html)", async () => {
    const vol = sb.ec2.addVolume(PRIMARY, { encrypted: false });
    const plain = sb.ec2.addSnapshot(PRIMARY, { volumeId: vol });
    const enc = sb.ec2.addSnapshot(PRIMARY, { volumeId: vol, encrypted: true });

    const keyOnly = await rejection(ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: plain.id, KmsKeyId: DR_KEY })));
    const encrypted = await ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: plain.id, Encrypted: true, KmsKeyId: DR_KEY }));
    const stays = await ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: enc.id }));
    const byId = Object.fromEntries(sb.ec2.snapshots(DR).map((s) => [s.id, s]));

    expect(keyOnly.name).toBe("InvalidParameterCombination");
    expect(byId[encrypted.SnapshotId!]).toMatchObject({ encrypted: true, kmsKeyId: DR_KEY });
    expect(byId[stays.SnapshotId!]).toMatchObject({ encrypted: true, kmsKeyId: `arn:aws:kms:${DR}:${ACCOUNT}:key/aws-ebs-default` });
  });

  it("20 concurrent copies per destination region count same-region copies too (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html)", async () => {
    const vol = sb.ec2.addVolume(DR);
    const local = sb.ec2.addSnapshot(DR, { volumeId: vol });
    const remote = sb.ec2.addSnapshot(PRIMARY, { volumeId: sb.ec2.addVolume(PRIMARY) });
    for (let i = 0; i < 5; i++) await ec2Dr.send(new CopySnapshotCommand({ SourceRegion: DR, SourceSnapshotId: local.id }));
    for (let i = 0; i < 15; i++) await ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: remote.id }));

    const err = await rejection(ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: remote.id })));

    expect(sb.ec2.copiesInFlight(DR)).toBe(20);
    expect([err.name, err.message]).toEqual(["ResourceLimitExceeded", "Too many snapshot copies in progress. The limit is 20 for this destination region."]);
  });
});

describe("Route 53: ChangeResourceRecordSets", () => {
  const ZONE = "Z0000000000000000000A";
  let r53: Route53Client;
  beforeEach(() => {
    sb.route53.addZone(ZONE, "example.com");
    sb.route53.putRecord(ZONE, { Name: "www.example.com", Type: "A", TTL: 60, ResourceRecords: [{ Value: "192.0.2.1" }] });
    r53 = new Route53Client({ region: "us-east-1", maxAttempts: 1 });
  });
  const change = (...changes: Change[]) => r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: changes } }));
  const upsert = (rr: ResourceRecordSet): Change => ({ Action: "UPSERT", ResourceRecordSet: rr });
  const plain = (Name: string, Type: ResourceRecordSet["Type"], values: string[], TTL = 60): ResourceRecordSet => ({
    Name,
    Type,
    TTL,
    ResourceRecords: values.map((Value) => ({ Value })),
  });

  it("A must be a dotted IPv4, AAAA an IPv6, CNAME one domain name (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html)", async () => {
    const badA = await rejection(change(upsert(plain("db.example.com", "A", ["10.0.0"]))));
    const hostAsA = await rejection(change(upsert(plain("db.example.com", "A", ["db.internal"]))));
    const badAaaa = await rejection(change(upsert(plain("db.example.com", "AAAA", ["10.0.0.1"]))));
    const twoCnames = await rejection(change(upsert(plain("db.example.com", "CNAME", ["a.example.net", "b.example.net"]))));
    const badCname = await rejection(change(upsert(plain("db.example.com", "CNAME", ["a..example.net"]))));
    await change(
      upsert(plain("v4.example.com", "A", ["192.0.2.10", "198.51.100.7"])),
      upsert(plain("v6.example.com", "AAAA", ["2001:db8::1"])),
      upsert(plain("c.example.com", "CNAME", ["db-dr.example.net."])),
    );

    expect([badA.name, badA.message]).toEqual([
      "InvalidChangeBatch",
      "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '10.0.0'']",
    ]);
    expect(hostAsA.name).toBe("InvalidChangeBatch");
    expect(badAaaa.message).toBe(
      "[Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '10.0.0.1'']",
    );
    expect(twoCnames.message).toBe("[RRSet of type CNAME with DNS name db.example.com. has more than one resource record]");
    expect(badCname.name).toBe("InvalidChangeBatch");
    expect(sb.route53.record(ZONE, "v6.example.com", "AAAA")?.ResourceRecords).toEqual([{ Value: "2001:db8::1" }]);
  });

  it("TTL 0–2147483647, and TTL/ResourceRecords or an AliasTarget, not both (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html)", async () => {
    const negative = await rejection(change(upsert(plain("db.example.com", "A", ["192.0.2.1"], -1))));
    const huge = await rejection(change(upsert(plain("db.example.com", "A", ["192.0.2.1"], 2_147_483_648))));
    const both = await rejection(
      change(
        upsert({ ...plain("db.example.com", "A", ["192.0.2.1"]), AliasTarget: { HostedZoneId: "Z2", DNSName: "lb.example.net", EvaluateTargetHealth: false } }),
      ),
    );
    await change(upsert(plain("db.example.com", "A", ["192.0.2.1"], 0)));

    expect([negative.name, huge.name]).toEqual(["InvalidInput", "InvalidInput"]);
    expect(both.message).toBe(
      "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=UPSERT, Name=db.example.com., Type=A, SetIdentifier=null]",
    );
  });

  it("the name must be the zone or under it (a name that only ends with the zone's text is not), no CNAME at the apex or beside another type", async () => {
    const lookAlike = await rejection(change(upsert(plain("evil-example.com", "A", ["192.0.2.1"]))));
    const apex = await rejection(change(upsert(plain("example.com", "CNAME", ["other.example.net"]))));
    const beside = await rejection(change(upsert(plain("www.example.com", "CNAME", ["other.example.net"]))));
    await change(upsert(plain("example.com", "A", ["192.0.2.1"])));

    expect(lookAlike.message).toBe("[RRSet with DNS name evil-example.com. is not permitted in zone example.com.]");
    expect(apex.message).toBe("[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]");
    expect(beside.message).toBe(
      "[RRSet of type CNAME with DNS name www.example.com. is not permitted because a conflicting RRSet of type A with the same DNS name already exists in zone example.com.]",
    );
  });

  it("batch limits: 1,000 ResourceRecord elements and 32,000 value characters, an UPSERT counting twice (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html)", async () => {
    const ips = (n: number, third: number) => Array.from({ length: n }, (_, i) => `10.${third}.${Math.floor(i / 250)}.${i % 250}`);
    const upserts = [upsert(plain("a.example.com", "A", ips(250, 1))), upsert(plain("b.example.com", "A", ips(251, 2)))];
    const creates: Change[] = [
      { Action: "CREATE", ResourceRecordSet: plain("a.example.com", "A", ips(500, 1)) },
      { Action: "CREATE", ResourceRecordSet: plain("b.example.com", "A", ips(500, 2)) },
    ];
    const txt = (n: number) => Array.from({ length: n }, (_, i) => `"${String(i).padStart(3, "0")}${"x".repeat(395)}"`);

    const tooMany = await rejection(change(...upserts));
    const tooLong = await rejection(change(upsert(plain("t.example.com", "TXT", txt(41)))));
    await change(...creates);

    expect(tooMany.message).toBe("[Number of records limit of 1000 exceeded.]");
    expect(tooLong.message).toBe("[Number of characters limit of 32000 exceeded.]");
  });

  it("DELETE must repeat the current TTL and values (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html)", async () => {
    const stale = await rejection(change({ Action: "DELETE", ResourceRecordSet: plain("www.example.com", "A", ["192.0.2.99"]) }));
    await change({ Action: "DELETE", ResourceRecordSet: plain("www.example.com", "A", ["192.0.2.1"]) });

    expect(stale.message).toBe(
      "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
    );
    expect(sb.route53.record(ZONE, "www.example.com", "A")).toBeUndefined();
  });
});

describe("CloudWatch: GetMetricData and DescribeAlarms requests", () => {
  const query = (over: Partial<MetricDataQuery> = {}): MetricDataQuery => ({
    Id: "lag",
    MetricStat: {
      Metric: { Namespace: "AWS/RDS", MetricName: "ReplicaLag", Dimensions: [{ Name: "DBInstanceIdentifier", Value: "db" }] },
      Period: 60,
      Stat: "Maximum",
    },
    ...over,
  });
  const now = new Date("2025-03-01T02:00:00Z");
  const earlier = new Date("2025-03-01T01:55:00Z");

  it("Id starts with a lowercase letter, is unique; Period 1/5/10/20/30 or a multiple of 60; StartTime before EndTime (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html, API_MetricDataQuery.html)", async () => {
    const cw = new CloudWatchClient({ region: DR, maxAttempts: 1 });
    const get = (queries: MetricDataQuery[], StartTime = earlier, EndTime = now) =>
      cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime, EndTime }));

    const failures = [
      await rejection(get([query({ Id: "Lag" })])),
      await rejection(get([query(), query()])),
      await rejection(get([query({ MetricStat: { ...query().MetricStat!, Period: 90 } })])),
      await rejection(get([query()], now, earlier)),
      await rejection(get([])),
    ].map((e) => e.name);
    const ok = await get([query()]);

    expect(failures).toEqual(["ValidationError", "ValidationError", "InvalidParameterValue", "ValidationError", "ValidationError"]);
    expect(ok.MetricDataResults?.[0]?.Id).toBe("lag");
  });

  it("DescribeAlarms takes at most 100 AlarmNames (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html)", async () => {
    const cw = new CloudWatchClient({ region: DR, maxAttempts: 1 });
    const names = Array.from({ length: 101 }, (_, i) => `alarm-${i}`);

    const err = await rejection(cw.send(new DescribeAlarmsCommand({ AlarmNames: names })));
    await cw.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(0, 100) }));

    expect(err.name).toBe("ValidationError");
  });
});

describe("S3: object keys", () => {
  it("a key is at most 1,024 bytes of UTF-8 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html)", async () => {
    sb.s3.createBucket("reports");
    const s3 = new S3Client({ region: DR, maxAttempts: 1 });

    const err = await rejection(s3.send(new PutObjectCommand({ Bucket: "reports", Key: "é".repeat(513), Body: "{}" })));
    await s3.send(new PutObjectCommand({ Bucket: "reports", Key: "é".repeat(512), Body: "{}" }));

    expect([err.name, err.message]).toEqual(["KeyTooLongError", "Your key is too long"]);
  });
});
