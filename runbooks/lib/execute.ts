import pLimit from "p-limit";
import type { ItemFailure } from "../../core/types.ts";
import { classifyError, describeError, type ErrorClass } from "../../adapters/errors.ts";

/**
 * What an action returns when it found its work already done, or being done by another run (an EBS snapshot
 * claimed by a concurrent invocation): the item is reported as `exists` with this detail, not as `done`.
 */
export class AlreadyDone {
  readonly detail: string;
  constructor(detail: string) {
    this.detail = detail;
  }
}

/** The outcome of carrying out one decision. */
export interface ItemResult<T> {
  item: T;
  /** done: the action happened; exists / gone: it had already happened (idempotent success);
   *  failed: see `failure`; deferred: not started because the deadline was near. */
  status: "done" | "exists" | "gone" | "failed" | "deferred";
  detail?: string;
  failure?: ItemFailure;
  ms?: number;
}

export interface ExecuteOptions<T> {
  concurrency: number;
  /** Checked before each item starts: once true, the rest is deferred to the next run. */
  nearDeadline: () => boolean;
  label: (item: T) => { item: string; region?: string };
  /** Extra words for a failure of this class, e.g. the KMS key a copy tried. */
  explain?: (item: T, cls: ErrorClass) => string | undefined;
  clock?: () => number;
  /** Which errors are facts meaning "already done": `exists` for creates and copies, `not-found` for deletes. */
  facts: ("exists" | "not-found")[];
}

/**
 * Run `action` over `items` with bounded concurrency. Per-item errors are collected, never thrown:
 * "already exists" and "not found" are facts (idempotent success), as is an {@link AlreadyDone} result;
 * everything else becomes an ItemFailure that the handler reports and rethrows once at the end.
 */
export async function executeAll<T>(
  items: T[],
  action: (item: T) => Promise<string | undefined | AlreadyDone>,
  options: ExecuteOptions<T>,
): Promise<ItemResult<T>[]> {
  const limit = pLimit(options.concurrency);
  const clock = options.clock ?? Date.now;
  return Promise.all(
    items.map((item) =>
      limit(async (): Promise<ItemResult<T>> => {
        if (options.nearDeadline()) return { item, status: "deferred", detail: "near the Lambda deadline: left for the next run" };
        const started = clock();
        try {
          const detail = await action(item);
          if (detail instanceof AlreadyDone) return { item, status: "exists", detail: detail.detail, ms: clock() - started };
          return { item, status: "done", ms: clock() - started, ...(detail ? { detail } : {}) };
        } catch (err) {
          const cls = classifyError(err);
          const ms = clock() - started;
          if (cls === "exists" && options.facts.includes("exists")) return { item, status: "exists", detail: describeError(err), ms };
          if (cls === "not-found" && options.facts.includes("not-found")) return { item, status: "gone", detail: describeError(err), ms };
          const extra = options.explain?.(item, cls);
          const failure: ItemFailure = {
            ...options.label(item),
            kind: cls === "exists" || cls === "not-found" ? "fatal" : cls,
            message: extra ? `${describeError(err)} (${extra})` : describeError(err),
          };
          return { item, status: "failed", failure, ms };
        }
      }),
    ),
  );
}
