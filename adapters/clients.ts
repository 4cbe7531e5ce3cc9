import { RDSClient } from "@aws-sdk/client-rds";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import { Route53Client } from "@aws-sdk/client-route-53";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";

/**
 * AWS clients, created lazily once per container and region. Adaptive retry mode backs off on
 * throttling across concurrent calls of one client (the per-account token buckets of EC2 and RDS).
 * Tests and the sandbox mock the client classes with aws-sdk-client-mock, so the same code runs.
 */
const cache = new Map<string, unknown>();

function cached<T>(key: string, make: () => T): T {
  let client = cache.get(key) as T | undefined;
  if (!client) {
    client = make();
    cache.set(key, client);
  }
  return client;
}

const common = { retryMode: "adaptive", maxAttempts: 6 } as const;

export const rds = (region: string): RDSClient => cached(`rds:${region}`, () => new RDSClient({ region, ...common }));
export const ec2 = (region: string): EC2Client => cached(`ec2:${region}`, () => new EC2Client({ region, ...common }));
export const s3 = (region: string): S3Client => cached(`s3:${region}`, () => new S3Client({ region, ...common }));
/** Cost Explorer has one endpoint, in us-east-1, whatever region the function runs in. */
export const costExplorer = (): CostExplorerClient =>
  cached("ce:us-east-1", () => new CostExplorerClient({ region: "us-east-1", ...common }));

/**
 * Route 53 is global with its control plane in us-east-1. One attempt per call: adapters/route53.ts backs off
 * itself on Throttling / PriorRequestNotComplete (5 requests/s per account), so SDK retries would multiply it.
 */
export const route53 = (): Route53Client => cached("route53:us-east-1", () => new Route53Client({ region: "us-east-1", maxAttempts: 1 }));
export const cloudwatch = (region: string): CloudWatchClient =>
  cached(`cloudwatch:${region}`, () => new CloudWatchClient({ region, ...common }));

/** Drop cached clients (tests that change mocks between cases). */
export function resetClients(): void {
  cache.clear();
}
