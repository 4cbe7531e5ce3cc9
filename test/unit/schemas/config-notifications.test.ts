import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";

const base = { stage: "test", primaryRegion: "eu-west-1" };

describe("config notifications", () => {
  it("pages criticals and posts every run summary by default", () => {
    expect(parseConfig(base).notifications).toEqual({ pager: { enabled: true }, runSummaries: { quiet: false } });
  });

  it("takes quiet run summaries and no pager", () => {
    expect(parseConfig({ ...base, notifications: { pager: { enabled: false }, runSummaries: { quiet: true } } }).notifications).toEqual({
      pager: { enabled: false },
      runSummaries: { quiet: true },
    });
  });

  it("names the field of a bad value or an unknown key", () => {
    expect(() => parseConfig({ ...base, notifications: { runSummaries: { quiet: "yes" } } })).toThrow(
      /notifications\.runSummaries\.quiet: Invalid input: expected boolean, received string/,
    );
    expect(() => parseConfig({ ...base, notifications: { runSummaries: { silent: true } } })).toThrow(
      /notifications\.runSummaries: Unrecognized key: "silent"/,
    );
    expect(() => parseConfig({ ...base, notifications: { routes: [] } })).toThrow(/notifications: Unrecognized key: "routes"/);
  });
});
