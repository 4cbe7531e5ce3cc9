import jsonata from "jsonata";
import type { fleetFanoutDefinition } from "../../stacks/fleet-fanout-definition.ts";

/**
 * Runs a fleet fan-out's state machine definition, as stacks/fleet-fanout-definition.ts generates it, on the sandbox:
 * the states are read from the definition and interpreted, not re-implemented, so a change of the definition changes
 * what runs here.
 *
 * What it models, after the Amazon States Language and "Transforming data with JSONata"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html):
 * - `{% … %}` strings anywhere in `Arguments`, `Output` and `Items`, evaluated with the `jsonata` package at 2.0.6, the
 *   version Step Functions implements, with `$states.input`, `$states.result`, `$states.errorOutput` and
 *   `$states.context` (Execution.Id, Execution.Input, State.Name, StateMachine.Id);
 * - a state's default output: a Pass state's input, a Task's result (`$states.result`), a caught error's
 *   `{ Error, Cause }` (`$states.errorOutput`);
 * - Pass, Task on `arn:aws:states:::lambda:invoke` (the result `{ ExecutedVersion, Payload, StatusCode }`, payloads
 *   through JSON both ways as Lambda carries them), Map over `Items` with an `ItemProcessor` run per item;
 * - `MaxConcurrency` (at most that many items in flight; 0 means no limit), `ToleratedFailurePercentage` (the Map fails
 *   with States.ExceedToleratedFailureThreshold when more items than that fail:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html#maprun-fail-threshold);
 * - `Retry` (`ErrorEquals` by name or States.ALL, not States.TaskFailed nor the other States.* groups;
 *   `IntervalSeconds`, `BackoffRate`, `MaxAttempts`, `MaxDelaySeconds`, `JitterStrategy` FULL: a wait drawn in
 *   [0, interval)) and `Catch` (the first catcher whose `ErrorEquals` matches, its `Output` evaluated with
 *   `$states.errorOutput`).
 *
 * Errors, as the Lambda integration names them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html): an `invoke` that throws an
 * error whose name starts with `Lambda.` is a Lambda service error (Error: that name, Cause: its message); any other
 * thrown error is the function's own (Error: its name, Cause: the runtime's JSON error
 * `{"errorType","errorMessage","trace"}`).
 *
 * What it does not model: child executions as executions (no execution history, no Map Run resource, no redrive), the
 * Distributed Map's ItemReader, ItemBatcher, ItemSelector and ResultWriter (the definition uses none), the payload size
 * limits, timeouts (`TimeoutSeconds`, a Task's `TimeoutSeconds` or `HeartbeatSeconds`), JSONPath states, `Assign` and
 * variables, an expression yielding undefined (AWS fails the state; here the value is left out), and what a failed
 * child adds to the Map's output (here nothing: the definition's Catch leaves a child nothing to fail on but
 * States.Runtime). Time passes only through `sleep`, which the caller may give its fake clock.
 */

/** Invoke a function synchronously, as the Task's lambda:invoke does: resolves with what the handler returned. */
export type FleetInvoke = (functionName: string, payload: unknown) => Promise<unknown>;

export type FleetDefinition = ReturnType<typeof fleetFanoutDefinition>;

export interface FleetRunOptions {
  definition: FleetDefinition;
  invoke: FleetInvoke;
  /** The execution's input (default what the schedule sends, `{ trigger: "schedule" }`). */
  input?: unknown;
  /** The execution's ARN, `$states.context.Execution.Id`. */
  executionArn?: string;
  /** Waits between retries (default none); give it a fake clock's advance. */
  sleep?: (ms: number) => Promise<void>;
  /** FULL jitter's draw in [0, 1) (default Math.random). */
  random?: () => number;
}

/** One invocation of a Task, in the order they started. */
export interface FleetAttempt {
  state: string;
  functionName: string;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** The error it ended with, as Step Functions names it. */
  error?: string;
  /** How long the runner waited before this attempt (a retry's backoff). */
  waitedMs: number;
}

export interface FleetRunResult {
  status: "SUCCEEDED" | "FAILED";
  /** The execution's output (the last state's), when it succeeded. */
  output?: unknown;
  /** Why it failed. */
  error?: StatesError;
  /** The Map's output: each item's result, in item order. */
  itemResults: unknown[];
  /** The Map's items: how many, how many failed, and the most that were in flight at once. */
  mapRun: { items: number; failed: number; maxInFlight: number };
  attempts: FleetAttempt[];
}

export interface StatesError {
  Error: string;
  Cause: string;
}

interface RetrierDef {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface CatcherDef {
  ErrorEquals: string[];
  Output?: unknown;
  Next: string;
}
interface StateDef {
  Type: string;
  Next?: string;
  End?: boolean;
  Output?: unknown;
  Arguments?: { FunctionName: unknown; Payload?: unknown };
  Resource?: string;
  Retry?: RetrierDef[];
  Catch?: CatcherDef[];
  Items?: unknown;
  ItemProcessor?: { StartAt: string; States: Record<string, StateDef> };
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
}

class StatesFailure extends Error {
  readonly error: StatesError;
  constructor(error: StatesError) {
    super(`${error.Error}: ${error.Cause}`);
    this.error = error;
  }
}

const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
const json = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

/** The error a thrown `invoke` is to Step Functions (see the module's comment). */
export function lambdaTaskError(err: unknown): StatesError {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name.startsWith("Lambda.")) return { Error: e.name, Cause: e.message };
  return { Error: e.name, Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? "").split("\n") }) };
}

/** A Lambda service error as `invoke` throws it, e.g. `lambdaServiceError("TooManyRequestsException", "Rate exceeded")`. */
export function lambdaServiceError(exception: string, message: string): Error {
  return Object.assign(new Error(message), { name: `Lambda.${exception}` });
}

const matches = (names: readonly string[], error: string) => names.includes(error) || names.includes("States.ALL");

export async function runFleetDefinition(opts: FleetRunOptions): Promise<FleetRunResult> {
  const sleep = opts.sleep ?? (async () => {});
  const random = opts.random ?? Math.random;
  const input = json(opts.input ?? { trigger: "schedule" });
  const executionArn = opts.executionArn ?? "arn:aws:states:eu-west-1:123456789012:execution:fleet:sandbox";
  const stateMachineArn = executionArn.replace(":execution:", ":stateMachine:").replace(/:[^:]*$/, "");
  const attempts: FleetAttempt[] = [];
  const mapRun = { items: 0, failed: 0, maxInFlight: 0 };
  let itemResults: unknown[] = [];

  const evaluate = async (value: unknown, states: Record<string, unknown>, location: string): Promise<unknown> => {
    if (typeof value === "string") {
      const m = /^\{%([\s\S]*)%\}$/.exec(value);
      if (!m) return value;
      try {
        const r: unknown = await jsonata(m[1]!).evaluate(undefined, { states });
        // JSONata marks its sequences; a state's data is plain JSON.
        return r === undefined ? undefined : json(r);
      } catch (err) {
        throw new StatesFailure({ Error: "States.QueryEvaluationError", Cause: `${location}: ${(err as Error).message}` });
      }
    }
    if (Array.isArray(value)) return Promise.all(value.map((v, i) => evaluate(v, states, `${location}[${i}]`)));
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const r = await evaluate(v, states, `${location}.${k}`);
        if (r !== undefined) out[k] = r;
      }
      return out;
    }
    return value;
  };

  const context = (state: string) => ({
    Execution: { Id: executionArn, Input: input },
    State: { Name: state },
    StateMachine: { Id: stateMachineArn },
  });

  /** One Task attempt sequence with its Retry: resolves with the result, or throws the last error. */
  const task = async (name: string, def: StateDef, stateInput: unknown): Promise<unknown> => {
    if (def.Resource !== LAMBDA_INVOKE) throw new Error(`fleet-run: ${name}: only ${LAMBDA_INVOKE} Tasks are modelled, not ${def.Resource}`);
    const states = { input: stateInput, context: context(name) };
    const args = (await evaluate(def.Arguments, states, `${name}.Arguments`)) as { FunctionName: string; Payload?: unknown };
    const retried = new Map<RetrierDef, number>();
    let waitedMs = 0;
    for (let attempt = 1; ; attempt++) {
      const record: FleetAttempt = { state: name, functionName: args.FunctionName, attempt, waitedMs };
      attempts.push(record);
      try {
        const payload = json(await opts.invoke(args.FunctionName, json(args.Payload)));
        return { ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 };
      } catch (err) {
        const error = lambdaTaskError(err);
        record.error = error.Error;
        const retrier = def.Retry?.find((r) => matches(r.ErrorEquals, error.Error));
        const done = retrier ? (retried.get(retrier) ?? 0) : 0;
        if (!retrier || done >= (retrier.MaxAttempts ?? 3)) throw new StatesFailure(error);
        retried.set(retrier, done + 1);
        let seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** done;
        if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
        if (retrier.JitterStrategy === "FULL") seconds *= random();
        waitedMs = Math.round(seconds * 1000);
        await sleep(waitedMs);
      }
    }
  };

  /** The Map's items, each through the ItemProcessor, at most MaxConcurrency at once. */
  const map = async (name: string, def: StateDef, stateInput: unknown): Promise<unknown[]> => {
    const items = await evaluate(def.Items, { input: stateInput, context: context(name) }, `${name}.Items`);
    if (!Array.isArray(items)) throw new StatesFailure({ Error: "States.QueryEvaluationError", Cause: `${name}.Items: not an array` });
    const processor = def.ItemProcessor!;
    const limit = def.MaxConcurrency || items.length;
    const results: { ok: boolean; output?: unknown }[] = new Array(items.length);
    let next = 0;
    let inFlight = 0;
    mapRun.items += items.length;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        inFlight++;
        mapRun.maxInFlight = Math.max(mapRun.maxInFlight, inFlight);
        try {
          results[i] = { ok: true, output: await run(processor.States, processor.StartAt, json(items[i])) };
        } catch (err) {
          if (!(err instanceof StatesFailure)) throw err;
          results[i] = { ok: false };
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    const failed = results.filter((r) => !r.ok).length;
    mapRun.failed += failed;
    const tolerated = def.ToleratedFailurePercentage ?? 0;
    if (items.length && (failed / items.length) * 100 > tolerated)
      throw new StatesFailure({
        Error: "States.ExceedToleratedFailureThreshold",
        Cause: `${failed} of ${items.length} items failed, above the tolerated ${tolerated}%`,
      });
    return results.filter((r) => r.ok).map((r) => r.output);
  };

  /** Runs states from `start` until one ends: resolves with the last output, or throws a StatesFailure. */
  const run = async (states: Record<string, StateDef>, start: string, first: unknown): Promise<unknown> => {
    let name = start;
    let stateInput = first;
    for (;;) {
      const def = states[name];
      if (!def) throw new Error(`fleet-run: no state ${name}`);
      let output: unknown;
      let next = def.Next;
      try {
        let result: unknown;
        if (def.Type === "Pass") result = stateInput;
        else if (def.Type === "Task") result = await task(name, def, stateInput);
        else if (def.Type === "Map") {
          result = await map(name, def, stateInput);
          itemResults = result as unknown[];
        } else throw new Error(`fleet-run: ${name}: state type ${def.Type} is not modelled`);
        output = def.Output === undefined ? result : await evaluate(def.Output, { input: stateInput, result, context: context(name) }, `${name}.Output`);
      } catch (err) {
        if (!(err instanceof StatesFailure)) throw err;
        const catcher = def.Catch?.find((c) => matches(c.ErrorEquals, err.error.Error));
        if (!catcher) throw err;
        const errorOutput = { ...err.error };
        output =
          catcher.Output === undefined
            ? errorOutput
            : await evaluate(catcher.Output, { input: stateInput, errorOutput, context: context(name) }, `${name}.Catch.Output`);
        next = catcher.Next;
      }
      // An End state has no Next; a Catch's Next goes on even from one.
      if (!next) return output;
      name = next;
      stateInput = output;
    }
  };

  const definition = opts.definition as unknown as { StartAt: string; States: Record<string, StateDef> };
  try {
    const output = await run(definition.States, definition.StartAt, input);
    return { status: "SUCCEEDED", output, itemResults, mapRun, attempts };
  } catch (err) {
    if (!(err instanceof StatesFailure)) throw err;
    return { status: "FAILED", error: err.error, itemResults, mapRun, attempts };
  }
}
