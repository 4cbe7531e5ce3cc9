import { describe, expect, it } from "vitest";
import { parseFleetItemEvent, parseFleetSummaryEvent } from "../../../schemas/events-fleet.ts";

const target = {
  account: "111122223333",
  accountName: "payments",
  region: "eu-west-1",
  roleArn: "arn:aws:iam::111122223333:role/ops-autopilot-prod-member-backup",
};
const summary = {
  source: "fleet-summary",
  job: "backup",
  execution: "arn:aws:states:eu-west-1:999988887777:execution:ops-autopilot-prod-fleet-backup:run-1",
  targets: [
    { account: "111122223333", accountName: "payments", region: "eu-west-1" },
    { account: "444455556666", accountName: "search", region: "eu-west-1" },
  ],
  results: [
    { account: "111122223333", accountName: "payments", region: "eu-west-1", ok: true, counts: { created: 3 }, reportKey: "reports/backup/x.json" },
    {
      account: "444455556666",
      accountName: "search",
      region: "eu-west-1",
      ok: false,
      error: "AccessDenied",
      cause: "not authorized to perform: sts:AssumeRole",
    },
  ],
};

describe("fleet item event", () => {
  it("parses a target: account, its name, region and member role ARN", () => {
    expect(parseFleetItemEvent({ source: "fleet", target })).toEqual({ source: "fleet", target });
  });

  it("refuses an external id in the event: it would stay in the execution history, the function reads it from its config", () => {
    expect(() => parseFleetItemEvent({ source: "fleet", target: { ...target, externalId: "oa-prod-payments-7f3c" } })).toThrow(
      'Invalid fleet item event: target: Unrecognized key: "externalId"',
    );
  });

  it("names each bad field", () => {
    expect(() => parseFleetItemEvent({ source: "fleet", target: { ...target, account: "1234", region: "Europe" } })).toThrow(
      "Invalid fleet item event: target.account: expected a 12-digit AWS account id; target.region: expected an AWS region such as eu-west-1",
    );
    expect(() => parseFleetItemEvent({ source: "fleet", target: { ...target, roleArn: "ops-autopilot-prod-member-backup" } })).toThrow(
      "Invalid fleet item event: target.roleArn: expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    );
    expect(() => parseFleetItemEvent({ source: "schedule", target })).toThrow('Invalid fleet item event: source: Invalid input: expected "fleet"');
  });

  it("refuses a role of another account than the target's", () => {
    expect(() => parseFleetItemEvent({ source: "fleet", target: { ...target, roleArn: "arn:aws:iam::444455556666:role/x" } })).toThrow(
      "Invalid fleet item event: target.roleArn: must be a role of the target account",
    );
  });
});

describe("fleet summary event", () => {
  it("parses every item's result, ok or failed, counts defaulting to none", () => {
    const parsed = parseFleetSummaryEvent(summary);
    expect(parsed.results).toEqual(summary.results);
    const bare = parseFleetSummaryEvent({ ...summary, results: [{ account: "111122223333", accountName: "payments", region: "eu-west-1", ok: true }] });
    expect(bare.results[0]).toEqual({ account: "111122223333", accountName: "payments", region: "eu-west-1", ok: true, counts: {} });
  });

  it("names the bad field of a result, and refuses an unknown job or key", () => {
    expect(() => parseFleetSummaryEvent({ ...summary, results: [{ ...summary.results[0], counts: { created: -1 } }] })).toThrow(
      "Invalid fleet summary event: results[0].counts.created: Too small: expected number to be >=0",
    );
    expect(() => parseFleetSummaryEvent({ ...summary, results: [{ ...summary.results[1], error: undefined }] })).toThrow(
      "Invalid fleet summary event: results[0].error: Invalid input: expected string, received undefined",
    );
    expect(() => parseFleetSummaryEvent({ ...summary, job: "cost" })).toThrow(
      'Invalid fleet summary event: job: Invalid option: expected one of "backup"|"copy"|"prune"|"watchdog"',
    );
    expect(() => parseFleetSummaryEvent({ ...summary, extra: 1 })).toThrow('Invalid fleet summary event: (root): Unrecognized key: "extra"');
  });
});
