import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EVENT_PARSERS } from "../../../schemas/events.ts";
import { parseBackupEvent, parsePruneEvent, parseWatchdogEvent } from "../../../schemas/events-backup.ts";
import { ValidationError } from "../../../schemas/validate.ts";

const dir = join(import.meta.dirname, "../../../events");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe("events/ samples", () => {
  it("has a sample for every trigger and mode of the backup jobs", () => {
    for (const name of ["backup-scheduled", "backup-manual-resource", "copy-scheduled", "prune-scheduled", "prune-dry-run", "watchdog-scheduled"]) {
      expect(files).toContain(`${name}.json`);
    }
  });

  it.each(files)("%s parses with its function's schema", (file) => {
    const fn = file.split("-")[0]!;
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
    const classic = JSON.parse(readFileSync(join(dir, "watchdog-scheduled.json"), "utf8"));
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
