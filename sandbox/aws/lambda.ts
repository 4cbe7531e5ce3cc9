/**
 * Lambda: functions the test registers (a handler each), run by a synchronous Invoke
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), so a function that invokes another is tested with
 * the caller's `lambda:InvokeFunction` authorized on the callee's ARN and the callee's own calls made under its role.
 *
 * Rules kept from AWS:
 * - `FunctionName` is a name, a full ARN or a partial ARN (`<account>:function:<name>`), optionally with a qualifier;
 *   the function is found in the client's region only, else ResourceNotFoundException ("Function not found: <arn>");
 * - `RequestResponse` (the default) answers 200 with the handler's result as JSON in `Payload`; a handler that throws
 *   still answers 200, with `FunctionError: "Unhandled"` and `{ errorType, errorMessage, trace }` as the payload;
 * - a payload that is not JSON is InvalidRequestContentException.
 * `Event` and `DryRun` invocations are not simulated (SandboxUnsupportedError).
 */
import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException,
} from "@aws-sdk/client-lambda";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import { SandboxUnsupportedError, type FaultKind } from "./errors.ts";

/** What a registered handler gets as its Lambda context. */
export interface SandboxLambdaContext {
  awsRequestId: string;
  functionName: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export type SandboxLambdaHandler = (event: unknown, context: SandboxLambdaContext) => unknown;

export interface LambdaSim extends ServiceSim {
  /** Deploy `name` in `region` (replacing a function of that name there); returns its ARN. */
  register(region: string, name: string, handler: SandboxLambdaHandler, options?: { timeoutMs?: number }): string;
  /** Every invocation answered: which function, and whether it threw (never the payload). */
  invocations(): Array<{ region: string; functionName: string; at: Date; functionError?: string }>;
}

type Ctor = new (opts: { message: string; $metadata: Record<string, unknown> }) => Error;

function lambdaError(cls: Ctor, status: number, message: string): Error {
  return new cls({
    message,
    $metadata: { httpStatusCode: status, requestId: "sandbox-lambda", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 },
  });
}

/** The function's name from a name, a full ARN or a partial ARN, without its qualifier. */
export function lambdaFunctionName(id: string): string {
  const m = /^(?:arn:[^:]+:lambda:[^:]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/.exec(id);
  return m?.[1] ?? id;
}

export function createLambdaSim(core: SandboxCore): LambdaSim {
  const functions = new Map<string, { handler: SandboxLambdaHandler; timeoutMs: number; arn: string }>();
  const invocations: ReturnType<LambdaSim["invocations"]> = [];
  let requests = 0;

  const invoke: CommandHandler = async (
    input: { FunctionName?: string; InvocationType?: string; Payload?: Uint8Array; Qualifier?: string },
    ctx: CommandContext,
  ) => {
    if (input.InvocationType !== undefined && input.InvocationType !== "RequestResponse") {
      throw new SandboxUnsupportedError(`sandbox Lambda runs RequestResponse invocations only, not ${input.InvocationType}`);
    }
    const name = lambdaFunctionName(String(input.FunctionName ?? ""));
    const fn = functions.get(`${ctx.region}|${name}`);
    if (!fn)
      throw lambdaError(
        ResourceNotFoundException as unknown as Ctor,
        404,
        `Function not found: arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`,
      );
    let event: unknown;
    try {
      const text = input.Payload ? new TextDecoder().decode(input.Payload) : "{}";
      event = JSON.parse(text === "" ? "{}" : text);
    } catch {
      throw lambdaError(InvalidRequestContentException as unknown as Ctor, 400, "Could not parse request body into json");
    }
    requests += 1;
    const started = Date.now();
    const context: SandboxLambdaContext = {
      awsRequestId: `sandbox-lambda-${requests}`,
      functionName: name,
      invokedFunctionArn: fn.arn,
      getRemainingTimeInMillis: () => Math.max(0, fn.timeoutMs - (Date.now() - started)),
    };
    const at = new Date(ctx.nowMs);
    const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v ?? null));
    try {
      const result = await fn.handler(event, context);
      invocations.push({ region: ctx.region, functionName: name, at });
      return { StatusCode: 200, ExecutedVersion: "$LATEST", Payload: encode(result) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      invocations.push({ region: ctx.region, functionName: name, at, functionError: "Unhandled" });
      return {
        StatusCode: 200,
        ExecutedVersion: "$LATEST",
        FunctionError: "Unhandled",
        Payload: encode({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? "").split("\n") }),
      };
    }
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [[InvokeCommand, invoke]];

  function faultFor(kind: FaultKind): Error {
    switch (kind) {
      case "throttling":
        return lambdaError(TooManyRequestsException as unknown as Ctor, 429, "Rate Exceeded.");
      case "notFound":
        return lambdaError(ResourceNotFoundException as unknown as Ctor, 404, "Function not found");
      default:
        return Object.assign(lambdaError(ServiceException as unknown as Ctor, 500, "An error occurred on the server side."), { name: "ServiceException" });
    }
  }

  return {
    service: "lambda",
    clientClass: LambdaClient,
    commands,
    faultFor,
    register(region, name, handler, options = {}) {
      const arn = `arn:aws:lambda:${region}:${core.accountId}:function:${name}`;
      functions.set(`${region}|${name}`, { handler, timeoutMs: options.timeoutMs ?? 120_000, arn });
      return arn;
    },
    invocations: () => invocations.map((i) => ({ ...i })),
  };
}
