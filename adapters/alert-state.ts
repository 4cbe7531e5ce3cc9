import type { AlertLifecycleState } from "../core/alert-lifecycle.ts";
import { jsonDocuments } from "./json-document.ts";
import type { BucketRef } from "./s3.ts";

/**
 * The alert lifecycle's state of one source (the watchdog's stale backups, ...): one JSON document in the state
 * bucket, `state/alerts/<source>.json`, replaced only with a conditional write, as the cost alert state is.
 * Two overlapping runs that both decide "started" cannot both write: the second gets 412 (or 409), re-reads
 * and decides again, and finds the incident already open.
 */

/** The stored state with the version it was read at; `exists: false` when no run has written it yet. */
export interface StoredAlertState<D> {
  state: AlertLifecycleState<D>;
  exists: boolean;
  etag?: string;
}

export interface AlertStatePort<D> {
  load(): Promise<StoredAlertState<D>>;
  /**
   * Store `state` if the document is still the one `previous` was read at (`If-None-Match: *` when it did not
   * exist, `If-Match: <etag>` otherwise). False when another run wrote first: re-read and decide again.
   */
  save(state: AlertLifecycleState<D>, previous: StoredAlertState<D>): Promise<StoredAlertState<D> | false>;
}

interface StateDoc<D> {
  source: string;
  incidents: AlertLifecycleState<D>["incidents"];
}

/** The S3 key of a source's alert state. */
export function alertStateKey(source: string): string {
  return `state/alerts/${source}.json`;
}

/**
 * The S3 key of a source's alert state for one fleet member and region, `state/alerts/<source>/<account>/<region>.json`:
 * the fan-out's items run at once, and one document per account × region keeps them from contending for one If-Match.
 */
export function memberAlertStateKey(source: string, account: string, region: string): string {
  return `state/alerts/${source}/${account}/${region}.json`;
}

/**
 * {@link AlertStatePort} on S3 for `source` (e.g. "watchdog"), at {@link alertStateKey} unless `key` says where (the
 * failover keeps each group's next to its latch, `failover/<group>/alerts.json`, inside what its role may write).
 */
export function s3AlertState<D>(ref: BucketRef, source: string, key: string = alertStateKey(source)): AlertStatePort<D> {
  const docs = jsonDocuments(ref);
  return {
    async load() {
      const doc = await docs.get<StateDoc<D>>(key);
      if (!doc) return { state: { incidents: {} }, exists: false };
      const incidents = (doc.body as Partial<StateDoc<D>> | null)?.incidents;
      // A damaged document must not read as "nothing open": every open incident would start (and page) again.
      if (typeof incidents !== "object" || incidents === null || Array.isArray(incidents)) {
        throw new Error(`s3://${ref.bucket}/${key} has no incidents object: fix or delete it`);
      }
      return { state: { incidents }, exists: true, etag: doc.etag };
    },
    async save(state, previous) {
      const body: StateDoc<D> = { source, incidents: state.incidents };
      if (!previous.exists) {
        const out = await docs.create(key, body);
        return out.created ? { state, exists: true, ...(out.etag ? { etag: out.etag } : {}) } : false;
      }
      // A document written without an ETag in the answer has no version to compare against: read it again.
      if (!previous.etag) return false;
      const out = await docs.replace(key, body, previous.etag);
      return out.replaced ? { state, exists: true, ...(out.etag ? { etag: out.etag } : {}) } : false;
    },
  };
}
