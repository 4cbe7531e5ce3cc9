// biome-ignore-all lint/suspicious/noExplicitAny: Pulumi's mocks and SST's CLI protocol hand over untyped inputs and properties
/**
 * Offline synth of sst.config.ts: evaluates `run()` the way `sst deploy` does, with no AWS account
 * and no network, and writes everything it declared to a JSON file.
 *
 *   node scripts/sst-synth.ts [--stage ci] [--out .sst/synth/ci.json] [--account 123456789012]
 *
 * The account is the one the caller identity answers (default {@link ACCOUNT}; also OPS_AUTOPILOT_SYNTH_ACCOUNT): a
 * vault stage (`<stage>-vault`) synthesizes only as the configured vault account, as it deploys.
 *
 * How it mirrors the SST CLI (pkg/project/run.go, pkg/runtime/node/build.go):
 * - sst.config.ts is bundled with esbuild into .sst/platform, `@pulumi/*` and `@aws-sdk/*` external,
 *   src/shim/run.js injected, `$app`/`$cli`/`$dev` defined, `aws` and `sst` imported by a banner;
 * - `run()` goes through .sst/platform/src/auto/run.ts (SST's stack transformations);
 * - Pulumi's engine is replaced by `runtime.setMocks`: resources are recorded, invokes answered
 *   (caller identity, partition, region, iam.getPolicyDocument rendered like AWS does);
 * - SST's CLI RPC server (SST_SERVER) is a local stub: `Runtime.Build` really bundles each handler
 *   with esbuild using SST's options, so a missing or broken handler fails the synth;
 * - SST's Function component zips each bundle with its `copyFiles` (paths from the project root, which is the
 *   working directory as under the CLI) into `<work>/artifacts/<function>/code.zip`; the synth reads each zip
 *   back and records its files ({@link SynthPackage}).
 * Requires .sst/platform (scripts/sst-install.ts). It mirrors the CLI of one SST version
 * ({@link MIRRORED_SST_VERSION}); another installed version is reported as a warning, since its CLI may
 * evaluate the config differently from this mirror.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { inflateRawSync } from "node:zlib";
import * as esbuild from "esbuild";

export const ACCOUNT = "123456789012";

/** The SST release whose CLI sources (pkg/project/run.go, pkg/runtime/node/build.go, pkg/js/js.go) this synth mirrors. */
export const MIRRORED_SST_VERSION = "4.17.1";

/** The `sst` version installed in `root`'s node_modules, read at run time. */
export function installedSstVersion(root: string): string | undefined {
  const file = path.join(root, "node_modules", "sst", "package.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version;
}

/** The warning for an installed `sst` that is not the one mirrored, or undefined when they match. */
export function sstVersionWarning(installed: string | undefined, mirrored: string = MIRRORED_SST_VERSION): string | undefined {
  if (installed === mirrored) return undefined;
  return `scripts/sst-synth.ts mirrors the CLI of sst ${mirrored}, but ${installed === undefined ? "no sst is installed" : `sst ${installed} is installed`}: check the mirrored CLI steps against that version and update MIRRORED_SST_VERSION`;
}
const debug = (msg: string) => {
  if (process.env.SYNTH_DEBUG) console.error(`[synth] ${msg}`);
};
export const SLACK_PLACEHOLDER = "https://hooks.slack.com/services/T00000000/B00000000/ci-placeholder";

export interface SynthResource {
  type: string;
  name: string;
  region: string;
  inputs: Record<string, unknown>;
}

export interface SynthBuild {
  functionID: string;
  handler: string;
  file: string;
  links: string[];
  properties: Record<string, unknown>;
  runtime: string;
  bytes: number;
}

/** One function's code package (the zip SST uploads): every file in it, and the text of its JSON files. */
export interface SynthPackage {
  functionID: string;
  files: { name: string; bytes: number }[];
  json: Record<string, string>;
}

export interface SynthResult {
  app: Record<string, unknown>;
  outputs: unknown;
  resources: SynthResource[];
  builds: SynthBuild[];
  packages: SynthPackage[];
  errors: string[];
  /** Non-fatal findings, such as an installed sst other than the mirrored one. */
  warnings: string[];
  seconds: number;
}

/** The part of @pulumi/pulumi (installed in .sst/platform, not in the project) the synth uses. */
interface MockResourceArgs {
  type: string;
  name: string;
  inputs: any;
  provider?: string;
}
interface MockCallArgs {
  token: string;
  inputs: any;
  provider?: string;
}
interface PulumiSdk {
  runtime: {
    setMocks(
      mocks: {
        newResource(args: MockResourceArgs): { id: string; state: Record<string, unknown> };
        call(args: MockCallArgs): Record<string, unknown>;
      },
      project?: string,
      stack?: string,
      preview?: boolean,
    ): Promise<void>;
    runInPulumiStack(init: () => Promise<unknown>): Promise<unknown>;
    waitForRPCs?: () => Promise<void>;
  };
  log: { error: (msg: string) => Promise<void> };
}

interface Options {
  root: string;
  stage: string;
  /** The account the caller identity answers and the fake ARNs carry; default {@link ACCOUNT}. */
  account?: string;
}

const HANDLER_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/** The banner SST puts on every Node function bundle (ESM that can still `require`). */
export const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/** esbuild target SST derives from the function runtime (pkg/runtime/node/build.go targetMap). */
const RUNTIME_TARGETS: Record<string, string> = { "nodejs24.x": "es2024", "nodejs22.x": "es2023", "nodejs20.x": "es2023" };

/**
 * SST's Node build options for a handler file (pkg/runtime/node/build.go), given the function's `nodejs`
 * properties and runtime: the entry is written as `bundle.mjs` (or `.cjs`) in `outDir`; with `splitting`
 * (ESM only) the dynamic imports become `.mjs` chunks beside it.
 */
export function sstBuildOptions(file: string, outDir: string, props: Record<string, any>, runtime = "nodejs24.x"): esbuild.BuildOptions {
  const external = ["sharp", "pg-native", ...(props.install ?? []), ...(props.esbuild?.external ?? [])];
  const esm = props.format !== "cjs";
  const split = esm && Boolean(props.splitting);
  return {
    entryPoints: [file],
    platform: "node",
    external,
    keepNames: props.esbuild?.keepNames ?? true,
    bundle: true,
    metafile: true,
    ...(split
      ? { splitting: true, outdir: outDir, outExtension: { ".js": ".mjs" }, entryNames: "bundle" }
      : { outfile: path.join(outDir, esm ? "bundle.mjs" : "bundle.cjs") }),
    sourcemap: props.sourcemap ? "linked" : false,
    write: true,
    format: esm ? "esm" : "cjs",
    target: props.esbuild?.target ?? RUNTIME_TARGETS[runtime] ?? "esnext",
    mainFields: props.esbuild?.mainFields ?? (esm ? ["module", "main"] : ["main"]),
    ...(props.esbuild?.conditions ? { conditions: props.esbuild.conditions } : {}),
    banner: esm ? { js: [SST_BANNER, props.banner ?? ""].join("\n") } : undefined,
    minify: Boolean(props.minify),
    logLevel: "silent",
  };
}

export function resolveHandlerFile(root: string, handler: string): string | undefined {
  const base = path.join(root, handler.replace(/\.[^./]+$/, ""));
  return HANDLER_EXTENSIONS.map((ext) => base + ext).find((f) => existsSync(f));
}

export async function synth(opts: Options): Promise<SynthResult> {
  const started = Date.now();
  const root = path.resolve(opts.root);
  const account = opts.account ?? ACCOUNT;
  const platform = path.join(root, ".sst", "platform");
  if (!existsSync(path.join(platform, "src", "auto", "run.ts"))) {
    throw new Error(`${platform} is missing: run scripts/sst-install.ts first`);
  }
  const versionWarning = sstVersionWarning(installedSstVersion(root));
  const warnings = versionWarning ? [versionWarning] : [];
  const work = mkdtempSync(path.join(tmpdir(), "ops-autopilot-synth-"));
  const resources: SynthResource[] = [];
  const builds: SynthBuild[] = [];
  const errors: string[] = [];

  // ---- the SST CLI RPC stub -------------------------------------------------------------
  const rpcMethods: Record<string, (args: any) => Promise<unknown>> = {
    "Provider.Aws.Bootstrap": async ({ region }) => ({
      asset: `sst-asset-${region}`,
      assetEcrRegistryId: account,
      assetEcrUrl: `${account}.dkr.ecr.${region}.amazonaws.com/sst-asset`,
      state: `sst-state-${region}`,
      appsyncHttp: "",
      appsyncRealtime: "",
    }),
    "Runtime.Build": async (input) => {
      const file = resolveHandlerFile(root, input.handler);
      if (!file) throw new Error(`Handler not found: ${input.handler} (function ${input.functionID})`);
      const props = input.properties ?? {};
      const out = path.join(work, "artifacts", `${input.functionID}-src`);
      const outfile = path.join(out, props.format === "cjs" ? "bundle.cjs" : "bundle.mjs");
      const result = await esbuild.build({ ...sstBuildOptions(file, out, props, input.runtime), absWorkingDir: root });
      const errs = result.errors.map((e) => `${e.text} ${e.location ? `${e.location.file}:${e.location.line}` : ""}`);
      builds.push({
        functionID: input.functionID,
        handler: input.handler,
        file: path.relative(root, file),
        links: Object.keys(input.links ?? {}).sort(),
        properties: props,
        runtime: input.runtime,
        bytes: existsSync(outfile) ? statSync(outfile).size : 0,
      });
      return { handler: `bundle${path.extname(input.handler)}`, out, errors: errs, sourcemaps: [] };
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const reply = (payload: unknown) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      try {
        const { method, params } = JSON.parse(body) as { method: string; params: unknown[] };
        const fn = rpcMethods[method];
        debug(`rpc ${method}`);
        if (!fn) return reply({ error: `rpc: can't find method ${method}` });
        reply({ result: await fn(params[0]) });
      } catch (err) {
        const message = (err as Error).message;
        errors.push(message);
        reply({ error: message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  try {
    // The CLI evaluates the config in the project root; stacks/ resolve config/ and generated files from there.
    process.chdir(root);
    // ---- app(): the same evaluation the CLI does before run() ---------------------------
    const appBundle = path.join(platform, `sst.app.${Date.now()}.mjs`);
    await esbuild.build({
      stdin: {
        contents: `import mod from ${JSON.stringify(path.join(root, "sst.config.ts"))};\nexport default mod;`,
        resolveDir: root,
        loader: "ts",
        sourcefile: "app.ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: appBundle,
      external: ["@pulumi/*", "@aws-sdk/*"],
      // $config is a global in sst.config.ts; for app() it only has to hand the object back.
      banner: { js: "globalThis.$config = (c) => c;" },
      logLevel: "silent",
    });
    const configMod = (await import(pathToFileURL(appBundle).href)).default as {
      app: (input: { stage: string }) => Promise<Record<string, any>> | Record<string, any>;
    };
    rmSync(appBundle, { force: true });
    const appInfo = await configMod.app({ stage: opts.stage });
    const app = {
      name: appInfo.name,
      stage: opts.stage,
      removal: appInfo.removal ?? "retain",
      protect: appInfo.protect ?? false,
      providers: appInfo.providers ?? {},
      home: appInfo.home,
    };
    const defaultRegion: string = app.providers?.aws?.region ?? "us-east-1";

    // ---- Pulumi mocks ---------------------------------------------------------------------
    const platformRequire = createRequire(path.join(platform, "package.json"));
    const pulumi = platformRequire("@pulumi/pulumi") as PulumiSdk;
    const providerRegions = new Map<string, string>();
    const regionOf = (provider: string | undefined): string => {
      if (!provider) return defaultRegion;
      // "urn:pulumi:<stack>::<project>::pulumi:providers:aws::<name>::<id>"
      const parts = provider.split("::");
      const name = parts[parts.length - 2] ?? "";
      return providerRegions.get(name) ?? defaultRegion;
    };
    const counter = { n: 0 };
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          debug(`resource ${args.type} ${args.name}`);
          const region = regionOf(args.provider);
          if (args.type === "pulumi:providers:aws") providerRegions.set(args.name, args.inputs.region ?? defaultRegion);
          resources.push({ type: args.type, name: args.name, region, inputs: unsecret(args.inputs) as Record<string, unknown> });
          return { id: `${args.name}-id`, state: { ...fakeOutputs(args.type, args.name, region, args.inputs, account), ...args.inputs } };
        },
        call(args) {
          debug(`call ${args.token}`);
          const region = regionOf(args.provider);
          switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return { accountId: account, arn: `arn:aws:iam::${account}:user/ci`, userId: "AIDACI", id: account };
            case "aws:index/getPartition:getPartition":
              return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:index/getRegion:getRegion":
              return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com` };
            case "aws:iam/getPolicyDocument:getPolicyDocument":
              return { json: JSON.stringify(renderPolicyDocument(args.inputs)), statements: args.inputs.statements ?? [], id: `policy-${counter.n++}` };
            default:
              return args.inputs;
          }
        },
      },
      app.name,
      opts.stage,
      false,
    );

    // ---- the eval bundle, as pkg/project/run.go builds it -------------------------------
    process.env.SST_SERVER = `http://127.0.0.1:${port}`;
    process.env.SST_SECRET_SlackWebhookUrl = SLACK_PLACEHOLDER;
    process.env.SST_SECRETS = "{}";
    const cli = {
      command: "deploy",
      dev: false,
      paths: { home: path.join(work, "home"), root, work, platform },
      state: { version: {} },
    };
    const outfile = path.join(platform, `sst.config.${Date.now()}.mjs`);
    // pkg/js/js.go: the provider globals (`aws`, `sst`) are prepended to every project file (not to
    // SST's own sources under .sst), the shim is injected, and these packages stay external.
    const lock = [{ alias: "aws", package: "@pulumi/aws" }];
    const globals = [
      ...lock.map((l) => `import * as ${l.alias} from "${l.package}";`),
      `import * as sst from ${JSON.stringify(path.join(platform, "src/components"))};`,
    ].join("\n");
    await esbuild.build({
      stdin: {
        contents: [
          `import { run } from ${JSON.stringify(path.join(platform, "src/auto/run.ts"))};`,
          `import mod from ${JSON.stringify(path.join(root, "sst.config.ts"))};`,
          `const result = await run(mod.run);`,
          `export default result;`,
        ].join("\n"),
        resolveDir: root,
        loader: "ts",
        sourcefile: "eval.ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile,
      external: ["@pulumi/*", "undici", "@pulumiverse/*", "@sst-provider/*", "@aws-sdk/*", "esbuild", "archiver", "glob", "vite"],
      nodePaths: [path.join(platform, "node_modules")],
      mainFields: ["module", "main"],
      define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: "false" },
      inject: [path.join(platform, "src/shim/run.js")],
      banner: { js: SST_BANNER + (process.env.SYNTH_DEBUG ? '\nconsole.error("[synth] bundle evaluating");' : "") },
      plugins: [
        {
          name: "InjectGlobals",
          setup(build) {
            build.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, async (args) => {
              const contents = readFileSync(args.path, "utf8");
              return { contents: args.path.includes(".sst") ? contents : `${globals}\n${contents}`, loader: "default" };
            });
          },
        },
      ],
      logLevel: "silent",
    });

    const onRejection = (err: unknown) => errors.push(String((err as Error)?.message ?? err));
    process.on("unhandledRejection", onRejection);
    const originalError = pulumi.log.error;
    pulumi.log.error = async (msg: string) => {
      errors.push(msg);
    };
    let outputs: unknown;
    try {
      debug("importing eval bundle");
      // The language host loads a Pulumi program inside the root Stack resource; SST's run()
      // registers stack transformations on it.
      outputs = await pulumi.runtime.runInPulumiStack(async () => (await import(pathToFileURL(outfile).href)).default);
      debug(`run() returned; ${resources.length} resources so far`);
      debug("outputs resolved");
      if (pulumi.runtime.waitForRPCs) await pulumi.runtime.waitForRPCs();
      // Let promise chains that SST starts inside apply() callbacks settle.
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    } catch (err) {
      errors.push((err as Error).stack ?? String(err));
    } finally {
      process.off("unhandledRejection", onRejection);
      pulumi.log.error = originalError;
      if (!process.env.SYNTH_KEEP) rmSync(outfile, { force: true });
    }
    const packages = readPackages(path.join(work, "artifacts"));
    return { app, outputs, resources, builds, packages, errors: [...new Set(errors)], warnings, seconds: (Date.now() - started) / 1000 };
  } finally {
    server.close();
    process.chdir(savedCwd);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The code packages SST's Function component zipped (`<artifacts>/<function>/code.zip`), read back. */
function readPackages(artifacts: string): SynthPackage[] {
  if (!existsSync(artifacts)) return [];
  return readdirSync(artifacts)
    .filter((dir) => existsSync(path.join(artifacts, dir, "code.zip")))
    .sort()
    .map((functionID) => {
      const entries = readZip(readFileSync(path.join(artifacts, functionID, "code.zip")));
      return {
        functionID,
        files: entries.map((e) => ({ name: e.name, bytes: e.data.length })),
        json: Object.fromEntries(entries.filter((e) => e.name.endsWith(".json")).map((e) => [e.name, e.data.toString("utf8")])),
      };
    });
}

/**
 * The files of a zip archive, from its central directory (sizes there are right even when the local headers defer
 * them to data descriptors, as archiver's do). Stored and deflated entries only: all that archiver writes.
 */
export function readZip(zip: Buffer): { name: string; data: Buffer }[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive: no end of central directory");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: { name: string; data: Buffer }[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip central directory entry ${n} is corrupt`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw new Error(`zip entry ${name}: compression method ${method} not supported`);
    out.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
  }
  return out;
}

/** Pulumi marks secret values with this signature key; the synth records the plain value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unsecret(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unsecret);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (SECRET_SIG in obj && "value" in obj) return unsecret(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unsecret(v)]));
  }
  return value;
}

/** Computed attributes the engine would fill in, enough for SST's components to wire things together. */
function fakeOutputs(type: string, name: string, region: string, inputs: Record<string, unknown> = {}, account = ACCOUNT): Record<string, unknown> {
  const [, mod = "", kind = ""] = type.split(":");
  const service = mod.split("/")[0] ?? mod;
  const physical = name.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  const base: Record<string, unknown> = { name: physical, id: `${name}-id` };
  switch (`${service}:${kind}`) {
    case "s3:BucketV2":
    case "s3:Bucket":
      return { ...base, bucket: physical, arn: `arn:aws:s3:::${physical}`, bucketRegionalDomainName: `${physical}.s3.${region}.amazonaws.com` };
    case "sqs:Queue":
      return { ...base, arn: `arn:aws:sqs:${region}:${account}:${physical}`, url: `https://sqs.${region}.amazonaws.com/${account}/${physical}` };
    case "lambda:Function":
      return {
        ...base,
        arn: `arn:aws:lambda:${region}:${account}:function:${physical}`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/${physical}`,
        qualifiedArn: `arn:aws:lambda:${region}:${account}:function:${physical}:$LATEST`,
      };
    case "iam:Role":
      return { ...base, arn: `arn:aws:iam::${account}:role/${physical}` };
    case "kms:Key":
      return { ...base, keyId: `${physical}-key-id`, arn: `arn:aws:kms:${region}:${account}:key/${physical}-key-id` };
    case "sfn:StateMachine":
      return { ...base, arn: `arn:aws:states:${region}:${account}:stateMachine:${physical}` };
    case "cloudwatch:LogGroup":
      return { ...base, arn: `arn:aws:logs:${region}:${account}:log-group:${typeof inputs.name === "string" ? inputs.name : `/aws/lambda/${physical}`}` };
    default:
      return { ...base, arn: `arn:aws:${service}:${region}:${account}:${kind.toLowerCase()}/${physical}` };
  }
}

interface DocInput {
  statements?: {
    sid?: string;
    effect?: string;
    actions?: string[];
    notActions?: string[];
    resources?: string[];
    notResources?: string[];
    principals?: { type: string; identifiers: string[] }[];
    conditions?: { test: string; variable: string; values: string[] }[];
  }[];
}

/** iam.getPolicyDocument as AWS renders it: one Condition block per operator, keyed by variable. */
export function renderPolicyDocument(input: DocInput) {
  const one = (v: string[] | undefined) => (v && v.length === 1 ? v[0] : v);
  return {
    Version: "2012-10-17",
    Statement: (input.statements ?? []).map((s) => {
      const condition: Record<string, Record<string, string | string[]>> = {};
      for (const c of s.conditions ?? []) {
        condition[c.test] = { ...(condition[c.test] ?? {}), [c.variable]: one(c.values) as string | string[] };
      }
      return {
        ...(s.sid ? { Sid: s.sid } : {}),
        Effect: s.effect ?? "Allow",
        ...(s.actions ? { Action: one(s.actions) } : {}),
        ...(s.notActions ? { NotAction: one(s.notActions) } : {}),
        ...(s.resources ? { Resource: one(s.resources) } : {}),
        ...(s.notResources ? { NotResource: one(s.notResources) } : {}),
        ...(s.principals ? { Principal: Object.fromEntries(s.principals.map((p) => [p.type, one(p.identifiers)])) } : {}),
        ...(s.conditions?.length ? { Condition: condition } : {}),
      };
    }),
  };
}

/**
 * The synth of `stage` in a child process (Pulumi's runtime is process-global state and keeps handles open), after
 * installing SST's platform if needed. `env` is the child's whole environment (e.g. OPS_AUTOPILOT_CONFIG_FILE).
 * A synth that exits with errors still writes its JSON: that result (with its `errors`) is returned; a child that
 * wrote nothing throws with its output.
 */
export function synthInChild(root: string, stage: string, env: NodeJS.ProcessEnv = process.env): SynthResult {
  const node = path.join(root, "node_modules", ".bin", "node");
  execFileSync(node, ["scripts/sst-install.ts"], { cwd: root, stdio: "ignore" });
  const dir = mkdtempSync(path.join(tmpdir(), "ops-autopilot-synth-"));
  const out = path.join(dir, `${stage}.json`);
  try {
    try {
      execFileSync(node, ["scripts/sst-synth.ts", "--stage", stage, "--out", out], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      if (!existsSync(out)) {
        const e = err as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`synth ${stage} failed:\n${e.stdout?.toString() ?? ""}\n${e.stderr?.toString() ?? ""}`);
      }
    }
    return JSON.parse(readFileSync(out, "utf8")) as SynthResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cliMain(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (flag: string, fallback: string) => {
    const i = args.indexOf(flag);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const stage = get("--stage", "ci");
  const out = path.resolve(get("--out", path.join(".sst", "synth", `${stage}.json`)));
  const account = get("--account", process.env.OPS_AUTOPILOT_SYNTH_ACCOUNT ?? ACCOUNT);
  const result = await synth({ root: process.cwd(), stage, account });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(
    `synth ${stage}: ${result.resources.length} resources, ${result.builds.length} bundles, ${result.packages.length} packages, ${result.errors.length} errors, ${result.seconds.toFixed(1)} s -> ${path.relative(process.cwd(), out)}`,
  );
  for (const w of result.warnings) console.error(`  warning: ${w}`);
  for (const e of result.errors) console.error(`  error: ${e.split("\n")[0]}`);
  // Pulumi keeps handles open; the synth is done.
  process.exit(result.errors.length ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await cliMain();
}
