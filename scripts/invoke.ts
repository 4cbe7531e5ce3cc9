/**
 * `npm run invoke -- <function> <events/file.json> --stage <s> [--profile <p>] [--logs]`: invokes the
 * DEPLOYED function of a stage with a sample event and prints the result.
 *
 * - The function's name and region come from the stage's SST outputs (stacks/main.ts returns them; the SST
 *   CLI writes the outputs of the last deploy, refresh or diff run in this directory to `.sst/outputs.json`,
 *   one stage at a time: sst pkg/project/run.go, and the `run()` doc in .sst/platform/src/config.ts).
 *   The failover function lives in the DR region, the others in the primary region.
 * - The event is checked against the function's event schema (schemas/events.ts) before anything is sent,
 *   so a typo fails here with the field named, not in the function.
 * - One attempt, synchronous (adapters/lambda-invoke.ts); `AWS_ENDPOINT_URL` is honoured by the SDK.
 *
 * Exit code: 0 when the function returned, 1 when it threw (its error is printed), 2 on a usage or setup error.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type InvokeRequest, type InvokeResponse, invokeFunction } from "../adapters/lambda-invoke.ts";
import { EVENT_PARSERS } from "../schemas/events.ts";
import { FUNCTIONS, type FunctionName } from "../stacks/functions.ts";

export const OUTPUTS_FILE = path.join(".sst", "outputs.json");
const NAMES = FUNCTIONS.map((f) => f.name);
const USAGE = "usage: npm run invoke -- <function> <events/file.json> --stage <stage> [--profile <profile>] [--logs]";

/** A mistake of the caller's: printed as is, exit code 2. */
export class InvokeSetupError extends Error {
  override name = "InvokeSetupError";
}

export interface InvokeArgs {
  fn: FunctionName;
  eventFile: string;
  stage: string;
  profile?: string;
  logs: boolean;
}

export function parseArgs(argv: readonly string[]): InvokeArgs {
  const positional: string[] = [];
  let stage: string | undefined;
  let profile: string | undefined;
  let logs = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--stage" || arg === "--profile") {
      const value = argv[++i];
      if (!value || value.startsWith("--")) throw new InvokeSetupError(`${arg} needs a value\n${USAGE}`);
      if (arg === "--stage") stage = value;
      else profile = value;
    } else if (arg === "--logs") logs = true;
    else if (arg.startsWith("--")) throw new InvokeSetupError(`unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  const [fn, eventFile, ...extra] = positional;
  if (!fn || !eventFile || extra.length) throw new InvokeSetupError(USAGE);
  if (!(NAMES as string[]).includes(fn)) throw new InvokeSetupError(`unknown function "${fn}": expected one of ${NAMES.join(", ")}`);
  if (!stage) throw new InvokeSetupError(`--stage is required: the function is looked up in that stage's SST outputs\n${USAGE}`);
  return { fn: fn as FunctionName, eventFile, stage, logs, ...(profile ? { profile } : {}) };
}

/** A deployed function, as stacks/main.ts outputs it. */
export interface DeployedFunction {
  name: string;
  region: string;
}

/** The part of the SST outputs (stacks/main.ts) the script reads. */
interface StageOutputs {
  stage?: unknown;
  functions?: Record<string, unknown>;
}

/** The outputs SST wrote in `root`, or a clear error when there are none. */
export function readOutputs(root: string, stage: string): unknown {
  const file = path.join(root, OUTPUTS_FILE);
  if (!existsSync(file)) {
    throw new InvokeSetupError(
      `${OUTPUTS_FILE} does not exist: stage "${stage}" was never deployed from this machine. ` +
        `Deploy it here (npx sst deploy --stage ${stage}); SST writes the function names to that file.`,
    );
  }
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new InvokeSetupError(`${OUTPUTS_FILE} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The deployed name and region of `fn` in `stage`, from the SST outputs. SST keeps the outputs of one stage
 * only (the last one deployed here), so outputs of another stage are refused rather than invoking the
 * wrong stage's function.
 */
export function deployedFunction(outputs: unknown, stage: string, fn: FunctionName): DeployedFunction {
  const o = (outputs && typeof outputs === "object" ? outputs : {}) as StageOutputs;
  const redeploy = `Deploy it from this machine (npx sst deploy --stage ${stage}) to refresh ${OUTPUTS_FILE}.`;
  if (o.stage === undefined) {
    throw new InvokeSetupError(
      `${OUTPUTS_FILE} names no stage (the stage was removed, or deployed before outputs named it): stage "${stage}" is not deployed from this machine. ${redeploy}`,
    );
  }
  if (o.stage !== stage) {
    throw new InvokeSetupError(
      `${OUTPUTS_FILE} holds the outputs of stage "${String(o.stage)}", not "${stage}" (SST keeps the last stage deployed here only). ${redeploy}`,
    );
  }
  const entry = o.functions?.[fn] as Partial<DeployedFunction> | undefined;
  if (!entry || typeof entry.name !== "string" || typeof entry.region !== "string") {
    const deployed = Object.keys(o.functions ?? {}).join(", ") || "none";
    const why =
      fn === "failover"
        ? " (it is deployed only when the config has failover groups)"
        : fn === "probe"
          ? " (it is deployed only when a failover group has a trigger)"
          : "";
    throw new InvokeSetupError(`stage "${stage}" has no deployed function "${fn}"${why}; deployed: ${deployed}`);
  }
  return { name: entry.name, region: entry.region };
}

/** The event file's JSON, checked against the function's event schema; the error names the bad field. */
export function readEvent(root: string, fn: FunctionName, eventFile: string): string {
  const file = path.resolve(root, eventFile);
  if (!existsSync(file)) throw new InvokeSetupError(`${eventFile} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new InvokeSetupError(`${eventFile} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    EVENT_PARSERS[fn]!(raw);
  } catch (err) {
    throw new InvokeSetupError(`${eventFile} is not a ${fn} event: ${(err as Error).message}`);
  }
  return JSON.stringify(raw);
}

/** The printed result: status, the function's error if any, the payload pretty-printed, the log tail. */
export function formatResult(fn: FunctionName, target: DeployedFunction, res: InvokeResponse): string {
  const lines = [`${fn}: ${target.name} (${target.region})`, `status: ${res.statusCode}${res.executedVersion ? ` (version ${res.executedVersion})` : ""}`];
  if (res.functionError) lines.push(`function error: ${res.functionError}`);
  lines.push("payload:", pretty(res.payload));
  if (res.logTail !== undefined) lines.push("log tail:", res.logTail.trimEnd());
  return lines.join("\n");
}

function pretty(payload: string): string {
  if (payload === "") return "(empty)";
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

export interface RunDeps {
  root: string;
  invoke: (req: InvokeRequest) => Promise<InvokeResponse>;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The whole command; returns the exit code. */
export async function runInvoke(argv: readonly string[], deps: RunDeps): Promise<number> {
  let args: InvokeArgs;
  let target: DeployedFunction;
  let payload: string;
  try {
    args = parseArgs(argv);
    payload = readEvent(deps.root, args.fn, args.eventFile);
    target = deployedFunction(readOutputs(deps.root, args.stage), args.stage, args.fn);
  } catch (err) {
    if (err instanceof InvokeSetupError) {
      deps.err(err.message);
      return 2;
    }
    throw err;
  }
  const res = await deps.invoke({
    functionName: target.name,
    region: target.region,
    payload,
    logs: args.logs,
    ...(args.profile ? { profile: args.profile } : {}),
  });
  deps.out(formatResult(args.fn, target, res));
  return res.functionError ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    process.exitCode = await runInvoke(process.argv.slice(2), {
      root,
      invoke: invokeFunction,
      out: (t) => console.log(t),
      err: (t) => console.error(t),
    });
  } catch (err) {
    console.error(`invoke failed: ${(err as Error).name}: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
