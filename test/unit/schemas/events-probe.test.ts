import { describe, expect, it } from "vitest";
import { parseProbeEvent } from "../../../schemas/events-probe.ts";

const message = (raw: unknown): string => {
  try {
    parseProbeEvent(raw);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("probe events", () => {
  it("a schedule delivery probes every triggered group for real", () => {
    expect(parseProbeEvent({ trigger: "schedule" })).toEqual({ trigger: "schedule", dryRun: false });
  });

  it("a manual event may limit the run to one group and dry-run it", () => {
    expect(parseProbeEvent({ trigger: "manual", dryRun: true, group: "orders-db" })).toEqual({ trigger: "manual", dryRun: true, group: "orders-db" });
    expect(parseProbeEvent({ trigger: "manual" })).toEqual({ trigger: "manual", dryRun: false });
  });

  it("refuses dryRun or group on a schedule delivery, and unknown fields, naming them", () => {
    expect(message({ trigger: "schedule", dryRun: true })).toMatch(/^Invalid probe scheduled event: dryRun: not accepted on a scheduled event/);
    expect(message({ trigger: "schedule", group: "orders-db" })).toMatch(/^Invalid probe scheduled event: group: not accepted on a scheduled event/);
    expect(message({ trigger: "manual", groups: ["orders-db"] })).toMatch(/^Invalid probe manual event: .*groups/);
  });
});
