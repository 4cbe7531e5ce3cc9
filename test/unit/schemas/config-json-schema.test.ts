import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA_FILE, configJsonSchema, configSchemaText } from "../../../scripts/config-schema.ts";
import { ConfigSchema, parseConfig } from "../../../schemas/config.ts";

/**
 * config/config.schema.json, the JSON Schema editors check config/<stage>.json with, is generated from the zod schema
 * (`npm run config-schema`): it must be current, describe what a user writes (not `app` and `stage`, set by deploy),
 * and agree with zod. No JSON Schema validator is installed, so the example is walked against the schema's
 * structure (keys, types, enums, required) here, and the full checks stay with zod.
 */

const root = new URL("../../../", import.meta.url).pathname;
const read = (rel: string) => readFileSync(path.join(root, rel), "utf8");
/** The parts of a JSON Schema the structural walk reads. */
interface Json {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  items?: Json;
  properties?: Record<string, Json>;
  required?: string[];
  additionalProperties?: boolean | Json;
  anyOf?: Json[];
  [key: string]: unknown;
}

describe("config/config.schema.json", () => {
  it("is what `npm run config-schema` writes from schemas/config.ts", () => {
    const committed = read(CONFIG_SCHEMA_FILE);
    // A field added to the zod schema without regenerating: the message says what to run.
    expect(committed === configSchemaText(), `${CONFIG_SCHEMA_FILE} is stale: run npm run config-schema`).toBe(true);
  });

  it("offers exactly the top-level fields a user writes: every field of the zod schema but app and stage", () => {
    const schema = configJsonSchema() as Json;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).toBe(false);
    const userKeys = Object.keys(ConfigSchema.shape).filter((k) => k !== "app" && k !== "stage");
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(userKeys.sort());
    // Required: the fields zod refuses to do without (no default, not optional), app and stage aside.
    const shape = ConfigSchema.shape as Record<string, { safeParse: (v: unknown) => { success: boolean } }>;
    const zodRequired = userKeys.filter((k) => !shape[k]!.safeParse(undefined).success);
    expect(schema.required).toEqual(zodRequired);
    expect(schema.required).toEqual(["primaryRegion"]);
    expect(schema.properties?.$schema).toEqual({ type: "string" });
  });

  it("is named by config/example.json, and the example matches its keys, types, enums and required fields", () => {
    const example = JSON.parse(read("config/example.json")) as Record<string, unknown>;
    expect(Object.keys(example)[0]).toBe("$schema");
    expect(path.resolve(root, "config", String(example.$schema))).toBe(path.join(root, CONFIG_SCHEMA_FILE));
    expect(structuralProblems(configJsonSchema() as Json, example)).toEqual([]);
    expect(() => parseConfig({ ...example, app: "ops-autopilot", stage: "ci" })).not.toThrow();
  });

  it.each([
    ["an unknown top-level key", { primaryRegion: "eu-west-1", primaryRegoin: "x" }, "primaryRegoin: not in the schema", /Unrecognized key: "primaryRegoin"/],
    ["primaryRegion missing", {}, "primaryRegion: required", /primaryRegion: Invalid input: expected string, received undefined/],
    [
      "a number where a string goes",
      { primaryRegion: "eu-west-1", timezone: 1 },
      "timezone: expected string, got number",
      /timezone: Invalid input: expected string/,
    ],
    [
      "a value outside an enum",
      { primaryRegion: "eu-west-1", warm: { targets: [{ name: "w", urls: ["https://a.example.com/"], method: "PUT" }] } },
      'warm.targets[0].method: "PUT" is not one of GET, HEAD',
      /warm\.targets\[0\]\.method/,
    ],
    [
      "a typo in a nested key",
      { primaryRegion: "eu-west-1", backup: { polices: [] } },
      "backup.polices: not in the schema",
      /backup: Unrecognized key: "polices"/,
    ],
  ])("%s is refused by the JSON Schema and by zod alike", (_what, input, schemaProblem, zodMessage) => {
    expect(structuralProblems(configJsonSchema() as Json, input)).toContain(schemaProblem);
    expect(() => parseConfig({ ...input, stage: "ci" })).toThrow(zodMessage);
  });
});

/**
 * What of `value` the JSON Schema's structure refuses: unknown keys (additionalProperties false), missing required
 * keys, wrong JSON types, values outside an enum. Patterns, bounds and formats are left to zod.
 */
function structuralProblems(schema: Json, value: unknown, at = ""): string[] {
  if (schema.anyOf) {
    const branches = schema.anyOf.map((s) => structuralProblems(s, value, at));
    return branches.some((p) => p.length === 0) ? [] : branches.reduce((a, b) => (b.length < a.length ? b : a));
  }
  const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const expected = schema.type;
  const matches = !expected || expected === type || (expected === "integer" && Number.isInteger(value)) || (expected === "number" && type === "number");
  if (!matches) return [`${at || "(root)"}: expected ${expected}, got ${type}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(", ")}`];
  if (schema.const !== undefined && schema.const !== value) return [`${at}: expected ${JSON.stringify(schema.const)}`];
  const items = schema.items;
  if (Array.isArray(value)) return items ? value.flatMap((v, i) => structuralProblems(items, v, `${at}[${i}]`)) : [];
  if (type !== "object") return [];
  const obj = value as Record<string, unknown>;
  const key = (k: string) => (at ? `${at}.${k}` : k);
  const problems = (schema.required ?? []).filter((k) => !(k in obj)).map((k) => `${key(k)}: required`);
  for (const [k, v] of Object.entries(obj)) {
    const sub = schema.properties?.[k];
    const extra = schema.additionalProperties;
    if (sub) problems.push(...structuralProblems(sub, v, key(k)));
    else if (extra === false) problems.push(`${key(k)}: not in the schema`);
    else if (typeof extra === "object") problems.push(...structuralProblems(extra, v, key(k)));
  }
  return problems;
}
