import { NoSuchKey } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonDocuments } from "../../../adapters/json-document.ts";
import { createSandbox, FakeClock, s3Error, type Sandbox } from "../../../sandbox/index.ts";

/**
 * The JSON-document helper on the sandbox's S3, which applies S3's conditional-write rules
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): If-None-Match "*" on an
 * existing key and If-Match with a stale ETag answer 412; 409 ConditionalRequestConflict is a concurrent
 * conditional write, retry advised.
 */

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-test";
const KEY = "state/test/doc.json";

let sb: Sandbox;

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2025-03-01T00:00:00Z"), regions: [REGION], buckets: [BUCKET] });
});
afterEach(() => sb.restore());

const docs = () => jsonDocuments({ bucket: BUCKET, region: REGION });
const body = (doc: unknown) => JSON.stringify(doc, null, 2);
const puts = () => sb.callsTo("s3", "PutObject").map((c) => c.input);
const storedEtag = () => sb.s3.objects(BUCKET).find((o) => o.key === KEY)?.etag;
const conflict = () =>
  s3Error("ConditionalRequestConflict", "A conflicting conditional operation is currently in progress against this resource. Please try again.");

describe("jsonDocuments", () => {
  it("create twice: the first creates it with If-None-Match '*', the second finds it exists (412) and writes nothing", async () => {
    const first = await docs().create(KEY, { by: "run-1" });
    const second = await docs().create(KEY, { by: "run-2" });

    expect(first).toEqual({ created: true, etag: storedEtag() });
    expect(second).toEqual({ created: false, reason: "exists" });
    expect(puts()).toEqual([
      { Bucket: BUCKET, Key: KEY, Body: body({ by: "run-1" }), ContentType: "application/json", IfNoneMatch: "*" },
      { Bucket: BUCKET, Key: KEY, Body: body({ by: "run-2" }), ContentType: "application/json", IfNoneMatch: "*" },
    ]);
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ by: "run-1" });
  });

  it("get returns the body with the ETag to replace it at; replace with that ETag writes with If-Match", async () => {
    await docs().create(KEY, { n: 1 });
    const read = await docs().get<{ n: number }>(KEY);
    const replaced = await docs().replace(KEY, { n: 2 }, read!.etag);

    expect(read).toEqual({ body: { n: 1 }, etag: expect.stringMatching(/^".+"$/) });
    expect(replaced).toEqual({ replaced: true, etag: storedEtag() });
    expect(replaced).not.toEqual({ replaced: true, etag: read!.etag });
    expect(puts()[1]).toEqual({ Bucket: BUCKET, Key: KEY, Body: body({ n: 2 }), ContentType: "application/json", IfMatch: read!.etag });
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ n: 2 });
  });

  it("replace with a stale ETag: changed (412), and the newer version stays", async () => {
    await docs().create(KEY, { n: 1 });
    const stale = (await docs().get(KEY))!.etag;
    await docs().replace(KEY, { n: 2 }, stale);

    const lost = await docs().replace(KEY, { n: 3 }, stale);

    expect(lost).toEqual({ replaced: false, reason: "changed" });
    expect(puts()[2]).toEqual({ Bucket: BUCKET, Key: KEY, Body: body({ n: 3 }), ContentType: "application/json", IfMatch: stale });
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ n: 2 });
  });

  it("a 409 ConditionalRequestConflict on create is 'conflict', never 'exists'; nothing is written", async () => {
    sb.inject({ service: "s3", command: "PutObject", error: conflict() });

    const out = await docs().create(KEY, { by: "run-1" });

    expect(out).toEqual({ created: false, reason: "conflict" });
    expect(puts()).toEqual([{ Bucket: BUCKET, Key: KEY, Body: body({ by: "run-1" }), ContentType: "application/json", IfNoneMatch: "*" }]);
    expect(sb.s3.objects(BUCKET)).toEqual([]);
  });

  it("a 409 ConditionalRequestConflict on replace is 'conflict', never 'changed'", async () => {
    await docs().create(KEY, { n: 1 });
    const etag = (await docs().get(KEY))!.etag;
    sb.inject({ service: "s3", command: "PutObject", error: conflict() });

    const out = await docs().replace(KEY, { n: 2 }, etag);

    expect(out).toEqual({ replaced: false, reason: "conflict" });
    expect(puts()[1]).toEqual({ Bucket: BUCKET, Key: KEY, Body: body({ n: 2 }), ContentType: "application/json", IfMatch: etag });
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ n: 1 });
  });

  it("a missing key reads as undefined", async () => {
    expect(await docs().get(KEY)).toBeUndefined();
    expect(sb.callsTo("s3", "GetObject").map((c) => c.input)).toEqual([{ Bucket: BUCKET, Key: KEY }]);
  });

  it("replace of a key that does not exist throws S3's 404 NoSuchKey (If-Match needs an object)", async () => {
    await expect(docs().replace(KEY, { n: 1 }, '"0123"')).rejects.toBeInstanceOf(NoSuchKey);
    expect(puts()).toEqual([{ Bucket: BUCKET, Key: KEY, Body: body({ n: 1 }), ContentType: "application/json", IfMatch: '"0123"' }]);
  });

  it("put writes without a condition: the last writer wins", async () => {
    await docs().put(KEY, { n: 1 });
    await docs().put(KEY, { n: 2 });

    expect(puts()).toEqual([
      { Bucket: BUCKET, Key: KEY, Body: body({ n: 1 }), ContentType: "application/json" },
      { Bucket: BUCKET, Key: KEY, Body: body({ n: 2 }), ContentType: "application/json" },
    ]);
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ n: 2 });
  });
});
