/// <reference path="./.sst/platform/config.d.ts" />

/**
 * ops-autopilot infrastructure. `run()` only wires the modules of stacks/ and returns outputs.
 * SST forbids top-level imports here: modules are imported inside app() and run().
 */
const APP = "ops-autopilot";
const PRODUCTION_STAGES = ["prod", "production"];

export default $config({
  async app(input) {
    const { loadConfig } = await import("./stacks/config.ts");
    const stage = input.stage ?? "dev";
    const config = loadConfig(APP, stage);
    const production = PRODUCTION_STAGES.includes(stage);
    return {
      name: APP,
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: config.primaryRegion as aws.Region } },
    };
  },
  async run() {
    const { main } = await import("./stacks/main.ts");
    return main($app.name, $app.stage, PRODUCTION_STAGES.includes($app.stage));
  },
});
