import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { loadConfig } from "../../stacks/config.ts";
import { FUNCTIONS } from "../../stacks/functions.ts";
import { CONFIG_FILE_NAME, configFromFile, deployedConfigFile, type Config } from "../../schemas/config.ts";
import { ROOT } from "./builders.ts";
import { largeConfigInput } from "./large-config.ts";
import { runSynth } from "./synth-run.ts";

/**
 * Config at any size: a stage with 20 backup policies, 20 failover groups and 20 warm target sets (about 35 KB
 * parsed, where Lambda allows 4 KB of environment in all) goes through the offline synth of sst.config.ts, and the
 * file each function package carries loads through the run-time loader to the config deploy validated.
 */

const STAGE = "large";
let result: SynthResult;
let expected: Config;

beforeAll(() => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-large-")), `${STAGE}.json`);
  writeFileSync(file, JSON.stringify(largeConfigInput(), null, 2));
  expected = loadConfig("ops-autopilot", STAGE, ROOT, { OPS_AUTOPILOT_CONFIG_FILE: file });
  result = runSynth(STAGE, file);
}, 600_000);

describe("a 20-policy, 20-group, 20-target-set configuration", () => {
  it("synths without errors, every function bundled and packaged", () => {
    expect(result.errors).toEqual([]);
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    const packaged = result.packages.map((p) => p.functionID).sort();
    expect(packaged).toEqual(result.builds.map((b) => b.functionID).sort());
    // The restore test is not deployed: no policy of the large configuration has a restoreTest block; nor are the
    // fleet's functions, deployed only with a `fleet` section, which it has not.
    expect(packaged).toEqual(
      expect.arrayContaining(
        FUNCTIONS.filter(
          (f) =>
            f.stage === undefined && f.trigger.kind !== "fleet-fanout" && f.name !== "probe" && f.name !== "restore-test" && f.name !== "restore-test-checker",
        ).map((f) => cap(f.name)),
      ),
    );
  });

  it("loads, in every function package, through the run-time loader to the config deploy validated", () => {
    expect([expected.backup.policies.length, expected.failover.groups.length, expected.warm.targets.length]).toEqual([20, 20, 20]);
    for (const pkg of result.packages) {
      const text = pkg.json[CONFIG_FILE_NAME];
      expect(text, `${pkg.functionID} carries ${CONFIG_FILE_NAME}`).toBeDefined();
      expect(Buffer.byteLength(text!)).toBeGreaterThan(8 * 4096);
      const taskRoot = mkdtempSync(path.join(tmpdir(), "ops-autopilot-task-root-"));
      writeFileSync(path.join(taskRoot, CONFIG_FILE_NAME), text!);
      expect(configFromFile(deployedConfigFile({ LAMBDA_TASK_ROOT: taskRoot }))).toEqual(expected);
    }
  });
});
