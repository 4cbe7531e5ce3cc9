/**
 * `npm run plan -- --stage <s> [--profile <p>] [--only backup,copy,prune,watchdog,failover,cost]`: what each
 * function would do on the account now, read-only (runbooks/plan/plan.ts). Prints the decisions and the Slack
 * messages, writes the reports to out/plan/<stage>/.
 *
 * Read-only is enforced by the clients, not trusted: the first thing this script does is turn on the read-only
 * middleware of adapters/clients.ts, which refuses every command off its allow-list of reads before it is sent.
 * Credentials: the SDK's default chain (`--profile` sets AWS_PROFILE). Endpoint: AWS_ENDPOINT_URL is read by the
 * SDK itself. Exit code: 0 planned, 1 a part could not be planned, 2 usage or configuration error.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setReadOnly } from "../adapters/clients.ts";
import type { BucketRef } from "../adapters/s3.ts";
import { type PlanOptions, type PlanPart, parseOnly, runPlan } from "../runbooks/plan/plan.ts";
import { renderPlan, writePlan } from "../runbooks/plan/render.ts";
import { loadConfig } from "../stacks/config.ts";
import { controlRegion } from "../stacks/patterns.ts";

setReadOnly(true);

export const USAGE = [
  "usage: npm run plan -- --stage <stage> [--profile <profile>] [--only backup,copy,prune,watchdog,failover,cost]",
  "                       [--state-bucket <name>[@region]] [--failover-bucket <name>[@region]] [--out <dir>]",
  "",
  "  Read-only: runs each function's deciding path against the account (AWS_ENDPOINT_URL honoured) under",
  "  config/<stage>.json, prints the decisions and the Slack messages, writes the reports to out/plan/<stage>/.",
  "  --state-bucket     the Reports bucket (SST output reportsBucket): prune's caps then count today's deletes",
  "  --failover-bucket  the failover state bucket (control region): the latches are then read",
].join("\n");

export class PlanUsageError extends Error {
  override name = "PlanUsageError";
}

/** `--help`: the usage text on stdout, exit code 0. */
class HelpRequested extends Error {}

export interface PlanArgs {
  stage: string;
  profile?: string;
  only: PlanPart[];
  stateBucket?: string;
  failoverBucket?: string;
  out?: string;
}

const VALUED = ["--stage", "--profile", "--only", "--state-bucket", "--failover-bucket", "--out"] as const;

export function parseArgs(argv: readonly string[]): PlanArgs {
  const got: Partial<Record<(typeof VALUED)[number], string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") throw new HelpRequested(USAGE);
    if (!(VALUED as readonly string[]).includes(arg)) throw new PlanUsageError(`unknown argument ${arg}\n${USAGE}`);
    const value = argv[++i];
    if (!value || value.startsWith("--")) throw new PlanUsageError(`${arg} needs a value\n${USAGE}`);
    got[arg as (typeof VALUED)[number]] = value;
  }
  if (!got["--stage"]) throw new PlanUsageError(`--stage is required\n${USAGE}`);
  let only: PlanPart[];
  try {
    only = parseOnly(got["--only"]);
  } catch (err) {
    throw new PlanUsageError((err as Error).message);
  }
  return {
    stage: got["--stage"],
    only,
    ...(got["--profile"] ? { profile: got["--profile"] } : {}),
    ...(got["--state-bucket"] ? { stateBucket: got["--state-bucket"] } : {}),
    ...(got["--failover-bucket"] ? { failoverBucket: got["--failover-bucket"] } : {}),
    ...(got["--out"] ? { out: got["--out"] } : {}),
  };
}

/** `name@region` or `name` (then `region`). */
export function bucketRef(value: string, region: string): BucketRef {
  const at = value.lastIndexOf("@");
  return at > 0 ? { bucket: value.slice(0, at), region: value.slice(at + 1) } : { bucket: value, region };
}

/** The SST app name, from sst.config.ts (the managed-by tag `<app>:<stage>` our snapshots carry). */
export function appName(root: string): string {
  const text = readFileSync(path.join(root, "sst.config.ts"), "utf8");
  const m = /const APP = "([^"]+)"/.exec(text);
  if (!m) throw new Error('sst.config.ts: no `const APP = "..."` found');
  return m[1]!;
}

export interface PlanCliDeps {
  root: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Test seams. */
  now?: () => Date;
  probe?: PlanOptions["probe"];
}

/** The whole command; returns the exit code. */
export async function runPlanCli(argv: readonly string[], deps: PlanCliDeps): Promise<number> {
  setReadOnly(true);
  let args: PlanArgs;
  let options: PlanOptions;
  try {
    args = parseArgs(argv);
    // Read by the SDK's default credential chain when the clients are made (after this).
    if (args.profile) deps.env.AWS_PROFILE = args.profile;
    const config = loadConfig(appName(deps.root), args.stage, deps.root, deps.env);
    const control = controlRegion(config) ?? config.primaryRegion;
    options = {
      config,
      only: args.only,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.probe ? { probe: deps.probe } : {}),
      ...(args.stateBucket ? { stateBucket: bucketRef(args.stateBucket, config.primaryRegion) } : {}),
      ...(args.failoverBucket ? { failoverBucket: bucketRef(args.failoverBucket, control) } : {}),
    };
  } catch (err) {
    if (err instanceof HelpRequested) {
      deps.out(USAGE);
      return 0;
    }
    deps.err(err instanceof PlanUsageError ? err.message : `plan: ${(err as Error).message}`);
    return 2;
  }
  const outDir = path.resolve(deps.root, args.out ?? path.join("out", "plan", args.stage));
  const endpoint = deps.env.AWS_ENDPOINT_URL;
  deps.err(
    `planning ${options.config.app} ${args.stage} (${args.only.join(", ")}), read-only${endpoint ? `, endpoint ${endpoint}` : ""}${args.profile ? `, profile ${args.profile}` : ""}`,
  );
  const plan = await runPlan(options);
  const text = renderPlan(plan, path.relative(deps.root, outDir) || ".");
  writePlan(plan, outDir, text);
  deps.out(text);
  return plan.sections.some((s) => s.error) ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
  try {
    process.exitCode = await runPlanCli(process.argv.slice(2), { root, env: process.env, out: (t) => console.log(t), err: (t) => console.error(t) });
  } catch (err) {
    console.error(`plan failed: ${(err as Error).name}: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
