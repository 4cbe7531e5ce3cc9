/**
 * The restore-test checker functions in the offline synth (stacks/restore-test.ts): config/example.json with sql checks
 * on RDS instances restored in two regions (the databases in the first DR region with the RDS-managed master secret,
 * a ledger instance in the primary with a configured secret), so one checker is deployed per restore region, inside the
 * configured subnets and security groups, with exactly its derived role; the restore-test function names both and may
 * invoke only them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResource, SynthResult } from "../../scripts/sst-synth.ts";
import { ConfigSchema } from "../../schemas/config.ts";
import { deployedFunctions } from "../../stacks/functions.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { lintPolicy, type PolicyDocument } from "../../stacks/policy-lint.ts";
import { documentFor, iamContext, ROOT, rulesFor } from "./builders.ts";
import { inputs, named as namedIn, ofType as ofTypeIn, runSynth } from "./synth-run.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const NAME = "ops-autopilot-ci-restore-test-checker";
const LEDGER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ledger/smoke-AbCdEf";
const DR_CHECKER = { subnetIds: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"], securityGroupIds: ["sg-0c0c0c0c0c0c0c0c0"] };
const PRIMARY_CHECKER = { subnetIds: ["subnet-0b1b2c3d4e5f60003"], securityGroupIds: ["sg-0d0d0d0d0d0d0d0d0", "sg-0e0e0e0e0e0e0e0e0"] };
const SQL = [{ name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1 } }];

function checkerRaw() {
  const raw = JSON.parse(readFileSync(`${ROOT}config/example.json`, "utf8"));
  raw.stage = "ci";
  const databases = raw.backup.policies.find((p: { name: string }) => p.name === "databases");
  databases.restoreTest = {
    rds: { dbSubnetGroupName: "restore-tests", vpcSecurityGroupIds: ["sg-0123456789abcdef0"], checker: DR_CHECKER },
    smoke: { sql: SQL },
  };
  raw.backup.policies.push({
    ...databases,
    name: "ledger",
    copyToDr: false,
    selection: { ids: [{ kind: "rds-instance", id: "ledger-db" }] },
    restoreTest: {
      region: "primary",
      rds: { dbSubnetGroupName: "restore-tests-primary", vpcSecurityGroupIds: ["sg-0123456789abcdef1"], checker: PRIMARY_CHECKER },
      smoke: { sql: SQL, secretArn: LEDGER_SECRET },
    },
  });
  return raw;
}

const config = ConfigSchema.parse(checkerRaw());
let synth: SynthResult;

beforeAll(() => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-checker-")), "restore-test-checker.json");
  writeFileSync(file, JSON.stringify(checkerRaw(), null, 2));
  synth = runSynth("ci", file);
}, 600_000);

const ofType = (type: string) => ofTypeIn(synth, type);
const named = (type: string, name: string): SynthResource => namedIn(synth, type, name);
const statementsOf = (role: SynthResource) =>
  (inputs(role).inlinePolicies as { policy: string }[]).flatMap((p) => (JSON.parse(p.policy) as PolicyDocument).Statement);
const actionsIn = (s: PolicyDocument["Statement"][number]): string[] => (Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : []);

/** One line per statement: actions, resources, and each condition as `test variable=values`. */
const summary = (s: { actions: string[]; resources: string[]; conditions?: { test: string; variable: string; values: string[] }[] }) =>
  [s.actions.join(","), s.resources.join(","), ...(s.conditions ?? []).map((c) => `${c.test} ${c.variable}=${c.values.join(",")}`)].join(" | ");

describe("restore-test checker role (stacks/iam.ts)", () => {
  it("is exactly: the checker policies' secrets (configured, and the RDS-managed rds!db-* of the primary), Lambda's ENI actions in the checker regions", () => {
    expect(permissionsFor("restore-test-checker", iamContext(config)).map(summary)).toEqual([
      `secretsmanager:GetSecretValue | ${LEDGER_SECRET},arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-*`,
      "ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:AssignPrivateIpAddresses,ec2:UnassignPrivateIpAddresses | arn:aws:ec2:eu-central-1:123456789012:*/*,arn:aws:ec2:eu-west-1:123456789012:*/*",
      "ec2:DescribeNetworkInterfaces,ec2:DescribeSubnets | * | StringEquals aws:RequestedRegion=eu-central-1,eu-west-1",
    ]);
    expect(lintPolicy(documentFor(permissionsFor("restore-test-checker", iamContext(config))), rulesFor("restore-test-checker", config))).toEqual([]);
  });

  it("passes the lint only through its one exemption: Lambda's network-interface delete, on the checker's role", () => {
    const doc = documentFor(permissionsFor("restore-test-checker", iamContext(config)));
    const rules = rulesFor("restore-test-checker", config);
    expect(lintPolicy(doc, { ...rules, vpcNetworkInterfaces: false }).map((v) => [v.rule, v.detail])).toEqual([
      ["delete-needs-managed-by-tag", "ec2:DeleteNetworkInterface"],
    ]);
    const widened = {
      ...doc,
      Statement: [...doc.Statement, { Effect: "Allow" as const, Action: "ec2:DeleteVolume", Resource: "arn:aws:ec2:eu-west-1:123456789012:volume/*" }],
    };
    expect(lintPolicy(widened, rules).map((v) => [v.rule, v.detail])).toEqual([["delete-needs-managed-by-tag", "ec2:DeleteVolume"]]);
  });

  it("gives the restore-test role lambda:InvokeFunction on the checkers alone", () => {
    const invoke = permissionsFor("restore-test", iamContext(config)).filter((s) => s.actions.some((a) => a.startsWith("lambda:")));
    expect(invoke.map(summary)).toEqual([
      `lambda:InvokeFunction | arn:aws:lambda:eu-central-1:123456789012:function:${NAME},arn:aws:lambda:eu-west-1:123456789012:function:${NAME}`,
    ]);
  });

  it("deploys no checker, and grants no invoke, without rds.checker (restore tests without sql checks)", () => {
    const raw = checkerRaw();
    raw.backup.policies = raw.backup.policies.filter((p: { name: string }) => p.name !== "ledger");
    delete raw.backup.policies[0].restoreTest.rds.checker;
    raw.backup.policies[0].restoreTest.smoke = {};
    const noSql = ConfigSchema.parse(raw);
    expect(deployedFunctions(noSql).map((f) => f.name)).toContain("restore-test");
    expect(deployedFunctions(noSql).map((f) => f.name)).not.toContain("restore-test-checker");
    expect(
      permissionsFor("restore-test", iamContext(noSql))
        .flatMap((s) => s.actions)
        .filter((a) => a.startsWith("lambda:")),
    ).toEqual([]);
  });
});

describe("restore-test checkers in the offline synth", () => {
  it("synthesizes without errors and bundles functions/restore-test-checker.ts", () => {
    expect(synth.errors).toEqual([]);
    expect(synth.builds.map((b) => b.file)).toContain("functions/restore-test-checker.ts");
  });

  it.each([
    [DR, DR_CHECKER],
    [PRIMARY, PRIMARY_CHECKER],
  ])("deploys the checker of %s in that region, named for the grant, inside the configured subnets and security groups", (region, vpc) => {
    const fn = named("aws:lambda/function:Function", `RestoreTestChecker-${region}Function`);
    expect(fn.region).toBe(region);
    expect(inputs(fn)).toMatchObject({
      name: NAME,
      memorySize: 256,
      timeout: 660,
      vpcConfig: { subnetIds: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds },
    });
  });

  it.each([DR, PRIMARY])("gives the checker of %s exactly its derived statements and no managed VPC policy (the ENI grants are its own)", (region) => {
    const role = named("aws:iam/role:Role", `RestoreTestChecker-${region}Role`);
    expect(role.region).toBe(region);
    expect(statementsOf(role)).toEqual(documentFor(permissionsFor("restore-test-checker", iamContext(config))).Statement);
    expect(inputs(role).managedPolicyArns).toEqual(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]);
  });

  it("names each region's checker to the restore-test function, whose role may invoke those two functions only", () => {
    const fn = named("aws:lambda/function:Function", "Restore-testFunction");
    expect(inputs(fn).environment.variables).toMatchObject({
      OPS_AUTOPILOT_RESTORE_TEST_CHECKER_EU_CENTRAL_1: NAME,
      OPS_AUTOPILOT_RESTORE_TEST_CHECKER_EU_WEST_1: NAME,
    });
    const role = named("aws:iam/role:Role", "Restore-testRole");
    const lambdaStatements = statementsOf(role).filter((s) => actionsIn(s).some((a) => a.startsWith("lambda:")));
    expect(lambdaStatements).toEqual([
      {
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: [`arn:aws:lambda:eu-central-1:123456789012:function:${NAME}`, `arn:aws:lambda:eu-west-1:123456789012:function:${NAME}`],
      },
    ]);
    expect(
      ofType("aws:lambda/function:Function")
        .filter((f) => f.name.startsWith("RestoreTestChecker"))
        .map((f) => f.name)
        .sort(),
    ).toEqual([`RestoreTestChecker-${DR}Function`, `RestoreTestChecker-${PRIMARY}Function`]);
  });
});
