import { afterEach, describe, expect, it } from "vitest";
import { minimumWallTime, type CallSpec } from "../../sandbox/index.ts";
import { createFleetWorld, FLEET_PRIMARY, fleetInvoker, type FleetWorld } from "../../sandbox/scenarios/fleet-scenarios.ts";

/**
 * A fleet item against its account's token buckets at AWS's rates (sandbox/aws/rate-limits.ts): RDS draws on one bucket
 * for the whole API per account and region, 300 burst and 12 a second
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html), EC2's CreateSnapshot on its own, 100
 * and 5 a second (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). The buckets refill side by
 * side: a job that issues its RDS and EBS work in turn needs about the slower bucket's time; one that issues every RDS
 * snapshot first and then every EBS one needs the sum of both.
 */

let world: FleetWorld | undefined;
afterEach(() => world?.restore());

describe("a fleet backup item of 400 RDS instances and 150 EBS volumes in one account and region", () => {
  it("creates them in turn by kind, so both buckets drain at once: its wall time is within 1.2 × minimumWallTime", async () => {
    world = createFleetWorld({
      stage: "pace",
      accounts: [{ id: "111122223333", name: "payments" }],
      resources: { rdsInstances: 400, ebsVolumes: 150 },
      limits: { rdsManualSnapshotsPerRegion: 1000 },
    });
    const { invoke } = fleetInvoker(world);
    const item = world.items("backup").find((i) => i.region === FLEET_PRIMARY)!;
    const from = world.sb.calls.length;
    const started = world.clock.nowMs();
    const out = (await invoke("backup", { source: "fleet", target: item })) as { counts: { created: number } };
    const wallMs = world.clock.nowMs() - started;
    const calls = world.sb.calls.slice(from).filter((c) => c.account === "111122223333" && c.attempt === 1);
    const minimum = minimumWallTime(
      calls.map((c): CallSpec => ({ service: c.service, command: c.command, region: c.region, account: c.account!, input: c.input })),
    );
    expect(out.counts.created).toBe(550);
    // EBS: (150 - 100) / 5 = 10 s; RDS: 400 creates and 6 listing pages, (406 - 300) / 12 = 8.8 s.
    expect(minimum.ms).toBe(10_000);
    expect(minimum.bottleneck?.bucket).toBe("ec2:snapshots-volumes:CreateSnapshot");
    expect(wallMs).toBeLessThanOrEqual(1.2 * minimum.ms);
  }, 30_000);
});
