import { jsonDocuments } from "./json-document.ts";
import type { BucketRef } from "./s3.ts";
import type { PruneLedger } from "../core/guardrails.ts";

/**
 * The day's delete reservations of prune (core/guardrails.ts PruneLedger) in the reports bucket, one object per
 * day: `state/prune/<yyyy-mm-dd>.json`; a fleet member's in `state/prune/<account>/<yyyy-mm-dd>.json`, so the day's
 * delete caps count per account. A compare-and-set register like the failover latch (adapters/latch.ts):
 * the first write of a day uses `If-None-Match: *`, every later one `If-Match: <etag read>`, so two prune runs
 * that read the same version cannot both add to it; the loser gets 412 (or 409 when the writes race) and
 * re-reads. https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */

export function pruneLedgerKey(day: string, account?: string): string {
  return account ? `state/prune/${account}/${day}.json` : `state/prune/${day}.json`;
}

/** Reads and conditionally writes the prune ledger; the contract of a compare-and-set register. */
export interface PruneLedgerPort {
  /** The day's ledger with the ETag it was read at, or undefined when nothing was reserved that day yet. */
  read(day: string): Promise<{ ledger: PruneLedger; etag: string } | undefined>;
  /** Write `ledger` if the stored version is still `etag` (undefined: if there is none yet); false when another run wrote first. */
  write(ledger: PruneLedger, etag: string | undefined): Promise<boolean>;
}

/** A {@link PruneLedgerPort} on S3: the central account's ledger, or `account`'s (a fleet member). */
export function s3PruneLedger(bucket: BucketRef, account?: string): PruneLedgerPort {
  const docs = jsonDocuments(bucket);
  return {
    async read(day) {
      const got = await docs.get<PruneLedger>(pruneLedgerKey(day, account));
      return got && { ledger: got.body, etag: got.etag };
    },
    async write(ledger, etag) {
      const key = pruneLedgerKey(ledger.day, account);
      const out = etag ? await docs.replace(key, ledger, etag) : await docs.create(key, ledger);
      return "created" in out ? out.created : out.replaced;
    },
  };
}
