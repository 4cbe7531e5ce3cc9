import { mockClient } from "aws-sdk-client-mock";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";

/**
 * S3 with real conditional-write semantics (If-None-Match: *, If-Match: etag) on an in-memory map.
 * `conflicts`: that many If-None-Match writes fail with 409 ConditionalRequestConflict and write nothing
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
 */
export function mockConditionalS3(options: { conflicts?: number } = {}) {
  let conflicts = options.conflicts ?? 0;
  const s3 = mockClient(S3Client);
  const objects = new Map<string, { body: string; etag: string }>();
  let seq = 0;
  const precondition = () =>
    new S3ServiceException({
      name: "PreconditionFailed",
      $fault: "client",
      $metadata: { httpStatusCode: 412 },
      message: "At least one of the pre-conditions you specified did not hold",
    });
  s3.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: string; IfNoneMatch?: string; IfMatch?: string }) => {
    const cur = objects.get(input.Key);
    if (input.IfNoneMatch === "*" && conflicts > 0) {
      conflicts--;
      throw new S3ServiceException({
        name: "ConditionalRequestConflict",
        $fault: "client",
        $metadata: { httpStatusCode: 409 },
        message: "A conflicting conditional operation is currently in progress against this resource. Please try again.",
      });
    }
    if (input.IfNoneMatch === "*" && cur) throw precondition();
    if (input.IfMatch !== undefined && (!cur || cur.etag !== input.IfMatch)) throw precondition();
    const etag = `"${++seq}"`;
    objects.set(input.Key, { body: String(input.Body), etag });
    return { ETag: etag };
  });
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const cur = objects.get(input.Key);
    if (!cur) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } });
    return { ETag: cur.etag, Body: { transformToString: async () => cur.body } };
  });
  return { s3, objects };
}

export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}
