import { TAG } from "../core/types.ts";
import { DESTRUCTIVE_ACTIONS, MANAGED_BY_TAG, PROMOTION_ACTIONS, TAGGING_ACTIONS } from "./iam.ts";
import { LOG_DELIVERY_ACTIONS } from "./durable-runbook-definition.ts";

/**
 * Checks an IAM policy document (the JSON AWS stores) against the project's least-privilege rules.
 * Used by the offline synth test on every role the synth produces, and by tests that mutate a
 * statement list to prove each rule can fail.
 */

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface LintRules {
  /** `<app>:<stage>`, the only managed-by value deletes may be conditioned on. */
  managedBy: string;
  /** True for the failover function's role: the only one allowed promotion and DNS changes. */
  mayPromote: boolean;
  /** KMS key ARNs, or `key/*` ARNs of regions whose alias is pinned by `kms:ResourceAliases`, that may appear. */
  allowedKmsResources: string[];
  /** True for a state machine's role: the only one allowed the log-delivery writes Step Functions needs on `*`. */
  mayDeliverLogs?: boolean;
  /**
   * True for the restore-test function's role: it tags its throwaways on create and deletes them, so it may tag and
   * delete in one role, but only deletes conditioned on the restore-test tag on the resource (no snapshot, no source).
   */
  restoreTest?: boolean;
  /**
   * True for a VPC function's role: Lambda removes the function's network interfaces with the role
   * (ec2:DeleteNetworkInterface, https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html); those carry no
   * tag of ours, so that one delete is exempt from the managed-by condition (still scoped, never on `*`).
   */
  vpcNetworkInterfaces?: boolean;
}

export interface Violation {
  statement: number;
  rule: string;
  detail: string;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Read-only API families AWS authorizes only on `*` for many services. */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z0-9]*$/;

/** Whether an action only reads (`Describe*`, `List*`, `Get*`), with no wildcard. */
export function isReadOnlyAction(action: string): boolean {
  return READ_ONLY.test(action);
}

/**
 * Writes that support no resource type, so AWS authorizes them only on `*`: the log-delivery actions Step
 * Functions needs for execution logging (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
 */
const STAR_ONLY_WRITES: readonly string[] = LOG_DELIVERY_ACTIONS;

/**
 * PutMetricData supports no resource type either; it is allowed on `*` only pinned to one namespace with
 * `cloudwatch:namespace` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
 */
function namespacePinnedPut(action: string, st: PolicyStatement): boolean {
  const values = conditionValues(st, "StringEquals", "cloudwatch:namespace");
  return action === "cloudwatch:PutMetricData" && values !== undefined && values.length > 0 && values.every((v) => !v.includes("*") && !v.includes("?"));
}

function conditionValues(st: PolicyStatement, test: string, variable: string): string[] | undefined {
  const block = st.Condition?.[test];
  if (!block) return undefined;
  const entry = Object.entries(block).find(([k]) => k.toLowerCase() === variable.toLowerCase());
  return entry ? list(entry[1]) : undefined;
}

const RESTORE_TEST_TAG = TAG.restoreTest;

/** Condition keys that carry our managed-by tag on the resource being deleted. */
const OWNERSHIP_KEYS = [
  `aws:ResourceTag/${MANAGED_BY_TAG}`,
  `ec2:ResourceTag/${MANAGED_BY_TAG}`,
  `rds:snapshot-tag/${MANAGED_BY_TAG}`,
  `rds:cluster-snapshot-tag/${MANAGED_BY_TAG}`,
];

function ownedByUs(st: PolicyStatement, managedBy: string): boolean {
  return OWNERSHIP_KEYS.some((key) => {
    const values = conditionValues(st, "StringEquals", key);
    return values !== undefined && values.length > 0 && values.every((v) => v === managedBy);
  });
}

/** The restore-test tag is required on the resource: `Null` false, or a value pattern. */
function restoreTestTagged(st: PolicyStatement): boolean {
  const key = `aws:ResourceTag/${RESTORE_TEST_TAG}`;
  const isNull = conditionValues(st, "Null", key);
  if (isNull && isNull.length > 0 && isNull.every((v) => v === "false")) return true;
  const values = conditionValues(st, "StringLike", key) ?? conditionValues(st, "StringEquals", key);
  return values !== undefined && values.length > 0 && values.every((v) => v !== "*");
}

function taggingConstrained(st: PolicyStatement, managedBy: string): boolean {
  const requestTag = conditionValues(st, "StringEquals", `aws:RequestTag/${MANAGED_BY_TAG}`);
  if (requestTag && requestTag.length > 0 && requestTag.every((v) => v === managedBy)) return true;
  const createAction = conditionValues(st, "StringEquals", "ec2:CreateAction");
  return createAction !== undefined && createAction.length > 0;
}

/**
 * Every rule broken by `doc`, one entry per statement and rule.
 *
 * @example
 * lintPolicy({ Statement: [{ Effect: "Allow", Action: "rds:*", Resource: "*" }] }, rules)
 * // -> [{ statement: 0, rule: "no-wildcard-action", detail: "rds:*" }, ...]
 */
export function lintPolicy(doc: PolicyDocument, rules: LintRules): Violation[] {
  const out: Violation[] = [];
  const add = (statement: number, rule: string, detail: string) => out.push({ statement, rule, detail });
  let deletes = false;
  let tags = false;

  doc.Statement.forEach((st, i) => {
    if (st.NotAction !== undefined) add(i, "no-not-action", JSON.stringify(st.NotAction));
    if (st.NotResource !== undefined) add(i, "no-not-resource", JSON.stringify(st.NotResource));
    if (st.Effect !== "Allow") return;
    const actions = list(st.Action);
    const resources = list(st.Resource);
    if (actions.length === 0) add(i, "action-required", "statement without Action");

    for (const action of actions) {
      if (action.includes("*") || action.includes("?")) add(i, "no-wildcard-action", action);

      if (
        resources.includes("*") &&
        !READ_ONLY.test(action) &&
        !(rules.mayDeliverLogs && STAR_ONLY_WRITES.includes(action)) &&
        !namespacePinnedPut(action, st)
      ) {
        add(i, "no-write-on-star", `${action} on "*"`);
      }

      if ((DESTRUCTIVE_ACTIONS as readonly string[]).includes(action) || /^(rds|ec2):Delete/.test(action)) {
        deletes = true;
        const eni = rules.vpcNetworkInterfaces === true && action === "ec2:DeleteNetworkInterface";
        if (!eni && !ownedByUs(st, rules.managedBy)) add(i, "delete-needs-managed-by-tag", action);
        if (resources.includes("*")) add(i, "delete-needs-scoped-resource", action);
        if (rules.restoreTest && !restoreTestTagged(st)) add(i, "restore-test-delete-needs-restore-test-tag", action);
      }

      if ((PROMOTION_ACTIONS as readonly string[]).includes(action)) {
        if (!rules.mayPromote) add(i, "promotion-only-in-failover", action);
        if (resources.some((r) => r === "*" || /[:/]\*$/.test(r))) add(i, "promotion-needs-named-resources", `${action} on ${resources.join(", ")}`);
      }

      if ((TAGGING_ACTIONS as readonly string[]).includes(action)) {
        tags = true;
        if (!taggingConstrained(st, rules.managedBy)) add(i, "tagging-needs-condition", action);
      }

      if (action.startsWith("kms:")) {
        for (const r of resources) {
          if (!rules.allowedKmsResources.includes(r)) add(i, "kms-only-configured-keys", `${action} on ${r}`);
          if (r.endsWith(":key/*") && !conditionValues(st, "ForAnyValue:StringEquals", "kms:ResourceAliases")) {
            add(i, "kms-only-configured-keys", `${action} on ${r} without a kms:ResourceAliases condition`);
          }
        }
      }
    }
  });

  if (deletes && tags && !rules.restoreTest) {
    out.push({ statement: -1, rule: "no-tag-and-delete-in-one-role", detail: "a role that can tag snapshots must not delete them" });
  }
  return out;
}

/** Every action a document allows, sorted and deduplicated. */
export function allowedActions(doc: PolicyDocument): string[] {
  return [...new Set(doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action)))].sort();
}
