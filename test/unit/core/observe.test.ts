import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDays, localDay } from "../../../core/calendar.ts";
import { type ObserveSetting, observeLabel, observeState } from "../../../core/observe.ts";
import { parseConfig } from "../../../schemas/config.ts";

const at = (iso: string) => new Date(iso);

describe("observe mode: the decision", () => {
  it.each<[string, ObserveSetting, string | undefined, string, string, boolean, string | undefined, string]>([
    // name, setting, recorded start, now, zone, observing, until, reason
    ["off by false", false, "2026-11-30T04:30:00Z", "2026-11-30T05:00:00Z", "UTC", false, undefined, "observe mode is off (observe: false)"],
    ["off by days 0", { days: 0 }, undefined, "2026-11-30T05:00:00Z", "UTC", false, undefined, "observe mode is off (observe.days: 0)"],
    [
      "the first run starts 14 days",
      { days: 14 },
      undefined,
      "2026-11-30T04:30:00Z",
      "UTC",
      true,
      "2026-12-13",
      "observe mode until the end of 2026-12-13 (UTC): 14 days from the stage's first run, none recorded yet (counted from today)",
    ],
    [
      "observes the last second of the 14th day",
      { days: 14 },
      "2026-11-30T04:30:05Z",
      "2026-12-13T23:59:59Z",
      "UTC",
      true,
      "2026-12-13",
      "observe mode until the end of 2026-12-13 (UTC): 14 days from the stage's first run on 2026-11-30",
    ],
    [
      "acts from midnight after the 14th day, even seconds before the first run's hour",
      { days: 14 },
      "2026-11-30T04:30:05Z",
      "2026-12-14T04:30:00Z",
      "UTC",
      false,
      "2026-12-13",
      "observe mode ended with 2026-12-13 (UTC): 14 days from the stage's first run on 2026-11-30",
    ],
    [
      "days are the configured zone's: 23:30 UTC on the 29th is the 30th in Paris",
      { days: 1 },
      "2026-11-29T23:30:00Z",
      "2026-11-30T22:59:59Z",
      "Europe/Paris",
      true,
      "2026-11-30",
      "observe mode until the end of 2026-11-30 (Europe/Paris): 1 day from the stage's first run on 2026-11-30",
    ],
    [
      "... and the 30th ends at 23:00 UTC in Paris",
      { days: 1 },
      "2026-11-29T23:30:00Z",
      "2026-11-30T23:00:00Z",
      "Europe/Paris",
      false,
      "2026-11-30",
      "observe mode ended with 2026-11-30 (Europe/Paris): 1 day from the stage's first run on 2026-11-30",
    ],
    [
      "until a day: observes through its end",
      { until: "2026-12-31" },
      undefined,
      "2026-12-31T23:59:59Z",
      "UTC",
      true,
      "2026-12-31",
      "observe mode until the end of 2026-12-31 (UTC), as configured (observe.until)",
    ],
    [
      "until a day in Auckland: 11:00 UTC on the 31st is already next year there",
      { until: "2026-12-31" },
      undefined,
      "2026-12-31T11:00:00Z",
      "Pacific/Auckland",
      false,
      "2026-12-31",
      "observe mode ended with 2026-12-31 (Pacific/Auckland), as configured (observe.until)",
    ],
  ])("%s", (_name, setting, start, now, timeZone, observing, until, reason) => {
    const s = observeState({ setting, start: start ? at(start) : undefined, now: at(now), timeZone });
    expect(s).toEqual({
      observing,
      ...(until ? { until } : {}),
      timeZone,
      reason,
      recordStart: start === undefined && typeof setting === "object" && "days" in setting && setting.days > 0,
    });
  });

  it("labels the window the same way in every report", () => {
    expect(observeLabel("2026-12-13", "Europe/Paris")).toBe("observe mode until the end of 2026-12-13 (Europe/Paris)");
  });

  it("property: a window of N days observes exactly N local days, whatever the start instant and zone", () => {
    const zones = ["UTC", "Europe/Paris", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2028-01-01T00:00:00Z") }),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(...zones),
        (startMs, days, timeZone) => {
          const start = new Date(startMs);
          const first = localDay(start, timeZone);
          // One probe per hour from the start to 70 days later: the observed local days are exactly [first, first + N - 1].
          const observedDays = new Set<string>();
          for (let t = startMs; t < startMs + 70 * 86_400_000; t += 3_600_000) {
            const s = observeState({ setting: { days }, start, now: new Date(t), timeZone });
            if (s.observing) observedDays.add(localDay(new Date(t), timeZone));
            expect(s.until).toBe(addDays(first, days - 1));
            expect(s.recordStart).toBe(false);
          }
          expect([...observedDays].sort()).toEqual(Array.from({ length: days }, (_, i) => addDays(first, i)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("property: off is off at any instant, in any zone, and never asks for a start", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom<ObserveSetting>(false, { days: 0 }), (ms, setting) => {
        const s = observeState({ setting, start: undefined, now: new Date(ms), timeZone: "Europe/Paris" });
        expect([s.observing, s.recordStart, s.until]).toEqual([false, false, undefined]);
      }),
    );
  });
});

describe("observe mode: the config field", () => {
  const base = { stage: "prod", primaryRegion: "eu-west-1" };
  it("is 14 days by default (a new stage observes first)", () => {
    expect(parseConfig(base).observe).toEqual({ days: 14 });
  });
  it.each([[false], [{ days: 0 }], [{ days: 30 }], [{ until: "2026-12-31" }]])("accepts %j", (observe) => {
    expect(parseConfig({ ...base, observe }).observe).toEqual(observe);
  });
  it.each([
    [{ days: -1 }, "Invalid config: observe.days: Too small: expected number to be >=0"],
    [{ until: "2026-02-30" }, "Invalid config: observe.until: expected a calendar day written yyyy-mm-dd"],
    [{ until: "2026-13-45" }, "Invalid config: observe.until: expected a calendar day written yyyy-mm-dd"],
    [{ until: "31/12/2026" }, "Invalid config: observe.until: expected a calendar day written yyyy-mm-dd"],
    [true, 'Invalid config: observe: expected false, { "days": <0 to 365> } or { "until": "yyyy-mm-dd" }'],
    [{ days: 3, until: "2026-12-31" }, 'Invalid config: observe: expected false, { "days": <0 to 365> } or { "until": "yyyy-mm-dd" }'],
  ])("rejects %j naming the field", (observe, message) => {
    expect(() => parseConfig({ ...base, observe })).toThrow(message);
  });
});
