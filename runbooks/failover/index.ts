/**
 * The failover runbook: pre-checks and the one-way latch (triggerFailover), the steps on the durable engine
 * (advanceRun), the read-only modes (plan, status, failback-plan), reset, and the dispatch of parsed events that
 * the Lambda, the sandbox tests and the drill all call.
 *
 * No AWS imports and no clock of its own: everything that touches the world is a port (./ports.ts), `now` comes
 * from `deps.clock`. The latch record is the only state; every write is conditional (If-None-Match for the latch,
 * If-Match etag for each step), so two executors racing on one run cannot both act: the loser re-reads and
 * follows the record.
 */
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { FailoverConfig, FailoverGroup } from "../../schemas/config-failover.ts";
import {
  blockingFailures,
  computeTimings,
  decideFailover,
  failbackSteps,
  groupForAlarm,
  newRunRecord,
  promotionKindFor,
  runIdFor,
  runPrechecks,
  type PrecheckResult,
  type PromotionKind,
  type RunRecord,
  type StepName,
  type TriggerAction,
} from "../../core/failover.ts";
import type { FailoverInnerEvent, ManualEvent } from "../../schemas/events-failover.ts";
import { parseAlarmTimestamp } from "../../schemas/events-failover.ts";
import {
  type FailoverLinks,
  type LifecycleNote,
  renderFailbackPlan,
  renderLatchError,
  renderObserved,
  renderPlan,
  renderRefusal,
  renderReset,
  renderRunMessage,
  renderStatus,
} from "../../core/report/failover.ts";
import { observeLabel, type ObserveState } from "../../core/observe.ts";
import { advanceDurable, type AdvanceOptions } from "../lib/durable.ts";
import type { FailoverDeps } from "./ports.ts";
import { FAILOVER_STEPS } from "./steps/index.ts";
import { errorText } from "./steps/shared.ts";
import { observe, observeSettled } from "./observe.ts";
import { incidentStep, send } from "./alerts.ts";
import type { FailoverAlertDecision, FailoverAlertEvent } from "../../core/failover.ts";

export type {
  ClockPort,
  DbPort,
  DnsPort,
  FailoverAlertsPort,
  FailoverDeps,
  LatchPort,
  MetricsPort,
  NotifyPort,
  ProbePort,
  ReportLocation,
  WarmPort,
} from "./ports.ts";
export type { AdvanceOptions } from "../lib/durable.ts";
export { sameValue } from "./steps/shared.ts";
export { observe, observeSettled } from "./observe.ts";
export { directInvokeRefusal, type StateMachineRef } from "./direct-invoke.ts";
import { isAlarmEvent } from "./direct-invoke.ts";

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
  /** The step an advance stopped at, so the Step Functions execution history reads as a timeline. */
  step?: StepName;
  waitSeconds?: number;
  advance?: { mode: "advance"; group: string; runId: string };
  checks?: PrecheckResult[];
  message?: SlackMessage;
}

/** Attempts at taking the latch when the conditional write neither succeeded nor lost to another run. */
const LATCH_ATTEMPTS = 3;

/** The links of a message: the execution running this invocation (if any) and the report `reportId`, if written. */
function linksFor(deps: FailoverDeps, opts: AdvanceOptions, group: string, reportId?: string): FailoverLinks {
  return {
    ...(opts.execution ? { execution: opts.execution } : {}),
    ...(reportId && deps.reportLocation ? { report: deps.reportLocation(group, reportId) } : {}),
  };
}

/** What a lifecycle decision adds to a message's title. */
function noteOf(d: FailoverAlertDecision, openedAt?: string): LifecycleNote {
  if (d.kind === "reminder") return { kind: "reminder", openedAt: d.next?.openedAt ?? openedAt ?? "?" };
  if (d.kind === "resolved") return { kind: "resolved" };
  return undefined;
}

/**
 * Save a report, and never let its failure keep the message from going out: the error is rethrown after the message
 * (so the invocation still fails), and the message then says no report was written.
 */
async function reportThenSend(
  deps: FailoverDeps,
  group: string,
  reportId: string,
  report: unknown,
  message: (reportWritten: boolean) => Promise<void>,
): Promise<void> {
  let error: unknown;
  try {
    await deps.latch.putReport(group, reportId, report);
  } catch (err) {
    error = err;
    (deps.log ?? (() => {}))("failover report not saved", { group, reportId, error: errorText(err) });
  }
  await message(error === undefined);
  if (error !== undefined) throw error;
}

/** The lifecycle event of a trigger that did nothing: critical when the database is down, else the condition is over. */
function nothingDoneEvent(checks: PrecheckResult[], reason: string): FailoverAlertEvent {
  return checks.find((c) => c.name === "primary-down")?.ok === false
    ? { kind: "clear", reason: `the primary looks healthy: ${reason}`, quiet: "warning" }
    : { kind: "down-nothing-done", reason };
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
    if (current.state === "failed") {
      // The only moments the function runs while a failed run holds the latch: remind, at most every remindEveryHours.
      const d = await incidentStep(deps, group.name, { kind: "failed-held", runId: current.runId, reason });
      if (d.severity) {
        await send(
          deps,
          renderRunMessage(current, "reminder", undefined, linksFor(deps, opts, group.name, current.runId), noteOf(d, current.startedAt)),
          d.severity,
        );
      }
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
  const observing = req.kind === "alarm" ? await observeMode(deps, runId) : undefined;
  const decision = decideFailover(group, triggerInput, checks, held?.record, observing);
  log("failover decision", { ...decision, checks, ...(observing?.reason ? { observe: observing } : {}) });

  const checkedAt = deps.clock.now().toISOString();
  const trigger = `${req.kind} ${req.source} at ${req.at.toISOString()}`;
  if (decision.action === "refuse") {
    const reportId = `refused-${runIdFor(group.name, req.at)}`;
    let message: SlackMessage | undefined;
    await reportThenSend(deps, group.name, reportId, { group: group.name, decision, checks, trigger: req }, async (written) => {
      const d = await incidentStep(deps, group.name, nothingDoneEvent(checks, decision.reason));
      message = renderRefusal(
        group.name,
        trigger,
        checks,
        decision.reason,
        linksFor(deps, opts, group.name, written ? reportId : undefined),
        checkedAt,
        noteOf(d),
      );
      await send(deps, message, d.severity);
    });
    return { next: "failed", action: "refuse", reason: decision.reason, group: group.name, checks, ...(message ? { message } : {}) };
  }
  if (decision.action === "plan-only") {
    const kind = promotionKindFor(group, obs.primary);
    const d = await incidentStep(deps, group.name, { kind: "down-nothing-done", reason: decision.reason });
    const message = renderPlan(
      group.name,
      checks,
      decision.reason,
      planSteps(deps, cfg, group, kind),
      `The database is down and nothing was done. To proceed, a human runs mode "execute" for group ${group.name} with a reason.`,
      linksFor(deps, opts, group.name),
      noteOf(d),
    );
    await send(deps, message, d.severity);
    return { next: "ignored", action: "plan-only", reason: decision.reason, group: group.name, checks, message };
  }
  if (decision.action === "observe") {
    const steps = planSteps(deps, cfg, group, promotionKindFor(group, obs.primary));
    const label = observing?.until ? observeLabel(observing.until, observing.timeZone) : "observe mode (state unreadable)";
    const note = `Nothing was changed. To fail over now, a human runs mode "execute" for group ${group.name} with a reason (observe mode does not hold back a human's execute).`;
    const reportId = `observed-${runId}`;
    let message: SlackMessage | undefined;
    await reportThenSend(
      deps,
      group.name,
      reportId,
      { group: group.name, decision, checks, trigger: req, observe: observing, wouldHaveDone: steps },
      async (written) => {
        const d = await incidentStep(deps, group.name, { kind: "down-nothing-done", reason: decision.reason });
        message = renderObserved(
          group.name,
          label,
          checks,
          decision.reason,
          steps,
          note,
          linksFor(deps, opts, group.name, written ? reportId : undefined),
          noteOf(d),
        );
        await send(deps, message, d.severity);
      },
    );
    return { next: "ignored", action: "observe", reason: decision.reason, group: group.name, checks, ...(message ? { message } : {}) };
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
  if (opts.execution) record.execution = opts.execution;
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
    const d = await incidentStep(deps, group.name, { kind: "down-nothing-done", reason });
    const message = renderLatchError(group.name, trigger, reason, linksFor(deps, opts, group.name), checkedAt, noteOf(d));
    await send(deps, message, d.severity);
    return { next: "failed", action: "latch-error", reason, group: group.name, runId, checks, message };
  }
  log("failover latch taken", { group: group.name, runId });
  const started = await incidentStep(deps, group.name, { kind: "start", runId, reason: decision.reason });
  // The report exists from the start, so the start message's link leads somewhere.
  await deps.latch.putReport(group.name, runId, reportOf(record)).catch((err) => log("failover report not saved", { runId, error: errorText(err) }));
  await send(deps, renderRunMessage(record, "start", undefined, linksFor(deps, opts, group.name, runId), noteOf(started)), started.severity);
  return advanceRun(deps, cfg, group.name, runId, opts);
}

/**
 * Observe mode for an alarm's decision. Asked of every ALARM that gets past the latch, so the first one records the
 * window's start even for a plan-only group. A state that cannot be read holds back the automatic start like an
 * observed one and says why: the latch lives in the same bucket, so a run could not have been started anyway, and
 * the plan tells the human what to execute.
 */
async function observeMode(deps: FailoverDeps, runId: string): Promise<ObserveState | undefined> {
  if (!deps.observe) return undefined;
  try {
    return await deps.observe(true, runId);
  } catch (err) {
    return { observing: true, timeZone: "UTC", recordStart: false, reason: `observe mode: its state could not be read (${errorText(err)}), so treated as on` };
  }
}

/**
 * Advance a started run from its checkpoint until it finishes, fails, or must wait: the failover steps on the
 * durable engine. Safe to call any number of times, concurrently, after crashes: every step is claimed with a
 * conditional write first, and a claimed but unconfirmed promotion or DNS change is confirmed by observation
 * instead of being issued again.
 */
export async function advanceRun(deps: FailoverDeps, cfg: FailoverConfig, groupName: string, runId: string, opts: AdvanceOptions = {}): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const log = deps.log ?? (() => {});
  const r = await advanceDurable(
    {
      scope: group.name,
      runId,
      steps: FAILOVER_STEPS,
      env: { deps, cfg, group },
      store: { read: () => deps.latch.read(group.name), replace: (record, etag) => deps.latch.replace(group.name, record, etag) },
      clock: deps.clock,
      pollSeconds: cfg.pollSeconds,
      completeReason: "failover complete",
      onStepDone: async (run, name) => {
        await deps.latch.putReport(group.name, runId, reportOf(run));
        // Progress: info to the alerts channel, outside the lifecycle (it never pages).
        await send(deps, renderRunMessage(run, "step", name, linksFor(deps, opts, group.name, runId)), "info");
      },
      onEnd: async (run) => {
        let saved: unknown;
        await deps.latch.putReport(group.name, runId, reportOf(run)).catch((err) => {
          saved = err;
          log("failover report not saved", { runId, error: errorText(err) });
        });
        const failed = run.state === "failed";
        const d = await incidentStep(deps, group.name, {
          kind: "end",
          runId,
          failed,
          reason: failed ? `${run.failure?.step ?? "?"}: ${run.failure?.message ?? "failed"}` : "failover complete",
        });
        await send(
          deps,
          renderRunMessage(run, "end", undefined, linksFor(deps, opts, group.name, saved === undefined ? runId : undefined), noteOf(d)),
          d.severity,
        );
        if (saved !== undefined) throw saved;
      },
      ...(deps.log ? { log: deps.log } : {}),
    },
    opts,
  );
  return {
    ...r,
    action: "advance",
    group: group.name,
    runId,
    ...(r.next === "wait" ? { advance: { mode: "advance" as const, group: group.name, runId } } : {}),
  };
}

/** The runbook as numbered lines (each step's own description), for `plan` and the plan-only answer to an alarm. */
export function planSteps(deps: FailoverDeps, cfg: FailoverConfig, group: FailoverGroup, kind: PromotionKind): string[] {
  return FAILOVER_STEPS.map((s, i) => `${i + 1}. ${s.describe({ deps, cfg, group, plannedKind: kind })}`);
}

/** The S3 run report: the record plus its timings. */
export function reportOf(run: RunRecord): Record<string, unknown> {
  return { ...run, timings: computeTimings(run) };
}

// ---------------------------------------------------------------------------------------------------------
// Manual read-only modes and reset

/** `plan`: every pre-check and every step, nothing changed (read-only calls only, no S3 write, one Slack post). */
export async function planFailover(deps: FailoverDeps, cfg: FailoverConfig, groupName: string, opts: AdvanceOptions = {}): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  const obs = await observe(deps, group);
  const checks = runPrechecks(group, obs, { kind: "manual" });
  const decision = decideFailover(group, { kind: "manual" }, checks, held?.record);
  const failed = blockingFailures(checks);
  const latchNote =
    held && held.record.state !== "released" ? `Latch held by ${held.record.runId} (${held.record.state}).` : "Latch free. Dry-run: nothing was changed.";
  // What an ALARM would do now (read only: the plan records no observe start).
  const observing = group.execution === "automatic" && deps.observe ? await deps.observe(false, "plan").catch(() => undefined) : undefined;
  const note = observing?.observing ? `${latchNote} An ALARM now would only plan: ${observing.reason}.` : latchNote;
  const message = renderPlan(
    group.name,
    checks,
    `${decision.action}: ${decision.reason}`,
    planSteps(deps, cfg, group, promotionKindFor(group, obs.primary)),
    note,
    linksFor(deps, opts, group.name),
  );
  // A human's read-only request: info to the alerts channel, outside the lifecycle.
  await send(deps, message, "info");
  return {
    next: "ignored",
    action: "plan",
    reason: failed.length ? decision.reason : `would ${decision.action}: ${decision.reason}`,
    group: group.name,
    checks,
    message,
  };
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

export async function failbackPlan(deps: FailoverDeps, cfg: FailoverConfig, groupName: string, _opts: AdvanceOptions = {}): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  const message = renderFailbackPlan(group.name, failbackSteps(group, held?.record));
  await send(deps, message, "info");
  return { next: "ignored", action: "failback-plan", reason: "failback is manual; steps reported", group: group.name, message };
}

/** `reset`: release the latch with a reason. Refused while a run is in progress unless `force`. */
export async function resetLatch(
  deps: FailoverDeps,
  cfg: FailoverConfig,
  groupName: string,
  reason: string,
  force: boolean,
  opts: AdvanceOptions = {},
): Promise<RunbookResult> {
  const group = findGroup(cfg, groupName);
  const held = await deps.latch.read(group.name);
  if (!held || held.record.state === "released") return { next: "ignored", action: "reset", reason: "latch already free", group: group.name };
  if (held.record.state === "running" && !force) {
    return {
      next: "ignored",
      action: "reset",
      reason: `run ${held.record.runId} is still in progress; reset with force to abandon it`,
      group: group.name,
      runId: held.record.runId,
    };
  }
  const released: RunRecord = { ...held.record, state: "released", release: { at: deps.clock.now().toISOString(), reason } };
  const etag = await deps.latch.replace(group.name, released, held.etag);
  if (!etag) return { next: "ignored", action: "reset", reason: "the record changed during reset; run status and try again", group: group.name };
  await deps.latch.putReport(group.name, held.record.runId, reportOf(released));
  const d = await incidentStep(deps, group.name, { kind: "clear", reason: `latch released by reset: ${reason}`, quiet: "info" });
  const message = renderReset(group.name, released, reason, linksFor(deps, opts, group.name, held.record.runId), noteOf(d));
  await send(deps, message, d.severity);
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
export async function dispatchFailoverEvent(
  deps: FailoverDeps,
  cfg: FailoverConfig,
  event: FailoverInnerEvent,
  opts: AdvanceOptions = {},
): Promise<RunbookResult> {
  if (isAlarmEvent(event)) {
    const alarmName = event.detail.alarmName;
    const group = groupForAlarm(cfg, alarmName);
    if (!group) return { next: "ignored", action: "ignore", reason: `alarm ${alarmName} triggers no configured failover group` };
    const at = parseAlarmTimestamp(event.detail.state.timestamp);
    return triggerFailover(
      deps,
      cfg,
      {
        kind: "alarm",
        group: group.name,
        source: alarmName,
        alarmState: event.detail.state.value,
        at,
        reason: event.detail.state.reason || `alarm ${alarmName} in ALARM`,
      },
      opts,
    );
  }
  const manual = event as ManualEvent;
  switch (manual.mode) {
    case "plan":
      return planFailover(deps, cfg, manual.group, opts);
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
      return failbackPlan(deps, cfg, manual.group, opts);
    case "reset":
      return resetLatch(deps, cfg, manual.group, manual.reason, manual.force, opts);
    case "advance":
      return advanceRun(deps, cfg, manual.group, manual.runId, opts);
  }
}
