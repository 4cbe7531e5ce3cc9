import {
  CreateDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DescribeDBSnapshotsCommand,
  KMSKeyNotAccessibleFault,
  CopyDBSnapshotCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
  SnapshotQuotaExceededFault,
  InvalidDBInstanceStateFault,
} from "@aws-sdk/client-rds";
import { CopySnapshotCommand, CreateSnapshotCommand, DescribeSnapshotsCommand, EC2Client, EC2ServiceException } from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import "aws-sdk-client-mock-vitest/extend";
import { rds as cachedRds, resetClients } from "../../../adapters/clients.ts";
import { createSandbox, FakeClock, isSdkRetryable, MINUTE, SandboxUnsupportedError, Timeline, type Sandbox } from "../../../sandbox/index.ts";
import { rejection } from "./rejection.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T02:00:00Z"), regions: [PRIMARY, DR], buckets: ["b"] });
  sb.rds.addInstance(PRIMARY, { id: "app-db" });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

const describeSnaps = (client: RDSClient) => client.send(new DescribeDBSnapshotsCommand({}));

describe("error injection", () => {
  it.each([
    ["throttling", RDSServiceException, "Throttling"],
    ["quota", SnapshotQuotaExceededFault, "SnapshotQuotaExceededFault"],
    ["state", InvalidDBInstanceStateFault, "InvalidDBInstanceStateFault"],
    ["alreadyExists", DBSnapshotAlreadyExistsFault, "DBSnapshotAlreadyExistsFault"],
  ] as const)("RDS %s → %s", async (kind, cls, name) => {
    sb.retry = "none";
    sb.inject({ service: "rds", command: "CreateDBSnapshot", error: kind });

    const err = await rejection(
      new RDSClient({ region: PRIMARY }).send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "s" })),
    );

    expect(err).toBeInstanceOf(cls);
    expect(err.name).toBe(name);
  });

  it("RDS kms → KMSKeyNotAccessibleFault naming the key passed", async () => {
    sb.rds.addSnapshot(PRIMARY, { id: "s1", sourceId: "app-db" });
    sb.inject({ service: "rds", command: "CopyDBSnapshot", error: "kms" });

    const err = await rejection(
      new RDSClient({ region: DR }).send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: `arn:aws:rds:${PRIMARY}:123456789012:snapshot:s1`,
          TargetDBSnapshotIdentifier: "s1",
          KmsKeyId: "alias/dr",
        }),
      ),
    );

    expect(err).toBeInstanceOf(KMSKeyNotAccessibleFault);
    expect(err.message).toContain("alias/dr");
  });

  it("EC2 throttling is RequestLimitExceeded (503) and S3 throttling is SlowDown (503)", async () => {
    sb.retry = "none";
    sb.inject({ service: "ec2", error: "throttling" });
    sb.inject({ service: "s3", error: "throttling" });

    const ec2 = await rejection(new EC2Client({ region: PRIMARY }).send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] })));
    const s3 = await rejection(new S3Client({ region: PRIMARY }).send(new GetObjectCommand({ Bucket: "b", Key: "k" })));

    expect(ec2).toBeInstanceOf(EC2ServiceException);
    expect([ec2.name, ec2.$metadata?.httpStatusCode, ec2.$fault]).toEqual(["RequestLimitExceeded", 503, "server"]);
    expect(s3).toBeInstanceOf(S3ServiceException);
    expect([s3.name, s3.$metadata?.httpStatusCode]).toEqual(["SlowDown", 503]);
  });

  it("EC2 kms on CopySnapshot is accepted and the copy fails asynchronously", async () => {
    sb.ec2.addSnapshot(PRIMARY, { id: "snap-00000001", volumeId: "vol-00000001" });
    sb.inject({ service: "ec2", command: "CopySnapshot", error: "kms" });
    const ec2 = new EC2Client({ region: DR });

    const out = await ec2.send(new CopySnapshotCommand({ SourceRegion: PRIMARY, SourceSnapshotId: "snap-00000001" }));
    sb.clock.advance(2 * MINUTE);

    expect(sb.ec2.snapshots(DR).find((s) => s.id === out.SnapshotId)?.status).toBe("error");
  });

  it("respects times, region and match, and reports hits", async () => {
    sb.retry = "none";
    const handle = sb.inject({
      service: "ec2",
      command: "CreateSnapshot",
      region: PRIMARY,
      error: "state",
      times: 2,
      match: (input: { VolumeId?: string }) => input.VolumeId === "vol-00000bad",
    });
    sb.ec2.addVolume(PRIMARY, { id: "vol-00000bad" });
    sb.ec2.addVolume(PRIMARY, { id: "vol-0000000c" });
    const ec2 = new EC2Client({ region: PRIMARY });

    await ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-0000000c" }));
    const first = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-00000bad" })));
    await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-00000bad" })));
    await ec2.send(new CreateSnapshotCommand({ VolumeId: "vol-00000bad" }));

    expect(first.name).toBe("IncorrectState");
    expect(handle.hits).toBe(2);
    expect(handle.remaining).toBe(0);
  });

  it("rejects injections for commands the sandbox does not simulate (typos fail loudly)", () => {
    expect(() => sb.inject({ service: "rds", command: "CreateDbSnapshot", error: "throttling" })).toThrow(/no simulated command CreateDbSnapshot/);
  });
});

describe("SDK retry emulation", () => {
  it("absorbs throttling like the SDK would (maxAttempts 6): two throttled attempts, then success", async () => {
    sb.inject({ service: "rds", command: "DescribeDBSnapshots", error: "throttling", times: 2 });

    await describeSnaps(cachedRds(PRIMARY));

    expect(sb.callsTo("rds", "DescribeDBSnapshots").map((c) => [c.attempt, c.error?.name])).toEqual([
      [1, "Throttling"],
      [2, "Throttling"],
      [3, undefined],
    ]);
  });

  it("gives up after the client's maxAttempts with $metadata.attempts set, without sleeping through backoff", async () => {
    sb.inject({ service: "rds", error: "throttling", times: Infinity });

    const err = await rejection(describeSnaps(cachedRds(PRIMARY)));

    expect(err.name).toBe("Throttling");
    expect(err.$metadata?.attempts).toBe(6);
    expect(sb.calls).toHaveLength(6);
  });

  it("does not retry non-retryable errors", async () => {
    sb.inject({ service: "rds", error: "quota", times: Infinity });

    await rejection(
      new RDSClient({ region: PRIMARY, maxAttempts: 6 }).send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "s" })),
    );

    expect(sb.calls).toHaveLength(1);
  });

  it("with retry 'none' the first throttled attempt reaches the caller", async () => {
    sb.retry = "none";
    sb.inject({ service: "rds", error: "throttling" });

    const err = await rejection(describeSnaps(cachedRds(PRIMARY)));

    expect(err.$metadata?.attempts).toBe(1);
  });

  it("classifies like the SDK: throttling and 5xx retryable, faults not", () => {
    expect(isSdkRetryable({ name: "Throttling", $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isSdkRetryable({ name: "InternalFailure", $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isSdkRetryable({ name: "DBSnapshotAlreadyExistsFault", $metadata: { httpStatusCode: 400 } })).toBe(false);
  });
});

describe("the call log and mocks", () => {
  it("records service, region, command, input and the simulated time of every call", async () => {
    sb.clock.advance(5 * MINUTE);

    await describeSnaps(new RDSClient({ region: DR }));

    expect(sb.calls).toEqual([{ service: "rds", region: DR, command: "DescribeDBSnapshots", input: {}, at: new Date("2025-03-01T02:05:00Z"), attempt: 1 }]);
  });

  it("works with aws-sdk-client-mock-vitest matchers on the exact inputs", async () => {
    await cachedRds(PRIMARY).send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "s", Tags: [{ Key: "k", Value: "v" }] }));

    expect(sb.mock("rds")).toHaveReceivedCommandWith(CreateDBSnapshotCommand, { DBSnapshotIdentifier: "s", Tags: [{ Key: "k", Value: "v" }] });
  });

  it("fails loudly on a command it does not simulate", async () => {
    const err = await rejection(cachedRds(PRIMARY).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: "app-db" })));

    expect(err).toBeInstanceOf(SandboxUnsupportedError);
    expect(err.message).toBe("sandbox does not simulate rds:ModifyDBInstance");
  });

  it("with mockHistoryLimit 0 patches send without a stub: calls are simulated and logged, mock() refuses, restore() puts send back", async () => {
    sb.restore();
    const real = RDSClient.prototype.send;
    const bare = createSandbox({ regions: [PRIMARY], mockHistoryLimit: 0 });
    try {
      bare.rds.addInstance(PRIMARY, { id: "app-db" });
      const out = await new RDSClient({ region: PRIMARY }).send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "app-db" }));
      expect(out.DBSnapshots).toEqual([]);
      expect(bare.calls.map((c) => `${c.service}:${c.command}`)).toEqual(["rds:DescribeDBSnapshots"]);
      expect(() => bare.mock("rds")).toThrow("sandbox.mock: created with mockHistoryLimit 0 (no call history); use sb.calls");
      expect(RDSClient.prototype.send).not.toBe(real);
    } finally {
      bare.restore();
    }
    expect(RDSClient.prototype.send).toBe(real);
  });

  it("restore() puts the real send back; a new sandbox supersedes a forgotten one", async () => {
    const stubbed = RDSClient.prototype.send;
    sb.restore();
    const real = RDSClient.prototype.send;
    const next = createSandbox({ regions: [PRIMARY] });
    next.rds.addInstance(PRIMARY, { id: "x" });
    const forgotten = createSandbox({ regions: [PRIMARY] });

    const seen = await new RDSClient({ region: PRIMARY }).send(new DescribeDBSnapshotsCommand({}));
    forgotten.restore();
    next.restore();

    expect(real).not.toBe(stubbed);
    expect(seen.DBSnapshots).toEqual([]);
    expect(RDSClient.prototype.send).toBe(real);
  });
});

describe("clock and timelines", () => {
  it("FakeClock moves only forward", () => {
    const clock = new FakeClock("2025-01-01T00:00:00Z");

    clock.advance(MINUTE);

    expect(clock.now().toISOString()).toBe("2025-01-01T00:01:00.000Z");
    expect(() => clock.set("2024-12-31T00:00:00Z")).toThrow(/cannot go back/);
  });

  it("a timeline answers the value at any instant", () => {
    const t = new Timeline("creating", 100).andThen("available", 200);

    expect([t.valueAt(50), t.valueAt(150), t.valueAt(200), t.valueAt(10_000)]).toEqual(["creating", "creating", "available", "available"]);
  });

  it("an external clock is read but cannot be moved through the sandbox", () => {
    sb.restore();
    const external = { now: () => new Date("2030-01-01T00:00:00Z") };
    const other = createSandbox({ clock: external, regions: [PRIMARY] });

    expect(other.clock.now()).toEqual(external.now());
    expect(() => other.clock.advance(1)).toThrow(/external/);
    other.restore();
  });
});
