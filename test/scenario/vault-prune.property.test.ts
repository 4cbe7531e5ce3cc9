import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { EC2Client, LockSnapshotCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { lambdaContext, quietRuntime } from "../../sandbox/scenarios/harness.ts";
import { createSandbox, DEFAULT_ACCOUNT_ID, FakeClock, type Sandbox } from "../../sandbox/index.ts";
import { resetClients } from "../../adapters/clients.ts";
import { createHandler } from "../../runbooks/lib/handler.ts";
import { runVaultPrune } from "../../runbooks/vault/prune.ts";
import { parseVaultPruneEvent } from "../../schemas/events-vault.ts";
import { parseConfig } from "../../schemas/config.ts";
import { permissionsFor } from "../../stacks/iam.ts";
import { TAG } from "../../core/types.ts";
import { VAULT_TAG } from "../../core/vault-plan.ts";

/**
 * The vault pruner on the IAM-enforcing sandbox, over arbitrary mixes of the vault account's snapshots: its own copies
 * (some locked in compliance mode, some with the lock expired, most past the vault's retention), foreign snapshots,
 * look-alikes (our name without the vault-copy tag, another stage's tags) and pending ones. Whatever the mix, it deletes
 * only copies it made that are not locked (EC2 would refuse a locked one: SnapshotLocked,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html), and its role is never denied (it never
 * tries to delete what is not its own).
 */

const PRIMARY = "eu-west-1";
const WORKLOAD = DEFAULT_ACCOUNT_ID;
const VAULT = "222233334444";
const NOW = "2026-11-21T03:00:00Z";
const DAY_MS = 86_400_000;

const config = parseConfig({
  app: "ops-autopilot",
  stage: "prod",
  primaryRegion: PRIMARY,
  observe: false,
  backup: { policies: [{ name: "db", selection: { tag: {} } }] },
  vault: {
    accountId: VAULT,
    centralAccountId: WORKLOAD,
    regions: [{ region: PRIMARY, kmsKeyAlias: "alias/ops-autopilot-vault" }],
    retention: { tiers: { daily: { keep: { days: 3 } } }, keepNewest: 1 },
  },
});

type Flavour = "ours" | "foreign" | "no-vault-tag" | "other-stage";
interface Spec {
  kind: "rds-instance" | "ebs-volume";
  resource: "app-db" | "orders-db";
  ageDays: number;
  flavour: Flavour;
  /** Days a compliance lock runs from now: negative = locked long ago and expired. */
  lockDays?: number;
  pending: boolean;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom("rds-instance" as const, "ebs-volume" as const),
  resource: fc.constantFrom("app-db" as const, "orders-db" as const),
  ageDays: fc.integer({ min: 0, max: 20 }),
  flavour: fc.constantFrom<Flavour>("ours", "ours", "ours", "foreign", "no-vault-tag", "other-stage"),
  lockDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
  pending: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

let sb: Sandbox | undefined;
let sessions = 0;
afterEach(() => {
  sb?.restore();
  sb = undefined;
  resetClients();
});

async function runMix(specs: Spec[]): Promise<void> {
  const clock = new FakeClock(NOW);
  sb?.restore();
  resetClients();
  // recordUsage off: `npm run iam-report` weighs usage against config/example.json's roles, which have no vault.
  sb = createSandbox({ clock, regions: [PRIMARY], buckets: ["reports"], iam: { recordUsage: false } });
  sb.addAccount(VAULT);
  const vault = sb.account(VAULT);
  const admin = new EC2Client({ region: PRIMARY, maxAttempts: 1, credentials: vault.adminCredentials() });
  const expectations = new Map<string, { deletable: boolean }>();
  let n = 0;
  for (const s of specs) {
    n++;
    const day = new Date(Date.parse(NOW) - s.ageDays * DAY_MS).toISOString().slice(0, 10);
    const name = `oa-ops-autopilot-prod-${s.resource}-${day.replaceAll("-", "")}`;
    const stage = s.flavour === "other-stage" ? "ops-autopilot:staging" : "ops-autopilot:prod";
    const tags: Record<string, string> =
      s.flavour === "foreign"
        ? { team: "data" }
        : {
            ...(s.flavour === "no-vault-tag" ? {} : { [VAULT_TAG.vaultCopy]: stage }),
            [TAG.managedBy]: stage,
            [VAULT_TAG.sourceAccount]: WORKLOAD,
            [TAG.copyOf]: `src-${n}`,
            [TAG.source]: s.resource,
            [TAG.sourceRegion]: PRIMARY,
            [TAG.capturedAt]: `${day}T02:00:00.000Z`,
            [TAG.backupDate]: day,
            [TAG.name]: name,
          };
    const createdAt = new Date(`${day}T04:00:00Z`);
    let id: string;
    if (s.kind === "rds-instance") {
      id = s.flavour === "foreign" ? `manual-${n}` : `${name}-${WORKLOAD}-${n}`.slice(0, 250);
      vault.rds.addSnapshot(PRIMARY, { id, sourceId: s.resource, tags, createdAt, ...(s.pending ? { status: "creating" } : {}) });
    } else {
      id = vault.ec2.addSnapshot(PRIMARY, {
        volumeId: "vol-ffffffff",
        description: s.flavour === "foreign" ? "someone's" : `${name}-${WORKLOAD}`,
        tags,
        createdAt,
        ...(s.pending ? { state: "pending" } : {}),
      }).id;
      if (s.lockDays !== undefined) await admin.send(new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: s.lockDays }));
    }
    expectations.set(id, { deletable: s.flavour === "ours" && !(s.kind === "ebs-volume" && s.lockDays !== undefined) });
  }

  vault.addRole({
    name: "ops-autopilot-prod-vault-vault-prune",
    trust: [{ principals: [WORKLOAD] }],
    statements: permissionsFor("vault-prune", { config, account: VAULT, partition: "aws", dlqArn: `arn:aws:sqs:${PRIMARY}:${VAULT}:dlq` }),
  });
  const out = await new STSClient({ region: PRIMARY }).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${VAULT}:role/ops-autopilot-prod-vault-vault-prune`, RoleSessionName: "vault-prune" }),
  );
  const c = out.Credentials!;
  const creds = {
    key: `vault-prune-${++sessions}`,
    provider: async () => ({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration! }),
  };
  const handler = createHandler(
    { name: "vault-prune", parse: parseVaultPruneEvent, run: (e, ctx) => runVaultPrune(e, ctx, { creds }) },
    quietRuntime(config, clock),
  );
  await handler({ trigger: "schedule" }, lambdaContext("r"));

  const deletes = [...sb.callsTo("rds", "DeleteDBSnapshot"), ...sb.callsTo("ec2", "DeleteSnapshot")].filter((x) => x.account === VAULT);
  for (const d of deletes) {
    const input = d.input as { DBSnapshotIdentifier?: string; SnapshotId?: string };
    const id = (input.DBSnapshotIdentifier ?? input.SnapshotId)!;
    expect(d.error, `delete of ${id}`).toBeUndefined();
    expect(expectations.get(id)?.deletable, `${id} deleted`).toBe(true);
  }
  // Every locked copy is still there, and so is everything that is not the vault's own.
  for (const [id, e] of expectations) {
    if (e.deletable) continue;
    const there = vault.ec2.snapshot(PRIMARY, id) ?? vault.rds.snapshots(PRIMARY).find((s) => s.id === id);
    expect(there, `${id} kept`).toBeDefined();
  }
  expect(sb.iam?.denials ?? []).toEqual([]);
}

describe("the vault pruner on the sandbox (fast-check)", () => {
  it("never deletes a locked snapshot or one it did not create, whatever the mix of foreign, look-alike, locked and expired copies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 14 }), async (specs) => runMix(specs)),
      { numRuns: 25 },
    );
  });

  it("deletes expired copies of its own (the property is not vacuous)", async () => {
    await runMix([
      { kind: "ebs-volume", resource: "app-db", ageDays: 0, flavour: "ours", pending: false },
      { kind: "ebs-volume", resource: "app-db", ageDays: 10, flavour: "ours", pending: false },
      { kind: "rds-instance", resource: "app-db", ageDays: 0, flavour: "ours", pending: false },
      { kind: "rds-instance", resource: "app-db", ageDays: 10, flavour: "ours", pending: false },
    ]);
    expect(sb!.callsTo("ec2", "DeleteSnapshot").filter((c) => !c.error)).toHaveLength(1);
    expect(sb!.callsTo("rds", "DeleteDBSnapshot").filter((c) => !c.error)).toHaveLength(1);
  });
});
