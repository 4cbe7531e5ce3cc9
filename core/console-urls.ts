/**
 * AWS console addresses of what the runs leave behind, for the links in their messages.
 *
 * The S3 console opens one object's page at `https://s3.console.aws.amazon.com/s3/object/<bucket>?region=<region>&prefix=<key>`.
 * AWS does not document the console's addresses as an API; this is the shape the console itself uses and that tools
 * linking into it build (https://github.com/Interfacelab/ilab-media-tools/pull/24, object page with `?region=`;
 * https://github.com/datahub-project/datahub/pull/19817, "the console couldn't locate the bucket" without `region`).
 * test/unit/core/console-urls.test.ts pins it, so a change of the console is a one-line fix here.
 */

/** The bucket and region of an object, as adapters/s3.ts BucketRef carries them. */
export interface ObjectLocation {
  bucket: string;
  region: string;
}

/**
 * The S3 console page of one object. Each segment of the key is percent-encoded and the slashes kept, so the
 * URL carries no space, `|`, `<` or `>` and can stand inside a Slack link (`<url|label>`) as it is.
 *
 * @example
 *   s3ObjectConsoleUrl({ bucket: "ops-reports", region: "eu-west-1" }, "reports/backup/2026-04-19/run.json")
 *   // "https://s3.console.aws.amazon.com/s3/object/ops-reports?region=eu-west-1&prefix=reports/backup/2026-04-19/run.json"
 */
export function s3ObjectConsoleUrl(location: ObjectLocation, key: string): string {
  if (!location.bucket) throw new Error("s3ObjectConsoleUrl: bucket is empty");
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(location.region)) throw new Error(`s3ObjectConsoleUrl: region ${JSON.stringify(location.region)} is not a region name`);
  const prefix = key.split("/").map(encodeURIComponent).join("/");
  return `https://s3.console.aws.amazon.com/s3/object/${encodeURIComponent(location.bucket)}?region=${location.region}&prefix=${prefix}`;
}
