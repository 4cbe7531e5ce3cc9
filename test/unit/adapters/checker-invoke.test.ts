/**
 * The restore-test function's SQL port in production (runbooks/restore-test/deps.ts checkerSqlPort) and its adapter
 * (adapters/checker.ts): the exact Invoke it sends (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html:
 * RequestResponse, the event as the payload, never a password), the answer it returns, and a function error
 * (`FunctionError` with `{ errorType, errorMessage }`) as a thrown error carrying the function's message.
 */
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckerFunctionError } from "../../../adapters/checker.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { checkerEnvName } from "../../../runbooks/restore-test/checker-ref.ts";
import { checkerSqlPort } from "../../../runbooks/restore-test/deps.ts";

const REGION = "eu-central-1";
const FUNCTION = "ops-autopilot-prod-restore-test-checker";
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-AbCdEf";
const env = { [checkerEnvName(REGION)]: FUNCTION };
const lambda = mockClient(LambdaClient);
/** The SDK wraps the answer's bytes in a blob adapter; the adapter reads them as bytes. */
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)) as unknown as InvokeCommandOutput["Payload"];

const input = {
  region: REGION,
  instanceId: "oa-ops-autopilot-prod-rt-orders-db-20261130t0200z",
  endpoint: { host: "oa-ops-autopilot-prod-rt-orders-db.abc123.eu-central-1.rds.amazonaws.com", port: 5432 },
  database: "app",
  secretArn: SECRET,
  timeoutMs: 30_000,
  checks: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1000 } }],
  context: { snapshotTime: new Date("2026-11-30T02:00:00Z") },
};

beforeEach(() => {
  resetClients();
  lambda.reset();
});
afterEach(() => lambda.reset());

describe("checkerSqlPort: the restore region's checker function, invoked synchronously", () => {
  it("sends exactly one RequestResponse Invoke to the region's checker with the event (secret ARN, no password) and returns its results", async () => {
    const results = [{ name: "orders-count", passed: true, observed: "1200", reason: 'check "orders-count" passed', ms: 12 }];
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc({ function: "restore-test-checker", results, secretStage: "AWSCURRENT" }) });

    expect(await checkerSqlPort(env).run(input)).toEqual(results);

    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0]!.args[0].input;
    expect({ ...sent, Payload: JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array)) }).toEqual({
      FunctionName: FUNCTION,
      InvocationType: "RequestResponse",
      Payload: {
        host: "oa-ops-autopilot-prod-rt-orders-db.abc123.eu-central-1.rds.amazonaws.com",
        port: 5432,
        database: "app",
        secretArn: SECRET,
        checks: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1000 } }],
        context: { snapshotTime: "2026-11-30T02:00:00.000Z" },
        timeoutMs: 30_000,
      },
    });
    expect(await calls[0]!.thisValue.config.region()).toBe(REGION);
  });

  it("logs the checker's note when it used the secret's previous version", async () => {
    const note = `the database took the password of secret ${SECRET} version AWSPREVIOUS (user app): the secret was rotated after the snapshot`;
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc({ results: [], secretStage: "AWSPREVIOUS", note }) });
    const logged: [string, unknown][] = [];
    await checkerSqlPort(env, (m, d) => void logged.push([m, d])).run(input);
    expect(logged).toEqual([[note, { instanceId: input.instanceId, secretStage: "AWSPREVIOUS" }]]);
  });

  it("turns a function error into a thrown error with the function's own message", async () => {
    const errorMessage = `Postgres refused the password of secret ${SECRET} for user app at db:5432/app: tried both AWSCURRENT and AWSPREVIOUS (28P01 invalid_password)`;
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: enc({ errorType: "Error", errorMessage, trace: ["Error: ...", "    at runChecker"] }),
    });
    const err = (await checkerSqlPort(env)
      .run(input)
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(CheckerFunctionError);
    expect(err.message).toBe(`checker function ${FUNCTION} (${REGION}) failed (Unhandled): Error: ${errorMessage}`);
  });

  it("refuses without an invoke when the region has no checker or the instance no endpoint", async () => {
    await expect(checkerSqlPort({}).run(input)).rejects.toThrow(
      `no checker function in ${REGION}: give the policy restoreTest.rds.checker (subnetIds, securityGroupIds) and deploy`,
    );
    const { endpoint: _endpoint, ...noEndpoint } = input;
    await expect(checkerSqlPort(env).run(noEndpoint)).rejects.toThrow(`restored instance ${input.instanceId} has no endpoint to connect to`);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it("refuses an answer without results", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc({ reason: "?" }) });
    await expect(checkerSqlPort(env).run(input)).rejects.toThrow(`checker function ${FUNCTION} (${REGION}) answered without results`);
  });
});
