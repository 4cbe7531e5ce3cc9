import { deployerPolicy } from "../stacks/deployer.ts";
import { synthInChild } from "./sst-synth.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const stage = opt("--stage") ?? "ci";
const account = opt("--account") ?? "<account-id>";
const partition = opt("--partition") ?? "aws";

const synth = synthInChild(process.cwd(), stage);
if (synth.errors.length) throw new Error(`synth of stage ${stage} failed: ${synth.errors.join("; ")}`);
const policy = deployerPolicy(
  synth.resources.map((r) => r.type),
  { account, partition, prefix: `${String(synth.app.name)}-${stage}-` },
);
console.log(JSON.stringify(policy, null, 2));
