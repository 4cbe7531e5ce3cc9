import { describe, expect, it } from "vitest";
import { parseWeeklyReportEvent } from "../../../schemas/events-weekly-report.ts";

describe("weekly-report events", () => {
  it("a schedule reports the last complete week, for real", () => {
    expect(parseWeeklyReportEvent({ trigger: "schedule" })).toEqual({ trigger: "schedule", dryRun: false });
  });

  it("a manual event names the week and may be a dry run", () => {
    expect(parseWeeklyReportEvent({ trigger: "manual", week: "2020-W53", dryRun: true, note: "again" })).toEqual({
      trigger: "manual",
      week: "2020-W53",
      dryRun: true,
      note: "again",
    });
    expect(parseWeeklyReportEvent({ trigger: "manual" })).toEqual({ trigger: "manual", dryRun: false });
  });

  it.each([
    [{ trigger: "manual", week: "2025-41" }, "Invalid weekly-report manual event: week: expected an ISO week as yyyy-Www, e.g. 2026-W47"],
    [{ trigger: "manual", week: "2025-W53" }, "Invalid weekly-report manual event: week: not a week of that year (weeks run 01 to 52, or 53 in long years)"],
    [{ trigger: "manual", week: "2025-W00" }, "Invalid weekly-report manual event: week: not a week of that year (weeks run 01 to 52, or 53 in long years)"],
    [{ trigger: "manual", dryRun: "yes" }, "Invalid weekly-report manual event: dryRun: Invalid input: expected boolean, received string"],
    [{ trigger: "manual", dryrun: true }, 'Invalid weekly-report manual event: (root): Unrecognized key: "dryrun"'],
  ])("refuses %j naming the field", (event, message) => {
    expect(() => parseWeeklyReportEvent(event)).toThrow(message);
  });
});
