/// <reference path="../.sst/platform/config.d.ts" />
import { loadConfig } from "./config.ts";
import { storage } from "./storage.ts";
import { alarmsToSlack, deadLetterQueue, dlqMessagesAlarm, writeQueuePolicies } from "./ops.ts";
import { notifications } from "./notifications.ts";
import { capitalize, deployFunction } from "./lambda.ts";
import { scheduledFunction } from "./schedules.ts";
import { vaultDefinition, vaultFunctions, vaultNamePrefix, vaultReaderRoleName, type VaultDefinition } from "./vault-definition.ts";

/**
 * The vault side of the workload stage `stage`, deployed as the SST stage `<stage>-vault` into the backup account
 * (sst.config.ts checks the account before this runs). Everything it declares is stacks/vault-definition.ts's data:
 * per vault region the customer managed key (key policy naming the vault account alone) under its alias and, with
 * `vault.lock.backupVault`, the AWS Backup vault with its Vault Lock; the vault functions with their derived roles on
 * their schedules, their Reports bucket, DLQ and alarms; the read-only reader role the workload's watchdog and prune
 * assume.
 */
export function vault(app: string, stage: string, production: boolean) {
  const config = loadConfig(app, stage);
  // The shape (regions, functions) is static; the policies wait for the partition, resolved at deploy.
  const shape = vaultDefinition(config, "aws");

  const providers = new Map<string, aws.Provider>();
  const providerFor = (region: string): aws.Provider => {
    let p = providers.get(region);
    if (!p) {
      p = new aws.Provider(`Aws${region.replace(/-/g, "")}`, { region: region as aws.Region });
      providers.set(region, p);
    }
    return p;
  };
  // The primary region is the default provider (sst.config.ts), as in the workload stage.
  const optsFor = (region: string): { provider?: aws.Provider } => (region === config.primaryRegion ? {} : { provider: providerFor(region) });

  const identity = $resolve([aws.getCallerIdentityOutput({}).accountId, aws.getPartitionOutput({}).partition]).apply(([account, partition]) => ({
    account,
    partition,
  }));
  const def = identity.apply(({ partition }): VaultDefinition => vaultDefinition(config, partition));

  const keys = new Map<string, aws.kms.Key>();
  shape.keys.forEach((k, i) => {
    const suffix = k.region.replace(/-/g, "");
    const key = new aws.kms.Key(
      `VaultKey${suffix}`,
      {
        description: k.description,
        enableKeyRotation: true,
        deletionWindowInDays: k.deletionWindowInDays,
        policy: def.apply((d) => JSON.stringify(d.keys[i]!.policy)),
      },
      optsFor(k.region),
    );
    new aws.kms.Alias(`VaultKeyAlias${suffix}`, { name: k.alias, targetKeyId: key.keyId }, optsFor(k.region));
    keys.set(k.region, key);
  });

  const backupVaults = shape.backupVaults.map((b) => {
    const suffix = b.region.replace(/-/g, "");
    const backupVault = new aws.backup.Vault(
      `BackupVault${suffix}`,
      { name: b.name, kmsKeyArn: keys.get(b.region)!.arn, forceDestroy: false },
      optsFor(b.region),
    );
    new aws.backup.VaultLockConfiguration(
      `BackupVaultLock${suffix}`,
      {
        backupVaultName: backupVault.name,
        minRetentionDays: b.lock.minRetentionDays,
        maxRetentionDays: b.lock.maxRetentionDays,
        changeableForDays: b.lock.changeableForDays,
      },
      optsFor(b.region),
    );
    return { region: b.region, name: backupVault.name };
  });

  const reader = new aws.iam.Role("VaultReaderRole", {
    name: vaultReaderRoleName(config),
    description: `ops-autopilot ${config.app}:${config.stage}: read-only view of the vault's copies for the workload's watchdog and prune`,
    assumeRolePolicy: def.apply((d) => JSON.stringify(d.reader.trustPolicy)),
    inlinePolicies: def.apply((d) => [{ name: "ops-autopilot-vault-reader", policy: JSON.stringify(d.reader.policy) }]),
  });

  const secret = new sst.Secret("SlackWebhookUrl");
  const notify = notifications(config, secret, providerFor);
  const { bucket, link: reports } = storage(production);
  const dlq = deadLetterQueue("DeadLetters");
  // Named inside the stage's prefix (vaultNamePrefix), the scope of the vault stage's deployer (stacks/vault-deployer.ts):
  // the alarm `<app>-<stage>-vault-dead-letters-messages` (still under the Slack route's `<app>-<stage>-` prefix).
  dlqMessagesAlarm(config, "VaultDeadLetters", dlq);
  alarmsToSlack("AlarmsToSlack", config, secret, dlq, undefined, vaultNamePrefix(config));

  const deps = { config, identity, reports, secret, notify, dlq };
  const functions = Object.fromEntries(
    vaultFunctions().map((spec) => {
      const fn = spec.trigger.kind === "schedule" ? scheduledFunction(spec.name, config, deps).fn : deployFunction(spec, deps);
      return [spec.name, { name: fn.name, region: shape.homeRegion, component: capitalize(spec.name) }];
    }),
  );
  writeQueuePolicies();

  return {
    app,
    stage: shape.stage,
    vaultAccount: shape.account,
    reportsBucket: bucket.name,
    deadLetterQueue: dlq.url,
    readerRole: reader.arn,
    keys: Object.fromEntries([...keys].map(([region, key]) => [region, key.arn])),
    backupVaults: Object.fromEntries(backupVaults.map((b) => [b.region, b.name])),
    functions,
  };
}
