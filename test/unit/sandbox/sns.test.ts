/**
 * The sandbox's SNS (sandbox/aws/sns.ts): Publish to a created topic as
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html describes it: the topic is found in its own region only
 * (NotFoundException), a Message is required, a Subject is ASCII without line breaks, under 100 characters
 * (InvalidParameterException).
 */
import { InvalidParameterException, NotFoundException, PublishCommand, SNSClient, ThrottledException } from "@aws-sdk/client-sns";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/aws/index.ts";
import { publishToTopic, snsSubject } from "../../../adapters/sns.ts";
import { resetClients } from "../../../adapters/clients.ts";

const REGION = "eu-west-1";
let sb: Sandbox;
let arn: string;
const client = (region = REGION) => new SNSClient({ region, maxAttempts: 1 });

beforeEach(() => {
  sb = createSandbox({ clock: new FakeClock("2026-11-21T05:00:00Z"), regions: [REGION, "eu-central-1"], iam: false });
  resetClients();
  arn = sb.sns.createTopic(REGION, "ops-autopilot-test-alerts");
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("the sandbox's SNS Publish", () => {
  it("answers a throttled Publish with ThrottledException and HTTP 429, as API_Publish.html lists it", async () => {
    sb.inject({ service: "sns", command: "Publish", error: "throttling" });
    const err = await client()
      .send(new PublishCommand({ TopicArn: arn, Message: "x" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledException);
    expect(err).toMatchObject({ message: "Rate exceeded", $metadata: { httpStatusCode: 429 } });
  });

  it("keeps what a topic's subscribers would receive, and answers a MessageId", async () => {
    const out = await client().send(new PublishCommand({ TopicArn: arn, Subject: "CRITICAL: stale", Message: "db is stale" }));
    expect(out.MessageId).toBe("00000000-0000-4000-8000-000000000001");
    expect(sb.sns.published()).toEqual([{ topicArn: arn, subject: "CRITICAL: stale", message: "db is stale", at: new Date("2026-11-21T05:00:00Z") }]);
  });

  it("answers NotFoundException for a topic that does not exist or is in another region", async () => {
    const missing = await client()
      .send(new PublishCommand({ TopicArn: `${arn}-nope`, Message: "x" }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundException);
    expect((missing as Error).message).toBe("Topic does not exist");
    const elsewhere = await client("eu-central-1")
      .send(new PublishCommand({ TopicArn: arn, Message: "x" }))
      .catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(NotFoundException);
  });

  it.each([
    ["a line break", "CRITICAL\nstale"],
    ["a non-ASCII character", "🚨 CRITICAL"],
    ["100 characters", "x".repeat(100)],
  ])("refuses a Subject with %s (InvalidParameterException)", async (_what, Subject) => {
    const err = await client()
      .send(new PublishCommand({ TopicArn: arn, Subject, Message: "x" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect((err as Error).message).toBe("Invalid parameter: Subject");
  });
});

describe("adapters/sns.ts", () => {
  it("publishes a message's text with Slack links made plain and an ASCII subject the sandbox accepts", async () => {
    await publishToTopic({ arn, region: REGION }, { text: "🚨 CRITICAL: <https://console.aws.amazon.com/s3/x|run report> stale\nsecond line", blocks: [] });
    expect(sb.sns.published().map((p) => [p.subject, p.message])).toEqual([
      ["CRITICAL: run report stale", "🚨 CRITICAL: run report (https://console.aws.amazon.com/s3/x) stale\nsecond line"],
    ]);
  });

  it("cuts a long subject under SNS's 100 characters and never leaves it empty", () => {
    expect(snsSubject("a".repeat(150))).toBe(`${"a".repeat(96)}...`);
    expect(snsSubject("🚨")).toBe("ops-autopilot alert");
  });
});
