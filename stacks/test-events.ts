/// <reference path="../.sst/platform/config.d.ts" />
import type { FunctionName } from "./functions.ts";
import { readSampleFiles, registryMode, sampleEventsByFunction, TEST_EVENT_REGISTRY, testEventDocument, testEventSchemaName } from "./test-event-documents.ts";

/** Where a deployed function lives: its name (known at deploy) and region. */
export interface DeployedFunctionRef {
  name: $util.Output<string>;
  region: string;
}

/** One schema per function with samples, in the function's region (the failover function's is the DR region). */
export function shareableTestEvents(
  functions: Partial<Record<FunctionName, DeployedFunctionRef>>,
  primaryRegion: string,
  providerFor: (region: string) => aws.Provider,
  root: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): aws.schemas.Schema[] {
  const mode = registryMode(env);
  if (mode === "off") return [];
  const samples = sampleEventsByFunction(readSampleFiles(root));
  const registries = new Map<string, aws.schemas.Registry>();
  const schemas: aws.schemas.Schema[] = [];
  for (const [fn, ref] of Object.entries(functions) as [FunctionName, DeployedFunctionRef][]) {
    const events = samples[fn];
    if (!events.length) continue;
    const opts = ref.region === primaryRegion ? {} : { provider: providerFor(ref.region) };
    let registry = registries.get(ref.region);
    if (mode === "create" && !registry) {
      registry = new aws.schemas.Registry(
        `TestEventRegistry${ref.region.replace(/-/g, "")}`,
        { name: TEST_EVENT_REGISTRY, description: "Shareable test events of the Lambda console" },
        { ...opts, retainOnDelete: true },
      );
      registries.set(ref.region, registry);
    }
    schemas.push(
      new aws.schemas.Schema(
        `${fn.charAt(0).toUpperCase()}${fn.slice(1)}TestEvents`,
        {
          name: ref.name.apply(testEventSchemaName),
          registryName: registry ? registry.name : TEST_EVENT_REGISTRY,
          type: "OpenApi3",
          description: `ops-autopilot sample events (events/${fn}-*.json)`,
          content: JSON.stringify(testEventDocument(events)),
        },
        opts,
      ),
    );
  }
  return schemas;
}
