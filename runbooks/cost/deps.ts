import { fetchCosts } from "../../adapters/cost-explorer.ts";
import { jsonDocuments } from "../../adapters/json-document.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { linkedBucket, linkedSlackUrlFor } from "../lib/resources.ts";
import type { RunContext } from "../lib/handler.ts";
import type { AlertState, AlertStateStore, CostDeps } from "./cost.ts";

/** Real dependencies of the cost runbook (used by functions/cost.ts). */
export function costDeps(ctx: RunContext): CostDeps {
  return {
    fetch: (req) => fetchCosts(req),
    state: () => s3AlertState(linkedBucket(ctx.config), ctx.now),
    postAlert: async (message) => void (await postToSlack(linkedSlackUrlFor("cost-slack"), message)),
  };
}

interface StateDoc {
  date: string;
  alerts: Record<string, string>;
}

/** Alert state in the reports bucket: `state/cost/alerts/<date>.json`, updated with If-Match / If-None-Match. */
export function s3AlertState(ref: BucketRef, now: () => Date): AlertStateStore {
  const docs = jsonDocuments(ref);
  const key = (date: string) => `state/cost/alerts/${date}.json`;
  const write = async (date: string, alerts: Record<string, string>, prev: AlertState): Promise<AlertState | false> => {
    const doc = { date, alerts } satisfies StateDoc;
    // A state that exists without an ETag is one whose write S3 confirmed without one: nothing to compare against.
    const out = !prev.exists
      ? await docs.create(key(date), doc)
      : prev.etag
        ? await docs.replace(key(date), doc, prev.etag)
        : await docs.put(key(date), doc).then(() => ({ replaced: true as const }));
    const written = "created" in out ? out.created : out.replaced;
    return written ? { sent: Object.keys(alerts), exists: true, ...("etag" in out && out.etag ? { etag: out.etag } : {}) } : false;
  };
  const load = async (date: string): Promise<AlertState & { alerts: Record<string, string> }> => {
    const doc = await docs.get<StateDoc>(key(date));
    const alerts = doc?.body.alerts ?? {};
    return { sent: Object.keys(alerts), exists: doc !== undefined, alerts, ...(doc?.etag ? { etag: doc.etag } : {}) };
  };
  return {
    load,
    async claim(date, ids, previous) {
      const current = await load(date);
      if (current.etag !== previous.etag || current.exists !== previous.exists) return false;
      const at = now().toISOString();
      return write(date, { ...current.alerts, ...Object.fromEntries(ids.map((id) => [id, at])) }, current);
    },
    async release(date, ids, claimed) {
      const current = await load(date);
      const alerts = Object.fromEntries(Object.entries(current.alerts).filter(([id]) => !ids.includes(id)));
      await write(date, alerts, { ...claimed, ...(current.etag ? { etag: current.etag } : {}) });
    },
  };
}
