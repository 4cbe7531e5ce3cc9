import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { deployedFunctions, notifyLinkNames } from "../../stacks/functions.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { deployerPolicy, RESOURCE_ACTIONS } from "../../stacks/deployer.ts";
import type { Config } from "../../schemas/config.ts";
import { exampleConfig, iamContext } from "./builders.ts";
import { pagerTopicRegion } from "../../stacks/patterns.ts";
import { dashboardRegion } from "../../stacks/dashboard-body.ts";
import { inputs, ofType, runSynth } from "./synth-run.ts";

/**
 * Message destinations in the synth (stacks/notifications.ts): the pager topic in the failover control region (the
 * primary's when no failover is configured) inside the stage's prefix, one secret per channel, each linked only to the functions that send that kind, and sns:Publish on the topic only.
 */

let ci: SynthResult;
const config = exampleConfig();

beforeAll(() => {
  ci = runSynth("ci");
}, 240_000);

describe("notifications in the synth", () => {
  it("declares one pager topic, in the failover control region (where the dashboard is), named inside the stage's prefix", () => {
    expect(config.primaryRegion).toBe("eu-west-1");
    expect(ofType(ci, "aws:sns/topic:Topic").map((t) => [t.name, t.region, inputs(t).name])).toEqual([
      ["AlertsPagerTopic", "eu-central-1", "ops-autopilot-ci-alerts"],
    ]);
    expect(dashboardRegion(config)).toBe("eu-central-1");
  });

  it("puts the topic in the control region when failover is configured, else in the primary region", () => {
    expect(pagerTopicRegion(config)).toBe("eu-central-1");
    expect(pagerTopicRegion({ ...config, failover: { ...config.failover, groups: [] } })).toBe("eu-west-1");
  });

  it("links the cost channel to the cost function only, the topic and alerts channel to every function that posts, nothing to the others", () => {
    const linksOf = (id: string) => ci.builds.find((b) => b.functionID === id)!.links.filter((l) => l !== "Reports");
    expect(linksOf("Cost")).toEqual(["AlertsTopic", "SlackAlertsWebhookUrl", "SlackCostWebhookUrl", "SlackWebhookUrl"]);
    expect(linksOf("Watchdog")).toEqual(["AlertsTopic", "SlackAlertsWebhookUrl", "SlackWebhookUrl"]);
    expect(linksOf("Failover")).toEqual(["AlertsTopic", "SlackAlertsWebhookUrl", "SlackWebhookUrl"]);
    expect(linksOf("Probe")).toEqual([]);
    expect(linksOf("RestoreTestChecker-eu-central-1")).toEqual([]);
    const costLinked = ci.builds.filter((b) => b.links.includes("SlackCostWebhookUrl")).map((b) => b.functionID);
    expect(costLinked).toEqual(["Cost"]);
  });

  it("grants sns:Publish on the stage's topic only, to the functions that post, and none with the pager off", () => {
    const ctx = iamContext(config);
    for (const spec of deployedFunctions(config)) {
      const publish = permissionsFor(spec.name, ctx).filter((s) => s.actions.includes("sns:Publish"));
      expect(
        publish.map((s) => s.resources),
        spec.name,
      ).toEqual(spec.posts ? [[`arn:aws:sns:eu-central-1:${ctx.account}:ops-autopilot-${config.stage}-alerts`]] : []);
    }
    const off: Config = { ...config, notifications: { pager: { enabled: false }, runSummaries: { quiet: false } } };
    const offCtx = iamContext(off);
    for (const spec of deployedFunctions(off)) {
      expect(
        permissionsFor(spec.name, offCtx).filter((s) => s.actions.includes("sns:Publish")),
        spec.name,
      ).toEqual([]);
      expect(notifyLinkNames(spec, false)).not.toContain("AlertsTopic");
    }
  });

  it("lets the deployer manage topics inside the stage's prefix only", () => {
    expect(RESOURCE_ACTIONS["aws:sns/topic:Topic"]!.resources).toEqual(["arn:{partition}:sns:*:{account}:{prefix}*"]);
    const policy = deployerPolicy(
      ci.resources.map((r) => r.type),
      { account: "123456789012", partition: "aws", prefix: "ops-autopilot-ci-" },
    );
    expect(policy.Statement.find((s) => s.Sid === "Topics")).toMatchObject({ Resource: ["arn:aws:sns:*:123456789012:ops-autopilot-ci-*"] });
  });
});
