import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { ROOT } from "./builders.ts";

/** The workload account (the offline synth's default account) and the backup account of the vault tests. */
export const WORKLOAD = "123456789012";
export const VAULT = "222233334444";

/**
 * config/example.json (stage `ci`) with a vault section: the backup account, the workload stage's account, two vault
 * regions (the primary by alias name, the DR region by alias ARN) and, unless `backupVault` is false, an AWS Backup
 * vault with Vault Lock (its defaults: 35 / 730 days, changeable for 3 days).
 */
export function vaultConfigInput(options: { backupVault?: boolean } = {}): Record<string, unknown> {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown>;
  raw.vault = {
    accountId: VAULT,
    centralAccountId: WORKLOAD,
    regions: [
      { region: "eu-west-1", kmsKeyAlias: "alias/ops-autopilot-vault" },
      { region: "eu-central-1", kmsKeyAlias: `arn:aws:kms:eu-central-1:${VAULT}:alias/ops-autopilot-vault-fra` },
    ],
    ...(options.backupVault === false ? {} : { lock: { backupVault: {} } }),
  };
  return raw;
}

export function vaultConfig(options: { backupVault?: boolean } = {}): Config {
  return parseConfig({ ...vaultConfigInput(options), app: "ops-autopilot", stage: "ci" });
}

/** The vault configuration written to a temporary file, for the synth (OPS_AUTOPILOT_CONFIG_FILE). */
export function vaultConfigFile(options: { backupVault?: boolean } = {}): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-vault-")), "ci.json");
  writeFileSync(file, JSON.stringify(vaultConfigInput(options), null, 2));
  return file;
}
