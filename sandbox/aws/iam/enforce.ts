/**
 * IAM enforcement in the sandbox: every call is authorized as the principal making it before the
 * simulated service sees it, and a denied call fails with the error each service really returns:
 * RDS, S3, Route 53 and CloudWatch `AccessDenied` (403), EC2 `UnauthorizedOperation` (403), the RDS Data API
 * `AccessDeniedException` (403), each with
 * AWS's message "User: <arn> is not authorized to perform: <action> on resource: <arn> because no
 * identity-based policy allows the <action> action"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 *
 * A call made outside any principal (test setup, what people do in the account) is the account's
 * administrator: allowed, and not counted.
 */
import { ec2Error, rdsError, s3Error, stsError } from "../errors.ts";
import { route53Error } from "../route53.ts";
import { cloudwatchError } from "../cloudwatch.ts";
import { evaluate, type AuthRequest, type PolicyStatement } from "./policy.ts";
import { authorizationsFor, type RequestEnv } from "./requests.ts";
import { recordUsage } from "./usage.ts";

/** The sandbox's AWS managed keys: `key/aws-ebs-default`, `key/aws-rds-default`, and the `aws/<service>` aliases. */
const AWS_MANAGED_KEY = /:key\/(aws-[a-z0-9]+-default|alias-aws-[a-z0-9]+)$/;

export interface Principal {
  /** The function whose role this is (`backup`, `prune`, ...). */
  name: string;
  roleArn: string;
  statements: readonly PolicyStatement[];
}

/** Who is calling right now; undefined for the account's administrator. */
export type PrincipalResolver = () => Principal | undefined;

export interface AccessDeniedRecord {
  principal: string;
  request: AuthRequest;
  reason: string;
}

function sessionArn(p: Principal): string {
  const [, , , , account, rest] = p.roleArn.split(":");
  const role = (rest ?? "").replace(/^role\//, "");
  return `arn:aws:sts::${account}:assumed-role/${role}/${p.name}`;
}

export function accessDeniedError(service: string, principal: Principal, req: AuthRequest, reason: string): Error {
  const why = reason.startsWith("explicitly") ? `with an explicit deny in an identity-based policy` : `because ${reason}`;
  const text = `User: ${sessionArn(principal)} is not authorized to perform: ${req.action} on resource: ${req.resource} ${why}`;
  switch (service) {
    case "rds":
      return rdsError("AccessDenied", text, 403);
    case "ec2":
      return ec2Error(
        "UnauthorizedOperation",
        `You are not authorized to perform this operation. ${text}. Encoded authorization failure message: ${Buffer.from(text).toString("base64url").slice(0, 64)}`,
        403,
      );
    case "s3":
      return s3Error("AccessDenied", text, 403);
    case "route53":
      return route53Error("AccessDenied", text, 403);
    case "cloudwatch":
      return Object.assign(cloudwatchError("AccessDenied", text, 403), { Code: "AccessDenied" });
    case "sts":
      return stsError("AccessDenied", text, 403);
    case "rdsData":
      // The Data API's modelled AccessDeniedException (403, https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonErrors.html).
      return Object.assign(new Error(text), { name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 } });
    case "lambda":
      // Lambda names an IAM refusal AccessDeniedException (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
      return Object.assign(new Error(text), { name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 } });
    default:
      return Object.assign(new Error(text), { name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 } });
  }
}

/** A call made with credentials the sandbox issued (accounts.ts): its principal, undefined for an account's administrator. */
export interface SessionCaller {
  principal?: Principal;
}

export interface Enforcer {
  /**
   * Throws the service's access-denied error unless the current principal may make this call. With `caller` (a call
   * made with sandbox-issued credentials) its principal is evaluated instead of the resolver's, and not counted for
   * `npm run iam-report` (which covers the functions' roles).
   */
  authorize(service: string, command: string, input: unknown, env: RequestEnv, caller?: SessionCaller): void;
  /**
   * S3 answers a missing key with 403 AccessDenied instead of 404 when the caller may not list the bucket
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions").
   */
  mapError(service: string, command: string, input: unknown, env: RequestEnv, err: unknown, caller?: SessionCaller): unknown;
  /** Every denial so far, for tests that assert what was refused. */
  readonly denials: AccessDeniedRecord[];
  /**
   * A test that provokes a denial on purpose declares it, so `npm run iam-report -- --check` counts it as
   * expected rather than as a call the role wrongly refuses.
   */
  expectDenial(principal: string, action: string): void;
}

export function createEnforcer(resolve: PrincipalResolver, options: { recordUsage?: boolean } = {}): Enforcer {
  const record: typeof recordUsage = options.recordUsage === false ? () => {} : recordUsage;
  const denials: AccessDeniedRecord[] = [];
  const expected = new Set<string>();
  return {
    denials,
    expectDenial(principal, action) {
      expected.add(`${principal} ${action}`);
    },
    authorize(service, command, input, env, caller) {
      const principal = caller ? caller.principal : resolve();
      if (!principal) return;
      const count: typeof recordUsage = caller ? () => {} : record;
      const requests = authorizationsFor(service, command, input, env);
      if (!requests) {
        throw new Error(`sandbox IAM: no authorization mapping for ${service}:${command} (add it to sandbox/iam/requests.ts)`);
      }
      for (const req of requests) {
        // AWS managed keys (aws/ebs, aws/rds) are used through their service by any principal of the account:
        // their key policy allows it, no identity policy is involved
        // (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
        if (req.action.startsWith("kms:") && AWS_MANAGED_KEY.test(req.resource)) continue;
        const d = evaluate(principal.statements, req);
        count(principal.name, req.action, d.allowed, expected.has(`${principal.name} ${req.action}`));
        if (!d.allowed) {
          if (process.env.OPS_AUTOPILOT_IAM_TRACE) console.error(`[iam] ${principal.name} denied ${req.action} on ${req.resource}: ${d.reason}`);
          denials.push({ principal: principal.name, request: req, reason: d.reason });
          throw accessDeniedError(service, principal, req, d.reason);
        }
      }
    },
    mapError(service, command, input, env, err, caller) {
      const principal = caller ? caller.principal : resolve();
      const name = (err as { name?: string })?.name;
      if (!principal || service !== "s3" || (command !== "GetObject" && command !== "HeadObject") || (name !== "NoSuchKey" && name !== "NotFound")) {
        return err;
      }
      const bucket = String((input as { Bucket?: string }).Bucket);
      const key = String((input as { Key?: string }).Key);
      // The same authorization a ListObjectsV2 of this key's prefix would need.
      const [list] = authorizationsFor("s3", "ListObjectsV2", { Bucket: bucket, Prefix: key }, env)!;
      const canList = evaluate(principal.statements, list!).allowed;
      if (!caller) record(principal.name, "s3:ListBucket", canList, !canList && expected.has(`${principal.name} s3:ListBucket`));
      if (canList) return err;
      return accessDeniedError(
        "s3",
        principal,
        { action: "s3:GetObject", resource: `arn:${env.partition}:s3:::${bucket}/${key}`, context: {} },
        "no identity-based policy allows the s3:ListBucket action",
      );
    },
  };
}
