import { jsonDocuments } from "./json-document.ts";
import type { BucketRef } from "./s3.ts";
import type { RunRecord } from "../core/failover.ts";
import type { LatchPort } from "../runbooks/failover/ports.ts";

/**
 * The failover latch and checkpoint in S3, one object per group (`failover/<group>/latch.json`).
 *
 * S3 conditional writes make it a compare-and-set register: the first run creates it with `If-None-Match: *`
 * (a second writer gets 412, or 409 when two writes race), and every step update carries `If-Match: <etag>`
 * of the version it was computed from. The bucket must live in the DR/control region: the latch has to be
 * readable while the primary region is down.
 */

export function latchKey(group: string): string {
  return `failover/${group}/latch.json`;
}

export function reportKey(group: string, runId: string): string {
  return `failover/${group}/runs/${runId}.json`;
}

export class LatchWriteError extends Error {
  override name = "LatchWriteError";
}

/** A {@link LatchPort} on S3. */
export function s3Latch(bucket: BucketRef): LatchPort {
  const docs = jsonDocuments(bucket);
  return {
    async read(group) {
      const got = await docs.get<RunRecord>(latchKey(group));
      return got && { record: got.body, etag: got.etag };
    },
    async create(group, record) {
      const out = await docs.create(latchKey(group), record);
      if (out.created) return out.etag ?? "created";
      // 412 ("exists"): another run created it. 409 ("conflict"): a concurrent conditional write was in flight
      // and S3 cannot say who won (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html:
      // "retry on 409"): not "held", an unknown outcome the runbook must re-read, retry and alert on.
      if (out.reason === "conflict") {
        throw new LatchWriteError(`ConditionalRequestConflict: a concurrent write to s3://${bucket.bucket}/${latchKey(group)} was in progress (HTTP 409)`);
      }
      return undefined;
    },
    async replace(group, record, etag) {
      const out = await docs.replace(latchKey(group), record, etag);
      return out.replaced ? (out.etag ?? etag) : undefined;
    },
    async putReport(group, runId, report) {
      await docs.put(reportKey(group, runId), report);
    },
  };
}
