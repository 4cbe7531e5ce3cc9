import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../schemas/config.ts";
import { memberRoles, fleetTargetOf } from "../../stacks/member-roles.ts";
import { ROOT } from "./builders.ts";

// The component references SST's platform types (.sst/platform/config.d.ts), which carry their own @types/node: a
// computed specifier keeps them out of this program; tsconfig.infra.json type-checks the component itself.
const COMPONENT = "../../stacks/member-roles-component.ts";
const { memberRolesComponent } = (await import(COMPONENT)) as {
  memberRolesComponent: (config: Config, args: { centralAccountId: string; identity: unknown }) => Record<string, unknown>;
};

/**
 * The SST component of the member roles (stacks/member-roles-component.ts) with Pulumi's Output and the `aws` provider
 * global replaced by recording fakes: it declares one aws.iam.Role per fleet function, carrying exactly the role data
 * of stacks/member-roles.ts for the account it is deployed in.
 */

/** An already-resolved Output: `apply` runs at once. */
interface FakeOutput<T> {
  value: T;
  apply<U>(f: (v: T) => U): FakeOutput<U>;
}
const output = <T>(value: T): FakeOutput<T> => ({ value, apply: (f) => output(f(value)) });

interface Declared {
  name: string;
  args: Record<string, FakeOutput<unknown>>;
  opts: unknown;
}

function withFakeAws(): Declared[] {
  const declared: Declared[] = [];
  (globalThis as Record<string, unknown>).aws = {
    iam: {
      Role: class {
        constructor(name: string, args: Record<string, FakeOutput<unknown>>, opts: unknown) {
          declared.push({ name, args, opts });
        }
      },
    },
  };
  return declared;
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>).aws;
});

function fleetConfig(): Config {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8")) as Record<string, unknown> & { backup: Record<string, unknown> };
  raw.drRegions = [{ region: "eu-central-1", kmsKeyId: "alias/ops-autopilot-dr" }];
  raw.backup.sourceKmsKeyIds = ["arn:aws:kms:eu-west-1:123456789012:alias/databases"];
  raw.fleet = { accounts: [{ id: "111122223333", name: "payments", externalId: "oa-prod-payments-7f3c" }] };
  return parseConfig({ ...raw, app: "ops-autopilot", stage: "prod" });
}

const identity = (account: string) => output({ account, partition: "aws" });

describe("member roles SST component", () => {
  it("declares one role per fleet function with the member-roles data: name, trust policy and its one inline policy", () => {
    const declared = withFakeAws();
    const config = fleetConfig();
    memberRolesComponent(config, { centralAccountId: "999988887777", identity: identity("111122223333") });
    const expected = memberRoles(config, {
      account: "111122223333",
      partition: "aws",
      centralAccountId: "999988887777",
      target: fleetTargetOf(config, "111122223333"),
    });
    expect(declared.map((d) => d.name)).toEqual(["BackupMemberRole", "CopyMemberRole", "PruneMemberRole", "WatchdogMemberRole"]);
    declared.forEach((d, i) => {
      const r = expected[i]!;
      expect(d.args.name!.value).toBe(`ops-autopilot-prod-member-${r.fn}`);
      expect(d.args.description!.value).toBe(r.description);
      expect(JSON.parse(d.args.assumeRolePolicy!.value as string)).toEqual(r.trustPolicy);
      expect(d.args.inlinePolicies!.value).toEqual([{ name: `ops-autopilot-${r.fn}`, policy: JSON.stringify(r.policy) }]);
      expect(d.opts).toBeUndefined();
    });
    expect(JSON.parse(declared[2]!.args.assumeRolePolicy!.value as string).Statement[0].Condition.StringEquals).toEqual({
      "sts:ExternalId": "oa-prod-payments-7f3c",
    });
  });

  it("refuses to deploy into an account the fleet does not list, naming it", () => {
    withFakeAws();
    expect(() => memberRolesComponent(fleetConfig(), { centralAccountId: "999988887777", identity: identity("777788889999") })).toThrow(
      "account 777788889999 is not in fleet.accounts (111122223333) and the fleet names no organizationalUnit",
    );
  });
});
