/**
 * Per-account, per-region API rate limits: AWS's token buckets for the calls the sandbox simulates, refilled on the
 * sandbox clock, and the SDK's backoff between retries, slept on that same clock.
 *
 * Why: against AWS a fleet of accounts runs at the speed its token buckets allow (EC2 CreateSnapshot refills 5 tokens
 * a second per account and region, RDS 12 for the whole API), and a burst beyond a bucket is answered with the
 * service's throttling error, which the SDK retries after a backoff. A sandbox without buckets lets any burst through
 * in zero time, so neither a throttle nor the wall time a fleet needs could be seen in a test or a bench.
 *
 * Each row of RATE_LIMITS cites its source. `basis` says how sure it is: "documented" (the page states the bucket
 * and its refill), "observed" (reported by users or older documentation, not on a current AWS page), "assumed" (the
 * page gives a sustained rate but no burst: the bucket then holds one second of the rate).
 *
 * Buckets start full and are keyed by account × region × service × bucket (× S3 prefix); Route 53's is global.
 * The account is the one the call is made in (`CommandContext.accountId`): "the limits are applied to the account to
 * which the calling credentials belong" (https://repost.aws/questions/QUtQIXKqDSSguiOiPzPNepIw).
 */
import type { SandboxClock } from "./clock.ts";
import type { CommandContext } from "./engine.ts";
import { isSdkThrottling } from "./errors.ts";

export { isSdkThrottling };

export type RateBasis = "documented" | "observed" | "assumed";

export interface RateLimit {
  /** Tokens the bucket holds when full: the burst. */
  capacity: number;
  /** Tokens added per second, up to `capacity`. */
  refillPerSecond: number;
}

export interface RateLimitRow extends RateLimit {
  /** The sandbox's service name (`rds`, `ec2`, `s3`, ...). */
  service: string;
  /** The bucket's name within the service, as counters and overrides show it. */
  id: string;
  /** Commands this row covers: names, a pattern, or "*" (every command of the service no earlier row covers). */
  commands: readonly string[] | RegExp | "*";
  /** "action": each command has its own bucket of this size (EC2: "each API is evaluated individually"); "shared": one bucket for all. */
  per: "action" | "shared";
  /** "region" (default): account × region; "global": account only (Route 53); "prefix": account × region × S3 bucket/prefix. */
  scope?: "region" | "global" | "prefix";
  /** EC2: the row applies only to a call with neither a filter nor pagination. */
  unfilteredOnly?: boolean;
  /** Rates that differ by region (SNS Publish). */
  byRegion?: Readonly<Record<string, RateLimit>>;
  basis: RateBasis;
  source: string;
  note?: string;
}

const EC2 = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html";
const RDS = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html";
const S3 = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html";
const ROUTE53 = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests";
const CLOUDWATCH = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html";
const SNS = "https://docs.aws.amazon.com/general/latest/gr/sns.html";
const SECRETS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html";
const LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html";
const STS = "https://repost.aws/knowledge-center/iam-sts-throttling-error";
const DATA_API = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html";

const perSecond = (rate: number): RateLimit => ({ capacity: rate, refillPerSecond: rate });

/** SNS Publish per account and region, standard topics (the SNS quotas table; bucket of one second assumed). */
const SNS_PUBLISH: Record<string, RateLimit> = {
  "us-east-1": perSecond(30_000),
  "us-west-2": perSecond(9_000),
  "eu-west-1": perSecond(9_000),
  ...Object.fromEntries(
    ["us-east-2", "us-west-1", "ap-south-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "eu-central-1"].map((r) => [
      r,
      perSecond(1_500),
    ]),
  ),
};

/**
 * The table. Rows are matched in order for a service; the first whose commands (and `unfilteredOnly`) match wins.
 * A service with no row is not limited.
 */
export const RATE_LIMITS: readonly RateLimitRow[] = [
  // EC2: per account, per region, per API action; the category gives the bucket's size.
  {
    service: "ec2",
    id: "unfiltered",
    commands: [
      "DescribeInstances",
      "DescribeInstanceStatus",
      "DescribeNetworkInterfaces",
      "DescribeSecurityGroups",
      "DescribeSnapshots",
      "DescribeSpotInstanceRequests",
      "DescribeVolumes",
    ],
    per: "action",
    unfilteredOnly: true,
    capacity: 50,
    refillPerSecond: 10,
    basis: "documented",
    source: EC2,
    note: "Unfiltered and unpaginated non-mutating actions: requested without a filter or pagination, they use this smaller bucket",
  },
  {
    service: "ec2",
    id: "tags",
    commands: ["CreateTags", "DeleteTags"],
    per: "action",
    capacity: 100,
    refillPerSecond: 10,
    basis: "documented",
    source: EC2,
    note: "uncategorized actions",
  },
  {
    service: "ec2",
    id: "snapshots-volumes",
    commands: [
      "CreateSnapshot",
      "CreateSnapshots",
      "DeleteSnapshot",
      "CreateVolume",
      "DeleteVolume",
      "DeregisterImage",
      "ModifySnapshotAttribute",
      "ModifyImageAttribute",
    ],
    per: "action",
    capacity: 100,
    refillPerSecond: 5,
    basis: "documented",
    source: EC2,
    note: "uncategorized actions",
  },
  {
    service: "ec2",
    id: "copy-image",
    commands: ["CopyImage"],
    per: "action",
    capacity: 100,
    refillPerSecond: 1,
    basis: "documented",
    source: EC2,
    note: "uncategorized action",
  },
  {
    service: "ec2",
    id: "non-mutating",
    commands: /^(Describe|List|Search|Get)/,
    per: "action",
    capacity: 100,
    refillPerSecond: 20,
    basis: "documented",
    source: EC2,
  },
  {
    service: "ec2",
    id: "mutating",
    commands: "*",
    per: "action",
    capacity: 50,
    refillPerSecond: 5,
    basis: "documented",
    source: EC2,
    note: "CopySnapshot, LockSnapshot and every mutating action not listed above",
  },
  // RDS: "up to 300 requests in a burst and a sustained 12 requests per second" per account and region.
  {
    service: "rds",
    id: "api",
    commands: "*",
    per: "shared",
    capacity: 300,
    refillPerSecond: 12,
    basis: "documented",
    source: RDS,
    note: "the page states the account's limit, not a bucket per API: modelled as one bucket for the whole RDS API (the stricter reading)",
  },
  {
    service: "rdsData",
    id: "api",
    commands: "*",
    per: "shared",
    ...perSecond(1_000),
    basis: "assumed",
    source: DATA_API,
    note: "'The maximum number of requests per second is 1,000'; no burst stated",
  },
  // S3 scales per partitioned prefix: "at least 3,500 PUT/COPY/POST/DELETE or 5,500 GET/HEAD requests per second per partitioned prefix".
  {
    service: "s3",
    id: "write",
    commands: ["PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "PostObject"],
    per: "shared",
    scope: "prefix",
    ...perSecond(3_500),
    basis: "assumed",
    source: S3,
    note: "per bucket and prefix (the key up to its last /); no burst stated; S3 partitions further under sustained load, which is not modelled",
  },
  {
    service: "s3",
    id: "read",
    commands: "*",
    per: "shared",
    scope: "prefix",
    ...perSecond(5_500),
    basis: "assumed",
    source: S3,
    note: "GET/HEAD (and LIST) per bucket and prefix; no burst stated",
  },
  // Route 53: "five requests per second per AWS account" for the whole API.
  {
    service: "route53",
    id: "api",
    commands: "*",
    per: "shared",
    scope: "global",
    ...perSecond(5),
    basis: "assumed",
    source: ROUTE53,
    note: "5 requests per second per account is documented; no burst stated",
  },
  {
    service: "cloudwatch",
    id: "GetMetricData",
    commands: ["GetMetricData"],
    per: "shared",
    ...perSecond(50),
    basis: "assumed",
    source: CLOUDWATCH,
    note: "50 TPS; no burst stated",
  },
  {
    service: "cloudwatch",
    id: "GetMetricStatistics",
    commands: ["GetMetricStatistics"],
    per: "shared",
    ...perSecond(400),
    basis: "assumed",
    source: CLOUDWATCH,
    note: "400 TPS; no burst stated",
  },
  {
    service: "cloudwatch",
    id: "DescribeAlarms",
    commands: ["DescribeAlarms"],
    per: "shared",
    ...perSecond(9),
    basis: "assumed",
    source: CLOUDWATCH,
    note: "9 TPS; no burst stated",
  },
  {
    service: "cloudwatch",
    id: "PutMetricData",
    commands: ["PutMetricData"],
    per: "shared",
    ...perSecond(150),
    basis: "observed",
    source: CLOUDWATCH,
    note: "150 TPS as older versions of the page gave it; not confirmed against the current page",
  },
  {
    service: "sns",
    id: "Publish",
    commands: ["Publish", "PublishBatch"],
    per: "shared",
    ...perSecond(300),
    byRegion: SNS_PUBLISH,
    basis: "assumed",
    source: SNS,
    note: "messages per second by region (30,000 us-east-1; 9,000 us-west-2, eu-west-1; 1,500 eight more; 300 elsewhere); no burst stated",
  },
  {
    service: "secretsManager",
    id: "GetSecretValue",
    commands: ["GetSecretValue"],
    per: "shared",
    ...perSecond(10_000),
    basis: "assumed",
    source: SECRETS,
    note: "10,000 per second; no burst stated; cross-account reads count against the caller's account",
  },
  {
    service: "lambda",
    id: "Invoke",
    commands: ["Invoke"],
    per: "shared",
    ...perSecond(10_000),
    basis: "assumed",
    source: LAMBDA,
    note: "synchronous invocations: 10 per second per unit of concurrency (1,000 by default); concurrency itself is not modelled",
  },
  {
    service: "sts",
    id: "api",
    commands: "*",
    per: "shared",
    ...perSecond(600),
    basis: "observed",
    source: STS,
    note: "STS throttles with `Throttling: Rate exceeded` (400) per account and region; 600 requests per second is the figure commonly reported, not found on an AWS page",
  },
];

/** Overrides by service (`"rds"`) or service and bucket id (`"ec2:snapshots-volumes"`); `false` turns a service or bucket off. */
export type RateLimitOverrides = Readonly<Record<string, Partial<RateLimit> | false>>;

export interface RateLimitsOptions {
  overrides?: RateLimitOverrides;
}

/** The bucket a call draws from, and its size. */
export interface BucketRef {
  /** `<service>:<row id>` or, per action, `<service>:<row id>:<Command>`. */
  bucket: string;
  /** The full key: account|region|bucket (|prefix). */
  key: string;
  limit: RateLimit;
  row: RateLimitRow;
}

export interface CallSpec {
  service: string;
  command: string;
  region: string;
  /** Default: the only account of the calls. */
  account?: string;
  input?: unknown;
  /** How many such calls (default 1). */
  count?: number;
}

function matches(row: RateLimitRow, command: string, input: unknown): boolean {
  const { commands } = row;
  const named = commands === "*" || (commands instanceof RegExp ? commands.test(command) : commands.includes(command));
  return named && (!row.unfilteredOnly || isUnfilteredUnpaginated(input));
}

/** EC2: a describe call with neither a filter nor pagination (MaxResults / NextToken) uses the smaller bucket. */
export function isUnfilteredUnpaginated(input: unknown): boolean {
  const i = (input ?? {}) as { Filters?: unknown[]; MaxResults?: unknown; NextToken?: unknown };
  return !(i.Filters?.length || i.MaxResults !== undefined || i.NextToken !== undefined);
}

function s3Prefix(command: string, input: unknown): string {
  const i = (input ?? {}) as { Bucket?: string; Key?: string; Prefix?: string };
  const path = command.startsWith("List") ? (i.Prefix ?? "") : (i.Key ?? "");
  const slash = path.lastIndexOf("/");
  return `${i.Bucket ?? ""}/${slash >= 0 ? path.slice(0, slash + 1) : ""}`;
}

function resolveLimit(row: RateLimitRow, region: string, overrides: RateLimitOverrides | undefined): RateLimit | undefined {
  const base = row.byRegion?.[region] ?? { capacity: row.capacity, refillPerSecond: row.refillPerSecond };
  const bySvc = overrides?.[row.service];
  const byRow = overrides?.[`${row.service}:${row.id}`];
  if (bySvc === false || byRow === false) return undefined;
  return { ...base, ...bySvc, ...byRow };
}

/** The bucket a call draws from under the table (and overrides); undefined when the call is not limited. */
export function bucketFor(
  call: { service: string; command: string; region: string; account: string; input?: unknown },
  overrides?: RateLimitOverrides,
): BucketRef | undefined {
  const row = RATE_LIMITS.find((r) => r.service === call.service && matches(r, call.command, call.input));
  if (!row) return undefined;
  const limit = resolveLimit(row, call.region, overrides);
  if (!limit) return undefined;
  const bucket = row.per === "action" ? `${row.service}:${row.id}:${call.command}` : `${row.service}:${row.id}`;
  const scope = row.scope ?? "region";
  const where = scope === "global" ? "global" : call.region;
  const key = `${call.account}|${where}|${bucket}${scope === "prefix" ? `|${s3Prefix(call.command, call.input)}` : ""}`;
  return { bucket, key, limit, row };
}

export interface MinimumTime {
  /** The least wall time, in ms, in which every call can be answered without a throttle: buckets start full, run in parallel. */
  ms: number;
  /** The bucket that sets it (undefined when nothing waits). */
  bottleneck?: { key: string; bucket: string; calls: number; capacity: number; refillPerSecond: number };
  /** Every bucket the calls draw from, with its count and its own minimum. */
  buckets: Array<{ key: string; bucket: string; calls: number; ms: number }>;
}

/**
 * The minimum wall time a multiset of calls needs under the limits: for each bucket, the n-th call can go at
 * `(n - capacity) / refill` seconds at the earliest, so a bucket drawn `n` times needs `max(0, n - capacity) / refill`;
 * buckets are independent, so the calls need the largest of these. Pure: no sandbox, no clock.
 */
export function minimumWallTime(calls: Iterable<CallSpec>, options: RateLimitsOptions = {}): MinimumTime {
  const counts = new Map<string, { ref: BucketRef; calls: number }>();
  for (const c of calls) {
    const ref = bucketFor({ ...c, account: c.account ?? "" }, options.overrides);
    if (!ref) continue;
    const entry = counts.get(ref.key) ?? { ref, calls: 0 };
    entry.calls += c.count ?? 1;
    counts.set(ref.key, entry);
  }
  const buckets = [...counts.values()].map(({ ref, calls: n }) => ({
    key: ref.key,
    bucket: ref.bucket,
    calls: n,
    ms: (Math.max(0, n - ref.limit.capacity) / ref.limit.refillPerSecond) * 1000,
    limit: ref.limit,
  }));
  const worst = buckets.reduce<(typeof buckets)[number] | undefined>((a, b) => (a === undefined || b.ms > a.ms ? b : a), undefined);
  return {
    ms: worst?.ms ?? 0,
    ...(worst && worst.ms > 0
      ? {
          bottleneck: {
            key: worst.key,
            bucket: worst.bucket,
            calls: worst.calls,
            capacity: worst.limit.capacity,
            refillPerSecond: worst.limit.refillPerSecond,
          },
        }
      : {}),
    buckets: buckets.map(({ key, bucket, calls: n, ms }) => ({ key, bucket, calls: n, ms })),
  };
}

// The SDK's standard retry strategy (@smithy/core util-retry, as installed: StandardRetryStrategy with the
// retries-2026 config): a retry after a throttling error waits random × min(1000 ms × 2^retries, 20 s), after any
// other retryable error random × min(50 ms × 2^retries, 20 s); each retry costs retry capacity (5 for throttling,
// 14 otherwise) out of 500 per client, a success gives back its retry's cost (or 1), and with too little capacity
// the error reaches the caller without a retry.
const THROTTLING_DELAY_BASE_MS = 1_000;
const DEFAULT_DELAY_BASE_MS = 50;
const MAXIMUM_RETRY_DELAY_MS = 20_000;
const INITIAL_RETRY_CAPACITY = 500;
const THROTTLING_RETRY_COST = 5;
const RETRY_COST = 14;
const NO_RETRY_INCREMENT = 1;
/** mulberry32: a seeded generator, so the jitter (and every result) is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Bucket {
  tokens: number;
  atMs: number;
  limit: RateLimit;
}

/** What `sb.rateLimits` shows. */
export interface RateLimitsView {
  /** Throttles answered by a bucket, per `service:Command`. */
  throttles(): Record<string, number>;
  /** Throttles per bucket key (account|region|bucket). */
  throttlesByBucket(): Record<string, number>;
  /** Tokens left in a call's bucket now (full when it was never drawn); undefined when the call is not limited. */
  tokens(call: { service: string; command: string; region: string; account?: string; input?: unknown }): number | undefined;
  /** Retries the emulated SDK refused because its client's retry capacity ran out (the error then reached the caller). */
  readonly retryCapacityRefusals: number;
  /** Simulated time the emulated SDK slept in backoffs, in ms, summed over calls (they overlap when calls run concurrently). */
  readonly backoffMs: number;
}

/**
 * The buckets of one sandbox, and the SDK's backoff on its clock. The engine asks `take` before each attempt and
 * `beforeRetry` before each emulated SDK retry.
 */
export class RateLimiter implements RateLimitsView {
  private readonly buckets = new Map<string, Bucket>();
  private readonly byCall = new Map<string, number>();
  private readonly byBucket = new Map<string, number>();
  private readonly capacity = new WeakMap<object, number>();
  /** The throttling errors the buckets answered: their retries sleep on the clock. */
  private readonly answered = new WeakSet<object>();
  private readonly random = seeded(0x5eed);
  private clockMovable = true;
  retryCapacityRefusals = 0;
  backoffMs = 0;
  private readonly clock: SandboxClock;
  private readonly overrides: RateLimitOverrides | undefined;
  private readonly defaultAccount: string;

  constructor(clock: SandboxClock, defaultAccount: string, options: RateLimitsOptions = {}) {
    this.clock = clock;
    this.defaultAccount = defaultAccount;
    this.overrides = options.overrides;
  }

  /** Draw a token for this call now; false (and a throttle counted) when its bucket is empty. */
  take(ctx: CommandContext, input: unknown): boolean {
    const ref = bucketFor({ service: ctx.service, command: ctx.command, region: ctx.region, account: ctx.accountId, input }, this.overrides);
    if (!ref) return true;
    const b = this.refilled(ref, ctx.nowMs);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    const name = `${ctx.service}:${ctx.command}`;
    this.byCall.set(name, (this.byCall.get(name) ?? 0) + 1);
    this.byBucket.set(ref.key, (this.byBucket.get(ref.key) ?? 0) + 1);
    return false;
  }

  /** The error the call's service answers when its bucket is empty (its `faultFor("throttling")`, as `inject` gives). */
  throttleError(ctx: CommandContext, input: unknown): Error {
    const err = ctx.core.service(ctx.service).faultFor("throttling", ctx, input);
    if (!(err instanceof Error)) throw new Error(`sandbox: ${ctx.service} has no throttling error`);
    this.answered.add(err);
    return err;
  }

  private refilled(ref: BucketRef, nowMs: number): Bucket {
    let b = this.buckets.get(ref.key);
    if (!b) {
      b = { tokens: ref.limit.capacity, atMs: nowMs, limit: ref.limit };
      this.buckets.set(ref.key, b);
    } else if (nowMs > b.atMs) {
      b.tokens = Math.min(b.limit.capacity, b.tokens + ((nowMs - b.atMs) / 1000) * b.limit.refillPerSecond);
      b.atMs = nowMs;
    }
    return b;
  }

  /**
   * The emulated SDK is about to retry `err` (retry number `retries` + 1) for `client`: charge the client's retry
   * capacity and, when a bucket answered `err`, sleep the backoff on the sandbox clock, from when the failed attempt
   * started, so concurrent calls' sleeps overlap instead of adding up. The retries of an injected error stay
   * immediate, as the sandbox has always retried them (tests that inject keep their exact timestamps); their backoff
   * is still drawn and counted in `backoffMs`. Answers the capacity charged, or undefined when none is left (the SDK
   * then gives the error to the caller without a retry).
   */
  beforeRetry(client: object, err: unknown, retries: number, attemptStartMs: number): number | undefined {
    const throttling = isSdkThrottling(err);
    const cost = throttling ? THROTTLING_RETRY_COST : RETRY_COST;
    const left = this.capacity.get(client) ?? INITIAL_RETRY_CAPACITY;
    if (left < cost) {
      this.retryCapacityRefusals += 1;
      return undefined;
    }
    this.capacity.set(client, left - cost);
    const base = throttling ? THROTTLING_DELAY_BASE_MS : DEFAULT_DELAY_BASE_MS;
    const delay = Math.floor(this.random() * Math.min(base * 2 ** retries, MAXIMUM_RETRY_DELAY_MS));
    this.backoffMs += delay;
    const wake = attemptStartMs + delay;
    if (this.clockMovable && this.answered.has(err as object) && wake > this.clock.nowMs()) {
      try {
        this.clock.set(wake);
      } catch {
        // An external clock cannot be moved: retries then go at once, as without rate limits.
        this.clockMovable = false;
      }
    }
    return cost;
  }

  /** A call succeeded: its client gets back the cost of the call's last retry, or 1 (the SDK's recordSuccess). */
  onSuccess(client: object, lastRetryCost: number | undefined): void {
    const left = this.capacity.get(client) ?? INITIAL_RETRY_CAPACITY;
    this.capacity.set(client, Math.min(INITIAL_RETRY_CAPACITY, left + (lastRetryCost ?? NO_RETRY_INCREMENT)));
  }

  /** A client's retry capacity left (500 when new). */
  retryCapacity(client: object): number {
    return this.capacity.get(client) ?? INITIAL_RETRY_CAPACITY;
  }

  throttles(): Record<string, number> {
    return Object.fromEntries(this.byCall);
  }

  throttlesByBucket(): Record<string, number> {
    return Object.fromEntries(this.byBucket);
  }

  tokens(call: { service: string; command: string; region: string; account?: string; input?: unknown }): number | undefined {
    const ref = bucketFor({ ...call, account: call.account ?? this.defaultAccount }, this.overrides);
    if (!ref) return undefined;
    const b = this.buckets.get(ref.key);
    if (!b) return ref.limit.capacity;
    const now = this.clock.nowMs();
    return Math.min(b.limit.capacity, b.tokens + (Math.max(0, now - b.atMs) / 1000) * b.limit.refillPerSecond);
  }
}
