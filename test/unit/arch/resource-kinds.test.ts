import { describe, expect, expectTypeOf, it, vi } from "vitest";
import type * as z from "zod";
import { RESOURCE_KINDS, type ResourceKind } from "../../../core/resource-kinds.ts";
import { RESOURCE_TYPES, type ResourceType } from "../../../core/resource-types.ts";
import type { Resource, Snapshot } from "../../../core/types.ts";
import { ADAPTER_CALLS, SNAPSHOT_CALLS, snapshotCalls, type AdapterCall, type SnapshotOperation } from "../../../adapters/calls.ts";
import { SNAPSHOT_ADAPTERS, type SnapshotAdapter } from "../../../adapters/snapshots.ts";
import { ResourceKindSchema } from "../../../schemas/config.ts";
import type { ResourceRefSchema } from "../../../schemas/events-common.ts";

/**
 * The resource kinds are one tuple (core/resource-kinds.ts) and every per-kind table is a Record over it: a kind
 * added to the tuple fails to compile until each table has it, and each kind's snapshot adapter makes exactly
 * the adapter calls its IAM is derived from.
 */

const { made, recording } = vi.hoisted(() => {
  const made: string[] = [];
  /** Every function an adapter module exports, replaced by one that records `<module>.<name>` and answers empty. */
  const recording = async (module: string, original: () => Promise<Record<string, unknown>>) => {
    const real = await original();
    return Object.fromEntries(
      Object.entries(real).map(([name, v]) => [
        name,
        typeof v === "function"
          ? async () => {
              made.push(`${module}.${name}`);
              return name.startsWith("list") ? (name === "listAmiSnapshotIds" ? new Set() : []) : undefined;
            }
          : v,
      ]),
    );
  };
  return { made, recording };
});
vi.mock("../../../adapters/rds.ts", (original) => recording("rds", original as () => Promise<Record<string, unknown>>));
vi.mock("../../../adapters/ec2.ts", (original) => recording("ec2", original as () => Promise<Record<string, unknown>>));

/** The same three kinds plus one more, as if "dynamodb-table" had been appended to RESOURCE_KINDS. */
type KindPlusOne = ResourceKind | "dynamodb-table";

describe("resource kinds as data", () => {
  it("every per-kind table is keyed by exactly RESOURCE_KINDS (types)", () => {
    expectTypeOf<ResourceKind>().toEqualTypeOf<(typeof RESOURCE_KINDS)[number]>();
    expectTypeOf(RESOURCE_TYPES).toEqualTypeOf<Record<ResourceKind, ResourceType>>();
    expectTypeOf(SNAPSHOT_ADAPTERS).toEqualTypeOf<Record<ResourceKind, SnapshotAdapter>>();
    expectTypeOf(SNAPSHOT_CALLS).toEqualTypeOf<Record<ResourceKind, Record<SnapshotOperation, readonly AdapterCall[]>>>();
    expectTypeOf<z.infer<typeof ResourceKindSchema>>().toEqualTypeOf<ResourceKind>();
    expectTypeOf<z.infer<typeof ResourceRefSchema>["kind"]>().toEqualTypeOf<ResourceKind>();
  });

  it("a kind added to RESOURCE_KINDS does not compile until every table has it", () => {
    // Each assignment stands for the table once RESOURCE_KINDS has one more kind: tsc refuses it (the missing key).
    // @ts-expect-error RESOURCE_TYPES has no "dynamodb-table"
    const types: Record<KindPlusOne, ResourceType> = RESOURCE_TYPES;
    // @ts-expect-error SNAPSHOT_ADAPTERS has no "dynamodb-table"
    const adapters: Record<KindPlusOne, SnapshotAdapter> = SNAPSHOT_ADAPTERS;
    // @ts-expect-error SNAPSHOT_CALLS has no "dynamodb-table"
    const calls: Record<KindPlusOne, Record<SnapshotOperation, readonly AdapterCall[]>> = SNAPSHOT_CALLS;
    // A table literal that leaves a kind out is refused as well.
    // @ts-expect-error property "ebs-volume" is missing
    const partial: Record<ResourceKind, number> = { "rds-instance": 255, "aurora-cluster": 63 };
    expect([types, adapters, calls, partial].every(Boolean)).toBe(true);
  });

  it("every table has every kind and no other (values)", () => {
    expect(Object.keys(RESOURCE_TYPES)).toEqual([...RESOURCE_KINDS]);
    expect(Object.keys(SNAPSHOT_ADAPTERS)).toEqual([...RESOURCE_KINDS]);
    expect(Object.keys(SNAPSHOT_CALLS)).toEqual([...RESOURCE_KINDS]);
    expect(ResourceKindSchema.options).toEqual([...RESOURCE_KINDS]);
  });

  const resource: Resource = { kind: "ebs-volume", id: "vol-1", region: "eu-west-1", status: "available", tags: {} };
  const snapshot: Snapshot = {
    kind: "ebs-volume",
    id: "snap-1",
    region: "eu-west-1",
    resourceId: "vol-1",
    status: "available",
    createdAt: new Date(0),
    tags: {},
    automated: false,
  };
  const run: Record<SnapshotOperation, (a: SnapshotAdapter, kind: ResourceKind) => Promise<unknown>> = {
    listResources: (a) => a.listResources("eu-west-1", { tagKeys: ["ops-autopilot:backup"], ids: ["x-1"] }),
    listSnapshots: (a) => a.listSnapshots("eu-west-1", "ops-autopilot:prod", { amis: false }),
    create: (a, kind) => a.create({ ...resource, kind }, "oa-ops-autopilot-prod-x-1-20261121", {}),
    copy: (a, kind) => a.copy({ source: { ...snapshot, kind }, sourceRegion: "eu-west-1", targetRegion: "eu-central-1", name: "n", kmsKeyId: "k", tags: {} }),
    delete: (a, kind) => a.delete({ ...snapshot, kind }),
  };
  const cases = RESOURCE_KINDS.flatMap((kind) => (Object.keys(run) as SnapshotOperation[]).map((op) => [kind, op] as const));

  it.each(cases)("%s %s makes exactly the adapter calls SNAPSHOT_CALLS declares", async (kind, op) => {
    made.length = 0;
    await run[op](SNAPSHOT_ADAPTERS[kind], kind);
    expect([...new Set(made)]).toEqual(SNAPSHOT_CALLS[kind][op]);
    expect(SNAPSHOT_ADAPTERS[kind].calls[op]).toBe(SNAPSHOT_CALLS[kind][op]);
  });

  it.each(RESOURCE_KINDS)("%s listSnapshots with { amis: true } adds the AMI listing for EBS alone (prune's)", async (kind) => {
    made.length = 0;
    await SNAPSHOT_ADAPTERS[kind].listSnapshots("eu-west-1", "ops-autopilot:prod", { amis: true });
    expect([...new Set(made)].sort()).toEqual([...SNAPSHOT_CALLS[kind].listSnapshots, ...(kind === "ebs-volume" ? ["ec2.listAmiSnapshotIds"] : [])].sort());
  });

  it("the inventory and table entries of adapters/calls.ts cover every kind's operations", () => {
    expect(ADAPTER_CALLS["inventory.listCandidateResources"]).toEqual(snapshotCalls("listResources"));
    expect(ADAPTER_CALLS["inventory.listRegionSnapshots"]).toEqual(snapshotCalls("listSnapshots"));
    const all = [...(["listResources", "listSnapshots", "create", "copy", "delete"] as const).flatMap(snapshotCalls), "ec2.listAmiSnapshotIds"];
    expect([...ADAPTER_CALLS["snapshots.SNAPSHOT_ADAPTERS"]].sort()).toEqual([...new Set(all)].sort());
  });

  it("only kinds whose ids AWS assigns claim names before create and copy", () => {
    for (const kind of RESOURCE_KINDS) expect(SNAPSHOT_ADAPTERS[kind].claimsNames).toBe(RESOURCE_TYPES[kind].naming === "name-tag-and-description");
  });
});
