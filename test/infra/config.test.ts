import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { configFile, loadConfig, runtimeConfigPath, writeRuntimeConfig } from "../../stacks/config.ts";
import { configFromFile } from "../../schemas/config.ts";
import { ROOT } from "./builders.ts";
import { largeConfigInput } from "./large-config.ts";

function project(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ops-autopilot-config-"));
  mkdirSync(path.join(dir, "config"));
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(path.join(dir, "config", name), typeof body === "string" ? body : JSON.stringify(body));
  }
  return dir;
}

describe("stage configuration", () => {
  it("uses config/example.json for the ci stage and stamps app and stage", () => {
    const config = loadConfig("ops-autopilot", "ci", ROOT, {});
    expect(configFile("ci", ROOT, {})).toBe(path.join(ROOT, "config", "example.json"));
    expect([config.app, config.stage]).toEqual(["ops-autopilot", "ci"]);
  });

  it("writes each stage's validated config to its own generated file, which loads back to the same config", () => {
    const dir = project({ "prod.json": { primaryRegion: "eu-west-1" }, "staging.json": { primaryRegion: "eu-central-1" } });
    const prod = loadConfig("ops-autopilot", "prod", dir, {});
    const staging = loadConfig("ops-autopilot", "staging", dir, {});
    expect(writeRuntimeConfig(prod, dir)).toBe(".sst/ops-autopilot/prod/ops-autopilot.config.json");
    expect(writeRuntimeConfig(staging, dir)).toBe(".sst/ops-autopilot/staging/ops-autopilot.config.json");
    expect(configFromFile(path.join(dir, runtimeConfigPath(prod)))).toEqual(prod);
    expect(configFromFile(path.join(dir, runtimeConfigPath(staging)))).toEqual(staging);
  });

  it("leaves the generated file alone when the config is unchanged (SST zips it while other functions are declared)", () => {
    const dir = project({ "prod.json": { primaryRegion: "eu-west-1" } });
    const config = loadConfig("ops-autopilot", "prod", dir, {});
    const file = path.join(dir, writeRuntimeConfig(config, dir));
    const before = statSync(file, { bigint: true }).mtimeNs;
    writeRuntimeConfig(config, dir);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(before);
    writeRuntimeConfig({ ...config, timezone: "Europe/Paris" }, dir);
    expect(JSON.parse(readFileSync(file, "utf8")).timezone).toBe("Europe/Paris");
  });

  it("carries a config of 20 policies, 20 failover groups and 20 warm target sets, far past Lambda's 4 KB of environment", () => {
    const dir = project({ "large.json": largeConfigInput() });
    const config = loadConfig("ops-autopilot", "large", dir, {});
    expect([config.backup.policies.length, config.failover.groups.length, config.warm.targets.length]).toEqual([20, 20, 20]);
    const file = path.join(dir, writeRuntimeConfig(config, dir));
    expect(statSync(file).size).toBeGreaterThan(8 * 4096);
    expect(configFromFile(file)).toEqual(config);
  });

  it("fails naming the missing file for a stage without configuration", () => {
    const dir = project({});
    expect(() => loadConfig("ops-autopilot", "prod", dir, {})).toThrow(/no configuration for stage "prod": create config\/prod\.json/);
  });

  it("fails naming the bad field", () => {
    const dir = project({ "prod.json": { primaryRegion: "eu-west-1", drRegions: [{ region: "nowhere", kmsKeyId: "k" }] } });
    expect(() => loadConfig("ops-autopilot", "prod", dir, {})).toThrow(/drRegions\[0\]\.region/);
  });

  it("fails on a file that is not JSON", () => {
    const dir = project({ "prod.json": "{ primaryRegion: " });
    expect(() => loadConfig("ops-autopilot", "prod", dir, {})).toThrow(/config\/prod\.json is not valid JSON/);
  });
});
