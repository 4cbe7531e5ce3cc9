/**
 * The sandbox as the app's tests and scenarios use it: the fake AWS of sandbox/aws/ with IAM enforcement on by
 * default, every call a function makes while it runs evaluated against that function's role as stacks/ derives it
 * (sandbox/scenarios/roles.ts). Everything else is sandbox/aws/index.ts, re-exported. See sandbox/README.md.
 *
 * @example
 * const sb = createSandbox({ clock: new FakeClock("2025-01-01T02:00:00Z"), regions: ["eu-west-1", "eu-central-1"] });
 * sb.rds.addInstance("eu-west-1", { id: "app-db", tags: { "ops-autopilot:backup": "default" } });
 * await handler(event, lambdaContext("req-1")); // its calls are checked against the function's role
 * expect(sb.iam?.denials).toEqual([]);
 * sb.restore();
 */
import {
  createSandbox as createAwsSandbox,
  DEFAULT_ACCOUNT_ID,
  type PrincipalResolver,
  type Sandbox,
  type SandboxOptions as AwsSandboxOptions,
  type SandboxSnapshotKind,
} from "./aws/index.ts";
import { functionRole, functionRoles, type RoleBuckets } from "./scenarios/roles.ts";
import type { RESOURCE_KINDS } from "../core/resource-kinds.ts";
import type { FunctionName } from "../stacks/functions.ts";
import type { Config } from "../schemas/config.ts";

export * from "./aws/index.ts";
export type { RoleBuckets } from "./scenarios/roles.ts";

/** Fails to compile when the app gains a resource kind the fake AWS holds no snapshots of. */
type KindsCovered = (typeof RESOURCE_KINDS)[number] extends SandboxSnapshotKind ? true : never;
const kindsCovered: KindsCovered = true;
void kindsCovered;

export interface SandboxOptions extends Omit<AwsSandboxOptions, "iam"> {
  /**
   * IAM enforcement (on by default): every call a function makes while it runs is evaluated against that
   * function's role as stacks/ derives it. The Reports bucket and the failover state bucket default to the
   * first of `buckets`. `principal` replaces the resolver (tests of the enforcement itself).
   * `false` turns enforcement off; only the sandbox's own service tests may do that.
   */
  iam?:
    | false
    | (RoleBuckets & {
        principal?: PrincipalResolver;
        /** Calls outside any handler invocation act as this role (scenarios that drive a runbook without the handler chain); default: the administrator. */
        defaultRole?: { name: FunctionName; config: Config };
        /** Count authorizations for `npm run iam-report` (default true; tests of the enforcement itself turn it off). */
        recordUsage?: boolean;
      });
}

export function createSandbox(options: SandboxOptions): Sandbox {
  const { iam, ...rest } = options;
  if (iam === false) return createAwsSandbox({ ...rest, iam: false });
  const recordUsage = iam?.recordUsage ?? true;
  if (iam?.principal) return createAwsSandbox({ ...rest, iam: { principal: iam.principal, recordUsage } });
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const first = options.buckets?.[0];
  const buckets: RoleBuckets = { reportsBucket: iam?.reportsBucket ?? first, stateBucket: iam?.stateBucket ?? first };
  const roles = functionRoles(accountId, buckets);
  const fallback = iam?.defaultRole;
  const principal: PrincipalResolver = fallback ? () => roles() ?? functionRole(fallback.name, fallback.config, accountId, buckets) : roles;
  return createAwsSandbox({ ...rest, iam: { principal, recordUsage } });
}
