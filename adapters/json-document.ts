import { getJson, putJson, type BucketRef } from "./s3.ts";

/**
 * JSON documents in S3 as compare-and-set registers: the one home of the conditional writes behind the
 * failover latch, the EBS claims, prune's day ledger, the cost alert state and the warm leftovers.
 *
 * S3's rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
 * - `If-None-Match: *` writes only when the key does not exist; otherwise 412 Precondition Failed.
 * - `If-Match: <etag>` writes only when the stored object still has that ETag; otherwise 412.
 * - 409 ConditionalRequestConflict: a concurrent conditional write to the key was in progress and S3 cannot
 *   say which one won; "retry on 409". It is an unknown outcome, never "exists" or "changed".
 * - `If-Match` on a key that does not exist answers 404 NoSuchKey, which is thrown as it is.
 */

/** A document with the ETag it was read at, the value a later {@link JsonDocuments.replace} must carry. */
export interface JsonDocument<T> {
  body: T;
  etag: string;
}

export type CreateResult =
  /** `etag` is absent only when S3 returned none. */
  | { created: true; etag?: string }
  /** `exists`: 412, the key is there; `conflict`: 409, a concurrent conditional write, retry advised. */
  | { created: false; reason: "exists" | "conflict" };

export type ReplaceResult =
  /** `etag` is absent only when S3 returned none. */
  | { replaced: true; etag?: string }
  /** `changed`: 412, another writer replaced it since it was read; `conflict`: 409, retry advised. */
  | { replaced: false; reason: "changed" | "conflict" };

/** The port: JSON documents keyed inside one bucket. */
export interface JsonDocuments {
  /** The document and its ETag, or undefined when the key does not exist. */
  get<T>(key: string): Promise<JsonDocument<T> | undefined>;
  /** Create the document if the key does not exist yet (`If-None-Match: *`). */
  create(key: string, body: unknown): Promise<CreateResult>;
  /** Replace the document if it is still the version `etag` (`If-Match`). */
  replace(key: string, body: unknown, etag: string): Promise<ReplaceResult>;
  /** Write unconditionally: the last writer wins. For documents no two runs contend for. */
  put(key: string, body: unknown): Promise<void>;
}

/** A {@link JsonDocuments} on S3. */
export function jsonDocuments(bucket: BucketRef): JsonDocuments {
  return {
    async get<T>(key: string) {
      const got = await getJson<T>(bucket, key);
      if (!got) return undefined;
      // Every S3 GetObject returns an ETag; without it no conditional replace could be made.
      if (!got.etag) throw new Error(`S3 returned no ETag for s3://${bucket.bucket}/${key}: cannot replace it safely`);
      return { body: got.body, etag: got.etag };
    },
    async create(key, body) {
      const out = await putJson(bucket, key, body, { ifNoneMatch: true });
      if (out.written) return { created: true, ...(out.etag ? { etag: out.etag } : {}) };
      return { created: false, reason: out.status === 409 ? "conflict" : "exists" };
    },
    async replace(key, body, etag) {
      const out = await putJson(bucket, key, body, { ifMatch: etag });
      if (out.written) return { replaced: true, ...(out.etag ? { etag: out.etag } : {}) };
      return { replaced: false, reason: out.status === 409 ? "conflict" : "changed" };
    },
    async put(key, body) {
      await putJson(bucket, key, body);
    },
  };
}
