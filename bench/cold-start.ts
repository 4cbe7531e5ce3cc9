/**
 * Cold-start benchmark: bundle each handler the way SST 4.17's Go builder does, then time module
 * load + init (the `import()` of the bundle, which is what Lambda's INIT phase runs) in fresh Node
 * processes, against a baseline handler importing one SDK client, bundled with the same settings.
 *
 *   node bench/cold-start.ts [--runs 9] [--only chosen] [--why] [--cpu-prof <function>]
 *
 * Variants: the chosen settings (stacks/functions.ts NODEJS: ESM, minified, splitting, SDK bundled),
 * without splitting, the SDK taken from the runtime (external; here loaded from node_modules as the
 * runtime would from /var/runtime), unminified, and CommonJS.
 *
 * Each bundle's directory also holds the stage's configuration file, as the function package does, and the process
 * runs with `LAMBDA_TASK_ROOT` pointing there: INIT then reads and validates the config as in Lambda
 * (runbooks/lib/handler.ts), so the timing includes it.
 *
 * Per function: `init bytes` is what INIT loads (the entry plus the chunks it imports statically),
 * `package` everything in the zip (chunks behind a dynamic `import()` are read on the invocation
 * that needs them). Baseline and function are measured alternately in the same loop so machine load
 * drifts hit both; the ratio is of medians. `cpu` is the process CPU time of the import (less
 * sensitive to other work on a shared machine than wall time).
 *
 * --why       the largest packages in each function's init bytes (esbuild metafile)
 * --cpu-prof  one CPU profile of the init of that function's bundle, summarized by package through
 *             the source map (V8 compile of the bundle shows up as `compileSourceTextModule`)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { FUNCTIONS, handlerFile, NODEJS, RUNTIME } from "../stacks/functions.ts";
import { sstBuildOptions } from "../scripts/sst-synth.ts";
import { loadConfig } from "../stacks/config.ts";
import { CONFIG_FILE_NAME } from "../schemas/config.ts";

const root = process.cwd();
const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(opt("--runs") ?? 9) || 9;
const only = opt("--only");
const why = args.includes("--why");
const profileFn = opt("--cpu-prof");
// Inside the project so a bundle with the SDK external resolves it from node_modules.
const work = path.join(root, "node_modules", ".cache", "ops-autopilot-cold-start");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// biome-ignore lint/suspicious/noExplicitAny: SST's untyped `nodejs` properties, passed through to its build options
type Props = Record<string, any>;
interface Variant {
  name: string;
  props: Props;
}

const VARIANTS: Variant[] = [
  { name: "chosen", props: { ...NODEJS } },
  { name: "no-splitting", props: { ...NODEJS, splitting: false } },
  { name: "sdk-from-runtime", props: { ...NODEJS, esbuild: { external: ["@aws-sdk/*", "@smithy/*"] } } },
  { name: "not-minified", props: { ...NODEJS, minify: false } },
  { name: "cjs", props: { ...NODEJS, format: "cjs", splitting: false } },
].filter((v) => !only || v.name === only);

const BASELINE = `import { S3Client, HeadBucketCommand } from "@aws-sdk/client-s3";
const client = new S3Client({ region: "eu-west-1" });
export const handler = async () => client.send(new HeadBucketCommand({ Bucket: "b" }));
`;
const baselineFile = path.join(work, "baseline-handler.ts");
writeFileSync(baselineFile, BASELINE);
/** The example configuration as deploy writes it into every package (stacks/config.ts writeRuntimeConfig). */
const packagedConfig = `${JSON.stringify(loadConfig("ops-autopilot", "bench", root, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" }), null, 2)}\n`;

/** SST's options for the handler (scripts/sst-synth.ts sstBuildOptions, shared with the infra synth). */
function sstOptions(entry: string, dir: string, props: Props): esbuild.BuildOptions {
  return sstBuildOptions(entry, dir, props, RUNTIME);
}

interface Built {
  entry: string;
  /** Output files INIT loads: the entry and its static imports, transitively. */
  init: string[];
  initBytes: number;
  packageBytes: number;
  metafile: esbuild.Metafile;
}

async function bundle(entry: string, dir: string, props: Props, extra: esbuild.BuildOptions = {}): Promise<Built> {
  rmSync(dir, { recursive: true, force: true });
  const result = await esbuild.build({ ...sstOptions(entry, dir, props), ...extra, absWorkingDir: root });
  writeFileSync(path.join(dir, CONFIG_FILE_NAME), packagedConfig);
  const outputs = result.metafile!.outputs;
  // esbuild names inputs by their real path (node_modules may be a symlink).
  const rel = path.relative(realpathSync(root), realpathSync(entry));
  const main = Object.keys(outputs).find((k) => outputs[k]!.entryPoint === rel);
  if (!main) throw new Error(`no output for ${rel}`);
  const init = new Set<string>();
  const queue = [main];
  while (queue.length) {
    const k = queue.pop()!;
    if (init.has(k)) continue;
    init.add(k);
    for (const i of outputs[k]!.imports) if (i.kind === "import-statement" && outputs[i.path]) queue.push(i.path);
  }
  const code = Object.keys(outputs).filter((k) => !k.endsWith(".map"));
  return {
    entry: path.join(root, main),
    init: [...init].map((k) => path.join(root, k)),
    initBytes: [...init].reduce((n, k) => n + outputs[k]!.bytes, 0),
    packageBytes: code.reduce((n, k) => n + outputs[k]!.bytes, 0),
    metafile: result.metafile!,
  };
}

const ENV = { PATH: process.env.PATH ?? "", AWS_REGION: "eu-west-1", AWS_LAMBDA_FUNCTION_NAME: "bench" };
/** Lambda's environment for the package whose entry is `file`: the package root is the entry's directory. */
const envFor = (file: string) => ({ ...ENV, LAMBDA_TASK_ROOT: path.dirname(file) });
const PROBE = `const t0 = performance.now(); const c0 = process.cpuUsage();
await import(process.argv[1]);
const c = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }));`;

function once(file: string): { wall: number; cpu: number } {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", PROBE, file], { cwd: work, env: envFor(file) });
  return JSON.parse(out.toString()) as { wall: number; cpu: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Alternate baseline and function runs so load on the machine affects both; medians of each. */
function measurePair(base: string, fn: string) {
  const b: { wall: number; cpu: number }[] = [];
  const f: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) {
      f.push(once(fn));
      b.push(once(base));
    } else {
      b.push(once(base));
      f.push(once(fn));
    }
  }
  return {
    base: { wall: median(b.map((x) => x.wall)), cpu: median(b.map((x) => x.cpu)) },
    fn: { wall: median(f.map((x) => x.wall)), cpu: median(f.map((x) => x.cpu)) },
  };
}

/** Every output file evaluates (chunks behind a dynamic import are not run by the timing). */
function loadsAll(built: esbuild.Metafile): string | undefined {
  const files = Object.keys(built.outputs)
    .filter((k) => /\.(mjs|cjs)$/.test(k))
    .map((k) => path.join(root, k));
  const script = `for (const f of ${JSON.stringify(files)}) await import(f);`;
  try {
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: work, env: envFor(files[0]!), stdio: "pipe" });
    return undefined;
  } catch (err) {
    return (
      String((err as { stderr?: Buffer }).stderr ?? err)
        .split("\n")
        .find((l) => /Error/.test(l)) ?? "failed"
    );
  }
}

function packageOf(input: string): string {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  return m ? m[m.length - 1]!.replace("node_modules/", "") : `(project) ${input.split("/")[0]}`;
}

function topPackages(built: Built, n = 8): string {
  const by = new Map<string, number>();
  for (const file of built.init) {
    const out = built.metafile.outputs[path.relative(root, file)]!;
    for (const [input, v] of Object.entries(out.inputs)) by.set(packageOf(input), (by.get(packageOf(input)) ?? 0) + v.bytesInOutput);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${Math.round(v / 1000)}k`)
    .join(", ");
}

const kb = (n: number) => `${(n / 1000).toFixed(0)}k`;
const present = FUNCTIONS.filter((f) => existsSync(path.join(root, handlerFile(f))));
const missing = FUNCTIONS.filter((f) => !present.includes(f)).map((f) => f.name);

if (profileFn) {
  const f = present.find((x) => x.name === profileFn);
  if (!f) throw new Error(`no function "${profileFn}"`);
  const dir = path.join(work, "profile");
  const built = await bundle(path.join(root, handlerFile(f)), dir, { ...NODEJS }, { sourcemap: "external" });
  execFileSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "100", "--input-type=module", "-e", PROBE, built.entry], {
    cwd: work,
    env: envFor(built.entry),
  });
  const profFile = readdirSync(dir).find((n) => n.endsWith(".cpuprofile"))!;
  const profile = JSON.parse(readFileSync(path.join(dir, profFile), "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const { SourceMap } = await import("node:module");
  const maps = new Map<string, { dir: string; map: InstanceType<typeof SourceMap> }>();
  for (const file of Object.keys(built.metafile.outputs).filter((k) => k.endsWith(".mjs"))) {
    const abs = path.join(root, file);
    const map = new SourceMap(JSON.parse(readFileSync(`${abs}.map`, "utf8")));
    maps.set(`file://${abs}`, { dir: path.dirname(abs), map });
  }
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const by = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const ms = (self.get(n.id) ?? 0) / 1000;
    if (!ms) continue;
    total += ms;
    const m = maps.get(n.callFrame.url);
    let key: string;
    if (m) {
      const e = m.map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber) as { originalSource?: string };
      // Sources are relative to the map; the module code outside any function maps to no source.
      key = e.originalSource ? packageOf(path.relative(root, path.resolve(m.dir, e.originalSource))) : "(bundle top level)";
    } else key = n.callFrame.url ? `node internals: ${n.callFrame.functionName || "(anonymous)"}` : n.callFrame.functionName;
    by.set(key, (by.get(key) ?? 0) + ms);
  }
  console.log(`CPU profile of the init of ${f.name} (${kb(built.initBytes)} init bytes): ${path.join(dir, profFile)}`);
  console.log(`  self time by package, ms (sampled total ${total.toFixed(0)} ms; compileSourceTextModule = V8 parsing the bundle)`);
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
  process.exit(0);
}

console.log(`cold start: median of ${runs} fresh Node ${process.version} processes per bundle, module load + init, baseline interleaved`);
if (missing.length) console.log(`missing handlers (not benched): ${missing.join(", ")}`);
for (const variant of VARIANTS) {
  const base = await bundle(baselineFile, path.join(work, variant.name, "baseline"), variant.props);
  console.log(`\n${variant.name}: ${JSON.stringify(variant.props)}`);
  console.log(
    `  ${"function".padEnd(9)} ${"init bytes".padStart(10)} ${"package".padStart(9)} ${"wall ms".padStart(8)} ${"ratio".padStart(6)} ${"cpu ms".padStart(7)} ${"ratio".padStart(6)}  baseline wall/cpu ms`,
  );
  console.log(`  ${"baseline".padEnd(9)} ${String(base.initBytes).padStart(10)} ${String(base.packageBytes).padStart(9)}`);
  for (const f of present) {
    const built = await bundle(path.join(root, handlerFile(f)), path.join(work, variant.name, f.name), variant.props);
    const m = measurePair(base.entry, built.entry);
    const wall = m.fn.wall / m.base.wall;
    const cpu = m.fn.cpu / m.base.cpu;
    const flags = [
      built.initBytes > 1_000_000 ? "over 1 MB" : "",
      wall > 1.25 ? "over 1.25x" : "",
      variant.name === "chosen" ? (loadsAll(built.metafile) ?? "") : "",
    ]
      .filter(Boolean)
      .join(", ");
    console.log(
      `  ${f.name.padEnd(9)} ${String(built.initBytes).padStart(10)} ${String(built.packageBytes).padStart(9)} ${m.fn.wall.toFixed(1).padStart(8)} ${wall.toFixed(2).padStart(6)} ${m.fn.cpu.toFixed(1).padStart(7)} ${cpu.toFixed(2).padStart(6)}  ${m.base.wall.toFixed(0)}/${m.base.cpu.toFixed(0)}${flags ? `  (${flags})` : ""}`,
    );
    if (why) console.log(`            ${topPackages(built)}`);
  }
}
rmSync(work, { recursive: true, force: true });
