import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { FUNCTIONS, type FunctionName } from "./functions.ts";

/**
 * The samples of `events/` as the Lambda console's shareable test events, so each function's Test tab
 * lists them.
 *
 * "Lambda saves shareable test events as schemas in an Amazon EventBridge schema registry named
 * lambda-testevent-schemas" (https://docs.aws.amazon.com/lambda/latest/dg/testing-functions.html#creating-shareable-events);
 * one OpenAPI 3 schema per function, named `_<function name>-schema`, holds the events under
 * `components.examples.<event name>.value` (the convention the SAM CLI follows for the console:
 * aws/aws-sam-cli samcli/lib/shared_test_events/lambda_shared_test_event.py).
 *
 * The registry has a fixed name per account and region and the console creates it the first time anyone
 * saves a shareable event there, so it may or may not exist, and several stages share it. Creating it in
 * every stage would fail the second stage (CreateRegistry: already exists); Pulumi cannot create-if-missing.
 * So the stack writes only the schemas into an existing registry unless told, at deploy time, through
 * {@link TEST_EVENT_REGISTRY_ENV}:
 * - `existing` (default): the registry exists (one shareable event saved in the console, or
 *   `aws schemas create-registry --registry-name lambda-testevent-schemas`, once per account and region);
 * - `create`: this stage creates it, retained when the stage is removed (other stages' and people's events
 *   live in it);
 * - `off`: no test events.
 */

export const TEST_EVENT_REGISTRY = "lambda-testevent-schemas";
export const TEST_EVENT_REGISTRY_ENV = "OPS_AUTOPILOT_TEST_EVENT_REGISTRY";
export const REGISTRY_MODES = ["existing", "create", "off"] as const;
export type RegistryMode = (typeof REGISTRY_MODES)[number];

export function registryMode(env: NodeJS.ProcessEnv = process.env): RegistryMode {
  const value = env[TEST_EVENT_REGISTRY_ENV] ?? "existing";
  if ((REGISTRY_MODES as readonly string[]).includes(value)) return value as RegistryMode;
  throw new Error(`${TEST_EVENT_REGISTRY_ENV}="${value}": expected one of ${REGISTRY_MODES.join(", ")}`);
}

/** The schema the console reads a function's shareable events from. */
export function testEventSchemaName(functionName: string): string {
  return `_${functionName}-schema`;
}

export interface SampleFile {
  /** File name inside events/, e.g. `prune-dry-run.json`. */
  file: string;
  text: string;
}

export interface SampleEvent {
  /** The event's name in the console: the file name without the function prefix, e.g. `dry-run`. */
  name: string;
  value: unknown;
}

/**
 * The samples of each function: those whose file name starts with `<function>-`, named by the rest, in
 * file-name order. A sample that belongs to no function is an error (it would be listed nowhere).
 *
 * @example sampleEventsByFunction([{ file: "prune-dry-run.json", text: '{"trigger":"manual"}' }]).prune
 *   // [{ name: "dry-run", value: { trigger: "manual" } }]
 */
export function sampleEventsByFunction(files: readonly SampleFile[]): Record<FunctionName, SampleEvent[]> {
  const out = Object.fromEntries(FUNCTIONS.map((f) => [f.name, [] as SampleEvent[]])) as Record<FunctionName, SampleEvent[]>;
  for (const { file, text } of [...files].sort((a, b) => a.file.localeCompare(b.file))) {
    const fn = FUNCTIONS.find((f) => file.startsWith(`${f.name}-`))?.name;
    if (!fn) throw new Error(`events/${file} belongs to no function: name it <function>-<event>.json (${FUNCTIONS.map((f) => f.name).join(", ")})`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`events/${file} is not valid JSON: ${(err as Error).message}`);
    }
    out[fn].push({ name: file.slice(fn.length + 1).replace(/\.json$/, ""), value });
  }
  return out;
}

/** The OpenAPI 3 document of one function's shareable test events. */
export function testEventDocument(events: readonly SampleEvent[]): Record<string, unknown> {
  return {
    openapi: "3.0.0",
    info: { version: "1.0.0", title: "Event" },
    paths: {},
    components: {
      schemas: { Event: { type: "object" } },
      examples: Object.fromEntries(events.map((e) => [e.name, { value: e.value }])),
    },
  };
}

export function readSampleFiles(root: string = process.cwd()): SampleFile[] {
  const dir = path.join(root, "events");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((file) => ({ file, text: readFileSync(path.join(dir, file), "utf8") }));
}
