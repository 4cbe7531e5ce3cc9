import { InvokeCommand } from "@aws-sdk/client-lambda";
import { lambda } from "./clients.ts";

/**
 * A synchronous invoke of a restore region's checker function (functions/restore-test-checker.ts) by the restore-test
 * function: the event goes as the payload (it names the secret, never a password) and the function's answer comes back
 * parsed. One attempt (adapters/clients.ts lambda): a retried invoke would run the checks twice.
 *
 * A function that threw answers 200 with `FunctionError` set and `{ errorType, errorMessage }` as the payload
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): that becomes a thrown error carrying the
 * function's own message.
 */

export class CheckerFunctionError extends Error {
  override name = "CheckerFunctionError";
}

export async function invokeChecker(req: { region: string; functionName: string; event: unknown }): Promise<unknown> {
  const out = await lambda(req.region).send(
    new InvokeCommand({
      FunctionName: req.functionName,
      InvocationType: "RequestResponse",
      Payload: new TextEncoder().encode(JSON.stringify(req.event)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : "";
  if (out.FunctionError) {
    let detail = text;
    try {
      const e = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
      if (typeof e.errorMessage === "string") detail = typeof e.errorType === "string" ? `${e.errorType}: ${e.errorMessage}` : e.errorMessage;
    } catch {
      // Not JSON: the payload as it came.
    }
    throw new CheckerFunctionError(`checker function ${req.functionName} (${req.region}) failed (${out.FunctionError}): ${detail}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CheckerFunctionError(`checker function ${req.functionName} (${req.region}) answered with no JSON: ${text.slice(0, 200)}`);
  }
}
