/**
 * AWS errors as the SDK would surface them.
 *
 * Each error is built with the exception class the SDK client exports (so `instanceof
 * DBSnapshotAlreadyExistsFault` works), or with the service's base exception and `name` = the
 * wire code for errors the SDK does not model (`Throttling`, `RequestLimitExceeded`, every EC2
 * error, `PreconditionFailed`). The fields mirror what the SDK sets when it parses a real error
 * response (checked in test/unit/sandbox/fidelity.test.ts against the real deserializers):
 * `name`, `message`, `$fault`, `$metadata.httpStatusCode`, `$retryable` (undefined: none of these
 * errors carries the retryable trait — classify throttling by `name`), and for the query protocols
 * `Code` (wire code), `Type` and `Error: { Type, Code, Message }`.
 */
import {
  DBClusterAlreadyExistsFault,
  DBClusterNotFoundFault,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DBSubnetGroupNotFoundFault,
  InsufficientDBInstanceCapacityFault,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  InvalidDBSnapshotStateFault,
  KMSKeyNotAccessibleFault,
  RDSServiceException,
  SnapshotQuotaExceededFault,
  StorageQuotaExceededFault,
} from "@aws-sdk/client-rds";
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from "@aws-sdk/client-s3";
import { STSServiceException } from "@aws-sdk/client-sts";

/** The kinds of failure `sb.inject()` can produce; each service maps a kind to its real error per command. */
export type FaultKind = "throttling" | "quota" | "state" | "kms" | "notFound" | "alreadyExists" | "accessDenied" | "internal";

export interface ErrorMetadata {
  httpStatusCode: number;
  requestId: string;
  extendedRequestId: undefined;
  cfId: undefined;
  attempts: number;
  totalRetryDelay: number;
}

/** What every sandbox error has (the SDK's ServiceException fields). */
export type SandboxServiceError = Error & {
  $fault: "client" | "server";
  $metadata: ErrorMetadata;
  $retryable?: { throttling?: boolean };
  Code?: string;
};

let requestCounter = 0;
function metadata(status: number): ErrorMetadata {
  requestCounter += 1;
  return {
    httpStatusCode: status,
    requestId: `sandbox-${requestCounter.toString(16).padStart(8, "0")}`,
    extendedRequestId: undefined,
    cfId: undefined,
    attempts: 1,
    totalRetryDelay: 0,
  };
}

type ModeledCtor = new (opts: { message: string; $metadata: ErrorMetadata }) => Error;

// Wire code -> [SDK class, HTTP status], as in the client's error schemas (awsQueryError trait).
const RDS_MODELED: Record<string, [ModeledCtor, number]> = {
  DBSnapshotAlreadyExists: [DBSnapshotAlreadyExistsFault as unknown as ModeledCtor, 400],
  DBSnapshotNotFound: [DBSnapshotNotFoundFault as unknown as ModeledCtor, 404],
  InvalidDBSnapshotState: [InvalidDBSnapshotStateFault as unknown as ModeledCtor, 400],
  InvalidDBInstanceState: [InvalidDBInstanceStateFault as unknown as ModeledCtor, 400],
  SnapshotQuotaExceeded: [SnapshotQuotaExceededFault as unknown as ModeledCtor, 400],
  KMSKeyNotAccessibleFault: [KMSKeyNotAccessibleFault as unknown as ModeledCtor, 400],
  DBInstanceNotFound: [DBInstanceNotFoundFault as unknown as ModeledCtor, 404],
  DBClusterNotFoundFault: [DBClusterNotFoundFault as unknown as ModeledCtor, 404],
  DBClusterSnapshotAlreadyExistsFault: [DBClusterSnapshotAlreadyExistsFault as unknown as ModeledCtor, 400],
  DBClusterSnapshotNotFoundFault: [DBClusterSnapshotNotFoundFault as unknown as ModeledCtor, 404],
  InvalidDBClusterStateFault: [InvalidDBClusterStateFault as unknown as ModeledCtor, 400],
  InvalidDBClusterSnapshotStateFault: [InvalidDBClusterSnapshotStateFault as unknown as ModeledCtor, 400],
  DBInstanceAlreadyExists: [DBInstanceAlreadyExistsFault as unknown as ModeledCtor, 400],
  DBClusterAlreadyExistsFault: [DBClusterAlreadyExistsFault as unknown as ModeledCtor, 400],
  StorageQuotaExceeded: [StorageQuotaExceededFault as unknown as ModeledCtor, 400],
  InsufficientDBInstanceCapacity: [InsufficientDBInstanceCapacityFault as unknown as ModeledCtor, 400],
  DBSubnetGroupNotFoundFault: [DBSubnetGroupNotFoundFault as unknown as ModeledCtor, 404],
};

export type RdsErrorCode =
  | keyof typeof RDS_MODELED
  | "Throttling"
  | "InvalidParameterValue"
  | "InvalidParameterCombination"
  | "AccessDenied"
  | "InvalidClientTokenId"
  | "ExpiredToken"
  | "InternalFailure";

/** An RDS error (awsQuery protocol). Unmodeled codes: RDSServiceException with `name` = code. */
export function rdsError(code: RdsErrorCode, message: string, status?: number): SandboxServiceError {
  const modeled = RDS_MODELED[code];
  const httpStatus = status ?? modeled?.[1] ?? (code === "InternalFailure" ? 500 : code === "AccessDenied" ? 403 : 400);
  const $metadata = metadata(httpStatus);
  const err = modeled
    ? new modeled[0]({ message, $metadata })
    : new RDSServiceException({ name: code, $fault: httpStatus >= 500 ? "server" : "client", $metadata, message });
  const type = httpStatus >= 500 ? "Receiver" : "Sender";
  return Object.assign(err, { Type: type, Code: code, Error: { Type: type, Code: code, Message: message } }) as unknown as SandboxServiceError;
}

/** An EC2 error (ec2Query protocol): the SDK models none, so always EC2ServiceException with `name` = code. */
export function ec2Error(code: string, message: string, status?: number): SandboxServiceError {
  const httpStatus =
    status ?? (code === "RequestLimitExceeded" || code === "Unavailable" ? 503 : code === "InternalError" ? 500 : code === "UnauthorizedOperation" ? 403 : 400);
  const err = new EC2ServiceException({
    name: code,
    $fault: httpStatus >= 500 ? "server" : "client",
    $metadata: metadata(httpStatus),
    message,
  });
  return Object.assign(err, { Code: code, Error: { Code: code, Message: message } }) as unknown as SandboxServiceError;
}

/**
 * An STS error (awsQuery protocol). `AccessDenied`, `ValidationError`, `InvalidClientTokenId` and `ExpiredToken` are not
 * modelled by the client: STSServiceException with `name` = code, as the SDK parses them.
 */
export function stsError(
  code: string,
  message: string,
  status = code === "AccessDenied" || code === "InvalidClientTokenId" || code === "ExpiredToken" ? 403 : 400,
): SandboxServiceError {
  const $metadata = metadata(status);
  const err = new STSServiceException({ name: code, $fault: status >= 500 ? "server" : "client", $metadata, message });
  const type = status >= 500 ? "Receiver" : "Sender";
  return Object.assign(err, { Type: type, Code: code, Error: { Type: type, Code: code, Message: message } }) as unknown as SandboxServiceError;
}

/** An error of any other service, shaped as the SDK's base exception would be (name = wire code). */
export function genericAwsError(code: string, message: string, status: number): SandboxServiceError {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: metadata(status),
  }) as SandboxServiceError;
}

const S3_MODELED: Record<string, [ModeledCtor, number]> = {
  NoSuchKey: [NoSuchKey as unknown as ModeledCtor, 404],
  NoSuchBucket: [NoSuchBucket as unknown as ModeledCtor, 404],
  // HeadObject has no body, so the SDK can only say "NotFound".
  NotFound: [NotFound as unknown as ModeledCtor, 404],
};

/** An S3 error (restXml protocol). */
export function s3Error(code: string, message: string, status?: number): SandboxServiceError {
  const modeled = S3_MODELED[code];
  const httpStatus =
    status ??
    modeled?.[1] ??
    ({ PreconditionFailed: 412, ConditionalRequestConflict: 409, SlowDown: 503, InternalError: 500, AccessDenied: 403 } as Record<string, number>)[code] ??
    400;
  const $metadata = metadata(httpStatus);
  const err = modeled
    ? new modeled[0]({ message, $metadata })
    : new S3ServiceException({ name: code, $fault: httpStatus >= 500 ? "server" : "client", $metadata, message });
  return Object.assign(err, { Code: code }) as unknown as SandboxServiceError;
}

// The SDK's own classification (@smithy/core retry): what the standard/adaptive strategies retry.
const THROTTLING_NAMES = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

/** True when the SDK classifies the error as throttling (status 429, a throttling code, or the throttling trait). */
export function isSdkThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } } | undefined;
  return e?.$metadata?.httpStatusCode === 429 || THROTTLING_NAMES.has(e?.name ?? "") || e?.$retryable?.throttling === true;
}

/** True when the SDK's retry strategy would retry this error (throttling, transient, or 5xx). */
export function isSdkRetryable(err: unknown): boolean {
  const e = err as Partial<SandboxServiceError> | undefined;
  if (!e || typeof e !== "object") return false;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    status === 429 || THROTTLING_NAMES.has(e.name ?? "") || e.$retryable !== undefined || TRANSIENT_NAMES.has(e.name ?? "") || (status >= 500 && status <= 599)
  );
}

/** A call the sandbox does not simulate: loud, and not an AWS error so nobody classifies it as one. */
export class SandboxUnsupportedError extends Error {
  override name = "SandboxUnsupportedError";
}
