import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { synthInChild, type SynthResource, type SynthResult } from "../../scripts/sst-synth.ts";
import { ROOT } from "./builders.ts";

/** Synth results of this test run, shared by the test files (test/global-setup.ts empties it at the start of a run). */
export const SYNTH_CACHE = path.join(ROOT, "out", "synth-cache");
const STALE_LOCK_MS = 10 * 60_000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The offline synth (scripts/sst-synth.ts) of one stage, in a child process (Pulumi's runtime is process-global
 * state). `configFile` is the stage's configuration (default config/example.json); `env` sets (or, with undefined,
 * removes) variables the stack reads at deploy time.
 *
 * A synth takes tens of seconds, and several test files assert on the same one: the first to ask runs it and
 * keeps the result for the run; the others (other workers) wait for it rather than synthesize it again.
 */
export function runSynth(stage: string, configFile = "config/example.json", env: Record<string, string | undefined> = {}): SynthResult {
  const key = createHash("sha256")
    .update(JSON.stringify([stage, configFile, Object.entries(env).sort()]))
    .digest("hex")
    .slice(0, 16);
  const file = path.join(SYNTH_CACHE, `${stage}-${key}.json`);
  const lock = `${file}.lock`;
  mkdirSync(SYNTH_CACHE, { recursive: true });
  for (;;) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as SynthResult;
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch {
      // Another worker is synthesizing it; a lock left by a killed run is taken over.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      sleep(250);
    }
  }
  try {
    const result = synthesize(stage, configFile, env);
    const tmp = `${file}.${process.pid}.tmp`;
    // Another vitest run started meanwhile empties the cache (test/global-setup.ts): keep this result anyway.
    mkdirSync(SYNTH_CACHE, { recursive: true });
    writeFileSync(tmp, JSON.stringify(result));
    renameSync(tmp, file);
    return result;
  } finally {
    rmSync(lock, { force: true });
  }
}

function synthesize(stage: string, configFile: string, overrides: Record<string, string | undefined>): SynthResult {
  // Hermetic: no OPS_AUTOPILOT_* setting of the caller's shell reaches the stack unless asked for.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OPS_AUTOPILOT_")));
  env.OPS_AUTOPILOT_CONFIG_FILE = configFile;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return synthInChild(ROOT, stage, env);
}

/** The synth's resources of one Pulumi type. */
export const ofType = (r: SynthResult, type: string): SynthResource[] => r.resources.filter((x) => x.type === type);

/** The resource of `type` with logical name `name`; throws naming the ones there are. */
export function named(r: SynthResult, type: string, name: string): SynthResource {
  const found = r.resources.find((x) => x.type === type && x.name === name);
  if (!found)
    throw new Error(
      `no ${type} named ${name}; have ${ofType(r, type)
        .map((x) => x.name)
        .join(", ")}`,
    );
  return found;
}

// biome-ignore lint/suspicious/noExplicitAny: Pulumi resource inputs, asserted field by field
export const inputs = (r: SynthResource) => r.inputs as Record<string, any>;
