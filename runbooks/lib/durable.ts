/**
 * The durable-runbook engine: runs a list of step modules against one checkpoint record, so a runbook survives
 * crashes, redeliveries and concurrent executors.
 *
 * A step never writes the checkpoint itself. It returns its outcome as data (done / skipped / wait N s / fail with
 * manual steps) and the engine alone claims the step (a conditional write marking it `started`), records the
 * outcome (another conditional write), applies the step's timeout and hands waits back to the caller (the Step
 * Functions Advance → Wait loop). A step found `started` in the checkpoint was claimed by an earlier attempt that
 * may have acted: the engine calls its `resume`, which observes, never `start` again.
 *
 * Every write is conditional on the etag the engine read (S3 If-Match): when another executor wrote first, the
 * engine drops what it was doing, re-reads and follows the record, so two executors cannot both act on a step.
 */
import type { StepCheckpoint, StepStatus } from "../../core/failover.ts";

/** A step's status, and one step's checkpoint: the shape the failover latch has always stored (core/failover.ts). */
export type DurableStepStatus = StepStatus;
export type DurableStepRecord<N extends string = string> = StepCheckpoint<N>;

/** The checkpoint record the engine reads and writes; runbooks extend it with their own fields. */
export interface DurableRecord<N extends string = string> {
  runId: string;
  state: "running" | "done" | "failed" | "released";
  endedAt?: string;
  steps: DurableStepRecord<N>[];
  failure?: { step: N; message: string; manualSteps: string[] };
}

/** What a step's attempt came to. `result` is the short outcome shown in the timeline (`promoted`, `INSYNC`). */
export type StepOutcome<R> =
  | { kind: "done"; reason: string; result?: string; record?: Partial<R> }
  | { kind: "skipped"; reason: string }
  | { kind: "wait"; seconds: number; reason: string }
  | { kind: "fail"; reason: string; manualSteps: string[] };

/** Before the claim: end the attempt without claiming (wait, fail, skip), or claim with extra record fields. */
export type PreClaim<R> = StepOutcome<R> | { kind: "claim"; record?: Partial<R> };

export interface StepContext<R extends DurableRecord<N>, N extends string, E> {
  /** The runbook's environment (ports, configuration). */
  env: E;
  /** The checkpoint as last read or written by this executor. */
  run: R;
  /** This step's checkpoint. */
  step: DurableStepRecord<N>;
  /** The time the engine read the checkpoint at. */
  now: Date;
  /** The clock's current time, ISO. */
  iso(): string;
  /**
   * Claim one more attempt at the step's action (`lastAttemptAt`, `attempts` + 1) before re-issuing it, so two
   * executors that both concluded "the earlier attempt never arrived" cannot both issue it. Throws
   * {@link CheckpointConflict} when another executor wrote first; the engine then re-reads.
   */
  claimAttempt(): Promise<void>;
}

export interface StepModule<R extends DurableRecord<N>, N extends string, E> {
  name: N;
  /** The step as one line of the plan and of the timeline. */
  describe(env: E, run?: R): string;
  /** Seconds after the claim (`startedAt`) past which the step fails with `timedOut`'s manual steps. */
  timeoutSeconds?(env: E): number;
  timedOut?(env: E, seconds: number): { reason: string; manualSteps: string[] };
  /** Read-only look before the claim (may decide to wait, fail or skip without claiming). */
  beforeClaim?(ctx: StepContext<R, N, E>): Promise<PreClaim<R>>;
  /** First attempt, right after the claim: may act. */
  start(ctx: StepContext<R, N, E>): Promise<StepOutcome<R>>;
  /** The checkpoint says `started`: an earlier attempt may have acted. Observe; never re-issue blindly. */
  resume(ctx: StepContext<R, N, E>): Promise<StepOutcome<R>>;
}

/** Thrown by a conditional write that lost to another executor. */
export class CheckpointConflict extends Error {
  constructor() {
    super("the checkpoint changed since it was read");
    this.name = "CheckpointConflict";
  }
}

export interface DurableStore<R> {
  read(): Promise<{ record: R; etag: string } | undefined>;
  /** Replace only if unchanged since `etag`; undefined when someone else wrote first. */
  replace(record: R, etag: string): Promise<string | undefined>;
}

export interface DurableRunbook<R extends DurableRecord<N>, N extends string, E> {
  /** What the run belongs to (a failover group), for messages. */
  scope: string;
  runId: string;
  steps: readonly StepModule<R, N, E>[];
  env: E;
  store: DurableStore<R>;
  clock: { now(): Date; sleep(ms: number): Promise<void> };
  /** The reason of the `done` result. */
  completeReason?: string;
  /** Wait used when one invocation keeps losing conditional writes. */
  pollSeconds: number;
  /** After a step's outcome was recorded (report, message). */
  onStepDone?(run: R, step: N): Promise<void>;
  /** After the run ended, `done` or `failed`, and was recorded. */
  onEnd?(run: R): Promise<void>;
  log?: (message: string, data?: Record<string, unknown>) => void;
}

export interface AdvanceOptions {
  /** Sleep inline for waits while the invocation has time left; otherwise hand the wait back to the caller. */
  inlineWaits?: boolean;
  /** Absolute time (ms since epoch, by the runbook's clock) after which no new step is started. */
  deadlineMs?: number;
  /**
   * The Step Functions execution driving this advance (`$states.context.Execution.Id`, passed by the Advance state;
   * stacks/durable-runbook-definition.ts); absent for a direct invocation. The engine does not use it: it is handed
   * through to the runbook, whose messages link the execution.
   */
  execution?: string;
}

/** What one advance came to, naming the step it stopped at (the Step Functions history reads as a timeline). */
export interface AdvanceResult<N extends string> {
  next: "wait" | "done" | "failed" | "ignored";
  reason: string;
  step?: N;
  waitSeconds?: number;
}

/** Conditional writes lost in a row before the engine hands the run back to the caller. */
const MAX_ITERATIONS = 200;

/**
 * Advance a run from its checkpoint until it finishes, fails, or must wait. Safe to call any number of times,
 * concurrently, after crashes.
 *
 * @example
 *   await advanceDurable({ scope: "orders-db", runId, steps, env, store, clock, pollSeconds: 15 }, { inlineWaits: false })
 *   // { next: "wait", step: "wait-writable", waitSeconds: 15, reason: "not writable yet: ..." }
 */
export async function advanceDurable<R extends DurableRecord<N>, N extends string, E>(
  rb: DurableRunbook<R, N, E>,
  opts: AdvanceOptions = {},
): Promise<AdvanceResult<N>> {
  const log = rb.log ?? (() => {});
  const iso = (): string => rb.clock.now().toISOString();
  const byName = new Map(rb.steps.map((s) => [s.name, s] as const));

  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const held = await rb.store.read();
    if (!held || held.record.runId !== rb.runId) {
      return {
        next: "ignored",
        reason: `run ${rb.runId} is not the current run of ${rb.scope}${held ? ` (current: ${held.record.runId}, ${held.record.state})` : ""}`,
      };
    }
    let { record: run, etag } = held;
    const now = rb.clock.now();
    if (run.state !== "running") return { next: run.state === "failed" ? "failed" : run.state === "done" ? "done" : "ignored", reason: `run is ${run.state}` };
    const current = run.steps.find((s) => s.status !== "done" && s.status !== "skipped");
    if (current?.status === "failed") return { next: "ignored", reason: `step ${current.name} failed`, step: current.name };
    if (opts.deadlineMs !== undefined && now.getTime() >= opts.deadlineMs) {
      return {
        next: "wait",
        reason: "invocation deadline reached: continue in the next invocation",
        waitSeconds: 1,
        ...(current ? { step: current.name } : {}),
      };
    }

    /** The conditional write; false when another executor changed the record first. */
    const save = async (next: R): Promise<boolean> => {
      const e = await rb.store.replace(next, etag);
      if (!e) return false;
      run = next;
      etag = e;
      return true;
    };
    const patchStep = (name: N, patch: Partial<DurableStepRecord<N>>, extra: Partial<R> = {}): R =>
      ({ ...run, steps: run.steps.map((s) => (s.name === name ? { ...s, ...patch } : s)), ...extra }) as R;
    const stepOf = (name: N): DurableStepRecord<N> => run.steps.find((s) => s.name === name)!;

    if (!current) {
      if (!(await save({ ...run, state: "done", endedAt: iso() }))) continue;
      await rb.onEnd?.(run);
      return { next: "done", reason: rb.completeReason ?? "every step is done" };
    }
    const mod = byName.get(current.name);
    if (!mod) throw new Error(`run ${run.runId} has step ${current.name}, which this runbook does not define`);
    const name = current.name;

    const fail = async (reason: string, manualSteps: string[]): Promise<AdvanceResult<N> | undefined> => {
      const t = iso();
      const failed = {
        ...patchStep(name, { status: "failed", startedAt: stepOf(name).startedAt ?? t, endedAt: t, result: "failed", reason }),
        state: "failed",
        endedAt: t,
        failure: { step: name, message: reason, manualSteps },
      } as R;
      if (!(await save(failed))) return { next: "wait", reason: "record changed while failing; re-reading", step: name, waitSeconds: 1 };
      await rb.onEnd?.(run);
      return { next: "failed", reason: `${name}: ${reason}`, step: name };
    };
    /** Record an outcome. Undefined: go on with the next iteration (recorded, slept inline, or lost a race). */
    const apply = async (outcome: StepOutcome<R>): Promise<AdvanceResult<N> | undefined> => {
      switch (outcome.kind) {
        case "done": {
          const t = iso();
          const startedAt = stepOf(name).startedAt ?? t;
          const patch = {
            status: "done" as const,
            startedAt,
            endedAt: t,
            ...(outcome.result !== undefined ? { result: outcome.result } : {}),
            reason: outcome.reason,
          };
          if (await save(patchStep(name, patch, outcome.record))) await rb.onStepDone?.(run, name);
          return undefined;
        }
        case "skipped":
          await save(patchStep(name, { status: "skipped", reason: outcome.reason }));
          return undefined;
        case "wait": {
          const endAt = rb.clock.now().getTime() + outcome.seconds * 1000;
          if (opts.inlineWaits && (opts.deadlineMs === undefined || endAt < opts.deadlineMs)) {
            await rb.clock.sleep(outcome.seconds * 1000);
            return undefined;
          }
          return { next: "wait", reason: outcome.reason, step: name, waitSeconds: outcome.seconds };
        }
        case "fail":
          return fail(outcome.reason, outcome.manualSteps);
      }
    };

    const ctx: StepContext<R, N, E> = {
      env: rb.env,
      get run() {
        return run;
      },
      get step() {
        return stepOf(name);
      },
      now,
      iso,
      claimAttempt: async () => {
        const s = stepOf(name);
        if (!(await save(patchStep(name, { lastAttemptAt: iso(), attempts: (s.attempts ?? 1) + 1 })))) throw new CheckpointConflict();
      },
    };

    const timeout = current.startedAt ? mod.timeoutSeconds?.(rb.env) : undefined;
    if (timeout !== undefined && now.getTime() - Date.parse(current.startedAt!) > timeout * 1000) {
      const t = mod.timedOut?.(rb.env, timeout) ?? { reason: `${name} not done after ${timeout} s`, manualSteps: [] };
      log("durable step timed out", { runId: rb.runId, step: name, timeoutSeconds: timeout });
      const r = await fail(t.reason, t.manualSteps);
      if (r) return r;
      continue;
    }

    let outcome: StepOutcome<R>;
    try {
      if (current.status === "started") {
        log("durable step resumed", { runId: rb.runId, step: name });
        outcome = await mod.resume(ctx);
      } else {
        const pre: PreClaim<R> = mod.beforeClaim ? await mod.beforeClaim(ctx) : { kind: "claim" };
        if (pre.kind !== "claim") {
          outcome = pre;
        } else {
          // The claim: `started` with the first attempt, by a conditional write; losing it means someone else runs the step.
          if (!(await save(patchStep(name, { status: "started", startedAt: iso(), attempts: 1 }, pre.record)))) continue;
          log("durable step started", { runId: rb.runId, step: name });
          outcome = await mod.start(ctx);
        }
      }
    } catch (err) {
      if (err instanceof CheckpointConflict) continue;
      throw err;
    }
    const r = await apply(outcome);
    if (r) return r;
  }
  return { next: "wait", reason: "too many record conflicts in one invocation; continuing later", waitSeconds: rb.pollSeconds };
}
