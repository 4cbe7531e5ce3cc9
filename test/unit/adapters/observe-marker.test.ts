import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAILOVER_OBSERVE_KEY, s3ObserveMarker } from "../../../adapters/observe-marker.ts";
import { observeMarker } from "../../../core/observe.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";

/**
 * The observe-start marker is written once with If-None-Match "*"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): two first runs racing agree on
 * the winner's start.
 */

const REGION = "eu-central-1";
const BUCKET = "ops-autopilot-failover-state";

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-11-30T00:00:00Z"), regions: [REGION], buckets: [BUCKET], iam: false });
});
afterEach(() => sb.restore());

const port = () => s3ObserveMarker({ bucket: BUCKET, region: REGION }, FAILOVER_OBSERVE_KEY);

describe("s3ObserveMarker", () => {
  it("reads nothing on a new stage, records the first run's start, and a second first run gets the first one's start", async () => {
    expect(await port().read()).toBeUndefined();
    const first = await port().record(observeMarker(new Date("2026-11-30T04:30:00Z"), "failover", "run-1"));
    const second = await port().record(observeMarker(new Date("2026-11-30T04:31:00Z"), "failover", "run-2"));
    expect([first.toISOString(), second.toISOString()]).toEqual(["2026-11-30T04:30:00.000Z", "2026-11-30T04:30:00.000Z"]);
    expect(sb.s3.json(BUCKET, FAILOVER_OBSERVE_KEY)).toEqual({ version: 1, startedAt: "2026-11-30T04:30:00.000Z", by: "failover", runId: "run-1" });
    expect(sb.callsTo("s3", "PutObject").map((c) => (c.input as { IfNoneMatch?: string }).IfNoneMatch)).toEqual(["*", "*"]);
  });

  it("a marker without a valid start is an error naming the object, never a silent new window", async () => {
    sb.s3.put(BUCKET, FAILOVER_OBSERVE_KEY, JSON.stringify({ version: 1, startedAt: "soon" }), "application/json");
    await expect(port().read()).rejects.toThrow(`s3://${BUCKET}/${FAILOVER_OBSERVE_KEY} has no valid startedAt: fix or delete it`);
  });
});
