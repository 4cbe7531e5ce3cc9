/**
 * An IAM identity-policy evaluator for the sandbox: the subset of the policy language stacks/ produces
 * (and stacks/policy-lint.ts allows), evaluated as AWS documents it:
 *
 * - an explicit Deny wins, then any Allow, else the request is implicitly denied
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
 * - `Action` matches case-insensitively with `*` and `?` wildcards; `Resource` matches the ARN
 *   case-sensitively with the same wildcards;
 * - the conditions of a statement are ANDed, the values of one condition ORed; condition key names are
 *   case-insensitive; a missing key makes a condition false, except `Null`, `...IfExists`,
 *   `ForAllValues:` (true on an empty or missing set) and the negated operators (`StringNotEquals`,
 *   `StringNotLike`, `ArnNotLike`: "the right key is not present, the condition is true"), which are otherwise true
 *   when no value matches
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 *
 * An operator outside that subset throws, so a policy the evaluator cannot judge is never silently allowed.
 * Why not `@cloud-copilot/iam-simulate`: it is AGPL-3.0 (this project is MIT), and the drill authorizes
 * about 45,000 calls, where a synchronous evaluator of the few operators we use costs microseconds each.
 */

export interface PolicyCondition {
  test: string;
  variable: string;
  values: readonly string[];
}

export interface PolicyStatement {
  effect?: "allow" | "deny";
  actions: readonly string[];
  resources: readonly string[];
  conditions?: readonly PolicyCondition[];
}

/** Request context: condition key → value(s). Keys are matched case-insensitively. */
export type RequestContext = Record<string, string | readonly string[] | undefined>;

/** One authorization AWS makes for a request: an action on one resource with its context. */
export interface AuthRequest {
  action: string;
  resource: string;
  context: RequestContext;
}

export interface Decision {
  allowed: boolean;
  /** "allowed by statement 3", "explicitly denied by statement 1", "no identity-based policy allows ...". */
  reason: string;
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = globCache.get(key);
  if (!re) {
    const src = pattern
      .replace(/[.+^${}()|[\]\\/]/g, "\\$&")
      .replace(/\*/g, "[\\s\\S]*")
      .replace(/\?/g, "[\\s\\S]");
    re = new RegExp(`^${src}$`, flags);
    globCache.set(key, re);
  }
  return re;
}

function lookup(context: RequestContext, key: string): readonly string[] | undefined {
  const want = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    return typeof v === "string" ? [v] : v;
  }
  return undefined;
}

type Matcher = (actual: string, expected: string) => boolean;

const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (a, e) => a === e, negated: false },
  StringNotEquals: { match: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  StringLike: { match: (a, e) => glob(e, "").test(a), negated: false },
  StringNotLike: { match: (a, e) => glob(e, "").test(a), negated: true },
  ArnEquals: { match: (a, e) => a === e, negated: false },
  ArnLike: { match: (a, e) => glob(e, "").test(a), negated: false },
  ArnNotLike: { match: (a, e) => glob(e, "").test(a), negated: true },
  Bool: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
};

/** True when one condition holds for the context. */
export function conditionHolds(c: PolicyCondition, context: RequestContext): boolean {
  let op = c.test;
  let set: "all" | "any" | undefined;
  if (op.startsWith("ForAllValues:")) [set, op] = ["all", op.slice("ForAllValues:".length)];
  else if (op.startsWith("ForAnyValue:")) [set, op] = ["any", op.slice("ForAnyValue:".length)];
  const ifExists = op.endsWith("IfExists");
  if (ifExists) op = op.slice(0, -"IfExists".length);
  const actual = lookup(context, c.variable);

  if (op === "Null") {
    if (set) throw new Error(`sandbox IAM: ${c.test} is not a valid operator`);
    const absent = actual === undefined || actual.length === 0;
    return c.values.some((v) => (v.toLowerCase() === "true" ? absent : !absent));
  }
  const m = MATCHERS[op];
  if (!m) throw new Error(`sandbox IAM: condition operator ${c.test} is not supported (extend sandbox/iam/policy.ts first)`);
  const one = (a: string): boolean => {
    const hit = c.values.some((e) => m.match(a, e));
    return m.negated ? !hit : hit;
  };
  if (set === "all") return actual === undefined || actual.every(one);
  if (set === "any") return actual?.some(one) ?? false;
  if (actual === undefined || actual.length === 0) return ifExists || m.negated;
  return m.negated ? actual.every(one) : actual.some(one);
}

function statementApplies(s: PolicyStatement, req: AuthRequest): boolean {
  if (!s.actions.some((a) => glob(a, "i").test(req.action))) return false;
  if (!s.resources.some((r) => glob(r, "").test(req.resource))) return false;
  return (s.conditions ?? []).every((c) => conditionHolds(c, req.context));
}

/** Evaluate one request against an identity's statements. */
export function evaluate(statements: readonly PolicyStatement[], req: AuthRequest): Decision {
  let allowedBy: number | undefined;
  for (const [i, s] of statements.entries()) {
    if (!statementApplies(s, req)) continue;
    if ((s.effect ?? "allow") === "deny") return { allowed: false, reason: `explicitly denied by statement ${i + 1}` };
    allowedBy ??= i + 1;
  }
  return allowedBy !== undefined
    ? { allowed: true, reason: `allowed by statement ${allowedBy}` }
    : { allowed: false, reason: `no identity-based policy allows the ${req.action} action` };
}
