import { deployerPolicy } from "../stacks/deployer.ts";
import { loadConfig } from "../stacks/config.ts";
import { splitPolicy, vaultDeployerPolicy, vaultDeployerTarget } from "../stacks/vault-deployer.ts";
import { vaultStageName, workloadStageOf } from "../stacks/vault-definition.ts";
import { synthInChild } from "./sst-synth.ts";

/**
 * `npm run deployer-policy -- --stage <stage> [--account <id>] [--partition aws]`: the workload stage's deployer policy.
 * `--stage <stage>-vault` (or `--stage <stage> --vault`): the vault stage's, for the backup account (stacks/vault-deployer.ts);
 * its account is the configuration's vault.accountId, the one the vault stage deploys into. It prints a JSON array of
 * policy documents, each within IAM's managed policy size: attach them all.
 */
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const given = opt("--stage") ?? "ci";
const stage = args.includes("--vault") && workloadStageOf(given) === undefined ? vaultStageName(given) : given;
const partition = opt("--partition") ?? "aws";
const workload = workloadStageOf(stage);

if (workload === undefined) {
  const account = opt("--account") ?? "<account-id>";
  const synth = synthInChild(process.cwd(), stage);
  if (synth.errors.length) throw new Error(`synth of stage ${stage} failed: ${synth.errors.join("; ")}`);
  const policy = deployerPolicy(
    synth.resources.map((r) => r.type),
    { account, partition, prefix: `${String(synth.app.name)}-${stage}-` },
  );
  console.log(JSON.stringify(policy, null, 2));
} else {
  // The vault stage synthesizes only as its own account (sst.config.ts), so the account comes from the configuration.
  const vaultAccount = loadConfig("ops-autopilot", workload).vault?.accountId;
  if (!vaultAccount) throw new Error(`stage ${stage} is a vault stage, but the ${workload} configuration has no vault section`);
  const account = opt("--account") ?? vaultAccount;
  if (account !== vaultAccount) throw new Error(`--account ${account}: the vault stage ${stage} deploys into vault.accountId ${vaultAccount} only`);
  const synth = synthInChild(process.cwd(), stage, { ...process.env, OPS_AUTOPILOT_SYNTH_ACCOUNT: vaultAccount });
  if (synth.errors.length) throw new Error(`synth of stage ${stage} failed: ${synth.errors.join("; ")}`);
  const policy = vaultDeployerPolicy(
    synth.resources.map((r) => r.type),
    vaultDeployerTarget(loadConfig(String(synth.app.name), workload), partition),
  );
  console.log(JSON.stringify(splitPolicy(policy), null, 2));
}
