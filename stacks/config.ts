import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_FILE_NAME, parseConfig, type Config } from "../schemas/config.ts";

/**
 * The stage's configuration, validated with the one schema before anything is declared, so a bad
 * file fails `sst deploy` with the field named instead of deploying functions that fail at 02:00.
 *
 * Where it comes from, first match wins:
 *   1. the file named by OPS_AUTOPILOT_CONFIG_FILE;
 *   2. config/<stage>.json;
 *   3. config/example.json for the `ci` stage (the offline synth and the tests use it).
 * `app` and `stage` are always those of the SST app being deployed: the managed-by tag that IAM
 * conditions deletes on (`<app>:<stage>`) must be the one the functions write.
 */
export function configFile(stage: string, root: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const tried: string[] = [];
  const explicit = env.OPS_AUTOPILOT_CONFIG_FILE;
  if (explicit) {
    const file = path.resolve(root, explicit);
    if (existsSync(file)) return file;
    throw new Error(`OPS_AUTOPILOT_CONFIG_FILE points to ${file}, which does not exist`);
  }
  const candidates = [path.join(root, "config", `${stage}.json`)];
  if (stage === "ci") candidates.push(path.join(root, "config", "example.json"));
  for (const file of candidates) {
    tried.push(file);
    if (existsSync(file)) return file;
  }
  throw new Error(`no configuration for stage "${stage}": create ${tried.map((f) => path.relative(root, f)).join(" or ")} (see config/example.json)`);
}

export function loadConfig(app: string, stage: string, root: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): Config {
  const file = configFile(stage, root, env);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${path.relative(root, file)} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${path.relative(root, file)} must hold a JSON object`);
  }
  return parseConfig({ ...raw, app, stage });
}

/**
 * Project-relative path of the generated file that carries a stage's validated configuration into every function
 * package: one directory per app and stage, so two stages deployed from one checkout never ship each other's.
 */
export function runtimeConfigPath(config: Pick<Config, "app" | "stage">): string {
  return path.join(".sst", config.app, config.stage, CONFIG_FILE_NAME);
}

/**
 * Write the validated configuration where {@link runtimeConfigPath} says and return that path, for SST's `copyFiles`
 * (`from` is relative to the project root). The file holds the parsed config, defaults filled in, so the functions
 * run exactly what deploy validated. Rewritten only when its content changes: SST zips it asynchronously, and every
 * function of the stage asks for it.
 */
export function writeRuntimeConfig(config: Config, root: string = process.cwd()): string {
  const rel = runtimeConfigPath(config);
  const file = path.join(root, rel);
  const body = `${JSON.stringify(config, null, 2)}\n`;
  if (!existsSync(file) || readFileSync(file, "utf8") !== body) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  return rel;
}
