import { ListAccountsForParentCommand, type OrganizationsClient, type ListAccountsForParentCommandOutput } from "@aws-sdk/client-organizations";
import { organizations } from "./clients.ts";

/**
 * AWS Organizations, read by the fleet's target discovery (runbooks/fleet/targets.ts): the accounts of the fleet's OU.
 *
 * ListAccountsForParent (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html):
 * the accounts directly in the OU (not in its child OUs), at most MaxResults (1 to 20) per page; a page may be empty
 * while NextToken says more follow, so only a missing NextToken ends the listing. It "can be called only from the
 * organization's management account or by a member account that is a delegated administrator": any other caller gets
 * AccessDeniedException, and an account outside any organization AWSOrganizationsNotInUseException; both are rethrown
 * with what to do about them.
 *
 * The client is adapters/clients.ts's (us-east-1, and read-only under `npm run plan`).
 */

export interface OrganizationAccount {
  id: string;
  /** The account's name in Organizations (its owner's to set). */
  name: string;
  /** ACTIVE, SUSPENDED or PENDING_CLOSURE. */
  status: string;
}

/** The largest page ListAccountsForParent answers. */
export const ORGANIZATIONS_MAX_RESULTS = 20;

/** Why a caller could not list the OU, and what to do: an error of its own, its name kept, the AWS message after. */
export class OrganizationsAccessError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "OrganizationsAccessError";
  }
}

/** Every account directly in `parentId` (an OU or a root), whatever its status, in the order Organizations gives them. */
export async function listAccountsForParent(parentId: string, client: OrganizationsClient = organizations()): Promise<OrganizationAccount[]> {
  const out: OrganizationAccount[] = [];
  let token: string | undefined;
  do {
    let page: ListAccountsForParentCommandOutput;
    try {
      page = await client.send(new ListAccountsForParentCommand({ ParentId: parentId, MaxResults: ORGANIZATIONS_MAX_RESULTS, NextToken: token }));
    } catch (err) {
      const name = (err as Error).name;
      if (name === "AccessDeniedException" || name === "AWSOrganizationsNotInUseException") {
        throw new OrganizationsAccessError(
          `cannot list the accounts of ${parentId}: Organizations ListAccountsForParent can be called only from the organization's management account ` +
            `or a delegated administrator account, and this function's account is neither (deploy the stage there, or register its account with ` +
            `organizations register-delegated-administrator), or its role lacks organizations:ListAccountsForParent. AWS said: ${name}: ${(err as Error).message}`,
          err,
        );
      }
      throw err;
    }
    for (const a of page.Accounts ?? []) out.push({ id: a.Id ?? "", name: a.Name ?? "", status: String(a.Status ?? "") });
    token = page.NextToken;
  } while (token);
  return out;
}
