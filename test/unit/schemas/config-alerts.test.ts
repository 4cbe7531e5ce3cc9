import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";

const base = { stage: "test", primaryRegion: "eu-west-1" };

describe("config alerts", () => {
  it("reminds every 6 hours by default", () => {
    expect(parseConfig(base).alerts).toEqual({ remindEveryHours: 6 });
  });

  it("takes another interval", () => {
    expect(parseConfig({ ...base, alerts: { remindEveryHours: 12 } }).alerts).toEqual({ remindEveryHours: 12 });
  });

  it("names the field of a bad interval or an unknown key", () => {
    expect(() => parseConfig({ ...base, alerts: { remindEveryHours: 0 } })).toThrow(/alerts\.remindEveryHours: Too small: expected number to be >0/);
    expect(() => parseConfig({ ...base, alerts: { remindEveryHours: "6" } })).toThrow(
      /alerts\.remindEveryHours: Invalid input: expected number, received string/,
    );
    expect(() => parseConfig({ ...base, alerts: { remindEvery: 6 } })).toThrow(/alerts: Unrecognized key: "remindEvery"/);
  });
});
