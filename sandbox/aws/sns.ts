/**
 * SNS: topics the test creates and the messages published to them with Publish
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), so a function that pages is tested with
 * `sns:Publish` authorized on the topic's ARN.
 *
 * Rules kept from AWS:
 * - a topic's ARN is `arn:aws:sns:<region>:<account>:<name>`; a topic is found in its own region only, else
 *   NotFoundException ("Topic does not exist");
 * - `Message` is required and at most 256 KB (262,144 bytes), else InvalidParameterException;
 * - `Subject` is ASCII text starting with a letter, number or punctuation, without line breaks or control characters,
 *   under 100 characters, else InvalidParameterException ("Invalid parameter: Subject").
 * Subscriptions are not simulated: `published()` is what every subscriber would receive.
 */
import { InternalErrorException, InvalidParameterException, NotFoundException, PublishCommand, SNSClient, ThrottledException } from "@aws-sdk/client-sns";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import type { FaultKind } from "./errors.ts";

export interface SnsSim extends ServiceSim {
  /** Create the topic `name` in `region` (idempotent, as CreateTopic is); returns its ARN. */
  createTopic(region: string, name: string): string;
  /** Every message published, in order. */
  published(): Array<{ topicArn: string; subject?: string; message: string; at: Date }>;
}

type Ctor = new (opts: { message: string; $metadata: Record<string, unknown> }) => Error;

function snsError(cls: Ctor, status: number, message: string): Error {
  return new cls({
    message,
    $metadata: { httpStatusCode: status, requestId: "sandbox-sns", extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 },
  });
}

const MAX_MESSAGE_BYTES = 262_144;
const VALID_SUBJECT = /^[A-Za-z0-9!-/:-@[-`{-~][\x20-\x7E]{0,98}$/;

export function createSnsSim(core: SandboxCore): SnsSim {
  const topics = new Set<string>();
  const published: ReturnType<SnsSim["published"]> = [];
  let ids = 0;

  const publish: CommandHandler = async (input: { TopicArn?: string; Message?: string; Subject?: string }, ctx: CommandContext) => {
    const arn = String(input.TopicArn ?? "");
    const region = arn.split(":")[3];
    if (!topics.has(arn) || region !== ctx.region) throw snsError(NotFoundException as unknown as Ctor, 404, "Topic does not exist");
    if (input.Message === undefined || input.Message === "")
      throw snsError(InvalidParameterException as unknown as Ctor, 400, "Invalid parameter: Empty message");
    if (new TextEncoder().encode(input.Message).length > MAX_MESSAGE_BYTES) {
      throw snsError(InvalidParameterException as unknown as Ctor, 400, "Invalid parameter: Message too long");
    }
    if (input.Subject !== undefined && !VALID_SUBJECT.test(input.Subject))
      throw snsError(InvalidParameterException as unknown as Ctor, 400, "Invalid parameter: Subject");
    published.push({ topicArn: arn, ...(input.Subject !== undefined ? { subject: input.Subject } : {}), message: input.Message, at: new Date(ctx.nowMs) });
    ids += 1;
    return { MessageId: `00000000-0000-4000-8000-${String(ids).padStart(12, "0")}` };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [[PublishCommand, publish]];

  function faultFor(kind: FaultKind): Error {
    switch (kind) {
      case "throttling":
        // The SDK's model of ThrottledException: awsQuery code `Throttled`, HTTP 429
        // (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Errors: ThrottledException, HTTP Status Code: 429).
        return snsError(ThrottledException as unknown as Ctor, 429, "Rate exceeded");
      case "notFound":
        return snsError(NotFoundException as unknown as Ctor, 404, "Topic does not exist");
      default:
        return snsError(InternalErrorException as unknown as Ctor, 500, "Internal Error");
    }
  }

  return {
    service: "sns",
    clientClass: SNSClient,
    commands,
    faultFor,
    createTopic(region, name) {
      const arn = `arn:aws:sns:${region}:${core.accountId}:${name}`;
      topics.add(arn);
      return arn;
    },
    published: () => published.map((p) => ({ ...p })),
  };
}
