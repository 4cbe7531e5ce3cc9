/**
 * The JSON Schema of a stage's configuration file (config/<stage>.json), generated from the zod schema in
 * schemas/config.ts so editors complete and check what a user writes:
 *
 *   npm run config-schema        writes config/config.schema.json
 *
 * It describes the input side (what the file may hold, defaults optional), without `app` and `stage`, which deploy
 * sets from the SST app and stage (stacks/config.ts). Checks that JSON Schema cannot express (a DR region other than
 * the primary, duplicate names, timezones) stay with zod: deploy reports them with the field named.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as z from "zod";
import { ConfigSchema } from "../schemas/config.ts";

/** Where the schema lives, beside the configurations that name it (`"$schema": "./config.schema.json"`). */
export const CONFIG_SCHEMA_FILE = path.join("config", "config.schema.json");

/** Keys deploy injects: a file that sets them is overridden, so the schema does not offer them. */
const INJECTED = ["app", "stage"];

/** The JSON Schema (draft 2020-12) of a configuration file. */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, properties, required, ...rest } = z.toJSONSchema(ConfigSchema, { io: "input", target: "draft-2020-12" }) as {
    $schema: string;
    properties: Record<string, unknown>;
    required?: string[];
  } & Record<string, unknown>;
  const kept = (required ?? []).filter((k) => !INJECTED.includes(k));
  return {
    $schema,
    title: "ops-autopilot configuration (config/<stage>.json)",
    ...rest,
    properties: Object.fromEntries(Object.entries(properties).filter(([k]) => !INJECTED.includes(k))),
    ...(kept.length ? { required: kept } : {}),
  };
}

/** The file's text: what `npm run config-schema` writes and the staleness test compares with. */
export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  writeFileSync(path.resolve(CONFIG_SCHEMA_FILE), configSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
