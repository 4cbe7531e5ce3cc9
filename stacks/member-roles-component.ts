/// <reference path="../.sst/platform/config.d.ts" />
import type { Config } from "../schemas/config.ts";
import { FLEET_FUNCTIONS, type FleetFunction } from "../schemas/config-fleet.ts";
import { fleetTargetOf, memberRoles, memberRoleViolations, type MemberRole } from "./member-roles.ts";

export interface MemberRolesArgs {
  /** The account the central stage (its functions' roles) is deployed in. */
  centralAccountId: string;
  /** The member account this stage deploys to, and its partition, resolved once (as stacks/main.ts resolves its own). */
  identity: $util.Output<{ account: string; partition: string }>;
  provider?: aws.Provider;
}

/**
 * The fleet's member roles (stacks/member-roles.ts) in the account a stage of the central configuration is deployed
 * to: one `aws.iam.Role` per fleet function with its one inline policy, exactly the data the StackSet template
 * (scripts/member-role-template.ts) is made from. The account must be listed in `fleet.accounts` or belong to the
 * fleet's OU; the roles are checked with the policy lint before anything is declared.
 *
 * @example
 * // in a member account's stage: run() { memberRolesComponent(loadConfig($app.name, "prod"), { centralAccountId: "999988887777", identity }) }
 */
export function memberRolesComponent(config: Config, args: MemberRolesArgs): Record<FleetFunction, aws.iam.Role> {
  const roles = args.identity.apply(({ account, partition }): MemberRole[] => {
    const target = { account, partition, centralAccountId: args.centralAccountId, target: fleetTargetOf(config, account) };
    const data = memberRoles(config, target);
    const violations = memberRoleViolations(config, target, data);
    if (violations.length) throw new Error(`member roles fail the policy lint: ${violations.join(" | ")}`);
    return data;
  });
  const opts = args.provider ? { provider: args.provider } : undefined;
  const role = (fn: FleetFunction) => roles.apply((all) => all.find((r) => r.fn === fn)!);
  return Object.fromEntries(
    FLEET_FUNCTIONS.map((fn) => {
      const r = role(fn);
      return [
        fn,
        new aws.iam.Role(
          `${fn.charAt(0).toUpperCase()}${fn.slice(1)}MemberRole`,
          {
            name: r.apply((x) => x.name),
            description: r.apply((x) => x.description),
            assumeRolePolicy: r.apply((x) => JSON.stringify(x.trustPolicy)),
            inlinePolicies: r.apply((x) => [{ name: x.policyName, policy: JSON.stringify(x.policy) }]),
          },
          opts,
        ),
      ];
    }),
  ) as Record<FleetFunction, aws.iam.Role>;
}
