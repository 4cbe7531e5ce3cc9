import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import { EC2Client } from "@aws-sdk/client-ec2";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { RDSClient } from "@aws-sdk/client-rds";
import { RDSDataClient } from "@aws-sdk/client-rds-data";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { STSClient } from "@aws-sdk/client-sts";
import { type ReadOnlyService, readOnlyPlugin } from "./read-only.ts";
import type { TargetCredentials } from "./assume-role.ts";

/**
 * AWS clients, created lazily once per container and region. Adaptive retry mode backs off on
 * throttling across concurrent calls of one client (the per-account token buckets of EC2 and RDS).
 * Tests and the sandbox mock the client classes with aws-sdk-client-mock, so the same code runs.
 *
 * Endpoints: the SDK reads AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> itself
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html); with one set, S3 is addressed
 * path-style, since AWS-compatible endpoints (localhost, LocalStack, MinIO) rarely serve `<bucket>.<host>`.
 */
const cache = new Map<string, unknown>();

/**
 * Read-only mode (`npm run plan`): every client made from now on refuses any command that is not a listed read
 * (adapters/read-only.ts), before anything is sent. Switching drops the cached clients so none escapes it.
 */
let readOnly = false;

export function setReadOnly(on: boolean): void {
  readOnly = on;
  cache.clear();
}

export function isReadOnly(): boolean {
  return readOnly;
}

function cached<T extends { middlewareStack: { use(p: ReturnType<typeof readOnlyPlugin>): void } }>(key: string, service: ReadOnlyService, make: () => T): T {
  let client = cache.get(key) as T | undefined;
  if (!client) {
    client = make();
    if (readOnly) client.middlewareStack.use(readOnlyPlugin(service));
    cache.set(key, client);
  }
  return client;
}

const common = { retryMode: "adaptive", maxAttempts: 6 } as const;

/**
 * A fleet target's clients (adapters/assume-role.ts memberCredentials): the member role's credentials, cached apart
 * from the function's own clients by the role session's key. Without a target, the function's own credentials.
 */
const targetKey = (target?: TargetCredentials): string => (target ? `|${target.key}` : "");
const targetOptions = (target?: TargetCredentials) => (target ? { credentials: target.provider } : {});

const endpointOverridden = (env: NodeJS.ProcessEnv = process.env): boolean => Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);

export const rds = (region: string, target?: TargetCredentials): RDSClient =>
  cached(`rds:${region}${targetKey(target)}`, "rds", () => new RDSClient({ region, ...common, ...targetOptions(target) }));
export const ec2 = (region: string, target?: TargetCredentials): EC2Client =>
  cached(`ec2:${region}${targetKey(target)}`, "ec2", () => new EC2Client({ region, ...common, ...targetOptions(target) }));
export const s3 = (region: string): S3Client =>
  cached(`s3:${region}`, "s3", () => new S3Client({ region, ...common, ...(endpointOverridden() ? { forcePathStyle: true } : {}) }));
/** Cost Explorer has one endpoint, in us-east-1, whatever region the function runs in. */
export const costExplorer = (): CostExplorerClient => cached("ce:us-east-1", "ce", () => new CostExplorerClient({ region: "us-east-1", ...common }));

/**
 * Route 53 is global with its control plane in us-east-1. One attempt per call: adapters/route53.ts backs off
 * itself on Throttling / PriorRequestNotComplete (5 requests/s per account), so SDK retries would multiply it.
 */
export const route53 = (): Route53Client => cached("route53:us-east-1", "route53", () => new Route53Client({ region: "us-east-1", maxAttempts: 1 }));
export const cloudwatch = (region: string): CloudWatchClient => cached(`cloudwatch:${region}`, "cloudwatch", () => new CloudWatchClient({ region, ...common }));

/** The Data API client is built on an older @smithy/types than the others (its latest release), hence the casts. */
export const rdsData = (region: string): RDSDataClient =>
  cached(`rds-data:${region}`, "rds-data", () => new RDSDataClient({ region, ...common }) as unknown as Pluggable) as unknown as RDSDataClient;
type Pluggable = { middlewareStack: { use(p: ReturnType<typeof readOnlyPlugin>): void } };
export const secretsManager = (region: string): SecretsManagerClient =>
  cached(`secretsmanager:${region}`, "secretsmanager", () => new SecretsManagerClient({ region, ...common }));
/** One attempt: an invoke that timed out may still be running, and the caller decides what a retry means. */
export const lambda = (region: string): LambdaClient => cached(`lambda:${region}`, "lambda", () => new LambdaClient({ region, maxAttempts: 1 }));

/** The pager topic's client, in the topic's region (the primary), whatever region the function runs in. */
export const sns = (region: string): SNSClient => cached(`sns:${region}`, "sns", () => new SNSClient({ region, ...common }));

/** STS in `region`, with the function's own credentials: the member roles are assumed with it (adapters/assume-role.ts). */
export const sts = (region: string): STSClient => cached(`sts:${region}`, "sts", () => new STSClient({ region, ...common }));

/**
 * Organizations, for the fleet's OU discovery: its endpoint for the commercial partition is in us-east-1, whatever
 * region the function runs in (https://docs.aws.amazon.com/general/latest/gr/ao.html).
 */
export const organizations = (): OrganizationsClient =>
  cached("organizations:us-east-1", "organizations", () => new OrganizationsClient({ region: "us-east-1", ...common }));

/** Drop cached clients (tests that change mocks between cases). */
export function resetClients(): void {
  cache.clear();
}
