import { CreateDBSnapshotCommand, DescribeDBInstancesCommand, RDSClient, RDSServiceException } from "@aws-sdk/client-rds";
import { CreateSnapshotCommand, DescribeSnapshotsCommand, EC2Client, EC2ServiceException } from "@aws-sdk/client-ec2";
import { PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { ChangeResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { afterEach, describe, expect, it } from "vitest";
import {
  bucketFor,
  createSandbox,
  FakeClock,
  isSdkThrottling,
  minimumWallTime,
  RATE_LIMITS,
  type Sandbox,
  type SandboxOptions,
} from "../../../sandbox/aws/index.ts";
import { rejection } from "./rejection.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const START = "2025-03-01T02:00:00Z";
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html: CreateSnapshot 100 tokens, 5 a second.
const EC2_CREATE_SNAPSHOT = { capacity: 100, refillPerSecond: 5 };

let sb: Sandbox | undefined;
afterEach(() => sb?.restore());

function sandbox(options: Partial<SandboxOptions> = {}): Sandbox {
  sb = createSandbox({ clock: new FakeClock(START), regions: [PRIMARY, DR], buckets: ["reports"], iam: false, rateLimits: true, ...options });
  return sb;
}

const createSnapshot = (client: EC2Client, i: number) => client.send(new CreateSnapshotCommand({ VolumeId: `vol-${i.toString(16).padStart(8, "0")}` }));

function addVolumes(s: Sandbox, region: string, n: number): void {
  for (let i = 0; i < n; i++) s.ec2.addVolume(region, { id: `vol-${i.toString(16).padStart(8, "0")}` });
}

describe("the table", () => {
  it("every row cites its source and has a positive bucket", () => {
    for (const row of RATE_LIMITS) {
      expect(row.source, `${row.service}:${row.id}`).toMatch(/^https:\/\//);
      expect(row.capacity).toBeGreaterThan(0);
      expect(row.refillPerSecond).toBeGreaterThan(0);
    }
  });

  it.each([
    ["ec2", "CreateSnapshot", {}, "ec2:snapshots-volumes:CreateSnapshot", 100, 5],
    ["ec2", "CopySnapshot", {}, "ec2:mutating:CopySnapshot", 50, 5],
    ["ec2", "CreateTags", {}, "ec2:tags:CreateTags", 100, 10],
    ["ec2", "DescribeSnapshots", {}, "ec2:unfiltered:DescribeSnapshots", 50, 10],
    ["ec2", "DescribeSnapshots", { MaxResults: 1000 }, "ec2:non-mutating:DescribeSnapshots", 100, 20],
    ["ec2", "DescribeImages", {}, "ec2:non-mutating:DescribeImages", 100, 20],
    ["rds", "ListTagsForResource", {}, "rds:api", 300, 12],
    ["route53", "ChangeResourceRecordSets", {}, "route53:api", 5, 5],
    ["s3", "PutObject", { Bucket: "b", Key: "runs/x.json" }, "s3:write", 3500, 3500],
    ["s3", "GetObject", { Bucket: "b", Key: "x.json" }, "s3:read", 5500, 5500],
    ["cloudwatch", "GetMetricData", {}, "cloudwatch:GetMetricData", 50, 50],
    ["sns", "Publish", {}, "sns:Publish", 9000, 9000],
  ] as const)("%s %s %j → %s (%i tokens, %i/s)", (service, command, input, bucket, capacity, refill) => {
    const ref = bucketFor({ service, command, region: PRIMARY, account: "111111111111", input });
    expect(ref?.bucket).toBe(bucket);
    expect(ref?.limit).toEqual({ capacity, refillPerSecond: refill });
  });

  it("S3 buckets are per bucket and prefix; Route 53's is global", () => {
    const key = (Key: string) => bucketFor({ service: "s3", command: "PutObject", region: PRIMARY, account: "1", input: { Bucket: "b", Key } })?.key;
    expect(key("runs/a.json")).toBe("1|eu-west-1|s3:write|b/runs/");
    expect(key("runs/b.json")).toBe(key("runs/a.json"));
    expect(key("latch/a.json")).not.toBe(key("runs/a.json"));
    expect(bucketFor({ service: "route53", command: "GetChange", region: "us-east-1", account: "1" })?.key).toBe("1|global|route53:api");
  });
});

describe("a burst beyond a bucket", () => {
  it("EC2: the 101st CreateSnapshot in the same instant gets RequestLimitExceeded (503), the exact error EC2 sends", async () => {
    const s = sandbox({ retry: "none" });
    addVolumes(s, PRIMARY, 101);
    const ec2 = new EC2Client({ region: PRIMARY });
    for (let i = 0; i < 100; i++) await createSnapshot(ec2, i);

    const err = await rejection(createSnapshot(ec2, 100));

    expect(err).toBeInstanceOf(EC2ServiceException);
    expect(err).toMatchObject({ name: "RequestLimitExceeded", message: "Request limit exceeded.", $metadata: { httpStatusCode: 503 } });
    expect(isSdkThrottling(err)).toBe(true);
    expect(s.callsTo("ec2", "CreateSnapshot").at(-1)).toMatchObject({ throttled: true, error: { name: "RequestLimitExceeded" } });
    expect(s.rateLimits?.throttles()).toEqual({ "ec2:CreateSnapshot": 1 });
    expect(s.ec2.snapshots(PRIMARY)).toHaveLength(100);
  });

  it("RDS: the 301st call of any kind gets Throttling (400) 'Rate exceeded'", async () => {
    const s = sandbox({ retry: "none" });
    s.rds.addInstance(PRIMARY, { id: "app-db" });
    const rds = new RDSClient({ region: PRIMARY });
    for (let i = 0; i < 299; i++) await rds.send(new DescribeDBInstancesCommand({}));
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "s-300" }));

    const err = await rejection(rds.send(new DescribeDBInstancesCommand({})));

    expect(err).toBeInstanceOf(RDSServiceException);
    expect(err).toMatchObject({ name: "Throttling", message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });
    expect(s.rateLimits?.throttles()).toEqual({ "rds:DescribeDBInstances": 1 });
  });

  it("S3: the 3,501st PUT under one prefix gets SlowDown (503), another prefix is unaffected", async () => {
    const s = sandbox({ retry: "none" });
    const s3 = new S3Client({ region: PRIMARY });
    const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: "reports", Key, Body: "{}" }));
    for (let i = 0; i < 3500; i++) await put(`runs/${i}.json`);

    const err = await rejection(put("runs/3500.json"));
    await put("latch/a.json");

    expect(err).toBeInstanceOf(S3ServiceException);
    expect(err).toMatchObject({ name: "SlowDown", message: "Please reduce your request rate.", $metadata: { httpStatusCode: 503 } });
    expect(s.rateLimits?.throttlesByBucket()).toEqual({ "123456789012|eu-west-1|s3:write|reports/runs/": 1 });
  });

  it("Route 53: the 6th change in one second gets Throttling", async () => {
    const s = sandbox({ retry: "none" });
    s.route53.addZone("Z1", "example.com");
    const r53 = new Route53Client({ region: "us-east-1", maxAttempts: 1 });
    const change = (i: number) =>
      r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: "Z1",
          ChangeBatch: {
            Changes: [{ Action: "UPSERT", ResourceRecordSet: { Name: `r${i}.example.com`, Type: "A", TTL: 60, ResourceRecords: [{ Value: "10.0.0.1" }] } }],
          },
        }),
      );
    for (let i = 0; i < 5; i++) await change(i);

    const err = await rejection(change(5));

    expect(err).toMatchObject({ name: "Throttling", message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });
  });
});

describe("refill over simulated time", () => {
  it("an empty CreateSnapshot bucket gives 5 calls a second later, 100 after 20 s, never more than 100", async () => {
    const s = sandbox({ retry: "none" });
    addVolumes(s, PRIMARY, 400);
    const ec2 = new EC2Client({ region: PRIMARY });
    let i = 0;
    for (; i < 100; i++) await createSnapshot(ec2, i);
    const tokens = () => s.rateLimits?.tokens({ service: "ec2", command: "CreateSnapshot", region: PRIMARY });
    expect(tokens()).toBe(0);

    s.clock.advance(1000);
    expect(tokens()).toBe(EC2_CREATE_SNAPSHOT.refillPerSecond);
    for (let k = 0; k < 5; k++) await createSnapshot(ec2, i++);
    expect((await rejection(createSnapshot(ec2, i++))).name).toBe("RequestLimitExceeded");

    s.clock.advance(60_000);
    expect(tokens()).toBe(EC2_CREATE_SNAPSHOT.capacity);
  });
});

describe("the SDK's retries under the limits", () => {
  it("a burst of 110 CreateSnapshot is absorbed: the 10 throttled calls succeed after a backoff that moved the clock", async () => {
    const s = sandbox();
    addVolumes(s, PRIMARY, 110);
    const ec2 = new EC2Client({ region: PRIMARY, maxAttempts: 6 });
    const before = s.clock.nowMs();

    const results = await Promise.all(Array.from({ length: 110 }, (_, i) => createSnapshot(ec2, i)));

    expect(results).toHaveLength(110);
    expect(s.ec2.snapshots(PRIMARY)).toHaveLength(110);
    const throttled = s.callsTo("ec2", "CreateSnapshot").filter((c) => c.throttled);
    expect(throttled.length).toBeGreaterThanOrEqual(10);
    expect(s.rateLimits?.throttles()["ec2:CreateSnapshot"]).toBe(throttled.length);
    // 10 tokens at 5 a second need at least 2 s; each retry waited its backoff on the clock.
    expect(s.clock.nowMs() - before).toBeGreaterThanOrEqual(2000);
    expect(s.rateLimits?.backoffMs).toBeGreaterThan(0);
  });

  it("a sustained flood surfaces RequestLimitExceeded after maxAttempts, with $metadata.attempts", async () => {
    const s = sandbox({ rateLimits: { "ec2:snapshots-volumes": { capacity: 1, refillPerSecond: 0.001 } } });
    addVolumes(s, PRIMARY, 2);
    const ec2 = new EC2Client({ region: PRIMARY, maxAttempts: 3 });
    await createSnapshot(ec2, 0);

    const err = await rejection(createSnapshot(ec2, 1));

    expect(err).toMatchObject({ name: "RequestLimitExceeded", $metadata: { attempts: 3 } });
    expect(s.callsTo("ec2", "CreateSnapshot").map((c) => [c.attempt, c.throttled ?? false])).toEqual([
      [1, false],
      [1, true],
      [2, true],
      [3, true],
    ]);
  });

  it("the backoff is the SDK's: random × min(1 s × 2^retry, 20 s) after a throttle, from the failed attempt's start", async () => {
    const s = sandbox({ rateLimits: { "ec2:snapshots-volumes": { capacity: 1, refillPerSecond: 0.0001 } } });
    addVolumes(s, PRIMARY, 2);
    const ec2 = new EC2Client({ region: PRIMARY, maxAttempts: 6 });
    await createSnapshot(ec2, 0);

    await rejection(createSnapshot(ec2, 1));

    const at = s
      .callsTo("ec2", "CreateSnapshot")
      .slice(1)
      .map((c) => c.at.getTime());
    const gaps = at.slice(1).map((t, k) => t - at[k]!);
    expect(gaps).toHaveLength(5);
    gaps.forEach((gap, retry) => {
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeLessThan(Math.min(1000 * 2 ** retry, 20_000));
    });
  });

  it("retry capacity: after 100 throttled retries without a success, the client's next throttle reaches the caller at once", async () => {
    const s = sandbox({ rateLimits: { rds: { capacity: 1, refillPerSecond: 1e-6 } } });
    const rds = new RDSClient({ region: PRIMARY, maxAttempts: 6 });
    await rds.send(new DescribeDBInstancesCommand({}));

    // 20 calls × 5 retries × 5 (throttling cost) = 500: the whole capacity.
    for (let i = 0; i < 20; i++) await rejection(rds.send(new DescribeDBInstancesCommand({})));
    const err = await rejection(rds.send(new DescribeDBInstancesCommand({})));

    expect(err).toMatchObject({ name: "Throttling", $metadata: { attempts: 1 } });
    expect(s.rateLimits?.retryCapacityRefusals).toBe(1);
  });

  it("an injected error's retries stay immediate with rate limits on: tests that inject keep their timestamps", async () => {
    const s = sandbox();
    s.rds.addInstance(PRIMARY, { id: "app-db" });
    s.inject({ service: "rds", command: "DescribeDBInstances", error: "throttling", times: 2 });

    await new RDSClient({ region: PRIMARY, maxAttempts: 6 }).send(new DescribeDBInstancesCommand({}));

    expect(s.callsTo("rds", "DescribeDBInstances").map((c) => [c.attempt, c.at.toISOString(), c.throttled ?? false])).toEqual([
      [1, "2025-03-01T02:00:00.000Z", false],
      [2, "2025-03-01T02:00:00.000Z", false],
      [3, "2025-03-01T02:00:00.000Z", false],
    ]);
    expect(s.rateLimits?.throttles()).toEqual({});
  });

  it("with rate limits off, retries are immediate as before: the clock does not move", async () => {
    const s = sandbox({ rateLimits: false });
    s.rds.addInstance(PRIMARY, { id: "app-db" });
    s.inject({ service: "rds", command: "DescribeDBInstances", error: "throttling", times: 2 });

    await new RDSClient({ region: PRIMARY, maxAttempts: 6 }).send(new DescribeDBInstancesCommand({}));

    expect(s.clock.now().toISOString()).toBe("2025-03-01T02:00:00.000Z");
    expect(s.rateLimits).toBeUndefined();
  });
});

describe("buckets are per account and per region", () => {
  it("EC2 in another region has its own full bucket", async () => {
    const s = sandbox({ retry: "none" });
    addVolumes(s, PRIMARY, 101);
    addVolumes(s, DR, 100);
    const west = new EC2Client({ region: PRIMARY });
    const central = new EC2Client({ region: DR });
    for (let i = 0; i < 100; i++) await createSnapshot(west, i);

    for (let i = 0; i < 100; i++) await createSnapshot(central, i);
    const err = await rejection(createSnapshot(west, 100));

    expect(err.name).toBe("RequestLimitExceeded");
    expect(s.rateLimits?.throttlesByBucket()).toEqual({ "123456789012|eu-west-1|ec2:snapshots-volumes:CreateSnapshot": 1 });
  });

  it("EC2 actions have their own buckets: CreateSnapshot empty, DescribeSnapshots still answers", async () => {
    const s = sandbox({ retry: "none" });
    addVolumes(s, PRIMARY, 100);
    const ec2 = new EC2Client({ region: PRIMARY });
    for (let i = 0; i < 100; i++) await createSnapshot(ec2, i);

    const out = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: 1000 }));

    expect(out.Snapshots).toHaveLength(100);
  });

  it("another account (its admin keys) has its own full bucket while the default account's is empty", async () => {
    const s = sandbox({ retry: "none" });
    addVolumes(s, PRIMARY, 101);
    const vault = s.addAccount("444455556666", { name: "vault" });
    for (let i = 0; i < 100; i++) vault.ec2.addVolume(PRIMARY, { id: `vol-${i.toString(16).padStart(8, "0")}` });
    const own = new EC2Client({ region: PRIMARY });
    const theirs = new EC2Client({ region: PRIMARY, credentials: vault.adminCredentials() });
    for (let i = 0; i < 100; i++) await createSnapshot(own, i);

    for (let i = 0; i < 100; i++) await createSnapshot(theirs, i);
    const err = await rejection(createSnapshot(own, 100));

    expect(err.name).toBe("RequestLimitExceeded");
    expect(s.rateLimits?.throttlesByBucket()).toEqual({ "123456789012|eu-west-1|ec2:snapshots-volumes:CreateSnapshot": 1 });
    expect(s.rateLimits?.tokens({ service: "ec2", command: "CreateSnapshot", region: PRIMARY, account: "444455556666" })).toBe(0);
  });

  it("a bucket is keyed by the account the call acts in", async () => {
    const s = sandbox({ retry: "none", accountId: "222222222222" });
    addVolumes(s, PRIMARY, 100);
    const ec2 = new EC2Client({ region: PRIMARY });
    for (let i = 0; i < 100; i++) await createSnapshot(ec2, i);

    expect(s.rateLimits?.tokens({ service: "ec2", command: "CreateSnapshot", region: PRIMARY })).toBe(0);
    expect(s.rateLimits?.tokens({ service: "ec2", command: "CreateSnapshot", region: PRIMARY, account: "333333333333" })).toBe(100);
  });
});

describe("minimumWallTime", () => {
  it("a known nightly mix: 1,000 EC2 CreateSnapshot and 400 RDS calls in one account and region → 180 s (EC2 is the bottleneck)", () => {
    const t = minimumWallTime([
      { service: "ec2", command: "CreateSnapshot", region: PRIMARY, count: 1000 },
      { service: "ec2", command: "CreateTags", region: PRIMARY, count: 150 },
      { service: "rds", command: "CreateDBSnapshot", region: PRIMARY, count: 300 },
      { service: "rds", command: "DescribeDBSnapshots", region: PRIMARY, count: 100 },
    ]);

    // EC2: (1000 - 100) / 5 = 180 s; CreateTags (150 - 100) / 10 = 5 s; RDS (400 - 300) / 12 ≈ 8.3 s.
    expect(t.ms).toBe(180_000);
    expect(t.bottleneck).toEqual({
      key: "|eu-west-1|ec2:snapshots-volumes:CreateSnapshot",
      bucket: "ec2:snapshots-volumes:CreateSnapshot",
      calls: 1000,
      capacity: 100,
      refillPerSecond: 5,
    });
    expect(t.buckets.map((b) => [b.bucket, b.calls, Math.round(b.ms)])).toEqual([
      ["ec2:snapshots-volumes:CreateSnapshot", 1000, 180_000],
      ["ec2:tags:CreateTags", 150, 5_000],
      ["rds:api", 400, 8_333],
    ]);
  });

  it("accounts and regions run in parallel: the same calls spread over 2 accounts × 2 regions need a quarter of the excess", () => {
    const spread = [PRIMARY, DR].flatMap((region) =>
      ["111111111111", "222222222222"].map((account) => ({ service: "ec2", command: "CreateSnapshot", region, account, count: 250 })),
    );

    expect(minimumWallTime(spread).ms).toBe(30_000); // (250 - 100) / 5
    expect(minimumWallTime([{ service: "ec2", command: "CreateSnapshot", region: PRIMARY, count: 100 }])).toEqual({
      ms: 0,
      buckets: [{ key: "|eu-west-1|ec2:snapshots-volumes:CreateSnapshot", bucket: "ec2:snapshots-volumes:CreateSnapshot", calls: 100, ms: 0 }],
    });
  });

  it("takes the same overrides as the sandbox", () => {
    expect(
      minimumWallTime([{ service: "rds", command: "CopyDBSnapshot", region: PRIMARY, count: 60 }], { overrides: { rds: { capacity: 10, refillPerSecond: 1 } } })
        .ms,
    ).toBe(50_000);
  });
});
