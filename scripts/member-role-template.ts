/**
 * The CloudFormation templates (JSON) of the fleet's member roles, for StackSets, from the same data as the SST
 * component (stacks/member-roles.ts):
 *
 *   npm run member-role-template -- --central-account 999988887777 [--stage prod] [--out out/member-roles]
 *
 * One template per distinct (regions, role name prefix) of the fleet's targets: the policies differ with the regions,
 * so the accounts that share both share a template (a StackSet each, its targets in the template's Metadata). The
 * member account and partition are CloudFormation's pseudo parameters (`AWS::AccountId`, `AWS::Partition`), so one
 * template serves every account of a StackSet; the external id differs per account and is the one parameter (NoEcho;
 * a StackSet sets it per account with parameter overrides). The roles have names, so the stack needs
 * CAPABILITY_NAMED_IAM. Every role passes the policy lint before a file is written.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Config } from "../schemas/config.ts";
import { EXTERNAL_ID_PATTERN, fleetTargetRegions, memberRolePrefix, type FleetAccount, type FleetTarget } from "../schemas/config-fleet.ts";
import { loadConfig } from "../stacks/config.ts";
import { memberRoles, memberRoleViolations, type MemberTarget } from "../stacks/member-roles.ts";
import type { FleetFunction } from "../schemas/config-fleet.ts";

/** CloudFormation pseudo parameters, substituted per stack instance. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JavaScript template
const ACCOUNT = "${AWS::AccountId}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JavaScript template
const PARTITION = "${AWS::Partition}";
/** Stands for the external id parameter in the role data until the template replaces it with a Ref. */
const EXTERNAL_ID = "\u0000ExternalId\u0000";
export const EXTERNAL_ID_PARAMETER = "ExternalId";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface MemberRoleTemplate {
  /** The file name, in the output directory. */
  file: string;
  /** The accounts listed in `fleet.accounts` this template is for, and the OU when it is for the OU's accounts. */
  accounts: FleetAccount[];
  organizationalUnit?: string;
  regions: string[];
  template: { [key: string]: Json };
}

const logicalId = (fn: FleetFunction): string => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}MemberRole`;

/**
 * Strings that name the stack's account or partition become `Fn::Sub` (any other `${` escaped as `${!`, which Fn::Sub
 * writes as a literal `${`); the external id placeholder becomes a Ref to its parameter.
 */
function toCloudFormation(value: unknown): Json {
  if (typeof value === "string") {
    if (value === EXTERNAL_ID) return { Ref: EXTERNAL_ID_PARAMETER };
    if (value.includes(EXTERNAL_ID)) throw new Error("the external id can only be a whole value");
    if (!value.includes(ACCOUNT) && !value.includes(PARTITION)) return value;
    return { "Fn::Sub": value.replace(/\$\{(?!AWS::AccountId\}|AWS::Partition\})/g, "${!") };
  }
  if (Array.isArray(value)) return value.map(toCloudFormation);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCloudFormation(v)]));
  return value as Json;
}

/** The templates of the stage's fleet, one per distinct (regions, role name prefix). */
export function memberRoleTemplates(config: Config, centralAccountId: string): MemberRoleTemplate[] {
  const fleet = config.fleet;
  if (!fleet) throw new Error(`the ${config.stage} configuration has no fleet section: no member roles to generate`);
  if (!/^\d{12}$/.test(centralAccountId))
    throw new Error(`--central-account: expected the 12-digit id of the account the ${config.stage} stage is deployed in`);
  const groups = new Map<string, { target: FleetTarget; accounts: FleetAccount[]; organizationalUnit?: string }>();
  const targets: { target: FleetTarget; account?: FleetAccount; ou?: string }[] = [
    ...fleet.accounts.map((a) => ({ target: a as FleetTarget, account: a })),
    ...(fleet.organizationalUnit ? [{ target: fleet.organizationalUnit as FleetTarget, ou: fleet.organizationalUnit.id }] : []),
  ];
  for (const t of targets) {
    const key = JSON.stringify([fleetTargetRegions(config, t.target), memberRolePrefix(config, t.target)]);
    const group = groups.get(key) ?? { target: t.target, accounts: [] };
    if (t.account) group.accounts.push(t.account);
    if (t.ou) group.organizationalUnit = t.ou;
    groups.set(key, group);
  }
  const base = `${config.app}-${config.stage}-member-roles`;
  return [...groups.values()].map((g, i) => {
    const target: MemberTarget = { account: ACCOUNT, partition: PARTITION, centralAccountId, target: g.target, externalId: EXTERNAL_ID };
    const roles = memberRoles(config, target);
    const violations = memberRoleViolations(config, target, roles);
    if (violations.length) throw new Error(`member roles fail the policy lint: ${violations.join(" | ")}`);
    const regions = fleetTargetRegions(config, g.target);
    const template = {
      AWSTemplateFormatVersion: "2010-09-09",
      Description: `ops-autopilot ${config.app}:${config.stage}: the member-account roles of backup, copy, prune and watchdog in ${regions.join(", ")} (generated by npm run member-role-template from stacks/member-roles.ts; regenerate, do not edit)`,
      Metadata: {
        "ops-autopilot": {
          stage: `${config.app}:${config.stage}`,
          centralAccountId,
          regions,
          accounts: g.accounts.map((a) => ({ id: a.id, name: a.name })),
          ...(g.organizationalUnit ? { organizationalUnit: g.organizationalUnit } : {}),
        },
      },
      Parameters: {
        [EXTERNAL_ID_PARAMETER]: {
          Type: "String",
          NoEcho: true,
          MinLength: 2,
          MaxLength: 1224,
          AllowedPattern: EXTERNAL_ID_PATTERN.source.replace(/^\^|\$$/g, ""),
          Description: "The account's external id from the stage's config (fleet.accounts[].externalId or fleet.organizationalUnit.externalId)",
        },
      },
      Resources: Object.fromEntries(
        roles.map((r) => [
          logicalId(r.fn),
          {
            Type: "AWS::IAM::Role",
            Properties: {
              RoleName: r.name,
              Description: r.description,
              AssumeRolePolicyDocument: r.trustPolicy,
              Policies: [{ PolicyName: r.policyName, PolicyDocument: r.policy }],
            },
          },
        ]),
      ),
      Outputs: Object.fromEntries(roles.map((r) => [`${logicalId(r.fn)}Arn`, { Value: { "Fn::GetAtt": [logicalId(r.fn), "Arn"] } }])),
    };
    return {
      file: `${base}${groups.size > 1 ? `-${i + 1}` : ""}.json`,
      accounts: g.accounts,
      ...(g.organizationalUnit ? { organizationalUnit: g.organizationalUnit } : {}),
      regions,
      template: toCloudFormation(template) as { [key: string]: Json },
    };
  });
}

/** The file's text: what the script writes. */
export function templateText(t: MemberRoleTemplate): string {
  return `${JSON.stringify(t.template, null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const stage = opt("--stage") ?? "ci";
  const central = opt("--central-account");
  const out = opt("--out") ?? path.join("out", "member-roles");
  if (!central) {
    console.error("usage: npm run member-role-template -- --central-account <12-digit id> [--stage <stage>] [--out <dir>]");
    process.exit(2);
  }
  let templates: ReturnType<typeof memberRoleTemplates>;
  try {
    templates = memberRoleTemplates(loadConfig("ops-autopilot", stage), central);
  } catch (err) {
    // A missing config, a config without a fleet, a bad account id: the message says what to do; no stack trace.
    console.error(`member-role-template: ${(err as Error).message}`);
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  for (const t of templates) {
    const file = path.join(out, t.file);
    writeFileSync(file, templateText(t));
    const targets = [...t.accounts.map((a) => `${a.id} (${a.name})`), ...(t.organizationalUnit ? [`every account of ${t.organizationalUnit}`] : [])];
    // IAM is global: a second stack instance of the same account (another region) would collide on the role names.
    console.log(`wrote ${file}: ${targets.join(", ")}; roles for ${t.regions.join(", ")}; deploy one stack instance per account (one region)`);
  }
}
