/**
 * The sandbox's errors must look exactly like the ones the SDK builds from a real AWS error
 * response, or adapters classified against the sandbox would misclassify in production. Each case
 * feeds AWS's wire format for an error to a real client (custom request handler, no network, one
 * attempt) and compares the parsed exception with the sandbox's.
 */
import { Readable } from "node:stream";
import { CreateDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { DeleteSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { ec2Error, rdsError, s3Error, type SandboxServiceError } from "../../../sandbox/index.ts";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };

function wire(statusCode: number, body: string) {
  return {
    handle: async () => ({
      response: { statusCode, headers: { "x-amzn-requestid": "req-1", "content-type": "text/xml" }, body: Readable.from([Buffer.from(body)]) },
    }),
  };
}

async function parsed(send: () => Promise<unknown>): Promise<SandboxServiceError> {
  try {
    await send();
  } catch (err) {
    return err as SandboxServiceError;
  }
  throw new Error("expected an error");
}

function shape(err: SandboxServiceError) {
  return {
    class: err.constructor.name,
    name: err.name,
    message: err.message,
    fault: err.$fault,
    status: err.$metadata.httpStatusCode,
    retryable: err.$retryable,
    code: err.Code,
  };
}

const rdsXml = (code: string, message: string, type = "Sender") =>
  `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
const ec2Xml = (code: string, message: string) =>
  `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r</RequestID></Response>`;
const s3Xml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>r</RequestId></Error>`;

describe("sandbox errors match the SDK's parsing of real AWS error responses", () => {
  it.each([
    ["DBSnapshotAlreadyExists", 400, "Cannot create the snapshot because a snapshot with the identifier s already exists."],
    ["DBSnapshotNotFound", 404, "DBSnapshot not found: s"],
    ["SnapshotQuotaExceeded", 400, "Cannot copy more than 20 snapshots across regions"],
    ["InvalidDBSnapshotState", 400, "automated snapshots cannot be deleted."],
    ["InvalidDBInstanceState", 400, "not available"],
    ["InvalidDBClusterSnapshotStateFault", 400, "Only manual snapshots may be deleted."],
    ["KMSKeyNotAccessibleFault", 400, "The target KMS key [k] does not exist, is not enabled or you do not have permissions to access it."],
    ["DBInstanceNotFound", 404, "DBInstance x not found."],
    ["Throttling", 400, "Rate exceeded"],
    ["InvalidParameterValue", 400, "Must specify new KMS key for cross region encrypted snapshot copy."],
  ] as const)("RDS %s", async (code, status, message) => {
    const client = new RDSClient({ region: "eu-west-1", credentials, maxAttempts: 1, requestHandler: wire(status, rdsXml(code, message)) });

    const real = await parsed(() => client.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "a", DBSnapshotIdentifier: "b" })));
    const fake = rdsError(code, message);

    expect(shape(fake)).toEqual(shape(real));
    expect((fake as unknown as { Error: unknown }).Error).toEqual((real as unknown as { Error: unknown }).Error);
  });

  it.each([
    ["RequestLimitExceeded", 503, "Request limit exceeded."],
    ["InvalidSnapshot.InUse", 400, "The snapshot snap-1 is currently in use by ami-1"],
    ["InvalidSnapshot.NotFound", 400, "The snapshot 'snap-1' does not exist."],
    ["ResourceLimitExceeded", 400, "Too many snapshot copies in progress. The limit is 20 for this destination region."],
    ["IncorrectState", 400, "bad state"],
  ] as const)("EC2 %s", async (code, status, message) => {
    const client = new EC2Client({ region: "eu-west-1", credentials, maxAttempts: 1, requestHandler: wire(status, ec2Xml(code, message)) });

    const real = await parsed(() => client.send(new DeleteSnapshotCommand({ SnapshotId: "snap-1" })));
    const fake = ec2Error(code, message);

    expect(shape(fake)).toEqual(shape(real));
  });

  it.each([
    ["PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", "put"],
    ["NoSuchKey", 404, "The specified key does not exist.", "get"],
    ["SlowDown", 503, "Please reduce your request rate.", "get"],
  ] as const)("S3 %s", async (code, status, message, op) => {
    const client = new S3Client({ region: "eu-west-1", credentials, maxAttempts: 1, requestHandler: wire(status, s3Xml(code, message)) });

    const real = await parsed(() =>
      op === "put"
        ? client.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "x", IfNoneMatch: "*" }))
        : client.send(new GetObjectCommand({ Bucket: "b", Key: "k" })),
    );
    const fake = s3Error(code, message);

    expect(shape(fake)).toEqual(shape(real));
  });

  it("S3 HeadObject on a missing key is NotFound with no message body", async () => {
    const client = new S3Client({ region: "eu-west-1", credentials, maxAttempts: 1, requestHandler: wire(404, "") });

    const real = await parsed(() => client.send(new HeadObjectCommand({ Bucket: "b", Key: "k" })));
    const fake = s3Error("NotFound", "Not Found");

    expect([fake.constructor.name, fake.name, fake.$metadata.httpStatusCode]).toEqual([real.constructor.name, real.name, real.$metadata.httpStatusCode]);
  });
});
