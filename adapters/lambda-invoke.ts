import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";

/**
 * A synchronous invoke of a deployed function, for `npm run invoke` (scripts/invoke.ts) on an operator's
 * machine. Not used by the functions themselves, so it has no entry in adapters/calls.ts and no IAM grant:
 * the caller's own credentials need `lambda:InvokeFunction` on the function.
 *
 * One attempt only: the SDK would retry a timed-out or throttled Invoke, and a retried manual prune or
 * backup runs twice. The endpoint follows the SDK's own settings, so `AWS_ENDPOINT_URL` (or
 * `AWS_ENDPOINT_URL_LAMBDA`) points it at any Lambda-compatible endpoint.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */

export interface InvokeRequest {
  functionName: string;
  region: string;
  /** The event, as the JSON text sent. */
  payload: string;
  /** Ask for the last 4 KB of the execution log (`LogType: Tail`). */
  logs: boolean;
  /** A named profile of the shared AWS config files. */
  profile?: string;
}

export interface InvokeResponse {
  statusCode: number;
  /** `Unhandled` when the function threw (the payload then holds the error). */
  functionError?: string;
  /** The function's response (or error), as text. */
  payload: string;
  /** The decoded log tail, when asked for. */
  logTail?: string;
  executedVersion?: string;
}

export async function invokeFunction(req: InvokeRequest): Promise<InvokeResponse> {
  const client = new LambdaClient({ region: req.region, maxAttempts: 1, ...(req.profile ? { profile: req.profile } : {}) });
  try {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: req.functionName,
        InvocationType: "RequestResponse",
        LogType: req.logs ? "Tail" : "None",
        Payload: new TextEncoder().encode(req.payload),
      }),
    );
    return {
      statusCode: out.StatusCode ?? 0,
      ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
      payload: out.Payload ? new TextDecoder().decode(out.Payload) : "",
      ...(out.LogResult ? { logTail: Buffer.from(out.LogResult, "base64").toString("utf8") } : {}),
      ...(out.ExecutedVersion ? { executedVersion: out.ExecutedVersion } : {}),
    };
  } finally {
    client.destroy();
  }
}
