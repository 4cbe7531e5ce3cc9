import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { sts } from "./clients.ts";
import type { TargetCredentials, TargetIdentity } from "./assume-role.ts";

/**
 * The backup account's read-only role, as the workload's watchdog and prune assume it to read the vault's copies
 * (stacks/vault-definition.ts vaultReaderRole: Describe* of snapshots and locks in the vault regions, trusting those two
 * roles by aws:PrincipalArn). The session lasts 15 minutes, STS's shortest
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), renewed 5 minutes before it ends; a failed
 * AssumeRole is not cached.
 */

const sessions = new Map<string, { identity: Promise<TargetIdentity>; expiresMs?: number }>();
const SESSION_SECONDS = 900;
const REFRESH_MS = 5 * 60_000;

export function vaultReaderCredentials(input: { roleArn: string; sessionName: string; region: string; now: () => number }): TargetCredentials {
  const key = `${input.roleArn}|${input.sessionName}`;
  return {
    key,
    provider: () => {
      const hit = sessions.get(key);
      if (hit && (hit.expiresMs === undefined || input.now() < hit.expiresMs - REFRESH_MS)) return hit.identity;
      const entry: { identity: Promise<TargetIdentity>; expiresMs?: number } = {
        identity: sts(input.region)
          .send(new AssumeRoleCommand({ RoleArn: input.roleArn, RoleSessionName: input.sessionName, DurationSeconds: SESSION_SECONDS }))
          .then((out) => {
            const c = out.Credentials;
            if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
              throw new Error(`AssumeRole on ${input.roleArn} answered no credentials`);
            entry.expiresMs = c.Expiration.getTime();
            return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
          }),
      };
      entry.identity.catch(() => sessions.get(key) === entry && sessions.delete(key));
      sessions.set(key, entry);
      return entry.identity;
    },
  };
}

/** Forget the cached sessions (tests). */
export function resetVaultReaderSessions(): void {
  sessions.clear();
}
