/**
 * The key-policy statements each KMS key of a stage's configuration needs (stacks/key-policy.ts): the source
 * keys of encrypted databases and volumes (`backup.sourceKmsKeyIds`) and each DR region's key
 * (`drRegions[].kmsKeyId`). Needed only for keys whose policy does not delegate to IAM, and, with a `vault` section,
 * for every key: the vault account's copy role must be named in the key's own policy to copy what we share with it
 * (a key policy is the only way another account gets a key, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
 *
 *   npm run key-policy -- [--stage ci] [--account 123456789012] [--partition aws]
 */
import { loadConfig } from "../stacks/config.ts";
import { keyPolicyNeeds } from "../stacks/key-policy.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const stage = opt("--stage") ?? "ci";
const account = opt("--account") ?? "<account-id>";
const partition = opt("--partition") ?? "aws";

const config = loadConfig("ops-autopilot", stage);
for (const need of keyPolicyNeeds(config, account, partition)) {
  console.log(`# ${need.field}: ${need.key} (${need.region})`);
  console.log(JSON.stringify(need.statements, null, 2));
}
