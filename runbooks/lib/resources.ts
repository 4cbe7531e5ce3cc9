import { Resource } from "sst/resource";
import type { Config } from "../../schemas/config.ts";
import type { BucketRef } from "../../adapters/s3.ts";

/**
 * Linked SST resources, read at call time (SST injects them into the function's environment).
 * Link names must match `stacks/`: the bucket is `Reports`, the webhook secret `SlackWebhookUrl`.
 */
interface Linked {
  Reports?: { name: string };
  SlackWebhookUrl?: { value: string };
}

function linked(name: keyof Linked): unknown {
  try {
    return (Resource as unknown as Linked)[name];
  } catch {
    // SST's Resource proxy throws for names that were not linked to this function.
    return undefined;
  }
}

export function linkedBucket(config: Config): BucketRef {
  const bucket = linked("Reports") as Linked["Reports"];
  if (!bucket?.name) throw new Error("the Reports bucket is not linked to this function (stacks/ must link it)");
  return { bucket: bucket.name, region: config.primaryRegion };
}

export function linkedSlackUrl(): string {
  const secret = linked("SlackWebhookUrl") as Linked["SlackWebhookUrl"];
  if (!secret?.value) throw new Error("the SlackWebhookUrl secret is not linked to this function or has no value (sst secret set SlackWebhookUrl ...)");
  return secret.value;
}
