/**
 * The sandbox's Secrets Manager (GetSecretValue) and adapters/secrets.ts on it: versions and staging labels,
 * the secret's own region, AWS's refusals, and IAM on the secret's ARN
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetClients } from "../../../adapters/clients.ts";
import { getDbCredentials, secretRegion } from "../../../adapters/secrets.ts";
import { createSandbox, type Sandbox } from "../../../sandbox/aws/index.ts";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
let sb: Sandbox;

beforeEach(() => {
  resetClients();
  sb = createSandbox({ regions: [PRIMARY, DR] });
});
afterEach(() => sb.restore());

describe("the sandbox's GetSecretValue", () => {
  it("answers AWSCURRENT by default, and the value before a rotation as AWSPREVIOUS", async () => {
    const arn = sb.secretsManager.put(DR, "app/db", { username: "app", password: "first" });
    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${DR}:123456789012:secret:app/db-[a-z0-9]{6}$`));
    sb.secretsManager.put(DR, "app/db", { username: "app", password: "second" });
    const client = new SecretsManagerClient({ region: DR });
    const current = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(JSON.parse(current.SecretString!)).toEqual({ username: "app", password: "second" });
    expect(current.VersionStages).toEqual(["AWSCURRENT"]);
    const previous = await client.send(new GetSecretValueCommand({ SecretId: "app/db", VersionStage: "AWSPREVIOUS" }));
    expect(JSON.parse(previous.SecretString!)).toEqual({ username: "app", password: "first" });
    expect(sb.secretsManager.reads().map((r) => r.stage)).toEqual(["AWSCURRENT", "AWSPREVIOUS"]);
  });

  it("finds a secret only in its own region, and refuses a stage no version carries (ResourceNotFoundException)", async () => {
    const arn = sb.secretsManager.put(DR, "app/db", { username: "app", password: "p" });
    const wrongRegion = await new SecretsManagerClient({ region: PRIMARY }).send(new GetSecretValueCommand({ SecretId: arn })).catch((e: unknown) => e);
    expect(wrongRegion).toBeInstanceOf(ResourceNotFoundException);
    expect((wrongRegion as Error).message).toBe("Secrets Manager can't find the specified secret.");
    const noPrevious = await new SecretsManagerClient({ region: DR })
      .send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPREVIOUS" }))
      .catch((e: unknown) => e);
    expect(noPrevious).toBeInstanceOf(ResourceNotFoundException);
    expect((noPrevious as Error).message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS");
  });

  it("names RDS-managed master secrets rds!db-… and rds!cluster-…", () => {
    expect(sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "postgres", password: "x" })).toMatch(/:secret:rds!db-[0-9a-f-]{36}-[a-z0-9]{6}$/);
    expect(sb.secretsManager.putRdsMasterSecret(PRIMARY, "cluster", { username: "postgres", password: "x" })).toMatch(
      /:secret:rds!cluster-[0-9a-f-]{36}-[a-z0-9]{6}$/,
    );
  });
});

describe("adapters/secrets.ts getDbCredentials", () => {
  it("reads the secret in the region its ARN names, by stage", async () => {
    const arn = sb.secretsManager.putRdsMasterSecret(PRIMARY, "db", { username: "postgres", password: "old" });
    sb.secretsManager.put(PRIMARY, arn.split(":secret:")[1]!.slice(0, -7), { username: "postgres", password: "new" });
    expect(secretRegion(arn)).toBe(PRIMARY);
    expect(await getDbCredentials(arn)).toEqual({ username: "postgres", password: "new" });
    expect(await getDbCredentials(arn, "AWSPREVIOUS")).toEqual({ username: "postgres", password: "old" });
    expect(sb.callsTo("secretsManager").map((c) => [c.region, (c.input as { VersionStage: string }).VersionStage])).toEqual([
      [PRIMARY, "AWSCURRENT"],
      [PRIMARY, "AWSPREVIOUS"],
    ]);
  });

  it("refuses a secret without username and password, naming the secret and never echoing its value", async () => {
    const arn = sb.secretsManager.put(DR, "app/token", { token: "s3cr3t-value" });
    const err = (await getDbCredentials(arn).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`secret ${arn} (AWSCURRENT) has no username and password`);
    const raw = sb.secretsManager.put(DR, "app/raw", "s3cr3t-not-json");
    const err2 = (await getDbCredentials(raw).catch((e: unknown) => e)) as Error;
    expect(err2.message).toBe(`secret ${raw} (AWSCURRENT) is not JSON with username and password`);
    expect(`${err.message} ${err2.message}`).not.toContain("s3cr3t");
  });
});
