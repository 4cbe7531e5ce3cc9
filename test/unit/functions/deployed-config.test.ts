import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { lambdaContext } from "../../../sandbox/scenarios/harness.ts";
import { CONFIG_FILE_NAME, parseConfig } from "../../../schemas/config.ts";
import type { RunContext, Runtime } from "../../../runbooks/lib/handler.ts";

/**
 * A deployed function reads its configuration from the file its package carries ($LAMBDA_TASK_ROOT), once per
 * container, while Lambda initializes it (handlers are created at import): no invocation reads or validates it
 * again. Each test imports the handler module afresh: a new module is a new container.
 */

const input = { stage: "prod", primaryRegion: "eu-west-1", timezone: "Asia/Tokyo" };
let root: string;
const file = () => path.join(root, CONFIG_FILE_NAME);

async function freshHandler() {
  vi.resetModules();
  const { createHandler } = await import("../../../runbooks/lib/handler.ts");
  const seen: RunContext["config"][] = [];
  const runtime: Runtime = {
    now: () => new Date("2026-11-30T02:00:00Z"),
    saveReport: async () => {},
    postSlack: async () => {},
    emitMetrics: () => {},
    logger: new Logger({ logLevel: "SILENT" }),
  };
  const handler = createHandler(
    {
      name: "watchdog",
      parse: (e) => e,
      run: async (_e, ctx) => {
        seen.push(ctx.config);
        return { report: {}, message: null, failures: [] };
      },
    },
    runtime,
  );
  return { handler, seen };
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "ops-autopilot-task-root-"));
  vi.stubEnv("LAMBDA_TASK_ROOT", root);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

describe("configuration of a deployed function", () => {
  it("is read from $LAMBDA_TASK_ROOT/ops-autopilot.config.json during init, then never again", async () => {
    writeFileSync(file(), JSON.stringify(input));
    const { handler, seen } = await freshHandler();
    // Gone before the first invocation: it was read when the handler was created (INIT).
    rmSync(file());
    await handler({}, lambdaContext("r1"));
    writeFileSync(file(), JSON.stringify({ ...input, timezone: "UTC" }));
    await handler({}, lambdaContext("r2"));
    expect(seen).toEqual([parseConfig(input), parseConfig(input)]);
    expect(seen[1]).toBe(seen[0]);
  });

  it("a missing file fails every invocation with the file named", async () => {
    const { handler, seen } = await freshHandler();
    writeFileSync(file(), JSON.stringify(input));
    const message = `${file()} does not exist: the function package carries no configuration (stacks/lambda.ts ships it with copyFiles)`;
    await expect(handler({}, lambdaContext("r1"))).rejects.toThrow(message);
    await expect(handler({}, lambdaContext("r2"))).rejects.toThrow(message);
    expect(seen).toEqual([]);
  });

  it("invalid JSON and an invalid config fail naming the file, and the field", async () => {
    writeFileSync(file(), "{ not json");
    await expect((await freshHandler()).handler({}, lambdaContext("r1"))).rejects.toThrow(`${file()} is not valid JSON: `);
    writeFileSync(file(), JSON.stringify({ ...input, primaryRegion: "europe" }));
    await expect((await freshHandler()).handler({}, lambdaContext("r1"))).rejects.toThrow(
      `Invalid config in ${file()}: primaryRegion: expected an AWS region such as eu-west-1`,
    );
  });

  it("a config passed in through the runtime (tests, the drill, the sandbox) needs no file", async () => {
    vi.resetModules();
    const { createHandler } = await import("../../../runbooks/lib/handler.ts");
    const config = parseConfig(input);
    const handler = createHandler(
      { name: "watchdog", parse: (e) => e, run: async (_e, ctx) => ({ report: { timezone: ctx.config.timezone }, message: null, failures: [] }) },
      { config: () => config, saveReport: async () => {}, emitMetrics: () => {}, logger: new Logger({ logLevel: "SILENT" }) },
    );
    await expect(handler({}, lambdaContext("r1"))).resolves.toMatchObject({ timezone: "Asia/Tokyo", stage: "prod" });
  });
});
