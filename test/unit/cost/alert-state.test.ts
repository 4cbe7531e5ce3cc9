import "aws-sdk-client-mock-vitest/extend";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { s3AlertState } from "../../../runbooks/cost/deps.ts";

const s3 = mockClient(S3Client);
const ref = { bucket: "ops-reports", region: "eu-west-1" };
const now = () => new Date("2025-03-20T08:00:00Z");
const KEY = "state/cost/alerts/2025-03-19.json";
// getJson only calls transformToString on the body.
const body = (doc: unknown) => ({ transformToString: async () => JSON.stringify(doc) });

beforeEach(() => {
  s3.reset();
  resetClients();
});

describe("S3 alert state", () => {
  it("creates the day's state with If-None-Match so two runs cannot both claim it", async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: "none", $metadata: {} }));
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const store = s3AlertState(ref, now);

    const state = await store.load("2025-03-19");
    const claimed = await store.claim("2025-03-19", ["spike:EC2"], state);

    expect(state).toMatchObject({ sent: [], exists: false });
    expect(claimed).toEqual({ sent: ["spike:EC2"], exists: true, etag: '"e1"' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: "ops-reports",
      Key: KEY,
      IfNoneMatch: "*",
      Body: JSON.stringify({ date: "2025-03-19", alerts: { "spike:EC2": "2025-03-20T08:00:00.000Z" } }, null, 2),
    });
  });

  it("updates existing state with If-Match and reports a lost race as false", async () => {
    s3.on(GetObjectCommand).resolves({ Body: body({ date: "2025-03-19", alerts: { "daily-total:account": "t" } }), ETag: '"e1"' } as never);
    s3.on(PutObjectCommand).rejects(new S3ServiceException({ name: "PreconditionFailed", $fault: "client", $metadata: { httpStatusCode: 412 } }));
    const store = s3AlertState(ref, now);

    const state = await store.load("2025-03-19");
    const claimed = await store.claim("2025-03-19", ["spike:EC2"], state);

    expect(state.sent).toEqual(["daily-total:account"]);
    expect(claimed).toBe(false);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: KEY, IfMatch: '"e1"' });
  });
});
