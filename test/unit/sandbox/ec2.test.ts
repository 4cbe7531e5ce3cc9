import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  EC2ServiceException,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
} from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { rejection } from "./rejection.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const ACCOUNT = "123456789012";
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/dr`;

let sb: Sandbox;
let ec2: EC2Client;
let ec2Dr: EC2Client;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T02:00:00Z"), regions: [PRIMARY, DR] });
  ec2 = new EC2Client({ region: PRIMARY });
  ec2Dr = new EC2Client({ region: DR });
});
afterEach(() => sb.restore());

const tagSpec = (tags: Record<string, string>) => [{ ResourceType: "snapshot" as const, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }];

describe("DescribeSnapshots", () => {
  it("paginates with MaxResults and returns every snapshot once", async () => {
    for (let i = 0; i < 23; i++) sb.ec2.addSnapshot(PRIMARY, { volumeId: "vol-00000001" });

    const sizes: number[] = [];
    const ids = new Set<string>();
    for await (const page of paginateDescribeSnapshots({ client: ec2, pageSize: 10 }, { OwnerIds: ["self"] })) {
      sizes.push(page.Snapshots?.length ?? 0);
      for (const s of page.Snapshots ?? []) ids.add(s.SnapshotId!);
    }

    expect(sizes).toEqual([10, 10, 3]);
    expect(ids.size).toBe(23);
  });

  it("returns everything in one page without MaxResults, caps MaxResults at 1000 and rejects < 5", async () => {
    for (let i = 0; i < 1005; i++) sb.ec2.addSnapshot(PRIMARY, { volumeId: "vol-00000001" });

    const all = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    const capped = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: 5000 }));
    const tooSmall = await rejection(ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: 2 })));

    expect(all.Snapshots).toHaveLength(1005);
    expect(all.NextToken).toBeUndefined();
    expect(capped.Snapshots).toHaveLength(1000);
    expect(capped.NextToken).toBeTypeOf("string");
    expect(tooSmall.name).toBe("InvalidParameterValue");
  });

  it("includes other accounts' public snapshots unless OwnerIds is self", async () => {
    sb.ec2.addSnapshot(PRIMARY, { volumeId: "vol-00000001" });
    sb.ec2.addSnapshot(PRIMARY, { volumeId: "vol-000000ee", ownerId: "999999999999", public: true });

    const noOwner = await ec2.send(new DescribeSnapshotsCommand({}));
    const self = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));

    expect(noOwner.Snapshots?.map((s) => s.OwnerId).sort()).toEqual([ACCOUNT, "999999999999"]);
    expect(self.Snapshots?.map((s) => s.OwnerId)).toEqual([ACCOUNT]);
  });

  it("filters by tag:<key> with wildcards, tag-key and status, and returns Tags", async () => {
    const mine = "ops-autopilot:managed-by";
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000a", volumeId: "vol-00000001", tags: { [mine]: "ops-autopilot:prod" } });
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000b", volumeId: "vol-00000001", tags: { [mine]: "ops-autopilot:staging" } });
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000c", volumeId: "vol-00000001", state: "pending", tags: { [mine]: "ops-autopilot:prod" } });
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000000d", volumeId: "vol-00000001", tags: { other: "x" } });

    const ids = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      ((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters }))).Snapshots ?? []).map((s) => s.SnapshotId).sort();

    expect(await ids([{ Name: `tag:${mine}`, Values: ["ops-autopilot:prod"] }])).toEqual(["snap-0000000a", "snap-0000000c"]);
    expect(
      await ids([
        { Name: `tag:${mine}`, Values: ["ops-autopilot:*"] },
        { Name: "status", Values: ["completed"] },
      ]),
    ).toEqual(["snap-0000000a", "snap-0000000b"]);
    expect(await ids([{ Name: "tag-key", Values: ["other"] }])).toEqual(["snap-0000000d"]);
    const one = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ["snap-0000000a"] }));
    expect(one.Snapshots?.[0]?.Tags).toEqual([{ Key: mine, Value: "ops-autopilot:prod" }]);
    expect((await rejection(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ["snap-00000fff"] })))).name).toBe("InvalidSnapshot.NotFound");
  });
});

describe("DescribeVolumes", () => {
  it("selects volumes by tag filter and paginates", async () => {
    for (let i = 0; i < 12; i++) sb.ec2.addVolume(PRIMARY, { tags: { "ops-autopilot:backup": i % 2 ? "default" : "none" } });

    const found: string[] = [];
    for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 5 }, { Filters: [{ Name: "tag:ops-autopilot:backup", Values: ["default"] }] })) {
      found.push(...(page.Volumes ?? []).map((v) => v.VolumeId!));
    }
    const missing = await rejection(ec2.send(new DescribeVolumesCommand({ VolumeIds: ["vol-0000dead"] })));

    expect(found).toHaveLength(6);
    expect(missing.name).toBe("InvalidVolume.NotFound");
  });
});

describe("CreateSnapshot", () => {
  it("creates a tagged pending snapshot that completes after the simulated duration", async () => {
    const vol = sb.ec2.addVolume(PRIMARY, { id: "vol-00000001" });

    const out = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol, TagSpecifications: tagSpec({ tier: "daily" }) }));
    sb.clock.advance(14 * MINUTE);
    const during = sb.ec2.snapshots(PRIMARY)[0];
    sb.clock.advance(1 * MINUTE);
    const after = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [out.SnapshotId!] }));

    expect(out.SnapshotId).toMatch(/^snap-[0-9a-f]{17}$/);
    expect(out).toMatchObject({ State: "pending", VolumeId: "vol-00000001", Tags: [{ Key: "tier", Value: "daily" }] });
    expect(during?.status).toBe("pending");
    expect(after.Snapshots?.[0]).toMatchObject({ State: "completed", Progress: "100%" });
  });

  it("allows 5 pending snapshots per volume; the 6th fails", async () => {
    const vol = sb.ec2.addVolume(PRIMARY);

    for (let i = 0; i < 5; i++) await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }));
    const err = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: vol })));

    expect(err).toBeInstanceOf(EC2ServiceException);
    expect(err.name).toBe("SnapshotCreationPerVolumeRateExceeded");
  });

  it("fails with IncorrectState for a volume being deleted, InvalidVolume.NotFound for an unknown one", async () => {
    const vol = sb.ec2.addVolume(PRIMARY, { status: "deleting" });

    const state = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: vol })));
    const missing = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-0000dead" })));

    expect(state.name).toBe("IncorrectState");
    expect(missing.name).toBe("InvalidVolume.NotFound");
  });
});

describe("CopySnapshot", () => {
  it("copies a completed snapshot: vol-ffffffff, AWS's description, only the TagSpecifications tags", async () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000005c", volumeId: "vol-00000001", tags: { tier: "daily" } });

    const out = await ec2Dr.send(
      new CopySnapshotCommand({
        SourceRegion: PRIMARY,
        SourceSnapshotId: "snap-0000005c",
        Encrypted: true,
        KmsKeyId: DR_KEY,
        TagSpecifications: tagSpec({ "copy-of": "snap-0000005c" }),
      }),
    );
    sb.clock.advance(30 * MINUTE);
    const got = await ec2Dr.send(new DescribeSnapshotsCommand({ SnapshotIds: [out.SnapshotId!] }));

    expect(got.Snapshots?.[0]).toMatchObject({
      State: "completed",
      VolumeId: "vol-ffffffff",
      Description: `[Copied snap-0000005c from ${PRIMARY}]`,
      KmsKeyId: DR_KEY,
      Tags: [{ Key: "copy-of", Value: "snap-0000005c" }],
    });
  });

  it("refuses a pending source", async () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000005c", volumeId: "vol-00000001", state: "pending" });

    const err = await rejection(ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: "snap-0000005c" })));

    expect(err.name).toBe("IncorrectState");
  });

  it("allows 20 copies in flight per destination region; the 21st fails with ResourceLimitExceeded", async () => {
    for (let i = 0; i < 21; i++) sb.ec2.addSnapshot(PRIMARY, { id: `snap-${i.toString(16).padStart(8, "0")}`, volumeId: "vol-00000001" });
    const copy = (i: number) =>
      ec2Dr.send(
        new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: `snap-${i.toString(16).padStart(8, "0")}`, Encrypted: true, KmsKeyId: DR_KEY }),
      );

    for (let i = 0; i < 20; i++) await copy(i);
    const err = await rejection(copy(20));
    sb.clock.advance(30 * MINUTE);
    await copy(20);

    expect(err.name).toBe("ResourceLimitExceeded");
    expect(err.message).toBe("Too many snapshot copies in progress. The limit is 20 for this destination region.");
    expect(sb.ec2.copiesInFlight(DR)).toBe(1);
  });

  it("accepts a copy with an unusable KMS key and then fails it with a StateMessage", async () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-0000005c", volumeId: "vol-00000001" });
    sb.kms.deny(DR_KEY);

    const out = await ec2Dr.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: "snap-0000005c", Encrypted: true, KmsKeyId: DR_KEY }));
    sb.clock.advance(5 * MINUTE);
    const got = await ec2Dr.send(new DescribeSnapshotsCommand({ SnapshotIds: [out.SnapshotId!] }));

    expect(got.Snapshots?.[0]?.State).toBe("error");
    expect(got.Snapshots?.[0]?.StateMessage).toContain(DR_KEY);
  });
});

describe("DeleteSnapshot and AMIs", () => {
  it("refuses a snapshot used by a registered AMI until the AMI is deregistered", async () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-000000a1", volumeId: "vol-00000001" });
    const ami = sb.ec2.addImage(PRIMARY, { id: "ami-00000001", snapshotIds: ["snap-000000a1"] });

    const images = await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
    const inUse = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-000000a1" })));
    await ec2.send(new DeregisterImageCommand({ ImageId: ami }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-000000a1" }));
    const gone = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-000000a1" })));

    expect(images.Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId).toBe("snap-000000a1");
    expect(inUse.name).toBe("InvalidSnapshot.InUse");
    expect(inUse.message).toBe("The snapshot snap-000000a1 is currently in use by ami-00000001");
    expect(gone.name).toBe("InvalidSnapshot.NotFound");
  });

  it("marks AMI-backed snapshots in the inspection view", () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-000000a1", volumeId: "vol-00000001" });
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-000000f1", volumeId: "vol-00000001" });
    sb.ec2.addImage(PRIMARY, { snapshotIds: ["snap-000000a1"] });

    const used = Object.fromEntries(sb.ec2.snapshots(PRIMARY).map((s) => [s.id, s.usedByImage]));

    expect(used).toEqual({ "snap-000000a1": true, "snap-000000f1": false });
  });
});
