/**
 * The restore-test checker function (functions/restore-test-checker.ts, runbooks/restore-test/checker.ts) against a
 * real Postgres 18 (test/support/embedded-postgres.ts, no TLS) with the sandbox's Secrets Manager, IAM enforced: every
 * GetSecretValue is authorized against the checker's role as stacks/iam.ts derives it (the RDS-managed master secrets
 * `rds!db-*` of the primary region, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 * A rotation since the snapshot leaves the database's password in AWSPREVIOUS
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version).
 */
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { makeCheckerHandler, realCheckerDeps } from "../../../runbooks/restore-test/checker.ts";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { createSandbox, type Sandbox } from "../../../sandbox/index.ts";
import { ConfigSchema } from "../../../schemas/config.ts";
import { type RealPostgres, startPostgres } from "../../support/embedded-postgres.ts";

const PRIMARY = "eu-west-1";
const SNAPSHOT_TIME = "2026-11-30T02:00:00.000Z";
const pw = (tag: string) => `${tag}-${randomBytes(12).toString("base64url")}`;

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
          smoke: { sql: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1000 } }] },
        },
      },
    ],
  },
});

let pg: RealPostgres;
let sb: Sandbox;
let out: string[];

beforeAll(async () => {
  pg = await startPostgres();
  const admin = await pg.admin();
  await admin.query(`create role smoke login password '${pw("unused")}'`);
  await admin.query("create database app");
  await admin.end();
  const app = await pg.admin("app");
  await app.query("create table orders (id serial primary key, created_at timestamptz not null)");
  await app.query("insert into orders (created_at) select timestamptz '2026-11-30 01:50:00+00' - make_interval(secs => n) from generate_series(0, 1199) as n");
  await app.query("grant select on orders to smoke");
  await app.end();
}, 60_000);

afterAll(async () => {
  await pg?.stop();
});

beforeEach(() => {
  resetClients();
  sb = createSandbox({ regions: [PRIMARY], iam: {} });
  out = [];
  const capture = (chunk: unknown) => {
    out.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
});

afterEach(() => {
  vi.restoreAllMocks();
  sb.restore();
});

/** The database's password for `smoke` (what the snapshot kept). */
async function databasePassword(password: string): Promise<void> {
  const admin = await pg.admin();
  await admin.query(`alter role smoke password '${password}'`);
  await admin.end();
}

function handler() {
  return makeCheckerHandler({
    deps: (ctx) => ({ ...realCheckerDeps(ctx), ssl: "disable" }),
    runtime: { config: () => CONFIG, logger: new Logger({ serviceName: "ops-autopilot", logLevel: "DEBUG" }), emitMetrics: () => {} },
  });
}

function event(secretArn: string, over: Record<string, unknown> = {}) {
  return {
    host: pg.host,
    port: pg.port,
    database: "app",
    secretArn,
    checks: [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1000 } }],
    context: { snapshotTime: SNAPSHOT_TIME },
    timeoutMs: 5000,
    ...over,
  };
}

type Answer = { results: { name: string; passed: boolean; observed: string | null; reason: string }[]; secretStage: string; note?: string };

const secretReads = () => sb.callsTo("secretsManager", "GetSecretValue").map((c) => c.input);

describe("restore-test-checker on a real Postgres with the sandbox's Secrets Manager (IAM: the checker's role)", () => {
  it("runs the checks with the secret's current password", async () => {
    const current = pw("current");
    await databasePassword(current);
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: current });

    const answer = (await handler()(event(arn), lambdaContext("req-1"))) as Answer;

    expect(answer.secretStage).toBe("AWSCURRENT");
    expect(answer.note).toBeUndefined();
    expect(answer.results.map((r) => [r.name, r.passed, r.observed, r.reason])).toEqual([
      ["orders-count", true, "1200", 'check "orders-count" passed: observed 1200, expected at least 1000'],
    ]);
    expect(secretReads()).toEqual([{ SecretId: arn, VersionStage: "AWSCURRENT" }]);
    expect(sb.iam?.denials).toEqual([]);
    expect(out.join("")).not.toContain(current);
    expect(JSON.stringify(answer)).not.toContain(current);
  });

  it("retries once with AWSPREVIOUS when Postgres refuses the current password (28P01), and says so", async () => {
    const old = pw("old");
    const rotated = pw("rotated");
    await databasePassword(old);
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: old });
    sb.secretsManager.put(PRIMARY, arn.split(":secret:")[1]!.slice(0, -7), { username: "smoke", password: rotated });

    const answer = (await handler()(event(arn), lambdaContext("req-2"))) as Answer;

    expect(answer.secretStage).toBe("AWSPREVIOUS");
    expect(answer.note).toBe(`the database took the password of secret ${arn} version AWSPREVIOUS (user smoke): the secret was rotated after the snapshot`);
    expect(answer.results.map((r) => [r.name, r.passed])).toEqual([["orders-count", true]]);
    expect(secretReads()).toEqual([
      { SecretId: arn, VersionStage: "AWSCURRENT" },
      { SecretId: arn, VersionStage: "AWSPREVIOUS" },
    ]);
    expect(sb.iam?.denials).toEqual([]);
    const logs = out.join("");
    expect(logs).toContain("password of AWSCURRENT refused (28P01): trying AWSPREVIOUS");
    expect(logs).toContain("version AWSPREVIOUS (user smoke): the secret was rotated after the snapshot");
    for (const p of [old, rotated]) {
      expect(logs).not.toContain(p);
      expect(JSON.stringify(answer)).not.toContain(p);
    }
  });

  it("fails with an error naming the secret and the user, saying both versions were tried, with no password anywhere", async () => {
    const actual = pw("actual");
    const first = pw("first");
    const second = pw("second");
    await databasePassword(actual);
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: first });
    sb.secretsManager.put(PRIMARY, arn.split(":secret:")[1]!.slice(0, -7), { username: "smoke", password: second });

    const err = (await handler()(event(arn), lambdaContext("req-3")).catch((e: unknown) => e)) as Error;

    expect(err.message).toBe(
      `Postgres refused the password of secret ${arn} for user smoke at 127.0.0.1:${pg.port}/app: tried both AWSCURRENT and AWSPREVIOUS (28P01 invalid_password)`,
    );
    expect(secretReads()).toEqual([
      { SecretId: arn, VersionStage: "AWSCURRENT" },
      { SecretId: arn, VersionStage: "AWSPREVIOUS" },
    ]);
    const everything = `${err.message}\n${err.stack}\n${out.join("")}`;
    expect(out.join("")).toContain("run failed before its report");
    for (const p of [actual, first, second]) expect(everything).not.toContain(p);
  });

  it("says the previous version could not be read when the secret has none", async () => {
    await databasePassword(pw("actual"));
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: pw("never-rotated") });
    const err = (await handler()(event(arn), lambdaContext("req-4")).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      `Postgres refused the password of secret ${arn} for user smoke (AWSCURRENT), and its AWSPREVIOUS version could not be read: Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS`,
    );
  });

  it("returns a failing expectation as a failed result (not an error)", async () => {
    const current = pw("current");
    await databasePassword(current);
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: current });
    const checks = [
      { name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1_000_000 } },
      { name: "orders-fresh", query: "select max(created_at) from orders", expect: { withinSecondsOf: "snapshotTime", seconds: 3600 } },
    ];
    const answer = (await handler()(event(arn, { checks }), lambdaContext("req-5"))) as Answer;
    expect(answer.results.map((r) => [r.name, r.passed, r.observed, r.reason])).toEqual([
      ["orders-count", false, "1200", 'check "orders-count" failed: observed 1200, expected at least 1000000'],
      ["orders-fresh", true, "2026-11-30 01:50:00+00", answer.results[1]!.reason],
    ]);
    expect(answer.results[1]!.reason).toMatch(/^check "orders-fresh" passed: /);
  });

  it("cannot read a secret outside its role: another region's, not an RDS-managed master secret (AccessDenied)", async () => {
    sb.iam?.expectDenial("restore-test-checker", "secretsmanager:GetSecretValue");
    const other = sb.secretsManager.put(PRIMARY, "app/other", { username: "smoke", password: pw("x") });
    const err = (await handler()(event(other), lambdaContext("req-6")).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/not authorized to perform: secretsmanager:GetSecretValue/);
    expect(sb.iam?.denials.map((d) => [d.principal, d.request.action, d.request.resource])).toEqual([
      ["restore-test-checker", "secretsmanager:GetSecretValue", other],
    ]);
  });

  it("refuses a malformed event by field before any AWS call", async () => {
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "smoke", password: pw("p") });
    await expect(handler()({ ...event(arn), host: undefined, password: "x" }, lambdaContext("req-7"))).rejects.toThrow(
      /^Invalid restore-test-checker event: host: .*; \(root\): Unrecognized key: "password"$/,
    );
    expect(secretReads()).toEqual([]);
  });
});
