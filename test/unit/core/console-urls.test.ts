import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { s3ObjectConsoleUrl } from "../../../core/console-urls.ts";
import { plainLinks } from "../../../core/report/text.ts";

const BUCKET = { bucket: "ops-autopilot-reports-prod", region: "eu-west-1" };

describe("s3ObjectConsoleUrl (the S3 console's object page: s3/object/<bucket>?region=<region>&prefix=<key>)", () => {
  it("links a run report's object page in its bucket's region", () => {
    expect(s3ObjectConsoleUrl(BUCKET, "reports/backup/2026-04-19/2026-04-19T02-00-00-000Z-req-1.json")).toBe(
      "https://s3.console.aws.amazon.com/s3/object/ops-autopilot-reports-prod?region=eu-west-1&prefix=reports/backup/2026-04-19/2026-04-19T02-00-00-000Z-req-1.json",
    );
  });

  it("percent-encodes what a key may hold besides its slashes", () => {
    expect(s3ObjectConsoleUrl(BUCKET, "reports/a b|c>d&e.json")).toBe(
      "https://s3.console.aws.amazon.com/s3/object/ops-autopilot-reports-prod?region=eu-west-1&prefix=reports/a%20b%7Cc%3Ed%26e.json",
    );
  });

  it("refuses an empty bucket and a region that is not a region name", () => {
    expect(() => s3ObjectConsoleUrl({ bucket: "", region: "eu-west-1" }, "k")).toThrow("bucket is empty");
    expect(() => s3ObjectConsoleUrl({ bucket: "b", region: "eu-west-1&x=1" }, "k")).toThrow('region "eu-west-1&x=1" is not a region name');
  });

  it("for any key: the URL names the bucket, region and key exactly, and stays one Slack link", () => {
    const region = fc.constantFrom("eu-west-1", "us-east-1", "ap-southeast-2", "us-gov-west-1");
    const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
    fc.assert(
      fc.property(bucket, region, fc.string({ minLength: 1, maxLength: 200, unit: "grapheme" }), (b, r, key) => {
        const url = s3ObjectConsoleUrl({ bucket: b, region: r }, key);
        const parsed = new URL(url);
        expect(parsed.origin).toBe("https://s3.console.aws.amazon.com");
        expect(decodeURIComponent(parsed.pathname)).toBe(`/s3/object/${b}`);
        expect(parsed.searchParams.get("region")).toBe(r);
        expect(parsed.searchParams.get("prefix")).toBe(key);
        expect(url).not.toMatch(/[\s|<>]/);
        expect(plainLinks(`<${url}|Run report>`)).toBe(`Run report (${url})`);
      }),
    );
  });
});
