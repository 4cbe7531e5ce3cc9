/// <reference path="../.sst/platform/config.d.ts" />
import { REPORTS_LIST_ACTIONS, REPORTS_OBJECT_ACTIONS } from "./iam.ts";
import { NONCURRENT_VERSION_DAYS, REPORT_RETENTION_DAYS, WORKING_STATE_DAYS } from "./patterns.ts";
import { PRUNE_OBSERVE_KEY } from "../core/observe.ts";
import { observeStart } from "./observe-start.ts";

export type ReportsLink = sst.Linkable<{ name: $util.Output<string> }>;

export interface Storage {
  bucket: sst.aws.Bucket;
  /** What functions link to: `Resource.Reports.name`, with only GetObject/PutObject/ListBucket. */
  link: ReportsLink;
}

/**
 * The bucket for run reports, manifests, latches and alert state: versioned (a latch overwritten by
 * mistake can be recovered), encrypted at rest, never public, old reports expired.
 *
 * Functions do not link the Bucket component itself: its link grants `s3:*`. They link the
 * `Reports` Linkable, which carries the bucket name and the three object actions they use.
 */
export function storage(production: boolean): Storage {
  const bucket = new sst.aws.Bucket("ReportsBucket", {
    versioning: true,
    enforceHttps: true,
    cors: false,
    lifecycle: [
      { id: "expire-old-reports", prefix: "reports/", expiresIn: `${REPORT_RETENTION_DAYS} days` },
      { id: "expire-claims", prefix: "claims/", expiresIn: `${WORKING_STATE_DAYS} days` },
      { id: "expire-prune-ledgers", prefix: "state/prune/", expiresIn: `${WORKING_STATE_DAYS} days` },
    ],
    transform: {
      // SST creates buckets with forceDestroy; a production bucket must never be emptied by `sst remove`.
      bucket: (args) => {
        args.forceDestroy = !production;
      },
      lifecycle: (args) => {
        args.rules = $output(args.rules ?? []).apply((rules) => [
          ...rules,
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ]);
      },
    },
  });

  new aws.s3.BucketServerSideEncryptionConfiguration("ReportsBucketEncryption", {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });

  observeStart("ReportsObserveStart", bucket.name, PRUNE_OBSERVE_KEY);

  const link = new sst.Linkable("Reports", {
    properties: { name: bucket.name },
    include: [
      sst.aws.permission({ actions: [...REPORTS_OBJECT_ACTIONS], resources: [$interpolate`${bucket.arn}/*`] }),
      sst.aws.permission({ actions: [...REPORTS_LIST_ACTIONS], resources: [bucket.arn] }),
    ],
  });
  return { bucket, link };
}
