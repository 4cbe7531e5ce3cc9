import { scheduleTimezone, type Config, type BackupPolicy } from "../../schemas/config.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import { TAG, managedByValue, type ItemFailure, type Owner, type Resource, type ResourceKind, type Snapshot } from "../../core/types.ts";
import { selectResources } from "../../core/selection.ts";
import { planBackups, type BackupDecision } from "../../core/backup-plan.ts";
import { planCopies, type CopyDecision } from "../../core/copy-plan.ts";
import { planPrune, type PrunePlan } from "../../core/retention.ts";
import { applyDeleteCaps, dayInZone, reserveDeletes, type CappedEntry, type PruneLedger } from "../../core/guardrails.ts";
import { assessFreshness, type FreshnessFinding } from "../../core/freshness.ts";
import {
  backupSummary,
  copySummary,
  pruneSummary,
  watchdogAlert,
  type BackupRunView,
  type CopyRunView,
  type PruneRunView,
} from "../../core/report/backup.ts";
import { kindsInUse, listCandidateResources, listRegionSnapshots } from "../../adapters/inventory.ts";
import { SNAPSHOT_ADAPTERS } from "../../adapters/snapshots.ts";
import { pruneLedgerKey, s3PruneLedger, type PruneLedgerPort } from "../../adapters/prune-ledger.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { classifyError, describeError } from "../../adapters/errors.ts";
import { claimKey, s3Claims, type ClaimPort } from "../../adapters/claims.ts";
import { judgeClaim, type ClaimRecord } from "../../core/claims.ts";
import { classifyStatus } from "../../core/resource-status.ts";
import { AlreadyDone, executeAll, type ItemResult } from "./execute.ts";
import { linkedBucket } from "./resources.ts";
import type { RunContext, RunOutcome } from "./handler.ts";

/**
 * The four backup jobs: backup → copy → prune, and the freshness watchdog. Each one lists what is there,
 * lets `core/` decide (every decision with its reason), carries the decisions out unless dry-run, and
 * returns the report, the Slack summary and the per-item failures for the shared handler.
 */

const owner = (config: Config): Owner => ({ app: config.app, stage: config.stage });

/** Backup dates are days of the backup schedule's timezone: every job reads them in that zone. */
const backupTimeZone = (config: Config): string => scheduleTimezone(config, "backup");

/** Where the backup jobs keep what must outlive one invocation: prune's day ledger and the EBS claims. */
export interface BackupJobDeps {
  /** The reports bucket (`state/prune/<day>.json`, `claims/<function>/<region>/<name>.json`). */
  stateBucket: (ctx: RunContext) => BucketRef;
}

const DEFAULT_DEPS: BackupJobDeps = { stateBucket: (ctx) => linkedBucket(ctx.config) };

function policiesFor(config: Config, event: JobEvent): BackupPolicy[] {
  const all = config.backup.policies;
  if (!event.policy) return all;
  const found = all.filter((p) => p.name === event.policy);
  if (found.length === 0) throw new Error(`policy "${event.policy}" is not in the configuration (known: ${all.map((p) => p.name).join(", ") || "none"})`);
  return found;
}

function matchesResource(event: JobEvent, kind: string, id: string): boolean {
  return !event.resource || (event.resource.kind === kind && event.resource.id === id);
}

function regions(config: Config): string[] {
  return [config.primaryRegion, ...config.drRegions.map((d) => d.region)];
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

/**
 * Per-item failures, plus one retryable failure when work was left for later because the deadline was near:
 * failing the invocation makes the scheduler retry at once, and the retry (idempotent) does the rest.
 */
function failuresOf<T>(results: ItemResult<T>[]): ItemFailure[] {
  const failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
  const deferred = results.filter((r) => r.status === "deferred").length;
  if (deferred > 0) {
    failures.push({
      item: `${deferred} item(s)`,
      kind: "retryable",
      message: `${deferred} item(s) not started: the Lambda deadline was near; the retry or the next run picks them up`,
    });
  }
  return failures;
}

function logDecisions(ctx: RunContext, decisions: { action: string; reason: string }[], describe: (i: number) => string): void {
  decisions.forEach((d, i) => ctx.logger.info("decision", { action: d.action, target: describe(i), reason: d.reason }));
}

// ---------------------------------------------------------------------------------------------- backup

export async function runBackup(event: JobEvent, ctx: RunContext, deps: BackupJobDeps = DEFAULT_DEPS): Promise<RunOutcome> {
  const { config } = ctx;
  const region = config.primaryRegion;
  const policies = policiesFor(config, event);
  const now = ctx.now();
  const kinds = kindsInUse(policies);
  const [resources, existing] = await Promise.all([
    listCandidateResources(region, policies),
    listRegionSnapshots(region, managedByValue(owner(config)), kinds),
  ]);
  const selection = selectResources(resources, policies);
  const failures: ItemFailure[] = [];
  for (const c of selection.conflicts) failures.push({ item: c.resource.id, region, kind: "fatal", message: c.reason });
  for (const m of selection.missing) {
    if (matchesResource(event, m.kind, m.id)) failures.push({ item: m.id, region, kind: "fatal", message: m.reason });
  }
  const chosen = selection.selected.filter((s) => matchesResource(event, s.resource.kind, s.resource.id));
  if (event.resource && chosen.length === 0 && !selection.missing.some((m) => m.id === event.resource!.id)) {
    failures.push({
      item: event.resource.id,
      region,
      kind: "fatal",
      message: `${event.resource.kind} ${event.resource.id} is not selected by any policy in ${region}`,
    });
  }

  const decisions: BackupDecision[] = [];
  for (const policy of policies) {
    const mine = chosen.filter((s) => s.policy === policy).map((s) => s.resource);
    if (mine.length) decisions.push(...planBackups({ resources: mine, policy, owner: owner(config), now, existing, timeZone: backupTimeZone(config) }));
  }
  logDecisions(ctx, decisions, (i) => `${decisions[i]!.target.resource.id} → ${decisions[i]!.target.name}`);
  for (const d of decisions.filter((x) => x.action === "name-taken")) failures.push({ item: d.target.resource.id, region, kind: "fatal", message: d.reason });

  // A resource in a state that passes (backing-up, modifying, …) fails the run as retryable: Lambda retries the
  // invocation and a later run the same day takes it. One in a state that stays (stopped) is only reported.
  if (!event.dryRun) {
    for (const d of decisions) {
      if (d.action !== "skip-state") continue;
      const { kind, id, status } = d.target.resource;
      const verdict = classifyStatus(kind, id, status);
      if (verdict.class === "passing") failures.push({ item: id, region, kind: "retryable", message: verdict.reason });
    }
  }

  const creates = decisions.filter((d) => d.action === "create");
  const results = event.dryRun
    ? []
    : await executeAll(creates, (d) => createSnapshot(d.target.resource, d.target.name, d.target.tags, claimsFor(deps, ctx)), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: d.target.resource.id, region }),
        facts: ["exists"],
      });
  failures.push(...failuresOf(results));

  const view: BackupRunView = {
    dryRun: event.dryRun,
    region,
    decisions: decisions.map((d) => ({
      action: d.action,
      resource: d.target.resource.id,
      kind: d.target.resource.kind,
      name: d.target.name,
      tiers: d.target.tiers,
      reason: d.reason,
    })),
    results: results.map((r) => ({ resource: r.item.target.resource.id, name: r.item.target.name, status: r.status, detail: r.detail, ms: r.ms })),
    failures: [...failures],
  };
  return {
    report: { trigger: event.trigger, note: event.note, ...view, counts: countBy(decisions, (d) => d.action) },
    message: backupSummary(view, config),
    failures,
  };
}

async function createSnapshot(resource: Resource, name: string, tags: Record<string, string>, claims: Claims): Promise<string | void | AlreadyDone> {
  const adapter = SNAPSHOT_ADAPTERS[resource.kind];
  const act = async () => {
    const id = await adapter.create(resource, name, tags);
    return id ? `created ${id}` : undefined;
  };
  if (!adapter.claimsNames) return act();
  // AWS assigns the id: without a claim two concurrent runs would both create one.
  return claims.underClaim({
    key: claimKey("backup", resource.region, name),
    what: `create snapshot ${name} of ${resource.id}`,
    look: () => findOurSnapshot(resource.kind, resource.region, tags[TAG.managedBy]!, (s) => s.tags[TAG.name] === name),
    act,
  });
}

/** Our snapshot of `kind` in `region` that `match` picks, looked up again right before a claimed create or copy. */
async function findOurSnapshot(kind: ResourceKind, region: string, managedBy: string, match: (s: Snapshot) => boolean): Promise<string | undefined> {
  const all = await SNAPSHOT_ADAPTERS[kind].listSnapshots(region, managedBy);
  return all.find((s) => s.kind === kind && s.tags[TAG.managedBy] === managedBy && match(s))?.id;
}

interface ClaimedAction {
  /** `claims/<function>/<region>/<name>.json`. */
  key: string;
  /** What is claimed, written into the claim for people reading the bucket. */
  what: string;
  /** The id of the snapshot if it was made after all (a listing that lagged, a crashed run that got that far). */
  look: () => Promise<string | undefined>;
  act: () => Promise<string | void>;
}

interface Claims {
  underClaim(action: ClaimedAction): Promise<string | void | AlreadyDone>;
}

/**
 * Run an action only while holding its claim (core/claims.ts): create the claim, or judge the one there. A claim
 * of another run that is fresh leaves the work to that run; this run's own claim (Lambda reuses the request id on
 * async retries), a released or a stale one is used after looking for the snapshot again. A claimant whose call
 * fails releases the claim, so the next run need not wait for it to go stale.
 */
function claimsFor(deps: BackupJobDeps, ctx: RunContext): Claims {
  let port: ClaimPort | undefined;
  const claims = () => (port ??= s3Claims(deps.stateBucket(ctx)));
  return {
    async underClaim({ key, what, look, act }) {
      const record = (): ClaimRecord => ({ runId: ctx.runId, claimedAt: ctx.now().toISOString(), what });
      let etag = await claims().create(key, record());
      if (etag === undefined) {
        const current = await claims().read(key);
        if (!current) return new AlreadyDone(`claim ${key} changed while it was read; the next run decides`);
        let decision = judgeClaim({ claim: current.record, runId: ctx.runId, now: ctx.now() });
        if (decision.action === "look") decision = judgeClaim({ claim: current.record, runId: ctx.runId, now: ctx.now(), found: (await look()) ?? null });
        ctx.logger.info("claim", { key, action: decision.action, reason: decision.reason });
        if (decision.action === "skip" || decision.action === "exists" || decision.action === "look") return new AlreadyDone(decision.reason);
        etag = decision.action === "proceed" ? current.etag : await claims().replace(key, record(), current.etag);
        if (etag === undefined) return new AlreadyDone(`claim ${key} was taken over by another run first`);
      }
      try {
        return await act();
      } catch (err) {
        const released: ClaimRecord = { ...record(), releasedAt: ctx.now().toISOString(), releaseReason: describeError(err).slice(0, 300) };
        await claims()
          .replace(key, released, etag)
          .catch((e: unknown) => ctx.logger.warn("claim not released; it goes stale in an hour", { key, error: describeError(e) }));
        throw err;
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------ copy

export async function runCopy(event: JobEvent, ctx: RunContext, deps: BackupJobDeps = DEFAULT_DEPS): Promise<RunOutcome> {
  const { config } = ctx;
  const policies = policiesFor(config, event);
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const primary = config.primaryRegion;
  const [sourcesAll, ...drLists] = await Promise.all([
    listRegionSnapshots(primary, managedBy, kinds),
    ...config.drRegions.map((d) => listRegionSnapshots(d.region, managedBy, kinds)),
  ]);
  const sources = sourcesAll.filter(
    (s) => s.tags[TAG.managedBy] === managedBy && !s.automated && !s.tags[TAG.copyOf] && matchesResource(event, s.kind, s.resourceId),
  );
  const copies = drLists.flat();
  const inFlight: Record<string, number> = {};
  config.drRegions.forEach((d, i) => (inFlight[d.region] = (drLists[i] ?? []).filter((s) => s.status === "pending").length));

  const decisions = planCopies({
    sources,
    copies,
    drRegions: config.drRegions,
    inFlight,
    maxInFlight: config.backup.maxCopiesInFlight,
    owner: owner(config),
    policies,
    now: ctx.now(),
    timeZone: backupTimeZone(config),
  });
  logDecisions(ctx, decisions, (i) => `${decisions[i]!.target.source.id} → ${decisions[i]!.target.region}`);

  const todo = decisions.filter((d) => d.action === "copy");
  // A copy that ended in `error` is a failure of its own, reported with the key it tried. The copy function cannot
  // delete (IAM keeps tagging and deleting in different roles); prune removes the failed copy, then a copy run retries.
  const earlier: ItemFailure[] = decisions
    .filter((d) => d.action === "failed")
    .map((d) => {
      const why = d.target.failedCopy?.statusMessage ?? "status error";
      return {
        item: `${d.target.source.id} → ${d.target.region}`,
        region: d.target.region,
        kind: /kms|key/i.test(why) ? ("kms" as const) : ("fatal" as const),
        message: `copy ${d.target.failedCopy?.id} failed: ${why} (KMS key tried: ${d.target.kmsKeyId})`,
      };
    });
  const results = event.dryRun
    ? []
    : await executeAll(todo, (d) => copySnapshot(d, primary, claimsFor(deps, ctx)), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: `${d.target.source.id} → ${d.target.region}`, region: d.target.region }),
        explain: (d, cls) => (cls === "kms" ? `KMS key tried: ${d.target.kmsKeyId}` : undefined),
        facts: ["exists"],
      });
  const failures = [...earlier, ...failuresOf(results)];
  const view: CopyRunView = {
    dryRun: event.dryRun,
    inFlight,
    decisions: decisions.map((d) => ({ action: d.action, source: d.target.source.id, region: d.target.region, name: d.target.name, reason: d.reason })),
    results: results.map((r) => ({ source: r.item.target.source.id, region: r.item.target.region, status: r.status, detail: r.detail, ms: r.ms })),
    failures,
  };
  return {
    report: { trigger: event.trigger, note: event.note, ...view, counts: countBy(decisions, (d) => d.action) },
    message: copySummary(view, config),
    failures,
  };
}

async function copySnapshot(d: CopyDecision, sourceRegion: string, claims: Claims): Promise<string | void | AlreadyDone> {
  const source = d.target.source;
  const req = {
    source,
    sourceRegion,
    targetRegion: d.target.region,
    name: d.target.name,
    kmsKeyId: d.target.kmsKeyId,
    tags: { ...d.target.tags, [TAG.capturedAt]: source.createdAt.toISOString() },
  };
  const adapter = SNAPSHOT_ADAPTERS[source.kind];
  const act = async () => {
    const id = await adapter.copy(req);
    return id ? `copy ${id} started` : undefined;
  };
  if (!adapter.claimsNames) return act();
  return claims.underClaim({
    key: claimKey("copy", d.target.region, d.target.name),
    what: `copy ${source.id} to ${d.target.region} as ${d.target.name}`,
    look: () =>
      findOurSnapshot(source.kind, d.target.region, d.target.tags[TAG.managedBy]!, (s) => s.tags[TAG.copyOf] === source.id || s.tags[TAG.name] === d.target.name),
    act,
  });
}

// ----------------------------------------------------------------------------------------------- prune

export async function runPrune(event: JobEvent, ctx: RunContext, deps: BackupJobDeps = DEFAULT_DEPS): Promise<RunOutcome> {
  const { config } = ctx;
  const policies = policiesFor(config, event);
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const now = ctx.now();
  const all = regions(config);
  const lists = await Promise.all(all.map((r) => listRegionSnapshots(r, managedBy, kinds)));
  const drCopies = lists.slice(1).flat();

  let plans: PrunePlan[] = [];
  all.forEach((region, i) => {
    plans.push(
      ...planPrune({
        snapshots: lists[i] ?? [],
        region,
        primaryRegion: config.primaryRegion,
        // Every policy judges its own snapshots; a snapshot of a policy outside a manual filter is kept.
        policies: config.backup.policies,
        owner: owner(config),
        now,
        timeZone: backupTimeZone(config),
        ...(region === config.primaryRegion ? { drCopies, drRegions: config.drRegions.map((d) => d.region) } : {}),
      }),
    );
  });
  plans = plans.filter(
    (p) => matchesResource(event, p.kind, p.resourceId) && (!event.policy || policies.some((pol) => pol.name === p.policy)),
  );

  // Caps are per policy and per day (the prune schedule's day in its timezone), across invocations.
  const timeZone = scheduleTimezone(config, "prune");
  const ledger = plans.some((p) => p.delete.length > 0) ? s3PruneLedger(deps.stateBucket(ctx)) : undefined;
  const { plans: cappedPlans, capped, failure: reservation } = await capForTheDay(plans, config, {
    day: dayInZone(now, timeZone),
    timeZone,
    dryRun: event.dryRun,
    ledger,
    runId: ctx.runId,
  });

  for (const p of cappedPlans) {
    if (p.frozen) ctx.logger.warn("pruning frozen", { resource: p.resourceId, region: p.region, reason: p.frozen });
    for (const d of [...p.keep, ...p.delete]) ctx.logger.info("decision", { action: d.action, target: `${d.target.id} (${p.region})`, reason: d.reason });
  }
  const deletes = cappedPlans.flatMap((p) => p.delete);
  const results = event.dryRun
    ? []
    : await executeAll(deletes, (d) => deleteSnapshot(d.target), {
        concurrency: config.backup.concurrency,
        nearDeadline: ctx.nearDeadline,
        label: (d) => ({ item: d.target.id, region: d.target.region }),
        facts: ["not-found"],
      });
  const failures = [...(reservation ? [reservation] : []), ...failuresOf(results)];
  const view: PruneRunView = {
    dryRun: event.dryRun,
    plans: cappedPlans.map((p) => ({
      resource: p.resourceId,
      kind: p.kind,
      region: p.region,
      policy: p.policy,
      frozen: p.frozen,
      foreign: p.foreign,
      lookAlikes: p.lookAlikes ?? [],
      keep: p.keep.map((d) => ({ id: d.target.id, reason: d.reason })),
      delete: p.delete.map((d) => ({ id: d.target.id, reason: d.reason })),
    })),
    capped,
    results: results.map((r) => ({ id: r.item.target.id, region: r.item.target.region, status: r.status, detail: r.detail, ms: r.ms })),
    failures,
  };
  return {
    report: { trigger: event.trigger, note: event.note, ...view },
    message: pruneSummary(view, config),
    failures,
  };
}

/** Attempts at reserving the day's deletes when other prune runs keep writing the ledger first. */
const LEDGER_ATTEMPTS = 5;

/**
 * Cap every policy's plans for the day and reserve the new deletes in the day's ledger before any is sent.
 * The ledger is read, the caps decided in core from (what the day already deleted, this plan), and the
 * reservation written conditionally; a write that another run won (412/409) starts over from a fresh read,
 * so nothing is lost or counted twice. A dry-run reads the day's count and writes nothing. When the
 * reservation cannot be made, no delete is sent and the run fails as retryable.
 */
async function capForTheDay(
  plans: PrunePlan[],
  config: Config,
  opts: { day: string; timeZone: string; dryRun: boolean; ledger: PruneLedgerPort | undefined; runId: string },
): Promise<{ plans: PrunePlan[]; capped: CappedEntry[]; failure?: ItemFailure }> {
  const unmanaged = plans.filter((p) => !p.policy || !config.backup.policies.some((pol) => pol.name === p.policy));
  const item = pruneLedgerKey(opts.day);
  try {
    for (let attempt = 1; ; attempt++) {
      const read = opts.ledger ? await opts.ledger.read(opts.day) : undefined;
      const today: PruneLedger = read?.ledger ?? { day: opts.day, timeZone: opts.timeZone, policies: {} };
      let next: PruneLedger | undefined;
      const capped: CappedEntry[] = [];
      const out: PrunePlan[] = [];
      for (const policy of config.backup.policies) {
        const mine = plans.filter((p) => p.policy === policy.name);
        if (!mine.length) continue;
        const caps = { maxDeletesPerRun: policy.maxDeletesPerRun, maxDeletePercent: policy.maxDeletePercent };
        const decided = applyDeleteCaps(mine, caps, today.policies[policy.name] ?? {}, opts.runId);
        out.push(...decided.plans);
        capped.push(...decided.capped);
        next = reserveDeletes(next ?? today, policy.name, decided.reserve, opts.runId) ?? next;
      }
      out.push(...unmanaged);
      if (opts.dryRun || !opts.ledger || !next) return { plans: out, capped };
      if (await opts.ledger.write(next, read?.etag)) return { plans: out, capped };
      if (attempt >= LEDGER_ATTEMPTS) {
        const why = `the prune ledger changed under this run ${LEDGER_ATTEMPTS} times in a row`;
        return { plans: withoutDeletes(out, why), capped, failure: { item, kind: "retryable", message: `deletes not reserved, none sent: ${why}` } };
      }
    }
  } catch (err) {
    const cls = classifyError(err);
    const message = `deletes not reserved, none sent: ${describeError(err)}`;
    return {
      plans: withoutDeletes([...plans], "the day's deletes could not be reserved"),
      capped: [],
      failure: { item, kind: cls === "exists" || cls === "not-found" ? "fatal" : cls, message },
    };
  }
}

/** The plans with every delete turned into a keep that says why. */
function withoutDeletes(plans: PrunePlan[], why: string): PrunePlan[] {
  return plans.map((p) => ({
    ...p,
    keep: [...p.keep, ...p.delete.map((d) => ({ action: "keep" as const, target: d.target, reason: `not deleted: ${why}; otherwise ${d.reason}` }))],
    delete: [],
  }));
}

async function deleteSnapshot(s: Snapshot): Promise<void> {
  await SNAPSHOT_ADAPTERS[s.kind].delete(s);
}

// -------------------------------------------------------------------------------------------- watchdog

export async function runWatchdog(event: JobEvent, ctx: RunContext): Promise<RunOutcome> {
  const { config } = ctx;
  const policies = config.backup.policies;
  const kinds = kindsInUse(policies);
  const managedBy = managedByValue(owner(config));
  const all = regions(config);
  const [resources, ...lists] = await Promise.all([
    listCandidateResources(config.primaryRegion, policies),
    ...all.map((r) => listRegionSnapshots(r, managedBy, kinds)),
  ]);
  const selected = selectResources(resources, policies).selected;
  const findings: FreshnessFinding[] = assessFreshness({
    snapshots: lists.flat(),
    resources: selected.map((s) => ({ resourceId: s.resource.id, kind: s.resource.kind, policy: s.policy })),
    regions: all,
    owner: owner(config),
    now: ctx.now(),
    primaryRegion: config.primaryRegion,
  });
  const bad = findings.filter((f) => f.status !== "ok");
  for (const f of findings) (f.status === "ok" ? ctx.logger.info : ctx.logger.error).call(ctx.logger, "freshness", { ...f });
  ctx.emitMetrics([
    // The heartbeat: an alarm with TreatMissingData=breaching fires when the watchdog itself stops running.
    { name: "WatchdogHeartbeat", unit: "Count", value: 1 },
    { name: "StaleBackups", unit: "Count", value: bad.length },
    ...findings.map((f) => ({
      name: "BackupAgeHours",
      unit: "None" as const,
      // A resource with no backup at all reports the age as "infinitely" old, capped to stay a plottable number.
      value: f.ageHours ?? 24 * 400,
      dimensions: { resource: f.resourceId, region: f.region },
    })),
  ]);
  return {
    report: {
      trigger: event.trigger,
      note: event.note,
      findings: findings.map((f) => ({ ...f, newestAt: f.newestAt?.toISOString() })),
      stale: bad.length,
    },
    message: bad.length ? watchdogAlert(bad, config) : null,
    failures: [],
  };
}
