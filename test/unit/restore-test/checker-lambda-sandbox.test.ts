/**
 * The restore-test function's SQL port (runbooks/restore-test/deps.ts checkerSqlPort) invoking the checker function
 * through the sandbox's Lambda (sandbox/aws/lambda.ts), IAM enforced twice: the Invoke against the restore-test role
 * (lambda:InvokeFunction on the checkers alone), then the checker's GetSecretValue against the checker's role; the
 * checker runs the checks on a real Postgres (test/support/embedded-postgres.ts).
 */
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { makeCheckerHandler, realCheckerDeps } from "../../../runbooks/restore-test/checker.ts";
import { checkerEnvName, checkerFunctionName } from "../../../runbooks/restore-test/checker-ref.ts";
import { checkerSqlPort } from "../../../runbooks/restore-test/deps.ts";
import { noteInvocationConfig, runInvocation } from "../../../runbooks/lib/invocation.ts";
import { createSandbox, type Sandbox } from "../../../sandbox/index.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { type RealPostgres, startPostgres } from "../../support/embedded-postgres.ts";

const PRIMARY = "eu-west-1";
const PASSWORD = `Pw-${randomBytes(12).toString("base64url")}`;

const CONFIG = ConfigSchema.parse({
  app: "ops-autopilot",
  stage: "prod",
  primaryRegion: PRIMARY,
  failover: {},
  warm: {},
  cost: {},
  observe: false,
  backup: {
    policies: [
      {
        name: "db",
        copyToDr: false,
        selection: { ids: [{ kind: "rds-instance", id: "orders-db" }] },
        restoreTest: {
          region: "primary",
          rds: {
            dbSubnetGroupName: "restore-tests",
            vpcSecurityGroupIds: ["sg-0123456789abcdef0"],
            checker: { subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0fedcba9876543210"] },
          },
          smoke: { sql: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1 } }] },
        },
      },
    ],
  },
});
const CHECKER = checkerFunctionName(CONFIG);

let pg: RealPostgres;
let sb: Sandbox;

beforeAll(async () => {
  pg = await startPostgres();
  const admin = await pg.admin();
  await admin.query(`create role smoke login password '${PASSWORD}'`);
  await admin.query("create table orders (id serial primary key)");
  await admin.query("insert into orders default values");
  await admin.query("grant select on orders to smoke");
  await admin.end();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});

beforeEach(() => {
  resetClients();
  sb = createSandbox({ regions: [PRIMARY], iam: {} });
  const checker = makeCheckerHandler({
    deps: (ctx) => ({ ...realCheckerDeps(ctx), ssl: "disable" }),
    runtime: { config: () => CONFIG, logger: new Logger({ logLevel: "SILENT" }), emitMetrics: () => {} },
  });
  sb.lambda.register(PRIMARY, CHECKER, (event, context) => checker(event, context as unknown as Context));
});
afterEach(() => sb.restore());

/** What the restore-test function does in its run: the port, under the restore-test role. */
function asRestoreTest<T>(fn: () => Promise<T>): Promise<T> {
  return runInvocation("restore-test", () => {
    noteInvocationConfig(CONFIG);
    return fn();
  });
}

const input = (secretArn: string) => ({
  region: PRIMARY,
  instanceId: "oa-ops-autopilot-prod-rt-orders-db",
  endpoint: { host: pg.host, port: pg.port },
  database: "postgres",
  secretArn,
  timeoutMs: 5000,
  checks: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1 } }],
  context: { snapshotTime: new Date("2026-11-30T02:00:00Z") },
});

describe("the checker SQL port through the sandbox's Lambda, IAM enforced on both functions", () => {
  it("invokes the region's checker as the restore-test role, which reads the secret as the checker role and runs the checks", async () => {
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: PASSWORD });
    const results = await asRestoreTest(() => checkerSqlPort({ [checkerEnvName(PRIMARY)]: CHECKER }).run(input(arn)));
    expect(results.map((r) => [r.name, r.passed, r.observed])).toEqual([["orders-count", true, "1"]]);
    expect(sb.callsTo("lambda", "Invoke").map((c) => [c.region, (c.input as { FunctionName: string }).FunctionName])).toEqual([[PRIMARY, CHECKER]]);
    expect(sb.callsTo("secretsManager", "GetSecretValue").map((c) => c.input)).toEqual([{ SecretId: arn, VersionStage: "AWSCURRENT" }]);
    expect(sb.lambda.invocations().map((i) => [i.functionName, i.functionError])).toEqual([[CHECKER, undefined]]);
    expect(sb.iam?.denials).toEqual([]);
  });

  it("brings the checker's error back as a thrown error with its message (both passwords refused)", async () => {
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: "wrong-1" });
    sb.secretsManager.put(PRIMARY, arn.split(":secret:")[1]!.slice(0, -7), { username: "smoke", password: "wrong-2" });
    const err = (await asRestoreTest(() => checkerSqlPort({ [checkerEnvName(PRIMARY)]: CHECKER }).run(input(arn))).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      `checker function ${CHECKER} (${PRIMARY}) failed (Unhandled): Error: Postgres refused the password of secret ${arn} for user smoke at 127.0.0.1:${pg.port}/postgres: tried both AWSCURRENT and AWSPREVIOUS (28P01 invalid_password)`,
    );
    expect(err.message).not.toMatch(/wrong-[12]/);
  });

  it("may not invoke any other function: AccessDeniedException on its ARN, and the function never runs", async () => {
    sb.iam?.expectDenial("restore-test", "lambda:InvokeFunction");
    sb.lambda.register(PRIMARY, "someone-elses-function", async () => ({ results: [] }));
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: PASSWORD });
    const err = (await asRestoreTest(() => checkerSqlPort({ [checkerEnvName(PRIMARY)]: "someone-elses-function" }).run(input(arn))).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.name).toBe("AccessDeniedException");
    expect(sb.iam?.denials.map((d) => [d.principal, d.request.action, d.request.resource])).toEqual([
      ["restore-test", "lambda:InvokeFunction", `arn:aws:lambda:${PRIMARY}:123456789012:function:someone-elses-function`],
    ]);
    expect(sb.lambda.invocations()).toEqual([]);
  });
});
