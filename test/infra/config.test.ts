import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { configEnvironment, configFile, environmentBytes, loadConfig, LAMBDA_ENV_LIMIT_BYTES } from "../../stacks/config.ts";
import { configFromEnv } from "../../schemas/config.ts";
import { ROOT } from "./builders.ts";

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

  it("round-trips through the function environment", () => {
    const config = loadConfig("ops-autopilot", "ci", ROOT, {});
    const env = configEnvironment(config);
    expect(configFromEnv(env)).toEqual(config);
    expect(environmentBytes(env)).toBeLessThan(LAMBDA_ENV_LIMIT_BYTES - 256);
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
