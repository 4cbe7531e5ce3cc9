/**
 * The fake AWS account: an in-memory AWS (RDS, EC2, S3, Route 53, CloudWatch) behind the real SDK clients.
 * It knows nothing of the app (no import from core/, schemas/, adapters/, runbooks/, functions/ or stacks/;
 * test/unit/arch/directions.test.ts holds it to that): the app-level entry sandbox/index.ts wraps it.
 *
 * `createSandbox()` mocks the client classes with aws-sdk-client-mock, so every client the
 * unmodified adapters create (adapters/clients.ts) is served by the simulation. States follow a
 * fake clock; quotas, page sizes, error names and shapes are AWS's. See sandbox/README.md.
 *
 * @example
 * const sb = createSandbox({ clock: new FakeClock("2025-01-01T02:00:00Z"), regions: ["eu-west-1", "eu-central-1"] });
 * sb.rds.addInstance("eu-west-1", { id: "app-db", tags: { "ops-autopilot:backup": "default" } });
 * await new RDSClient({ region: "eu-west-1" }).send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "app-db", DBSnapshotIdentifier: "app-db-daily-20250101" }));
 * sb.clock.advance(15 * MINUTE); // now `available`
 * sb.restore();
 *
 * Adding a service (Route 53, CloudWatch, ...): write sandbox/aws/<service>.ts exporting a factory
 * `(core, options) => ServiceSim & { ...inspection API }` (see engine.ts ServiceSim) and add one
 * line to SERVICES below; `sb.<service>` is then typed and its client class mocked. A service can
 * read another's state through its own factory arguments (e.g. pass `rds` to a CloudWatch
 * factory to derive ReplicaLag), since factories run in the order listed.
 */
import type { AwsStub } from "aws-sdk-client-mock";
import { type FakeClock, toSandboxClock, type Clock, type SandboxClock } from "./clock.ts";
import { createEc2Sim, type Ec2World } from "./ec2.ts";
import { SandboxCore, type CallRecord, type Injection, type InjectionHandle, type KmsState, type ServiceSim } from "./engine.ts";
import { createRdsSim, type RdsSim, type RdsWorld } from "./rds.ts";
import { createRdsDataSim } from "./rds-data.ts";
import { createSecretsManagerSim, type SecretsManagerSim } from "./secrets-manager.ts";
import { createLambdaSim } from "./lambda.ts";
import { createSnsSim } from "./sns.ts";
import { createS3Sim } from "./s3.ts";
import { withRdsPromotion } from "./rds-promotion.ts";
import { createRoute53Sim } from "./route53.ts";
import { createCloudWatchSim } from "./cloudwatch.ts";
import { createCostExplorerSim } from "./cost-explorer.ts";
import { DEFAULT_DURATIONS, DEFAULT_LIMITS, type Durations, type Limits, type SandboxSnapshot } from "./types.ts";
import { createEnforcer, type Enforcer, type PrincipalResolver } from "./iam/enforce.ts";
import { Accounts, type RoleSpec, type SandboxCredentials, type SandboxRole, type Session } from "./accounts.ts";
import { createStsSim } from "./sts.ts";
import { createOrganizationsSim } from "./organizations.ts";
import type { CreateKeyOptions, KeyPolicyStatement } from "./kms.ts";
import type { ResourceLookup } from "./iam/requests.ts";
import { flushUsage } from "./iam/usage.ts";
import { RateLimiter, type RateLimitOverrides, type RateLimitsView } from "./rate-limits.ts";

export { FakeClock, MINUTE, HOUR, DAY, Timeline, type Clock, type SandboxClock } from "./clock.ts";
export { rdsError, ec2Error, s3Error, isSdkRetryable, SandboxUnsupportedError, type FaultKind, type SandboxServiceError } from "./errors.ts";
export type { CallRecord, CommandContext, Injection, InjectionHandle, ServiceSim, CommandHandler } from "./engine.ts";
export type { SandboxSnapshot, Durations, Limits } from "./types.ts";
export { DEFAULT_DURATIONS, DEFAULT_LIMITS } from "./types.ts";
export type { RdsSim, AddInstance, AddCluster, SeedSnapshot, RestoreOutcome } from "./rds.ts";
export { INSTANCE_CLASSES, STORAGE_QUOTA_GIB, RESTORE_BACKING_UP_MS } from "./rds.ts";
export type { RdsDataSim, SqlAnswer, SqlValue } from "./rds-data.ts";
export type { SecretsManagerSim } from "./secrets-manager.ts";
export type { LambdaSim, SandboxLambdaContext, SandboxLambdaHandler } from "./lambda.ts";
export type { SnsSim } from "./sns.ts";
export type { Ec2Sim, AddVolume, AddImage, SeedEbsSnapshot } from "./ec2.ts";
export type { S3Sim, S3ObjectView } from "./s3.ts";
export type { RdsSimWithPromotion } from "./rds-promotion.ts";
export type { Route53Sim } from "./route53.ts";
export type { CloudWatchSim, AlarmStateChangeEvent } from "./cloudwatch.ts";
export type { CostExplorerSim, CostLine } from "./cost-explorer.ts";
export type { SandboxSnapshotKind } from "./types.ts";
export { createEnforcer, accessDeniedError, type Enforcer, type Principal, type PrincipalResolver, type AccessDeniedRecord } from "./iam/enforce.ts";
export type { PolicyStatement, PolicyCondition } from "./iam/policy.ts";
export type { RoleSpec, TrustStatement, SandboxRole, SandboxCredentials } from "./accounts.ts";
export type { StsSim } from "./sts.ts";
export type { OrganizationsSim, OrganizationAccountSpec, OrganizationAccountStatus } from "./organizations.ts";
export type { KeyPolicyStatement } from "./kms.ts";
export {
  RATE_LIMITS,
  bucketFor,
  minimumWallTime,
  isSdkThrottling,
  type RateLimit,
  type RateLimitRow,
  type RateLimitOverrides,
  type RateLimitsView,
  type CallSpec,
  type MinimumTime,
} from "./rate-limits.ts";

/** The account every sandbox is in unless `accountId` says otherwise. */
export const DEFAULT_ACCOUNT_ID = "123456789012";

export interface SandboxOptions {
  /** Default: a FakeClock at 2025-01-01T00:00:00Z. An external `{ now() }` clock cannot be advanced through `sb.clock`. */
  clock?: FakeClock | Clock;
  regions: readonly string[];
  /** Default 123456789012. */
  accountId?: string;
  durations?: Partial<Durations>;
  limits?: Partial<Limits>;
  /** S3 buckets that exist from the start. */
  buckets?: readonly string[];
  /**
   * "sdk" (default): retryable errors (throttling, 5xx) are retried up to the client's
   * `maxAttempts` with no delay, like the SDK minus its sleeps. "none": every attempt's error
   * reaches the caller.
   */
  retry?: "sdk" | "none";
  /** Keep command inputs in `sb.calls` (default true). */
  recordInputs?: boolean;
  /** Calls kept for aws-sdk-client-mock-vitest matchers on `sb.mock()` (default 5000; see engine.ts). */
  mockHistoryLimit?: number;
  /**
   * IAM enforcement: every call is evaluated against the principal `principal` names at the time of the call;
   * a resolver returning undefined (and no resolver at all) means the account's administrator, so every call is
   * allowed. `false` turns enforcement off (`sb.iam` is then undefined). The app-level createSandbox
   * (sandbox/index.ts) supplies the functions' roles as the resolver.
   */
  iam?: false | AwsIamOptions;
  /**
   * API rate limits (rate-limits.ts): every call draws a token from its bucket (per account, region and service or
   * action, at AWS's rates); an empty bucket answers the service's throttling error, and the emulated SDK retries it
   * after its backoff, slept on the sandbox clock (which therefore moves during a throttled call). `true` uses
   * RATE_LIMITS as is; an object overrides buckets by service (`rds`) or bucket (`ec2:snapshots-volumes`), `false`
   * for one of them turns it off; `false` turns rate limits off. Default: DEFAULT_RATE_LIMITS.
   */
  rateLimits?: boolean | RateLimitOverrides;
  /**
   * Serve CostExplorerClient with the simulated Cost Explorer (cost-explorer.ts). Off by default: tests that answer
   * Cost Explorer with their own aws-sdk-client-mock stub keep it (a second mock of the class would replace theirs).
   */
  costExplorer?: boolean;
}

/** Whether a sandbox has rate limits unless `rateLimits` says otherwise. */
export const DEFAULT_RATE_LIMITS = true;

export interface AwsIamOptions {
  /** Who is calling now; undefined: the administrator. */
  principal?: PrincipalResolver;
  /** Count authorizations for `npm run iam-report` (default true; tests of the enforcement itself turn it off). */
  recordUsage?: boolean;
}

export interface ResolvedOptions {
  durations: Durations;
  limits: Limits;
  buckets: readonly string[];
  /** Every account of the sandbox (STS assumes roles across them). */
  accounts: Accounts<unknown>;
}

type Factory = (core: SandboxCore, options: ResolvedOptions) => ServiceSim;

/** The registry: one line per simulated service. */
const SERVICES = {
  rds: (core: SandboxCore, o: ResolvedOptions) => withRdsPromotion(createRdsSim(core, o.durations, o.limits, o.accounts as unknown as RdsWorld)),
  ec2: (core: SandboxCore, o: ResolvedOptions) => createEc2Sim(core, o.durations, o.limits, o.accounts as unknown as Ec2World),
  s3: (core: SandboxCore, o: ResolvedOptions) => createS3Sim(core, o.buckets),
  route53: (core: SandboxCore) => createRoute53Sim(core),
  cloudwatch: (core: SandboxCore) => createCloudWatchSim(core),
  // Before rdsData: the Data API reads the secret it is given for its caller.
  secretsManager: (core: SandboxCore) => createSecretsManagerSim(core),
  rdsData: (core: SandboxCore) => createRdsDataSim(core, core.service<RdsSim>("rds"), core.service<SecretsManagerSim>("secretsManager")),
  lambda: (core: SandboxCore) => createLambdaSim(core),
  sns: (core: SandboxCore) => createSnsSim(core),
  sts: (core: SandboxCore, o: ResolvedOptions) => createStsSim(core, o.accounts),
  costExplorer: (core: SandboxCore) => createCostExplorerSim(core),
  organizations: (core: SandboxCore, o: ResolvedOptions) => createOrganizationsSim(core, o.accounts),
} satisfies Record<string, Factory>;

export type ServiceName = keyof typeof SERVICES;
type Services = { readonly [K in ServiceName]: ReturnType<(typeof SERVICES)[K]> };

export interface SandboxInjection extends Omit<Injection, "service"> {
  service: ServiceName;
}

export interface SandboxApi {
  readonly clock: SandboxClock;
  readonly accountId: string;
  readonly regions: readonly string[];
  /** Every attempt of every command: `{ service, region, command, input, at, attempt, error? }`. */
  readonly calls: CallRecord[];
  /** KMS keys to treat as inaccessible: `sb.kms.deny(keyArn)`. */
  readonly kms: KmsState;
  /** Fail matching calls with a real AWS error; see Injection. Default `times: 1`. */
  inject(injection: SandboxInjection): InjectionHandle;
  clearInjections(): void;
  /** Calls to a service (and command), all attempts. */
  callsTo(service: ServiceName, command?: string): CallRecord[];
  resetCalls(): void;
  /** Every snapshot (RDS instance, Aurora cluster, EBS; ours only for EBS) in a region or all regions, at the current time. */
  snapshots(region?: string): SandboxSnapshot[];
  /** The aws-sdk-client-mock stub of a service, for aws-sdk-client-mock-vitest matchers. */
  mock(service: ServiceName): AwsStub<object, never, unknown>;
  /** Undo all mocks. Idempotent. */
  restore(): void;
  /** "sdk" | "none"; may be switched between steps of a test. */
  retry: "sdk" | "none";
  /** IAM enforcement: `sb.iam.denials` lists every refused authorization; undefined when created with `iam: false`. */
  readonly iam: Enforcer | undefined;
  /** Rate limits: `sb.rateLimits.throttles()` counts throttles per `service:Command`; undefined when off. */
  readonly rateLimits: RateLimitsView | undefined;
}

/** One account of the sandbox: its services (as `sb.rds`, `sb.ec2`… are the default account's), roles and keys. */
export type SandboxAccount = Services & {
  readonly id: string;
  readonly name: string;
  /** The account's KMS keys treated as inaccessible. */
  readonly kms: KmsState;
  /** A role in this account: its trust policy (who may assume it, with which external id) and its policies. */
  addRole(spec: RoleSpec): SandboxRole;
  /** Long-term keys of this account's administrator: a client built with them acts in this account, every call allowed. */
  adminCredentials(): SandboxCredentials;
  /** This account's snapshots (RDS and its own EBS), as `sb.snapshots`. */
  snapshots(region?: string): SandboxSnapshot[];
  /**
   * A customer managed KMS key of this account, with its key policy (default: this account's root, `kms:*`, so its own IAM
   * policies decide) and its aliases (kms:ResourceAliases of every request on it); returns the key ARN. Another account
   * may use it only where the policy names it (kms.ts).
   */
  createKey(region: string, options?: CreateKeyOptions): string;
  setKeyPolicy(keyArn: string, policy: readonly KeyPolicyStatement[]): void;
};

export interface SandboxAccountsApi {
  /** Another account (12 digits) with all the simulated services, reached through AssumeRole or its admin keys. */
  addAccount(id: string, options?: { name?: string }): SandboxAccount;
  /** An account by id; the default account too. */
  account(id: string): SandboxAccount;
  /** Every account id, the default first. */
  accountIds(): string[];
}

export type Sandbox = Services & SandboxApi & SandboxAccountsApi;

let active: SandboxApi | undefined;

export function createSandbox(options: SandboxOptions): Sandbox {
  if (!options.regions.length) throw new Error("createSandbox: regions must not be empty");
  // One sandbox owns the client classes at a time; restore a forgotten one so its stubs unwind in order.
  active?.restore();
  const core = new SandboxCore({
    clock: toSandboxClock(options.clock),
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    regions: options.regions,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.recordInputs !== undefined ? { recordInputs: options.recordInputs } : {}),
    ...(options.mockHistoryLimit !== undefined ? { mockHistoryLimit: options.mockHistoryLimit } : {}),
  });
  const limitsOption = options.rateLimits ?? DEFAULT_RATE_LIMITS;
  if (limitsOption !== false) {
    core.rateLimits = new RateLimiter(core.clock, core.accountId, limitsOption === true ? {} : { overrides: limitsOption });
  }
  const build = (on: SandboxCore, mocked: boolean): Services => {
    const services = {} as Record<string, ServiceSim>;
    for (const [name, factory] of Object.entries(SERVICES) as Array<[string, Factory]>) {
      const sim = factory(on, resolved);
      if (sim.service !== name) throw new Error(`sandbox: factory ${name} returned service ${sim.service}`);
      if (mocked && (name !== "costExplorer" || options.costExplorer === true)) on.register(sim);
      else on.registerUnmocked(sim);
      services[name] = sim;
    }
    return services as unknown as Services;
  };
  const accounts = new Accounts<Services>(core, (on) => build(on, false));
  const resolved: ResolvedOptions = {
    durations: { ...DEFAULT_DURATIONS, ...options.durations },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    buckets: options.buckets ?? [],
    accounts: accounts as Accounts<unknown>,
  };
  const typed = build(core, true);
  accounts.setRoot(typed);
  core.router = accounts;
  if (options.iam) accounts.resolver = options.iam.principal ?? (() => undefined);

  let enforcer: Enforcer | undefined;
  if (options.iam !== false) {
    enforcer = createEnforcer(options.iam?.principal ?? (() => undefined), { recordUsage: options.iam?.recordUsage ?? true });
    const lookups = new Map<string, ResourceLookup>();
    const lookupOf = (account: string): ResourceLookup => {
      let lookup = lookups.get(account);
      if (!lookup) {
        lookup = resourceLookup(accounts.get(account).services, (region, ref) => accounts.keys.resolve(account, region, ref));
        lookups.set(account, lookup);
      }
      return lookup;
    };
    const e = enforcer;
    // A call with sandbox-issued credentials is authorized as its session in its own account; any other as before.
    const envOf = (region: string, caller: Session | undefined) => {
      const account = caller?.account ?? core.accountId;
      return { region, account, partition: "aws", lookup: lookupOf(account) };
    };
    core.authorizer = {
      authorize: (service, command, input, region, target) => {
        const caller = target?.caller as Session | undefined;
        e.authorize(service, command, input, envOf(region, caller), caller);
      },
      mapError: (service, command, input, region, err, target) => {
        const caller = target?.caller as Session | undefined;
        return e.mapError(service, command, input, envOf(region, caller), err, caller);
      },
    };
  }

  const accountApi = (id: string): SandboxAccount => {
    const entry = accounts.get(id);
    return Object.assign(Object.create(null) as object, entry.services, {
      id,
      name: entry.name,
      kms: entry.core.kms,
      addRole: (spec: RoleSpec) => accounts.addRole(id, spec),
      adminCredentials: () => accounts.adminCredentials(id),
      snapshots: (region?: string) => [...entry.services.rds.snapshots(region), ...entry.services.ec2.snapshots(region)],
      createKey: (region: string, opts: CreateKeyOptions = {}) => accounts.keys.create(id, region, opts).arn,
      setKeyPolicy: (keyArn: string, policy: readonly KeyPolicyStatement[]) => accounts.keys.setPolicy(keyArn, policy),
    }) as SandboxAccount;
  };

  const api: SandboxApi = {
    clock: core.clock,
    accountId: core.accountId,
    regions: core.regions,
    calls: core.calls,
    kms: core.kms,
    inject: (injection) => core.inject(injection),
    clearInjections: () => core.clearInjections(),
    callsTo: (service, command) => core.calls.filter((c) => c.service === service && (command === undefined || c.command === command)),
    resetCalls: () => {
      core.calls.length = 0;
    },
    snapshots: (region) => [...typed.rds.snapshots(region), ...typed.ec2.snapshots(region)],
    mock: (service) => core.mock(service),
    iam: enforcer,
    rateLimits: core.rateLimits,
    restore: () => {
      flushUsage();
      core.restore();
      if (active === api) active = undefined;
    },
    get retry() {
      return core.retry;
    },
    set retry(mode) {
      core.retry = mode;
    },
  };
  const accountsApi: SandboxAccountsApi = {
    addAccount: (id, opts = {}) => {
      accounts.add(id, opts.name);
      return accountApi(id);
    },
    account: accountApi,
    accountIds: () => accounts.ids(),
  };
  active = api;
  return Object.assign(api, accountsApi, typed) as Sandbox;
}

/** What IAM request mapping reads of one account's state (tags, keys). */
function resourceLookup(services: Services, kmsKey: NonNullable<ResourceLookup["kmsKey"]>): ResourceLookup {
  const lookup: ResourceLookup = {
    kmsKey,
    rdsSnapshot: (region, id, cluster) => services.rds.snapshot(region, id, cluster ? "cluster" : "instance"),
    ebsSnapshot: (region, id) => services.ec2.visibleSnapshot(region, id),
    ebsVolume: (region, id) => services.ec2.volume(region, id),
    rdsResourceTags: (arn) => {
      const [, , , region = "", , type, ...rest] = arn.split(":");
      const id = rest.join(":");
      if (type === "snapshot" || type === "cluster-snapshot") return lookup.rdsSnapshot(region, id, type === "cluster-snapshot")?.tags;
      try {
        return services.rds.tagsOf(region, id, type === "cluster" ? "cluster" : "instance");
      } catch {
        return undefined;
      }
    },
  };
  return lookup;
}
