import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { createSandbox, FakeClock, HOUR, MINUTE, type Principal, type Sandbox, type SandboxCredentials } from "../../../sandbox/aws/index.ts";
import { rejection } from "./rejection.ts";

/**
 * Several accounts and STS AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): a role's
 * trust policy (trusted account or role, `sts:ExternalId`), the caller's own `sts:AssumeRole` permission, and the session's
 * credentials acting in the role's account under the role's policies.
 */

const REGION = "eu-west-1";
const WORKLOAD = "123456789012";
const VAULT = "222233334444";
const OTHER = "555566667777";
const EXTERNAL_ID = "ops-autopilot-7f3a";
const ROLE_ARN = `arn:aws:iam::${VAULT}:role/vault-copier`;
const API = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html";

/** The workload's function role: may assume the vault role, nothing else. */
const backupRole: Principal = {
  name: "backup",
  roleArn: `arn:aws:iam::${WORKLOAD}:role/app-prod-backupRole`,
  statements: [{ actions: ["sts:AssumeRole"], resources: [ROLE_ARN] }],
};

let sb: Sandbox;
let current: Principal | undefined;
const sts = new STSClient({ region: REGION, maxAttempts: 1 });

function ec2As(credentials: SandboxCredentials): EC2Client {
  return new EC2Client({ region: REGION, maxAttempts: 1, credentials });
}

async function assume(input: { ExternalId?: string; RoleArn?: string; RoleSessionName?: string; DurationSeconds?: number }, client = sts) {
  const out = await client.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "nightly", ...input }));
  const c = out.Credentials!;
  return { out, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

beforeEach(() => {
  current = backupRole;
  sb = createSandbox({ clock: new FakeClock("2026-01-02T03:00:00Z"), regions: [REGION], iam: { principal: () => current, recordUsage: false } });
  const vault = sb.addAccount(VAULT, { name: "backup-vault" });
  sb.addAccount(OTHER, { name: "someone-else" });
  vault.addRole({
    name: "vault-copier",
    trust: [
      {
        principals: [`arn:aws:iam::${WORKLOAD}:root`],
        conditions: [{ test: "StringEquals", variable: "sts:ExternalId", values: [EXTERNAL_ID] }],
      },
    ],
    statements: [{ actions: ["ec2:DescribeSnapshots", "rds:DescribeDBSnapshots"], resources: ["*"] }],
  });
  sb.ec2.addSnapshot(REGION, { id: "snap-0000000a", volumeId: "vol-0000000a" });
  vault.ec2.addSnapshot(REGION, { id: "snap-0000000b", volumeId: "vol-0000000b" });
});
afterEach(() => sb.restore());

describe("accounts", () => {
  it("the default account is what every client without sandbox-issued credentials acts in (an AKIDEXAMPLE key included)", async () => {
    current = undefined;
    const plain = new EC2Client({ region: REGION, maxAttempts: 1 });
    const example = new EC2Client({ region: REGION, maxAttempts: 1, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
    for (const client of [plain, example]) {
      const out = await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
      expect(out.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId])).toEqual([["snap-0000000a", WORKLOAD]]);
    }
    expect(sb.accountIds()).toEqual([WORKLOAD, VAULT, OTHER]);
    expect(sb.callsTo("ec2").map((c) => c.account)).toEqual([undefined, undefined]);
  });

  it("an account's administrator keys act in that account, every call allowed", async () => {
    const out = await ec2As(sb.account(VAULT).adminCredentials()).send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    expect(out.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId])).toEqual([["snap-0000000b", VAULT]]);
    expect(sb.callsTo("ec2").at(-1)?.account).toBe(VAULT);
  });

  it("refuses an account id that is not 12 digits, and a second account with the same id", () => {
    expect(() => sb.addAccount("1234")).toThrow("sandbox.addAccount: 1234 is not a 12-digit account id");
    expect(() => sb.addAccount(VAULT)).toThrow(`sandbox.addAccount: account ${VAULT} already exists`);
  });
});

describe(`AssumeRole (${API})`, () => {
  it("with the trusted account and the right external id: temporary credentials whose calls act in the vault account under the role's policies", async () => {
    const { out, credentials } = await assume({ ExternalId: EXTERNAL_ID });
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${VAULT}:assumed-role/vault-copier/nightly`);
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[0-9A-Z]{17}:nightly$/);
    expect(credentials.accessKeyId).toMatch(/^ASIA[0-9A-Z]{16}$/);
    expect(out.Credentials?.Expiration).toEqual(new Date("2026-01-02T04:00:00Z"));

    const vaultEc2 = ec2As(credentials);
    const seen = await vaultEc2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    expect(seen.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId])).toEqual([["snap-0000000b", VAULT]]);
    expect(sb.callsTo("ec2", "DescribeSnapshots").at(-1)?.account).toBe(VAULT);

    // The role's policies, not the caller's, and enforced in the vault account.
    const err = await rejection(vaultEc2.send(new DeleteSnapshotCommand({ SnapshotId: "snap-0000000b" })));
    expect(err.name).toBe("UnauthorizedOperation");
    expect(err.message).toContain(
      `User: arn:aws:sts::${VAULT}:assumed-role/vault-copier/nightly is not authorized to perform: ec2:DeleteSnapshot on resource: arn:aws:ec2:${REGION}::snapshot/snap-0000000b because no identity-based policy allows the ec2:DeleteSnapshot action`,
    );
    expect(sb.account(VAULT).ec2.snapshot(REGION, "snap-0000000b")).toBeDefined();
  });

  it("GetCallerIdentity answers the session in the vault account", async () => {
    const { credentials } = await assume({ ExternalId: EXTERNAL_ID });
    const who = await new STSClient({ region: REGION, credentials }).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: VAULT, Arn: `arn:aws:sts::${VAULT}:assumed-role/vault-copier/nightly` });
  });

  const denied = `User: arn:aws:sts::${WORKLOAD}:assumed-role/app-prod-backupRole/backup is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`;

  it("a wrong external id: AccessDenied (403), STS's message", async () => {
    const err = await rejection(assume({ ExternalId: "guessed-id" }));
    expect(err).toBeInstanceOf(STSServiceException);
    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(denied);
  });

  it("a missing external id: the same AccessDenied", async () => {
    const err = await rejection(assume({}));
    expect([err.name, err.message]).toEqual(["AccessDenied", denied]);
  });

  it("an untrusted caller (another account's administrator) with the right external id: AccessDenied", async () => {
    const foreign = new STSClient({ region: REGION, maxAttempts: 1, credentials: sb.account(OTHER).adminCredentials() });
    const err = await rejection(assume({ ExternalId: EXTERNAL_ID }, foreign));
    expect([err.name, err.message]).toEqual([
      "AccessDenied",
      `User: arn:aws:iam::${OTHER}:root is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
    ]);
  });

  it("a role that does not exist answers the same AccessDenied as an untrusted one", async () => {
    const missing = `arn:aws:iam::${VAULT}:role/no-such-role`;
    current = { ...backupRole, statements: [{ actions: ["sts:AssumeRole"], resources: ["*"] }] };
    const err = await rejection(assume({ ExternalId: EXTERNAL_ID, RoleArn: missing }));
    expect([err.name, err.message]).toEqual(["AccessDenied", denied.replace(ROLE_ARN, missing)]);
  });

  it("a trust policy naming one role trusts that role's sessions, not the rest of its account", async () => {
    sb.account(VAULT).addRole({
      name: "only-backup",
      trust: [
        {
          principals: [backupRole.roleArn],
          conditions: [{ test: "StringEquals", variable: "sts:ExternalId", values: [EXTERNAL_ID] }],
        },
      ],
      statements: [],
    });
    const arn = `arn:aws:iam::${VAULT}:role/only-backup`;
    current = { ...backupRole, statements: [{ actions: ["sts:AssumeRole"], resources: ["*"] }] };
    await expect(assume({ ExternalId: EXTERNAL_ID, RoleArn: arn })).resolves.toBeDefined();
    current = { ...current, name: "prune", roleArn: `arn:aws:iam::${WORKLOAD}:role/app-prod-pruneRole` };
    const err = await rejection(assume({ ExternalId: EXTERNAL_ID, RoleArn: arn }));
    expect(err.message).toBe(
      `User: arn:aws:sts::${WORKLOAD}:assumed-role/app-prod-pruneRole/prune is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
    );
  });

  it("a caller whose own policies do not allow sts:AssumeRole on the role is refused even when the trust policy names its account", async () => {
    current = { ...backupRole, statements: [] };
    const err = await rejection(assume({ ExternalId: EXTERNAL_ID }));
    expect([err.name, err.message]).toEqual(["AccessDenied", `${denied} because no identity-based policy allows the sts:AssumeRole action`]);
  });

  it("the session's credentials expire after DurationSeconds on the sandbox clock: ExpiredToken (RDS), RequestExpired (EC2)", async () => {
    const { credentials } = await assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 900 });
    const rds = new RDSClient({ region: REGION, maxAttempts: 1, credentials });
    await expect(rds.send(new DescribeDBSnapshotsCommand({}))).resolves.toBeDefined();
    sb.clock.advance(15 * MINUTE);
    const err = await rejection(rds.send(new DescribeDBSnapshotsCommand({})));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual(["ExpiredToken", "The security token included in the request is expired", 403]);
    const ec2Err = await rejection(ec2As(credentials).send(new DescribeSnapshotsCommand({})));
    expect([ec2Err.name, ec2Err.message]).toEqual(["RequestExpired", "Request has expired."]);
  });

  it("DurationSeconds above the role's maximum session duration, or above one hour when a role session assumes a role (role chaining): ValidationError", async () => {
    const over = await rejection(assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 2 * 3600 }));
    expect([over.name, over.message]).toEqual(["ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."]);

    sb.account(VAULT).addRole({
      name: "long",
      maxSessionDurationSeconds: 12 * 3600,
      trust: [{ principals: [VAULT] }],
      statements: [],
    });
    sb.account(VAULT).addRole({
      name: "chain",
      trust: [{ principals: [`arn:aws:iam::${WORKLOAD}:root`] }],
      statements: [{ actions: ["sts:AssumeRole"], resources: [`arn:aws:iam::${VAULT}:role/long`] }],
    });
    current = { ...backupRole, statements: [{ actions: ["sts:AssumeRole"], resources: ["*"] }] };
    const first = await assume({ RoleArn: `arn:aws:iam::${VAULT}:role/chain` });
    const chained = new STSClient({ region: REGION, maxAttempts: 1, credentials: first.credentials });
    const err = await rejection(assume({ RoleArn: `arn:aws:iam::${VAULT}:role/long`, DurationSeconds: 2 * 3600 }, chained));
    expect([err.name, err.message]).toEqual([
      "ValidationError",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    ]);
    const ok = await assume({ RoleArn: `arn:aws:iam::${VAULT}:role/long`, DurationSeconds: 3600 }, chained);
    expect(ok.out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${VAULT}:assumed-role/long/nightly`);
    expect(HOUR).toBe(3600_000);
  });

  it("RoleSessionName outside 2–64 characters of [\\w+=,.@-], DurationSeconds under 900: ValidationError naming the field", async () => {
    const short = await rejection(assume({ ExternalId: EXTERNAL_ID, RoleSessionName: "x" }));
    expect([short.name, short.message]).toEqual([
      "ValidationError",
      "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ]);
    const bad = await rejection(assume({ ExternalId: EXTERNAL_ID, RoleSessionName: "night ly" }));
    expect(bad.message).toBe(
      "1 validation error detected: Value 'night ly' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
    const brief = await rejection(assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 600 }));
    expect(brief.message).toBe(
      "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
  });

  it("a sandbox-shaped key no account issued: InvalidClientTokenId", async () => {
    const forged = new STSClient({ region: REGION, maxAttempts: 1, credentials: { accessKeyId: "ASIASBX0000000000ZZZ", secretAccessKey: "x" } });
    const err = await rejection(forged.send(new GetCallerIdentityCommand({})));
    expect([err.name, err.message]).toEqual(["InvalidClientTokenId", "The security token included in the request is invalid."]);
  });
});
