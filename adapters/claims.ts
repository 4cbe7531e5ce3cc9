import { jsonDocuments } from "./json-document.ts";
import type { BucketRef } from "./s3.ts";
import type { ClaimRecord } from "../core/claims.ts";

/**
 * Claims (core/claims.ts) as small objects in the reports bucket: `claims/<function>/<region>/<name>.json`, and for a
 * fleet member `claims/<function>/<account>/<region>/<name>.json` (one name in two accounts is two snapshots).
 * Created with `If-None-Match: *`, so of two runs only one gets it (the other 412, or 409 when the writes race);
 * replaced with `If-Match: <etag>` when taken over or released, so two runs cannot both take over the same one.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */

export function claimKey(functionName: string, region: string, name: string, account?: string): string {
  return account ? `claims/${functionName}/${account}/${region}/${name}.json` : `claims/${functionName}/${region}/${name}.json`;
}

/** A compare-and-set register per claim key. */
export interface ClaimPort {
  /** Create the claim: its ETag, or undefined when it already exists. */
  create(key: string, record: ClaimRecord): Promise<string | undefined>;
  /** The claim with the ETag it was read at, or undefined when there is none. */
  read(key: string): Promise<{ record: ClaimRecord; etag: string } | undefined>;
  /** Replace the claim if it is still the version `etag`: the new ETag, or undefined when another run changed it first. */
  replace(key: string, record: ClaimRecord, etag: string): Promise<string | undefined>;
}

/** A {@link ClaimPort} on S3. */
export function s3Claims(bucket: BucketRef): ClaimPort {
  const docs = jsonDocuments(bucket);
  return {
    async create(key, record) {
      const out = await docs.create(key, record);
      return out.created ? (out.etag ?? "created") : undefined;
    },
    async read(key) {
      const got = await docs.get<ClaimRecord>(key);
      return got && { record: got.body, etag: got.etag };
    },
    async replace(key, record, etag) {
      const out = await docs.replace(key, record, etag);
      return out.replaced ? (out.etag ?? etag) : undefined;
    },
  };
}
