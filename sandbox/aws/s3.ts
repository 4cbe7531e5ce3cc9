/**
 * S3 simulation: buckets, objects, ETags and conditional writes — what run reports, manifests,
 * locks and failover latches rely on.
 *
 * - PutObject with `IfNoneMatch: "*"` on an existing key → 412 PreconditionFailed; `IfMatch` with a
 *   stale ETag → 412; `IfMatch` on a missing key → 404 NoSuchKey; any other If-None-Match value →
 *   501 NotImplemented (S3 supports only `*` on writes).
 * - GetObject Body is a one-shot stream with the SDK's `transformToString()` /
 *   `transformToByteArray()` / `transformToWebStream()`.
 * - ListObjectsV2: lexicographic keys, MaxKeys default and cap 1000, Delimiter → CommonPrefixes,
 *   opaque ContinuationToken, StartAfter; `Contents` absent when empty.
 * - Buckets must exist (createSandbox({ buckets }) or sb.s3.createBucket): NoSuchBucket otherwise.
 *   Regions are not checked (S3 would redirect a wrong-region client with a 301).
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CommandClass, CommandContext, CommandHandler, SandboxCore, ServiceSim } from "./engine.ts";
import { s3Error, type FaultKind } from "./errors.ts";

interface StoredObject {
  body: Uint8Array;
  etag: string;
  lastModifiedMs: number;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface S3ObjectView {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentType?: string;
  /** The body decoded as UTF-8. */
  body: string;
}

export interface S3Sim extends ServiceSim {
  createBucket(name: string): void;
  /** Objects of a bucket in key order, optionally under a prefix. */
  objects(bucket: string, prefix?: string): S3ObjectView[];
  text(bucket: string, key: string): string | undefined;
  json<T = unknown>(bucket: string, key: string): T | undefined;
  /** Seed an object directly (no call recorded). */
  put(bucket: string, key: string, body: string | Uint8Array, contentType?: string): string;
}

async function toBytes(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === "string") return new Uint8Array(Buffer.from(body, "utf8"));
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof Blob !== "undefined" && body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<string | Uint8Array>) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    return new Uint8Array(Buffer.concat(chunks));
  }
  throw new Error(`sandbox.s3: unsupported Body type ${Object.prototype.toString.call(body)}`);
}

/** A Node stream with the SDK's stream mixin methods, like the real GetObject Body. */
function sdkBody(bytes: Uint8Array): Readable & {
  transformToString(encoding?: BufferEncoding): Promise<string>;
  transformToByteArray(): Promise<Uint8Array>;
  transformToWebStream(): ReadableStream;
} {
  const stream = Readable.from([Buffer.from(bytes)]);
  let used = false;
  const once = () => {
    if (used) throw new Error("The stream has already been transformed.");
    used = true;
  };
  return Object.assign(stream, {
    async transformToString(encoding: BufferEncoding = "utf8") {
      once();
      return Buffer.from(bytes).toString(encoding);
    },
    async transformToByteArray() {
      once();
      return new Uint8Array(bytes);
    },
    transformToWebStream() {
      once();
      return Readable.toWeb(stream) as unknown as ReadableStream;
    },
  });
}

const etagOf = (bytes: Uint8Array) => `"${createHash("md5").update(bytes).digest("hex")}"`;

export function createS3Sim(core: SandboxCore, initialBuckets: readonly string[] = []): S3Sim {
  const buckets = new Map<string, Map<string, StoredObject>>();
  for (const b of initialBuckets) buckets.set(b, new Map());

  function bucketOf(name: string | undefined): Map<string, StoredObject> {
    const b = name === undefined ? undefined : buckets.get(name);
    if (!b) throw s3Error("NoSuchBucket", "The specified bucket does not exist");
    return b;
  }

  const put = async (
    input: { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string; IfNoneMatch?: string; IfMatch?: string; Metadata?: Record<string, string> },
    ctx: CommandContext,
  ) => {
    const b = bucketOf(input.Bucket);
    if (!input.Key) throw s3Error("InvalidArgument", "Key must not be empty");
    // "The object key name is a sequence of Unicode characters with UTF-8 encoding of up to 1,024 bytes long."
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html)
    if (Buffer.byteLength(input.Key, "utf8") > 1024) throw s3Error("KeyTooLongError", "Your key is too long");
    const body = await toBytes(input.Body);
    // The body is read before the condition is checked, as on the wire; the check and the write
    // below run without an await in between, so concurrent conditional writes serialise like S3's.
    const existing = b.get(input.Key);
    if (input.IfNoneMatch !== undefined) {
      if (input.IfNoneMatch !== "*") throw s3Error("NotImplemented", "A header you provided implies functionality that is not implemented", 501);
      if (existing) throw s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    if (input.IfMatch !== undefined) {
      if (!existing) throw s3Error("NoSuchKey", "The specified key does not exist.");
      if (existing.etag !== input.IfMatch && existing.etag !== `"${input.IfMatch.replace(/"/g, "")}"`) {
        throw s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      }
    }
    const etag = etagOf(body);
    b.set(input.Key, {
      body,
      etag,
      lastModifiedMs: ctx.nowMs,
      ...(input.ContentType ? { contentType: input.ContentType } : {}),
      metadata: { ...(input.Metadata ?? {}) },
    });
    return { ETag: etag };
  };

  function lookup(input: { Bucket?: string; Key?: string; IfMatch?: string; IfNoneMatch?: string }, head: boolean): StoredObject {
    const b = bucketOf(input.Bucket);
    const obj = input.Key === undefined ? undefined : b.get(input.Key);
    // HEAD responses have no body, so the SDK can only report "NotFound".
    if (!obj) throw head ? s3Error("NotFound", "Not Found") : s3Error("NoSuchKey", "The specified key does not exist.");
    if (input.IfMatch !== undefined && input.IfMatch !== obj.etag) {
      throw s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    if (input.IfNoneMatch !== undefined && (input.IfNoneMatch === "*" || input.IfNoneMatch === obj.etag)) {
      throw s3Error("NotModified", "Not Modified", 304);
    }
    return obj;
  }

  const meta = (obj: StoredObject) => ({
    ETag: obj.etag,
    ContentLength: obj.body.byteLength,
    LastModified: new Date(Math.floor(obj.lastModifiedMs / 1000) * 1000),
    ...(obj.contentType ? { ContentType: obj.contentType } : {}),
    Metadata: { ...obj.metadata },
  });

  const list = (input: { Bucket?: string; Prefix?: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string; StartAfter?: string }) => {
    const b = bucketOf(input.Bucket);
    const prefix = input.Prefix ?? "";
    const max = input.MaxKeys === undefined ? 1000 : Math.min(Math.max(0, input.MaxKeys), 1000);
    let after = input.StartAfter ?? "";
    let skipPrefix: string | undefined;
    if (input.ContinuationToken !== undefined) {
      let tok: { k?: unknown; p?: unknown };
      try {
        tok = JSON.parse(Buffer.from(input.ContinuationToken, "base64url").toString("utf8")) as { k?: unknown; p?: unknown };
      } catch {
        throw s3Error("InvalidArgument", "The continuation token provided is incorrect");
      }
      if (typeof tok.k !== "string") throw s3Error("InvalidArgument", "The continuation token provided is incorrect");
      after = tok.k;
      if (tok.p === true) skipPrefix = tok.k;
    }
    const keys = [...b.keys()].filter((k) => k.startsWith(prefix) && k > after && !(skipPrefix && k.startsWith(skipPrefix))).sort();
    const contents: Array<{ Key: string; LastModified: Date; ETag: string; Size: number; StorageClass: string }> = [];
    const prefixes: string[] = [];
    let last: { k: string; p: boolean } | undefined;
    let truncated = false;
    for (const key of keys) {
      if (skipPrefix && key.startsWith(skipPrefix)) continue;
      let common: string | undefined;
      if (input.Delimiter) {
        const idx = key.indexOf(input.Delimiter, prefix.length);
        if (idx >= 0) common = key.slice(0, idx + input.Delimiter.length);
      }
      if (common !== undefined && prefixes[prefixes.length - 1] === common) continue;
      if (contents.length + prefixes.length >= max) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        last = { k: common, p: true };
        skipPrefix = common;
      } else {
        const obj = b.get(key)!;
        contents.push({
          Key: key,
          LastModified: new Date(Math.floor(obj.lastModifiedMs / 1000) * 1000),
          ETag: obj.etag,
          Size: obj.body.byteLength,
          StorageClass: "STANDARD",
        });
        last = { k: key, p: false };
      }
    }
    return {
      Name: input.Bucket,
      Prefix: prefix,
      ...(input.Delimiter ? { Delimiter: input.Delimiter } : {}),
      MaxKeys: max,
      KeyCount: contents.length + prefixes.length,
      IsTruncated: truncated,
      ...(contents.length ? { Contents: contents } : {}),
      ...(prefixes.length ? { CommonPrefixes: prefixes.map((Prefix) => ({ Prefix })) } : {}),
      ...(input.ContinuationToken !== undefined ? { ContinuationToken: input.ContinuationToken } : {}),
      ...(input.StartAfter !== undefined ? { StartAfter: input.StartAfter } : {}),
      ...(truncated && last ? { NextContinuationToken: Buffer.from(JSON.stringify(last)).toString("base64url") } : {}),
    };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [PutObjectCommand, put],
    [
      GetObjectCommand,
      (input: { Bucket?: string; Key?: string; IfMatch?: string; IfNoneMatch?: string }) => {
        const obj = lookup(input, false);
        return { ...meta(obj), Body: sdkBody(obj.body) };
      },
    ],
    [HeadObjectCommand, (input: { Bucket?: string; Key?: string; IfMatch?: string; IfNoneMatch?: string }) => meta(lookup(input, true))],
    [ListObjectsV2Command, list],
    [
      DeleteObjectCommand,
      (input: { Bucket?: string; Key?: string }) => {
        // Deleting a missing key succeeds (204), as on S3.
        if (input.Key !== undefined) bucketOf(input.Bucket).delete(input.Key);
        else bucketOf(input.Bucket);
        return {};
      },
    ],
  ];

  function faultFor(kind: FaultKind, ctx: CommandContext): Error {
    switch (kind) {
      case "throttling":
      case "quota": // S3 has no per-object quota; its capacity errors are SlowDown.
        return s3Error("SlowDown", "Please reduce your request rate.");
      case "internal":
        return s3Error("InternalError", "We encountered an internal error. Please try again.");
      case "accessDenied":
        return s3Error("AccessDenied", "Access Denied");
      case "state":
      case "alreadyExists":
        return s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      case "kms":
        return s3Error("KMS.DisabledException", `The KMS key used by ${ctx.command} is disabled.`);
      case "notFound":
        return ctx.command === "HeadObject"
          ? s3Error("NotFound", "Not Found")
          : ctx.command === "GetObject"
            ? s3Error("NoSuchKey", "The specified key does not exist.")
            : s3Error("NoSuchBucket", "The specified bucket does not exist");
    }
  }

  const view = (key: string, obj: StoredObject): S3ObjectView => ({
    key,
    size: obj.body.byteLength,
    etag: obj.etag,
    lastModified: new Date(obj.lastModifiedMs),
    ...(obj.contentType ? { contentType: obj.contentType } : {}),
    body: Buffer.from(obj.body).toString("utf8"),
  });

  return {
    service: "s3",
    clientClass: S3Client,
    commands,
    faultFor,
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Map());
    },
    objects(bucket, prefix = "") {
      const b = buckets.get(bucket);
      if (!b) throw new Error(`sandbox.s3: no bucket ${bucket}`);
      return [...b.entries()]
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
        .map(([k, o]) => view(k, o));
    },
    text(bucket, key) {
      const obj = buckets.get(bucket)?.get(key);
      return obj ? Buffer.from(obj.body).toString("utf8") : undefined;
    },
    json<T>(bucket: string, key: string) {
      const obj = buckets.get(bucket)?.get(key);
      return obj ? (JSON.parse(Buffer.from(obj.body).toString("utf8")) as T) : undefined;
    },
    put(bucket, key, body, contentType) {
      const b = buckets.get(bucket);
      if (!b) throw new Error(`sandbox.s3: no bucket ${bucket}`);
      const bytes = typeof body === "string" ? new Uint8Array(Buffer.from(body, "utf8")) : new Uint8Array(body);
      const etag = etagOf(bytes);
      b.set(key, { body: bytes, etag, lastModifiedMs: core.clock.nowMs(), ...(contentType ? { contentType } : {}), metadata: {} });
      return etag;
    },
  };
}
