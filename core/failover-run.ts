/**
 * The failover runbook driven through injected ports, so the same code runs in Lambda (real adapters), in unit
 * tests (aws-sdk-client-mock), against the in-memory sandbox and in the drill.
 *
 * No AWS imports and no clock of its own: everything that touches the world is a port, `now` comes from
 * `deps.clock`. The checkpoint record is the only state; every write is conditional (If-None-Match for the
 * latch, If-Match etag for each step), so two executors racing on one run cannot both act: the loser re-reads
 * and follows the record.
 */
import type { SlackMessage } from "./report/blocks.ts";
import type { DnsConfig, FailoverConfig, FailoverGroup, RecordValue } from "../schemas/config-failover.ts";
import {
  blockingFailures,
  computeTimings,
  decideFailover,
  failbackSteps,
  isWritable,
  manualDnsSteps,
  manualPromotionSteps,
  newRunRecord,
  nextStep,
  planSteps,
  PRECHECK_OBSERVE_ATTEMPTS,
  promotionKindFor,
  promotionOutcome,
  runIdFor,
  runPrechecks,
  step,
  withStep,
  type DbObservation,
  type Observation,
  type PrecheckResult,
  type PromotionKind,
  type RunRecord,
  type StepName,
  type TriggerAction,
  UNREADABLE_BOUND_MINUTES,
} from "./failover.ts";
import type { AlarmStateChangeEvent, FailoverInnerEvent, ManualEvent } from "../schemas/events-failover.ts";
import { parseAlarmTimestamp } from "../schemas/events-failover.ts";
import { groupForAlarm } from "./failover.ts";
import { renderFailbackPlan, renderLatchError, renderPlan, renderRefusal, renderReset, renderRunMessage, renderStatus } from "./report/failover.ts";

// ---------------------------------------------------------------------------------------------------------
// Ports

export interface LatchPort {
  read(group: string): Promise<{ record: RunRecord; etag: string } | undefined>;
  /**
   * Create the latch only if absent (S3 If-None-Match). Undefined when another run holds it (412). Throws on
   * anything else, a 409 ConditionalRequestConflict included: the outcome is unknown and the caller re-reads.
   */
  create(group: string, record: RunRecord): Promise<string | undefined>;
  /** Replace only if unchanged since `etag` (S3 If-Match). Undefined when someone else wrote first (412, 409). */
  replace(group: string, record: RunRecord, etag: string): Promise<string | undefined>;
  /** The run report (timeline, timings, messages) next to the latch. */
  putReport(group: string, runId: string, report: unknown): Promise<void>;
}

export interface DbPort {
  describePrimary(group: FailoverGroup): Promise<DbObservation>;
  describeReplica(group: FailoverGroup): Promise<DbObservation>;
  /**
   * Issue the promotion; throws on refusal (the error message goes into the alert). An error with
   * `outcomeUnknown: true` (timeout, network error, 5xx, throttling) may or may not have reached RDS: the
   * runbook then confirms the outcome by observation instead of failing or calling again.
   */
  promote(group: FailoverGroup, kind: PromotionKind): Promise<{ detail: string }>;
}

export interface MetricsPort {
  /**
   * Conservative replica lag (max of the recent datapoints). `failed` when the read itself failed (throttled,
   * refused): unknown, read again. Without `seconds` and not `failed`: CloudWatch answered with no datapoint.
   */
  replicaLag(group: FailoverGroup, now: Date): Promise<{ seconds?: number; detail: string; failed?: boolean }>;
}

export interface DnsPort {
  /** UPSERT the record to `value`, retrying throttling/PriorRequestNotComplete; throws when out of attempts. */
  upsert(dns: DnsConfig, value: RecordValue): Promise<{ changeId: string; attempts: number }>;
  getChange(changeId: string): Promise<"PENDING" | "INSYNC">;
  /** The record's current value, to confirm a change whose outcome is unknown. */
  currentValue(dns: DnsConfig): Promise<RecordValue | undefined>;
}

export interface ProbePort {
  /** GET `url` with a timeout; ok when 2xx in time. */
  check(url: string, timeoutMs: number): Promise<{ ok: boolean; status?: number; ms: number; detail: string }>;
}

/** The warming engine, injected so failover does not depend on its implementation. */
export interface WarmPort {
  warm(targetSet: string): Promise<{ ok: boolean; summary: string }>;
}

export interface NotifyPort {
  notify(message: SlackMessage): Promise<void>;
}

export interface ClockPort {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface FailoverDeps {
  latch: LatchPort;
  db: DbPort;
  metrics: MetricsPort;
  dns: DnsPort;
  probe: ProbePort;
  warm: WarmPort;
  notify: NotifyPort;
  clock: ClockPort;
  log?: (message: string, data?: Record<string, unknown>) => void;
}

// ---------------------------------------------------------------------------------------------------------
// Results

export type RunNext = "wait" | "done" | "failed" | "ignored";

/** What the runbook returns to its caller (the state machine loop, the console, a test). */
export interface RunbookResult {
  next: RunNext;
  action?: TriggerAction | "advance" | "plan" | "status" | "failback-plan" | "reset" | "latch-error";
  reason: string;
  group?: string;
  runId?: string;
  waitSeconds?: number;
  advance?: { mode: "advance"; group: string; runId: string };
  checks?: PrecheckResult[];
  message?: SlackMessage;
}

export interface AdvanceOptions {
  /** Sleep inline for waits while the invocation has time left; otherwise hand the wait back to the caller. */
  inlineWaits?: boolean;
  /** Absolute time (ms since epoch, by `deps.clock`) after which no new step is started. */
  deadlineMs?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Observations and pre-checks

/** Observe everything the pre-checks need (read-only calls). */
export async function observe(deps: FailoverDeps, group: FailoverGroup): Promise<Observation> {
  return (await observeOnce(deps, group))[0];
}

/**
 * Observe for the pre-checks, looking again (up to {@link PRECHECK_OBSERVE_ATTEMPTS} rounds, 5 s apart) while a
 * read failed without an answer: a throttled describe or GetMetricData must not refuse a failover that the
 * next read would allow. An unreachable primary is an answer (the outage itself) and is not retried.
 */
export async function observeSettled(deps: FailoverDeps, group: FailoverGroup): Promise<Observation> {
  const log = deps.log ?? (() => {});
  for (let attempt = 1; ; attempt++) {
    const [obs, lagFailed] = await observeOnce(deps, group);
    const unsettled = obs.primary.unknown === true || !obs.replica.reachable || lagFailed;
    if (!unsettled || attempt >= PRECHECK_OBSERVE_ATTEMPTS) return obs;
    log("failover observation incomplete; looking again", { attempt, primary: obs.primary.detail, replica: obs.replica.detail, lag: obs.lagDetail });
    await deps.clock.sleep(5_000);
  }
}

async function observeOnce(deps: FailoverDeps, group: FailoverGroup): Promise<[Observation, boolean]> {
  const [primary, replica, lag, probe] = await Promise.all([
    deps.db.describePrimary(group),
    deps.db.describeReplica(group),
    deps.metrics.replicaLag(group, deps.clock.now()),
    group.primaryProbeUrl ? deps.probe.check(group.primaryProbeUrl, group.healthTimeoutMs) : Promise.resolve(undefined),
  ]);
  const obs: Observation = {
    primary,
    replica,
    ...(lag.seconds !== undefined ? { lagSeconds: lag.seconds } : {}),
    lagDetail: lag.detail,
    ...(probe ? { primaryProbe: { ok: probe.ok, detail: probe.detail } } : {}),
  };
  return [obs, lag.failed === true];
}

/** Attempts at taking the latch when the conditional write neither succeeded nor lost to another run. */
const LATCH_ATTEMPTS = 3;

/** Whether a thrown promotion error may have reached RDS (see {@link DbPort.promote}). */
function outcomeUnknown(err: unknown): boolean {
  return (err as { outcomeUnknown?: unknown } | undefined)?.outcomeUnknown === true;
}

function promoteCallName(kind: PromotionKind): string {
  return kind === "promote" ? "PromoteReadReplica" : kind === "switchover" ? "SwitchoverGlobalCluster" : "FailoverGlobalCluster";
}

function findGroup(cfg: FailoverConfig, name: string): FailoverGroup {
  const g = cfg.groups.find((x) => x.name === name);
  if (!g) throw new Error(`unknown failover group "${name}" (configured: ${cfg.groups.map((x) => x.name).join(", ") || "none"})`);
  return g;
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

export interface TriggerRequest {
  kind: "alarm" | "manual";
  group: string;
  /** Alarm name, or "manual". */
  source: string;
  alarmState?: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  /** Alarm transition time (start of the RTO clock); manual: now. */
  at: Date;
  reason: string;
  force?: { reason: string };
}

/**
 * An alarm transition or a manual `execute`: decide, take the latch, start the run and advance it as far as
 * the options allow. Only ALARM (or execute) does anything; a held latch makes this a report.
 */
export async function triggerFailover(deps: FailoverDeps, cfg: FailoverConfig, req: TriggerRequest, opts: AdvanceOptions = {}): Promise<RunbookResult> {
  const group = findGroup(cfg, req.group);
  const log = deps.log ?? (() => {});
  const triggerInput = {
    kind: req.kind,
    ...(req.alarmState ? { alarmState: req.alarmState } : {}),
    alarmName: req.source,
    ...(req.force ? { force: true } : {}),
  };

  /**
   * A run already holds the latch. The same trigger arriving again (a redelivered alarm, or Step Functions
   * retrying this Task after a crash) and a human's execute follow that run to its end, so a crash in the first
   * invocation never leaves the latch on "running" with nobody advancing it. A different alarm instant is
   * reported, not posted to Slack: a flapping alarm would otherwise flood the channel.
   */
  const heldElsewhere = async (current: RunRecord, action: "in-progress" | "done-already", reason: string): Promise<RunbookResult> => {
    log("failover decision", { action, target: group.name, reason });
    if (action === "in-progress" && (current.runId === runIdFor(group.name, req.at) || req.kind === "manual")) {
      log("failover run resumed by a repeated trigger", { runId: current.runId });
      return advanceRun(deps, cfg, group.name, current.runId, opts);
    }
    return { next: "ignored", action, reason, group: group.name, runId: current.runId };
  };

  // Cheap exits first: a non-ALARM transition costs no AWS call at all.
  const early = decideFailover(group, triggerInput, [], undefined);
  if (early.action === "ignore") {
    log("failover decision", { ...early });
    return { next: "ignored", action: "ignore", reason: early.reason, group: group.name };
  }
  const runId = runIdFor(group.name, req.at);
  let held = await deps.latch.read(group.name);
  const latchOnly = decideFailover(group, triggerInput, [], held?.record);
  if (latchOnly.action === "in-progress" || latchOnly.action === "done-already") {
    return heldElsewhere(held!.record, latchOnly.action, latchOnly.reason);
  }

  const obs = await observeSettled(deps, group);
  const checks = runPrechecks(group, obs, { kind: req.kind, force: req.force !== undefined });
  const decision = decideFailover(group, triggerInput, checks, held?.record);
  log("failover decision", { ...decision, checks });

  if (decision.action === "refuse") {
    const message = renderRefusal(group.name, `${req.kind} ${req.source} at ${req.at.toISOString()}`, checks, decision.reason);
    await deps.notify.notify(message);
    await deps.latch.putReport(group.name, `refused-${runIdFor(group.name, req.at)}`, { group: group.name, decision, checks, trigger: req });
    return { next: "failed", action: "refuse", reason: decision.reason, group: group.name, checks, message };
  }
  if (decision.action === "plan-only") {
    const kind = promotionKindFor(group, obs.primary);
    const message = renderPlan(group.name, checks, decision.reason, planSteps(group, kind), `To proceed, a human runs mode "execute" for group ${group.name} with a reason.`);
    await deps.notify.notify(message);
    return { next: "ignored", action: "plan-only", reason: decision.reason, group: group.name, checks, message };
  }
  if (decision.action !== "start") {
    return { next: "ignored", action: decision.action, reason: decision.reason, group: group.name };
  }

  const record = newRunRecord(
    group,
    runId,
    { kind: req.kind, source: req.source, at: req.at.toISOString(), reason: req.reason, ...(req.force ? { force: req.force } : {}) },
    checks,
    deps.clock.now(),
  );
  record.promotionKind = promotionKindFor(group, obs.primary);
  // The one-way latch: If-None-Match for a fresh group, If-Match on a released record after a reset. A write
  // that neither succeeds nor loses to a visible run (409 ConditionalRequestConflict, an S3 error) is retried
  // a few times and then alerted: a failover must never be dropped silently.
  let etag: string | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= LATCH_ATTEMPTS && !etag; attempt++) {
    if (held) record.history = [...(held.record.history ?? []), held.record.runId];
    else delete record.history;
    try {
      etag = held ? await deps.latch.replace(group.name, record, held.etag) : await deps.latch.create(group.name, record);
    } catch (err) {
      lastError = err;
      log("failover latch write failed", { attempt, error: errorText(err) });
    }
    if (etag) break;
    held = await deps.latch.read(group.name);
    const again = decideFailover(group, triggerInput, checks, held?.record);
    if (again.action === "in-progress" || again.action === "done-already") {
      log("failover latch lost", { ...again });
      return heldElsewhere(held!.record, again.action, again.reason);
    }
    if (attempt < LATCH_ATTEMPTS) await deps.clock.sleep(1_000 * attempt);
  }
  if (!etag) {
    const why = lastError === undefined ? "the conditional write was refused, yet no run holds the latch" : errorText(lastError);
    const reason = `the latch could not be taken after ${LATCH_ATTEMPTS} attempts (${why}): failover NOT started`;
    log("failover latch error", { group: group.name, runId, reason });
    const message = renderLatchError(group.name, `${req.kind} ${req.source} at ${req.at.toISOString()}`, reason);
    await deps.notify.notify(message);
    return { next: "failed", action: "latch-error", reason, group: group.name, runId, checks, message };
  }
  log("failover latch taken", { group: group.name, runId });
  await deps.notify.notify(renderRunMessage(record, "start"));
  return advanceRun(deps, cfg, group.name, runId, opts);
}

/**
 * Advance a started run from its checkpoint until it finishes, fails, or must wait. Safe to call any number of
 * times, concurrently, after crashes: every action is claimed with a conditional write first, and a claimed
 * but unconfirmed promotion or DNS change is confirmed by observation instead of being issued again.
 */
export async function advanceRun(deps: FailoverDeps, cfg: FailoverConfig, groupName: string, runId: string, opts: AdvanceOptions = {}): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const log = deps.log ?? (() => {});
  const timeouts = { promotionTimeoutMinutes: cfg.promotionTimeoutMinutes, dnsTimeoutMinutes: cfg.dnsTimeoutMinutes };
  const base = { group: group.name, runId };
  const waitResult = (seconds: number, reason: string): RunbookResult => ({
    next: "wait",
    action: "advance",
    reason,
    ...base,
    waitSeconds: seconds,
    advance: { mode: "advance", group: group.name, runId },
  });

  // Bounded: each iteration either acts, waits, or loses a race and re-reads.
  for (let iteration = 0; iteration < 200; iteration++) {
    const held = await deps.latch.read(group.name);
    if (!held || held.record.runId !== runId) {
      return { next: "ignored", action: "advance", reason: `run ${runId} is not the current run of ${group.name}${held ? ` (current: ${held.record.runId}, ${held.record.state})` : ""}`, ...base };
    }
    let { record: run, etag } = held;
    const now = deps.clock.now();
    const decision = nextStep(run, now, timeouts);
    log("failover step decision", { ...decision, runId });

    if (decision.action === "none") {
      return { next: run.state === "failed" ? "failed" : run.state === "done" ? "done" : "ignored", action: "advance", reason: decision.reason, ...base };
    }
    if (opts.deadlineMs !== undefined && now.getTime() >= opts.deadlineMs) {
      return waitResult(1, "invocation deadline reached: continue in the next invocation");
    }

    // Claim-then-act helpers. `save` returns false when another executor changed the record first.
    const save = async (next: RunRecord): Promise<boolean> => {
      const e = await deps.latch.replace(group.name, next, etag);
      if (!e) return false;
      run = next;
      etag = e;
      return true;
    };
    const iso = (): string => deps.clock.now().toISOString();
    const finishStep = async (name: StepName, result: string, reason: string, extra: Partial<RunRecord> = {}): Promise<boolean> => {
      const startedAt = step(run, name).startedAt ?? iso();
      const ok = await save({ ...withStep(run, name, { status: "done", startedAt, endedAt: iso(), result, reason }), ...extra });
      if (ok) {
        await deps.latch.putReport(group.name, runId, reportOf(run));
        await deps.notify.notify(renderRunMessage(run, "step", name));
      }
      return ok;
    };
    const failRun = async (name: StepName, message: string, manualSteps: string[]): Promise<RunbookResult> => {
      const failed: RunRecord = {
        ...withStep(run, name, { status: "failed", startedAt: step(run, name).startedAt ?? iso(), endedAt: iso(), result: "failed", reason: message }),
        state: "failed",
        endedAt: iso(),
        failure: { step: name, message, manualSteps },
      };
      if (!(await save(failed))) return { next: "wait", action: "advance", reason: "record changed while failing; re-reading", ...base, waitSeconds: 1 };
      await deps.latch.putReport(group.name, runId, reportOf(run));
      await deps.notify.notify(renderRunMessage(run, "end"));
      return { next: "failed", action: "advance", reason: `${name}: ${message}`, ...base };
    };
    const startStep = async (name: StepName, extra: Partial<RunRecord> = {}): Promise<boolean> =>
      save({ ...withStep(run, name, { status: "started", startedAt: iso() }), ...extra });
    const wait = async (seconds: number, reason: string): Promise<RunbookResult | undefined> => {
      const endAt = deps.clock.now().getTime() + seconds * 1000;
      if (opts.inlineWaits && (opts.deadlineMs === undefined || endAt < opts.deadlineMs)) {
        await deps.clock.sleep(seconds * 1000);
        return undefined;
      }
      return waitResult(seconds, reason);
    };

    switch (decision.action) {
      case "promote": {
        const kind = run.promotionKind ?? promotionKindFor(group, await deps.db.describePrimary(group));
        const lag = await deps.metrics.replicaLag(group, now);
        const forced = run.trigger.force !== undefined;
        if (!forced && lag.failed) {
          // Unknown, not "too far": read again, and give up only after a bound (nothing has been changed yet).
          if (now.getTime() - Date.parse(run.startedAt) >= UNREADABLE_BOUND_MINUTES * 60_000) {
            if (!(await startStep("promote"))) continue;
            return failRun("promote", `replica lag could not be read for ${UNREADABLE_BOUND_MINUTES} min (${lag.detail}): not promoted`, [
              "Nothing was changed: the primary stays as it is, DNS untouched.",
              `Check ${group.replica.id}'s replica lag in CloudWatch (${group.replica.region}); reset the latch and run mode "execute" (with force and forceReason if accepting data loss).`,
            ]);
          }
          const w = await wait(cfg.pollSeconds, `replica lag unreadable (${lag.detail}): reading again before promoting`);
          if (w) return w;
          continue;
        }
        if (!forced && (lag.seconds === undefined || lag.seconds > group.maxReplicaLagSeconds)) {
          // The lag may have grown since the pre-check; the RPO guard applies at the moment of promotion.
          if (!(await startStep("promote"))) continue;
          return failRun("promote", `replica lag at promotion time is ${lag.seconds ?? "unknown"} s (> RPO ${group.maxReplicaLagSeconds} s): not promoted`, [
            "Nothing was changed: the primary stays as it is, DNS untouched.",
            `Investigate replication of ${group.replica.id}; if accepting data loss, run mode "execute" with force and forceReason after a reset.`,
          ]);
        }
        if (!(await startStep("promote", { promotionKind: kind, ...(lag.seconds !== undefined ? { lagAtPromotionSeconds: lag.seconds } : {}) }))) continue;
        let out: { detail: string };
        try {
          out = await deps.db.promote(group, kind);
        } catch (err) {
          if (outcomeUnknown(err)) {
            // The call may have reached RDS: the step stays `started`, and the database state decides.
            log("promotion call outcome unknown; confirming by observation", { error: errorText(err), runId });
            const w = await wait(cfg.pollSeconds, `promotion call outcome unknown (${errorText(err)}): confirming from the database state`);
            if (w) return w;
            continue;
          }
          return failRun("promote", `promotion failed: ${errorText(err)}`, [
            "Nothing else was changed: DNS still points at the primary.",
            `Check ${group.replica.id} in ${group.replica.region} (aws rds describe-db-instances / describe-db-clusters) and the RDS events; fix the cause, reset the latch, then run mode "execute".`,
          ]);
        }
        if (!(await finishStep("promote", kind === "promote" ? "promotion requested" : `${kind} requested`, out.detail))) continue;
        if (!(await startStep("wait-writable"))) continue;
        continue;
      }
      case "confirm-promotion": {
        const replica = await deps.db.describeReplica(group);
        const outcome = promotionOutcome(replica);
        if (outcome === "took-effect") {
          if (!(await finishStep("promote", "promotion confirmed", `found ${replica.detail} after a restart: not issued again`))) continue;
          if (!(await startStep("wait-writable"))) continue;
          continue;
        }
        const kind = run.promotionKind ?? "promote";
        const promoteStep = step(run, "promote");
        const startedAt = Date.parse(promoteStep.startedAt ?? now.toISOString());
        const timedOut = now.getTime() - startedAt >= cfg.promotionTimeoutMinutes * 60_000;
        if (outcome === "unknown") {
          // A describe that failed is no evidence the promotion did not arrive: never re-issue on it.
          if (timedOut) {
            return failRun(
              "promote",
              `promotion outcome unknown: ${group.replica.id} could not be described for ${cfg.promotionTimeoutMinutes} min (${replica.detail}); ${promoteCallName(kind)} may have been accepted`,
              manualPromotionSteps(group),
            );
          }
          const w = await wait(cfg.pollSeconds, `promotion outcome unknown (${replica.detail}): observing again`);
          if (w) return w;
          continue;
        }
        // Seen available and still replicating. RDS reflects an accepted promotion in DescribeDBInstances at once;
        // we still allow 2 minutes after the last call before concluding it never reached RDS, so a slow call is not doubled.
        const lastAt = Date.parse(promoteStep.lastAttemptAt ?? promoteStep.startedAt ?? now.toISOString());
        if (now.getTime() - lastAt < 120_000) {
          const w = await wait(cfg.pollSeconds, "promotion outcome unknown: waiting before deciding");
          if (w) return w;
          continue;
        }
        if (timedOut) {
          return failRun("promote", `${group.replica.id} is still an available replica ${cfg.promotionTimeoutMinutes} min after the first ${promoteCallName(kind)} (${replica.detail})`, manualPromotionSteps(group));
        }
        // Claim the re-issue first, so two executors that both saw "not arrived" cannot both call.
        if (!(await save(withStep(run, "promote", { lastAttemptAt: iso(), attempts: (promoteStep.attempts ?? 1) + 1 })))) continue;
        let again: { detail: string };
        try {
          again = await deps.db.promote(group, kind);
        } catch (err) {
          if (outcomeUnknown(err)) {
            const w = await wait(cfg.pollSeconds, `promotion call outcome unknown (${errorText(err)}): confirming from the database state`);
            if (w) return w;
            continue;
          }
          return failRun("promote", `promotion failed: ${errorText(err)}`, ["DNS was not changed.", "Inspect the replica, reset the latch and execute again."]);
        }
        if (!(await finishStep("promote", "promotion requested", `earlier attempt never reached RDS (${replica.detail}); ${again.detail}`))) continue;
        if (!(await startStep("wait-writable"))) continue;
        continue;
      }
      case "check-writable": {
        if (step(run, "wait-writable").status === "pending" && !(await startStep("wait-writable"))) continue;
        const replica = await deps.db.describeReplica(group);
        if (isWritable(replica)) {
          if (!(await finishStep("wait-writable", "writable", replica.detail))) continue;
          continue;
        }
        const w = await wait(cfg.pollSeconds, `not writable yet: ${replica.detail}`);
        if (w) return w;
        continue;
      }
      case "upsert-dns": {
        // Last guard before DNS: the database must be writable now, not just recorded so.
        const replica = await deps.db.describeReplica(group);
        if (!isWritable(replica)) {
          const writableAt = step(run, "wait-writable").endedAt ?? now.toISOString();
          if (now.getTime() - Date.parse(writableAt) >= cfg.dnsTimeoutMinutes * 60_000) {
            return failRun("dns-change", `DNS held: ${group.replica.id} not confirmed writable for ${cfg.dnsTimeoutMinutes} min (${replica.detail})`, [
              `${group.replica.id} was writable at ${writableAt} but could not be confirmed since: check it first (aws rds describe-db-instances / describe-db-clusters in ${group.replica.region}).`,
              ...manualDnsSteps(group.dns, `the database could not be confirmed writable again: ${replica.detail}`),
            ]);
          }
          const w = await wait(cfg.pollSeconds, `DNS held: database not confirmed writable (${replica.detail})`);
          if (w) return w;
          continue;
        }
        if (!(await startStep("dns-change"))) continue;
        const r = await doUpsert(deps, group);
        if ("error" in r) return failRun("dns-change", `Route 53 change failed: ${r.error}`, manualDnsSteps(group.dns, r.error));
        if (!(await finishStep("dns-change", "UPSERT accepted", `change ${r.changeId} after ${r.attempts} attempt(s)`, { dnsChangeId: r.changeId }))) continue;
        if (!(await startStep("dns-insync"))) continue;
        continue;
      }
      case "confirm-dns": {
        let current: RecordValue | undefined;
        try {
          current = await deps.dns.currentValue(group.dns);
        } catch (err) {
          // Unreadable is not "not changed": read again rather than UPSERT on a guess, and stop after a bound.
          const since = Date.parse(step(run, "dns-change").startedAt ?? now.toISOString());
          if (now.getTime() - since >= cfg.dnsTimeoutMinutes * 60_000) {
            return failRun(
              "dns-change",
              `DNS change outcome unknown: the record could not be read for ${cfg.dnsTimeoutMinutes} min (${errorText(err)})`,
              manualDnsSteps(group.dns, `the record could not be read back: ${errorText(err)}`),
            );
          }
          const w = await wait(cfg.pollSeconds, `record unreadable (${errorText(err)}): reading again before any UPSERT`);
          if (w) return w;
          continue;
        }
        if (current && sameValue(current, group.dns.dr)) {
          if (!(await finishStep("dns-change", "UPSERT confirmed", "record already has the DR value after a restart: not changed again"))) continue;
          if (!(await startStep("dns-insync"))) continue;
          continue;
        }
        // Route 53 shows an accepted change in ListResourceRecordSets at once, but the earlier call may still be
        // backing off on throttling in another executor: give it 2 minutes before concluding it never arrived.
        const dnsStep = step(run, "dns-change");
        const lastDnsAt = Date.parse(dnsStep.lastAttemptAt ?? dnsStep.startedAt ?? now.toISOString());
        if (now.getTime() - lastDnsAt < 120_000) {
          const w = await wait(cfg.pollSeconds, "DNS change started elsewhere and not visible yet: waiting before deciding");
          if (w) return w;
          continue;
        }
        if (!(await save(withStep(run, "dns-change", { lastAttemptAt: iso(), attempts: (dnsStep.attempts ?? 1) + 1 })))) continue;
        const r = await doUpsert(deps, group);
        if ("error" in r) return failRun("dns-change", `Route 53 change failed: ${r.error}`, manualDnsSteps(group.dns, r.error));
        if (!(await finishStep("dns-change", "UPSERT accepted", `earlier attempt never applied; change ${r.changeId} after ${r.attempts} attempt(s)`, { dnsChangeId: r.changeId }))) continue;
        if (!(await startStep("dns-insync"))) continue;
        continue;
      }
      case "check-insync": {
        if (step(run, "dns-insync").status === "pending" && !(await startStep("dns-insync"))) continue;
        if (!run.dnsChangeId) {
          // Change id lost in a crash: Route 53 makes a change INSYNC within 60 s of acceptance.
          const since = Date.parse(step(run, "dns-change").endedAt ?? now.toISOString());
          if (now.getTime() - since >= 60_000) {
            if (!(await finishStep("dns-insync", "INSYNC (assumed)", "change id unknown: 60 s elapsed, Route 53's propagation bound"))) continue;
            continue;
          }
          const w = await wait(Math.ceil((60_000 - (now.getTime() - since)) / 1000), "change id unknown: waiting Route 53's 60 s bound");
          if (w) return w;
          continue;
        }
        let status: "PENDING" | "INSYNC";
        try {
          status = await deps.dns.getChange(run.dnsChangeId);
        } catch (err) {
          const w = await wait(cfg.pollSeconds, `GetChange failed (${errorText(err)}): polling again`);
          if (w) return w;
          continue;
        }
        if (status === "INSYNC") {
          if (!(await finishStep("dns-insync", "INSYNC", `change ${run.dnsChangeId}`))) continue;
          continue;
        }
        const w = await wait(Math.min(cfg.pollSeconds, 10), `change ${run.dnsChangeId} PENDING`);
        if (w) return w;
        continue;
      }
      case "warm": {
        const target = group.warmTargetSet;
        if (!target) {
          if (!(await save(withStep(run, "warm", { status: "skipped", reason: "no warm-up target set" })))) continue;
          continue;
        }
        if (step(run, "warm").status === "pending" && !(await startStep("warm"))) continue;
        let result: { ok: boolean; summary: string };
        try {
          result = await deps.warm.warm(target);
        } catch (err) {
          result = { ok: false, summary: `warm-up error: ${errorText(err)}` };
        }
        // A cold cache is slower, not down: a failed warm-up is reported but does not stop the health check.
        if (!(await finishStep("warm", result.ok ? "warmed" : "warm-up incomplete", result.summary))) continue;
        continue;
      }
      case "verify-health": {
        if (step(run, "verify-health").status === "pending" && !(await startStep("verify-health"))) continue;
        const need = group.healthChecks;
        let consecutive = 0;
        let last = "";
        // A slow or flapping endpoint gets a few extra tries before it counts as down (one slow answer is not an outage).
        for (let attempt = 1; attempt <= need + 2 && consecutive < need; attempt++) {
          const r = await deps.probe.check(group.healthUrl, group.healthTimeoutMs);
          last = r.detail;
          consecutive = r.ok ? consecutive + 1 : 0;
          if (consecutive < need && attempt < need + 2) await deps.clock.sleep(5_000);
        }
        if (consecutive >= need) {
          if (!(await finishStep("verify-health", "healthy", `${need} consecutive healthy answers; last: ${last}`))) continue;
          continue;
        }
        return failRun("verify-health", `DR health check failed: ${last}`, [
          "The database WAS promoted and DNS points at the DR region. There is NO automatic failback.",
          `Investigate the DR application behind ${group.healthUrl} (logs, config pointing at the new writer, security groups).`,
          "Once fixed, check health by hand; reset the latch when the incident is closed.",
        ]);
      }
      case "fail-timeout": {
        const name = decision.target as StepName;
        return failRun(
          name,
          decision.reason,
          name === "dns-insync"
            ? ["The change was accepted; check it with aws route53 get-change and the record's value. The database stays promoted."]
            : [`Check ${group.replica.id} in ${group.replica.region}: promotion has not completed. DNS was not changed.`],
        );
      }
      case "finish": {
        const done: RunRecord = { ...run, state: "done", endedAt: iso() };
        if (!(await save(done))) continue;
        await deps.latch.putReport(group.name, runId, reportOf(run));
        await deps.notify.notify(renderRunMessage(run, "end"));
        return { next: "done", action: "advance", reason: "failover complete", ...base };
      }
    }
  }
  return waitResult(cfg.pollSeconds, "too many record conflicts in one invocation; continuing later");
}

async function doUpsert(deps: FailoverDeps, group: FailoverGroup): Promise<{ changeId: string; attempts: number } | { error: string }> {
  try {
    return await deps.dns.upsert(group.dns, group.dns.dr);
  } catch (err) {
    return { error: errorText(err) };
  }
}

/** The S3 run report: the record plus its timings. */
export function reportOf(run: RunRecord): Record<string, unknown> {
  return { ...run, timings: computeTimings(run) };
}

export function sameValue(a: RecordValue, b: RecordValue): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/\.$/, "");
  if ("values" in a && "values" in b) {
    const x = a.values.map(norm).sort();
    const y = b.values.map(norm).sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if ("alias" in a && "alias" in b) {
    return norm(a.alias.dnsName) === norm(b.alias.dnsName) && a.alias.hostedZoneId.replace(/^\/hostedzone\//, "") === b.alias.hostedZoneId.replace(/^\/hostedzone\//, "");
  }
  return false;
}

function errorText(err: unknown): string {
  // Adapter errors already lead with the AWS error name (`Throttling: Rate exceeded`); do not prefix twice.
  if (err instanceof Error) return err.name === "Error" || /^\w+: /.test(err.message) ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}

// ---------------------------------------------------------------------------------------------------------
// Manual read-only modes and reset

/** `plan`: every pre-check and every step, nothing changed (read-only calls only, no S3 write, one Slack post). */
export async function planFailover(deps: FailoverDeps, cfg: FailoverConfig, groupName: string): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  const obs = await observe(deps, group);
  const checks = runPrechecks(group, obs, { kind: "manual" });
  const decision = decideFailover(group, { kind: "manual" }, checks, held?.record);
  const failed = blockingFailures(checks);
  const note = held && held.record.state !== "released" ? `Latch held by ${held.record.runId} (${held.record.state}).` : "Latch free. Dry-run: nothing was changed.";
  const message = renderPlan(group.name, checks, `${decision.action}: ${decision.reason}`, planSteps(group, promotionKindFor(group, obs.primary)), note);
  await deps.notify.notify(message);
  return { next: "ignored", action: "plan", reason: failed.length ? decision.reason : `would ${decision.action}: ${decision.reason}`, group: group.name, checks, message };
}

export async function statusOf(deps: FailoverDeps, cfg: FailoverConfig, groupName?: string): Promise<RunbookResult> {
  const names = groupName ? [findGroup(cfg, groupName).name] : cfg.groups.map((g) => g.name);
  const lines: string[] = [];
  let message: SlackMessage | undefined;
  for (const name of names) {
    const held = await deps.latch.read(name);
    message = renderStatus(name, held?.record);
    lines.push(held ? `${name}: ${held.record.runId} ${held.record.state}` : `${name}: no run`);
  }
  return { next: "ignored", action: "status", reason: lines.join("; ") || "no failover groups configured", ...(message ? { message } : {}) };
}

export async function failbackPlan(deps: FailoverDeps, cfg: FailoverConfig, groupName: string): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  const message = renderFailbackPlan(group.name, failbackSteps(group, held?.record));
  await deps.notify.notify(message);
  return { next: "ignored", action: "failback-plan", reason: "failback is manual; steps reported", group: group.name, message };
}

/** `reset`: release the latch with a reason. Refused while a run is in progress unless `force`. */
export async function resetLatch(deps: FailoverDeps, cfg: FailoverConfig, groupName: string, reason: string, force: boolean): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  if (!held || held.record.state === "released") return { next: "ignored", action: "reset", reason: "latch already free", group: group.name };
  if (held.record.state === "running" && !force) {
    return { next: "ignored", action: "reset", reason: `run ${held.record.runId} is still in progress; reset with force to abandon it`, group: group.name, runId: held.record.runId };
  }
  const released: RunRecord = { ...held.record, state: "released", release: { at: deps.clock.now().toISOString(), reason } };
  const etag = await deps.latch.replace(group.name, released, held.etag);
  if (!etag) return { next: "ignored", action: "reset", reason: "the record changed during reset; run status and try again", group: group.name };
  await deps.latch.putReport(group.name, held.record.runId, reportOf(released));
  const message = renderReset(group.name, held.record.runId, reason);
  await deps.notify.notify(message);
  return { next: "done", action: "reset", reason: `latch released: ${reason}`, group: group.name, runId: held.record.runId, message };
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch


/**
 * Route a parsed event to the runbook: alarm transitions and `execute` trigger, `advance` resumes, the other
 * manual modes report. This is what the Lambda, the sandbox tests and the drill all call.
 *
 * @example
 *   await dispatchFailoverEvent(deps, cfg, parseFailoverEvent(event).event, { inlineWaits: false })
 */
export async function dispatchFailoverEvent(deps: FailoverDeps, cfg: FailoverConfig, event: FailoverInnerEvent, opts: AdvanceOptions = {}): Promise<RunbookResult> {
  if (isAlarmEvent(event)) {
    const alarmName = event.detail.alarmName;
    const group = groupForAlarm(cfg, alarmName);
    if (!group) return { next: "ignored", action: "ignore", reason: `alarm ${alarmName} triggers no configured failover group` };
    const at = parseAlarmTimestamp(event.detail.state.timestamp);
    return triggerFailover(
      deps,
      cfg,
      { kind: "alarm", group: group.name, source: alarmName, alarmState: event.detail.state.value, at, reason: event.detail.state.reason || `alarm ${alarmName} in ALARM` },
      opts,
    );
  }
  const manual = event as ManualEvent;
  switch (manual.mode) {
    case "plan":
      return planFailover(deps, cfg, manual.group);
    case "execute":
      return triggerFailover(
        deps,
        cfg,
        {
          kind: "manual",
          group: manual.group,
          source: "manual",
          at: deps.clock.now(),
          reason: manual.reason,
          ...(manual.force ? { force: { reason: manual.forceReason ?? "" } } : {}),
        },
        opts,
      );
    case "status":
      return statusOf(deps, cfg, manual.group);
    case "failback-plan":
      return failbackPlan(deps, cfg, manual.group);
    case "reset":
      return resetLatch(deps, cfg, manual.group, manual.reason, manual.force);
    case "advance":
      return advanceRun(deps, cfg, manual.group, manual.runId, opts);
  }
}

/** Where the state machine that drives runs is, for the refusal of a direct invoke. */
export interface StateMachineRef {
  /** Its name in the stack (`stacks/failover.ts`). */
  name: string;
  /** The stack output holding its ARN. */
  output: string;
}

/**
 * Whether `event`, invoked on the Lambda directly rather than through the state machine, must be refused, and
 * why. Anything that can start or advance a run (`execute`, `advance`, an ALARM of a configured group) is
 * refused: one invocation has minutes at most, a promotion alone can take longer, and nothing would call
 * `advance` after it, leaving a promoted database without its DNS change and the latch on "running". Read-only
 * modes, `reset` and alarms that would be ignored anyway run directly.
 *
 * @example
 *   directInvokeRefusal(cfg, { mode: "execute", group: "orders-db", reason: "drill", force: false }, sm)
 *   // 'mode "execute" runs only through the failover state machine: … aws stepfunctions start-execution …'
 */
export function directInvokeRefusal(cfg: FailoverConfig, event: FailoverInnerEvent, sm: StateMachineRef): string | undefined {
  let what: string;
  let group: FailoverGroup | undefined;
  let sample: string;
  if (isAlarmEvent(event)) {
    group = groupForAlarm(cfg, event.detail.alarmName);
    if (!group || event.detail.state.value !== "ALARM") return undefined;
    what = `an ALARM of ${event.detail.alarmName}`;
    sample = "events/failover-alarm.json";
  } else {
    const manual = event as ManualEvent;
    if (manual.mode !== "execute" && manual.mode !== "advance") return undefined;
    group = cfg.groups.find((g) => g.name === manual.group);
    what = `mode "${manual.mode}"`;
    sample = manual.mode === "execute" ? "events/failover-execute.json" : "events/failover-advance.json";
  }
  const region = group?.replica.region;
  return (
    `${what} runs only through the failover state machine: a direct invoke could promote ${group?.replica.id ?? "the replica"} and reach the Lambda timeout before DNS is switched, with nothing left to finish the run. ` +
    `Start the state machine ${sm.name} (stack output ${sm.output}${region ? `, region ${region}` : ""}) with this same event as input: ` +
    `aws stepfunctions start-execution${region ? ` --region ${region}` : ""} --state-machine-arn <${sm.output}> --input file://${sample}`
  );
}

function isAlarmEvent(e: FailoverInnerEvent): e is AlarmStateChangeEvent {
  return !("mode" in e) && "detail" in e;
}
