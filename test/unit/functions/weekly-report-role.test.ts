import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { listReportKeys, putHtml, readReportText } from "../../../adapters/report-store.ts";
import { noteInvocationConfig, runInvocation } from "../../../runbooks/lib/invocation.ts";
import { createSandbox, FakeClock, type Sandbox } from "../../../sandbox/index.ts";
import { parseConfig } from "../../../schemas/config.ts";
import { functionSpec } from "../../../stacks/functions.ts";
import { type IamContext, permissionsFor } from "../../../stacks/iam.ts";

/**
 * The weekly report's role: not linked to `Reports` (whose grants cover every object), it gets list under `reports/`,
 * read `reports/*`, write `reports/weekly/*` and its own run reports, and its own failed-run alert state; the sandbox
 * refuses the rest of the bucket as AWS would.
 */

const PRIMARY = "eu-west-1";
const BUCKET = "reports";
const config = parseConfig({ app: "app", stage: "prod", primaryRegion: PRIMARY });
const ctx: IamContext = {
  config,
  account: "123456789012",
  partition: "aws",
  dlqArn: "arn:aws:sqs:eu-west-1:123456789012:dlq",
  reportsBucketArn: `arn:aws:s3:::${BUCKET}`,
};

describe("weekly-report IAM statements", () => {
  it("are exactly: list under reports/, read reports/*, write reports/weekly/* and its own run reports and alert state", () => {
    expect(functionSpec("weekly-report").reports).toBe(false);
    expect(permissionsFor("weekly-report", ctx)).toEqual([
      { actions: ["s3:GetObject"], resources: [`arn:aws:s3:::${BUCKET}/reports/*`, `arn:aws:s3:::${BUCKET}/state/alerts/runs/weekly-report.json`] },
      {
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${BUCKET}`],
        conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["reports/*", "state/alerts/runs/weekly-report.json"] }],
      },
      {
        actions: ["s3:PutObject"],
        resources: [
          `arn:aws:s3:::${BUCKET}/reports/weekly/*`,
          `arn:aws:s3:::${BUCKET}/reports/weekly-report/*`,
          `arn:aws:s3:::${BUCKET}/state/alerts/runs/weekly-report.json`,
        ],
      },
      // Criticals (its own failed runs) page through the stage's topic, as every posting function's.
      { actions: ["sns:Publish"], resources: ["arn:aws:sns:eu-west-1:123456789012:app-prod-alerts"] },
      { actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-west-1:123456789012:dlq"] },
    ]);
  });

  it("grant nothing on S3 without the bucket (another function's placement gets none of them either)", () => {
    const { reportsBucketArn: _, ...noBucket } = ctx;
    expect(permissionsFor("weekly-report", noBucket).flatMap((s) => s.actions)).toEqual(["sns:Publish", "sqs:SendMessage"]);
    expect(permissionsFor("watchdog", ctx).some((s) => s.resources.some((r) => r.includes("reports/weekly")))).toBe(false);
  });
});

describe("weekly-report role on the sandbox", () => {
  let sb: Sandbox;
  const s3 = new S3Client({ region: PRIMARY, maxAttempts: 1 });
  const ref = { bucket: BUCKET, region: PRIMARY };
  const as = <T>(call: () => Promise<T>): Promise<T> =>
    runInvocation("weekly-report", () => {
      noteInvocationConfig(config);
      return call();
    });

  beforeEach(() => {
    // These tests provoke denials on purpose: they are not counted in `npm run iam-report`.
    sb = createSandbox({ clock: new FakeClock("2025-10-13T06:00:00Z"), regions: [PRIMARY], buckets: [BUCKET], iam: { recordUsage: false } });
    resetClients();
    sb.s3.put(BUCKET, "reports/backup/2025-10-06/a.json", "{}");
    sb.s3.put(BUCKET, "state/prune/2025-10-06.json", "{}");
  });
  afterEach(() => {
    sb.restore();
    resetClients();
  });

  it("lists, reads and writes what the report needs", async () => {
    await expect(as(() => listReportKeys(ref, "reports/backup/2025-10-06/"))).resolves.toEqual({
      keys: ["reports/backup/2025-10-06/a.json"],
      pages: 1,
      truncated: false,
    });
    await expect(as(() => readReportText(ref, "reports/backup/2025-10-06/a.json"))).resolves.toEqual({ text: "{}", bytes: 2 });
    await as(() => putHtml(ref, "reports/weekly/2025-W41.html", "<html/>"));
    expect(sb.s3.objects(BUCKET, "reports/weekly/").map((o) => [o.key, o.contentType])).toEqual([["reports/weekly/2025-W41.html", "text/html; charset=utf-8"]]);
    expect(sb.iam?.denials).toEqual([]);
  });

  it("pages through a listing of more than 1,000 keys", async () => {
    for (let i = 0; i < 1203; i++) sb.s3.put(BUCKET, `reports/watchdog/2025-10-06/${String(i).padStart(4, "0")}.json`, "{}");
    const out = await as(() => listReportKeys(ref, "reports/watchdog/2025-10-06/"));
    expect({ keys: out.keys.length, pages: out.pages, truncated: out.truncated, last: out.keys.at(-1) }).toEqual({
      keys: 1203,
      pages: 2,
      truncated: false,
      last: "reports/watchdog/2025-10-06/1202.json",
    });
    const capped = await as(() => listReportKeys(ref, "reports/watchdog/2025-10-06/", 1000));
    expect({ keys: capped.keys.length, pages: capped.pages, truncated: capped.truncated }).toEqual({ keys: 1000, pages: 1, truncated: true });
  });

  it("is refused the rest of the bucket: listing its root, reading a ledger, writing another function's report", async () => {
    const denied = async (call: () => Promise<unknown>) => {
      const err = await as(call).then(
        () => undefined,
        (e: { name?: string }) => e,
      );
      return err?.name;
    };
    expect(await denied(() => s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "state/" })))).toBe("AccessDenied");
    expect(await denied(() => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "state/prune/2025-10-06.json" })))).toBe("AccessDenied");
    expect(await denied(() => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "reports/backup/2025-10-06/forged.json", Body: "{}" })))).toBe(
      "AccessDenied",
    );
    expect(sb.iam?.denials.map((d) => `${d.request.action} ${d.request.resource}`)).toEqual([
      `s3:ListBucket arn:aws:s3:::${BUCKET}`,
      `s3:GetObject arn:aws:s3:::${BUCKET}/state/prune/2025-10-06.json`,
      `s3:PutObject arn:aws:s3:::${BUCKET}/reports/backup/2025-10-06/forged.json`,
    ]);
  });
});
