/**
 * The AWS list prices `npm run cost-to-run` multiplies by (core/run-cost.ts), one row per billed unit.
 *
 * Prices of US East (N. Virginia), Europe (Ireland) and Europe (Frankfurt), the example's regions, where these
 * three agree; other regions can differ (the pricing pages have a table per region). No free tier is applied:
 * a team's other workloads usually use it up. `confirmed: false` marks a price this table could not confirm
 * on the pricing page when it was read (the figure is the long-standing list price; check it before relying
 * on it).
 */

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  url: string;
  /** When the page was read (YYYY-MM-DD). */
  read: string;
  confirmed: boolean;
  note?: string;
}

const READ = "2026-11-30";

export const PRICES = {
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: "GB-second (Arm, first tier)",
    url: "https://aws.amazon.com/lambda/pricing/",
    read: READ,
    confirmed: false,
    note: "the US East Arm rate was confirmed (first 7.5 billion GB-s); Ireland and Frankfurt not shown in what was read",
  },
  lambdaRequest: {
    usd: 0.2 / 1_000_000,
    unit: "request",
    url: "https://aws.amazon.com/lambda/pricing/",
    read: READ,
    confirmed: false,
    note: "$0.20 per 1M requests; not shown in what was read",
  },
  stepFunctionsTransition: {
    usd: 0.025 / 1000,
    unit: "state transition (Standard)",
    url: "https://aws.amazon.com/step-functions/pricing/",
    read: READ,
    confirmed: true,
    note: "$0.0250 per 1,000 in US East (N. Virginia), Europe (Ireland) and Europe (Frankfurt); retries count as transitions",
  },
  schedulerInvocation: {
    usd: 1 / 1_000_000,
    unit: "EventBridge Scheduler invocation",
    url: "https://aws.amazon.com/eventbridge/pricing/",
    read: READ,
    confirmed: false,
    note: "$1.00 per 1M after 14M free a month; not shown in what was read",
  },
  s3Put: {
    usd: 0.005 / 1000,
    unit: "S3 Standard PUT request",
    url: "https://aws.amazon.com/s3/pricing/",
    read: READ,
    confirmed: false,
    note: "$0.005 per 1,000 PUT, COPY, POST, LIST; the per-region table was not in what was read",
  },
  s3Get: {
    usd: 0.0004 / 1000,
    unit: "S3 Standard GET request",
    url: "https://aws.amazon.com/s3/pricing/",
    read: READ,
    confirmed: false,
    note: "$0.0004 per 1,000 GET, SELECT and other requests; the per-region table was not in what was read",
  },
  s3StorageGbMonth: {
    usd: 0.023,
    unit: "GB-month (S3 Standard, first 50 TB)",
    url: "https://aws.amazon.com/s3/pricing/",
    read: READ,
    confirmed: false,
    note: "$0.023 is the US East rate quoted by third parties; Ireland lists the same, not confirmed here",
  },
  costExplorerRequest: {
    usd: 0.01,
    unit: "Cost Explorer API request",
    url: "https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/",
    read: READ,
    confirmed: true,
    note: "each request, paginated pages included",
  },
  cloudwatchCustomMetric: {
    usd: 0.3,
    unit: "custom metric-month (first 10,000)",
    url: "https://aws.amazon.com/cloudwatch/pricing/",
    read: READ,
    confirmed: false,
    note: "US East rate, from third-party summaries of the page; the page's tabs were not in what was read",
  },
  cloudwatchAlarm: {
    usd: 0.1,
    unit: "standard-resolution alarm metric-month",
    url: "https://aws.amazon.com/cloudwatch/pricing/",
    read: READ,
    confirmed: false,
    note: "US East rate, from third-party summaries of the page",
  },
  cloudwatchPutMetricData: {
    usd: 0.01 / 1000,
    unit: "PutMetricData request",
    url: "https://aws.amazon.com/cloudwatch/pricing/",
    read: READ,
    confirmed: false,
    note: "$0.01 per 1,000 API requests",
  },
  interRegionTransferGb: {
    usd: 0.02,
    unit: "GB transferred to another region",
    url: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
    read: READ,
    confirmed: false,
    note: "$0.02/GB out of US East, Ireland or Frankfurt to another AWS region; snapshot copies are billed at this rate",
  },
} as const satisfies Record<string, Price>;

export type PriceKey = keyof typeof PRICES;
