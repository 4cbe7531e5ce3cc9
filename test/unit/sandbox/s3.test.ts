import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getJson, putJson } from "../../../adapters/s3.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { rejection } from "./rejection.ts";

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-test";
const ref = { bucket: BUCKET, region: REGION };

let sb: Sandbox;
let s3: S3Client;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T00:00:00Z"), regions: [REGION], buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION });
});
afterEach(() => sb.restore());

describe("conditional writes", () => {
  it("IfNoneMatch '*' writes once and then fails with 412 PreconditionFailed (via the real adapter)", async () => {
    const first = await putJson(ref, "latch/group-a.json", { by: "run-1" }, { ifNoneMatch: true });
    const second = await putJson(ref, "latch/group-a.json", { by: "run-2" }, { ifNoneMatch: true });
    const raw = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "latch/group-a.json", Body: "{}", IfNoneMatch: "*" })));

    expect(first.written).toBe(true);
    expect(second).toEqual({ written: false, status: 412 });
    expect(sb.s3.json(BUCKET, "latch/group-a.json")).toEqual({ by: "run-1" });
    expect(raw).toBeInstanceOf(S3ServiceException);
    expect(raw.name).toBe("PreconditionFailed");
    expect(raw.$metadata?.httpStatusCode).toBe(412);
  });

  it("only one of two concurrent conditional writes wins", async () => {
    const results = await Promise.all([
      putJson(ref, "latch/x.json", { by: "a" }, { ifNoneMatch: true }),
      putJson(ref, "latch/x.json", { by: "b" }, { ifNoneMatch: true }),
    ]);

    expect(results.filter((r) => r.written)).toHaveLength(1);
  });

  it("IfMatch succeeds with the current ETag and fails with a stale one", async () => {
    const v1 = await putJson(ref, "state.json", { n: 1 });
    const v2 = await putJson(ref, "state.json", { n: 2 }, { ifMatch: v1.etag! });
    const stale = await putJson(ref, "state.json", { n: 3 }, { ifMatch: v1.etag! });

    expect(v2.written).toBe(true);
    expect(stale.written).toBe(false);
    expect((await getJson<{ n: number }>(ref, "state.json"))?.body).toEqual({ n: 2 });
  });
});

describe("reads", () => {
  it("GetObject returns a Body with transformToString and an ETag; missing keys are NoSuchKey / NotFound", async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "a.txt", Body: "hello", ContentType: "text/plain" }));

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "a.txt" }));
    const text = await got.Body!.transformToString();
    const missing = await rejection(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "b.txt" })));
    const head = await rejection(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "b.txt" })));
    const noBucket = await rejection(s3.send(new GetObjectCommand({ Bucket: "nope", Key: "a.txt" })));

    expect(text).toBe("hello");
    expect(got.ETag).toBe(put.ETag);
    expect(got.ETag).toBe('"5d41402abc4b2a76b9719d911017c592"');
    expect(got.ContentType).toBe("text/plain");
    expect(missing).toBeInstanceOf(NoSuchKey);
    expect(head).toBeInstanceOf(NotFound);
    expect(noBucket).toBeInstanceOf(NoSuchBucket);
    expect(await getJson(ref, "nothing.json")).toBeUndefined();
  });
});

describe("ListObjectsV2", () => {
  it("pages 1000 keys at a time in key order and honours Prefix", async () => {
    for (let i = 0; i < 2500; i++) sb.s3.put(BUCKET, `reports/${String(i).padStart(5, "0")}.json`, "{}");
    sb.s3.put(BUCKET, "other/x.json", "{}");

    const sizes: number[] = [];
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET, Prefix: "reports/" })) {
      sizes.push(page.KeyCount ?? 0);
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    }

    expect(sizes).toEqual([1000, 1000, 500]);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(keys).size).toBe(2500);
  });

  it("groups by Delimiter into CommonPrefixes and omits Contents when empty", async () => {
    for (const k of ["runs/2025-03-01/a.json", "runs/2025-03-01/b.json", "runs/2025-03-02/a.json", "runs/top.json"]) sb.s3.put(BUCKET, k, "{}");

    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "runs/", Delimiter: "/" }));
    const empty = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "none/" }));

    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["runs/2025-03-01/", "runs/2025-03-02/"]);
    expect(out.Contents?.map((c) => c.Key)).toEqual(["runs/top.json"]);
    expect(empty.Contents).toBeUndefined();
    expect(empty.KeyCount).toBe(0);
  });

  it("DeleteObject removes a key and succeeds for a missing one", async () => {
    sb.s3.put(BUCKET, "k", "v");

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "k" }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "k" }));

    expect(sb.s3.objects(BUCKET)).toEqual([]);
  });
});
