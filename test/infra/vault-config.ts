import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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

/**
 * The vault configuration written to a file for the synth (OPS_AUTOPILOT_CONFIG_FILE). The path is the same for the same
 * options in every test file, so the synth cache (test/infra/synth-run.ts, keyed by the path) serves one synth to all;
 * written to a temporary name and renamed, as another worker may be writing the same content.
 */
export function vaultConfigFile(options: { backupVault?: boolean } = {}): string {
  const dir = path.join(ROOT, "out", "test-config");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, options.backupVault === false ? "vault-ci-no-backup-vault.json" : "vault-ci.json");
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(vaultConfigInput(options), null, 2));
  renameSync(tmp, file);
  return file;
}
