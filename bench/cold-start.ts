/**
 * Cold-start benchmark: bundle each handler the way SST does (scripts/sst-synth.ts sstBuildOptions,
 * the same esbuild options as SST's Go builder), then time module load + init (the `import()` of the
 * bundle, which is what Lambda's INIT phase runs) in fresh Node processes, against a baseline
 * handler importing one SDK client, bundled with the same settings in the same run.
 *
 *   node bench/cold-start.ts [--runs 7]
 *
 * Variants: the chosen settings (stacks/functions.ts NODEJS: ESM, minified, SDK bundled), the SDK
 * taken from the runtime (external; here loaded from node_modules as the runtime would from
 * /var/runtime), unminified, and CommonJS. Prints bytes, median init ms and the ratio to baseline.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { FUNCTIONS, handlerFile, NODEJS } from "../stacks/functions.ts";
import { sstBuildOptions } from "../scripts/sst-synth.ts";

const root = process.cwd();
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 7) || 7;
// Inside the project so a bundle with the SDK external resolves it from node_modules.
const work = path.join(root, "node_modules", ".cache", "ops-autopilot-cold-start");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

interface Variant {
  name: string;
  props: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { name: "chosen: esm+minify, SDK bundled", props: { ...NODEJS } },
  { name: "esm+minify, SDK from runtime", props: { ...NODEJS, esbuild: { external: ["@aws-sdk/*", "@smithy/*"] } } },
  { name: "esm, not minified, SDK bundled", props: { ...NODEJS, minify: false } },
  { name: "cjs+minify, SDK bundled", props: { ...NODEJS, format: "cjs" } },
];

const BASELINE = `import { S3Client, HeadBucketCommand } from "@aws-sdk/client-s3";
const client = new S3Client({ region: "eu-west-1" });
export const handler = async () => client.send(new HeadBucketCommand({ Bucket: "b" }));
`;
const baselineFile = path.join(work, "baseline-handler.ts");
writeFileSync(baselineFile, BASELINE);

async function bundle(entry: string, outName: string, props: Record<string, unknown>): Promise<string> {
  const ext = props.format === "cjs" ? ".cjs" : ".mjs";
  const outfile = path.join(work, outName + ext);
  await esbuild.build({ ...sstBuildOptions(entry, outfile, props), absWorkingDir: root });
  return outfile;
}

/** Median of `runs` fresh-process measurements of import() of the bundle, in ms. */
function measure(file: string): number {
  const probe = `const t0 = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t0));`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", probe], {
      cwd: work,
      env: { PATH: process.env.PATH ?? "", AWS_REGION: "eu-west-1", AWS_LAMBDA_FUNCTION_NAME: "bench" },
    });
    samples.push(Number(out.toString()));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const present = FUNCTIONS.filter((f) => existsSync(path.join(root, handlerFile(f))));
const missing = FUNCTIONS.filter((f) => !present.includes(f)).map((f) => f.name);

console.log(`cold start: median of ${runs} fresh Node ${process.version} processes, module load + init`);
if (missing.length) console.log(`missing handlers (not benched): ${missing.join(", ")}`);
for (const variant of VARIANTS) {
  const slug = variant.name.replace(/[^a-z0-9]+/gi, "-");
  const baseFile = await bundle(baselineFile, `baseline-${slug}`, variant.props);
  const baseMs = measure(baseFile);
  const baseBytes = statSync(baseFile).size;
  console.log(`\n${variant.name}`);
  console.log(`  ${"function".padEnd(10)} ${"bytes".padStart(10)} ${"init ms".padStart(8)} ${"ratio".padStart(6)}`);
  console.log(`  ${"baseline".padEnd(10)} ${String(baseBytes).padStart(10)} ${baseMs.toFixed(1).padStart(8)} ${"1.00".padStart(6)}`);
  for (const f of present) {
    const file = await bundle(path.join(root, handlerFile(f)), `${f.name}-${slug}`, variant.props);
    const ms = measure(file);
    const bytes = statSync(file).size;
    const flags = [bytes > 1_000_000 ? "over 1 MB" : "", ms / baseMs > 1.25 ? "over 1.25x" : ""].filter(Boolean).join(", ");
    console.log(
      `  ${f.name.padEnd(10)} ${String(bytes).padStart(10)} ${ms.toFixed(1).padStart(8)} ${(ms / baseMs).toFixed(2).padStart(6)}${flags ? `  (${flags})` : ""}`,
    );
  }
}
rmSync(work, { recursive: true, force: true });
