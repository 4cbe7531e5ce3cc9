import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_ASSUMPTIONS, runCost } from "../core/run-cost.ts";
import type { Config } from "../schemas/config.ts";
import { loadConfig } from "../stacks/config.ts";
import { deployerPolicy } from "../stacks/deployer.ts";
import { deployedFunctions, FUNCTIONS } from "../stacks/functions.ts";
import { renderCost, runCostInput } from "./cost-to-run.ts";
import { synthInChild } from "./sst-synth.ts";

export const README = "README.md";

/** The example configuration as the `ci` stage deploys it. */
export function exampleConfig(root: string): Config {
  return loadConfig("ops-autopilot", "ci", root, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
}

/** Where each function runs, what starts it, its size: one row per function of stacks/functions.ts. */
export function functionsBlock(config: Config): string {
  const deployed = new Set(deployedFunctions(config).map((f) => f.name));
  const trigger = (f: (typeof FUNCTIONS)[number]): string => {
    switch (f.trigger.kind) {
      case "schedule": {
        const expression = config.schedules[f.trigger.schedule];
        return expression
          ? `schedule \`${f.trigger.schedule}\` (example: \`${expression}\`)`
          : `by hand or runbook (\`schedules.${f.trigger.schedule}\` unset)`;
      }
      case "alarm-rule":
        return "a group's alarm → ALARM (EventBridge rule → Step Functions)";
      case "restore-test-schedule":
        return "each policy's `restoreTest.schedule` (EventBridge Scheduler → Step Functions)";
      case "fleet-fanout":
        return f.name === "fleet-targets"
          ? "each fleet job's state machine, before its Distributed Map (`fleet.organizationalUnit` set)"
          : "each fleet job's state machine, after its Distributed Map (`fleet` set)";
      default:
        return "every probe period, while some failover group has a `trigger`";
    }
  };
  const rows = FUNCTIONS.map(
    (f) =>
      `| \`${f.name}\` | ${f.stage === "vault" ? "backup account (stage `<stage>-vault`), `primaryRegion`" : f.name === "restore-test" ? "DR: the first of `drRegions`" : f.region === "dr" ? "DR: the replicas' region (`failover.groups[].replica.region`)" : "primary (`primaryRegion`)"} | ${trigger(f)} | ${f.memoryMb} MB, ${f.timeoutSeconds} s | ${deployed.has(f.name) ? "yes" : "no"} |`,
  );
  return ["| Function | Region | Started by | Memory, timeout | In the example |", "|---|---|---|---|---|", ...rows].join("\n");
}

/** What the example costs per month (npm run cost-to-run -- --markdown). */
export function costBlock(config: Config): string {
  return renderCost(runCost(runCostInput(config), DEFAULT_ASSUMPTIONS), DEFAULT_ASSUMPTIONS, "config/example.json", true);
}

/** The deploying identity's statements for the ci stage's synth, as a table (the JSON: npm run deployer-policy). */
export function deployerBlock(types: readonly string[]): string {
  const policy = deployerPolicy(types, { account: "<account>", partition: "aws", prefix: "<app>-<stage>-" });
  const rows = policy.Statement.map((s) => `| ${s.Sid} | ${s.Action.map((a) => `\`${a}\``).join(", ")} | ${s.Resource.map((r) => `\`${r}\``).join(", ")} |`);
  return ["| Statement | Actions | Resources |", "|---|---|---|", ...rows].join("\n");
}

/** `text` with the block `name` replaced by `body`; throws when the README has no such markers. */
export function replaceBlock(text: string, name: string, body: string): string {
  const start = `<!-- readme:${name}:start -->`;
  const end = `<!-- readme:${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} block`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

/** The block `name` as the README has it now. */
export function readBlock(text: string, name: string): string {
  const start = `<!-- readme:${name}:start -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(`<!-- readme:${name}:end -->`);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} block`);
  return text.slice(i + start.length, j).trim();
}

function synthTypes(root: string): string[] {
  const synth = synthInChild(root, "ci", { ...process.env, OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
  if (synth.errors.length) throw new Error(`synth of stage ci failed: ${synth.errors.join("; ")}`);
  return synth.resources.map((r) => r.type);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
  const file = path.join(root, README);
  const config = exampleConfig(root);
  const blocks: Record<string, string> = { functions: functionsBlock(config), cost: costBlock(config), deployer: deployerBlock(synthTypes(root)) };
  const text = readFileSync(file, "utf8");
  if (process.argv.includes("--check")) {
    const stale = Object.entries(blocks).filter(([name, body]) => readBlock(text, name) !== body.trim());
    for (const [name] of stale) console.error(`README.md block "${name}" differs from the code: run npm run readme`);
    process.exit(stale.length ? 1 : 0);
  }
  writeFileSync(
    file,
    Object.entries(blocks).reduce((t, [name, body]) => replaceBlock(t, name, body), text),
  );
  console.log(`README.md: ${Object.keys(blocks).join(", ")} written`);
}
