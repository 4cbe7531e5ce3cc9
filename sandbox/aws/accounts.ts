/**
 * Several AWS accounts in one sandbox. The sandbox's own account (`accountId`, default 123456789012) is the default:
 * every client without credentials the sandbox issued acts in it, exactly as before accounts existed. Each added
 * account is a full set of the simulated services on its own SandboxCore (its own snapshots, buckets, KMS keys),
 * sharing the clock and the call log; a client reaches it only with credentials the sandbox issued: a role session
 * from `AssumeRole` (sts.ts) or an account's administrator keys (`account.adminCredentials()`).
 *
 * How a call finds its credentials: `mockClient()` replaces `send`, so the SDK's signing middleware never runs, but the
 * mocked `send` is called on the client, whose resolved `config.credentials` is a provider. The SDK marks a provider
 * built from credentials the caller supplied with `attributed: true` (@aws-sdk/core resolveAwsSdkSigV4Config); the
 * default chain's provider is never invoked (it would read the environment, files or IMDS). Keys the sandbox issues
 * start with `AKIASBX`/`ASIASBX`; any other key (a test's `AKIDEXAMPLE`) acts in the default account, as before.
 */
import { SandboxCore, type CallRouter, type CallTarget, type KmsState } from "./engine.ts";
import { ec2Error, genericAwsError, rdsError, s3Error, stsError } from "./errors.ts";
import type { Principal, PrincipalResolver } from "./iam/enforce.ts";
import { conditionHolds, type PolicyCondition, type PolicyStatement } from "./iam/policy.ts";
import { KmsKeys } from "./kms.ts";
import type { Ec2Sim, Ec2World } from "./ec2.ts";
import type { CommandContext } from "./engine.ts";

/** Keys the sandbox issues: long-term (administrator) and temporary (role sessions). */
const SANDBOX_KEY = /^(AKIA|ASIA)SBX[A-Z0-9]{13}$/;

/** One statement of a role's trust policy (the `Principal` element plus conditions; the action is sts:AssumeRole). */
export interface TrustStatement {
  effect?: "allow" | "deny";
  /**
   * `Principal: { AWS: [...] }`: an account id (`"111122223333"`) or its root ARN (`arn:aws:iam::111122223333:root`),
   * which trust every principal of that account its own policies allow, or a role ARN, which trusts that role's sessions
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
   */
  principals: readonly string[];
  /** ANDed, as in identity policies; `sts:ExternalId`, `aws:PrincipalAccount`, `aws:PrincipalArn` are in the context. */
  conditions?: readonly PolicyCondition[];
}

export interface RoleSpec {
  name: string;
  trust: readonly TrustStatement[];
  /** The role's identity policies, evaluated for every call its sessions make in the role's account. */
  statements: readonly PolicyStatement[];
  /** 3600 (default) to 43200 seconds. */
  maxSessionDurationSeconds?: number;
}

export interface SandboxRole extends RoleSpec {
  arn: string;
  account: string;
  /** `AROA…`: the first part of an assumed role's AssumedRoleId. */
  roleId: string;
}

/** Credentials as the SDK takes them (`new EC2Client({ region, credentials })`). */
export interface SandboxCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The identity a sandbox-issued key stands for. */
export interface Session {
  account: string;
  /** Undefined: the account's administrator (every call allowed). */
  principal?: Principal;
  /** The role assumed, for a role session. */
  role?: SandboxRole;
  expiresMs?: number;
}

/** Who is calling, as AssumeRole's trust evaluation sees them. */
export interface CallerIdentity {
  account: string;
  /** The principal's ARN for `aws:PrincipalArn` and trust matching: the role ARN of a role session, else the account root. */
  principalArn: string;
  /** The ARN error messages name: `arn:aws:sts::<account>:assumed-role/<role>/<session>` or the account root. */
  displayArn: string;
  /** A role session's chain (AssumeRole with role-session credentials is role chaining: at most one hour). */
  chained: boolean;
}

export interface AccountEntry<S> {
  id: string;
  name: string;
  core: SandboxCore;
  services: S;
  roles: Map<string, SandboxRole>;
}

export class Accounts<S> implements CallRouter, Ec2World {
  private readonly entries = new Map<string, AccountEntry<S>>();
  /** Every customer managed key of every account, with its key policy. */
  readonly keys = new KmsKeys();
  private readonly credentials = new Map<string, Session>();
  private counter = 0;
  /** The default account's current principal (the functions' roles); set by createSandbox. */
  resolver: PrincipalResolver = () => undefined;

  private readonly root: SandboxCore;
  private readonly build: (core: SandboxCore) => S;

  constructor(root: SandboxCore, build: (core: SandboxCore) => S) {
    this.root = root;
    this.build = build;
  }

  get defaultAccount(): string {
    return this.root.accountId;
  }

  /** Registers the default account's services (built by createSandbox on the root core). */
  setRoot(services: S, name = "default"): void {
    this.entries.set(this.root.accountId, { id: this.root.accountId, name, core: this.root, services, roles: new Map() });
  }

  add(id: string, name = id): AccountEntry<S> {
    if (!/^\d{12}$/.test(id)) throw new Error(`sandbox.addAccount: ${id} is not a 12-digit account id`);
    if (this.entries.has(id)) throw new Error(`sandbox.addAccount: account ${id} already exists`);
    const root = this.root;
    const core = new SandboxCore({
      clock: root.clock,
      accountId: id,
      regions: root.regions,
      retry: root.retry,
      recordInputs: root.recordInputs,
      mockHistoryLimit: 0,
    });
    const entry: AccountEntry<S> = { id, name, core, services: undefined as S, roles: new Map() };
    this.entries.set(id, entry);
    entry.services = this.build(core);
    return entry;
  }

  get(id: string): AccountEntry<S> {
    const e = this.entries.get(id);
    if (!e) throw new Error(`sandbox: no account ${id} (sb.addAccount first)`);
    return e;
  }

  find(id: string): AccountEntry<S> | undefined {
    return this.entries.get(id);
  }

  *ec2Sims(): Iterable<Ec2Sim> {
    for (const e of this.entries.values()) {
      const ec2 = (e.services as { ec2?: Ec2Sim } | undefined)?.ec2;
      if (ec2) yield ec2;
    }
  }

  callerRole(ctx: CommandContext): string | undefined {
    const arn = this.callerOf(ctx.caller).principalArn;
    return arn.includes(":role/") ? arn : undefined;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  kms(id: string): KmsState {
    return this.get(id).core.kms;
  }

  addRole(account: string, spec: RoleSpec): SandboxRole {
    const entry = this.get(account);
    if (!/^[\w+=,.@-]{1,64}$/.test(spec.name)) throw new Error(`sandbox.addRole: ${spec.name} is not a valid role name`);
    if (entry.roles.has(spec.name)) throw new Error(`sandbox.addRole: role ${spec.name} already exists in ${account}`);
    const max = spec.maxSessionDurationSeconds ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43_200) throw new Error("sandbox.addRole: maxSessionDurationSeconds is 3600 to 43200");
    const role: SandboxRole = {
      ...spec,
      maxSessionDurationSeconds: max,
      arn: `arn:aws:iam::${account}:role/${spec.name}`,
      account,
      roleId: `AROA${hashId(`${account}/${spec.name}`, 17)}`,
    };
    entry.roles.set(spec.name, role);
    return role;
  }

  role(arn: string): SandboxRole | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) return undefined;
    return this.entries.get(m[1]!)?.roles.get(m[2]!);
  }

  /** Long-term keys of an account's administrator: every call allowed, in that account. */
  adminCredentials(account: string): SandboxCredentials {
    this.get(account);
    const accessKeyId = this.nextKey("AKIA");
    this.credentials.set(accessKeyId, { account });
    return { accessKeyId, secretAccessKey: secretFor(accessKeyId) };
  }

  /** Temporary credentials of a role session (AssumeRole). */
  issueSession(role: SandboxRole, sessionName: string, expiresMs: number): SandboxCredentials {
    const accessKeyId = this.nextKey("ASIA");
    this.credentials.set(accessKeyId, {
      account: role.account,
      role,
      principal: { name: sessionName, roleArn: role.arn, statements: role.statements },
      expiresMs,
    });
    return { accessKeyId, secretAccessKey: secretFor(accessKeyId), sessionToken: `SandboxSessionToken/${accessKeyId}`, expiration: new Date(expiresMs) };
  }

  /** The identity behind a call: its sandbox session (ctx.caller), else the default account's current principal. */
  callerOf(caller: unknown): CallerIdentity {
    const session = caller as Session | undefined;
    if (session) {
      if (session.principal && session.role) {
        return {
          account: session.account,
          principalArn: session.role.arn,
          displayArn: `arn:aws:sts::${session.account}:assumed-role/${session.role.name}/${session.principal.name}`,
          chained: true,
        };
      }
      return {
        account: session.account,
        principalArn: `arn:aws:iam::${session.account}:root`,
        displayArn: `arn:aws:iam::${session.account}:root`,
        chained: false,
      };
    }
    const p = this.resolver();
    const account = this.root.accountId;
    if (!p) return { account, principalArn: `arn:aws:iam::${account}:root`, displayArn: `arn:aws:iam::${account}:root`, chained: false };
    const role = p.roleArn.replace(/^arn:aws:iam::\d{12}:role\/(?:.*\/)?/, "");
    return { account, principalArn: p.roleArn, displayArn: `arn:aws:sts::${account}:assumed-role/${role}/${p.name}`, chained: false };
  }

  route(client: object, service: string): CallTarget | undefined | Promise<CallTarget | undefined> {
    const provider = (client as { config?: { credentials?: unknown } }).config?.credentials as
      | (((o?: unknown) => Promise<{ accessKeyId?: string }>) & { attributed?: boolean })
      | undefined;
    if (typeof provider !== "function" || provider.attributed !== true) return undefined;
    return provider().then(({ accessKeyId = "" }) => this.routeKey(accessKeyId, service));
  }

  private routeKey(accessKeyId: string, service: string): CallTarget | undefined {
    if (!SANDBOX_KEY.test(accessKeyId)) return undefined;
    const session = this.credentials.get(accessKeyId);
    if (!session) return { core: this.root, reject: invalidToken(service) };
    const entry = this.get(session.account);
    if (session.expiresMs !== undefined && this.root.clock.nowMs() >= session.expiresMs)
      return { core: entry.core, caller: session, reject: expiredToken(service) };
    return { core: entry.core, caller: session };
  }

  private nextKey(prefix: "AKIA" | "ASIA"): string {
    this.counter += 1;
    return `${prefix}SBX${this.counter.toString(36).toUpperCase().padStart(13, "0")}`;
  }
}

/**
 * Whether a role's trust policy lets this caller assume it: an explicit Deny wins, else some Allow statement must name
 * the caller (its account, or its role for a role session) and its conditions hold
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
 */
export function trustAllows(role: SandboxRole, caller: CallerIdentity, externalId: string | undefined): boolean {
  const context = {
    "sts:ExternalId": externalId,
    "aws:PrincipalAccount": caller.account,
    "aws:PrincipalArn": caller.principalArn,
  };
  const names = (s: TrustStatement) =>
    s.principals.some((p) => p === "*" || p === caller.account || p === `arn:aws:iam::${caller.account}:root` || p === caller.principalArn);
  const applies = (s: TrustStatement) => names(s) && (s.conditions ?? []).every((c) => conditionHolds(c, context));
  if (role.trust.some((s) => (s.effect ?? "allow") === "deny" && applies(s))) return false;
  return role.trust.some((s) => (s.effect ?? "allow") === "allow" && applies(s));
}

function hashId(text: string, length: number): string {
  let h = 2166136261;
  let out = "";
  for (let round = 0; out.length < length; round++) {
    for (const ch of `${round}:${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(36).toUpperCase();
  }
  return out.slice(0, length);
}

function secretFor(accessKeyId: string): string {
  return `sandbox/${accessKeyId}/${"x".repeat(40)}`.slice(0, 40);
}

/**
 * A key no account knows: the error each protocol answers (awsQuery `InvalidClientTokenId`, EC2 `AuthFailure`, S3
 * `InvalidAccessKeyId`, JSON protocols `UnrecognizedClientException`;
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
function invalidToken(service: string): Error {
  const text = "The security token included in the request is invalid.";
  switch (service) {
    case "ec2":
      return ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
    case "s3":
      return s3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403);
    case "rds":
      return rdsError("InvalidClientTokenId", text, 403);
    case "sts":
      return stsError("InvalidClientTokenId", text, 403);
    case "cloudwatch":
    case "sns":
      return genericAwsError("InvalidClientTokenId", text, 403);
    default:
      return genericAwsError("UnrecognizedClientException", text, 403);
  }
}

/** A session past its Expiration (`ExpiredToken`; EC2 `RequestExpired`; JSON protocols `ExpiredTokenException`). */
function expiredToken(service: string): Error {
  const text = "The security token included in the request is expired";
  switch (service) {
    case "ec2":
      return ec2Error("RequestExpired", "Request has expired.", 400);
    case "s3":
      return s3Error("ExpiredToken", "The provided token has expired.", 400);
    case "rds":
      return rdsError("ExpiredToken", text, 403);
    case "sts":
      return stsError("ExpiredToken", text, 403);
    case "cloudwatch":
    case "sns":
      return genericAwsError("ExpiredToken", text, 403);
    default:
      return genericAwsError("ExpiredTokenException", text, 403);
  }
}
