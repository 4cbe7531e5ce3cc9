/// <reference path="./.sst/platform/config.d.ts" />

/**
 * ops-autopilot infrastructure. `run()` only wires the modules of stacks/ and returns outputs.
 * SST forbids top-level imports here: modules are imported inside app() and run().
 *
 * One app, two kinds of stage:
 * - `<stage>` (dev, prod…): the workload side (stacks/main.ts), deployed with a workload account's credentials;
 * - `<stage>-vault`: the vault side of `<stage>` (stacks/vault.ts), deployed with the backup account's credentials. It
 *   reads `<stage>`'s configuration (its `vault` section) and refuses any account but `vault.accountId`; a workload
 *   stage refuses the vault account (stacks/vault-definition.ts deployTargetProblem).
 */
const APP = "ops-autopilot";
const PRODUCTION_STAGES = ["prod", "production"];

export default $config({
  async app(input) {
    const { loadConfig } = await import("./stacks/config.ts");
    const { workloadStageOf } = await import("./stacks/vault-definition.ts");
    const stage = input.stage ?? "dev";
    const workload = workloadStageOf(stage);
    const config = loadConfig(APP, workload ?? stage);
    const production = PRODUCTION_STAGES.includes(workload ?? stage);
    if (workload) {
      if (!config.vault) throw new Error(`stage ${stage} is a vault stage, but the ${workload} configuration has no vault section`);
      // A vault is never emptied by `sst remove`: its keys decrypt every copy, its copies are the last ones.
      return { name: APP, home: "aws", removal: "retain", protect: production, providers: { aws: { region: config.primaryRegion as aws.Region } } };
    }
    return {
      name: APP,
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: config.primaryRegion as aws.Region } },
    };
  },
  async run() {
    const { loadConfig } = await import("./stacks/config.ts");
    const { deployTargetProblem, workloadStageOf } = await import("./stacks/vault-definition.ts");
    const workload = workloadStageOf($app.stage);
    const config = loadConfig($app.name, workload ?? $app.stage);
    if (workload || config.vault || config.fleet) {
      // Checked before anything is declared, so a wrong profile deploys nothing.
      const { accountId } = await aws.getCallerIdentity({});
      const { fleetDeployProblem } = await import("./schemas/config-fleet.ts");
      const problem = deployTargetProblem(config, $app.stage, accountId) ?? (workload ? undefined : fleetDeployProblem(config, accountId));
      if (problem) throw new Error(problem);
    }
    if (workload) {
      const { vault } = await import("./stacks/vault.ts");
      return vault($app.name, workload, PRODUCTION_STAGES.includes(workload));
    }
    const { main } = await import("./stacks/main.ts");
    return main($app.name, $app.stage, PRODUCTION_STAGES.includes($app.stage));
  },
});
