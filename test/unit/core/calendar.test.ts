import { describe, expect, it } from "vitest";
import { addDays, dayOfMonth, daysBetween, isDay, utcDay, weekday, weekdayName } from "../../../core/calendar.ts";

describe("calendar", () => {
  it.each([
    ["2026-11-21T00:00:00Z", "2026-11-21"],
    ["2026-11-21T23:59:59.999Z", "2026-11-21"],
    ["2026-11-21T23:30:00-02:00", "2026-11-22"],
    ["2026-03-29T01:30:00+01:00", "2026-03-29"],
  ])("utcDay(%s) is the UTC calendar day %s", (iso, day) => {
    expect(utcDay(new Date(iso))).toBe(day);
  });

  it.each([
    ["2026-11-01", "2026-11-08", 7],
    ["2026-11-08", "2026-11-01", -7],
    ["2026-02-28", "2026-03-01", 1],
    ["2028-02-28", "2028-03-01", 2],
    ["2026-03-28", "2026-03-30", 2], // across the EU DST switch: still whole days
    ["2025-12-31", "2026-12-31", 365],
  ])("daysBetween(%s, %s) = %i", (a, b, n) => {
    expect(daysBetween(a, b)).toBe(n);
  });

  it.each([
    ["2026-12-31", 1, "2027-01-01"],
    ["2026-03-01", -1, "2026-02-28"],
    ["2028-03-01", -1, "2028-02-29"],
    ["2026-11-21", 0, "2026-11-21"],
  ])("addDays(%s, %i) = %s", (d, n, out) => {
    expect(addDays(d, n)).toBe(out);
  });

  it("knows weekdays (0 = Sunday) and days of the month", () => {
    expect(weekday("2026-11-22")).toBe(0);
    expect(weekday("2026-11-21")).toBe(6);
    expect(weekdayName(weekday("2026-11-23"))).toBe("Monday");
    expect(dayOfMonth("2026-11-22")).toBe(22);
    expect(dayOfMonth("2026-12-01")).toBe(1);
  });

  it.each(["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "", "2026-11-21T00:00:00Z"])("rejects %j as a day", (bad) => {
    expect(isDay(bad)).toBe(false);
    expect(() => daysBetween(bad, "2026-01-01")).toThrow(/calendar day/);
    expect(() => weekday(bad)).toThrow(RangeError);
  });

  it("rejects an invalid Date", () => {
    expect(() => utcDay(new Date("nope"))).toThrow(RangeError);
  });
});
