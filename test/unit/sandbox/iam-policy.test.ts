import { describe, expect, it } from "vitest";
import { conditionHolds, evaluate, type AuthRequest, type PolicyStatement } from "../../../sandbox/aws/iam/policy.ts";

// Semantics from https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html and
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

const req = (over: Partial<AuthRequest> = {}): AuthRequest => ({
  action: "rds:DeleteDBSnapshot",
  resource: "arn:aws:rds:eu-west-1:123456789012:snapshot:oa-app-prod-db-20260101",
  context: { "aws:ResourceTag/ops-autopilot:managed-by": "app:prod" },
  ...over,
});

describe("policy evaluation", () => {
  it("denies implicitly when no statement allows, naming the action", () => {
    expect(evaluate([], req())).toEqual({ allowed: false, reason: "no identity-based policy allows the rds:DeleteDBSnapshot action" });
  });

  it("allows when one statement matches action, resource and every condition", () => {
    const s: PolicyStatement = {
      actions: ["rds:DeleteDBSnapshot"],
      resources: ["arn:aws:rds:eu-west-1:123456789012:snapshot:oa-app-prod-*"],
      conditions: [{ test: "StringEquals", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["app:prod"] }],
    };
    expect(evaluate([s], req())).toEqual({ allowed: true, reason: "allowed by statement 1" });
  });

  it("an explicit deny wins over any allow", () => {
    const allow: PolicyStatement = { actions: ["rds:*"], resources: ["*"] };
    const deny: PolicyStatement = { effect: "deny", actions: ["rds:Delete*"], resources: ["*"] };
    expect(evaluate([allow, deny], req())).toEqual({ allowed: false, reason: "explicitly denied by statement 2" });
  });

  it("matches actions case-insensitively and resources case-sensitively", () => {
    expect(evaluate([{ actions: ["RDS:deletedbsnapshot"], resources: ["*"] }], req()).allowed).toBe(true);
    expect(evaluate([{ actions: ["rds:DeleteDBSnapshot"], resources: ["arn:aws:rds:eu-west-1:123456789012:snapshot:OA-*"] }], req()).allowed).toBe(false);
  });

  it("requires every condition (AND) and any of a condition's values (OR)", () => {
    const s: PolicyStatement = {
      actions: ["*"],
      resources: ["*"],
      conditions: [
        { test: "StringEquals", variable: "aws:ResourceTag/ops-autopilot:managed-by", values: ["other:prod", "app:prod"] },
        { test: "StringLike", variable: "aws:ResourceTag/ops-autopilot:name", values: ["oa-app-prod-*"] },
      ],
    };
    expect(evaluate([s], req()).allowed).toBe(false);
    expect(evaluate([s], req({ context: { ...req().context, "aws:ResourceTag/ops-autopilot:name": "oa-app-prod-db-20260101" } })).allowed).toBe(true);
  });

  it("treats a missing key as false for plain operators, true for negated ones (StringNotEquals, StringNotLike, ArnNotLike), IfExists and Null:true (reference_policies_elements_condition_operators.html)", () => {
    const missing = {};
    expect(conditionHolds({ test: "StringEquals", variable: "aws:ResourceTag/x", values: ["1"] }, missing)).toBe(false);
    expect(conditionHolds({ test: "StringNotEquals", variable: "aws:ResourceTag/x", values: ["1"] }, missing)).toBe(true);
    expect(conditionHolds({ test: "StringNotLike", variable: "aws:ResourceTag/x", values: ["1*"] }, missing)).toBe(true);
    expect(conditionHolds({ test: "ArnNotLike", variable: "aws:PrincipalArn", values: ["arn:aws:iam::*:role/x"] }, missing)).toBe(true);
    expect(conditionHolds({ test: "StringNotEquals", variable: "aws:ResourceTag/x", values: ["1"] }, { "aws:ResourceTag/x": "1" })).toBe(false);
    expect(conditionHolds({ test: "StringEqualsIfExists", variable: "aws:ResourceTag/x", values: ["1"] }, missing)).toBe(true);
    expect(conditionHolds({ test: "Null", variable: "aws:ResourceTag/x", values: ["true"] }, missing)).toBe(true);
    expect(conditionHolds({ test: "Null", variable: "aws:ResourceTag/x", values: ["false"] }, missing)).toBe(false);
    expect(conditionHolds({ test: "Null", variable: "aws:ResourceTag/x", values: ["true"] }, { "aws:ResourceTag/x": "v" })).toBe(false);
  });

  it("ForAllValues holds on an empty set and needs every value listed; ForAnyValue needs one", () => {
    const all = { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: ["a", "b"] };
    expect(conditionHolds(all, {})).toBe(true);
    expect(conditionHolds(all, { "aws:TagKeys": ["a", "b"] })).toBe(true);
    expect(conditionHolds(all, { "aws:TagKeys": ["a", "c"] })).toBe(false);
    const any = { test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: ["alias/dr"] };
    expect(conditionHolds(any, {})).toBe(false);
    expect(conditionHolds(any, { "kms:ResourceAliases": ["alias/x", "alias/dr"] })).toBe(true);
  });

  it("reads condition key names case-insensitively", () => {
    expect(conditionHolds({ test: "StringEquals", variable: "EC2:CreateAction", values: ["CreateSnapshot"] }, { "ec2:createaction": "CreateSnapshot" })).toBe(
      true,
    );
  });

  it("refuses an operator it cannot judge rather than allowing", () => {
    expect(() => conditionHolds({ test: "IpAddress", variable: "aws:SourceIp", values: ["10.0.0.0/8"] }, { "aws:SourceIp": "10.1.1.1" })).toThrow(
      "condition operator IpAddress is not supported",
    );
  });
});
