import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, HOUR, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parseCopyEvent } from "../../../schemas/events-backup.ts";
import { parseConfig } from "../../../schemas/config.ts";
import type { ClaimRecord } from "../../../core/claims.ts";

/**
 * Concurrent invocations never create duplicate EBS snapshots or copies (issue 9). EBS assigns snapshot ids and
 * neither CreateSnapshot nor CopySnapshot takes a client token
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshot.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopySnapshot.html), so each run claims the
 * snapshot's name in the reports bucket (If-None-Match) before calling EC2.
 */

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const DR_KEY = "arn:aws:kms:eu-central-1:123456789012:key/dr";
const REPORTS = "ops-autopilot-test-reports";
const VOLUME = "vol-0000000000000000a";

let sb: Sandbox;
let clock: FakeClock;
const stateBucket = { bucket: REPORTS, region: PRIMARY };
const config = parseConfig({
  stage: "test",
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: DR_KEY }],
  backup: { policies: [{ name: "db", selection: { tag: {} } }] },
});
const runtime: Runtime = quietRuntime(config, { now: () => clock.now() });
const lambdaCtx = (requestId: string) => lambdaContext(requestId);

interface Outcome {
  out?: { results: { status: string; detail?: string }[]; decisions: { name: string }[] };
  error?: AggregateRunError;
}

async function invoke(kind: "backup" | "copy", requestId: string): Promise<Outcome> {
  const handler =
    kind === "backup"
      ? createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime)
      : createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, runtime);
  try {
    return { out: (await handler({ trigger: "schedule" }, lambdaCtx(requestId))) as Outcome["out"] };
  } catch (error) {
    if (error instanceof AggregateRunError) return { error };
    throw error;
  }
}

const ok = (c: { error?: unknown }) => !c.error;
const claims = (prefix: string) => sb.s3.objects(REPORTS, prefix);
const claimOf = (key: string) => sb.s3.json<ClaimRecord>(REPORTS, key)!;

beforeEach(() => {
  clock = new FakeClock("2026-11-21T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [REPORTS] });
  resetClients();
  sb.ec2.addVolume(PRIMARY, { id: VOLUME, tags: { "ops-autopilot:backup": "db" } });
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("EBS snapshots are claimed before they are created", () => {
  it("two concurrent backup invocations make exactly one CreateSnapshot call", async () => {
    const [a, b] = await Promise.all([invoke("backup", "req-a"), invoke("backup", "req-b")]);
    expect(sb.callsTo("ec2", "CreateSnapshot").filter(ok)).toHaveLength(1);
    expect(sb.ec2.snapshots(PRIMARY)).toHaveLength(1);
    const results = [...a.out!.results, ...b.out!.results].map((r) => r.status).sort();
    expect(results).toEqual(["done", "exists"]);
    const loser = [...a.out!.results, ...b.out!.results].find((r) => r.status === "exists")!;
    expect(loser.detail).toMatch(/^claimed by run req-[ab] at 2026-11-21T02:00:00.000Z$/);
    const [claim] = claims("claims/backup/");
    expect(claim!.key).toBe(`claims/backup/${PRIMARY}/${a.out!.decisions[0]!.name}.json`);
  });

  it("two concurrent copy invocations make exactly one CopySnapshot call", async () => {
    await invoke("backup", "req-backup");
    clock.advance(20 * MINUTE);
    const [a, b] = await Promise.all([invoke("copy", "req-a"), invoke("copy", "req-b")]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(sb.callsTo("ec2", "CopySnapshot").filter(ok)).toHaveLength(1);
    expect(sb.ec2.snapshots(DR)).toHaveLength(1);
    expect(claims(`claims/copy/${DR}/`)).toHaveLength(1);
  });

  it("a fresh claim of another run is left to that run", async () => {
    const name = await nameOfToday();
    const key = `claims/backup/${PRIMARY}/${name}.json`;
    sb.s3.put(REPORTS, key, JSON.stringify({ runId: "other-run", claimedAt: "2026-11-21T01:50:00.000Z", what: "x" }));
    const run = await invoke("backup", "req-1");
    expect(sb.callsTo("ec2", "CreateSnapshot")).toHaveLength(0);
    expect(run.out!.results).toEqual([expect.objectContaining({ status: "exists", detail: "claimed by run other-run at 2026-11-21T01:50:00.000Z" })]);
  });

  it("Lambda's retry of the same invocation (same request id) re-checks the listing and then creates", async () => {
    const name = await nameOfToday();
    const key = `claims/backup/${PRIMARY}/${name}.json`;
    // The first attempt claimed, then the Lambda timed out before CreateSnapshot.
    sb.s3.put(REPORTS, key, JSON.stringify({ runId: "req-1", claimedAt: "2026-11-21T02:00:00.000Z", what: "x" }));
    clock.advance(3 * MINUTE);
    sb.resetCalls();
    await invoke("backup", "req-1");
    expect(sb.callsTo("ec2", "CreateSnapshot").filter(ok)).toHaveLength(1);
    // The re-check is a second DescribeSnapshots after the one of the listing.
    expect(sb.callsTo("ec2", "DescribeSnapshots").filter((c) => c.region === PRIMARY)).toHaveLength(2);
  });

  it("a stale claim with nothing created is taken over with If-Match", async () => {
    const name = await nameOfToday();
    const key = `claims/backup/${PRIMARY}/${name}.json`;
    sb.s3.put(REPORTS, key, JSON.stringify({ runId: "crashed-run", claimedAt: "2026-11-21T00:30:00.000Z", what: "x" }));
    await invoke("backup", "req-2");
    expect(sb.callsTo("ec2", "CreateSnapshot").filter(ok)).toHaveLength(1);
    expect(claimOf(key).runId).toBe("req-2");
    const takeOver = sb.callsTo("s3", "PutObject").filter((c) => (c.input as { Key: string }).Key === key && !c.error);
    expect((takeOver[0]!.input as { IfMatch?: string }).IfMatch).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it("a claimant whose CreateSnapshot failed releases the claim: the next run need not wait an hour", async () => {
    const fault = sb.inject({ service: "ec2", command: "CreateSnapshot", error: "internal", times: Infinity });
    const first = await invoke("backup", "req-1");
    expect(first.error!.failures).toEqual([expect.objectContaining({ item: VOLUME, kind: "retryable" })]);
    const [claim] = claims("claims/backup/");
    expect(sb.s3.json<ClaimRecord>(REPORTS, claim!.key)).toMatchObject({ runId: "req-1", releasedAt: "2026-11-21T02:00:00.000Z" });
    fault.clear();
    clock.advance(10 * MINUTE);
    await invoke("backup", "req-2");
    expect(sb.callsTo("ec2", "CreateSnapshot").filter(ok)).toHaveLength(1);
    expect(claimOf(claim!.key)).toMatchObject({ runId: "req-2" });
    expect(claimOf(claim!.key).releasedAt).toBeUndefined();
  });

  it("RDS snapshots need no claim: their identifier is the idempotency key", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
    await Promise.all([invoke("backup", "req-a"), invoke("backup", "req-b")]);
    expect(sb.rds.snapshots(PRIMARY, { type: "manual" })).toHaveLength(1);
    expect(claims("claims/").map((o) => o.key)).toEqual([expect.stringMatching(new RegExp(`^claims/backup/${PRIMARY}/.*\\.json$`))]);
    expect(claims("claims/")[0]!.body).not.toContain("app-db");
  });

  it("a later run that finds today's snapshot in the listing claims nothing and creates nothing", async () => {
    await invoke("backup", "req-1");
    clock.advance(2 * HOUR);
    sb.resetCalls();
    const again = await invoke("backup", "req-2");
    expect(again.out!.results).toEqual([]);
    expect(sb.callsTo("ec2", "CreateSnapshot")).toHaveLength(0);
    expect(sb.callsTo("s3", "PutObject").filter((c) => (c.input as { Key: string }).Key.startsWith("claims/"))).toHaveLength(0);
  });
});

/** Today's snapshot name, as the backup plan computes it (a dry-run creates nothing and claims nothing). */
async function nameOfToday(): Promise<string> {
  const handler = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime);
  const out = (await handler({ trigger: "manual", dryRun: true }, lambdaCtx("dry"))) as { decisions: { name: string }[] };
  expect(claims("claims/")).toEqual([]);
  return out.decisions[0]!.name;
}
