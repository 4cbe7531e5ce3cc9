import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import { s3 } from "./clients.ts";

/** Where run reports, manifests, latches and alert state live. */
export interface BucketRef {
  bucket: string;
  region: string;
}

/** Write a JSON document. With `ifNoneMatch` the write fails (returns false) when the key already exists. */
export async function putJson(
  ref: BucketRef,
  key: string,
  body: unknown,
  options: { ifNoneMatch?: boolean; ifMatch?: string } = {},
): Promise<{ written: boolean; etag?: string; status?: number }> {
  try {
    const out = await s3(ref.region).send(
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: key,
        Body: JSON.stringify(body, null, 2),
        ContentType: "application/json",
        ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
        ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
      }),
    );
    return { written: true, ...(out.ETag ? { etag: out.ETag } : {}) };
  } catch (err) {
    // 412: the precondition (If-None-Match / If-Match) failed; 409: a concurrent conditional write won.
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    if (status === 412 || status === 409) return { written: false, status };
    throw err;
  }
}

/** Read a JSON document; `undefined` when the key does not exist. */
export async function getJson<T>(ref: BucketRef, key: string): Promise<{ body: T; etag?: string } | undefined> {
  try {
    const out = await s3(ref.region).send(new GetObjectCommand({ Bucket: ref.bucket, Key: key }));
    const text = await out.Body!.transformToString();
    return { body: JSON.parse(text) as T, ...(out.ETag ? { etag: out.ETag } : {}) };
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return undefined;
    throw err;
  }
}
