import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import { sts } from "./clients.ts";
import type { FleetConfig, FleetFunction } from "../schemas/config-fleet.ts";
import type { FleetTargetEvent } from "../schemas/events-fleet.ts";

/**
 * Credentials for one member account of the fleet (schemas/config-fleet.ts): the calling function's member role there
 * (stacks/member-roles.ts memberRoleArn, carried by the fan-out's item as `target.roleArn`), assumed with the account's
 * external id from the configuration. The item carries no external id (schemas/events-fleet.ts says why), and neither
 * does anything this module returns or throws: the id is what keeps our role from being used as a confused deputy.
 *
 * AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * - RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`; it shows in the member account's CloudTrail and in the
 *   session's ARN, so it names the stage and the function: `<app>-<stage>-<function>`;
 * - DurationSeconds: 900 up to the role's maximum session duration (default 3600), and at most 3600 for role chaining,
 *   which this is (a Lambda function runs as a role session of its execution role);
 * - a role that does not exist and a trust policy that refuses the caller both answer `AccessDenied`, as does our own
 *   role when its policy does not allow `sts:AssumeRole` on that role: the error says all three.
 */

/** The member role's credentials, as the SDK's `credentials` option takes them. */
export interface TargetIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** A client's credentials for one target: `key` names the role session (clients are cached by it), `provider` answers them. */
export interface TargetCredentials {
  key: string;
  provider: () => Promise<TargetIdentity>;
}

/** What the assumption reads of the stage's configuration: the names, and the fleet section for the external id. */
export interface FleetStage {
  app: string;
  stage: string;
  fleet?: FleetConfig;
}

export interface AssumeMemberRoleInput {
  config: FleetStage;
  fn: FleetFunction;
  target: Pick<FleetTargetEvent, "account" | "accountName" | "roleArn">;
  /** The STS endpoint's region (the function's own: regional endpoints answer for every account). */
  region: string;
  /** How long the job may run, seconds (the function's timeout): the session lasts that long plus the refresh margin. */
  jobSeconds: number;
}

export interface AssumeRoleDeps {
  /** The clock the cache judges expiry by (ms). */
  now?: () => number;
  /** The STS client in `region`, with the function's own credentials. */
  sts?: (region: string) => STSClient;
}

/** STS's bounds (API_AssumeRole.html): DurationSeconds from 900; 3600 at most when a role session assumes a role. */
export const MIN_SESSION_SECONDS = 900;
export const MAX_CHAINED_SESSION_SECONDS = 3600;
/** Cached credentials are used until this long before they expire; then the role is assumed again. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** RoleSessionName: "Length Constraints: Minimum length of 2. Maximum length of 64. Pattern: [\w+=,.@-]*". */
export const MAX_SESSION_NAME = 64;

/**
 * `<app>-<stage>-<function>`, within RoleSessionName's 64 characters and `[\w+=,.@-]`: a longer one keeps the
 * function's name whole and cuts the `<app>-<stage>` part.
 *
 * @example
 * roleSessionName({ app: "ops-autopilot", stage: "prod" }, "backup") // -> "ops-autopilot-prod-backup"
 */
export function roleSessionName(config: Pick<FleetStage, "app" | "stage">, fn: FleetFunction): string {
  const prefix = `${config.app}-${config.stage}`.replace(/[^\w+=,.@-]/g, "-");
  const room = MAX_SESSION_NAME - fn.length - 1;
  return `${prefix.slice(0, room)}-${fn}`;
}

/** The session's length for a job of `jobSeconds`: the job plus the refresh margin, within 900 and 3600 seconds. */
export function sessionSeconds(jobSeconds: number): number {
  const wanted = Math.ceil(jobSeconds + REFRESH_MARGIN_MS / 1000);
  return Math.min(MAX_CHAINED_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, wanted));
}

/** The external id the member roles of `account` require: its own entry's, else the OU's (an account discovered in it). */
export function externalIdFor(config: FleetStage, account: string): string {
  const fleet = config.fleet;
  if (!fleet) throw new Error(`the ${config.stage} configuration has no fleet section: account ${account} is not a member`);
  const listed = fleet.accounts.find((a) => a.id === account);
  if (listed) return listed.externalId;
  if (fleet.organizationalUnit) return fleet.organizationalUnit.externalId;
  throw new Error(`account ${account} is not in fleet.accounts and the fleet names no organizationalUnit`);
}

/** AssumeRole was refused: the member role is missing, its trust refuses us, or our role may not assume it. */
export class MemberRoleRefusedError extends Error {
  override name = "AccessDenied";
  readonly account: string;
  readonly accountName: string;
  readonly roleArn: string;
  constructor(target: AssumeMemberRoleInput["target"], fn: FleetFunction) {
    super(
      `account ${target.account} (${target.accountName}): AssumeRole on ${target.roleArn} for the ${fn} function was refused (AccessDenied): ` +
        "the role is missing, or its trust policy refuses us (external id, principal), or our own role may not assume it; STS does not say which",
    );
    this.account = target.account;
    this.accountName = target.accountName;
    this.roleArn = target.roleArn;
  }
}

/** The function's own STS client (adapters/clients.ts: cached per region, read-only under `npm run plan`). */
const defaultSts = (region: string): STSClient => sts(region);

interface Cached {
  identity: Promise<TargetIdentity>;
  /** Known once the answer is in; until then the pending promise is shared. */
  expiresMs?: number;
}

/** Sessions by role ARN and session name: one AssumeRole per role until 5 minutes before its credentials expire. */
const sessions = new Map<string, Cached>();

/** Forget every cached session (tests). */
export function resetMemberSessions(): void {
  sessions.clear();
}

/** The error STS gave, with the external id cut out of its message wherever it appears (a ValidationError quotes the value). */
function redacted(err: unknown, externalId: string, target: AssumeMemberRoleInput["target"]): Error {
  const e = err as { name?: string; message?: string };
  const message = String(e?.message ?? err)
    .split(externalId)
    .join("<external id>");
  const out = new Error(`account ${target.account} (${target.accountName}): AssumeRole on ${target.roleArn} failed: ${e?.name ?? "Error"}: ${message}`);
  out.name = e?.name ?? "Error";
  return out;
}

/**
 * The member role's credentials for `fn` in the target account, from the cache while they have more than 5 minutes
 * left. A refused AssumeRole becomes {@link MemberRoleRefusedError}, naming the account and the role.
 */
export async function assumeMemberRole(input: AssumeMemberRoleInput, deps: AssumeRoleDeps = {}): Promise<TargetIdentity> {
  const now = deps.now ?? Date.now;
  const sessionName = roleSessionName(input.config, input.fn);
  const key = `${input.target.roleArn}|${sessionName}`;
  const hit = sessions.get(key);
  if (hit && (hit.expiresMs === undefined || now() < hit.expiresMs - REFRESH_MARGIN_MS)) return hit.identity;
  const externalId = externalIdFor(input.config, input.target.account);
  const client = (deps.sts ?? defaultSts)(input.region);
  const entry = {} as Cached;
  entry.identity = client
    .send(
      new AssumeRoleCommand({
        RoleArn: input.target.roleArn,
        RoleSessionName: sessionName,
        ExternalId: externalId,
        DurationSeconds: sessionSeconds(input.jobSeconds),
      }),
    )
    .then(
      (out) => {
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
          throw new Error(`account ${input.target.account} (${input.target.accountName}): AssumeRole on ${input.target.roleArn} answered no credentials`);
        }
        entry.expiresMs = c.Expiration.getTime();
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      },
      (err: unknown) => {
        throw (err as { name?: string })?.name === "AccessDenied"
          ? new MemberRoleRefusedError(input.target, input.fn)
          : redacted(err, externalId, input.target);
      },
    );
  // A failure is not cached: the next call asks STS again.
  entry.identity.catch(() => sessions.get(key) === entry && sessions.delete(key));
  sessions.set(key, entry);
  return entry.identity;
}

/**
 * The credentials adapters/clients.ts builds a target's clients with: a provider the SDK calls whenever its copy is
 * about to expire, answered from the cache above.
 */
export function memberCredentials(input: AssumeMemberRoleInput, deps: AssumeRoleDeps = {}): TargetCredentials {
  return { key: `${input.target.roleArn}|${roleSessionName(input.config, input.fn)}`, provider: () => assumeMemberRole(input, deps) };
}
