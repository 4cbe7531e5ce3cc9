import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { secretsManager } from "./clients.ts";

/**
 * Database credentials from Secrets Manager: a configured secret or an RDS-managed master user secret, both JSON
 * with `username` and `password` (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 * The secret is read in the region its ARN names. Errors name the secret and the stage, never its value.
 */
export interface DbCredentials {
  username: string;
  password: string;
}

/** The region a secret ARN names (`arn:aws:secretsmanager:<region>:…`). */
export const secretRegion = (secretArn: string): string => secretArn.split(":")[3] ?? "";

/**
 * `stage` is `AWSCURRENT` (the default) or `AWSPREVIOUS`: a snapshot keeps the password of the day it was taken,
 * and a rotation since then leaves that password in the previous version
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 */
export async function getDbCredentials(secretArn: string, stage: "AWSCURRENT" | "AWSPREVIOUS" = "AWSCURRENT"): Promise<DbCredentials> {
  const out = await secretsManager(secretRegion(secretArn)).send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: stage }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? "");
  } catch {
    throw new Error(`secret ${secretArn} (${stage}) is not JSON with username and password`);
  }
  const { username, password } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    throw new Error(`secret ${secretArn} (${stage}) has no username and password`);
  }
  return { username, password };
}
