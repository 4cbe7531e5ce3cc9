import type { FailureKind } from "../core/types.ts";

/**
 * How an AWS error is treated:
 * - `exists` / `not-found`: a fact about the world, not a failure (idempotent create, already deleted);
 * - `retryable`: throttling or a transient fault the SDK's adaptive retry could not absorb;
 * - `state`, `quota`, `kms`: reported per item with an explanation;
 * - `fatal`: anything else; reported and rethrown at the end of the run.
 */
export type ErrorClass = "exists" | "not-found" | FailureKind;

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "SlowDown",
  "TooManyRequestsException",
  "PriorRequestNotComplete",
  "RequestThrottled",
  "RequestThrottledException",
]);

export function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string } | undefined;
  return e?.name ?? e?.Code ?? e?.code ?? "Error";
}

export function classifyError(err: unknown): ErrorClass {
  const name = errorName(err);
  const message = String((err as { message?: string } | undefined)?.message ?? "");
  if (/AlreadyExists/i.test(name) || name === "InvalidSnapshot.Duplicate") return "exists";
  if (/NotFound/i.test(name)) return "not-found";
  if (THROTTLING.has(name) || (err as { $retryable?: { throttling?: boolean } })?.$retryable?.throttling) return "retryable";
  if (/KMS/i.test(name) || /\bKMS\b|kms key/i.test(message)) return "kms";
  if (/Quota|LimitExceeded|ResourceLimitExceeded|StorageQuota/i.test(name)) return "quota";
  if (/InvalidDB\w*State|IncorrectState|InvalidState|InvalidSnapshot\.InUse|InvalidVolume/i.test(name)) return "state";
  if (/InternalFailure|ServiceUnavailable|InternalError|Unavailable/i.test(name)) return "retryable";
  return "fatal";
}

/** A one-line description of an AWS error for reports: `<ErrorName>: <message>`. */
export function describeError(err: unknown): string {
  const name = errorName(err);
  const message = String((err as { message?: string } | undefined)?.message ?? err);
  return message.startsWith(name) ? message : `${name}: ${message}`;
}
