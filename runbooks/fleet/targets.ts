import type { OrganizationAccount } from "../../adapters/organizations.ts";
import { fleetTargetRegions, memberRoleName, type FleetAccount, type FleetFunction } from "../../schemas/config-fleet.ts";
import type { Config } from "../../schemas/config.ts";
import type { FleetTargetEvent } from "../../schemas/events-fleet.ts";
import type { FleetTargetsEvent } from "../../schemas/events-fleet-targets.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The fleet's target discovery: the first step of a fleet job's state machine when the fleet names an Organizations OU
 * (stacks/fleet-fanout-definition.ts), whose accounts are known only at run time. Its answer is the Distributed Map's
 * items: every account of the OU and every listed account, each in its regions, as the job's member role.
 *
 * - Only ACTIVE accounts: a SUSPENDED or PENDING_CLOSURE account cannot be acted in
 *   (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html, Status).
 * - A listed account (`fleet.accounts`) wins over the OU: its own name, external id, role prefix and regions.
 * - The central account (the one deploying the stage, from the state machine's ARN) is never an item: its own jobs act
 *   there already (schemas/config-fleet.ts fleetDeployProblem says why twice is wrong); nor is the vault account
 *   (`vault.accountId`), which no workload role may touch.
 * - At most `maxItems` (the definition's payload limit): more is refused, naming the count, rather than failing the
 *   execution later on a payload it cannot carry.
 */

export interface FleetTargetsDeps {
  listAccountsForParent: (parentId: string) => Promise<OrganizationAccount[]>;
}

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>` -> its partition and account. */
export function stateMachineOwner(arn: string): { partition: string; account: string } {
  const parts = arn.split(":");
  return { partition: parts[1] ?? "aws", account: parts[4] ?? "" };
}

export interface FleetTargetsPlan {
  items: FleetTargetEvent[];
  /** Accounts of the OU left out, with why. */
  skipped: { account: string; name: string; reason: string }[];
}

/** The items of `job`, from the configuration and the OU's accounts as Organizations lists them. Pure. */
export function planFleetTargets(
  config: Config,
  job: FleetFunction,
  owner: { partition: string; account: string },
  ouAccounts: readonly OrganizationAccount[],
  maxItems: number,
): FleetTargetsPlan {
  const fleet = config.fleet;
  if (!fleet) throw new Error(`the ${config.stage} configuration has no fleet section: no targets to discover`);
  const ou = fleet.organizationalUnit;
  const excluded = new Map<string, string>([[owner.account, "the central account (the stage's own jobs act there)"]]);
  const vault = config.vault?.accountId;
  if (vault && !excluded.has(vault)) excluded.set(vault, "the vault account (config.vault.accountId)");
  const skipped: FleetTargetsPlan["skipped"] = [];
  const targets: { id: string; name: string; entry: Pick<FleetAccount, "regions" | "roleNamePrefix"> }[] = [];
  const seen = new Set<string>();
  for (const a of fleet.accounts) {
    if (excluded.has(a.id)) continue;
    seen.add(a.id);
    targets.push({ id: a.id, name: a.name, entry: a });
  }
  if (ou) {
    for (const a of ouAccounts) {
      if (seen.has(a.id)) continue;
      const reason = a.status !== "ACTIVE" ? `status ${a.status}` : excluded.get(a.id);
      if (reason) {
        skipped.push({ account: a.id, name: a.name, reason });
        continue;
      }
      seen.add(a.id);
      targets.push({ id: a.id, name: a.name || a.id, entry: ou });
    }
  }
  const items = targets.flatMap((t) =>
    fleetTargetRegions(config, t.entry).map((region) => ({
      account: t.id,
      // Organizations allows 1 to 50 characters; the reports and the summary's schema take the same.
      accountName: t.name.slice(0, 50),
      region,
      roleArn: `arn:${owner.partition}:iam::${t.id}:role/${memberRoleName(config, job, t.entry)}`,
    })),
  );
  if (items.length > maxItems) {
    throw new Error(
      `the fleet ${job} has ${items.length} account × region items (${targets.length} accounts); at most ${maxItems} fit Step Functions' 256 KiB payload limit with their results: narrow fleet.organizationalUnit.regions or split the OU`,
    );
  }
  return { items, skipped };
}

export async function runFleetTargets(event: FleetTargetsEvent, ctx: RunContext, deps: FleetTargetsDeps): Promise<RunOutcome> {
  const ou = ctx.config.fleet?.organizationalUnit;
  const ouAccounts = ou ? await deps.listAccountsForParent(ou.id) : [];
  const plan = planFleetTargets(ctx.config, event.job, stateMachineOwner(event.stateMachine), ouAccounts, event.maxItems);
  ctx.logger.info("fleet targets", { job: event.job, items: plan.items.length, skipped: plan.skipped });
  return {
    report: { job: event.job, items: plan.items.length, skipped: plan.skipped },
    message: null,
    failures: [],
    response: { items: plan.items },
  };
}
