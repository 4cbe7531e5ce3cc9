/**
 * AWS Organizations: one organization across the sandbox's accounts (accounts.ts), its OUs and their accounts, and
 * ListAccountsForParent, the one call the fleet's target discovery makes.
 *
 * ListAccountsForParent (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html):
 * - ParentId is required (InvalidInputException, reason INPUT_REQUIRED) and is a root (`r-…`) or an OU
 *   (`ou-…-…`) id (INVALID_PATTERN); MaxResults is 1 to 20 (MIN_VALUE_EXCEEDED / MAX_VALUE_EXCEEDED); a NextToken
 *   this parent's listing did not give is INVALID_PAGINATION_TOKEN
 *   (https://docs.aws.amazon.com/organizations/latest/APIReference/API_InvalidInputException.html);
 * - "This operation can be called only from the organization's management account or by a member account that is a
 *   delegated administrator": an account outside the organization gets AWSOrganizationsNotInUseException, a member
 *   account that is neither AccessDeniedException;
 * - a parent the organization does not have: ParentNotFoundException;
 * - the accounts directly in the parent, every Status (ACTIVE, SUSPENDED, PENDING_CLOSURE), in the order they joined,
 *   at most MaxResults (default 20) per page with a NextToken while more follow.
 * The caller's IAM policy is checked before (the enforcer, iam/requests.ts, on the OU's ARN).
 */
import { ListAccountsForParentCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import type { CommandClass, CommandContext, CommandHandler, SandboxCore, ServiceSim } from "./engine.ts";
import { genericAwsError, type FaultKind } from "./errors.ts";

export type OrganizationAccountStatus = "ACTIVE" | "SUSPENDED" | "PENDING_CLOSURE";

export interface OrganizationAccountSpec {
  id: string;
  name: string;
  status?: OrganizationAccountStatus;
  email?: string;
}

interface OrganizationState {
  id: string;
  management: string;
  rootId: string;
  delegated: Set<string>;
  /** Parent id (root or OU) -> its accounts, in the order they joined. */
  parents: Map<string, Required<OrganizationAccountSpec>[]>;
}

export interface OrganizationsSim extends ServiceSim {
  /** Creates the organization with `management` as its management account (one per sandbox). */
  createOrganization(opts: { management: string; id?: string; rootId?: string }): { id: string; rootId: string };
  /** An OU under the root. */
  addOrganizationalUnit(ouId: string): void;
  /** An account of the organization in `parentId` (an OU or the root). */
  addAccount(parentId: string, account: OrganizationAccountSpec): void;
  /** `organizations register-delegated-administrator`: a member account that may list the organization. */
  registerDelegatedAdministrator(account: string): void;
}

/** The organization of each sandbox, by its shared accounts registry: every account's sim sees the same one. */
const ORGANIZATIONS = new WeakMap<object, { org?: OrganizationState }>();

/** The OU's ARN for IAM (`arn:aws:organizations::<management>:ou/<org>/<ou>`), by OU id, for the request mapping. */
const OU_ARNS = new Map<string, string>();
export function organizationalUnitArn(partition: string, account: string, ouId: string): string {
  return OU_ARNS.get(ouId) ?? `arn:${partition}:organizations::${account}:ou/o-unknownorg0/${ouId}`;
}

/** Each organization account's path (`o-…/r-…/ou-…/`), for the aws:ResourceOrgPaths of its resources. */
const ORG_PATHS = new Map<string, string>();
export function accountOrgPaths(account: string): string[] | undefined {
  const p = ORG_PATHS.get(account);
  return p ? [p] : undefined;
}

const invalid = (reason: string, message: string) => Object.assign(genericAwsError("InvalidInputException", message, 400), { Reason: reason });

export function createOrganizationsSim(_core: SandboxCore, shared: object): OrganizationsSim {
  let holder = ORGANIZATIONS.get(shared);
  if (!holder) ORGANIZATIONS.set(shared, (holder = {}));
  const h = holder;
  const org = (): OrganizationState => {
    if (!h.org) throw new Error("sandbox Organizations: createOrganization first");
    return h.org;
  };

  const listAccountsForParent = (input: { ParentId?: string; MaxResults?: number; NextToken?: string }, ctx: CommandContext) => {
    const parentId = input.ParentId;
    if (parentId === undefined) throw invalid("INPUT_REQUIRED", "You must specify a value for ParentId.");
    if (!/^(r-[0-9a-z]{4,32})$|^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/.test(parentId))
      throw invalid("INVALID_PATTERN", "You specified a value that is not valid for ParentId.");
    const max = input.MaxResults ?? 20;
    if (max < 1) throw invalid("MIN_VALUE_EXCEEDED", "You specified a value that is less than the minimum value of 1 for MaxResults.");
    if (max > 20) throw invalid("MAX_VALUE_EXCEEDED", "You specified a value that exceeds the maximum value of 20 for MaxResults.");
    const o = h.org;
    const caller = ctx.accountId;
    const member = o && (o.management === caller || [...o.parents.values()].some((accs) => accs.some((a) => a.id === caller)));
    if (!o || !member) throw genericAwsError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.", 400);
    if (o.management !== caller && !o.delegated.has(caller))
      throw genericAwsError("AccessDeniedException", "You don't have permissions to access this resource.", 400);
    const accounts = o.parents.get(parentId);
    if (!accounts) throw genericAwsError("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.", 400);
    let start = 0;
    if (input.NextToken !== undefined) {
      const m = /^sbx:([^:]+):(\d+)$/.exec(input.NextToken);
      if (!m || m[1] !== parentId || Number(m[2]) > accounts.length)
        throw invalid(
          "INVALID_PAGINATION_TOKEN",
          "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.",
        );
      start = Number(m[2]);
    }
    const page = accounts.slice(start, start + max);
    const end = start + page.length;
    return {
      Accounts: page.map((a) => ({
        Id: a.id,
        Arn: `arn:aws:organizations::${o.management}:account/${o.id}/${a.id}`,
        Email: a.email,
        Name: a.name,
        Status: a.status,
        JoinedMethod: "CREATED",
        JoinedTimestamp: new Date(0),
      })),
      ...(end < accounts.length ? { NextToken: `sbx:${parentId}:${end}` } : {}),
    };
  };

  const commands: Array<readonly [CommandClass, CommandHandler]> = [[ListAccountsForParentCommand, listAccountsForParent]];

  return {
    service: "organizations",
    clientClass: OrganizationsClient,
    commands,
    createOrganization({ management, id = `o-sbx${management}`, rootId = "r-sbx0" }) {
      if (h.org) throw new Error("sandbox Organizations: one organization per sandbox");
      h.org = { id, management, rootId, delegated: new Set(), parents: new Map([[rootId, []]]) };
      ORG_PATHS.set(management, `${id}/${rootId}/`);
      return { id, rootId };
    },
    addOrganizationalUnit(ouId) {
      const o = org();
      if (o.parents.has(ouId)) throw new Error(`sandbox Organizations: ${ouId} exists`);
      o.parents.set(ouId, []);
      OU_ARNS.set(ouId, `arn:aws:organizations::${o.management}:ou/${o.id}/${ouId}`);
    },
    addAccount(parentId, account) {
      const accounts = org().parents.get(parentId);
      if (!accounts) throw new Error(`sandbox Organizations: no parent ${parentId}`);
      accounts.push({ status: "ACTIVE", email: `${account.id}@example.com`, ...account });
      const o = org();
      ORG_PATHS.set(account.id, parentId === o.rootId ? `${o.id}/${o.rootId}/` : `${o.id}/${o.rootId}/${parentId}/`);
    },
    registerDelegatedAdministrator(account) {
      org().delegated.add(account);
    },
    faultFor(kind: FaultKind): Error {
      switch (kind) {
        case "throttling":
          return genericAwsError(
            "TooManyRequestsException",
            "AWS Organizations can't complete your request because another request is already in progress.",
            400,
          );
        case "accessDenied":
          return genericAwsError("AccessDeniedException", "You don't have permissions to access this resource.", 400);
        case "internal":
          return genericAwsError("ServiceException", "AWS Organizations can't complete your request because of an internal service error.", 500);
        default:
          return genericAwsError("InvalidInputException", `sandbox: no ${kind} fault for Organizations`, 400);
      }
    },
  };
}
