/**
 * The IAM policy the identity that runs `sst deploy` for a stage needs, from what that stage declares:
 * synthesizes the stage offline (scripts/sst-synth.ts; no AWS account needed) and renders stacks/deployer.ts.
 *
 *   npm run deployer-policy -- [--stage ci] [--account 123456789012] [--partition aws]
 *
 * Prints the policy JSON; attach it to the deploying role or user (or use it to review what a deploy may touch).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deployerPolicy } from "../stacks/deployer.ts";
import type { SynthResult } from "./sst-synth.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const stage = opt("--stage") ?? "ci";
const account = opt("--account") ?? "<account-id>";
const partition = opt("--partition") ?? "aws";

const root = process.cwd();
const dir = mkdtempSync(path.join(tmpdir(), "ops-autopilot-deployer-"));
try {
  const out = path.join(dir, `${stage}.json`);
  execFileSync(process.execPath, ["scripts/sst-install.ts"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  execFileSync(process.execPath, ["scripts/sst-synth.ts", "--stage", stage, "--out", out], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const synth = JSON.parse(readFileSync(out, "utf8")) as SynthResult;
  if (synth.errors.length) throw new Error(`synth of stage ${stage} failed: ${synth.errors.join("; ")}`);
  const policy = deployerPolicy(
    synth.resources.map((r) => r.type),
    { account, partition, prefix: `${String(synth.app.name)}-${stage}-` },
  );
  console.log(JSON.stringify(policy, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
