import type { ObserveMarker } from "../core/observe.ts";
import { jsonDocuments } from "./json-document.ts";
import type { BucketRef } from "./s3.ts";

/**
 * The observe-start marker (core/observe.ts ObserveMarker): one JSON object a stage's first run writes next to its
 * runbook's state, prune's in the reports bucket (`state/observe.json`), failover's in its own state bucket in the
 * DR region (`failover/observe.json`, which the failover role may already read and write). Written once with
 * `If-None-Match: *` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html), so two first
 * runs racing agree on one start: the loser (412, or 409 while the writes race) reads the winner's.
 */

import { PRUNE_OBSERVE_KEY } from "../core/observe.ts";

export { FAILOVER_OBSERVE_KEY, PRUNE_OBSERVE_KEY } from "../core/observe.ts";

/**
 * Prune's marker: the stage's (`state/observe.json`), or a fleet member's own, `state/observe/<account>.json`, so an
 * account that joins the fleet is observed from its own first prune.
 */
export function pruneObserveKey(account?: string): string {
  return account ? `state/observe/${account}.json` : PRUNE_OBSERVE_KEY;
}

export interface ObserveMarkerPort {
  /** The recorded start, or undefined when no run recorded one yet. */
  read(): Promise<Date | undefined>;
  /** Record `marker` unless a start is recorded already; the start that is recorded afterwards, ours or another run's. */
  record(marker: ObserveMarker): Promise<Date>;
}

/** An {@link ObserveMarkerPort} on S3. */
export function s3ObserveMarker(bucket: BucketRef, key: string): ObserveMarkerPort {
  const docs = jsonDocuments(bucket);
  const read = async (): Promise<Date | undefined> => {
    const got = await docs.get<Partial<ObserveMarker>>(key);
    if (!got) return undefined;
    const at = new Date(String(got.body.startedAt));
    if (Number.isNaN(at.getTime())) throw new Error(`s3://${bucket.bucket}/${key} has no valid startedAt: fix or delete it`);
    return at;
  };
  return {
    read,
    async record(marker) {
      const out = await docs.create(key, marker);
      if (out.created) return new Date(marker.startedAt);
      const stored = await read();
      if (!stored) throw new Error(`s3://${bucket.bucket}/${key}: the first-run marker could not be written (${out.reason}) nor read`);
      return stored;
    },
  };
}
