/**
 * The sandbox's Lambda (sandbox/aws/lambda.ts): Invoke of a registered handler as
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html describes it: a name, full or partial ARN with a
 * qualifier finds the function of the client's region; a thrown handler answers 200 with FunctionError "Unhandled";
 * an unknown function is ResourceNotFoundException; only RequestResponse is simulated.
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, SandboxUnsupportedError, type Sandbox } from "../../../sandbox/aws/index.ts";

const REGION = "eu-central-1";
let sb: Sandbox;
const client = () => new LambdaClient({ region: REGION, maxAttempts: 1 });
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const text = (p: Uint8Array | undefined) => (p ? new TextDecoder().decode(p) : "");

beforeEach(() => {
  sb = createSandbox({ regions: [REGION, "eu-west-1"], iam: false });
  sb.lambda.register(REGION, "echo", async (event, ctx) => ({ event, name: ctx.functionName }));
  sb.lambda.register(REGION, "boom", async () => {
    throw new TypeError("no such column");
  });
});
afterEach(() => sb.restore());

describe("the sandbox's Lambda Invoke", () => {
  it.each(["echo", "arn:aws:lambda:eu-central-1:123456789012:function:echo", "123456789012:function:echo:$LATEST"])(
    "runs the handler named %s and answers its result as JSON",
    async (FunctionName) => {
      const out = await client().send(new InvokeCommand({ FunctionName, Payload: json({ a: 1 }) }));
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(text(out.Payload))).toEqual({ event: { a: 1 }, name: "echo" });
    },
  );

  it("answers a thrown handler with 200, FunctionError Unhandled and its errorType and errorMessage", async () => {
    const out = await client().send(new InvokeCommand({ FunctionName: "boom", InvocationType: "RequestResponse" }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(JSON.parse(text(out.Payload))).toMatchObject({ errorType: "TypeError", errorMessage: "no such column" });
    expect(sb.lambda.invocations().map((i) => [i.functionName, i.functionError])).toEqual([["boom", "Unhandled"]]);
  });

  it("finds a function in the client's region only, and refuses asynchronous invocations", async () => {
    const other = await new LambdaClient({ region: "eu-west-1", maxAttempts: 1 }).send(new InvokeCommand({ FunctionName: "echo" })).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ResourceNotFoundException);
    expect((other as Error).message).toBe("Function not found: arn:aws:lambda:eu-west-1:123456789012:function:echo");
    await expect(client().send(new InvokeCommand({ FunctionName: "echo", InvocationType: "Event" }))).rejects.toBeInstanceOf(SandboxUnsupportedError);
  });
});
