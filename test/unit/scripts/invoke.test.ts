import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { invokeFunction } from "../../../adapters/lambda-invoke.ts";
import { deployedFunction, parseArgs, runInvoke } from "../../../scripts/invoke.ts";
import { FUNCTIONS } from "../../../stacks/functions.ts";

/**
 * `npm run invoke` end to end with the real SDK client, against a local HTTP server given as AWS_ENDPOINT_URL:
 * the Invoke request it sends (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: POST
 * /2015-03-31/functions/<name>/invocations, X-Amz-Invocation-Type, X-Amz-Log-Type, the event as the body),
 * what it prints, and its refusals before any request.
 */

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
let reply: (res: ServerResponse) => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const OUTPUTS = {
  app: "ops-autopilot",
  stage: "dev",
  functions: {
    prune: { name: "ops-autopilot-dev-PruneFunction-abcd", region: "eu-west-1" },
    failover: { name: "ops-autopilot-dev-FailoverFunction-efgh", region: "eu-central-1" },
  },
};

function project(outputs: unknown = OUTPUTS): string {
  const root = mkdtempSync(path.join(tmpdir(), "ops-autopilot-invoke-"));
  mkdirSync(path.join(root, "events"));
  writeFileSync(path.join(root, "events", "prune-dry-run.json"), JSON.stringify({ trigger: "manual", dryRun: true, note: "check" }));
  writeFileSync(path.join(root, "events", "prune-typo.json"), JSON.stringify({ trigger: "manual", dryrun: false }));
  writeFileSync(path.join(root, "events", "failover-status.json"), JSON.stringify({ mode: "status" }));
  if (outputs !== null) {
    mkdirSync(path.join(root, ".sst"));
    writeFileSync(path.join(root, ".sst", "outputs.json"), JSON.stringify(outputs));
  }
  return root;
}

async function run(argv: string[], root: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runInvoke(argv, { root, invoke: invokeFunction, out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

beforeEach(() => {
  seen.length = 0;
  vi.stubEnv("AWS_ENDPOINT_URL", endpoint);
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDINVOKETEST");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  vi.stubEnv("AWS_PROFILE", "");
});
afterEach(() => vi.unstubAllEnvs());

describe("npm run invoke", () => {
  it("sends one synchronous Invoke of the stage's function with the event, and prints status, payload and log tail", async () => {
    reply = (res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "x-amz-executed-version": "$LATEST",
        "x-amz-log-result": Buffer.from("START RequestId: r1\nplanned 3 deletions\nEND RequestId: r1\n").toString("base64"),
      });
      res.end(JSON.stringify({ ok: true, deleted: 0, planned: 3 }));
    };
    const r = await run(["prune", "events/prune-dry-run.json", "--stage", "dev", "--logs"], project());

    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/2015-03-31/functions/ops-autopilot-dev-PruneFunction-abcd/invocations");
    expect(req.headers["x-amz-invocation-type"]).toBe("RequestResponse");
    expect(req.headers["x-amz-log-type"]).toBe("Tail");
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDINVOKETEST\/\d{8}\/eu-west-1\/lambda\/aws4_request, /);
    expect(JSON.parse(req.body)).toEqual({ trigger: "manual", dryRun: true, note: "check" });

    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toBe(
      [
        "prune: ops-autopilot-dev-PruneFunction-abcd (eu-west-1)",
        "status: 200 (version $LATEST)",
        "payload:",
        JSON.stringify({ ok: true, deleted: 0, planned: 3 }, null, 2),
        "log tail:",
        "START RequestId: r1\nplanned 3 deletions\nEND RequestId: r1",
      ].join("\n"),
    );
  });

  it("invokes the failover function in the DR region and prints its error with exit code 1 when it threw", async () => {
    reply = (res) => {
      res.writeHead(200, { "content-type": "application/json", "x-amz-function-error": "Unhandled" });
      res.end(JSON.stringify({ errorType: "Error", errorMessage: "replica not found" }));
    };
    const r = await run(["failover", "events/failover-status.json", "--stage", "dev"], project());

    expect(seen[0]!.url).toBe("/2015-03-31/functions/ops-autopilot-dev-FailoverFunction-efgh/invocations");
    expect(seen[0]!.headers["x-amz-log-type"]).toBe("None");
    expect(seen[0]!.headers.authorization).toContain("/eu-central-1/lambda/aws4_request");
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        "failover: ops-autopilot-dev-FailoverFunction-efgh (eu-central-1)",
        "status: 200",
        "function error: Unhandled",
        "payload:",
        JSON.stringify({ errorType: "Error", errorMessage: "replica not found" }, null, 2),
      ].join("\n"),
    );
  });

  it("signs with the named profile's credentials (--profile)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ops-autopilot-profile-"));
    writeFileSync(path.join(dir, "credentials"), "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n");
    writeFileSync(path.join(dir, "config"), "[profile ops]\nregion = us-east-1\n");
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", path.join(dir, "credentials"));
    vi.stubEnv("AWS_CONFIG_FILE", path.join(dir, "config"));
    vi.stubEnv("AWS_ACCESS_KEY_ID", "");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "");
    reply = (res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("null");
    };
    const r = await run(["prune", "events/prune-dry-run.json", "--stage", "dev", "--profile", "ops"], project());
    expect(r.err).toBe("");
    expect(seen[0]!.headers.authorization).toMatch(/Credential=AKIDPROFILE\/\d{8}\/eu-west-1\/lambda\//);
    expect(r.out.split("\n").slice(1)).toEqual(["status: 200", "payload:", "null"]);
  });

  it("refuses an event that does not fit the function's schema, naming the field, before any request", async () => {
    const r = await run(["prune", "events/prune-typo.json", "--stage", "dev"], project());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^events\/prune-typo\.json is not a prune event: Invalid prune manual event: .*dryrun/);
    expect(seen).toEqual([]);
  });

  it("says the stage was never deployed from this machine when SST wrote no outputs", async () => {
    const r = await run(["prune", "events/prune-dry-run.json", "--stage", "dev"], project(null));
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      '.sst/outputs.json does not exist: stage "dev" was never deployed from this machine. Deploy it here (npx sst deploy --stage dev); SST writes the function names to that file.',
    );
    expect(seen).toEqual([]);
  });

  it("refuses the outputs of another stage rather than invoking its function", async () => {
    const r = await run(["prune", "events/prune-dry-run.json", "--stage", "prod"], project());
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      '.sst/outputs.json holds the outputs of stage "dev", not "prod" (SST keeps the last stage deployed here only). Deploy it from this machine (npx sst deploy --stage prod) to refresh .sst/outputs.json.',
    );
    expect(seen).toEqual([]);
  });
});

describe("invoke: arguments and outputs", () => {
  it("parses the command line and refuses what it does not know", () => {
    expect(parseArgs(["prune", "events/prune-dry-run.json", "--stage", "dev", "--profile", "ops", "--logs"])).toEqual({
      fn: "prune",
      eventFile: "events/prune-dry-run.json",
      stage: "dev",
      profile: "ops",
      logs: true,
    });
    expect(() => parseArgs(["purge", "e.json", "--stage", "dev"])).toThrow(
      `unknown function "purge": expected one of ${FUNCTIONS.map((f) => f.name).join(", ")}`,
    );
    expect(() => parseArgs(["prune", "e.json"])).toThrow(/^--stage is required/);
    expect(() => parseArgs(["prune", "e.json", "--stage"])).toThrow(/^--stage needs a value/);
    expect(() => parseArgs(["prune", "e.json", "--stage", "dev", "--dry"])).toThrow(/^unknown option --dry/);
  });

  it("names the functions a stage has when the one asked for is not deployed, and a removed stage", () => {
    const { failover: _, ...noFailover } = OUTPUTS.functions;
    expect(() => deployedFunction({ ...OUTPUTS, functions: noFailover }, "dev", "failover")).toThrow(
      'stage "dev" has no deployed function "failover" (it is deployed only when the config has failover groups); deployed: prune',
    );
    expect(() => deployedFunction({}, "dev", "prune")).toThrow(/^\.sst\/outputs\.json names no stage \(the stage was removed/);
  });
});
