// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration section `fleet`: the workload accounts one deployment works in, besides its own. Each member account
 * holds one role per fleet function (stacks/member-roles.ts), deployed there with the SST component
 * (stacks/member-roles-component.ts) or the StackSet template (`npm run member-role-template`); the central
 * functions assume it with the account's external id.
 *
 * - `accounts`: listed one by one, each with its own external id;
 * - `organizationalUnit`: every account of an AWS Organizations OU (discovered at run time), one external id for all.
 *
 * `regions` are the stage's regions the jobs run in for that account: the primary region (where backups are made)
 * and any of the DR regions; default all of them.
 */

/** The fleet functions: each has its own member role, so the separation of the central roles holds in every account. */
export const FLEET_FUNCTIONS = ["backup", "copy", "prune", "watchdog"] as const;
export type FleetFunction = (typeof FLEET_FUNCTIONS)[number];

/**
 * STS AssumeRole ExternalId: "Length Constraints: Minimum length of 2. Maximum length of 1224.
 * Pattern: [\w+=,.@:\/-]*" (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html); the IAM quotas page
 * says the same (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). A trust policy accepts a
 * value STS never sends (a space, say), which would lock the role: refused here.
 */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]*$/;
export const EXTERNAL_ID_MESSAGE = "expected 2 to 1224 letters, digits or _+=,.@:/- (STS AssumeRole ExternalId)";
const ExternalIdSchema = z.string().min(2, EXTERNAL_ID_MESSAGE).max(1224, EXTERNAL_ID_MESSAGE).regex(EXTERNAL_ID_PATTERN, EXTERNAL_ID_MESSAGE);

/**
 * IAM role names: "Length Constraints: Minimum length of 1. Maximum length of 64. Pattern: [\w+=,.@-]+"
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html, RoleName).
 */
export const MAX_ROLE_NAME = 64;
const ROLE_NAME_CHARS = /^[\w+=,.@-]+$/;
const RoleNamePrefixSchema = z.string().min(1).regex(ROLE_NAME_CHARS, "expected letters, digits or _+=,.@- (an IAM role name)");

/**
 * An Organizations OU id: "Pattern: ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
 * (https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html, Id).
 */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;

/** Region names as schemas/config.ts's RegionSchema checks them; membership in the stage's regions is checked in {@link fleetIssues}. */
const RegionsSchema = z.array(z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "expected an AWS region such as eu-west-1")).min(1);

const FleetAccountSchema = z
  .object({
    /** The 12-digit AWS account id. */
    id: z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id"),
    /** Names the account in run reports and Slack summaries (Organizations account names are 1 to 50 characters). */
    name: z.string().min(1).max(50),
    /** Member role names are `<roleNamePrefix>-<function>`; default `<app>-<stage>-member`. */
    roleNamePrefix: RoleNamePrefixSchema.optional(),
    /** The value the account's member roles require in `sts:ExternalId`. */
    externalId: ExternalIdSchema,
    /** The stage's regions the jobs run in for this account; default the primary and every DR region. */
    regions: RegionsSchema.optional(),
  })
  .strict();

const FleetOrganizationalUnitSchema = z
  .object({
    /** Every account of this OU is a member (discovered through AWS Organizations at run time). */
    id: z.string().regex(OU_ID_PATTERN, "expected an AWS Organizations OU id such as ou-ab12-cd34ef56"),
    roleNamePrefix: RoleNamePrefixSchema.optional(),
    /** One external id for every account of the OU (a StackSet deploys one template to all of them). */
    externalId: ExternalIdSchema,
    regions: RegionsSchema.optional(),
  })
  .strict();

export const FleetConfigSchema = z
  .object({
    accounts: z.array(FleetAccountSchema).default([]),
    organizationalUnit: FleetOrganizationalUnitSchema.optional(),
  })
  .strict()
  .superRefine((fleet, ctx) => {
    if (!fleet.accounts.length && !fleet.organizationalUnit) {
      ctx.addIssue({ code: "custom", path: [], message: "list accounts, an organizationalUnit, or both" });
    }
    const ids = new Map<string, number>();
    const names = new Map<string, number>();
    fleet.accounts.forEach((a, i) => {
      const id = ids.get(a.id);
      if (id !== undefined) ctx.addIssue({ code: "custom", path: ["accounts", i, "id"], message: `duplicate account id "${a.id}" (also accounts[${id}])` });
      else ids.set(a.id, i);
      const name = names.get(a.name);
      if (name !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["accounts", i, "name"],
          message: `duplicate account name "${a.name}" (also accounts[${name}]): reports name accounts by it`,
        });
      else names.set(a.name, i);
    });
    const targets = [
      ...fleet.accounts.map((a, i) => ({ regions: a.regions, path: ["accounts", i] })),
      { regions: fleet.organizationalUnit?.regions, path: ["organizationalUnit"] },
    ];
    for (const t of targets) {
      const seen = new Set<string>();
      t.regions?.forEach((r, j) => {
        if (seen.has(r)) ctx.addIssue({ code: "custom", path: [...t.path, "regions", j], message: `duplicate region "${r}"` });
        seen.add(r);
      });
    }
  });

export type FleetConfig = z.output<typeof FleetConfigSchema>;
export type FleetAccount = FleetConfig["accounts"][number];
export type FleetOrganizationalUnit = NonNullable<FleetConfig["organizationalUnit"]>;
/** An account listed by id, or the accounts of the OU. */
export type FleetTarget = FleetAccount | FleetOrganizationalUnit;

/** What of the stage's configuration the fleet checks read. */
interface StageView {
  app: string;
  stage: string;
  primaryRegion: string;
  drRegions: readonly { region: string; kmsKeyId: string }[];
  backup: { sourceKmsKeyIds: readonly string[] };
  fleet?: FleetConfig;
}

/** The stage's regions: the primary, then the DR regions. */
const stageRegions = (cfg: Pick<StageView, "primaryRegion" | "drRegions">): string[] => [cfg.primaryRegion, ...cfg.drRegions.map((d) => d.region)];

/** The regions the jobs run in for `target`: its own, else every region of the stage (primary first). */
export function fleetTargetRegions(cfg: Pick<StageView, "primaryRegion" | "drRegions">, target: Pick<FleetTarget, "regions">): string[] {
  return target.regions ? [...target.regions] : stageRegions(cfg);
}

/** `<roleNamePrefix>` of a target: its own, else `<app>-<stage>-member`. */
export function memberRolePrefix(cfg: Pick<StageView, "app" | "stage">, target?: Pick<FleetTarget, "roleNamePrefix">): string {
  return target?.roleNamePrefix ?? `${cfg.app}-${cfg.stage}-member`;
}

/** A member role's name: `<prefix>-<function>`. */
export function memberRoleName(cfg: Pick<StageView, "app" | "stage">, fn: FleetFunction, target?: Pick<FleetTarget, "roleNamePrefix">): string {
  return `${memberRolePrefix(cfg, target)}-${fn}`;
}

/**
 * Why the stage must not be deployed into `account`, if it must not: the account is one of its own fleet's. The stage's
 * jobs act in the account they are deployed in on their own schedules, with their own state (claims, prune's ledger
 * `state/prune/<day>.json`, the alert state); a fleet item of that account keeps its state under the account
 * (`state/prune/<account>/<day>.json`), so each job would run there twice and prune's daily caps would count in two
 * ledgers, each allowing the full cap. Checked with the deploying credentials' account, before anything is declared.
 */
export function fleetDeployProblem(cfg: Pick<StageView, "stage" | "fleet">, account: string): string | undefined {
  const i = cfg.fleet?.accounts.findIndex((a) => a.id === account) ?? -1;
  if (i < 0) return undefined;
  return (
    `refusing to deploy stage ${cfg.stage} into account ${account}: it is fleet.accounts[${i}] (${cfg.fleet!.accounts[i]!.name}). ` +
    "The stage's own jobs act in the account it is deployed in; as a fleet member too, each would run there twice and prune's daily caps would count in two ledgers. " +
    "Remove it from fleet.accounts"
  );
}

/** A key ARN or a bare key id names one key of one account; an alias (name or ARN) resolves in whichever account uses it. */
const isAlias = (keyRef: string): boolean => keyRef.startsWith("alias/") || /^arn:[^:]+:kms:[^:]+:\d{12}:alias\/.+$/.test(keyRef);

/**
 * What the fleet section and the rest of the stage's configuration refuse together, paths from the config root:
 * regions outside the stage's, a target without the primary region, role names IAM refuses, and KMS keys named by
 * key ARN or id (a key of the central account, which no member account's copy can use: member roles are scoped to
 * the member's own keys, found by alias with `kms:ResourceAliases`, stacks/iam.ts kmsStatements).
 */
export function fleetIssues(cfg: StageView): { path: (string | number)[]; message: string }[] {
  const fleet = cfg.fleet;
  if (!fleet) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  const regions = stageRegions(cfg);
  const targets: { target: FleetTarget; path: (string | number)[] }[] = [
    ...fleet.accounts.map((a, i) => ({ target: a as FleetTarget, path: ["fleet", "accounts", i] })),
    ...(fleet.organizationalUnit ? [{ target: fleet.organizationalUnit as FleetTarget, path: ["fleet", "organizationalUnit"] }] : []),
  ];
  for (const { target, path } of targets) {
    target.regions?.forEach((r, j) => {
      if (!regions.includes(r)) {
        out.push({ path: [...path, "regions", j], message: `"${r}" is not a region of this stage (${regions.join(", ")}): the member roles allow only those` });
      }
    });
    if (target.regions && !target.regions.includes(cfg.primaryRegion)) {
      out.push({ path: [...path, "regions"], message: `must include primaryRegion ${cfg.primaryRegion}: backups are made there and copied from there` });
    }
    const longest = FLEET_FUNCTIONS.map((fn) => memberRoleName(cfg, fn, target)).reduce((a, b) => (b.length > a.length ? b : a));
    if (longest.length > MAX_ROLE_NAME) {
      const room = MAX_ROLE_NAME - (longest.length - memberRolePrefix(cfg, target).length);
      out.push({
        path: [...path, "roleNamePrefix"],
        message: `the member role name "${longest}" is ${longest.length} characters; IAM allows ${MAX_ROLE_NAME}: set a roleNamePrefix of at most ${room}`,
      });
    }
  }
  const keyMessage = (keyRef: string) =>
    `${JSON.stringify(keyRef)} names one key of one account, which member accounts cannot use: with a fleet, give the key as an alias (alias/<name>) that exists in every member account`;
  cfg.drRegions.forEach((d, i) => {
    if (!isAlias(d.kmsKeyId)) out.push({ path: ["drRegions", i, "kmsKeyId"], message: keyMessage(d.kmsKeyId) });
  });
  cfg.backup.sourceKmsKeyIds.forEach((k, i) => {
    if (!isAlias(k)) out.push({ path: ["backup", "sourceKmsKeyIds", i], message: keyMessage(k) });
  });
  return out;
}
