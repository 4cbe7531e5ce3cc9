import { afterEach, describe, expect, it } from "vitest";
import { linkedTopic, topicRegion } from "../../../runbooks/lib/resources.ts";
import { parseConfig } from "../../../schemas/config.ts";

/** The pager topic's region is the topic's own (the failover control region), read from its ARN, not the primary region. */

describe("linkedTopic", () => {
  const raw = (globalThis as { __SST_RESOURCE_RAW__?: Record<string, unknown> }).__SST_RESOURCE_RAW__;
  afterEach(() => {
    delete raw!.AlertsTopic;
  });
  const config = parseConfig({ stage: "test", primaryRegion: "eu-west-1" });

  it("returns the topic in the region its ARN names, so primary-region functions publish cross-region", () => {
    Object.assign(raw!, { AlertsTopic: { arn: "arn:aws:sns:eu-central-1:123456789012:ops-autopilot-test-alerts" } });
    expect(linkedTopic(config)).toEqual({ arn: "arn:aws:sns:eu-central-1:123456789012:ops-autopilot-test-alerts", region: "eu-central-1" });
  });

  it("is undefined when not linked, and refuses a link that is not a topic ARN", () => {
    expect(linkedTopic(config)).toBeUndefined();
    expect(() => topicRegion("ops-autopilot-test-alerts")).toThrow("AlertsTopic link is not an SNS topic ARN: ops-autopilot-test-alerts");
  });
});
