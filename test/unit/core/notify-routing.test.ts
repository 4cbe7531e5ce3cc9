import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alertSeverity, DESTINATIONS, isQuiet, routeMessage, type MessageKind, type RoutingConfig, type Severity } from "../../../core/notify-routing.ts";

const defaults: RoutingConfig = { pager: { enabled: true }, runSummaries: { quiet: false } };
const quiet: RoutingConfig = { pager: { enabled: true }, runSummaries: { quiet: true } };
const noPager: RoutingConfig = { pager: { enabled: false }, runSummaries: { quiet: false } };

describe("routeMessage", () => {
  it.each([
    // kind, severity, config, destinations
    ["alert", "critical", defaults, ["pager", "alerts-slack"]],
    ["alert", "warning", defaults, ["alerts-slack"]],
    ["alert", "info", defaults, ["alerts-slack"]],
    ["alert", "critical", noPager, ["alerts-slack"]],
    ["run-failed", "critical", defaults, ["pager", "alerts-slack"]],
    ["cost-digest", "info", defaults, ["cost-slack"]],
    ["cost-digest", "critical", defaults, ["pager", "alerts-slack", "cost-slack"]],
    ["run-summary", "info", defaults, ["runs-slack"]],
  ] as const)("%s %s goes to the destinations of the table", (kind, severity, config, expected) => {
    expect(routeMessage({ kind, severity }, config).map((r) => r.destination)).toEqual(expected);
  });

  it("gives the reason of each destination", () => {
    expect(routeMessage({ kind: "alert", severity: "critical" }, defaults)).toEqual([
      { destination: "pager", reason: "critical alert pages" },
      { destination: "alerts-slack", reason: "critical alert goes to the alerts channel" },
    ]);
    expect(routeMessage({ kind: "alert", severity: "info" }, defaults)).toEqual([
      { destination: "alerts-slack", reason: "info alert goes to the alerts channel" },
    ]);
    expect(routeMessage({ kind: "cost-digest", severity: "info" }, defaults)).toEqual([
      { destination: "cost-slack", reason: "cost digests go to the cost channel" },
    ]);
    expect(routeMessage({ kind: "run-summary", severity: "info", changed: false }, defaults)).toEqual([
      { destination: "runs-slack", reason: "run summaries go to the runs channel" },
    ]);
  });

  it("drops a quiet run summary of a run that changed nothing and failed nothing, and keeps the others", () => {
    expect(routeMessage({ kind: "run-summary", severity: "info", changed: false, failed: false }, quiet)).toEqual([]);
    expect(routeMessage({ kind: "run-summary", severity: "info", changed: true, failed: false }, quiet)).toEqual([
      { destination: "runs-slack", reason: "run summary of a run that changed something (quiet)" },
    ]);
    expect(routeMessage({ kind: "run-summary", severity: "warning", changed: false, failed: true }, quiet)).toEqual([
      { destination: "runs-slack", reason: "run summary of a run with failures (quiet)" },
    ]);
    // Unknown counts as changed: a function that does not say is never silenced.
    expect(routeMessage({ kind: "run-summary", severity: "info" }, quiet).map((r) => r.destination)).toEqual(["runs-slack"]);
  });

  it("maps the lifecycle's messages to severities: only a new incident pages", () => {
    expect((["started", "reminder", "resolved"] as const).map(alertSeverity)).toEqual(["critical", "warning", "info"]);
  });

  const kinds: MessageKind[] = ["alert", "run-failed", "run-summary", "cost-digest"];
  const severities: Severity[] = ["critical", "warning", "info"];
  const input = fc.record({
    kind: fc.constantFrom(...kinds),
    severity: fc.constantFrom(...severities),
    changed: fc.option(fc.boolean(), { nil: undefined }),
    failed: fc.option(fc.boolean(), { nil: undefined }),
  });
  const config = fc.record({ pager: fc.record({ enabled: fc.boolean() }), runSummaries: fc.record({ quiet: fc.boolean() }) });

  it("pages exactly the criticals when the pager is on, never when it is off", () => {
    fc.assert(
      fc.property(input, config, (i, c) => {
        const to = routeMessage(i, c).map((r) => r.destination);
        expect(to.includes("pager")).toBe(c.pager.enabled && i.severity === "critical");
      }),
    );
  });

  it("sends every critical to the alerts channel, lists each destination once in a fixed order, and drops only quiet summaries", () => {
    fc.assert(
      fc.property(input, config, (i, c) => {
        const routes = routeMessage(i, c);
        const to = routes.map((r) => r.destination);
        if (i.severity === "critical") expect(to).toContain("alerts-slack");
        expect(to).toEqual(DESTINATIONS.filter((d) => to.includes(d)));
        expect(to.length === 0).toBe(isQuiet(i, c));
        for (const r of routes) expect(r.reason.length).toBeGreaterThan(0);
        // Summaries never page or reach the alerts channel unless critical; cost digests always reach the cost channel.
        if (i.kind === "cost-digest") expect(to).toContain("cost-slack");
        if (i.kind !== "cost-digest") expect(to).not.toContain("cost-slack");
      }),
    );
  });
});
