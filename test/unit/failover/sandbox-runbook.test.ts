import { afterEach, describe, expect, it } from "vitest";
import { runLagTooFarScenario, runRegionOutageScenario } from "../../../sandbox/failover-scenarios.ts";

describe("failover runbook on the sandbox (unmodified adapters)", () => {
  afterEach(() => undefined);

  it("region outage → ALARM → promote → DNS (after 2 throttles) → INSYNC → warm → healthy, with RTO/RPO", async () => {
    const warmed: string[] = [];
    const r = await runRegionOutageScenario({ warm: { warm: async (t) => (warmed.push(t), { ok: true, summary: "12/12 URLs warmed" }) } });

    expect(r.result).toBe("done");
    expect(r.timeline.map((e) => `${e.step}:${e.result}`)).toEqual([
      "alarm:ALARM",
      "pre-checks:passed",
      "promote:promotion requested",
      "wait-writable:writable",
      "dns-change:UPSERT accepted",
      "dns-insync:INSYNC",
      "warm:warmed",
      "verify-health:healthy",
    ]);
    expect(r.mutatingCalls.map((c) => `${c.command}${c.error ? `!${c.error}` : ""}`)).toEqual([
      "PromoteReadReplica",
      "ChangeResourceRecordSets!Throttling",
      "ChangeResourceRecordSets!Throttling",
      "ChangeResourceRecordSets",
    ]);
    // DNS only after the database became writable (promotion takes 5 simulated minutes).
    const writable = r.timeline.find((e) => e.step === "wait-writable")!.end!;
    expect(Date.parse(r.mutatingCalls[1]!.at)).toBeGreaterThanOrEqual(Date.parse(writable));
    expect(warmed).toEqual(["orders-dr"]);
    expect(r.rpoSeconds).toBe(3);
    expect(r.writableSeconds!).toBeGreaterThanOrEqual(300);
    expect(r.rtoSeconds!).toBeGreaterThan(r.dnsInsyncSeconds!);
    expect(r.rtoSeconds!).toBeLessThan(600);
    expect(r.messages[0]).toContain("Failover started: orders-db");
    expect(r.messages.at(-1)).toContain("Failover orders-db complete");
  });

  it("lag too far → refusal with the reason, no promotion, no DNS change", async () => {
    const r = await runLagTooFarScenario();
    expect(r.result).toBe("refused");
    expect(r.reason).toContain("replica lag 4 min > RPO 60 s");
    expect(r.mutatingCalls).toEqual([]);
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toContain("CRITICAL: failover orders-db refused");
  });
});
