/**
 * The fleet on the sandbox: a central account (the deployment: its functions' roles, the Reports bucket), workload
 * accounts with the member roles installed exactly as stacks/member-roles.ts generates them (trust and policy), and a
 * backup (vault) account with its customer managed keys. Used by `npm run drill -- fleet` and `bench/fleet.ts`.
 *
 * @example
 *   const world = createFleetWorld({ accounts: DRILL_ACCOUNTS, resources: { rdsInstances: 1, ebsVolumes: 2 } });
 *   await world.invoke("backup", { source: "fleet", target: world.items("backup")[0] });
 *   world.sb.restore();
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { DeleteSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { createSandbox, FakeClock, type CallRecord, type Sandbox, type SandboxAccount, type SandboxOptions } from "../index.ts";
import type { TargetCredentials } from "../../adapters/assume-role.ts";
import { runVaultCopy } from "../../runbooks/vault/copy.ts";
import { parseVaultCopyEvent } from "../../schemas/events-vault.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { vaultCopyStatements } from "../../stacks/key-policy.ts";
import { VAULT_TAG } from "../../core/vault-plan.ts";
import type { PolicyCondition, PolicyStatement } from "../aws/iam/policy.ts";
import type { TrustStatement } from "../aws/accounts.ts";
import type { RateLimitOverrides } from "../aws/rate-limits.ts";
import { resetClients } from "../../adapters/clients.ts";
import { resetMemberSessions } from "../../adapters/assume-role.ts";
import { createHandler, type MetricPoint, type Runtime } from "../../runbooks/lib/handler.ts";
import { backupJobSpec } from "../../runbooks/backup/jobs.ts";
import { runFleetSummary } from "../../runbooks/fleet/summary.ts";
import { parseFleetSummaryEvent, type FleetItemResult } from "../../schemas/events-fleet.ts";
import { parseConfig, type Config, type ConfigInput } from "../../schemas/config.ts";
import { memberRoles } from "../../stacks/member-roles.ts";
import { fleetFanoutDefinition, fleetItems, fleetStateMachineName, type FleetItem } from "../../stacks/fleet-fanout-definition.ts";
import { runFleetDefinition } from "./fleet-run.ts";
import type { FleetFunction } from "../../schemas/config-fleet.ts";
import type { PolicyDocument } from "../../stacks/policy-lint.ts";
import { renderText, type SlackMessage } from "../../core/report/blocks.ts";
import { TAG } from "../../core/types.ts";

export const FLEET_PRIMARY = "eu-west-1";
export const FLEET_DR = "eu-central-1";
/** The deploying account: the central functions' roles and the Reports bucket live here. */
export const CENTRAL_ACCOUNT = "999988887777";
export const FLEET_REPORTS_BUCKET = "ops-autopilot-reports-fleet";
/** The DR copies' key: an alias every member account holds (a fleet refuses key ARNs, schemas/config-fleet.ts). */
export const FLEET_DR_KEY_ALIAS = "alias/ops-autopilot-dr";
export const VAULT_KEY_ALIAS = "alias/ops-autopilot-vault";
/**
 * The alias of each member account's customer managed key, the key its volumes and instances are encrypted with: the
 * configuration names it in backup.sourceKmsKeyIds (an alias ARN; the member roles resolve the alias in their own
 * account), so each member role may use it, by `kms:ResourceAliases`, as a copy's source key.
 */
export const FLEET_WORKLOAD_KEY_ALIAS = "alias/ops-autopilot-workload";

export interface FleetAccountSpec {
  id: string;
  name: string;
  /** false: the account is listed in the fleet, but its member roles were never deployed. Default true. */
  roles?: boolean;
}

/** The drill's accounts: three workload accounts (search's member roles never deployed) and the backup account. */
export const DRILL_ACCOUNTS: readonly FleetAccountSpec[] = [
  { id: "111122223333", name: "payments" },
  { id: "444455556666", name: "search", roles: false },
  { id: "777788889999", name: "analytics" },
];
export const DRILL_VAULT = { id: "555566667777", name: "backup-vault" } as const;

/** The external id of a member account: derived from its name, as an operator would pick one per account. */
export const externalIdOf = (a: Pick<FleetAccountSpec, "name" | "id">): string => `oa-fleet-${a.name}-${a.id.slice(-4)}`;

/** `n` workload accounts named `acct-001`…, ids `1000000000NN`… (the bench's fleet). */
export function benchAccounts(n: number): FleetAccountSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: String(100_000_000_000 + i + 1), name: `acct-${String(i + 1).padStart(3, "0")}` }));
}

export interface FleetConfigOptions {
  stage?: string;
  accounts: readonly FleetAccountSpec[];
  /** DR regions besides the primary (default [FLEET_DR]). */
  drRegions?: readonly string[];
  /** The backup account (the `vault` section), when the scenario has one. */
  vault?: { id: string; regions?: readonly string[] };
  /** The `fleet` policy's tiers and floor (default: the runbook's defaults). */
  policy?: { tiers?: Record<string, unknown>; keepNewest?: number };
  /** `backup.concurrency`: calls in flight per item (default the schema's). */
  concurrency?: number;
  /** The resources are encrypted with each member's {@link FLEET_WORKLOAD_KEY_ALIAS} key: it is a source key of the copies. */
  encrypted?: boolean;
}

/** The stage's configuration: one policy selecting by tag (`ops-autopilot:backup=fleet`), the fleet, and the vault. */
export function fleetScenarioConfig(options: FleetConfigOptions): Config {
  const dr = options.drRegions ?? [FLEET_DR];
  const input: ConfigInput = {
    app: "ops-autopilot",
    stage: options.stage ?? "fleet",
    primaryRegion: FLEET_PRIMARY,
    drRegions: dr.map((region) => ({ region, kmsKeyId: FLEET_DR_KEY_ALIAS })),
    // Retention is what the scenarios measure: a new stage's observe window would hold every delete for 14 days.
    observe: false,
    backup: {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      policies: [{ name: "fleet", selection: { tag: {} }, maxDeletesPerRun: 1_000_000, maxDeletePercent: 100, ...options.policy }],
      ...(options.encrypted ? { sourceKmsKeyIds: [`arn:aws:kms:${FLEET_PRIMARY}:${CENTRAL_ACCOUNT}:${FLEET_WORKLOAD_KEY_ALIAS}`] } : {}),
    },
    fleet: { accounts: options.accounts.map((a) => ({ id: a.id, name: a.name, externalId: externalIdOf(a) })) },
    ...(options.vault
      ? {
          vault: {
            accountId: options.vault.id,
            regions: (options.vault.regions ?? [FLEET_PRIMARY]).map((region) => ({ region, kmsKeyAlias: VAULT_KEY_ALIAS })),
          },
        }
      : {}),
  };
  return parseConfig(input);
}

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);

/** A policy document's Condition map as the sandbox's list of conditions. */
function conditionsOf(condition: Record<string, Record<string, string | readonly string[]>> | undefined): PolicyCondition[] {
  return Object.entries(condition ?? {}).flatMap(([test, byKey]) =>
    Object.entries(byKey).map(([variable, v]) => ({ test, variable, values: typeof v === "string" ? [v] : [...v] })),
  );
}

/** A role's policy document as the sandbox's statements (what IAM stores is what the sandbox evaluates). */
export function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  return doc.Statement.map((s) => ({
    effect: s.Effect === "Deny" ? "deny" : "allow",
    actions: list(s.Action),
    resources: list(s.Resource),
    conditions: conditionsOf(s.Condition as never),
  }));
}

/** A trust policy document as the sandbox's trust statements. */
export function trustOf(doc: PolicyDocument): TrustStatement[] {
  return doc.Statement.map((s) => {
    const principal = (s as unknown as { Principal: { AWS: string | string[] } }).Principal;
    return { effect: s.Effect === "Deny" ? "deny" : "allow", principals: list(principal.AWS), conditions: conditionsOf(s.Condition as never) };
  });
}

/** Resources seeded in each workload account and region, tagged for the `fleet` policy. */
export interface FleetResources {
  rdsInstances?: number;
  ebsVolumes?: number;
  /**
   * Encrypted with the account's customer managed key, alias {@link FLEET_WORKLOAD_KEY_ALIAS} (default false:
   * unencrypted). The configuration then names that alias as a source key, so the member roles may use the key, which
   * a copy names by ARN (the snapshot's KmsKeyId): `kms:ResourceAliases` holds the key's aliases however it is named.
   */
  encrypted?: boolean;
  /** Regions that hold resources (default: the primary only, where backups are made). */
  regions?: readonly string[];
}

export interface FleetWorldOptions extends FleetConfigOptions {
  start?: string;
  resources?: FleetResources;
  /** The sandbox's rate limits (default on, as AWS). */
  rateLimits?: boolean | RateLimitOverrides;
  /** Keep command inputs in `sb.calls` (default true). */
  recordInputs?: boolean;
  /** The sandbox's quotas (the bench raises RDS's 100 manual snapshots per region, as a fleet of that size would). */
  limits?: SandboxOptions["limits"];
  logger?: Logger;
}

export interface PostedMessage {
  at: string;
  fn: string;
  text: string;
  rendered: string;
}

export interface FleetWorld {
  sb: Sandbox;
  clock: FakeClock;
  config: Config;
  accounts: readonly FleetAccountSpec[];
  /** The workload accounts' sandbox views, by id. */
  workload: ReadonlyMap<string, SandboxAccount>;
  vault?: SandboxAccount;
  /** Each workload account's customer managed key (the volumes' and instances' key, shared with the vault) per region. */
  workloadKeys: Record<string, Record<string, string>>;
  /** The fan-out's items for a job: each listed account × region, as stacks/fleet-fanout-definition.ts lists them. */
  items(job: FleetFunction): FleetItem[];
  /** The central runtime the handlers run with (reports in the central bucket; Slack and pages recorded). */
  runtime: Runtime;
  posted: PostedMessage[];
  /** Ids seeded per account and region: `<account>/<region>` -> resource ids. */
  seeded: Record<string, string[]>;
  restore(): void;
}

export const fleetLambdaContext = (id: string): Context => ({ awsRequestId: id, getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

/**
 * The accounts, roles, keys and resources of a fleet scenario. The central account is the sandbox's default account,
 * so the functions run under their own roles (sandbox/scenarios/roles.ts) with the names SST deploys them with, the
 * names the member roles' trust admits.
 */
export function createFleetWorld(options: FleetWorldOptions): FleetWorld {
  const config = fleetScenarioConfig({ ...options, ...(options.resources?.encrypted ? { encrypted: true } : {}) });
  const regions = [config.primaryRegion, ...config.drRegions.map((d) => d.region)];
  const clock = new FakeClock(`${options.start ?? "2026-03-02"}T02:00:00Z`);
  resetClients();
  resetMemberSessions();
  const sb = createSandbox({
    clock,
    regions,
    accountId: CENTRAL_ACCOUNT,
    buckets: [FLEET_REPORTS_BUCKET],
    // Not counted for `npm run iam-report`, which weighs usage against config/example.json's roles: they have no fleet,
    // so no sts:AssumeRole (test/scenario/fleet-member-roles.test.ts asserts those grants exactly).
    iam: { recordUsage: false },
    mockHistoryLimit: 0,
    recordInputs: options.recordInputs ?? true,
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const workload = new Map<string, SandboxAccount>();
  const workloadKeys: Record<string, Record<string, string>> = {};
  const seeded: Record<string, string[]> = {};
  const vault = options.vault ? sb.addAccount(options.vault.id, { name: "backup-vault" }) : undefined;
  const perRegion = options.resources?.regions ?? [config.primaryRegion];
  for (const a of options.accounts) {
    const acc = sb.addAccount(a.id, { name: a.name });
    workload.set(a.id, acc);
    if (a.roles !== false) {
      const target = config.fleet!.accounts.find((x) => x.id === a.id)!;
      for (const r of memberRoles(config, { account: a.id, partition: "aws", centralAccountId: CENTRAL_ACCOUNT, target })) {
        acc.addRole({ name: r.name, trust: trustOf(r.trustPolicy), statements: statementsOf(r.policy) });
      }
    }
    workloadKeys[a.id] = {};
    for (const region of regions) {
      // A customer managed key the vault account may use to read (copy) what is shared with it: aws/ebs and aws/rds
      // snapshots cannot be shared (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
      // Its policy: the account's own (IAM policies decide), plus the vault copy statements stacks/key-policy.ts
      // generates for it, as the operator installs them (the sandbox's key policies do not evaluate their conditions).
      const policy = [
        { principals: [`arn:aws:iam::${a.id}:root`], actions: ["kms:*"] },
        ...vaultCopyStatements(config).map((st) => ({ principals: [st.Principal.AWS], actions: st.Action })),
      ];
      workloadKeys[a.id]![region] = acc.createKey(region, { id: `workload-${region}`, policy, aliases: [FLEET_WORKLOAD_KEY_ALIAS] });
    }
    for (const region of perRegion) {
      const ids: string[] = [];
      const encryption = options.resources?.encrypted ? { encrypted: true, kmsKeyId: workloadKeys[a.id]![region]! } : { encrypted: false };
      for (let i = 0; i < (options.resources?.rdsInstances ?? 0); i++) {
        const id = `db-${String(i + 1).padStart(3, "0")}`;
        acc.rds.addInstance(region, { id, tags: { "ops-autopilot:backup": "fleet" }, ...encryption });
        ids.push(id);
      }
      for (let i = 0; i < (options.resources?.ebsVolumes ?? 0); i++) {
        ids.push(acc.ec2.addVolume(region, { tags: { "ops-autopilot:backup": "fleet" }, ...encryption }));
      }
      seeded[`${a.id}/${region}`] = ids;
    }
  }

  const posted: PostedMessage[] = [];
  const runtime: Runtime = {
    config: () => config,
    now: () => clock.now(),
    reportBucket: () => ({ bucket: FLEET_REPORTS_BUCKET, region: config.primaryRegion }),
    postSlack: async (message: SlackMessage) =>
      void posted.push({ at: clock.now().toISOString(), fn: "", text: message.text, rendered: renderText(message, { links: "label" }) }),
    publish: async () => {},
    emitMetrics: (_points: MetricPoint[]) => {},
    logger: options.logger ?? new Logger({ serviceName: "ops-autopilot", logLevel: "SILENT" }),
  };
  return {
    sb,
    clock,
    config,
    accounts: options.accounts,
    workload,
    ...(vault ? { vault } : {}),
    workloadKeys,
    items: (job) => fleetItems(config, "aws", job),
    runtime,
    posted,
    seeded,
    restore: () => {
      sb.restore();
      resetClients();
      resetMemberSessions();
    },
  };
}

/** The functions a fleet scenario invokes, by name: the four jobs as fleet items, and the fan-out's summary. */
export type FleetInvokable = FleetFunction | "fleet-summary";

/**
 * Lambda's invoke for the fan-out: `functionName` is the function's name or ARN (the state machine names it by ARN,
 * `…:function:<app>-<stage>-<name>`), `payload` the event exactly as Step Functions sends it. The real handlers run
 * through the real chain (parse, config, run, report to the central bucket), each call under its function's role.
 */
export function fleetInvoker(world: Pick<FleetWorld, "runtime">): {
  invoke: (functionName: string, payload: unknown) => Promise<unknown>;
  invocations: () => number;
} {
  const stateBucket = { bucket: FLEET_REPORTS_BUCKET, region: FLEET_PRIMARY };
  const handlers: Record<FleetInvokable, (event: unknown, context: Context) => Promise<unknown>> = {
    backup: createHandler(backupJobSpec("backup", { stateBucket }), world.runtime),
    copy: createHandler(backupJobSpec("copy", { stateBucket }), world.runtime),
    prune: createHandler(backupJobSpec("prune", { stateBucket }), world.runtime),
    watchdog: createHandler(backupJobSpec("watchdog", { stateBucket }), world.runtime),
    "fleet-summary": createHandler({ name: "fleet-summary", parse: parseFleetSummaryEvent, run: runFleetSummary }, world.runtime),
  };
  let seq = 0;
  const invoke = async (functionName: string, payload: unknown): Promise<unknown> => {
    const name = (Object.keys(handlers) as FleetInvokable[]).find((n) => functionName === n || functionName.endsWith(`-${n}`));
    if (!name) throw new Error(`fleet scenario: no function ${functionName}`);
    seq++;
    return handlers[name](payload, fleetLambdaContext(`${name}-${seq}`));
  };
  return { invoke, invocations: () => seq };
}

/** One fleet job's fan-out as the drill and the bench run it: every item's result, the summary's answer or error. */
export interface FleetJobRun {
  job: FleetFunction;
  items: number;
  results: FleetItemResult[];
  /** The summary function's answer (its report), or the error it rethrew for the failed items. */
  summary: { ok: true; report: unknown } | { ok: false; error: string; message: string };
  /** The Slack summary as posted (plain text), when the summary function posted one. */
  message?: string;
  simulatedMs: number;
}

/**
 * Runs `job` over the fleet: the state machine stacks/fleet-fanout-definition.ts generates, executed by the sandbox's
 * runner (sandbox/scenarios/fleet-run.ts) over the real handlers; the Slack summary as posted.
 */
export async function runFleetJob(
  world: FleetWorld,
  invoker: ReturnType<typeof fleetInvoker>,
  job: FleetFunction,
  options: { maxConcurrency?: number } = {},
): Promise<FleetJobRun> {
  const started = world.clock.nowMs();
  const postedBefore = world.posted.length;
  const items = world.items(job);
  const fn = (name: string) => `arn:aws:lambda:${world.config.primaryRegion}:${CENTRAL_ACCOUNT}:function:${world.config.app}-${world.config.stage}-${name}`;
  const definition = fleetFanoutDefinition({
    job,
    jobFunctionArn: fn(job),
    summaryFunctionArn: fn("fleet-summary"),
    items,
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  });
  const run = await runFleetDefinition({
    definition,
    invoke: invoker.invoke,
    executionArn: `arn:aws:states:${world.config.primaryRegion}:${CENTRAL_ACCOUNT}:execution:${fleetStateMachineName(`${world.config.app}-${world.config.stage}`, job)}:${job}-${postedBefore}`,
    sleep: async (ms) => void world.clock.advance(ms),
    random: () => 0.5,
  });
  const out: Pick<FleetJobRun, "results" | "summary"> = {
    results: run.itemResults as FleetItemResult[],
    summary: run.status === "SUCCEEDED" ? { ok: true, report: run.output } : { ok: false, error: run.error?.Error ?? "", message: run.error?.Cause ?? "" },
  };
  const message = world.posted.slice(postedBefore).find((m) => m.text.startsWith(`Fleet ${job}:`))?.rendered;
  return { job, items: items.length, ...out, ...(message ? { message } : {}), simulatedMs: world.clock.nowMs() - started };
}

/** A refused call: the error AWS answered, as the drill prints it. */
export interface Refusal {
  who: string;
  call: string;
  error: string;
  message: string;
}

export interface FleetDrillResult {
  central: string;
  accounts: readonly FleetAccountSpec[];
  vault: { id: string; name: string; region: string; key: string };
  regions: string[];
  resourcesPerAccount: { rdsInstances: number; ebsVolumes: number; encrypted: boolean };
  backup: FleetJobRun;
  copy: FleetJobRun;
  /** The vault's steps for one EBS backup of one workload account: share, copy with the vault's key, lock. */
  /**
   * The vault's run: how many backups the copy fan-out shared, vault-copy's summary, and for one EBS backup of payments
   * the exact share, copy and lock calls.
   */
  vaultCopy: {
    account: string;
    accountName: string;
    source: string;
    /** The key the shared backup is encrypted with (the member's customer managed key), and the vault copy's key. */
    sourceKey?: string;
    copyKey?: string;
    copy: string;
    calls: string[];
    summary: string;
    shared: number;
    locked: number;
  };
  /** Deletes of the locked vault copy: from the workload account's administrator, then the vault's own. */
  deletes: Refusal[];
  survived: boolean;
  awsCalls: number;
  assumeRoleRefused: number;
  iamDenials: number;
  wallMs: number;
}

/**
 * The drill's fleet: three workload accounts (search's member roles never deployed) and the backup account. The
 * nightly backup and copy run over every account × region through the fan-out and its summary (the copy job shares
 * each account's backups with the backup account); the vault's copy function copies the shares there with the vault's
 * key and locks the EBS copies in compliance mode; then payments' administrator, and the vault's own, try to delete one.
 */
export async function runFleetDrill(): Promise<FleetDrillResult> {
  const wall = performance.now();
  const resources = { rdsInstances: 1, ebsVolumes: 2, encrypted: true };
  const world = createFleetWorld({ stage: "prod", accounts: DRILL_ACCOUNTS, vault: DRILL_VAULT, resources });
  try {
    const invoker = fleetInvoker(world);
    const backup = await runFleetJob(world, invoker, "backup");
    world.clock.advance(30 * 60_000);
    const copy = await runFleetJob(world, invoker, "copy");

    const region = world.config.primaryRegion;
    const payments = DRILL_ACCOUNTS[0]!;
    const workload = world.workload.get(payments.id)!;
    const vault = world.vault!;
    // The copy fan-out shared each account's backups with the backup account (runbooks/vault/share.ts, as its copy
    // member role); the vault's copy function then runs in the backup account.
    const vaultRun = await runVaultCopyIn(world, vault);
    const copyCall = world.sb
      .callsTo("ec2", "CopySnapshot")
      .find(
        (c) =>
          c.account === vault.id && !c.error && vault.ec2.snapshot(region, vaultCopyId(c, vault, region) ?? "")?.tags[VAULT_TAG.sourceAccount] === payments.id,
      );
    const copyId = copyCall ? vaultCopyId(copyCall, vault, region) : undefined;
    const copied = copyId ? vault.ec2.snapshot(region, copyId) : undefined;
    if (!copyCall || !copyId || !copied) throw new Error("fleet drill: the vault made no EBS copy of payments' backups");
    const source = (copyCall.input as { SourceSnapshotId: string }).SourceSnapshotId;
    const sourceKey = workload.ec2.snapshot(region, source)?.kmsKeyId;
    const shareCall = world.sb
      .callsTo("ec2", "ModifySnapshotAttribute")
      .find((c) => c.account === payments.id && !c.error && (c.input as { SnapshotId?: string }).SnapshotId === source);
    const lockCall = world.sb
      .callsTo("ec2", "LockSnapshot")
      .find((c) => c.account === vault.id && !c.error && (c.input as { SnapshotId?: string }).SnapshotId === copyId);
    type In = { SnapshotId?: string; UserIds?: string[]; SourceSnapshotId?: string; SourceRegion?: string; KmsKeyId?: string; Encrypted?: boolean };
    type LockIn = { LockMode?: string; CoolOffPeriod?: number; LockDuration?: number };
    const input = (c: CallRecord | undefined) => (c?.input ?? {}) as In & LockIn;
    const share = input(shareCall);
    const copyIn = input(copyCall);
    const lockIn = input(lockCall);
    const calls = [
      `${payments.name}, its copy member role: ModifySnapshotAttribute ${share.SnapshotId} createVolumePermission add ${share.UserIds?.join(", ")}`,
      `backup account, vault-copy's role: CopySnapshot ${copyIn.SourceSnapshotId} from ${copyIn.SourceRegion}, Encrypted ${copyIn.Encrypted}, KmsKeyId ${copyIn.KmsKeyId} → ${copyId}`,
      lockCall
        ? `backup account, vault-copy's role: LockSnapshot ${lockIn.SnapshotId} ${lockIn.LockMode}, CoolOffPeriod ${lockIn.CoolOffPeriod ?? "none"} h, LockDuration ${lockIn.LockDuration} days`
        : "(no LockSnapshot call)",
    ];
    const asAdmin = (account: SandboxAccount) => new EC2Client({ region, credentials: account.adminCredentials(), maxAttempts: 1 });
    const deletes: Refusal[] = [];
    for (const [who, account] of [
      [`the administrator of ${payments.name} (${payments.id})`, workload],
      [`the backup account's own administrator (${vault.id})`, vault],
    ] as const) {
      try {
        await asAdmin(account).send(new DeleteSnapshotCommand({ SnapshotId: copyId }));
        deletes.push({ who, call: `DeleteSnapshot ${copyId}`, error: "none", message: "deleted" });
      } catch (err) {
        const e = err as Error;
        deletes.push({ who, call: `DeleteSnapshot ${copyId}`, error: e.name, message: e.message });
      }
    }
    const assumeRoleRefused = world.sb.callsTo("sts", "AssumeRole").filter((c) => c.error?.name === "AccessDenied").length;
    return {
      central: CENTRAL_ACCOUNT,
      accounts: DRILL_ACCOUNTS,
      vault: { id: vault.id, name: DRILL_VAULT.name, region, key: world.config.vault!.regions.find((r) => r.region === region)!.kmsKeyAlias },
      regions: [world.config.primaryRegion, ...world.config.drRegions.map((d) => d.region)],
      resourcesPerAccount: resources,
      backup,
      copy,
      vaultCopy: {
        account: payments.id,
        accountName: payments.name,
        source,
        ...(sourceKey ? { sourceKey } : {}),
        ...(copied.kmsKeyId ? { copyKey: copied.kmsKeyId } : {}),
        copy: copyId,
        calls,
        summary: vaultRun.summary,
        shared: vaultRun.shared,
        locked: world.sb.callsTo("ec2", "LockSnapshot").filter((c) => c.account === vault.id && !c.error).length,
      },
      deletes,
      survived: vault.ec2.snapshot(region, copyId) !== undefined,
      awsCalls: world.sb.calls.length,
      assumeRoleRefused,
      iamDenials: world.sb.iam?.denials.length ?? 0,
      wallMs: Math.round(performance.now() - wall),
    };
  } finally {
    world.restore();
  }
}

/** The id of the copy a vault CopySnapshot made: the vault's snapshot whose copy source is the call's. */
function vaultCopyId(call: CallRecord, vault: SandboxAccount, region: string): string | undefined {
  const source = (call.input as { SourceSnapshotId?: string }).SourceSnapshotId;
  return vault.ec2.snapshots(region).find((s) => s.tags[TAG.copyOf] === source)?.id;
}

/**
 * The vault stage's copy function, run in the backup account as the role that stage deploys for it (stacks/iam.ts for
 * the vault account): it copies what the workload accounts shared with the vault's key and locks the EBS copies. Its
 * report goes to the drill's bucket (the vault stage has its own).
 */
async function runVaultCopyIn(world: FleetWorld, vault: SandboxAccount): Promise<{ summary: string; shared: number }> {
  const config = world.config;
  const region = config.primaryRegion;
  const shared = world.sb.calls.filter(
    (c) => c.account && c.account !== vault.id && /^Modify(DB|DBCluster)?SnapshotAttribute$/.test(c.command) && !c.error,
  ).length;
  const statements = permissionsFor("vault-copy", { config, account: vault.id, partition: "aws", dlqArn: `arn:aws:sqs:${region}:${vault.id}:dlq` });
  const role = vault.addRole({ name: `${config.app}-${config.stage}-vault-copy`, trust: [{ principals: [CENTRAL_ACCOUNT] }], statements });
  const out = await new STSClient({ region }).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: "vault-copy" }));
  const c = out.Credentials!;
  const creds: TargetCredentials = {
    key: `vault-copy@${world.clock.now().toISOString()}`,
    provider: async () => ({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration! }),
  };
  const postedBefore = world.posted.length;
  const handler = createHandler({ name: "vault-copy", parse: parseVaultCopyEvent, run: (e, ctx) => runVaultCopy(e, ctx, { creds }) }, world.runtime);
  await handler({ trigger: "schedule" }, fleetLambdaContext("vault-copy-1"));
  return { summary: world.posted.slice(postedBefore).at(-1)?.text ?? "", shared };
}
