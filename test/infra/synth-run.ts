import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { ROOT } from "./builders.ts";

const node = path.join(ROOT, "node_modules", ".bin", "node");

/**
 * The offline synth (scripts/sst-synth.ts) of one stage, in a child process (Pulumi's runtime is process-global
 * state). `configFile` is the stage's configuration (default config/example.json).
 */
export function runSynth(stage: string, configFile = "config/example.json"): SynthResult {
  execFileSync(node, ["scripts/sst-install.ts"], { cwd: ROOT, stdio: "ignore" });
  const out = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-synth-test-")), `${stage}.json`);
  try {
    execFileSync(node, ["scripts/sst-synth.ts", "--stage", stage, "--out", out], {
      cwd: ROOT,
      env: { ...process.env, OPS_AUTOPILOT_CONFIG_FILE: configFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    // The JSON is written before a failing exit: surface its errors (e.g. a missing handler).
    try {
      return JSON.parse(readFileSync(out, "utf8")) as SynthResult;
    } catch {
      throw new Error(`synth ${stage} failed:\n${e.stdout?.toString() ?? ""}\n${e.stderr?.toString() ?? ""}`);
    }
  }
  return JSON.parse(readFileSync(out, "utf8")) as SynthResult;
}
