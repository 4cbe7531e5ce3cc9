import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, FakeClock, MINUTE, type Sandbox } from "../../../sandbox/index.ts";
import { resetClients } from "../../../adapters/clients.ts";
import { AggregateRunError, createHandler, type Runtime } from "../../../runbooks/lib/handler.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { runPrune } from "../../../runbooks/backup/prune.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { parseBackupEvent, parseCopyEvent, parsePruneEvent } from "../../../schemas/events-backup.ts";
import { parseConfig, type ConfigInput } from "../../../schemas/config.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import { TAG } from "../../../core/types.ts";
import { AddTagsToResourceCommand, RDSClient } from "@aws-sdk/client-rds";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const DR_KEY = "arn:aws:kms:eu-central-1:123456789012:key/dr";
/** Claims of EBS snapshots and copies, and prune's day ledger, live in the reports bucket. */
const REPORTS = "reports";
const stateBucket = { bucket: REPORTS, region: PRIMARY };

let sb: Sandbox;
let clock: FakeClock;
let remaining: number;
const posted: SlackMessage[] = [];

function config(extra: Partial<ConfigInput["backup"]> = {}) {
  return parseConfig({
    stage: "test",
    primaryRegion: PRIMARY,
    drRegions: [{ region: DR, kmsKeyId: DR_KEY }],
    observe: false,
    backup: { policies: [{ name: "db", selection: { tag: {} } }], ...extra },
  });
}

function runtime(cfg = config()): Runtime {
  return quietRuntime(cfg, clock, { postSlack: async (m) => void posted.push(m) });
}

const ctx = () => lambdaContext("r", remaining);

async function invoke(kind: "backup" | "copy", rt = runtime()): Promise<{ out?: Record<string, unknown>; error?: AggregateRunError }> {
  const handler =
    kind === "backup"
      ? createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, rt)
      : createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, rt);
  try {
    return { out: (await handler({ trigger: "schedule" }, ctx())) as Record<string, unknown> };
  } catch (error) {
    if (error instanceof AggregateRunError) return { error };
    throw error;
  }
}

beforeEach(() => {
  clock = new FakeClock("2026-11-21T02:00:00Z");
  sb = createSandbox({ clock, regions: [PRIMARY, DR], buckets: [REPORTS] });
  resetClients();
  remaining = 600_000;
  posted.length = 0;
});
afterEach(() => {
  sb.restore();
  resetClients();
});

describe("DR copy on the sandbox", () => {
  it("starts a copy only once the source is available, then with the region's key and our tags", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
    await invoke("backup");
    // The snapshot takes 10 minutes: a copy run now must wait.
    const early = await invoke("copy");
    expect((early.out!.decisions as { action: string }[]).map((d) => d.action)).toEqual(["wait-source"]);
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(0);

    clock.advance(15 * MINUTE);
    await invoke("copy");
    const [copy] = sb.callsTo("rds", "CopyDBSnapshot");
    expect(copy!.region).toBe(DR);
    expect(copy!.input).toMatchObject({
      SourceDBSnapshotIdentifier: `arn:aws:rds:${PRIMARY}:123456789012:snapshot:oa-ops-autopilot-test-app-db-20261121`,
      TargetDBSnapshotIdentifier: "oa-ops-autopilot-test-app-db-20261121",
      KmsKeyId: DR_KEY,
    });
    const tags = Object.fromEntries((copy!.input as { Tags: { Key: string; Value: string }[] }).Tags.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ [TAG.managedBy]: "ops-autopilot:test", [TAG.copyOf]: "oa-ops-autopilot-test-app-db-20261121", [TAG.policy]: "db" });
    expect(tags[TAG.capturedAt]).toMatch(/^2026-11-21T02:/);

    // A rerun finds the copy in flight and starts nothing.
    await invoke("copy");
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(1);
  });

  it("copies a snapshot a person tagged with a key of their own: only our keys go on the copy, so the copy role's tag-key condition allows it", async () => {
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" } });
    await invoke("backup");
    clock.advance(15 * MINUTE);
    // Someone adds a cost-allocation tag to our snapshot in the console (the account's administrator).
    await new RDSClient({ region: PRIMARY }).send(
      new AddTagsToResourceCommand({
        ResourceName: `arn:aws:rds:${PRIMARY}:123456789012:snapshot:oa-ops-autopilot-test-app-db-20261121`,
        Tags: [{ Key: "team", Value: "data" }],
      }),
    );
    const { error } = await invoke("copy");
    expect(error).toBeUndefined();
    expect(sb.iam?.denials).toEqual([]);
    const [copy] = sb.callsTo("rds", "CopyDBSnapshot");
    const keys = (copy!.input as { Tags: { Key: string }[] }).Tags.map((t) => t.Key);
    expect(keys).not.toContain("team");
    expect(keys.every((k) => k.startsWith("ops-autopilot:"))).toBe(true);
  });

  it("reports an RDS copy refused for KMS reasons with the key it tried, and fails the run", async () => {
    const sourceKey = "arn:aws:kms:eu-west-1:123456789012:key/p";
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: sourceKey });
    await invoke("backup");
    clock.advance(15 * MINUTE);
    sb.kms.deny(DR_KEY);
    // The source key is configured, so the copy role may use it: the refusal is the DR key's, not IAM's.
    const { error } = await invoke("copy", runtime(config({ sourceKmsKeyIds: [sourceKey] })));
    expect(error).toBeInstanceOf(AggregateRunError);
    expect(error!.failures).toEqual([expect.objectContaining({ kind: "kms", region: DR, message: expect.stringContaining(`KMS key tried: ${DR_KEY}`) })]);
    expect(error!.failures[0]!.message).toContain("KMSKeyNotAccessibleFault");
    expect(sb.iam?.denials).toEqual([]);
  });

  it("an encrypted source whose key is not in backup.sourceKmsKeyIds is refused by IAM, and reported as a KMS failure naming the key", async () => {
    const sourceKey = "arn:aws:kms:eu-west-1:123456789012:key/p";
    sb.rds.addInstance(PRIMARY, { id: "app-db", tags: { "ops-autopilot:backup": "db" }, encrypted: true, kmsKeyId: sourceKey });
    await invoke("backup");
    clock.advance(15 * MINUTE);
    sb.iam!.expectDenial("copy", "kms:DescribeKey");
    const { error } = await invoke("copy");
    expect(error!.failures).toEqual([
      expect.objectContaining({ kind: "kms", region: DR, message: expect.stringContaining(`kms:DescribeKey on resource: ${sourceKey}`) }),
    ]);
    expect(sb.iam?.denials.map((d) => `${d.principal} ${d.request.action}`)).toEqual(["copy kms:DescribeKey"]);
  });

  it("an EBS copy that fails later for KMS reasons is reported with its key; prune removes it and the next copy run retries", async () => {
    sb.ec2.addVolume(PRIMARY, { id: "vol-0000000000000000a", tags: { "ops-autopilot:backup": "db" } });
    await invoke("backup");
    clock.advance(20 * MINUTE);
    sb.kms.deny(DR_KEY);
    await invoke("copy"); // accepted by EC2, then the copy turns to `error`
    clock.advance(5 * MINUTE);
    sb.kms.allow(DR_KEY);
    const { error } = await invoke("copy");
    expect(error!.failures).toEqual([
      expect.objectContaining({ kind: "kms", region: DR, message: expect.stringMatching(new RegExp(`failed: .*KMS key tried: ${DR_KEY}`)) }),
    ]);
    // The copy function never deletes (IAM keeps tagging and deleting apart): no second copy beside the failed one either.
    expect(sb.callsTo("ec2", "DeleteSnapshot")).toHaveLength(0);
    expect(sb.callsTo("ec2", "CopySnapshot")).toHaveLength(1);

    const prune = createHandler({ name: "prune", parse: parsePruneEvent, run: (e, c) => runPrune(e, c, backupDeps(c, { stateBucket })) }, runtime());
    await prune({ trigger: "schedule" }, ctx());
    expect(sb.callsTo("ec2", "DeleteSnapshot").map((c) => c.region)).toEqual([DR]);
    expect(await invoke("copy")).toEqual({ out: expect.anything() });
    expect(sb.callsTo("ec2", "CopySnapshot")).toHaveLength(2);
    clock.advance(40 * MINUTE);
    expect(sb.ec2.snapshots(DR).filter((s) => s.ready)).toHaveLength(1);
  });

  it("never has more than 20 copies in flight to a region, and catches up on later runs", async () => {
    for (let i = 0; i < 25; i++) sb.rds.addInstance(PRIMARY, { id: `db-${i}`, tags: { "ops-autopilot:backup": "db" } });
    sb.rds.addSnapshot(DR, { id: "someone-elses-copy", sourceId: "x", status: "copying", readyAt: new Date("2026-11-21T06:00:00Z") });
    await invoke("backup");
    clock.advance(15 * MINUTE);
    const first = await invoke("copy");
    expect(sb.callsTo("rds", "CopyDBSnapshot").filter((c) => !c.error)).toHaveLength(19);
    expect((first.out!.decisions as { action: string }[]).filter((d) => d.action === "defer-limit")).toHaveLength(6);
    expect(sb.rds.copiesInFlight(DR)).toBeLessThanOrEqual(20);
    clock.advance(60 * MINUTE);
    await invoke("copy");
    expect(sb.callsTo("rds", "CopyDBSnapshot").filter((c) => !c.error)).toHaveLength(25);
    expect(sb.calls.filter((c) => c.error?.name === "SnapshotQuotaExceededFault")).toEqual([]);
  });

  it("near the Lambda deadline it stops starting copies, reports what is left, and the next run picks it up", async () => {
    for (let i = 0; i < 6; i++) sb.rds.addInstance(PRIMARY, { id: `db-${i}`, tags: { "ops-autopilot:backup": "db" } });
    await invoke("backup");
    clock.advance(15 * MINUTE);
    remaining = 10_000; // less than the 30 s margin
    const { error } = await invoke("copy");
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(0);
    expect(error!.failures).toEqual([expect.objectContaining({ kind: "retryable", message: expect.stringMatching(/6 item\(s\) not started.*deadline/) })]);
    remaining = 600_000;
    await invoke("copy");
    expect(sb.callsTo("rds", "CopyDBSnapshot")).toHaveLength(6);
  });
});
