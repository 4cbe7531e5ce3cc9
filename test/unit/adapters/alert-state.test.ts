import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { alertStateKey, s3AlertState } from "../../../adapters/alert-state.ts";
import type { AlertLifecycleState } from "../../../core/alert-lifecycle.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

/**
 * The alert state is created with If-None-Match "*" and replaced with If-Match "<etag>"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): a writer whose read is stale
 * gets 412 and `false`, never a silent overwrite.
 */

const REGION = "eu-west-1";
const BUCKET = "ops-autopilot-reports-test";
const KEY = "state/alerts/watchdog.json";

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-11-30T00:00:00Z"), regions: [REGION], buckets: [BUCKET], iam: false });
});
afterEach(() => sb.restore());

const port = () => s3AlertState<{ n: number }>({ bucket: BUCKET, region: REGION }, "watchdog");
const open = (n: number): AlertLifecycleState<{ n: number }> => ({
  incidents: { "stale:db:eu-west-1": { openedAt: "2026-11-30T04:00:00.000Z", lastNotifiedAt: "2026-11-30T04:00:00.000Z", reminders: n, detail: { n } } },
});
const conditions = () => sb.callsTo("s3", "PutObject").map((c) => ({ ...(c.input as { IfNoneMatch?: string; IfMatch?: string }) }));

describe("s3AlertState", () => {
  it("keys a source's state under state/alerts/", () => {
    expect(alertStateKey("watchdog")).toBe(KEY);
  });

  it("reads nothing open before the first write, creates with If-None-Match, replaces with If-Match", async () => {
    const empty = await port().load();
    expect(empty).toEqual({ state: { incidents: {} }, exists: false });
    const created = await port().save(open(0), empty);
    expect(created).toMatchObject({ exists: true, state: open(0) });
    const read = await port().load();
    expect(read.state).toEqual(open(0));
    expect(await port().save(open(1), read)).toMatchObject({ exists: true, state: open(1) });
    expect(sb.s3.json(BUCKET, KEY)).toEqual({ source: "watchdog", ...open(1) });
    expect(conditions().map((c) => [c.IfNoneMatch, c.IfMatch])).toEqual([
      ["*", undefined],
      [undefined, read.etag],
    ]);
  });

  it("answers false to a writer whose read is stale: a second create, or a replace of a version since replaced", async () => {
    const empty = await port().load();
    expect(await port().save(open(0), empty)).not.toBe(false);
    expect(await port().save(open(5), empty)).toBe(false);
    const read = await port().load();
    expect(await port().save(open(1), read)).not.toBe(false);
    expect(await port().save(open(2), read)).toBe(false);
    expect((sb.s3.json(BUCKET, KEY) as AlertLifecycleState<{ n: number }>).incidents["stale:db:eu-west-1"]!.reminders).toBe(1);
  });

  it("a damaged document is an error naming the object, never an empty state that would page every incident again", async () => {
    sb.s3.put(BUCKET, KEY, JSON.stringify({ source: "watchdog", incidents: [] }), "application/json");
    await expect(port().load()).rejects.toThrow(`s3://${BUCKET}/${KEY} has no incidents object: fix or delete it`);
  });
});
