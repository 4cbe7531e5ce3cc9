import { describe, expect, it } from "vitest";
import { lintPolicy, type PolicyDocument, type PolicyStatement } from "../../stacks/policy-lint.ts";
import { FUNCTIONS } from "../../stacks/functions.ts";
import { policyOf, rulesFor } from "./builders.ts";

const rules = (v: ReturnType<typeof lintPolicy>) => v.map((x) => x.rule);
const withStatement = (doc: PolicyDocument, st: PolicyStatement): PolicyDocument => ({ ...doc, Statement: [...doc.Statement, st] });

describe("least-privilege lint", () => {
  it.each(FUNCTIONS.map((f) => f.name))("passes the generated policy of %s", (name) => {
    expect(lintPolicy(policyOf(name), rulesFor(name))).toEqual([]);
  });

  it("catches an added wildcard action", () => {
    const doc = withStatement(policyOf("prune"), { Effect: "Allow", Action: "rds:*", Resource: "arn:aws:rds:eu-west-1:123456789012:snapshot:*" });
    expect(rules(lintPolicy(doc, rulesFor("prune")))).toContain("no-wildcard-action");
  });

  it("catches a partial wildcard such as kms:ReEncrypt*", () => {
    const doc = withStatement(policyOf("copy"), {
      Effect: "Allow",
      Action: ["kms:ReEncrypt*"],
      Resource: "arn:aws:kms:eu-central-1:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab",
    });
    expect(rules(lintPolicy(doc, rulesFor("copy")))).toContain("no-wildcard-action");
  });

  it("catches a delete permission without the managed-by condition", () => {
    const doc = policyOf("prune");
    const untagged: PolicyDocument = {
      ...doc,
      Statement: doc.Statement.map((s) => (s.Action === "rds:DeleteDBSnapshot" ? { ...s, Condition: undefined } : s)),
    };
    const v = lintPolicy(untagged, rulesFor("prune"));
    expect(v).toEqual([expect.objectContaining({ rule: "delete-needs-managed-by-tag", detail: "rds:DeleteDBSnapshot" })]);
  });

  it("catches a delete conditioned on another stage's tag", () => {
    const doc = withStatement(policyOf("prune"), {
      Effect: "Allow",
      Action: "ec2:DeleteSnapshot",
      Resource: "arn:aws:ec2:eu-west-1::snapshot/*",
      Condition: { StringEquals: { "aws:ResourceTag/ops-autopilot:managed-by": "ops-autopilot:prod" } },
    });
    expect(rules(lintPolicy(doc, rulesFor("prune")))).toContain("delete-needs-managed-by-tag");
  });

  it("catches a write action on every resource", () => {
    const doc = withStatement(policyOf("backup"), { Effect: "Allow", Action: "rds:CreateDBSnapshot", Resource: "*" });
    expect(rules(lintPolicy(doc, rulesFor("backup")))).toContain("no-write-on-star");
  });

  it("catches promotion or DNS changes outside the failover function", () => {
    const doc = withStatement(policyOf("copy"), {
      Effect: "Allow",
      Action: "rds:PromoteReadReplica",
      Resource: "arn:aws:rds:eu-central-1:123456789012:db:app-db-dr",
    });
    expect(rules(lintPolicy(doc, rulesFor("copy")))).toContain("promotion-only-in-failover");
  });

  it("catches a failover DNS change on every hosted zone", () => {
    const doc = withStatement(policyOf("failover"), {
      Effect: "Allow",
      Action: "route53:ChangeResourceRecordSets",
      Resource: "arn:aws:route53:::hostedzone/*",
    });
    expect(rules(lintPolicy(doc, rulesFor("failover")))).toContain("promotion-needs-named-resources");
  });

  it("catches KMS use on a key that is not configured", () => {
    const doc = withStatement(policyOf("copy"), { Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:eu-central-1:123456789012:key/other" });
    expect(rules(lintPolicy(doc, rulesFor("copy")))).toContain("kms-only-configured-keys");
  });

  it("catches a role that can both tag and delete snapshots", () => {
    const prune = policyOf("prune");
    const backup = policyOf("backup");
    const doc: PolicyDocument = { ...prune, Statement: [...prune.Statement, ...backup.Statement] };
    expect(rules(lintPolicy(doc, rulesFor("prune")))).toContain("no-tag-and-delete-in-one-role");
  });

  it("catches unconditioned tagging and NotAction", () => {
    const doc = withStatement(policyOf("backup"), { Effect: "Allow", Action: "ec2:CreateTags", Resource: "arn:aws:ec2:eu-west-1::snapshot/*" });
    expect(rules(lintPolicy(doc, rulesFor("backup")))).toContain("tagging-needs-condition");
    const notAction = withStatement(policyOf("warm"), { Effect: "Allow", NotAction: "iam:PassRole", Resource: "*" });
    expect(rules(lintPolicy(notAction, rulesFor("warm")))).toContain("no-not-action");
  });
});
