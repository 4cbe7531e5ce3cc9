import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";
import { fleetDeployProblem, fleetTargetRegions, memberRoleName } from "../../../schemas/config-fleet.ts";

/** A stage in eu-west-1 with a DR region, its keys given as aliases (a fleet refuses key ARNs). */
const base = {
  stage: "prod",
  primaryRegion: "eu-west-1",
  drRegions: [{ region: "eu-central-1", kmsKeyId: "alias/dr-backups" }],
};
const account = { id: "111122223333", name: "payments", externalId: "oa-prod-payments-7f3c" };
const withFleet = (fleet: unknown, extra: Record<string, unknown> = {}) => parseConfig({ ...base, ...extra, fleet });
/** The whole message of what `fn` throws: exactly one issue, nothing else refused. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

describe("config fleet", () => {
  it("takes listed accounts and an OU, defaulting regions to the stage's and role names to <app>-<stage>-member-<function>", () => {
    const config = withFleet({ accounts: [account], organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-ou" } });
    expect(config.fleet).toEqual({ accounts: [account], organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-ou" } });
    expect(fleetTargetRegions(config, config.fleet!.accounts[0]!)).toEqual(["eu-west-1", "eu-central-1"]);
    expect(memberRoleName(config, "prune", config.fleet!.accounts[0])).toBe("ops-autopilot-prod-member-prune");
    expect(memberRoleName(config, "prune", { roleNamePrefix: "OpsAutopilot" })).toBe("OpsAutopilot-prune");
  });

  it("is absent unless configured, and then refuses nothing it did not refuse before (key ARNs included)", () => {
    const config = parseConfig({ ...base, drRegions: [{ region: "eu-central-1", kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/0c7f" }] });
    expect(config.fleet).toBeUndefined();
  });

  it.each([
    ["no account and no OU", {}, "Invalid config: fleet: list accounts, an organizationalUnit, or both"],
    [
      "an account id that is not 12 digits",
      { accounts: [{ ...account, id: "11112222333" }] },
      "Invalid config: fleet.accounts[0].id: expected a 12-digit AWS account id",
    ],
    [
      "a duplicate account id",
      { accounts: [account, { ...account, name: "payments-2" }] },
      'Invalid config: fleet.accounts[1].id: duplicate account id "111122223333" (also accounts[0])',
    ],
    [
      "a duplicate account name",
      { accounts: [account, { ...account, id: "444455556666" }] },
      'Invalid config: fleet.accounts[1].name: duplicate account name "payments" (also accounts[0]): reports name accounts by it',
    ],
    [
      "an external id with a space (a trust policy takes it, STS never sends it)",
      { accounts: [{ ...account, externalId: "my id" }] },
      "Invalid config: fleet.accounts[0].externalId: expected 2 to 1224 letters, digits or _+=,.@:/- (STS AssumeRole ExternalId)",
    ],
    [
      "an external id of one character",
      { accounts: [{ ...account, externalId: "x" }] },
      "Invalid config: fleet.accounts[0].externalId: expected 2 to 1224 letters, digits or _+=,.@:/- (STS AssumeRole ExternalId)",
    ],
    [
      "an external id of 1225 characters",
      { accounts: [{ ...account, externalId: "a".repeat(1225) }] },
      "Invalid config: fleet.accounts[0].externalId: expected 2 to 1224 letters, digits or _+=,.@:/- (STS AssumeRole ExternalId)",
    ],
    [
      "an OU id outside the Organizations pattern",
      { organizationalUnit: { id: "ou-AB12-cd34ef56", externalId: "oa-prod-ou" } },
      "Invalid config: fleet.organizationalUnit.id: expected an AWS Organizations OU id such as ou-ab12-cd34ef56",
    ],
    [
      "a region that is not the stage's",
      { accounts: [{ ...account, regions: ["eu-west-1", "us-east-1"] }] },
      'Invalid config: fleet.accounts[0].regions[1]: "us-east-1" is not a region of this stage (eu-west-1, eu-central-1): the member roles allow only those',
    ],
    [
      "regions without the primary",
      { organizationalUnit: { id: "ou-ab12-cd34ef56", externalId: "oa-prod-ou", regions: ["eu-central-1"] } },
      "Invalid config: fleet.organizationalUnit.regions: must include primaryRegion eu-west-1: backups are made there and copied from there",
    ],
    [
      "a region listed twice",
      { accounts: [{ ...account, regions: ["eu-west-1", "eu-west-1"] }] },
      'Invalid config: fleet.accounts[0].regions[1]: duplicate region "eu-west-1"',
    ],
    [
      "a role name prefix IAM refuses",
      { accounts: [{ ...account, roleNamePrefix: "ops autopilot" }] },
      "Invalid config: fleet.accounts[0].roleNamePrefix: expected letters, digits or _+=,.@- (an IAM role name)",
    ],
    [
      "a role name prefix that makes a role name longer than 64 characters",
      { accounts: [{ ...account, roleNamePrefix: "p".repeat(56) }] },
      `Invalid config: fleet.accounts[0].roleNamePrefix: the member role name "${"p".repeat(56)}-watchdog" is 65 characters; IAM allows 64: set a roleNamePrefix of at most 55`,
    ],
    ["an unknown key", { accounts: [{ ...account, role: "x" }] }, 'Invalid config: fleet.accounts[0]: Unrecognized key: "role"'],
  ])("refuses %s, naming the field", (_what, fleet, message) => {
    expect(errorOf(() => withFleet(fleet))).toBe(message);
  });

  it("fits the default role names within IAM's 64 characters for the longest app and stage the snapshot prefix allows", () => {
    // app and stage are bounded by the snapshot name prefix (oa-<app>-<stage>-, at most 34 characters): 29 between them.
    const config = parseConfig({ ...base, app: "a".repeat(14), stage: "s".repeat(15), fleet: { accounts: [account] } });
    expect(memberRoleName(config, "watchdog")).toBe(`${"a".repeat(14)}-${"s".repeat(15)}-member-watchdog`);
    expect(memberRoleName(config, "watchdog")).toHaveLength(46);
  });

  it("refuses KMS keys given by key ARN or key id when a fleet is configured: they name one key of one account", () => {
    const keyArn = "arn:aws:kms:eu-central-1:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab";
    const sourceArn = "arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d";
    const explain =
      "names one key of one account, which member accounts cannot use: with a fleet, give the key as an alias (alias/<name>) that exists in every member account";
    expect(errorOf(() => withFleet({ accounts: [account] }, { drRegions: [{ region: "eu-central-1", kmsKeyId: keyArn }] }))).toBe(
      `Invalid config: drRegions[0].kmsKeyId: "${keyArn}" ${explain}`,
    );
    expect(errorOf(() => withFleet({ accounts: [account] }, { drRegions: [{ region: "eu-central-1", kmsKeyId: "0c7f2b3a-5d1e" }] }))).toBe(
      `Invalid config: drRegions[0].kmsKeyId: "0c7f2b3a-5d1e" ${explain}`,
    );
    expect(errorOf(() => withFleet({ accounts: [account] }, { backup: { sourceKmsKeyIds: [sourceArn] } }))).toBe(
      `Invalid config: backup.sourceKmsKeyIds[0]: "${sourceArn}" ${explain}`,
    );
    // Aliases, by name or ARN, resolve in the account that uses them.
    expect(
      withFleet(
        { accounts: [account] },
        {
          drRegions: [{ region: "eu-central-1", kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:alias/dr-backups" }],
          backup: { sourceKmsKeyIds: ["arn:aws:kms:eu-west-1:123456789012:alias/source"] },
        },
      ).fleet?.accounts,
    ).toEqual([account]);
  });
});

describe("the account the stage is deployed in (fleetDeployProblem)", () => {
  // Its own resources are the central jobs' (their own schedules, ledger state/prune/<day>.json, claims, alert state):
  // as a member too, its prune would count the day's deletes in two ledgers, each under the full cap.
  it("is refused as a member of its own fleet, named; any other account deploys", () => {
    const config = withFleet({ accounts: [account, { id: "444455556666", name: "search", externalId: "oa-prod-search-19ab" }] });
    expect(fleetDeployProblem(config, "111122223333")).toBe(
      "refusing to deploy stage prod into account 111122223333: it is fleet.accounts[0] (payments). The stage's own jobs act in the account it is deployed in; as a fleet member too, each would run there twice and prune's daily caps would count in two ledgers. Remove it from fleet.accounts",
    );
    expect(fleetDeployProblem(config, "999988887777")).toBeUndefined();
    expect(fleetDeployProblem(parseConfig(base), "111122223333")).toBeUndefined();
  });
});
