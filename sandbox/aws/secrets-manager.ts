/**
 * Secrets Manager: the secrets a database password lives in, read with GetSecretValue
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 *
 * Rules kept from AWS:
 * - a secret's ARN is `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>`
 *   (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources);
 *   `SecretId` is the name or the ARN, and a secret is found only in its own region (ResourceNotFoundException
 *   "Secrets Manager can't find the specified secret.");
 * - without VersionId or VersionStage the answer is the `AWSCURRENT` version; a rotation moves `AWSCURRENT` to the
 *   new value and `AWSPREVIOUS` to the one before it
 *   (https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version); a stage no
 *   version carries is ResourceNotFoundException ("Secrets Manager can't find the specified secret value for
 *   staging label: …").
 *
 * RDS-managed master user secrets are named `rds!db-<uuid>` / `rds!cluster-<uuid>` and hold
 * `{"username","password"}` (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html):
 * `putRdsMasterSecret` creates one that way.
 */
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import type { CommandContext, CommandHandler, CommandClass, SandboxCore, ServiceSim } from "./engine.ts";
import type { FaultKind, SandboxServiceError } from "./errors.ts";

interface Version {
  id: string;
  value: string;
  stages: Set<string>;
  created: Date;
}

interface Secret {
  region: string;
  name: string;
  arn: string;
  versions: Version[];
}

export interface SecretsManagerSim extends ServiceSim {
  /**
   * Create a secret (or a new `AWSCURRENT` version of it: a rotation) and return its ARN. `suffix` fixes the six
   * characters AWS appends to a new secret's ARN (default: the next of a counter), for a test that must know the ARN
   * before creating it (a role granting it).
   */
  put(region: string, name: string, value: string | Record<string, unknown>, options?: { suffix?: string }): string;
  /** An RDS-managed master user secret (`rds!db-…` or `rds!cluster-…`) holding `{ username, password }`. */
  putRdsMasterSecret(region: string, kind: "db" | "cluster", credentials: { username: string; password: string }): string;
  /** Every GetSecretValue answered: which secret and stage (never the value). */
  reads(): Array<{ region: string; arn: string; stage: string; at: Date }>;
  /**
   * The `AWSCURRENT` value of the secret `id` (ARN or name) in `region`, or undefined when the region has no such secret:
   * what a service reading the secret for its caller (the RDS Data API) sees. Not a call, not recorded in reads().
   */
  currentValue(region: string, id: string): string | undefined;
}

type Ctor = new (opts: { message: string; $metadata: SandboxServiceError["$metadata"] }) => Error;

function smError(cls: Ctor, status: number, message: string): Error {
  const $metadata = {
    httpStatusCode: status,
    requestId: "sandbox-secretsmanager",
    extendedRequestId: undefined,
    cfId: undefined,
    attempts: 1,
    totalRetryDelay: 0,
  };
  return new cls({ message, $metadata });
}

const notFound = (message = "Secrets Manager can't find the specified secret.") => smError(ResourceNotFoundException as unknown as Ctor, 400, message);

export function createSecretsManagerSim(core: SandboxCore): SecretsManagerSim {
  const secrets: Secret[] = [];
  const reads: ReturnType<SecretsManagerSim["reads"]> = [];
  let counter = 0;
  const suffix = () => {
    counter += 1;
    return counter.toString(36).padStart(6, "a").slice(-6);
  };

  function put(region: string, name: string, value: string | Record<string, unknown>, options: { suffix?: string } = {}): string {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    let secret = secrets.find((s) => s.region === region && s.name === name);
    if (!secret) {
      secret = { region, name, arn: `arn:aws:secretsmanager:${region}:${core.accountId}:secret:${name}-${options.suffix ?? suffix()}`, versions: [] };
      secrets.push(secret);
    }
    for (const v of secret.versions) {
      v.stages.delete("AWSPREVIOUS");
      if (v.stages.delete("AWSCURRENT")) v.stages.add("AWSPREVIOUS");
    }
    secret.versions.push({
      id: `v${secret.versions.length + 1}-${suffix()}`,
      value: text,
      stages: new Set(["AWSCURRENT"]),
      created: new Date(core.clock.nowMs()),
    });
    return secret.arn;
  }

  const find = (region: string, id: string): Secret | undefined =>
    id.startsWith("arn:")
      ? secrets.find((s) => s.region === region && (s.arn === id || s.arn.slice(0, -7) === id))
      : secrets.find((s) => s.region === region && s.name === id);

  const getSecretValue: CommandHandler = (input: { SecretId?: string; VersionId?: string; VersionStage?: string }, ctx: CommandContext) => {
    if (typeof input.SecretId !== "string" || input.SecretId === "")
      throw smError(SecretsManagerServiceException as unknown as Ctor, 400, "SecretId is required.");
    const secret = find(ctx.region, input.SecretId);
    if (!secret) throw notFound();
    const stage = input.VersionStage ?? (input.VersionId ? undefined : "AWSCURRENT");
    const version = secret.versions.find((v) => (input.VersionId === undefined || v.id === input.VersionId) && (stage === undefined || v.stages.has(stage)));
    if (!version)
      throw notFound(`Secrets Manager can't find the specified secret value for ${stage ? `staging label: ${stage}` : `VersionId: ${input.VersionId}`}`);
    reads.push({ region: ctx.region, arn: secret.arn, stage: stage ?? [...version.stages][0] ?? "", at: new Date(ctx.nowMs) });
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: version.created,
    };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [[GetSecretValueCommand, getSecretValue]];

  function faultFor(kind: FaultKind): Error {
    switch (kind) {
      case "throttling":
        return Object.assign(
          new SecretsManagerServiceException({
            name: "ThrottlingException",
            $fault: "client",
            $metadata: {
              httpStatusCode: 400,
              requestId: "sandbox-secretsmanager",
              extendedRequestId: undefined,
              cfId: undefined,
              attempts: 1,
              totalRetryDelay: 0,
            },
            message: "Rate exceeded",
          }),
        );
      case "notFound":
        return notFound();
      case "accessDenied":
        return Object.assign(
          new SecretsManagerServiceException({
            name: "AccessDeniedException",
            $fault: "client",
            $metadata: {
              httpStatusCode: 400,
              requestId: "sandbox-secretsmanager",
              extendedRequestId: undefined,
              cfId: undefined,
              attempts: 1,
              totalRetryDelay: 0,
            },
            message: "User is not authorized to perform: secretsmanager:GetSecretValue",
          }),
        );
      default:
        return smError(InternalServiceError as unknown as Ctor, 500, "An error occurred on the server side.");
    }
  }

  return {
    service: "secretsManager",
    clientClass: SecretsManagerClient,
    commands,
    faultFor,
    put,
    putRdsMasterSecret(region, kind, credentials) {
      counter += 1;
      const uuid = `${counter.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
      return put(region, `rds!${kind}-${uuid}`, { username: credentials.username, password: credentials.password });
    },
    reads: () => reads.map((r) => ({ ...r })),
    currentValue: (region, id) => find(region, id)?.versions.find((v) => v.stages.has("AWSCURRENT"))?.value,
  };
}
