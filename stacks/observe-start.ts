/// <reference path="../.sst/platform/config.d.ts" />
import { observeMarker } from "../core/observe.ts";

/**
 * The observe window's start, written once when the stage is first deployed (core/observe.ts): observe mode lasts
 * `observe.days` from the stage's first deploy, whichever runbook runs first and however late its first run comes
 * (a failover alarm months after deploy must not find a window that starts only then). Pulumi ignores later
 * changes of the content, so a redeploy never moves the start; a function that finds no marker (deleted by hand)
 * records its own run as the start (adapters/observe-marker.ts, `If-None-Match`).
 */
export function observeStart(name: string, bucket: $util.Input<string>, key: string, opts?: $util.CustomResourceOptions): aws.s3.BucketObjectv2 {
  return new aws.s3.BucketObjectv2(
    name,
    { bucket, key, contentType: "application/json", content: JSON.stringify(observeMarker(new Date(), "deploy", "first deploy")) },
    { ...opts, ignoreChanges: ["content", "contentBase64", "source", "etag"] },
  );
}
