/**
 * STS: AssumeRole and GetCallerIdentity across the sandbox's accounts (accounts.ts).
 *
 * AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * - RoleArn and RoleSessionName are required; RoleSessionName is 2–64 characters of `[\w+=,.@-]`, ExternalId 2–1224
 *   of `[\w+=,.@:/-]`, DurationSeconds 900 up to the role's maximum session duration (default 3600), at most 3600 when a
 *   role session assumes a role (role chaining) → `ValidationError`;
 * - the caller's identity policy must allow `sts:AssumeRole` on the role (the IAM enforcer, iam/requests.ts), and the
 *   role's trust policy must name the caller (its account or its role) with its conditions met, `sts:ExternalId` among
 *   them; a role that does not exist answers the same `AccessDenied`, so a caller cannot tell the two apart;
 * - the answer's temporary credentials (`ASIA…`, expiring after DurationSeconds on the sandbox clock) make any client
 *   built with them act in the role's account under the role's policies; after `Expiration` its calls fail with
 *   `ExpiredToken`.
 * Session policies (`Policy`, `PolicyArns`), session tags and MFA are not simulated: passing them fails loudly.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { Accounts } from "./accounts.ts";
import { trustAllows } from "./accounts.ts";
import type { CommandClass, CommandContext, CommandHandler, SandboxCore, ServiceSim } from "./engine.ts";
import { SandboxUnsupportedError, stsError, type FaultKind } from "./errors.ts";

export interface StsSim extends ServiceSim {}

function validation(field: string, value: unknown, constraint: string): Error {
  return stsError("ValidationError", `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

export function createStsSim(_core: SandboxCore, accounts: Accounts<unknown>): StsSim {
  const assumeRole = (
    input: {
      RoleArn?: string;
      RoleSessionName?: string;
      ExternalId?: string;
      DurationSeconds?: number;
      Policy?: string;
      PolicyArns?: unknown[];
      Tags?: unknown[];
      SerialNumber?: string;
    },
    ctx: CommandContext,
  ) => {
    if (input.Policy !== undefined || input.PolicyArns?.length || input.Tags?.length || input.SerialNumber !== undefined) {
      throw new SandboxUnsupportedError("sandbox STS does not simulate session policies, session tags or MFA");
    }
    const arn = input.RoleArn;
    if (arn === undefined)
      throw stsError("ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    if (arn.length < 20 || arn.length > 2048) throw validation("roleArn", arn, "Member must have length greater than or equal to 20");
    const name = input.RoleSessionName;
    if (name === undefined) {
      throw stsError("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    }
    if (name.length < 2) throw validation("roleSessionName", name, "Member must have length greater than or equal to 2");
    if (name.length > 64) throw validation("roleSessionName", name, "Member must have length less than or equal to 64");
    if (!/^[\w+=,.@-]*$/.test(name)) throw validation("roleSessionName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    const externalId = input.ExternalId;
    if (externalId !== undefined) {
      if (externalId.length < 2) throw validation("externalId", externalId, "Member must have length greater than or equal to 2");
      if (externalId.length > 1224) throw validation("externalId", externalId, "Member must have length less than or equal to 1224");
      if (!/^[\w+=,.@:/-]*$/.test(externalId)) throw validation("externalId", externalId, "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*");
    }
    const duration = input.DurationSeconds ?? 3600;
    if (duration < 900) throw validation("durationSeconds", duration, "Member must have value greater than or equal to 900");
    if (duration > 43_200) throw validation("durationSeconds", duration, "Member must have value less than or equal to 43200");

    const caller = accounts.callerOf(ctx.caller);
    const role = accounts.role(arn);
    if (!role || !trustAllows(role, caller, externalId)) {
      throw stsError("AccessDenied", `User: ${caller.displayArn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
    }
    if (caller.chained && duration > 3600) {
      throw stsError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
    }
    if (duration > (role.maxSessionDurationSeconds ?? 3600)) {
      throw stsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    const creds = accounts.issueSession(role, name, ctx.nowMs + duration * 1000);
    return {
      Credentials: { AccessKeyId: creds.accessKeyId, SecretAccessKey: creds.secretAccessKey, SessionToken: creds.sessionToken, Expiration: creds.expiration },
      AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${name}`, Arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${name}` },
    };
  };

  /** Needs no permission (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html). */
  const getCallerIdentity = (_input: unknown, ctx: CommandContext) => {
    const caller = accounts.callerOf(ctx.caller);
    return { UserId: caller.displayArn.split("/").slice(-1)[0], Account: caller.account, Arn: caller.displayArn };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [
    [AssumeRoleCommand, assumeRole],
    [GetCallerIdentityCommand, getCallerIdentity],
  ];

  return {
    service: "sts",
    clientClass: STSClient,
    commands,
    faultFor(kind: FaultKind): Error {
      switch (kind) {
        case "throttling":
          return stsError("Throttling", "Rate exceeded", 400);
        case "internal":
          return stsError("InternalFailure", "An internal error occurred.", 500);
        case "accessDenied":
          return stsError("AccessDenied", "User is not authorized to perform: sts:AssumeRole");
        default:
          return stsError("ValidationError", `sandbox: no ${kind} fault for STS`);
      }
    },
  };
}
