import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { s3 } from "./clients.ts";
import type { BucketRef } from "./s3.ts";

/**
 * Reading saved run reports and writing the weekly HTML report (runbooks/weekly-report/). Its IAM grants are its
 * own, narrower than the Reports link's (stacks/iam-scopes.ts): list under `reports/`, read `reports/*`, write
 * `reports/weekly/*`.
 */

/**
 * Every key under `prefix`, in key order, following `NextContinuationToken` while `IsTruncated`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: at most 1,000 keys a page). Stops once
 * `limit` keys are in hand; `truncated` says more were there.
 */
export async function listReportKeys(
  ref: BucketRef,
  prefix: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ keys: string[]; pages: number; truncated: boolean }> {
  const keys: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await s3(ref.region).send(new ListObjectsV2Command({ Bucket: ref.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    pages++;
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token && keys.length < limit);
  return { keys: keys.slice(0, limit), pages, truncated: keys.length > limit || token !== undefined };
}

/** One object's body as text, with its size in bytes. */
export async function readReportText(ref: BucketRef, key: string): Promise<{ text: string; bytes: number }> {
  const out = await s3(ref.region).send(new GetObjectCommand({ Bucket: ref.bucket, Key: key }));
  const text = await out.Body!.transformToString();
  return { text, bytes: Buffer.byteLength(text) };
}

/** Write an HTML document (UTF-8), so the console's Open shows it as a page. */
export async function putHtml(ref: BucketRef, key: string, html: string): Promise<void> {
  await s3(ref.region).send(new PutObjectCommand({ Bucket: ref.bucket, Key: key, Body: html, ContentType: "text/html; charset=utf-8" }));
}
