/**
 * Failover runbook decisions: pre-checks, the trigger decision, step observations and RTO/RPO.
 *
 * Pure: no AWS SDK, no clock. Every function takes what was observed and `now`, and returns data with a reason.
 * The run's state lives in one record (the latch + checkpoint document kept in S3 with conditional writes):
 * the durable engine (runbooks/lib/durable.ts) resumes a crash or redelivery at the first unfinished step, and
 * a step already started (promotion, DNS change) is confirmed by observation, never blindly repeated.
 */
import type { Decision } from "./types.ts";
import { formatDuration, type OpenIncident } from "./alert-lifecycle.ts";
import type { Severity } from "./notify-routing.ts";
import type { DnsConfig, FailoverConfig, FailoverGroup, RecordValue } from "../schemas/config-failover.ts";

export const STEP_NAMES = ["promote", "wait-writable", "dns-change", "dns-insync", "warm", "verify-health"] as const;
export type StepName = (typeof STEP_NAMES)[number];
/** A step's status in a durable run's checkpoint. */
export type StepStatus = "pending" | "started" | "done" | "failed" | "skipped";

/** One step's checkpoint in a durable run (runbooks/lib/durable.ts writes it; the failover latch stores it). */
export interface StepCheckpoint<N extends string = string> {
  name: N;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  /** Short outcome: `promoted`, `writable`, `INSYNC`, `healthy`, an error name, ... */
  result?: string;
  reason?: string;
  /** Attempts made: 1 at the claim, one more per re-issue the step claims. */
  attempts?: number;
  /** When the action was last issued, if after `startedAt` (a promotion re-issued once it was seen not to have arrived). */
  lastAttemptAt?: string;
}

export type StepRecord = StepCheckpoint<StepName>;

export type RunState = "running" | "done" | "failed" | "released";

export interface PrecheckResult {
  name: "primary-down" | "replica-available" | "replica-lag" | "latch";
  ok: boolean;
  /** A failed blocking check stops the failover; a warning is reported only. */
  blocking: boolean;
  reason: string;
}

export interface TriggerInfo {
  kind: "alarm" | "manual";
  /** Alarm name, or `manual` for console invokes. */
  source: string;
  /** When the alarm went into ALARM (or the manual invoke arrived): the start of the RTO clock. */
  at: string;
  reason: string;
  force?: { reason: string };
}

/**
 * The latch and checkpoint of one group, as stored in S3. Its existence (state other than `released`) is the
 * one-way latch: nothing else starts a failover for the group until a manual reset releases it.
 */
export interface RunRecord {
  version: 1;
  group: string;
  runId: string;
  state: RunState;
  trigger: TriggerInfo;
  startedAt: string;
  endedAt?: string;
  prechecks: PrecheckResult[];
  /** Replica lag (s) measured right before promotion: the data-loss window (RPO). */
  lagAtPromotionSeconds?: number;
  /** `switchover` (Aurora, primary reachable), `failover` (Aurora, primary unreachable) or `promote` (RDS). */
  promotionKind?: PromotionKind;
  dnsChangeId?: string;
  /**
   * ChangeResourceRecordSets calls the accepted DNS change took (adapters/route53.ts retries throttling and
   * PriorRequestNotComplete): every call but the last was refused and changed nothing.
   */
  dnsAttempts?: number;
  /** The Step Functions execution that started the run (absent when started by a direct invocation). */
  execution?: string;
  steps: StepRecord[];
  failure?: { step: StepName; message: string; manualSteps: string[] };
  release?: { at: string; reason: string };
  /** Previous runs released by reset, newest last (ids only; their reports stay in S3). */
  history?: string[];
}

export type PromotionKind = "promote" | "switchover" | "failover";

// ---------------------------------------------------------------------------------------------------------
// Observations (adapters map AWS answers into these)

export interface DbObservation {
  /** False when the describe call failed (region down, not found, throttled, refused). */
  reachable: boolean;
  /**
   * The describe failed in a way that says nothing about the database (throttled, access denied, a
   * malformed request): the API answered, so the region is up. Not a "down" signal, not "not promoted":
   * observe again.
   */
  unknown?: boolean;
  status?: string;
  /** True while it is still replicating from the primary (read replica / secondary cluster). */
  isReplica?: boolean;
  /** Aurora: writer of the global cluster is in this region. */
  isWriter?: boolean;
  detail: string;
}

export interface Observation {
  primary: DbObservation;
  /** Independent HTTP probe of the primary, when configured. */
  primaryProbe?: { ok: boolean; detail: string };
  replica: DbObservation;
  /** Conservative replica lag in seconds (max over the recent window); undefined when no datapoint. */
  lagSeconds?: number;
  lagDetail: string;
}

// ---------------------------------------------------------------------------------------------------------
// Pre-checks

/** Statuses in which RDS/Aurora still serves the primary; anything else counts as a second "down" signal. */
const SERVING_STATUSES = new Set(["available", "backing-up", "modifying", "configuring-enhanced-monitoring", "storage-optimization", "upgrading"]);

/**
 * Run the pre-checks on what was observed. The primary must be down by a second signal besides the alarm
 * (RDS status or an independent probe); the replica must be `available` (PromoteReadReplica is refused while it
 * is `backing-up`) and still a replica; its lag must be within the RPO unless a human forces it.
 *
 * @example
 *   runPrechecks(group, obs, { kind: "alarm" }) // [{ name: "primary-down", ok: true, ... }, ...]
 */
export function runPrechecks(group: FailoverGroup, obs: Observation, trigger: { kind: "alarm" | "manual"; force?: boolean }): PrecheckResult[] {
  const out: PrecheckResult[] = [];

  // A throttled or refused describe is no signal either way: only an unreachable API or a non-serving status counts.
  const dbDown = (!obs.primary.reachable && !obs.primary.unknown) || (obs.primary.status !== undefined && !SERVING_STATUSES.has(obs.primary.status));
  const probeDown = obs.primaryProbe ? !obs.primaryProbe.ok : false;
  const down = dbDown || probeDown;
  const signals = [`RDS: ${obs.primary.detail}`, ...(obs.primaryProbe ? [`probe: ${obs.primaryProbe.detail}`] : [])].join("; ");
  out.push({
    name: "primary-down",
    ok: down,
    // A human may fail over a healthy primary (planned DR test); an alarm alone may not.
    blocking: trigger.kind === "alarm",
    reason: down
      ? `primary ${group.primary.id} is down by a second signal (${signals})`
      : `primary ${group.primary.id} looks healthy by every second signal (${signals}); the alarm alone is not enough`,
  });

  const r = obs.replica;
  let replicaOk = false;
  let replicaReason: string;
  if (!r.reachable) replicaReason = `replica ${group.replica.id} in ${group.replica.region} cannot be described: ${r.detail}`;
  else if (r.status === "backing-up") replicaReason = `replica ${group.replica.id} is backing-up: PromoteReadReplica is refused until the backup ends`;
  else if (r.status !== "available") replicaReason = `replica ${group.replica.id} is ${r.status ?? "in an unknown state"}, not available`;
  else if (r.isReplica === false) replicaReason = `replica ${group.replica.id} is no longer a replica (already promoted?): ${r.detail}`;
  else {
    replicaOk = true;
    replicaReason = `replica ${group.replica.id} is available and replicating`;
  }
  out.push({ name: "replica-available", ok: replicaOk, blocking: true, reason: replicaReason });

  const max = group.maxReplicaLagSeconds;
  const lagOk = obs.lagSeconds !== undefined && obs.lagSeconds <= max;
  const forced = trigger.kind === "manual" && trigger.force === true;
  out.push({
    name: "replica-lag",
    ok: lagOk,
    blocking: !forced,
    reason:
      obs.lagSeconds === undefined
        ? `replica lag unknown (${obs.lagDetail}): cannot prove the RPO of ${max} s${forced ? "; forced by operator" : ""}`
        : lagOk
          ? `replica lag ${fmtSeconds(obs.lagSeconds)} ≤ RPO ${max} s`
          : `replica lag ${fmtSeconds(obs.lagSeconds)} > RPO ${max} s: promoting would lose that much data${forced ? "; forced by operator" : ""}`,
  });
  return out;
}

export function blockingFailures(checks: PrecheckResult[]): PrecheckResult[] {
  return checks.filter((c) => !c.ok && c.blocking);
}

// ---------------------------------------------------------------------------------------------------------
// Trigger decision

export type TriggerAction = "ignore" | "in-progress" | "done-already" | "refuse" | "plan-only" | "observe" | "start";

export interface TriggerInput {
  kind: "alarm" | "manual";
  /** For alarms: the new state value. */
  alarmState?: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  alarmName?: string;
  force?: boolean;
}

/**
 * Decide what an alarm or manual `execute` does for a group. Only a transition into ALARM (or a manual execute)
 * can start anything; an existing latch turns every later trigger into a report; failed blocking pre-checks refuse;
 * a `plan-only` group answers an alarm with a plan and waits for a human. While the stage is in observe mode
 * (core/observe.ts) an `automatic` group does the same: observe only holds back what an alarm would start on its
 * own, so a `plan-only` group stays plan-only when the window ends, and a human's `execute` is never held back.
 *
 * @example
 *   decideFailover(group, { kind: "alarm", alarmState: "ALARM" }, checks, undefined)
 *   // { action: "start", target: "orders-db", reason: "all pre-checks passed" }
 *   decideFailover(group, { kind: "alarm", alarmState: "ALARM" }, checks, undefined, { observing: true, reason: "observe mode until the end of 2026-12-13 (UTC): …" })
 *   // { action: "observe", target: "orders-db", reason: "observe mode until the end of 2026-12-13 (UTC): …; group orders-db is automatic: pre-checks passed, …" }
 */
export function decideFailover(
  group: FailoverGroup,
  trigger: TriggerInput,
  checks: PrecheckResult[] | undefined,
  latch: RunRecord | undefined,
  observe?: { observing: boolean; reason: string },
): Decision<TriggerAction, string> {
  const target = group.name;
  if (trigger.kind === "alarm" && trigger.alarmState !== "ALARM") {
    return {
      action: "ignore",
      target,
      reason: `alarm ${trigger.alarmName ?? "?"} went to ${trigger.alarmState}: only a transition into ALARM starts a failover`,
    };
  }
  if (latch && latch.state !== "released") {
    if (latch.state === "running") {
      return { action: "in-progress", target, reason: `failover ${latch.runId} is in progress (${describeProgress(latch)}); nothing else is started` };
    }
    return {
      action: "done-already",
      target,
      reason: `failover ${latch.runId} already ran (${latch.state}); the latch stays until a manual reset`,
    };
  }
  if (!checks) return { action: "refuse", target, reason: "pre-checks did not run" };
  const failed = blockingFailures(checks);
  if (failed.length) {
    return { action: "refuse", target, reason: `refused: ${failed.map((c) => c.reason).join("; ")}` };
  }
  if (trigger.kind === "alarm" && group.execution === "plan-only") {
    return { action: "plan-only", target, reason: `group ${group.name} is plan-only: pre-checks passed, waiting for a manual execute` };
  }
  if (trigger.kind === "alarm" && observe?.observing) {
    return {
      action: "observe",
      target,
      reason: `${observe.reason}; group ${group.name} is automatic: pre-checks passed, it would have failed over now, planned only`,
    };
  }
  return { action: "start", target, reason: "all blocking pre-checks passed" };
}

// ---------------------------------------------------------------------------------------------------------
// Run record

/** A fresh run record (the latch document) for a started failover. */
export function newRunRecord(group: FailoverGroup, runId: string, trigger: TriggerInfo, checks: PrecheckResult[], now: Date): RunRecord {
  return {
    version: 1,
    group: group.name,
    runId,
    state: "running",
    trigger,
    startedAt: now.toISOString(),
    prechecks: checks,
    steps: STEP_NAMES.map((name) => ({
      name,
      status: name === "warm" && !group.warmTargetSet ? "skipped" : "pending",
      ...(name === "warm" && !group.warmTargetSet ? { reason: "no warm-up target set configured" } : {}),
    })),
  };
}

/** Deterministic run id: one per group and trigger instant, so redelivered events map onto the same run. */
export function runIdFor(group: string, at: Date): string {
  return `${group}-${at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;
}

export function step(run: RunRecord, name: StepName): StepRecord {
  const s = run.steps.find((x) => x.name === name);
  if (!s) throw new Error(`run ${run.runId} has no step ${name}`);
  return s;
}

/** Copy of `run` with one step changed (records are treated as immutable values). */
export function withStep(run: RunRecord, name: StepName, patch: Partial<StepRecord>): RunRecord {
  return { ...run, steps: run.steps.map((s) => (s.name === name ? { ...s, ...patch } : s)) };
}

function describeProgress(run: RunRecord): string {
  const current = run.steps.find((s) => s.status === "started" || s.status === "pending");
  return current ? `at step ${current.name} (${current.status})` : "finishing";
}

// ---------------------------------------------------------------------------------------------------------
// Step decisions (the steps themselves are runbooks/failover/steps/*)

/**
 * Whether an observed database counts as writable after promotion: available and no longer a replica
 * (RDS), or the writer of the global cluster (Aurora).
 */
export function isWritable(db: DbObservation): boolean {
  return db.reachable && db.status === "available" && db.isReplica === false && db.isWriter !== false;
}

export type PromotionOutcome = "took-effect" | "not-arrived" | "unknown";

/**
 * What a `started` promotion did, as far as one describe shows. RDS flips the instance to `modifying` in the
 * PromoteReadReplica response itself, so only an instance positively seen `available` and still replicating
 * means the call never reached RDS (`not-arrived`). A describe that failed, for whatever reason, is `unknown`:
 * never grounds for issuing the promotion again.
 *
 * @example
 *   promotionOutcome({ reachable: false, unknown: true, detail: "Throttling" }) // "unknown"
 *   promotionOutcome({ reachable: true, status: "modifying", isReplica: true, detail: "" }) // "took-effect"
 */
export function promotionOutcome(db: DbObservation): PromotionOutcome {
  if (!db.reachable) return "unknown";
  if (db.isReplica === false || db.status !== "available" || db.isWriter === true) return "took-effect";
  return db.isReplica === true ? "not-arrived" : "unknown";
}

/** Minutes a read the runbook needs before acting (replica lag at promotion) may keep failing before the run fails. */
export const UNREADABLE_BOUND_MINUTES = 5;

/** Observation rounds of the pre-checks when a read failed (not: answered "down" or "lagging"). */
export const PRECHECK_OBSERVE_ATTEMPTS = 3;

/**
 * Aurora global: switchover (no data loss) when the old primary answers, failover (allowing data loss) when it
 * is unreachable or not serving. A describe of the primary that was throttled or refused says nothing: it gets
 * the switchover, which fails loudly if the primary is really gone, rather than a silent data loss.
 */
export function promotionKindFor(group: FailoverGroup, primary: DbObservation): PromotionKind {
  if (group.replica.kind === "rds-instance") return "promote";
  if (primary.unknown) return "switchover";
  return primary.reachable && primary.status === "available" ? "switchover" : "failover";
}

// ---------------------------------------------------------------------------------------------------------
// RTO / RPO

export interface RunTimings {
  /** Alarm → database writable (s). */
  writableSeconds?: number;
  /** Alarm → DNS INSYNC (s). */
  dnsInsyncSeconds?: number;
  /** Alarm → DR health verified (s): the RTO. */
  rtoSeconds?: number;
  /** Replica lag at promotion (s): the RPO. */
  rpoSeconds?: number;
}

/**
 * RTO (alarm time → DNS INSYNC → healthy) and RPO (replica lag at promotion) of a run, from its record.
 *
 * @example
 *   computeTimings(run) // { writableSeconds: 312, dnsInsyncSeconds: 371, rtoSeconds: 390, rpoSeconds: 4 }
 */
export function computeTimings(run: RunRecord): RunTimings {
  const t0 = Date.parse(run.trigger.at);
  const at = (name: StepName): number | undefined => {
    const s = run.steps.find((x) => x.name === name);
    return s?.status === "done" && s.endedAt ? Math.max(0, (Date.parse(s.endedAt) - t0) / 1000) : undefined;
  };
  const out: RunTimings = {};
  const w = at("wait-writable");
  const d = at("dns-insync");
  const h = at("verify-health");
  if (w !== undefined) out.writableSeconds = w;
  if (d !== undefined) out.dnsInsyncSeconds = d;
  if (h !== undefined) out.rtoSeconds = h;
  if (run.lagAtPromotionSeconds !== undefined) out.rpoSeconds = run.lagAtPromotionSeconds;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Plans and manual instructions

export function describeValue(v: RecordValue): string {
  return "values" in v ? v.values.join(", ") : `alias ${v.alias.dnsName} (${v.alias.hostedZoneId})`;
}

/** Manual steps when a promotion may have been issued but the database could not be observed. */
export function manualPromotionSteps(group: FailoverGroup): string[] {
  const r = group.replica;
  const describe =
    r.kind === "rds-instance"
      ? `aws rds describe-db-instances --region ${r.region} --db-instance-identifier ${r.id}`
      : `aws rds describe-global-clusters --region ${r.region} --global-cluster-identifier ${group.globalClusterId}`;
  return [
    `Do NOT promote again blindly: check ${r.id} in ${r.region} first (${describe}).`,
    r.kind === "rds-instance"
      ? `If it is available and has no ReadReplicaSourceDBInstanceIdentifier, it is promoted and writable: switch DNS by hand (below). If it is still a replica and available, the promotion never arrived: reset the latch and run mode "execute".`
      : `If ${r.id} is the writer of ${group.globalClusterId}, it is promoted: switch DNS by hand (below). If not, reset the latch and run mode "execute".`,
    ...manualDnsSteps(group.dns, "the runbook stopped before DNS").slice(1),
  ];
}

/** The exact manual steps when the DNS switch failed after the database was promoted. */
export function manualDnsSteps(dns: DnsConfig, error: string): string[] {
  const rrset =
    "values" in dns.dr
      ? `{"Name":"${dns.recordName}","Type":"${dns.recordType}","TTL":${dns.ttl},"ResourceRecords":[${dns.dr.values.map((v) => `{"Value":"${v}"}`).join(",")}]}`
      : `{"Name":"${dns.recordName}","Type":"${dns.recordType}","AliasTarget":{"HostedZoneId":"${dns.dr.alias.hostedZoneId}","DNSName":"${dns.dr.alias.dnsName}","EvaluateTargetHealth":${dns.dr.alias.evaluateTargetHealth}}}`;
  return [
    `The database WAS promoted and is writable in the DR region; only DNS is left (${error}).`,
    `Do NOT fail back the database. Switch DNS by hand:`,
    `aws route53 change-resource-record-sets --hosted-zone-id ${dns.hostedZoneId} --change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":${rrset}}]}'`,
    `Then: aws route53 get-change --id <ChangeInfo.Id> until Status is INSYNC, then check the DR health URL.`,
    `Route 53's API allows 5 requests/s per account: if throttled, wait a few seconds and retry.`,
  ];
}

/** Failback is never automatic: the steps an operator follows once the primary region is back. */
export function failbackSteps(group: FailoverGroup, run: RunRecord | undefined): string[] {
  const p = group.primary;
  const r = group.replica;
  const lines = [
    run ? `Current run: ${run.runId} (${run.state}).` : `No failover has run for ${group.name}.`,
    `Failback is manual and planned (it is a second failover, in the other direction):`,
  ];
  if (r.kind === "rds-instance") {
    lines.push(
      `1. The old primary ${p.id} (${p.region}) diverged at promotion: do not reuse it as a writer. Snapshot it for forensics, then delete or rename it.`,
      `2. Create a new cross-region read replica of ${r.id} in ${p.region}; wait until it is available and ReplicaLag ≈ 0.`,
      `3. In a maintenance window: stop writes, PromoteReadReplica the new replica in ${p.region}, wait until writable.`,
      `4. Route 53 UPSERT ${group.dns.recordName} back to ${describeValue(group.dns.primary)}; wait INSYNC; verify health.`,
      `5. Recreate a DR replica in ${r.region}, update the group config (ids), then reset the latch (mode "reset").`,
    );
  } else {
    lines.push(
      `1. Wait until the old primary cluster ${p.id} rejoins ${group.globalClusterId} as a secondary and replication lag ≈ 0.`,
      `2. In a maintenance window: SwitchoverGlobalCluster ${group.globalClusterId} to ${p.id} (no data loss).`,
      `3. Route 53 UPSERT ${group.dns.recordName} back to ${describeValue(group.dns.primary)}; wait INSYNC; verify health.`,
      `4. Reset the latch (mode "reset") with a reason.`,
    );
  }
  return lines;
}

/** The group an alarm name triggers, if any. */
export function groupForAlarm(cfg: FailoverConfig, alarmName: string): FailoverGroup | undefined {
  return cfg.groups.find((g) => g.alarms.includes(alarmName));
}

export function fmtSeconds(s: number): string {
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  if (s < 7200) return `${Math.round(s / 6) / 10} min`;
  return `${Math.round(s / 360) / 10} h`;
}

// ---------------------------------------------------------------------------------------------------------
// Failover states on the alert lifecycle (core/alert-lifecycle.ts)

/**
 * What a group's open failover incident stands for:
 * - `waiting`: the database is down and nothing was done (a refused real alarm, a plan-only group, observe mode, a
 *   latch that could not be taken): a human must act;
 * - `running`: a failover run is under way;
 * - `failed`: a run ended failed; the latch holds it until a manual reset.
 */
export type FailoverIncidentState = "waiting" | "running" | "failed";

export interface FailoverIncident {
  state: FailoverIncidentState;
  runId?: string;
  reason: string;
}

/** What happened to a group, as the lifecycle reads it. Step progress is not an event: it is info, always sent. */
export type FailoverAlertEvent =
  /** The database is down (the primary-down check passed) and nothing was done. */
  | { kind: "down-nothing-done"; reason: string }
  | { kind: "start"; runId: string; reason: string }
  | { kind: "end"; runId: string; failed: boolean; reason: string }
  /** An invocation found the latch holding a failed run (an alarm again, a human's execute): a reminder may be due. */
  | { kind: "failed-held"; runId: string; reason: string }
  /** The condition is over without a run: a reset, or an alarm whose primary looks healthy again. `quiet`: the message's severity when no incident is open. */
  | { kind: "clear"; reason: string; quiet: Severity };

export type FailoverAlertKind = "started" | "escalated" | "updated" | "reminder" | "resolved" | "hold";

export interface FailoverAlertDecision {
  kind: FailoverAlertKind;
  /** The severity the message goes out with (critical pages); undefined when nothing is sent (`hold`). */
  severity?: Severity;
  /** The incident to store after this message; undefined: none open (delete it). */
  next?: OpenIncident<FailoverIncident>;
  reason: string;
}

/** The lifecycle key of a group's failover incident. */
export function failoverIncidentKey(group: string): string {
  return `failover:${group}`;
}

/**
 * The failover incident's next step, one group at a time (each invocation knows only its group). A start, a refused
 * real alarm and a failed end are critical (they page), each once per incident: a start after a refusal of the same
 * incident is a warning (the on-call was paged already), a failed end escalates (critical again: the automation gave up).
 * While it lasts, an invocation that finds the database still down and nothing done, or the latch holding the failed
 * run, reminds at most every `remindEveryMs` (a warning); otherwise it holds. A healthy end, a reset, or a primary seen
 * healthy again resolves it once (info).
 *
 * @example
 *   decideFailoverAlert(undefined, { kind: "start", runId: "orders-db-1", reason: "all pre-checks passed" }, now, 6 * HOUR_MS)
 *   // { kind: "started", severity: "critical", next: { openedAt: now, ..., detail: { state: "running", runId: "orders-db-1", ... } }, reason: "failover:… started" }
 */
export function decideFailoverAlert(
  open: OpenIncident<FailoverIncident> | undefined,
  event: FailoverAlertEvent,
  now: Date,
  remindEveryMs: number,
): FailoverAlertDecision {
  if (!(remindEveryMs > 0)) throw new Error(`remindEveryMs must be positive, got ${remindEveryMs}`);
  const at = now.toISOString();
  const fresh = (detail: FailoverIncident): OpenIncident<FailoverIncident> => ({ openedAt: at, lastNotifiedAt: at, reminders: 0, detail });
  const notified = (o: OpenIncident<FailoverIncident>, detail: FailoverIncident, reminder = false): OpenIncident<FailoverIncident> => ({
    ...o,
    lastNotifiedAt: at,
    reminders: o.reminders + (reminder ? 1 : 0),
    detail,
  });
  const since = open ? now.getTime() - Date.parse(open.lastNotifiedAt) : 0;
  const due = open !== undefined && since >= remindEveryMs;
  const nextDue = open ? new Date(Date.parse(open.lastNotifiedAt) + remindEveryMs).toISOString() : at;
  const remind = (detail: FailoverIncident, what: string): FailoverAlertDecision =>
    due
      ? {
          kind: "reminder",
          severity: "warning",
          next: notified(open!, detail, true),
          reason: `${what}; open since ${open!.openedAt}, last message ${formatDuration(since)} ago (remind every ${formatDuration(remindEveryMs)})`,
        }
      : { kind: "hold", next: { ...open!, detail }, reason: `${what}; next reminder due at ${nextDue}` };

  switch (event.kind) {
    case "down-nothing-done": {
      const detail: FailoverIncident = { state: "waiting", reason: event.reason };
      if (!open) return { kind: "started", severity: "critical", next: fresh(detail), reason: `database down and nothing done: ${event.reason}` };
      if (open.detail.state !== "waiting") {
        return { kind: "hold", next: open, reason: `the open incident is a ${open.detail.state} run (${open.detail.runId ?? "?"}); it speaks for the group` };
      }
      return remind(detail, "database still down and nothing done");
    }
    case "start": {
      const detail: FailoverIncident = { state: "running", runId: event.runId, reason: event.reason };
      if (!open) return { kind: "started", severity: "critical", next: fresh(detail), reason: `failover ${event.runId} started` };
      return {
        kind: "updated",
        severity: "warning",
        next: notified(open, detail),
        reason: `failover ${event.runId} started within the open incident (${open.detail.state} since ${open.openedAt}): paged already`,
      };
    }
    case "end": {
      if (!event.failed) {
        const durationMs = open ? now.getTime() - Date.parse(open.openedAt) : 0;
        return {
          kind: "resolved",
          severity: "info",
          reason: `failover ${event.runId} ended healthy${open ? `; the incident lasted ${formatDuration(durationMs)}` : ""}`,
        };
      }
      const detail: FailoverIncident = { state: "failed", runId: event.runId, reason: event.reason };
      if (open?.detail.state === "failed" && open.detail.runId === event.runId) {
        return { kind: "hold", next: open, reason: `failover ${event.runId} was reported failed already` };
      }
      return open
        ? { kind: "escalated", severity: "critical", next: notified(open, detail), reason: `failover ${event.runId} failed: a human must act` }
        : { kind: "started", severity: "critical", next: fresh(detail), reason: `failover ${event.runId} failed: a human must act` };
    }
    case "failed-held": {
      const detail: FailoverIncident = { state: "failed", runId: event.runId, reason: event.reason };
      if (!open) {
        // No incident although the latch holds a failed run: its state was lost or predates the lifecycle. Open it
        // with a warning rather than page again for a failure that paged when it happened.
        return { kind: "reminder", severity: "warning", next: fresh(detail), reason: `the latch holds failed run ${event.runId} and no incident was open` };
      }
      return remind({ ...detail, reason: open.detail.reason }, `the latch still holds failed run ${event.runId}`);
    }
    case "clear":
      return open
        ? { kind: "resolved", severity: "info", reason: `${event.reason}; the incident lasted ${formatDuration(now.getTime() - Date.parse(open.openedAt))}` }
        : { kind: "resolved", severity: event.quiet, reason: `${event.reason}; no incident was open` };
  }
}
