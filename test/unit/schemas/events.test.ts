import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EVENT_PARSERS } from "../../../schemas/events.ts";
import { parseBackupEvent, parsePruneEvent, parseWatchdogEvent } from "../../../schemas/events-backup.ts";
import { parseFailoverEvent } from "../../../schemas/events-failover.ts";
import { ValidationError } from "../../../schemas/validate.ts";

const dir = join(import.meta.dirname, "../../../events");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
/**
 * A classic EventBridge rule's "Scheduled Event" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html).
 * The deployment schedules with EventBridge Scheduler (events/*-scheduled.json), but a team's own rule may still send this.
 */
const CLASSIC_SCHEDULED_EVENT = {
  version: "0",
  id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: "2026-11-21T03:00:00Z",
  region: "eu-west-1",
  resources: ["arn:aws:events:eu-west-1:123456789012:rule/ops-autopilot-watchdog"],
  detail: {},
};

describe("events/ samples", () => {
  it("has a sample for every trigger and mode of the backup jobs", () => {
    for (const name of ["backup-scheduled", "backup-manual-resource", "copy-scheduled", "prune-scheduled", "prune-dry-run", "watchdog-scheduled"]) {
      expect(files).toContain(`${name}.json`);
    }
  });

  it.each(files)("%s parses with its function's schema", (file) => {
    // The longest function name the file starts with (`restore-test-manual.json` is restore-test's).
    const fn =
      Object.keys(EVENT_PARSERS)
        .filter((name) => file.startsWith(`${name}-`))
        .sort((a, b) => b.length - a.length)[0] ?? file.split("-")[0]!;
    const parse = EVENT_PARSERS[fn];
    expect(parse, `no parser registered for function "${fn}" (file ${file})`).toBeDefined();
    const raw = JSON.parse(readFileSync(join(dir, file), "utf8"));
    expect(() => parse!(raw)).not.toThrow();
  });
});

describe("backup job events", () => {
  it("a manual prune is a dry-run unless it says dryRun: false", () => {
    expect(parsePruneEvent({ trigger: "manual" }).dryRun).toBe(true);
    expect(parsePruneEvent({ trigger: "manual", dryRun: false }).dryRun).toBe(false);
  });

  it("a scheduled prune acts for real, in both envelope shapes", () => {
    expect(parsePruneEvent({ trigger: "schedule" })).toEqual({ trigger: "schedule", dryRun: false });
    const classic = CLASSIC_SCHEDULED_EVENT;
    expect(parsePruneEvent(classic)).toEqual({ trigger: "schedule", dryRun: false });
  });

  it("a manual backup for one resource keeps the resource", () => {
    expect(parseBackupEvent({ trigger: "manual", resource: { kind: "aurora-cluster", id: "orders" } })).toMatchObject({
      trigger: "manual",
      dryRun: false,
      resource: { kind: "aurora-cluster", id: "orders" },
    });
  });

  it.each([
    [{ trigger: "manual", dryrun: false }, /Unrecognized key: "dryrun"/],
    [{ trigger: "manual", resource: { kind: "dynamodb", id: "x" } }, /resource\.kind/],
    [{ trigger: "manual", resource: { kind: "ebs-volume" } }, /resource\.id/],
    [{ trigger: "manual", dryRun: "no" }, /dryRun/],
    [{ trigger: "sometimes" }, /trigger/],
    [{ "detail-type": "Scheduled Event", source: "aws.ec2" }, /source/],
  ])("rejects %j naming the field", (raw, pattern) => {
    let error: unknown;
    try {
      parsePruneEvent(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(pattern);
  });

  it("the watchdog takes no resource filter", () => {
    expect(() => parseWatchdogEvent({ trigger: "manual", resource: { kind: "ebs-volume", id: "vol-1" } })).toThrow(/resource/);
  });
});

/** The message of the ValidationError `parse(raw)` throws (fails the test when it does not throw one). */
function rejection(parse: (raw: unknown) => unknown, raw: unknown): string {
  try {
    parse(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

const classicScheduled: Record<string, unknown> = CLASSIC_SCHEDULED_EVENT;
const SCHEDULED_FUNCTIONS = ["backup", "copy", "prune", "watchdog", "cost", "warm"] as const;

describe("a known field on a shape that cannot honour it is refused by name, never ignored", () => {
  it.each(SCHEDULED_FUNCTIONS)('%s: dryRun on a classic EventBridge "Scheduled Event" (which would run for real)', (fn) => {
    expect(rejection(EVENT_PARSERS[fn]!, { ...classicScheduled, dryRun: true })).toBe(
      `Invalid ${fn} scheduled event: dryRun: not accepted on a scheduled event: a schedule always runs for real on everything; invoke the function with {"trigger":"manual", ...} to use it`,
    );
  });

  it.each(SCHEDULED_FUNCTIONS)('%s: dryRun on the EventBridge Scheduler input {"trigger":"schedule"}', (fn) => {
    expect(rejection(EVENT_PARSERS[fn]!, { trigger: "schedule", dryRun: true })).toMatch(
      new RegExp(`^Invalid ${fn} scheduled event: dryRun: not accepted on a scheduled event: `),
    );
  });

  it.each([
    ["detail.dryRun", { ...classicScheduled, detail: { dryRun: true } }, /^Invalid prune scheduled event: detail\.dryRun: not accepted on a scheduled event/],
    [
      "resource",
      { ...classicScheduled, resource: { kind: "ebs-volume", id: "vol-1" } },
      /^Invalid prune scheduled event: resource: not accepted on a scheduled event/,
    ],
    ["policy", { ...classicScheduled, policy: "db" }, /^Invalid prune scheduled event: policy: not accepted on a scheduled event/],
    ["note", { trigger: "schedule", note: "why" }, /^Invalid prune scheduled event: note: not accepted on a scheduled event/],
    ["an unknown detail field", { ...classicScheduled, detail: { anything: 1 } }, /^Invalid prune scheduled event: detail: Unrecognized key: "anything"/],
    ["an unknown top-level field", { ...classicScheduled, extra: 1 }, /^Invalid prune scheduled event: \(root\): Unrecognized key: "extra"/],
  ])("prune refuses %s on a scheduled event", (_what, raw, message) => {
    expect(rejection(parsePruneEvent, raw)).toMatch(message);
  });

  it("a replayed scheduled event (EventBridge adds replay-name) still runs", () => {
    expect(parsePruneEvent({ ...classicScheduled, "replay-name": "archive-replay" })).toEqual({ trigger: "schedule", dryRun: false });
  });

  it.each([
    [{ date: "2025-03-09" }, "date"],
    [{ targets: ["www"] }, "targets"],
  ])("cost and warm refuse %j on a scheduled event", (extra, field) => {
    const parse = field === "date" ? EVENT_PARSERS.cost! : EVENT_PARSERS.warm!;
    expect(rejection(parse, { ...classicScheduled, ...extra })).toMatch(new RegExp(`scheduled event: ${field}: not accepted on a scheduled event`));
  });

  it.each([
    [
      { trigger: "manual", dryRun: true },
      "dryRun: not accepted by the watchdog: it changes nothing (it only checks backups and alerts), so there is nothing to dry-run",
    ],
    [{ trigger: "manual", dryRun: false }, "dryRun: not accepted by the watchdog"],
    [{ trigger: "manual", resource: { kind: "ebs-volume", id: "vol-1" } }, "resource: not accepted by the watchdog: it checks every selected resource"],
    [{ trigger: "manual", policy: "db" }, "policy: not accepted by the watchdog: it checks every selected resource"],
  ])("a manual watchdog event refuses %j", (raw, message) => {
    expect(rejection(parseWatchdogEvent, raw)).toContain(`Invalid watchdog manual event: ${message}`);
  });
});

const alarm = JSON.parse(readFileSync(join(dir, "failover-alarm.json"), "utf8")) as {
  detail: { state: Record<string, unknown> } & Record<string, unknown>;
} & Record<string, unknown>;
const withDetail = (detail: Record<string, unknown>) => ({ ...alarm, detail: { ...alarm.detail, ...detail } });

describe("failover events", () => {
  it.each([
    [
      "a state without value",
      withDetail({ state: { ...alarm.detail.state, value: undefined } }),
      'Invalid failover event: detail.state.value: Invalid option: expected one of "OK"|"ALARM"|"INSUFFICIENT_DATA"',
    ],
    ["an unknown state value", withDetail({ state: { ...alarm.detail.state, value: "MAYBE" } }), "Invalid failover event: detail.state.value: Invalid option"],
    [
      "a bad state timestamp",
      withDetail({ state: { ...alarm.detail.state, timestamp: "yesterday" } }),
      "Invalid failover event: detail.state.timestamp: expected a timestamp",
    ],
    ["no alarm name", withDetail({ alarmName: "" }), "Invalid failover event: detail.alarmName: "],
    ["no detail", { ...alarm, detail: undefined }, "Invalid failover event: detail: Invalid input: expected object, received undefined"],
    ["another source", { ...alarm, source: "aws.rds" }, 'Invalid failover event: source: Invalid input: expected "aws.cloudwatch"'],
    [
      "dryRun on the envelope",
      { ...alarm, dryRun: true },
      'Invalid failover event: dryRun: not accepted on a CloudWatch alarm event: an alarm runs the group as configured (execution); invoke {"mode":"plan","group":...} to see what it would do',
    ],
    ["dryRun in the detail", withDetail({ dryRun: true }), "Invalid failover event: detail.dryRun: not accepted on a CloudWatch alarm event"],
    ["force in the detail", withDetail({ force: true }), "Invalid failover event: detail.force: not accepted on a CloudWatch alarm event"],
    ["an unknown envelope field", { ...alarm, urgent: true }, 'Invalid failover event: (root): Unrecognized key: "urgent"'],
  ])("an alarm event with %s names the field", (_what, raw, message) => {
    expect(rejection(parseFailoverEvent, raw)).toContain(message);
  });

  it("keeps the fields AWS adds to an alarm's detail and state (alarmTags, actionsSuppressedBy, ...)", () => {
    const parsed = parseFailoverEvent(withDetail({ alarmTags: { team: "db" }, state: { ...alarm.detail.state, actionsSuppressedBy: "None" } }));
    expect(parsed.event).toMatchObject({ detail: { alarmName: "orders-db-primary-down", state: { value: "ALARM" } } });
  });

  it.each([
    [
      "a group that is no group name",
      { mode: "execute", group: "Orders DB", reason: "outage" },
      "Invalid failover manual event: group: expected a failover group name (lowercase letters, digits and hyphens, starting with a letter)",
    ],
    ["an empty group", { mode: "execute", group: "", reason: "outage" }, "Invalid failover manual event: group: name the failover group"],
    ["a group that is a number", { mode: "plan", group: 5 }, "Invalid failover manual event: group: Invalid input: expected string, received number"],
    [
      "dryRun: true on execute",
      { mode: "execute", group: "orders-db", reason: "outage", dryRun: true },
      'Invalid failover manual event: dryRun: an execute always acts; send {"mode":"plan"} to see what it would do',
    ],
    [
      "dryRun on plan",
      { mode: "plan", group: "orders-db", dryRun: true },
      'Invalid failover manual event: dryRun: not accepted on mode "plan": it never changes anything',
    ],
    [
      "dryRun on reset",
      { mode: "reset", group: "orders-db", reason: "done", dryRun: true },
      'Invalid failover manual event: dryRun: not accepted on mode "reset"',
    ],
    ["dryRun on status", { mode: "status", dryRun: true }, 'Invalid failover manual event: dryRun: not accepted on mode "status": it never changes anything'],
    [
      "no mode",
      { group: "orders-db", reason: "outage" },
      'Invalid failover event: mode: expected one of "plan"|"execute"|"status"|"failback-plan"|"reset"|"advance", or a CloudWatch alarm state-change event',
    ],
    ["not an object", "execute", "Invalid failover event: (root): expected an object: a manual event with a mode, or a CloudWatch alarm state-change event"],
    ["no event in the state machine's wrapper", { source: "sfn" }, "Invalid failover event: event: "],
    [
      "an extra field on the state machine's wrapper",
      { source: "sfn", event: { mode: "advance", group: "orders-db", runId: "r1" }, dryRun: true },
      "Invalid failover event: dryRun: not accepted on the state machine's wrapper",
    ],
    ["a wrapped event without runId", { source: "sfn", event: { mode: "advance", group: "orders-db" } }, "Invalid failover manual event: event.runId: "],
  ])("a manual event with %s names the field", (_what, raw, message) => {
    expect(rejection(parseFailoverEvent, raw)).toContain(message);
  });
});
